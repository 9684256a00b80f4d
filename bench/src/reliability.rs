//! Reliability of kintone → Zoho through `hub run`: runs under 20% injected failures (429 with
//! Retry-After, 500, 503, connection resets) on both APIs, and `hub run` killed with SIGKILL at
//! random points; after each, what reached Zoho is compared with kintone record by record
//! (lost = missing or stale in Zoho, duplicated = one 会社名 on several accounts).
//! The two-way part is `twoway.rs`.

use anyhow::{bail, Result};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::api::{kintone_to_zoho_flow, summary_count};
use crate::env::Env;
use crate::report::ScenarioResult;
use crate::sandbox::{KINTONE, ZOHO};
use crate::support::{command, machine, num};
use crate::twoway;

/// A small deterministic generator (xorshift64*), so a seed repeats a benchmark.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// Lost and duplicated records of kintone 顧客管理 in Zoho org A.
#[derive(Debug, Default, Clone, Copy)]
pub struct Audit {
    pub records: usize,
    pub missing: usize,
    pub stale: usize,
    pub duplicated: usize,
}

impl Audit {
    pub fn lost(&self) -> usize {
        self.missing + self.stale
    }

    pub fn json(&self) -> Value {
        json!({"records": self.records, "missing": self.missing, "stale": self.stale,
               "lost": self.lost(), "duplicated": self.duplicated})
    }
}

pub fn audit(env: &Env) -> Result<Audit> {
    let kintone = env
        .sb
        .kintone_all(&["会社名", "電話番号", "住所", "更新日時"])?;
    let mut zoho: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for r in env.sb.zoho_all("A", "Accounts")? {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
        zoho.entry(s("Account_Name"))
            .or_default()
            .push((s("Phone"), s("Billing_Street")));
    }
    let mut a = Audit {
        records: kintone.len(),
        ..Audit::default()
    };
    let mut examples = Vec::new();
    for r in &kintone {
        match zoho.get(&r["会社名"]) {
            None => {
                a.missing += 1;
                if examples.len() < 3 {
                    examples.push(format!("{r:?} missing"));
                }
            }
            Some(v) => {
                if v.len() > 1 {
                    a.duplicated += 1;
                }
                if !v
                    .iter()
                    .any(|(p, s)| *p == r["電話番号"] && *s == r["住所"])
                {
                    a.stale += 1;
                    if examples.len() < 3 {
                        examples.push(format!("{r:?} in Zoho {v:?}"));
                    }
                }
            }
        }
    }
    if !examples.is_empty() {
        eprintln!("audit: {a:?}; e.g. {}", examples.join("; "));
    }
    Ok(a)
}

/// Changes 電話番号 of `count` random records of 顧客管理 through the API.
pub fn edit_kintone(env: &Env, rng: &mut Rng, count: usize, tag: u64) -> Result<()> {
    let n = env.sb.kintone_count()?;
    let records: Vec<Value> = (0..count)
        .map(|k| {
            let id = 1 + rng.below(n);
            json!({"id": id, "record": {"電話番号": {"value": format!("090-{:04}-{:04}", tag % 10_000, (k as u64 * 7 + id) % 10_000)}}})
        })
        .collect::<Vec<_>>();
    // One record per id: the API refuses the same id twice in one call.
    let mut seen = std::collections::HashSet::new();
    let records: Vec<Value> = records
        .into_iter()
        .filter(|r| seen.insert(r["id"].as_u64()))
        .collect();
    for chunk in records.chunks(100) {
        env.sb.kintone_api(
            "PUT",
            "/k/v1/records.json",
            Some(json!({"app": 1, "records": chunk})),
        )?;
    }
    Ok(())
}

/// kintone records changed before each faulty round and each killed run: enough that every run
/// has pages to write.
const EDITS_PER_ROUND: usize = 1_000;
/// API latency while `hub run` is killed, so that a kill lands inside a run.
const KILL_LATENCY_MS: u64 = 100;

struct Faulty {
    rounds: usize,
    completed: usize,
    failed_runs: Vec<String>,
    failed_records: i64,
    injected: u64,
    calls: u64,
    after_last: Option<Audit>,
    after_clean: Audit,
}

