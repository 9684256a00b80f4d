//! The checks of the conformance kit. Each returns an [`Outcome`]; messages say what was
//! expected and what came, so a connector author can act on them.

use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

use super::*;
use crate::error::ErrorKind;
use crate::record::{
    MatchKey, ReadRequest, Record, WriteAction, WriteOp, WriteOutcome, WriteRequest,
};
use crate::schema::ObjectSchema;

/// A read that has not ended after this many pages is reported as endless.
const MAX_PAGES: usize = 10_000;
/// The page size when neither the suite nor a smaller manifest says otherwise.
const DEFAULT_PAGE: u32 = 5;

/// Everything a run shares between checks.
struct Ctx<'a> {
    suite: Suite<'a>,
    schema: ObjectSchema,
    match_field: String,
    page_size: u32,
    batch_size: usize,
    /// Distinct sample numbers: a clock-derived base, then counting up.
    next_n: u64,
}

impl Ctx<'_> {
    fn sample(&mut self) -> (u64, crate::record::Fields) {
        let n = self.next_n;
        self.next_n += 1;
        (n, (self.suite.sample)(n))
    }

    fn upsert_op(&self, op_id: String, fields: crate::record::Fields) -> WriteOp {
        let match_key = fields.get(&self.match_field).map(|v| MatchKey {
            field: self.match_field.clone(),
            value: v.clone(),
        });
        WriteOp {
            op_id,
            action: WriteAction::Upsert,
            id: None,
            match_key,
            expected_version: None,
            fields,
        }
    }

    fn write(&self, ops: Vec<WriteOp>) -> Result<Vec<crate::record::WriteResult>, String> {
        let req = WriteRequest {
            object: self.suite.object.clone(),
            ops,
        };
        self.suite
            .connector
            .write(&self.suite.connection, &req)
            .map_err(|e| format!("write failed: {e}"))
    }

    fn read_from(&self, cursor: Option<String>, max_pages: usize) -> Result<ReadRun, String> {
        read_run(
            self.suite.connector,
            &self.suite.connection,
            &self.suite.object,
            self.page_size,
            cursor,
            max_pages,
        )
    }
}

/// The pages of one read sequence.
struct ReadRun {
    records: Vec<Record>,
    /// The cursor to continue from (the last one the connector gave).
    cursor: Option<String>,
    has_more: bool,
    problems: Vec<String>,
}

fn read_run(
    connector: &dyn Connector,
    conn: &Connection,
    object: &str,
    page_size: u32,
    start: Option<String>,
    max_pages: usize,
) -> Result<ReadRun, String> {
    let mut run = ReadRun {
        records: vec![],
        cursor: start,
        has_more: true,
        problems: vec![],
    };
    let mut seen = HashSet::new();
    for page_no in 1..=max_pages {
        let req = ReadRequest {
            options: Default::default(),
            object: object.to_string(),
            cursor: run.cursor.clone(),
            since: None,
            page_size: Some(page_size),
            fields: None,
            ..Default::default()
        };
        let page = connector
            .read(conn, &req)
            .map_err(|e| format!("read of page {page_no} failed: {e}"))?;
        if page.records.len() > page_size as usize {
            run.problems.push(format!(
                "page {page_no} holds {} records, more than the page size {page_size}",
                page.records.len()
            ));
        }
        for r in &page.records {
            if !seen.insert(r.id.clone()) {
                run.problems.push(format!(
                    "record {} came twice (again on page {page_no})",
                    r.id
                ));
            }
        }
        if page.has_more && page.records.is_empty() && page.next_cursor == run.cursor {
            run.problems.push(format!(
                "page {page_no} is empty, says has_more and gives back the same cursor: the read never ends"
            ));
            run.records.extend(page.records);
            return Ok(run);
        }
        run.records.extend(page.records);
        run.has_more = page.has_more;
        if page.next_cursor.is_some() {
            run.cursor = page.next_cursor;
        }
        if !page.has_more {
            return Ok(run);
        }
    }
    Ok(run)
}

fn ids(records: &[Record]) -> HashSet<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

fn fail(msg: impl Into<String>) -> Outcome {
    Outcome::Failed(msg.into())
}

fn skip(msg: impl Into<String>) -> Outcome {
    Outcome::Skipped(msg.into())
}

/// Why a person could not tell the object's records apart in a run's history: no title field
/// among its fields, or a record address that is no http(s) URL with `{id}`.
fn naming_problem(schema: &crate::ObjectSchema) -> Option<String> {
    match &schema.title_field {
        None => return Some("the object names no title_field".into()),
        Some(t) if schema.field(t).is_none() => {
            return Some(format!("title_field '{t}' is not a field of the object"))
        }
        Some(_) => {}
    }
    let url = schema.record_url.as_deref()?;
    let http = url.starts_with("https://") || url.starts_with("http://");
    (!http || !url.contains("{id}"))
        .then(|| format!("record_url '{url}' is not an http(s) URL with {{id}}"))
}

