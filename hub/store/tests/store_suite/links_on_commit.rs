//! A page's links and change rows are saved in multi-row statements with the meaning of one
//! statement per link in order: the last link of a source wins, a target re-linked to another
//! source drops its old link, and change rows keep their order across statements.

use crate::{common, flow_spec, new_connection};
use hub_domain::*;
use hub_store::changes::{ChangeAction, RunChange};
use hub_store::links::{Link, PageCommit};

fn link(source: &str, target: &str, fp: &str) -> Link {
    Link {
        source_id: source.into(),
        target_id: target.into(),
        source_fingerprint: Some(fp.into()),
        target_fingerprint: None,
        source_version: None,
        target_version: None,
        synced_copy: None,
    }
}

fn change(run: &str, i: usize) -> RunChange {
    RunChange {
        run_id: run.into(),
        side: "target".into(),
        object: "Accounts".into(),
        record_id: format!("t{i}"),
        label: format!("s{i}"),
        action: ChangeAction::Created,
        before: None,
        after_version: None,
        after_modified: None,
        prior_link: None,
    }
}

#[tokio::test]
async fn a_commit_of_many_links_keeps_the_last_of_each_source_and_target() {
    for t in common::stores().await {
        let s = &t.store;
        let conn = s.insert_connection(&new_connection("c")).await.unwrap();
        let flow = s.insert_flow(&flow_spec(&conn), None).await.unwrap();
        let run = s.enqueue_run(&flow, Trigger::Manual, None).await.unwrap();
        // More than one statement's worth, a source met twice and a target taken over.
        let mut links: Vec<Link> = (0..1203)
            .map(|i| link(&format!("s{i}"), &format!("t{i}"), "v1"))
            .collect();
        links.push(link("s5", "t5", "v2"));
        links.push(link("s-new", "t7", "v1"));
        let page = PageCommit {
            upsert_links: links,
            changes: (0..1203).map(|i| change(&run, i)).collect(),
            ..PageCommit::default()
        };
        s.commit_page(&flow, &page).await.unwrap();
        assert_eq!(s.count_links(&flow).await.unwrap(), 1203, "{}", t.name);
        let ids = [
            "s5".to_string(),
            "s7".into(),
            "s-new".into(),
            "s1202".into(),
        ];
        let got = s.links_by_source(&flow, &ids).await.unwrap();
        assert_eq!(
            got["s5"].source_fingerprint.as_deref(),
            Some("v2"),
            "{}",
            t.name
        );
        assert!(!got.contains_key("s7"), "t7 went to s-new: {}", t.name);
        assert_eq!(got["s-new"].target_id, "t7");
        assert_eq!(got["s1202"].target_id, "t1202");
        // A later page re-links a stored target to another source.
        let again = PageCommit {
            upsert_links: vec![link("s-other", "t9", "v1")],
            changes: vec![change(&run, 9999)],
            ..PageCommit::default()
        };
        s.commit_page(&flow, &again).await.unwrap();
        let by_target = s.links_by_target(&flow, &["t9".to_string()]).await.unwrap();
        assert_eq!(by_target["t9"].source_id, "s-other", "{}", t.name);
        assert_eq!(s.count_links(&flow).await.unwrap(), 1203, "{}", t.name);
        let rows = s.run_changes(&run, 0, 5000).await.unwrap();
        assert_eq!(rows.len(), 1204, "{}", t.name);
        let labels: Vec<&str> = rows.iter().map(|r| r.change.label.as_str()).collect();
        assert_eq!(labels[..3], ["s0", "s1", "s2"]);
        assert_eq!(labels[1202..], ["s1202", "s9999"], "{}", t.name);
        assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq));
    }
}
