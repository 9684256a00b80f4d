//! The mapping rows as the form posts them: each transform's inputs become the transform JSON
//! the engine reads, and a saved flow's transforms come back as the same choices.

use super::*;
use connector_sdk::{Capabilities, FieldSchema, FieldType};
use serde_json::json;

fn form(body: &str) -> Form {
    Form::parse(body.as_bytes())
}

/// One row a field at a time, URL-encoded (`map_from=…&map_to=…&map_kind=…`…).
fn row(pairs: &[(&str, &str)]) -> String {
    let all = [
        "map_from",
        "map_to",
        "map_kind",
        "map_const",
        "map_fields",
        "map_sep",
        "map_date",
        "map_table",
        "map_default",
        "map_tf",
        "map_req",
    ];
    let mut s = form_urlencoded::Serializer::new(String::new());
    for name in all {
        let v = pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .unwrap_or("");
        s.append_pair(name, v);
    }
    s.finish()
}

fn mapping(body: &str, lang: Lang) -> (Vec<FieldMapping>, FieldErrors) {
    let (rows, posted) = rows_from_form(&form(body));
    let mut errors = FieldErrors::new();
    let m = to_mapping(&rows, posted, None, lang, &mut errors);
    (m, errors)
}

#[test]
fn each_choice_becomes_the_engine_s_transform() {
    let body = [
        row(&[
            ("map_to", "code"),
            ("map_kind", "constant"),
            ("map_const", " N-001 "),
            ("map_req", "1"),
        ]),
        row(&[
            ("map_from", "氏名"),
            ("map_to", "Last_Name"),
            ("map_kind", "split_last"),
        ]),
        row(&[
            ("map_from", "姓"),
            ("map_to", "name"),
            ("map_kind", "concat"),
            ("map_fields", "名、 部署"),
            ("map_sep", " "),
        ]),
        row(&[
            ("map_from", "担当者名"),
            ("map_to", "Company"),
            ("map_kind", "coalesce"),
            ("map_fields", "会社名"),
        ]),
        row(&[
            ("map_from", "start"),
            ("map_to", "since"),
            ("map_kind", "date_format"),
            ("map_date", "%Y/%m/%d"),
        ]),
        row(&[
            ("map_from", "pref"),
            ("map_to", "都道府県"),
            ("map_kind", "map"),
            ("map_table", "13=東京都\r\n27 = 大阪府\r\n"),
            ("map_default", "不明"),
        ]),
        row(&[
            ("map_from", "mail"),
            ("map_to", "email"),
            ("map_kind", "lower"),
        ]),
        row(&[
            ("map_from", "What_Id"),
            ("map_to", "顧客"),
            ("map_kind", "json"),
            ("map_tf", r#"{"lookup_reverse": "f1"}"#),
        ]),
        row(&[("map_from", "tel"), ("map_to", "tel")]),
        // The empty row the form always offers.
        row(&[]),
    ]
    .join("&");
    let (m, errors) = mapping(&body, Lang::Ja);
    assert!(errors.is_empty(), "{errors:?}");
    let got: Vec<(&str, &str, Option<Json>)> = m
        .iter()
        .map(|m| (m.from.as_str(), m.to.as_str(), m.transform.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("", "code", Some(json!({"constant": "N-001"}))),
            ("氏名", "Last_Name", Some(json!({"split_name": "last"}))),
            (
                "姓",
                "name",
                Some(json!({"concat": ["姓", "名", "部署"], "separator": " "}))
            ),
            (
                "担当者名",
                "Company",
                Some(json!({"coalesce": ["担当者名", "会社名"]}))
            ),
            ("start", "since", Some(json!({"date_format": "%Y/%m/%d"}))),
            (
                "pref",
                "都道府県",
                Some(json!({"map": {"13": "東京都", "27": "大阪府"}, "default": "不明"}))
            ),
            ("mail", "email", Some(json!("lower"))),
            ("What_Id", "顧客", Some(json!({"lookup_reverse": "f1"}))),
            ("tel", "tel", None),
        ]
    );
    // Every transform is one the engine reads, and the saved flow edits as the same choices.
    for (i, r) in m.iter().enumerate() {
        hub_core::engine::transforms::parse(&r.transform, "x")
            .unwrap_or_else(|e| panic!("row {i}: {e}"));
        let back = MapRow::from_mapping(r);
        assert_eq!(back.transform(), Ok(r.transform.clone()), "row {i}");
    }
    let back: Vec<String> = m.iter().map(|r| MapRow::from_mapping(r).kind).collect();
    assert_eq!(
        back,
        [
            "constant",
            "split_last",
            "concat",
            "coalesce",
            "date_format",
            "map",
            "lower",
            "json",
            ""
        ]
    );
}

#[test]
fn a_row_without_a_value_is_refused_in_its_row_in_the_page_language() {
    let body = [
        row(&[("map_from", "件名"), ("map_to", "name")]),
        row(&[("map_to", "code"), ("map_req", "1")]),
        row(&[("map_to", "name"), ("map_kind", "constant")]),
        row(&[
            ("map_from", "x"),
            ("map_to", "when"),
            ("map_kind", "map"),
            ("map_table", "a"),
        ]),
        row(&[("map_from", "y")]),
    ]
    .join("&");
    let (m, errors) = mapping(&body, Lang::Ja);
    assert_eq!(m.len(), 1, "only the whole row is kept");
    assert_eq!(
        errors.get("mapping_row.1").map(String::as_str),
        Some("必須項目「code」の値がありません。送信元の項目を選ぶか、変換で「固定値」を選んで値を入れてください")
    );
    assert_eq!(
        errors.get("mapping_row.2").map(String::as_str),
        Some("「name」の固定値を入れてください")
    );
    assert!(
        errors["mapping_row.3"].contains("元の値=新しい値"),
        "{errors:?}"
    );
    assert!(
        errors["mapping_row.4"].contains("送信先の項目"),
        "{errors:?}"
    );
    let (_, en) = mapping(&body, Lang::En);
    assert_eq!(
        en.get("mapping_row.2").map(String::as_str),
        Some("Type the fixed value for 'name'")
    );
}

fn customers() -> ObjectSchema {
    let field = |id: &str, label: &str, required: bool, read_only: bool| FieldSchema {
        id: id.into(),
        label: label.into(),
        field_type: FieldType::Text,
        required,
        unique: false,
        read_only,
        options: vec![],
        lookup: None,
    };
    ObjectSchema {
        id: "customers".into(),
        name: connector_sdk::Text::new("取引先", "Customers"),
        fields: vec![
            field("code", "取引先コード", true, false),
            field("name", "取引先名", true, false),
            field("tel", "電話番号", false, false),
            field("updatedAt", "更新日時", true, true),
        ],
        capabilities: Capabilities::default(),
        read_options: vec![],
        title_field: None,
        record_url: None,
    }
}

#[test]
fn each_unwritten_required_field_gets_a_row_and_a_state() {
    let mut rows = vec![
        MapRow {
            from: "件名".into(),
            to: "name".into(),
            ..Default::default()
        },
        MapRow {
            from: "電話".into(),
            to: "tel".into(),
            ..Default::default()
        },
        MapRow::default(),
    ];
    let listed = required_fields(Lang::Ja, &mut rows, Some(&customers()), true);
    let states: Vec<(String, bool, String)> = listed
        .iter()
        .map(|v| {
            (
                v.get_attr("label").unwrap().to_string(),
                v.get_attr("mapped").unwrap().is_true(),
                v.get_attr("state").unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (
                "取引先コード (code)".to_string(),
                false,
                "未設定".to_string()
            ),
            ("取引先名 (name)".to_string(), true, "設定済み".to_string()),
        ]
    );
    let to: Vec<(&str, bool)> = rows.iter().map(|r| (r.to.as_str(), r.required)).collect();
    assert_eq!(
        to,
        [("name", true), ("tel", false), ("code", true), ("", false)],
        "the new row comes after the filled ones, before the empty one"
    );
    // Not when records are never created, and not twice.
    let mut again = rows.clone();
    required_fields(Lang::Ja, &mut again, Some(&customers()), true);
    assert_eq!(again, rows);
    let mut none = vec![MapRow::default()];
    assert!(required_fields(Lang::Ja, &mut none, Some(&customers()), false).is_empty());
    assert_eq!(none.len(), 1);
}

#[test]
fn a_form_with_only_the_json_text_still_saves_it() {
    let (m, errors) = mapping(
        "map_from=a&map_to=b&map_tf=trim&map_from=c&map_to=d&map_tf=",
        Lang::Ja,
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(m[0].transform, Some(json!("trim")));
    assert_eq!(m[1].transform, None);
    // A transform the list cannot show stays JSON, as it was.
    let odd = FieldMapping {
        from: "n".into(),
        to: "n".into(),
        transform: Some(json!({"constant": 3})),
    };
    let r = MapRow::from_mapping(&odd);
    assert_eq!(
        (r.kind.as_str(), r.json.as_str()),
        ("json", r#"{"constant":3}"#)
    );
    assert_eq!(r.transform(), Ok(odd.transform.clone()));
}

/// Without script: 行を追加 and 一覧を読み込む post the form, and the page comes back with the
/// rows as typed, one more row, and the inputs of each row's transform shown.
#[tokio::test]
async fn without_script_the_form_reloads_with_the_rows_and_their_inputs() {
    use axum::body::{to_bytes, Body};
    use axum::http::{header, Request, StatusCode};
    use tower::ServiceExt;

    let h = crate::test_app::TestApp::start().await;
    let (sid, csrf) = crate::test_app::session_for(&h.store, "admin", "admin").await;
    let send = |body: String| {
        let app = h.app.clone();
        let sid = sid.clone();
        async move {
            let req = Request::post("/flows/new")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, format!("renkei_session={sid}"))
                .body(Body::from(body))
                .unwrap();
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let page = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
            (status, String::from_utf8_lossy(&page).into_owned())
        }
    };
    let rows = row(&[
        ("map_to", "code"),
        ("map_kind", "constant"),
        ("map_const", "N0001"),
    ]) + "&"
        + &row(&[("map_to", "name"), ("map_req", "1")]);
    let (status, page) = send(format!("_csrf={csrf}&name=x&_action=add_map&{rows}")).await;
    assert_eq!(status, StatusCode::OK);
    // The two rows, the one added and its template copy.
    assert_eq!(page.matches("name=\"map_from\"").count(), 4, "{page}");
    assert_eq!(
        page.matches("data-kinds=\"constant\">").count(),
        1,
        "the fixed value input shows in the 固定値 row only"
    );
    assert!(page.contains("value=\"N0001\""));

    let (status, page) = send(format!("_csrf={csrf}&name=x&_action=save&{rows}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("data-error-for=\"mapping_row.1\""), "{page}");
    assert!(page.contains("必須項目「name」の値がありません"));
    assert!(page.contains("対応付けに入力の足りない行があります"));
}
