//! Two-way sync through the engine crate (`hub-engine`): this file opens the flow's two
//! connections as [`PluginSide`]s, its store as a [`StoreLedger`], runs the engine's one
//! side-generic reconcile, and renders what the engine reports into the run's history.
//!
//! The rules themselves (a record changed on one side flows to the other, a record changed on
//! both is settled by the flow's policy, the hub's own writes are recognised by their content,
//! never by their version) live in `hub-engine`, once for every connector.

use hub_domain::{now_ms, ConflictPolicy, Flow, RunCounts, RunWarning};
use hub_engine::run::{execute, prepare};
use hub_engine::{Config, EngineError, Policy, Report, SideId};

use super::client::ConnectorClient;
use super::ledger::StoreLedger;
use super::mapping::Mapper;
use super::matching::Side;
use super::naming::{self, SideNames};
use super::reads::{open_failed, read_fields};
use super::render::{add_counts, run_errors};
use super::sides::{PluginSide, Reading};
use super::{Fatal, Plan, Progress, RunCtx, RunReport};
use crate::Hub;

pub(super) async fn run(
    hub: &Hub,
    flow: &Flow,
    ctx: &RunCtx,
    progress: Progress<'_>,
    plan: Option<&mut Plan>,
) -> RunReport {
    let mut report = Report::default();
    let mut counts = RunCounts::default();
    let mut warnings = Vec::new();
    let mut names = naming::sides(hub, flow, plan.is_some()).await;
    let fatal = sync(
        hub,
        flow,
        ctx,
        (&mut report, &mut warnings, &mut names),
        &mut counts,
        plan,
    )
    .await
    .err();
    let mut errors = run_errors(&report);
    let names = [&names[0], &names[1]];
    naming::name_errors(&report.failures, &mut errors, &names);
    naming::name_warnings(&mut warnings, &names);
    add_counts(&mut counts, &report.counts);
    counts.warnings = warnings.len() as i64;
    if fatal.is_none() {
        progress(&counts);
    }
    let mut out = RunReport::finish(counts, errors, fatal);
    out.warnings = warnings;
    out
}

impl From<EngineError> for Fatal {
    fn from(e: EngineError) -> Self {
        Fatal {
            retryable: e.may_pass(),
            message: e.to_string(),
        }
    }
}

fn config(flow: &Flow) -> Config {
    let spec = &flow.spec;
    Config {
        policy: match spec.conflict {
            ConflictPolicy::SourceWins => Policy::SourceWins,
            ConflictPolicy::TargetWins => Policy::TargetWins,
            ConflictPolicy::NewestWins => Policy::NewestWins,
            ConflictPolicy::FieldMerge => Policy::FieldMerge,
        },
        propagate_deletes: spec.options.propagate_deletes,
        create_missing: spec.options.create_missing,
        skip_private: spec.filters.skip_private,
    }
}

/// Where each side's read starts (`[A, B]`): a retry of failed records reads again from where
/// the failed run started.
async fn start_cursors(hub: &Hub, flow: &Flow, ctx: &RunCtx) -> Result<[Option<String>; 2], Fatal> {
    if let Some(scope) = &ctx.scope {
        return Ok([scope.cursor("source"), scope.cursor("target")]);
    }
    let mut out = [None, None];
    for (slot, side) in out.iter_mut().zip(["source", "target"]) {
        *slot = hub
            .store
            .get_cursor(&flow.id, side)
            .await
            .map_err(|e| Fatal {
                message: e.to_string(),
                retryable: true,
            })?;
    }
    Ok(out)
}

async fn sync(
    hub: &Hub,
    flow: &Flow,
    ctx: &RunCtx,
    (report, warnings, names): (&mut Report, &mut Vec<RunWarning>, &mut [SideNames; 2]),
    counts: &mut RunCounts,
    plan: Option<&mut Plan>,
) -> Result<(), Fatal> {
    let spec = &flow.spec;
    let fwd = Mapper::new(&spec.mapping).map_err(|e| Fatal::final_(e.to_string()))?;
    let rev = fwd.reverse();
    let client_a = ConnectorClient::open(hub, &spec.source.connection)
        .await
        .map_err(|e| open_failed("source", e))?;
    let client_b = ConnectorClient::open(hub, &spec.target.connection)
        .await
        .map_err(|e| open_failed("target", e))?;
    let cursors = start_cursors(hub, flow, ctx).await?;
    // The first run's window applies only while neither side has a cursor.
    let since = match (
        cursors.iter().all(Option::is_none) && ctx.scope.is_none(),
        spec.filters.modified_within_days,
    ) {
        (true, Some(days)) => {
            chrono::DateTime::from_timestamp_millis(now_ms() - i64::from(days) * 86_400_000)
                .map(|t| t.to_rfc3339())
        }
        _ => None,
    };
    let images = ctx.run_id.is_some() && plan.is_none();
    let reading = |side: SideId| {
        let (object, options, role) = match side {
            SideId::A => (
                &spec.source.object,
                &spec.filters.source_options,
                Side::Source,
            ),
            SideId::B => (
                &spec.target.object,
                &spec.filters.target_options,
                Side::Target,
            ),
        };
        let mut fields = read_fields(&fwd, &spec.match_keys, role);
        names[usize::from(side == SideId::B)].widen(&mut fields);
        Reading {
            object,
            fields,
            options,
            since: since.clone(),
            keys: &spec.match_keys,
            blank: spec.options.blank_key_parts,
            images,
            count: false,
        }
    };
    let mappers = (&fwd, &rev);
    let mut a = PluginSide::new(SideId::A, client_a, reading(SideId::A), mappers, ctx);
    let mut b = PluginSide::new(SideId::B, client_b, reading(SideId::B), mappers, ctx);
    let [na, nb] = names;
    (a.names, b.names) = (std::mem::take(na), std::mem::take(nb));
    let mut ledger = StoreLedger::new(hub, flow, ctx, cursors);
    let cfg = config(flow);
    let prepared = prepare(&mut a, &mut b, &mut ledger, &cfg, report).await?;
    if let Some(plan) = plan {
        // A preview: the same plan, recorded instead of written.
        add_counts(counts, &report.counts);
        report.counts = Default::default();
        for side in [SideId::B, SideId::A] {
            for w in prepared
                .plan
                .writes
                .iter()
                .flatten()
                .filter(|w| w.side == side)
            {
                let pair = &prepared.plan.pairs[w.pair];
                // Before: the side's own fields as last synced (or as matched), so an update
                // shows before → after; a create has none.
                let before = pair.before[side.ix()].as_ref();
                plan.record_over((&pair.label, side.name()), &w.op, before, counts);
            }
        }
        plan.conflicts = prepared.plan.conflicts;
        naming::name_plan(plan, [&a.names, &b.names]);
        *names = [std::mem::take(&mut a.names), std::mem::take(&mut b.names)];
        return Ok(());
    }
    let done = execute(&mut a, &mut b, &mut ledger, prepared, report).await;
    warnings.append(&mut a.warnings);
    warnings.append(&mut b.warnings);
    *names = [std::mem::take(&mut a.names), std::mem::take(&mut b.names)];
    done?;
    Ok(())
}
