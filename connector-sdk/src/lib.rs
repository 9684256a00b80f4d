//! Renkei Hub connector SDK: the trait a connector implements, the types it speaks, and the
//! C-ABI boundary between a connector plugin and the hub. See README.md, "Write a connector".
//!
//! This crate's public API carries no tokio, sqlx or axum types.

pub mod abi;
mod connector;
pub mod error;
pub mod manifest;
pub mod protocol;
pub mod record;
pub mod schema;
pub mod secret;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "host")]
pub mod host;

pub use connector::{Connection, Connector};
pub use error::{ConnectorError, ErrorKind};
pub use manifest::{
    ActionSpec, AuthSpec, DailyQuota, Limits, Manifest, SandboxPreset, SelectOption, SettingField,
    SettingKind, Text,
};
pub use record::{
    CheckResult, Fields, MatchKey, ReadPage, ReadRequest, Record, RecordIssue, RecordWarning,
    WriteAction, WriteOp, WriteOutcome, WriteRequest, WriteResult,
};
pub use schema::{Capabilities, FieldSchema, FieldType, LookupRef, ObjectSchema};
pub use secret::Secret;
