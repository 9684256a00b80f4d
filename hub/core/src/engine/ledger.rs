//! The hub's store as the engine's run ledger ([`hub_engine::Ledger`]): a flow's links and
//! cursors, and the one transaction per commit (`links.rs::commit_page`) that saves links,
//! cursors, the run's change rows (for 元に戻す) and the records its pages failed on (pending,
//! so that a run killed later loses none) together. A retry of failed records
//! (`ctx.scope`) reads from where the failed run started and never moves a cursor.

use hub_domain::Flow;
use hub_engine::{Commit, EngineError, Ledger, Link, SideId};
use hub_store::links::{self, PageCommit};
use std::collections::HashMap;

use super::changelog::Written;
use super::commit_behind::CommitBehind;
use super::render::run_error;
use super::{RunCtx, SOURCE_SINCE};
use crate::Hub;

pub(super) struct StoreLedger<'a> {
    hub: &'a Hub,
    flow: &'a Flow,
    ctx: &'a RunCtx,
    /// Where each side's read starts (`[A, B]`), taken before the run.
    cursors: [Option<String>; 2],
    /// The links as the store gave them, by source id: the rows undo puts back (kept by a
    /// recorded run until its next commit).
    loaded: HashMap<String, links::Link>,
    /// A capped first run of a one-way flow: its source cursor is never saved; the last
    /// page's (when the run began) is saved as [`SOURCE_SINCE`], the others (empty) not.
    capped: bool,
    /// Commits land in the background while the run writes on ([`CommitBehind`]).
    behind_allowed: bool,
    behind: Option<CommitBehind>,
}

fn ledger_failed(e: hub_store::StoreError) -> EngineError {
    EngineError::Ledger(Box::new(e))
}

/// A store link as the engine sees it.
pub(super) fn from_store(l: &links::Link) -> Link {
    Link {
        ids: [l.source_id.clone(), l.target_id.clone()],
        fingerprints: [l.source_fingerprint.clone(), l.target_fingerprint.clone()],
        versions: [l.source_version.clone(), l.target_version.clone()],
        synced: l
            .synced_copy
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok()),
    }
}

fn to_store(l: Link) -> links::Link {
    let [source_id, target_id] = l.ids;
    let [source_fingerprint, target_fingerprint] = l.fingerprints;
    let [source_version, target_version] = l.versions;
    links::Link {
        source_id,
        target_id,
        source_fingerprint,
        target_fingerprint,
        source_version,
        target_version,
        synced_copy: l.synced.and_then(|s| serde_json::to_string(&s).ok()),
    }
}

impl<'a> StoreLedger<'a> {
    /// The ledger of one run of `flow`, its reads starting at `cursors` (`[A, B]`).
    pub fn new(
        hub: &'a Hub,
        flow: &'a Flow,
        ctx: &'a RunCtx,
        cursors: [Option<String>; 2],
    ) -> Self {
        StoreLedger {
            hub,
            flow,
            ctx,
            cursors,
            loaded: HashMap::new(),
            capped: false,
            behind_allowed: false,
            behind: None,
        }
    }

    /// A ledger whose commits land in the background, one at a time and in order, while the
    /// run writes on (a one-way run's pipeline; the engine settles before the run ends).
    pub fn committing_behind(mut self) -> Self {
        self.behind_allowed = true;
        self
    }

    /// The ledger of a capped first run (see [`StoreLedger::capped`]'s field).
    pub fn capped(mut self, capped: bool) -> Self {
        self.capped = capped;
        self
    }

    /// The name a cursor of `side` is saved under; `None`: not saved.
    fn cursor_row(&self, side: SideId, cursor: &str) -> Option<String> {
        match side {
            SideId::A if self.capped => (!cursor.is_empty()).then(|| SOURCE_SINCE.to_string()),
            _ => Some(side.name().to_string()),
        }
    }

    fn object(&self, side: SideId) -> &'a str {
        match side {
            SideId::A => &self.flow.spec.source.object,
            SideId::B => &self.flow.spec.target.object,
        }
    }
}

impl Ledger for StoreLedger<'_> {
    async fn cursor(&mut self, side: SideId) -> Result<Option<String>, EngineError> {
        Ok(match side {
            SideId::A => self.cursors[0].clone(),
            SideId::B => self.cursors[1].clone(),
        })
    }

    async fn links(
        &mut self,
        side: SideId,
        ids: &[String],
    ) -> Result<HashMap<String, Link>, EngineError> {
        let store = &self.hub.store;
        let mut found = match side {
            SideId::A => store.links_by_source(&self.flow.id, ids).await,
            SideId::B => store.links_by_target(&self.flow.id, ids).await,
        }
        .map_err(ledger_failed)?;
        match (&self.behind, side) {
            (Some(b), SideId::A) => b.over_sources(ids, &mut found),
            (Some(b), SideId::B) => b.over_targets(ids, &mut found),
            (None, _) => {}
        }
        let mut out = HashMap::with_capacity(found.len());
        let keep = self.ctx.run_id.is_some();
        for (id, l) in found {
            out.insert(id, from_store(&l));
            if keep {
                self.loaded.insert(l.source_id.clone(), l);
            }
        }
        Ok(out)
    }

    fn in_scope(&mut self, side: SideId, id: &str, partner: Option<&str>) -> bool {
        self.ctx
            .scope
            .as_ref()
            .is_none_or(|s| s.keeps(side.name(), id, partner))
    }

    async fn commit(&mut self, commit: Commit) -> Result<(), EngineError> {
        let mut page = PageCommit::default();
        for w in commit.written {
            let prior = w.prior.map(|p| {
                self.loaded
                    .get(p.id(SideId::A))
                    .cloned()
                    .unwrap_or_else(|| to_store(p))
            });
            let written = Written {
                side: w.side.name(),
                object: self.object(w.side),
                label: &w.label,
                before: w.before.and_then(|b| serde_json::to_string(&b).ok()),
                prior: prior.as_ref(),
            };
            page.changes
                .extend(self.ctx.change(written, &w.op, &w.result));
        }
        if !commit.failed.is_empty() {
            let errors = commit.failed.iter().map(run_error).collect();
            page.failed = self.ctx.run_id.clone().map(|run| (run, errors));
        }
        page.upsert_links = commit.links.into_iter().map(to_store).collect();
        page.delete_links_by_source = commit.unlink;
        if self.ctx.scope.is_none() {
            page.cursors = (commit.cursors.into_iter())
                .filter_map(|(side, c)| Some((self.cursor_row(side, &c)?, c)))
                .collect();
        }
        self.loaded.clear();
        self.settle().await?;
        if self.behind_allowed {
            self.behind = Some(CommitBehind::start(&self.hub.store, &self.flow.id, page));
            return Ok(());
        }
        self.hub
            .store
            .commit_page(&self.flow.id, &page)
            .await
            .map_err(ledger_failed)
    }

    async fn settle(&mut self) -> Result<(), EngineError> {
        match self.behind.take() {
            Some(b) => b.landed().await,
            None => Ok(()),
        }
    }
}
