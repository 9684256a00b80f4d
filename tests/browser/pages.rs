//! The pages after the first run: 処理履歴, お問い合わせ, and the English switch.

use crate::support::{Browser, R};
use crate::FLOW;

pub async fn history(b: &mut Browser, url: &dyn Fn(&str) -> String) -> R {
    b.click("a[href='/runs']").await?;
    b.find("#all-runs").await?;
    b.sees(&[
        "処理時間（開始 - 終了）",
        "実行種別",
        "結果",
        "日別の処理件数",
        FLOW,
        "手動",
    ])
    .await?;
    if b.all(".chart-box svg rect").await?.is_empty() {
        return Err("the chart shows no bar for today's run".into());
    }
    b.shot("runs-history").await?;
    b.goto(&url("/runs?status=failed")).await?;
    b.sees(&["処理履歴はまだありません"]).await?;
    b.goto(&url("/runs?trigger=manual")).await?;
    b.click("#all-runs tbody a.badge").await?;
    b.find("#run-counts").await?;
    b.sees(&["処理結果", "読込", "作成", "更新", "エラー詳細"])
        .await?;
    b.shot("run-detail").await
}

/// お問い合わせ: live counters, errors next to the fields, `<script>` shown as text.
pub async fn contact(b: &mut Browser, url: &dyn Fn(&str) -> String) -> R {
    let evil = "<script>alert('x')</script>";
    b.goto(&url("/contact")).await?;
    b.sees(&[
        "お問い合わせ",
        "貴社名",
        "ご担当者氏名",
        "ご担当者メールアドレス",
        "コネクタの登録番号",
        "コネクタの名前",
        "0 / 100",
        "17時以降",
    ])
    .await?;
    b.type_into("#contact-company", evil).await?;
    b.type_into("#contact-name", &"山".repeat(101)).await?;
    b.type_into("#contact-email", "not-an-email").await?;
    if b.text("#count-name").await? != "101 / 100" {
        return Err(format!(
            "the live counter says {}",
            b.text("#count-name").await?
        ));
    }
    b.shot("contact-typing").await?;
    b.click("#contact-submit").await?;
    b.find("[data-error-for='name']").await?;
    b.sees(&[
        "100文字以内で入力してください（現在 101 文字）",
        "メールアドレスの形式が正しくありません",
        "必須項目です",
    ])
    .await?;
    if b.value("#contact-company").await? != evil {
        return Err("the company typed was not kept as text".into());
    }
    b.shot("contact-errors").await?;
    b.type_into("#contact-name", "山田 太郎").await?;
    b.type_into("#contact-email", "taro@example.co.jp").await?;
    b.type_into("#contact-registration_number", "1234-5678-9012")
        .await?;
    b.type_into("#contact-connector_name", "kintone").await?;
    b.click("#contact-submit").await?;
    b.find("#inquiries").await?;
    b.sees(&["お問い合わせを受け付けました", evil, "taro@example.co.jp"])
        .await?;
    // Shown as text: the table cell's text is the script tag itself, and no script ran.
    let cell = b.text("#inquiries tbody tr td:nth-child(2)").await?;
    if cell != evil {
        return Err(format!("the company should read as typed, got {cell:?}"));
    }
    if !b.all("#inquiries script").await?.is_empty() {
        return Err("user input became a script element".into());
    }
    b.shot("contact-sent").await
}

pub async fn english(b: &mut Browser, url: &dyn Fn(&str) -> String) -> R {
    b.goto(&url("/")).await?;
    b.click("#lang-switch").await?;
    b.find("html[lang='en']").await?;
    b.sees(&[
        "Services",
        "History (latest 5)",
        "Run now",
        "Connections",
        FLOW,
        "Weekdays 09:30",
    ])
    .await?;
    b.shot("en-home").await?;
    for (path, words, name) in [
        (
            "/connections/new",
            &["New connection", "Connector", "Registration", "Settings"][..],
            "en-wizard",
        ),
        (
            "/runs",
            &[
                "Time (start - end)",
                "Trigger",
                "Result",
                "Runs per day",
                "Manual",
            ][..],
            "en-runs",
        ),
        (
            "/settings/tokens",
            &["Refresh tokens", "Expires", "Last refreshed"][..],
            "en-tokens",
        ),
        (
            "/contact",
            &["Company", "Contact person", "0 / 100", "after 17:00"][..],
            "en-contact",
        ),
        ("/help", &["Troubleshooting", "Server time"][..], "en-help"),
    ] {
        b.goto(&url(path)).await?;
        b.sees(words).await?;
        b.shot(name).await?;
    }
    // Back to Japanese with the same switch.
    b.click("#lang-switch").await?;
    b.find("html[lang='ja']").await?;
    b.sees(&["トラブルシューティング"]).await
}
