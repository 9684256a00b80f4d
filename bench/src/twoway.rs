//! Two-way kintone 顧客管理 ↔ Zoho 取引先 (newest wins) under random edits on both sides
//! through their APIs: after each round's run both sides should hold the same values
//! (converged), and a second run with no edits should write nothing (echo writes).

use anyhow::{bail, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;

use crate::api::summary_count;
use crate::env::Env;
use crate::reliability::Rng;
use crate::sandbox::{KINTONE, ZOHO};
use crate::support::num;

pub struct TwoWay {
    /// Time between a run's end and the next round's edits.
    pub pause_ms: u64,
    /// Records whose values differ between the sides after the last round.
    pub diverged_at_end: usize,
    pub records: usize,
    pub rounds: usize,
    pub edits: usize,
    pub converged: usize,
    pub echo_records: i64,
    pub echo_calls: u64,
    pub writes: i64,
}

impl TwoWay {
    pub fn markdown_rows(&self) -> String {
        let when = if self.pause_ms == 0 {
            "edits right after a run".to_string()
        } else {
            format!("edits {:.0} s after a run", self.pause_ms as f64 / 1000.0)
        };
        format!(
            "| two-way ({when}): rounds converged, of {} rounds with {} random edits on both sides ({} records) | {} / {} |\n\
             | two-way ({when}): records differing after the last round | {} |\n\
             | two-way ({when}): records written for the edits | {} |\n\
             | two-way ({when}): echo writes (records / API write calls in a run after no edits) | {} / {} |\n",
            self.rounds, self.edits, self.records, self.converged, self.rounds, self.diverged_at_end,
            self.writes, self.echo_records, self.echo_calls
        )
    }

    pub fn json(&self) -> Value {
        json!({"pause_ms": self.pause_ms, "diverged_at_end": self.diverged_at_end, "records": self.records, "rounds": self.rounds, "edits": self.edits, "converged": self.converged,
               "records_written": self.writes, "echo_records": self.echo_records, "echo_write_calls": self.echo_calls})
    }
}

/// 株式会社X, (株)X, ㈱X and X株式会社 are one company (the flow matches with `company_name`).
fn company(name: &str) -> String {
    let mut s: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    for form in ["株式会社", "(株)", "（株）", "㈱"] {
        s = s.replace(form, "");
    }
    s
}

type View = BTreeMap<String, (String, String)>;

fn views(env: &Env) -> Result<(View, View)> {
    let k: View = env
        .sb
        .kintone_all(&["会社名", "電話番号", "住所"])?
        .into_iter()
        .map(|r| {
            (
                company(&r["会社名"]),
                (r["電話番号"].clone(), r["住所"].clone()),
            )
        })
        .collect();
    let z: View = env
        .sb
        .zoho_all("A", "Accounts")?
        .into_iter()
        .map(|r| {
            let s = |f: &str| r[f].as_str().unwrap_or("").to_string();
            (
                company(&s("Account_Name")),
                (s("Phone"), s("Billing_Street")),
            )
        })
        .collect();
    Ok((k, z))
}

fn run_ok(env: &Env, flow: &str) -> Result<i64> {
    let (ok, out) = env.hub.cli_run(flow, &[])?;
    if !ok {
        bail!("two-way run failed: {out}");
    }
    Ok(summary_count(&out, "created") + summary_count(&out, "updated"))
}

pub fn measure(opts: &[String], rng: &mut Rng, pause_ms: u64) -> Result<TwoWay> {
    let n: usize = num(opts, "--twoway-records", 500)?;
    let rounds: usize = num(opts, "--twoway-rounds", 20)?;
    let env = Env::start(&[("HUB_RUNNERS", "0")])?;
    env.fill_kintone(n)?;
    let flow = env.hub.create_flow(&json!({
        "name": "bench kintone ↔ Zoho", "direction": "two_way", "conflict": "newest_wins",
        "source": {"connection": env.kintone, "object": "1"}, "target": {"connection": env.zoho, "object": "Accounts"},
        "mapping": [{"from": "会社名", "to": "Account_Name"}, {"from": "電話番号", "to": "Phone"},
                    {"from": "住所", "to": "Billing_Street"}],
        "match_keys": [{"source": "会社名", "target": "Account_Name", "normalize": "company_name"}]}))?;
    run_ok(&env, &flow)?;
    let zoho_token = env.sb.zoho_access_token("A")?;
    let mut t = TwoWay {
        pause_ms,
        diverged_at_end: 0,
        records: n,
        rounds,
        edits: 0,
        converged: 0,
        echo_records: 0,
        echo_calls: 0,
        writes: 0,
    };
    let pause = std::time::Duration::from_millis(pause_ms);
    for round in 0..rounds {
        std::thread::sleep(pause);
        let kintone_ids: Vec<u64> = env
            .sb
            .kintone_all(&["会社名"])?
            .iter()
            .filter_map(|r| r["$id"].parse().ok())
            .collect();
        let zoho_ids: Vec<String> = env
            .sb
            .zoho_all("A", "Accounts")?
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect();
        let edits = 1 + rng.below(10) as usize;
        for e in 0..edits {
            let phone = format!("080-{:04}-{:04}", round, rng.below(10_000));
            let street = format!("二方向{round}-{}", rng.below(1_000));
            let on_kintone = rng.chance(0.5);
            let create = rng.chance(0.1);
            let name = format!("株式会社双方向{round:03}{e}");
            if on_kintone {
                let mut rec = json!({});
                if create || rng.chance(0.5) {
                    rec["電話番号"] = json!({"value": phone});
                } else {
                    rec["住所"] = json!({"value": street});
                }
                if create {
                    rec["会社名"] = json!({"value": name});
                    env.sb.kintone_api(
                        "POST",
                        "/k/v1/record.json",
                        Some(json!({"app": 1, "record": rec})),
                    )?;
                } else {
                    let id = kintone_ids[rng.below(kintone_ids.len() as u64) as usize];
                    env.sb.kintone_api(
                        "PUT",
                        "/k/v1/record.json",
                        Some(json!({"app": 1, "id": id, "record": rec})),
                    )?;
                }
            } else {
                let mut rec = json!({});
                if create || rng.chance(0.5) {
                    rec["Phone"] = json!(phone);
                } else {
                    rec["Billing_Street"] = json!(street);
                }
                if create {
                    rec["Account_Name"] = json!(name);
                    env.sb.zoho_api(
                        &zoho_token,
                        "POST",
                        "/crm/v8/Accounts",
                        json!({"data": [rec]}),
                    )?;
                } else {
                    rec["id"] = json!(zoho_ids[rng.below(zoho_ids.len() as u64) as usize]);
                    env.sb.zoho_api(
                        &zoho_token,
                        "PUT",
                        "/crm/v8/Accounts",
                        json!({"data": [rec]}),
                    )?;
                }
            }
            t.edits += 1;
        }
        t.writes += run_ok(&env, &flow)?;
        env.sb.reset_stats()?;
        let echo = run_ok(&env, &flow)?;
        t.echo_records += echo;
        t.echo_calls += env.sb.stats(KINTONE)?.writes() + env.sb.stats(ZOHO)?.writes();
        let (kv, zv) = views(&env)?;
        t.diverged_at_end = kv.iter().filter(|(k, v)| zv.get(*k) != Some(*v)).count()
            + zv.keys().filter(|k| !kv.contains_key(*k)).count();
        if kv == zv {
            t.converged += 1;
        } else {
            let diff: Vec<String> = kv
                .iter()
                .filter(|(k, v)| zv.get(*k) != Some(*v))
                .take(3)
                .map(|(k, v)| format!("{k}: kintone {v:?} / Zoho {:?}", zv.get(k)))
                .collect();
            eprintln!(
                "two-way round {round}: not converged ({} vs {} records): {}",
                kv.len(),
                zv.len(),
                diff.join("; ")
            );
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::company;

    #[test]
    fn legal_forms_name_one_company() {
        assert_eq!(
            company("株式会社 あおぞら商事"),
            company("(株)あおぞら商事")
        );
        assert_eq!(company("㈱あおぞら商事"), company("あおぞら商事株式会社"));
        assert_ne!(company("あおぞら商事"), company("ひまわり商事"));
    }
}
