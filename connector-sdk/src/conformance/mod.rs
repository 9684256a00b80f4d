//! The conformance kit (feature `conformance`): one reusable suite that every connector runs
//! in its tests against its sandbox emulator, so the hub can rely on the same behaviour from
//! all of them.
//!
//! ```ignore
//! use connector_sdk::conformance::{assert_conformance, Suite};
//! let suite = Suite::new(&MyConnector, connection, "customers", |n| {
//!     let mut f = connector_sdk::Fields::new();
//!     f.insert("name".into(), format!("適合 {n}").into());
//!     f
//! })
//! .expire_token(|conn| sandbox.expire_tokens());
//! assert_conformance(suite);
//! ```
//!
//! The checks (names as in the report):
//! - `object_listed`: `objects` lists the object with its capabilities, a `title_field` among
//!   its fields, and a `record_url` (if any) that is an http(s) URL with `{id}`;
//! - `seed`: sample records can be upserted (they give the later checks several pages);
//! - `paging_to_end`: reading from the start reaches `has_more = false`, every page holds at
//!   most the page size, no record comes twice, every seeded record comes;
//! - `cursor_resume`: stopping after page 1 and resuming from its cursor in a new read loses and
//!   repeats nothing; after one more write, a read from the final cursor returns that record;
//! - `upsert_idempotent`: the same upsert twice gives one record, the same id, and a second
//!   outcome `updated` or `unchanged`;
//! - `unknown_field`: writing a field the object lacks fails with kind `invalid_data` naming it
//!   (as the op's error or the call's error);
//! - `auth_expired`: after the `expire_token` hook, a call fails with kind `auth_expired`;
//! - `private_records`: if the object declares `private_records`, a record made private (by the
//!   `mark_private` hook, or already so in the emulator's seed) comes back with `private = true`.

mod checks;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::connector::{Connection, Connector};
use crate::record::Fields;

pub const OBJECT_LISTED: &str = "object_listed";
pub const SEED: &str = "seed";
pub const PAGING_TO_END: &str = "paging_to_end";
pub const CURSOR_RESUME: &str = "cursor_resume";
pub const UPSERT_IDEMPOTENT: &str = "upsert_idempotent";
pub const UNKNOWN_FIELD: &str = "unknown_field";
pub const AUTH_EXPIRED: &str = "auth_expired";
pub const PRIVATE_RECORDS: &str = "private_records";

/// Every check, in the order they run.
pub const ALL_CHECKS: &[&str] = &[
    OBJECT_LISTED,
    SEED,
    PAGING_TO_END,
    CURSOR_RESUME,
    UPSERT_IDEMPOTENT,
    UNKNOWN_FIELD,
    AUTH_EXPIRED,
    PRIVATE_RECORDS,
];

/// The field written by the `unknown_field` check; no real object has it.
pub const UNKNOWN_FIELD_ID: &str = "renkei_conformance_no_such_field";

type SampleFn<'a> = Box<dyn FnMut(u64) -> Fields + 'a>;
type ExpireFn<'a> = Box<dyn FnMut(&mut Connection) + 'a>;
type MarkPrivateFn<'a> = Box<dyn FnMut(&Connection, &[String]) -> Result<(), String> + 'a>;

/// One run of the kit against one object of one connection.
pub struct Suite<'a> {
    pub(crate) connector: &'a dyn Connector,
    pub(crate) connection: Connection,
    pub(crate) object: String,
    pub(crate) sample: SampleFn<'a>,
    pub(crate) match_field: Option<String>,
    pub(crate) page_size: Option<u32>,
    pub(crate) expire_token: Option<ExpireFn<'a>>,
    pub(crate) mark_private: Option<MarkPrivateFn<'a>>,
}

impl<'a> Suite<'a> {
    /// `sample(n)` returns the fields of a new valid record. Each `n` is distinct within a run
    /// and, being derived from the clock, practically across runs; the record's match-key
    /// value must follow `n` so that different `n` make different records.
    pub fn new(
        connector: &'a dyn Connector,
        connection: Connection,
        object: impl Into<String>,
        sample: impl FnMut(u64) -> Fields + 'a,
    ) -> Self {
        Suite {
            connector,
            connection,
            object: object.into(),
            sample: Box::new(sample),
            match_field: None,
            page_size: None,
            expire_token: None,
            mark_private: None,
        }
    }

    /// The unique field upserts match on (default: the object's first `unique` field).
    pub fn match_field(mut self, field: impl Into<String>) -> Self {
        self.match_field = Some(field.into());
        self
    }

    /// The page size the kit reads with (default: the manifest's, at most 5, so that a few
    /// seeded records already make several pages).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size.max(1));
        self
    }

    /// Makes the connection's access token expired: change the connection (e.g. put in a
    /// token the emulator has expired) or tell the emulator to expire it.
    pub fn expire_token(mut self, hook: impl FnMut(&mut Connection) + 'a) -> Self {
        self.expire_token = Some(Box::new(hook));
        self
    }

    /// Makes the records with these ids private in the external system (e.g. sets the Notes
    /// reader field), so the kit can check they come back flagged.
    pub fn mark_private(
        mut self,
        hook: impl FnMut(&Connection, &[String]) -> Result<(), String> + 'a,
    ) -> Self {
        self.mark_private = Some(Box::new(hook));
        self
    }

    /// Runs every check; a failing check never stops the others (except where they need what
    /// it failed to make, and then they are reported skipped with the reason).
    pub fn run(self) -> Report {
        checks::run(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub name: &'static str,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub connector: String,
    pub object: String,
    pub checks: Vec<CheckResult>,
}

impl Report {
    /// No check failed (skipped ones are fine).
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
    }

    pub fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.outcome)
    }

    pub(crate) fn push(&mut self, name: &'static str, outcome: Outcome) {
        self.checks.push(CheckResult { name, outcome });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "conformance of connector {} on object {}:",
            self.connector, self.object
        )?;
        for c in &self.checks {
            match &c.outcome {
                Outcome::Passed => writeln!(f, "  PASS {}", c.name)?,
                Outcome::Failed(why) => writeln!(f, "  FAIL {}: {why}", c.name)?,
                Outcome::Skipped(why) => writeln!(f, "  SKIP {}: {why}", c.name)?,
            }
        }
        Ok(())
    }
}

/// Runs the suite and panics with the report if any check failed; returns the report so a
/// test can also insist that an optional check ran.
pub fn assert_conformance(suite: Suite<'_>) -> Report {
    let report = suite.run();
    if !report.passed() {
        let failed: Vec<&str> = report.failures().map(|c| c.name).collect();
        panic!(
            "connector {} fails conformance checks {failed:?}\n{report}",
            report.connector
        );
    }
    report
}
