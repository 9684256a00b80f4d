//! A one-way run's commit left to land in the background while the run writes on: at most one
//! at a time, so commits land in order and the next waits for the one before (whose error is
//! then its own). Lookups made meanwhile see the links as the commit will leave them, so a
//! record read again before its commit landed is still known as linked.

use hub_engine::EngineError;
use hub_store::links::{Link, PageCommit};
use hub_store::Store;
use std::collections::{HashMap, HashSet};
use tokio::task::JoinHandle;

pub(super) struct CommitBehind {
    task: JoinHandle<Result<(), EngineError>>,
    /// Each source id the commit links (`Some`) or unlinks (`None`).
    by_source: HashMap<String, Option<Link>>,
}

impl CommitBehind {
    /// Starts committing `page` of `flow`.
    pub fn start(store: &Store, flow: &str, page: PageCommit) -> Self {
        // As `commit_page` applies them: unlinks first, then links.
        let mut by_source: HashMap<String, Option<Link>> = (page.delete_links_by_source.iter())
            .map(|s| (s.clone(), None))
            .collect();
        for l in &page.upsert_links {
            by_source.insert(l.source_id.clone(), Some(l.clone()));
        }
        let (store, flow) = (store.clone(), flow.to_string());
        let task = tokio::spawn(async move {
            (store.commit_page(&flow, &page).await).map_err(|e| EngineError::Ledger(Box::new(e)))
        });
        CommitBehind { task, by_source }
    }

    /// Waits until the commit landed.
    pub async fn landed(self) -> Result<(), EngineError> {
        match self.task.await {
            Ok(done) => done,
            Err(e) => Err(EngineError::Ledger(Box::new(e))),
        }
    }

    /// Links found by source id, as they will be once the commit landed.
    pub fn over_sources(&self, ids: &[String], found: &mut HashMap<String, Link>) {
        for id in ids {
            match self.by_source.get(id) {
                Some(Some(l)) => drop(found.insert(id.clone(), l.clone())),
                Some(None) => drop(found.remove(id)),
                None => {}
            }
        }
    }

    /// Links found by target id, as they will be once the commit landed.
    pub fn over_targets(&self, ids: &[String], found: &mut HashMap<String, Link>) {
        found.retain(|_, l| !self.by_source.contains_key(&l.source_id));
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        for l in self.by_source.values().flatten() {
            if wanted.contains(l.target_id.as_str()) {
                found.insert(l.target_id.clone(), l.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(source: &str, target: &str) -> Link {
        Link {
            source_id: source.into(),
            target_id: target.into(),
            source_fingerprint: None,
            target_fingerprint: None,
            source_version: None,
            target_version: None,
            synced_copy: None,
        }
    }

    fn behind(links: &[(&str, &str)], unlinked: &[&str]) -> CommitBehind {
        let mut by_source: HashMap<String, Option<Link>> =
            unlinked.iter().map(|s| (s.to_string(), None)).collect();
        for (s, t) in links {
            by_source.insert(s.to_string(), Some(link(s, t)));
        }
        CommitBehind {
            task: tokio::spawn(async { Ok(()) }),
            by_source,
        }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn lookups_meanwhile_see_the_links_the_commit_will_leave() {
        let c = behind(&[("a1", "b1"), ("a2", "b9")], &["a3"]);
        let mut found: HashMap<String, Link> = [("a2", "b2"), ("a3", "b3"), ("a4", "b4")]
            .iter()
            .map(|(s, t)| (s.to_string(), link(s, t)))
            .collect();
        c.over_sources(&ids(&["a1", "a2", "a3", "a4"]), &mut found);
        let targets = |m: &HashMap<String, Link>| {
            let mut v: Vec<(String, String)> = (m.iter())
                .map(|(k, l)| (k.clone(), l.target_id.clone()))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            targets(&found),
            [("a1", "b1"), ("a2", "b9"), ("a4", "b4")].map(|(a, b)| (a.to_string(), b.to_string()))
        );

        // By target: b2 is no longer a2's, b3's source was unlinked, b9 is a2's now.
        let mut by_target: HashMap<String, Link> = [("b2", "a2"), ("b3", "a3"), ("b4", "a4")]
            .iter()
            .map(|(t, s)| (t.to_string(), link(s, t)))
            .collect();
        c.over_targets(&ids(&["b1", "b2", "b3", "b4", "b9"]), &mut by_target);
        let mut got: Vec<(String, String)> = (by_target.iter())
            .map(|(t, l)| (t.clone(), l.source_id.clone()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [("b1", "a1"), ("b4", "a4"), ("b9", "a2")].map(|(a, b)| (a.to_string(), b.to_string()))
        );
        c.landed().await.unwrap();
    }
}
