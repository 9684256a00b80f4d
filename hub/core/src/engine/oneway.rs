//! One-way sync through the engine crate (`hub-engine`, `oneway`): this file opens the flow's
//! two connections as [`PluginSide`]s, its store as a [`StoreLedger`], hooks the hub's own
//! enrichment of each page into the run ([`PageHooks`]: lookups through other flows' links,
//! registering missing parents, user mappings, the expected count, live progress), and renders
//! what the engine reports into the run's history.
//!
//! The rules themselves (changes read since the source's cursor are mapped and written to the
//! target — linked records by id, others by match key or created — skipping what is unchanged
//! by content since the last sync; links and the cursor move only after the target
//! acknowledged the writes) live in `hub-engine`, with two-way's traits.

use connector_sdk::{ReadPage, Record, WriteOp, WriteResult};
use hub_domain::{now_ms, Flow, RunCounts, RunWarning};
use hub_engine::oneway::plan::Content;
use hub_engine::oneway::{self as engine, Hooks, Mode, Options, PageSeen};
use hub_engine::{Counts, EngineError, Failure, Match, RecordSide, Report, Shape, SideId};

use super::ledger::StoreLedger;
use super::lookup::{Lookups, Registered, Resolved};
use super::mapping::Mapper;
use super::matching::Side;
use super::naming;
use super::newest::{newest_of_window, Newest};
use super::reads::{open_failed, read_fields};
use super::render::{add_counts, run_errors};
use super::sides::{PluginSide, Reading};
use super::{client::ConnectorClient, Fatal, Plan, Progress, RunCtx, RunReport, SOURCE_SINCE};
use crate::Hub;
use std::sync::atomic::{AtomicI64, Ordering};

/// What a run gathers beside the engine's report.
#[derive(Default)]
struct Outcome {
    report: Report,
    /// Registered parents and a preview's planned writes (the engine counts neither).
    extra: RunCounts,
    warnings: Vec<RunWarning>,
    registered: Registered,
    /// How each side's records are named, `[source, target]`.
    names: [naming::SideNames; 2],
}

pub(super) async fn run(
    hub: &Hub,
    flow: &Flow,
    ctx: &RunCtx,
    progress: Progress<'_>,
    plan: Option<&mut Plan>,
) -> RunReport {
    let mut out = Outcome::default();
    let fatal = sync(hub, flow, ctx, (progress, plan), &mut out).await.err();
    let mut counts = out.extra;
    add_counts(&mut counts, &out.report.counts);
    counts.warnings = out.warnings.len() as i64;
    let mut errors = run_errors(&out.report);
    let names = [&out.names[0], &out.names[1]];
    naming::name_errors(&out.report.failures, &mut errors, &names);
    naming::name_warnings(&mut out.warnings, &names);
    let mut report = RunReport::finish(counts, errors, fatal);
    report.warnings = out.warnings;
    out.registered.note(&mut report);
    report
}

/// Where the source's reads start.
struct Start {
    cursor: Option<String>,
    /// The window of a first run, or the time a capped first run began.
    since: Option<String>,
    first_run: bool,
}

/// A retry of failed records reads again from where the failed run started.
async fn start(hub: &Hub, flow: &Flow, ctx: &RunCtx) -> Result<Start, Fatal> {
    let (cursor, mark) = match &ctx.scope {
        Some(scope) => (scope.cursor("source"), scope.cursor(SOURCE_SINCE)),
        None => {
            // The store: worth another attempt.
            let store = |e: hub_store::StoreError| Fatal {
                message: e.to_string(),
                retryable: true,
            };
            let get = |side| hub.store.get_cursor(&flow.id, side);
            (
                get("source").await.map_err(store)?,
                get(SOURCE_SINCE).await.map_err(store)?,
            )
        }
    };
    let first_run = cursor.is_none() && mark.is_none() && ctx.scope.is_none();
    let since = match (first_run, flow.spec.filters.modified_within_days) {
        (true, Some(days)) => {
            chrono::DateTime::from_timestamp_millis(now_ms() - i64::from(days) * 86_400_000)
                .map(|t| t.to_rfc3339())
        }
        // After a capped first run, only what changed since it began (or all, after 全件を取り込む).
        (false, _) if cursor.is_none() => mark.filter(|m| !m.is_empty()),
        _ => None,
    };
    Ok(Start {
        cursor,
        since,
        first_run,
    })
}

fn options(flow: &Flow, ctx: &RunCtx) -> Options {
    let spec = &flow.spec;
    Options {
        propagate_deletes: spec.options.propagate_deletes,
        create_missing: spec.options.create_missing,
        skip_private: spec.filters.skip_private,
        retry: ctx.scope.is_some(),
    }
}

/// The run's ledger: its commits land behind the writes, unless a lookup goes through the
/// flow's own links (it must see each commit before the next page is prepared).
fn run_ledger<'a>(
    (hub, flow, ctx): (&'a Hub, &'a Flow, &'a RunCtx),
    cursor: Option<String>,
    capped: bool,
    lookups: &Lookups,
) -> StoreLedger<'a> {
    let ledger = StoreLedger::new(hub, flow, ctx, [cursor, None]).capped(capped);
    match lookups.through(&flow.id) {
        true => ledger,
        false => ledger.committing_behind(),
    }
}