pub(super) fn run(suite: Suite<'_>) -> Report {
    let manifest = suite.connector.manifest();
    let mut report = Report {
        connector: manifest.id.clone(),
        object: suite.object.clone(),
        checks: vec![],
    };
    let schema = match suite.connector.objects(&suite.connection) {
        Ok(objects) => objects.into_iter().find(|o| o.id == suite.object),
        Err(e) => {
            report.push(OBJECT_LISTED, fail(format!("objects failed: {e}")));
            skip_rest(&mut report, "objects could not be listed");
            return report;
        }
    };
    let Some(schema) = schema else {
        report.push(
            OBJECT_LISTED,
            fail(format!("objects does not list '{}'", suite.object)),
        );
        skip_rest(&mut report, "the object is not listed");
        return report;
    };
    let match_field = suite.match_field.clone().or_else(|| {
        schema
            .fields
            .iter()
            .find(|f| f.unique)
            .map(|f| f.id.clone())
    });
    let caps = &schema.capabilities;
    let Some(match_field) = match_field else {
        report.push(
            OBJECT_LISTED,
            fail("the object has no unique field to upsert by; name one with Suite::match_field"),
        );
        skip_rest(&mut report, "no match field");
        return report;
    };
    if !caps.read || !(caps.create || caps.update) {
        report.push(
            OBJECT_LISTED,
            fail("the kit needs an object that can be read and written"),
        );
        skip_rest(&mut report, "the object is not readable and writable");
        return report;
    }
    if let Some(why) = naming_problem(&schema) {
        report.push(OBJECT_LISTED, fail(why));
        skip_rest(
            &mut report,
            "the object does not say how to name its records",
        );
        return report;
    }
    report.push(OBJECT_LISTED, Outcome::Passed);
    let page_size = suite
        .page_size
        .unwrap_or_else(|| manifest.limits.read_page_size.clamp(1, DEFAULT_PAGE));
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut ctx = Ctx {
        suite,
        schema,
        match_field,
        page_size,
        batch_size: manifest.limits.write_batch_size.max(1) as usize,
        next_n: clock % 1_000_000_000 * 1000,
    };

    let seeded = seed(&mut ctx);
    let seeded = match seeded {
        Ok(ids) => {
            report.push(SEED, Outcome::Passed);
            ids
        }
        Err(why) => {
            report.push(SEED, fail(why));
            skip_rest(&mut report, "the sample records could not be written");
            return report;
        }
    };
    let (outcome, full) = paging_to_end(&ctx, &seeded);
    report.push(PAGING_TO_END, outcome);
    report.push(CURSOR_RESUME, cursor_resume(&mut ctx, full.as_ref()));
    report.push(UPSERT_IDEMPOTENT, upsert_idempotent(&mut ctx));
    report.push(UNKNOWN_FIELD, unknown_field(&mut ctx));
    report.push(AUTH_EXPIRED, auth_expired(&mut ctx));
    report.push(
        PRIVATE_RECORDS,
        private_records(&mut ctx, &seeded, full.as_ref()),
    );
    report
}

fn skip_rest(report: &mut Report, why: &str) {
    for name in ALL_CHECKS {
        if report.outcome(name).is_none() {
            report.push(name, skip(why));
        }
    }
}

/// Upserts 2 × page size + 1 sample records: at least three pages. Returns their ids.
fn seed(ctx: &mut Ctx<'_>) -> Result<Vec<String>, String> {
    let count = ctx.page_size as usize * 2 + 1;
    let mut ops = Vec::with_capacity(count);
    for i in 0..count {
        let (_, fields) = ctx.sample();
        if !fields.contains_key(&ctx.match_field) {
            return Err(format!(
                "the sample fields have no value for the match field '{}'",
                ctx.match_field
            ));
        }
        ops.push(ctx.upsert_op(format!("seed-{i}"), fields));
    }
    let mut ids = Vec::new();
    for batch in ops.chunks(ctx.batch_size) {
        for r in ctx.write(batch.to_vec())? {
            match (r.outcome, r.id) {
                (
                    WriteOutcome::Created | WriteOutcome::Updated | WriteOutcome::Unchanged,
                    Some(id),
                ) => ids.push(id),
                (WriteOutcome::Created | WriteOutcome::Updated | WriteOutcome::Unchanged, None) => {
                    return Err(format!("op {} succeeded without a record id", r.op_id))
                }
                (outcome, _) => {
                    let why = r.error.map(|e| e.to_string()).unwrap_or_default();
                    return Err(format!("op {} ended {outcome:?}: {why}", r.op_id));
                }
            }
        }
    }
    Ok(ids)
}

