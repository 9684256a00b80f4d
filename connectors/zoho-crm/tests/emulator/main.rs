//! The connector against the sandbox's Zoho emulator, in-process: each test starts its own
//! emulator (two orgs, seeded), so tests are independent and run in parallel.

mod auth;
mod common;
mod conformance;
mod read;
mod schema;
mod write;
