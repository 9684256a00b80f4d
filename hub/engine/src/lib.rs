//! Renkei Hub's sync engine, free of the hub: two-way ([`run`]) and one-way ([`oneway`]) runs
//! over record sides and a run ledger, all traits ([`RecordSide`], [`Ledger`]). The decisions
//! are plain code ([`plan`], [`oneway::plan`]: records and links in, writes and links out); the
//! runs do the I/O around them. The hub adapts its plugin clients and store (and hooks its
//! own enrichment of one-way pages, [`oneway::Hooks`]); the tests adapt in-memory maps.
//!
//! Invariants kept here, once for every connector:
//! - a record is the hub's own write only when its content matches what the hub wrote;
//! - links and cursors move only after the writes they describe were acknowledged, and the
//!   cursors only when no record failed for a reason that may pass;
//! - the two sides are handled by the same code (generic over the side), never mirrored.

pub mod content;
pub mod error;
pub mod model;
pub mod oneway;
pub mod plan;
pub mod resolve;
pub mod run;
pub mod traits;

pub use error::EngineError;
pub use model::{Ambiguity, Config, Counts, Failure, Link, Policy, Report, SideId};
pub use traits::{BatchOutcomes, Commit, Ledger, Match, RecordSide, Shape, Written};