fn paging_to_end(ctx: &Ctx<'_>, seeded: &[String]) -> (Outcome, Option<ReadRun>) {
    let run = match ctx.read_from(None, MAX_PAGES) {
        Ok(r) => r,
        Err(e) => return (fail(e), None),
    };
    let mut problems = run.problems.clone();
    if run.has_more {
        problems.push(format!("has_more was still true after {MAX_PAGES} pages"));
    }
    let got = ids(&run.records);
    let missing: Vec<&String> = seeded.iter().filter(|id| !got.contains(*id)).collect();
    if !missing.is_empty() {
        problems.push(format!("seeded records never came: {missing:?}"));
    }
    let outcome = if problems.is_empty() {
        Outcome::Passed
    } else {
        fail(problems.join("; "))
    };
    (outcome, Some(run))
}

fn cursor_resume(ctx: &mut Ctx<'_>, full: Option<&ReadRun>) -> Outcome {
    if !ctx.schema.capabilities.incremental {
        return skip("the object does not declare incremental reads");
    }
    let Some(full) = full else {
        return skip("the full read failed");
    };
    let first = match ctx.read_from(None, 1) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if !first.has_more {
        return fail("the first page says has_more = false although the seed made several pages");
    }
    if first.cursor.is_none() {
        return fail("the first page gives no next_cursor although has_more is true");
    }
    let rest = match ctx.read_from(first.cursor.clone(), MAX_PAGES) {
        Ok(r) => r,
        Err(e) => return fail(format!("resuming from the saved cursor: {e}")),
    };
    let mut problems = rest.problems.clone();
    let first_ids = ids(&first.records);
    let repeated: Vec<&String> = rest
        .records
        .iter()
        .map(|r| &r.id)
        .filter(|id| first_ids.contains(*id))
        .collect();
    if !repeated.is_empty() {
        problems.push(format!(
            "records of page 1 came again after resuming: {repeated:?}"
        ));
    }
    let resumed: HashSet<String> = first_ids.union(&ids(&rest.records)).cloned().collect();
    let mut lost: Vec<&String> = full
        .records
        .iter()
        .map(|r| &r.id)
        .filter(|id| !resumed.contains(*id))
        .collect();
    lost.dedup();
    if !lost.is_empty() {
        problems.push(format!(
            "records lost when resuming from the cursor: {lost:?}"
        ));
    }
    // One more change, then an incremental read from where the resumed read ended.
    let (_, fields) = ctx.sample();
    let written = match ctx.write(vec![ctx.upsert_op("incremental".into(), fields)]) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let Some(new_id) = written.first().and_then(|r| r.id.clone()) else {
        return fail(format!(
            "the incremental write gave no record id: {written:?}"
        ));
    };
    match ctx.read_from(rest.cursor.clone(), MAX_PAGES) {
        Ok(after) => {
            let n = after.records.iter().filter(|r| r.id == new_id).count();
            if n != 1 {
                problems.push(format!(
                    "a read from the final cursor returned the newly written record {new_id} {n} times, expected once"
                ));
            }
        }
        Err(e) => problems.push(format!("reading from the final cursor: {e}")),
    }
    if problems.is_empty() {
        Outcome::Passed
    } else {
        fail(problems.join("; "))
    }
}

fn upsert_idempotent(ctx: &mut Ctx<'_>) -> Outcome {
    let (_, fields) = ctx.sample();
    let Some(key) = fields.get(&ctx.match_field).cloned() else {
        return fail("the sample has no match-field value");
    };
    let mut results = Vec::new();
    for round in ["first", "second"] {
        match ctx.write(vec![
            ctx.upsert_op(format!("upsert-{round}"), fields.clone())
        ]) {
            Ok(mut r) if r.len() == 1 => results.push(r.remove(0)),
            Ok(r) => {
                return fail(format!(
                    "{round} upsert: expected 1 result, got {}",
                    r.len()
                ))
            }
            Err(e) => return fail(format!("{round} upsert: {e}")),
        }
    }
    let (a, b) = (&results[0], &results[1]);
    let mut problems = Vec::new();
    if !matches!(a.outcome, WriteOutcome::Created | WriteOutcome::Updated) {
        problems.push(format!(
            "first upsert ended {:?}, expected created: {:?}",
            a.outcome, a.error
        ));
    }
    if !matches!(b.outcome, WriteOutcome::Updated | WriteOutcome::Unchanged) {
        problems.push(format!(
            "the same upsert again ended {:?}, expected updated or unchanged: {:?}",
            b.outcome, b.error
        ));
    }
    if a.id.is_none() || a.id != b.id {
        problems.push(format!(
            "the two upserts gave ids {:?} and {:?}",
            a.id, b.id
        ));
    }
    match ctx.read_from(None, MAX_PAGES) {
        Ok(all) => {
            let live: Vec<&Record> = all
                .records
                .iter()
                .filter(|r| !r.deleted && r.fields.get(&ctx.match_field) == Some(&key))
                .collect();
            if live.len() != 1 {
                problems.push(format!(
                    "{} records have {} = {key} after the same upsert twice, expected 1",
                    live.len(),
                    ctx.match_field
                ));
            }
        }
        Err(e) => problems.push(e),
    }
    if problems.is_empty() {
        Outcome::Passed
    } else {
        fail(problems.join("; "))
    }
}

