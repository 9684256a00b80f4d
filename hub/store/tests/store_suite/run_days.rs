//! The runs-per-day rollup stays equal to a count over the runs through every way a run is
//! queued, changes status or goes away.

use crate::{common, flow_spec, new_connection};
use hub_domain::*;
use hub_store::run_days::{day_of, DAY_OFFSET_MS};
use hub_store::schedule::Occurrence;
use hub_store::Store;
use std::collections::BTreeMap;

/// (day, status) → runs, by counting every run of the flow.
async fn counted(s: &Store, flow: &str) -> BTreeMap<(i64, String), i64> {
    let runs = s
        .list_runs(&RunFilter {
            flow: Some(flow.to_string()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for r in runs {
        *out.entry((day_of(r.queued_at), r.status.as_str().to_string()))
            .or_default() += 1;
    }
    out
}

/// What the history's chart reads (the rollup: `since` starts a day in Japan time).
async fn rolled_up(s: &Store, flow: Option<&str>) -> BTreeMap<(i64, String), i64> {
    let since = day_of(now_ms() - 3 * 86_400_000) * 86_400_000 - DAY_OFFSET_MS;
    s.runs_per_day(flow, since, DAY_OFFSET_MS)
        .await
        .unwrap()
        .into_iter()
        .map(|d| ((d.day, d.status.as_str().to_string()), d.runs))
        .collect()
}

async fn assert_same(s: &Store, flow: &str, step: &str) {
    assert_eq!(
        rolled_up(s, Some(flow)).await,
        counted(s, flow).await,
        "after {step}"
    );
}

#[tokio::test]
async fn the_rollup_counts_every_run_exactly() {
    for t in common::stores().await {
        let s = &t.store;
        let conn = s.insert_connection(&new_connection("c")).await.unwrap();
        let flow = s.insert_flow(&flow_spec(&conn), Some(1_000)).await.unwrap();
        let other = s.insert_flow(&flow_spec(&conn), None).await.unwrap();
        assert_same(s, &flow, "nothing").await;

        // Queued, claimed, finished failed; retried, claimed, finished with success.
        let r1 = s.enqueue_run(&flow, Trigger::Manual, None).await.unwrap();
        assert_same(s, &flow, "queue").await;
        assert!(s.enqueue_run(&flow, Trigger::Manual, None).await.is_err());
        assert_same(s, &flow, "a refused second run").await;
        let claimed = s
            .claim_next_run("a", now_ms() + 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, r1);
        assert_same(s, &flow, "claim").await;
        s.finish_run(
            &r1,
            RunStatus::Failed,
            &RunCounts::default(),
            Some("boom"),
            &[],
        )
        .await
        .unwrap();
        assert_same(s, &flow, "finish failed").await;
        let r2 = s.enqueue_retry(&flow, 2, now_ms(), "retry").await.unwrap();
        assert!(s.claim_run(&r2, "b", now_ms() + 60_000).await.unwrap());
        assert_same(s, &flow, "retry claimed").await;
        s.finish_run(&r2, RunStatus::Success, &RunCounts::default(), None, &[])
            .await
            .unwrap();
        // Finishing twice moves the count from the first result to the second.
        s.finish_run(&r2, RunStatus::Partial, &RunCounts::default(), None, &[])
            .await
            .unwrap();
        assert_same(s, &flow, "finish success, then partial").await;

        // A run interrupted by shutdown is resumed by a queued one.
        s.enqueue_run(&flow, Trigger::Manual, None).await.unwrap();
        let r3 = s
            .claim_next_run("c", now_ms() + 60_000)
            .await
            .unwrap()
            .unwrap();
        assert!(s.interrupt_run(&r3.id, "c", now_ms()).await.unwrap());
        assert_same(s, &flow, "interrupt").await;
        // An abandoned one (lease expired) likewise.
        let r4 = s.claim_next_run("d", now_ms() - 1).await.unwrap().unwrap();
        assert_eq!(s.requeue_expired_runs(now_ms()).await.unwrap(), 1);
        assert_eq!(
            s.get_run(&r4.id).await.unwrap().status,
            RunStatus::Interrupted
        );
        assert_same(s, &flow, "requeue expired").await;

        // Scheduled occurrences: one skipped (overlap with the queued resume), one lost.
        let taken = s
            .take_occurrences(&[
                Occurrence {
                    flow_id: flow.clone(),
                    old: 1_000,
                    new: Some(2_000),
                    skip: None,
                    message: None,
                },
                Occurrence {
                    flow_id: flow.clone(),
                    old: 1_000,
                    new: Some(3_000),
                    skip: None,
                    message: None,
                },
            ])
            .await
            .unwrap();
        assert!(
            matches!(taken[0], hub_store::schedule::Taken::Skipped(_)),
            "{taken:?}"
        );
        assert_eq!(taken[1], hub_store::schedule::Taken::Lost);
        assert_same(s, &flow, "occurrences").await;
        let q = s
            .claim_next_run("e", now_ms() + 60_000)
            .await
            .unwrap()
            .unwrap();
        s.finish_run(&q.id, RunStatus::Success, &RunCounts::default(), None, &[])
            .await
            .unwrap();
        let taken = s
            .take_occurrence(&flow, 2_000, Some(4_000), None, None)
            .await
            .unwrap();
        assert!(matches!(taken, hub_store::schedule::Taken::Queued(_)));
        assert_same(s, &flow, "a queued occurrence").await;

        // A rebuild from the runs finds the same numbers; all flows sum per day and status.
        s.enqueue_run(&other, Trigger::Manual, None).await.unwrap();
        let before = rolled_up(s, None).await;
        s.rebuild_run_days().await.unwrap();
        assert_eq!(rolled_up(s, None).await, before);
        let mut both = counted(s, &flow).await;
        for (k, n) in counted(s, &other).await {
            *both.entry(k).or_default() += n;
        }
        assert_eq!(before, both, "{}: all flows", t.name);

        // Deleting a flow takes its counts with it.
        let active = s.active_run(&flow).await.unwrap().unwrap();
        s.finish_run(
            &active.id,
            RunStatus::Success,
            &RunCounts::default(),
            None,
            &[],
        )
        .await
        .unwrap();
        s.delete_flow(&flow).await.unwrap();
        assert!(rolled_up(s, Some(&flow)).await.is_empty(), "{}", t.name);
        assert_eq!(rolled_up(s, None).await, counted(s, &other).await);
    }
}
