//! A page's failed records are pending as soon as the page commits (with its links and its
//! cursor, which may move past them): a run killed before it finishes loses none of them.

use crate::{common, flow_spec, new_connection};
use hub_domain::*;
use hub_store::links::PageCommit;

#[tokio::test]
async fn a_page_s_failures_are_pending_at_its_commit_and_keep_their_first_run() {
    for t in common::stores().await {
        let s = &t.store;
        let conn = s.insert_connection(&new_connection("c")).await.unwrap();
        let flow = s.insert_flow(&flow_spec(&conn), None).await.unwrap();
        let run = s.enqueue_run(&flow, Trigger::Manual, None).await.unwrap();
        let refused = |message: &str| RunError {
            record: "42".into(),
            side: "target".into(),
            code: "invalid_data".into(),
            message: message.into(),
            ..Default::default()
        };
        let page = PageCommit {
            cursors: vec![("source".into(), "7".into())],
            failed: Some((run.clone(), vec![refused("bad phone")])),
            ..PageCommit::default()
        };
        s.commit_page(&flow, &page).await.unwrap();
        // The hub is killed here: the run never finishes, the cursor moved past record 42.
        let pending = s.pending_records(&flow).await.unwrap();
        assert_eq!(pending.len(), 1, "{}", t.name);
        assert_eq!(
            (pending[0].record.as_str(), pending[0].first_run_id.as_str()),
            ("42", run.as_str()),
            "{}",
            t.name
        );
        assert_eq!(
            s.get_cursor(&flow, "source").await.unwrap().as_deref(),
            Some("7")
        );
        // Failing again keeps the record's first run (where a retry reads from) and tells the
        // latest reason.
        let again = PageCommit {
            failed: Some((run.clone(), vec![refused("still bad")])),
            ..PageCommit::default()
        };
        s.commit_page(&flow, &again).await.unwrap();
        let pending = s.pending_records(&flow).await.unwrap();
        assert_eq!(pending.len(), 1, "{}", t.name);
        assert_eq!(pending[0].message, "still bad");
        assert_eq!(pending[0].first_run_id, run);
    }
}