async fn sync(
    hub: &Hub,
    flow: &Flow,
    ctx: &RunCtx,
    (progress, plan): (Progress<'_>, Option<&mut Plan>),
    out: &mut Outcome,
) -> Result<(), Fatal> {
    let spec = &flow.spec;
    let fwd = Mapper::new(&spec.mapping).map_err(|e| Fatal::final_(e.to_string()))?;
    let rev = fwd.reverse();
    let lookups = Lookups::prepare(hub, &fwd, &spec.options).await?;
    let mut client_a = ConnectorClient::open(hub, &spec.source.connection)
        .await
        .map_err(|e| open_failed("source", e))?;
    let client_b = ConnectorClient::open(hub, &spec.target.connection)
        .await
        .map_err(|e| open_failed("target", e))?;
    let start = start(hub, flow, ctx).await?;
    // A capped first run takes the newest records of its window, and leaves the flow reading
    // what changes from when it began: the rest of the window comes only when it changes (or
    // with 全件を取り込む), never with the next run.
    let began = chrono::DateTime::from_timestamp_millis(now_ms()).map(|t| t.to_rfc3339());
    let fields_a = read_fields(&fwd, &spec.match_keys, Side::Source);
    let newest = match spec.options.initial_max_records.filter(|_| start.first_run) {
        Some(cap) => {
            let since = start.since.clone();
            let mut n = newest_of_window(&mut client_a, spec, fields_a.clone(), since, cap).await?;
            n.began = began.unwrap_or_default();
            Some(n)
        }
        None => None,
    };
    let preview = plan.is_some();
    let [names_a, names_b] = naming::sides(hub, flow, preview).await;
    let mut fields_a = fields_a;
    names_a.widen(&mut fields_a);
    let mut fields_b = read_fields(&fwd, &spec.match_keys, Side::Target);
    names_b.widen(&mut fields_b);
    let reading = |side: SideId| Reading {
        object: match side {
            SideId::A => &spec.source.object,
            SideId::B => &spec.target.object,
        },
        fields: match side {
            SideId::A => fields_a.clone(),
            SideId::B => fields_b.clone(),
        },
        options: match side {
            SideId::A => &spec.filters.source_options,
            SideId::B => &spec.filters.target_options,
        },
        since: (side == SideId::A).then(|| start.since.clone()).flatten(),
        keys: &spec.match_keys,
        blank: spec.options.blank_key_parts,
        // A preview keeps them too: what a matched record holds is its "before".
        images: side == SideId::B && (ctx.run_id.is_some() || preview),
        // Live progress: a recorded run asks how many records there are to read (answered
        // where the system can tell cheaply); a capped first run reads its own window.
        count: side == SideId::A && !preview && newest.is_none() && ctx.scope.is_none(),
    };
    let mappers = (&fwd, &rev);
    let mut side_a = PluginSide::new(SideId::A, client_a, reading(SideId::A), mappers, ctx);
    let mut b = PluginSide::new(SideId::B, client_b, reading(SideId::B), mappers, ctx);
    (side_a.names, b.names) = (names_a, names_b);
    let capped = newest.is_some();
    let warned = AtomicI64::new(0);
    let mut a = Source {
        side: side_a,
        newest,
        warned: &warned,
    };
    let mut ledger = run_ledger((hub, flow, ctx), start.cursor, capped, &lookups);
    let mut hooks = PageHooks {
        hub,
        mapper: &fwd,
        lookups,
        skip_private: spec.filters.skip_private,
        run_id: ctx.run_id.as_deref(),
        progress,
        warned: &warned,
        plan,
        extra: RunCounts::default(),
        registered: Registered::default(),
    };
    let mode = if preview { Mode::Preview } else { Mode::Run };
    let opts = options(flow, ctx);
    let sides = (&mut a, &mut b);
    let done = engine::run(
        sides,
        &mut ledger,
        &mut hooks,
        (&opts, mode),
        &mut out.report,
    )
    .await;
    out.warnings.append(&mut a.side.warnings);
    if let Some(plan) = hooks.plan {
        naming::name_plan(plan, [&a.side.names, &b.names]);
    }
    out.extra = hooks.extra;
    out.registered = hooks.registered;
    out.names = [
        std::mem::take(&mut a.side.names),
        std::mem::take(&mut b.names),
    ];
    done?;
    Ok(())
}

/// The source side: the plugin's pages, or a capped first run's newest records; only the
/// records a retry takes up.
struct Source<'a> {
    side: PluginSide<'a>,
    newest: Option<Newest>,
    /// The warnings read so far, for live progress.
    warned: &'a AtomicI64,
}