fn names_field(field: Option<&str>, message: &str) -> bool {
    field == Some(UNKNOWN_FIELD_ID) || message.contains(UNKNOWN_FIELD_ID)
}

fn unknown_field(ctx: &mut Ctx<'_>) -> Outcome {
    let (_, mut fields) = ctx.sample();
    fields.insert(UNKNOWN_FIELD_ID.into(), Value::String("x".into()));
    let req = WriteRequest {
        object: ctx.suite.object.clone(),
        ops: vec![ctx.upsert_op("unknown-field".into(), fields)],
    };
    match ctx.suite.connector.write(&ctx.suite.connection, &req) {
        Err(e) if e.kind == ErrorKind::InvalidData && names_field(e.field.as_deref(), &e.message) => {
            Outcome::Passed
        }
        Err(e) => fail(format!(
            "expected kind invalid_data naming '{UNKNOWN_FIELD_ID}', got {:?}: {e} (field {:?})",
            e.kind, e.field
        )),
        Ok(results) => match results.first() {
            Some(r) if r.outcome == WriteOutcome::Error => match &r.error {
                Some(e)
                    if e.kind == ErrorKind::InvalidData
                        && names_field(e.field.as_deref(), &e.message) =>
                {
                    Outcome::Passed
                }
                other => fail(format!(
                    "the op failed, but not with kind invalid_data naming '{UNKNOWN_FIELD_ID}': {other:?}"
                )),
            },
            Some(r) => fail(format!(
                "writing the unknown field '{UNKNOWN_FIELD_ID}' ended {:?} instead of an error",
                r.outcome
            )),
            None => fail("the write returned no result"),
        },
    }
}

fn auth_expired(ctx: &mut Ctx<'_>) -> Outcome {
    let Some(hook) = ctx.suite.expire_token.as_mut() else {
        return skip("no expire_token hook given");
    };
    let mut conn = ctx.suite.connection.clone();
    hook(&mut conn);
    let req = ReadRequest {
        options: Default::default(),
        object: ctx.suite.object.clone(),
        page_size: Some(ctx.page_size),
        ..Default::default()
    };
    match ctx.suite.connector.read(&conn, &req) {
        Err(e) if e.kind == ErrorKind::AuthExpired => Outcome::Passed,
        Err(e) => fail(format!(
            "after the token expired, read failed with kind {:?} instead of auth_expired: {e}",
            e.kind
        )),
        Ok(_) => fail("after the token expired, read still succeeded"),
    }
}

fn private_records(ctx: &mut Ctx<'_>, seeded: &[String], full: Option<&ReadRun>) -> Outcome {
    if !ctx.schema.capabilities.private_records {
        return skip("the object does not declare private_records");
    }
    let Some(hook) = ctx.suite.mark_private.as_mut() else {
        // Without a hook, the emulator's own seed must hold a private record.
        let Some(full) = full else {
            return skip("the full read failed");
        };
        return if full.records.iter().any(|r| r.private) {
            Outcome::Passed
        } else {
            fail("the object declares private_records but no record came back private; seed one in the emulator or give a mark_private hook")
        };
    };
    let Some(target) = seeded.first().cloned() else {
        return skip("no seeded record");
    };
    if let Err(e) = hook(&ctx.suite.connection, std::slice::from_ref(&target)) {
        return fail(format!("the mark_private hook failed: {e}"));
    }
    match ctx.read_from(None, MAX_PAGES) {
        Ok(all) => {
            let flags: BTreeMap<&str, bool> = all
                .records
                .iter()
                .filter(|r| r.id == target)
                .map(|r| (r.id.as_str(), r.private))
                .collect();
            match flags.get(target.as_str()) {
                Some(true) => Outcome::Passed,
                Some(false) => fail(format!(
                    "record {target} was made private but came back with private = false"
                )),
                None => fail(format!(
                    "record {target} was made private and then never came back in a read"
                )),
            }
        }
        Err(e) => fail(e),
    }
}