fn faults(n: usize, rounds: usize, rate: f64, rng: &mut Rng) -> Result<Faulty> {
    let env = Env::start(&[("HUB_RUNNERS", "0")])?;
    env.fill_kintone(n)?;
    let flow = env
        .hub
        .create_flow(&kintone_to_zoho_flow(&env.kintone, &env.zoho))?;
    let mut out = Faulty {
        rounds,
        completed: 0,
        failed_runs: Vec::new(),
        failed_records: 0,
        injected: 0,
        calls: 0,
        after_last: None,
        after_clean: Audit::default(),
    };
    let mut last_ok = false;
    for round in 0..rounds {
        if round > 0 {
            edit_kintone(&env, rng, EDITS_PER_ROUND, round as u64)?;
        }
        env.sb.reset_stats()?;
        env.sb
            .faults_all(&json!({"error_rate": rate, "retry_after_s": 1,
            "kinds": ["too_many", "server_error", "unavailable", "reset"]}))?;
        let (ok, text) = env.hub.cli_run(&flow, &[])?;
        env.sb.faults_all(&json!({}))?;
        let (k, z) = (env.sb.stats(KINTONE)?, env.sb.stats(ZOHO)?);
        out.injected += k.injected + z.injected;
        out.calls += k.total() + z.total();
        out.failed_records += summary_count(&text, "failed").max(0);
        last_ok = ok;
        if ok {
            out.completed += 1;
        } else {
            let why = text
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .chars()
                .take(160)
                .collect();
            eprintln!("reliability: round {round} failed: {why}");
            out.failed_runs.push(why);
        }
    }
    if last_ok {
        out.after_last = Some(audit(&env)?);
    }
    let (ok, text) = env.hub.cli_run(&flow, &[])?;
    if !ok {
        bail!("the run without faults failed: {text}");
    }
    out.after_clean = audit(&env)?;
    Ok(out)
}

struct Killed {
    kills: usize,
    /// kintone cursors left open by the killed runs.
    open_cursors: u64,
    /// From the first run after the kills to one that succeeded.
    finish_secs: f64,
    mid_run: usize,
    resume_runs: usize,
    audit: Audit,
}