impl Shape for Source<'_> {
    fn common(&self, rec: &Record) -> connector_sdk::Fields {
        self.side.common(rec)
    }

    fn own_fields(&self, common: &connector_sdk::Fields) -> connector_sdk::Fields {
        self.side.own_fields(common)
    }

    fn read_back(&self, common: &connector_sdk::Fields) -> connector_sdk::Fields {
        self.side.read_back(common)
    }

    fn image(&self, rec: &Record) -> connector_sdk::Fields {
        self.side.image(rec)
    }
}

impl Source<'_> {
    /// A page with only the records the run takes up; the warnings so far told.
    fn admitted(&self, mut page: ReadPage) -> ReadPage {
        let ctx = self.side.ctx;
        page.records.retain(|r| ctx.admits(&r.id));
        let warned = i64::try_from(self.side.warnings.len()).unwrap_or(i64::MAX);
        self.warned.store(warned, Ordering::Relaxed);
        page
    }
}

impl<'a> RecordSide for Source<'a> {
    type Shaped = super::sides::SideShape<'a>;

    fn shape(&self) -> Self::Shaped {
        self.side.shape()
    }

    async fn read_page(&mut self, cursor: Option<String>) -> Result<ReadPage, EngineError> {
        let ctx = self.side.ctx;
        let page = match self.newest.as_mut() {
            Some(buf) => {
                let mut page = buf.next_page(self.side.client.limits.read_page_size as usize);
                page.issues.retain(|i| ctx.admits(&i.record));
                page.warnings.retain(|w| ctx.admits(&w.record));
                let warned = std::mem::take(&mut page.warnings);
                self.side
                    .warnings
                    .extend(super::read_warnings("source", &warned));
                self.side.names.note(&page.records);
                page
            }
            None => self.side.read_page(cursor).await?,
        };
        Ok(self.admitted(page))
    }

    fn read_concurrency(&self) -> usize {
        match self.newest {
            Some(_) => 1,
            None => self.side.read_concurrency(),
        }
    }

    async fn read_pages(&mut self, cursors: Vec<String>) -> Vec<Result<ReadPage, EngineError>> {
        let pages = self.side.read_pages(cursors).await;
        pages
            .into_iter()
            .map(|page| page.map(|p| self.admitted(p)))
            .collect()
    }

    async fn write_batch(&mut self, ops: Vec<WriteOp>) -> Result<Vec<WriteResult>, EngineError> {
        self.side.write_batch(ops).await
    }

    fn batch_size(&self) -> usize {
        self.side.batch_size()
    }

    async fn find_match(&mut self, other: &Record) -> Result<Match, EngineError> {
        self.side.find_match(other).await
    }
}

/// The hub's part of a one-way run, page by page.
struct PageHooks<'a> {
    hub: &'a Hub,
    mapper: &'a Mapper,
    lookups: Lookups,
    skip_private: bool,
    run_id: Option<&'a str>,
    progress: Progress<'a>,
    warned: &'a AtomicI64,
    plan: Option<&'a mut Plan>,
    extra: RunCounts,
    registered: Registered,
}

fn hook_failed(f: Fatal) -> EngineError {
    EngineError::Hook {
        message: f.message,
        may_pass: f.retryable,
    }
}

impl PageHooks<'_> {
    /// A record's content in the shared space, or why it is not written (a reference no link
    /// resolves, a user without a pair). Tombstones and skipped private records need none.
    fn content(&self, r: &Record, resolved: &Resolved<'_>) -> Content {
        if r.deleted || (r.private && self.skip_private) {
            return None;
        }
        Some(match resolved.missing(r) {
            Some(e) => Err(Box::new(Failure::Prepared {
                label: e.record,
                side: SideId::A,
                code: e.code,
                message: e.message,
            })),
            None => Ok(self.mapper.map_with(r, resolved)),
        })
    }
}

impl Hooks for PageHooks<'_> {
    async fn prepare(&mut self, page: PageSeen<'_>) -> Result<Vec<Content>, EngineError> {
        if let (Some(total), Some(run)) = (page.total, self.run_id) {
            let total = i64::try_from(total).unwrap_or(i64::MAX);
            let expected = page.read_before.saturating_add(total);
            if let Err(e) = self.hub.store.set_run_expected(run, expected).await {
                tracing::warn!(run, error = %e, "cannot save the run's expected count");
            }
        }
        let records = page.records;
        let mut resolved = (self.lookups.resolve(self.hub, records).await).map_err(hook_failed)?;
        let plan = self.plan.as_deref_mut();
        let (counts, registered) = (&mut self.extra, &mut self.registered);
        (self.lookups)
            .register_missing(self.hub, records, &mut resolved, counts, registered, plan)
            .await
            .map_err(hook_failed)?;
        Ok(records.iter().map(|r| self.content(r, &resolved)).collect())
    }

    fn planned(&mut self, label: &str, op: &WriteOp, before: Option<&connector_sdk::Fields>) {
        if let Some(plan) = self.plan.as_deref_mut() {
            plan.record_over((label, "target"), op, before, &mut self.extra);
        }
    }

    fn progress(&mut self, counts: &Counts) {
        let mut c = self.extra;
        add_counts(&mut c, counts);
        c.warnings = self.warned.load(Ordering::Relaxed);
        (self.progress)(&c);
    }
}
