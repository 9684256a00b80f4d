//! The words of a two-way run: the two sides, the link between two records, the conflict
//! policy, and what a run counts and reports record by record.

use connector_sdk::{ConnectorError, Fields, RecordIssue, WriteResult};
use std::fmt;

/// One side of a flow: `A` is the flow's source, `B` its target. The engine's shared field
/// space is B's: A's records are seen through the flow's mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SideId {
    A,
    B,
}

impl SideId {
    pub fn other(self) -> SideId {
        match self {
            SideId::A => SideId::B,
            SideId::B => SideId::A,
        }
    }

    /// The side's name in the run's records: `source` or `target`.
    pub fn name(self) -> &'static str {
        match self {
            SideId::A => "source",
            SideId::B => "target",
        }
    }

    pub fn ix(self) -> usize {
        match self {
            SideId::A => 0,
            SideId::B => 1,
        }
    }
}

impl fmt::Display for SideId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Two records known to be one, and what the hub last left on each side.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Link {
    /// Indexed by [`SideId`]: `[A's id, B's id]`.
    pub ids: [String; 2],
    /// The fingerprint of each side's content (shared space) as the hub last synced or wrote
    /// it: a record showing this print is not a change, whatever its version says.
    pub fingerprints: [Option<String>; 2],
    pub versions: [Option<String>; 2],
    /// The agreed content last synced (shared space): the base of a field-by-field merge.
    pub synced: Option<Fields>,
}

impl Link {
    pub fn id(&self, side: SideId) -> &str {
        &self.ids[side.ix()]
    }

    pub fn fingerprint(&self, side: SideId) -> Option<&str> {
        self.fingerprints[side.ix()].as_deref()
    }

    pub fn version(&self, side: SideId) -> Option<&String> {
        self.versions[side.ix()].as_ref()
    }
}

/// Who wins when a record changed on both sides since the last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    SourceWins,
    TargetWins,
    /// The record modified last (`modified_at`; a tie goes to the source).
    NewestWins,
    /// Field by field against the last synced copy: a field changed on one side takes that
    /// side's value; changed on both, the newer record's.
    FieldMerge,
}

/// The flow's two-way options the engine obeys.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub policy: Policy,
    /// A tombstone of a linked record deletes its partner.
    pub propagate_deletes: bool,
    /// A record with no partner is created on the other side (else skipped).
    pub create_missing: bool,
    /// Private records never leave their system.
    pub skip_private: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub read: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub failed: i64,
}

/// Why an unlinked record was not paired: its key found a partner another record took, or
/// several partners.
#[derive(Debug, Clone, PartialEq)]
pub enum Ambiguity {
    Taken(String),
    Several(Vec<String>),
    /// One-way: the target record `target` is already the partner of source record `other`.
    SharedTarget {
        target: String,
        other: String,
    },
    /// One-way: source record `other` already creates the target record of the same key.
    SameKey {
        other: String,
    },
}

/// One record the run could not sync. The run goes on; the hub renders it for the history.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// A row the side could not turn into a record.
    Unreadable { side: SideId, issue: RecordIssue },
    /// `label` (a record of side `from`) matches no single record of the other side.
    Ambiguous {
        label: String,
        from: SideId,
        found: Ambiguity,
    },
    /// The side refused the write of one record: its answer (`error: None` is a version
    /// conflict, the record changed since it was read).
    Refused {
        label: String,
        side: SideId,
        result: WriteResult,
    },
    /// The delete of a linked record (`label`: its source id) was not acknowledged.
    NotDeleted { label: String, side: SideId },
    /// The side answered a batch without a result for this record's op.
    NoResult { label: String, side: SideId },
    /// The caller's preparation of the record refused it (a one-way page hook: a reference
    /// no link resolves, a user without a pair): never written, never retried by itself.
    Prepared {
        label: String,
        side: SideId,
        code: String,
        message: String,
    },
}

impl Failure {
    /// The record the failure names (none for a row that could not be read).
    pub fn label(&self) -> Option<&str> {
        match self {
            Failure::Unreadable { .. } => None,
            Failure::Ambiguous { label, .. }
            | Failure::Refused { label, .. }
            | Failure::NotDeleted { label, .. }
            | Failure::NoResult { label, .. }
            | Failure::Prepared { label, .. } => Some(label),
        }
    }

    /// Reading the record again later may sync it (then the run keeps its cursors).
    pub fn may_pass(&self) -> bool {
        match self {
            Failure::Refused { result, .. } => result
                .error
                .as_ref()
                .is_none_or(ConnectorError::is_retryable),
            _ => false,
        }
    }
}

/// What a run did: counts and the records it could not sync.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub counts: Counts,
    pub failures: Vec<Failure>,
}

impl Report {
    pub(crate) fn fail(&mut self, f: Failure) {
        self.counts.failed += 1;
        self.failures.push(f);
    }
}