fn kills(n: usize, kills: usize, latency_ms: u64, rng: &mut Rng) -> Result<Killed> {
    let env = Env::start(&[("HUB_RUNNERS", "0")])?;
    env.fill_kintone(n)?;
    let flow = env
        .hub
        .create_flow(&kintone_to_zoho_flow(&env.kintone, &env.zoho))?;
    let lease: &[(&str, &str)] = &[("HUB_RUN_LEASE_SECS", "1")];
    let mut mid_run = 0;
    for k in 0..kills {
        if k > 0 {
            env.sb.faults_all(&json!({}))?;
            edit_kintone(&env, rng, EDITS_PER_ROUND, 5_000 + k as u64)?;
        }
        env.sb.faults_all(&json!({"latency_ms": latency_ms}))?;
        let mut child = env.hub.spawn_cli_run(&flow, lease)?;
        std::thread::sleep(Duration::from_millis(50 + rng.below(1_450)));
        if child.try_wait()?.is_none() {
            mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        // Past the lease, so that the next `hub run` resumes the killed run.
        std::thread::sleep(Duration::from_millis(1_100));
    }
    let open_cursors = env.sb.kintone_live_cursors()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(900);
    let mut resume_runs = 0;
    loop {
        resume_runs += 1;
        let (ok, text) = env.hub.cli_run(&flow, lease)?;
        if ok {
            eprintln!("reliability: the run after the kills: {}", text.trim());
            break;
        }
        if Instant::now() > deadline {
            bail!("no run succeeded after the kills: {text}");
        }
        std::thread::sleep(Duration::from_millis(1_200));
    }
    env.sb.faults_all(&json!({}))?;
    Ok(Killed {
        kills,
        open_cursors,
        finish_secs: started.elapsed().as_secs_f64(),
        mid_run,
        resume_runs,
        audit: audit(&env)?,
    })
}

pub fn run(opts: &[String]) -> Result<ScenarioResult> {
    let n: usize = num(opts, "--records", 5_000)?;
    let rounds: usize = num(opts, "--rounds", 10)?;
    let rate: f64 = num(opts, "--error-rate", 0.2)?;
    let kill_count: usize = num(opts, "--kills", 20)?;
    let seed: u64 = num(opts, "--seed", 20_240_601)?;
    let mut rng = Rng::new(seed);
    let f = if rounds > 0 {
        faults(n, rounds, rate, &mut rng)?
    } else {
        faults(n, 1, 0.0, &mut rng)?
    };
    let k = if kill_count > 0 {
        kills(n, kill_count, KILL_LATENCY_MS, &mut rng)?
    } else {
        Killed {
            kills: 0,
            open_cursors: 0,
            finish_secs: 0.0,
            mid_run: 0,
            resume_runs: 0,
            audit: Audit::default(),
        }
    };
    let pause: u64 = num(opts, "--twoway-pause-ms", 2_000)?;
    let two = [
        twoway::measure(opts, &mut rng, 0)?,
        twoway::measure(opts, &mut rng, pause)?,
    ];
    let lost_last = f
        .after_last
        .map(|a| format!("{} / {}", a.lost(), a.duplicated))
        .unwrap_or_else(|| "— (the last faulty run failed)".into());
    let mut md = format!(
        "### Reliability: injected failures, SIGKILL, two-way edits\n\n\
         Command: `{}`  \nMachine: {}  \nSeed {seed}; kintone 顧客管理 → Zoho 取引先, {n} records, matched by 会社名.\n\n\
         | figure | value |\n| --- | --- |\n\
         | runs with {:.0}% of API calls failing (429 + Retry-After, 500, 503, reset): completed / run | {} / {} |\n\
         | faults injected / API calls in those runs | {} / {} |\n\
         | records reported failed in those runs | {} |\n\
         | lost / duplicated after the last faulty run | {lost_last} |\n\
         | lost / duplicated after one more run without faults | {} / {} |\n\
         | `hub run` killed with SIGKILL (while working) | {} ({}) |\n\
         | kintone cursors left open by the killed runs | {} |\n\
         | runs to finish after the kills (time) | {} ({:.0} s) |\n\
         | lost / duplicated after the kills | {} / {} |\n",
        command("reliability", opts),
        machine(),
        rate * 100.0,
        f.completed,
        f.rounds,
        f.injected,
        f.calls,
        f.failed_records,
        f.after_clean.lost(),
        f.after_clean.duplicated,
        k.kills,
        k.mid_run,
        k.open_cursors,
        k.resume_runs,
        k.finish_secs,
        k.audit.lost(),
        k.audit.duplicated,
    );
    for t in &two {
        md += &t.markdown_rows();
    }
    if !f.failed_runs.is_empty() {
        md += &format!("\nFailed runs: {}.\n", f.failed_runs.join("; "));
    }
    md += &format!(
        "\nLost = a kintone record missing in Zoho or with another 電話番号/住所 there; each faulty round and each killed run \
         first changed {EDITS_PER_ROUND} records' 電話番号. Kills came 0.05–1.5 s into a run with {KILL_LATENCY_MS} ms API \
         latency; a killed run is resumed once its 1 s lease expires.\n"
    );
    let json = json!({"scenario": "reliability", "machine": machine(), "command": command("reliability", opts),
        "seed": seed, "records": n,
        "faults": {"error_rate": rate, "rounds": f.rounds, "completed": f.completed, "failed_runs": f.failed_runs,
                   "injected": f.injected, "calls": f.calls, "failed_records": f.failed_records,
                   "after_last_faulty_run": f.after_last.map(|a| a.json()), "after_clean_run": f.after_clean.json()},
        "kills": {"kills": k.kills, "mid_run": k.mid_run, "open_cursors": k.open_cursors, "finish_seconds": k.finish_secs, "runs_to_finish": k.resume_runs, "audit": k.audit.json()},
        "two_way": two.iter().map(twoway::TwoWay::json).collect::<Vec<_>>()});
    Ok(ScenarioResult { markdown: md, json })
}
