//! `read`: the rows of the watched folder's files, one file at a time, page by page.
//!
//! The cursor names the file (content hash) and the rows handed over. After a file's last
//! page the answer still says `has_more`, so the hub commits that page and asks again; that
//! call records the import (処理済 / エラー), moves the file to `backup/<date>/` and goes on
//! with the next file. The hub may batch several pages before it commits, so a cursor can
//! name a file that was finished meanwhile: it is then re-read from its backup, from the
//! committed row on, and nothing is lost.

use connector_sdk::{ReadPage, ReadRequest, Record};
use std::time::Duration;

use crate::error::CsvResult;
use crate::format::format_of;
use crate::history::History;
use crate::import::{Current, Importer};
use crate::inbox::ObjectDir;
use crate::rows::{self, Row};

/// Rows per page when the hub does not say (the hub sends the manifest's page size).
pub const DEFAULT_PAGE: u32 = 500;
pub const MAX_PAGE: u32 = 5_000;
const IDLE: &str = "v1:idle";

#[derive(Debug, Clone)]
pub struct Options {
    /// How long a file's size must stay the same before it is taken.
    pub settle: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            settle: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Cursor {
    Idle,
    At { hash: String, row: usize },
}

fn parse_cursor(c: Option<&str>) -> Cursor {
    let Some(rest) = c.and_then(|c| c.strip_prefix("v1:")) else {
        return Cursor::Idle;
    };
    match rest.split_once(':') {
        Some((hash, row)) if hash.len() == 64 => match row.parse() {
            Ok(row) => Cursor::At {
                hash: hash.to_string(),
                row,
            },
            Err(_) => Cursor::Idle,
        },
        _ => Cursor::Idle,
    }
}

fn at(hash: &str, row: usize) -> String {
    format!("v1:{hash}:{row}")
}

pub fn read(
    root: &std::path::Path,
    conn: &connector_sdk::Connection,
    req: &ReadRequest,
    opts: &Options,
) -> CsvResult<ReadPage> {
    let format = format_of(conn, &req.object)?;
    let dir = ObjectDir::new(root, &req.object);
    dir.ensure()?;
    let history = History::new(root);
    let imp = Importer {
        dir: &dir,
        history: &history,
        object: &req.object,
    };
    let page_size = req.page_size.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize;
    let mut issues = Vec::new();
    let mut warnings = Vec::new();
    let mut cursor = parse_cursor(req.cursor.as_deref());
    // Each turn hands over a page, or finishes a file (a bounded number of times).
    loop {
        let located = match std::mem::replace(&mut cursor, Cursor::Idle) {
            Cursor::At { hash, row } => imp.locate(&hash, row)?,
            Cursor::Idle => None,
        };
        let current = match located {
            Some(c) => c,
            None => match next_file(&imp, &dir, opts)? {
                Some(c) => c,
                None => {
                    return Ok(ReadPage {
                        records: Vec::new(),
                        next_cursor: Some(IDLE.to_string()),
                        has_more: false,
                        issues,
                        ..Default::default()
                    })
                }
            },
        };
        let parsed = match rows::parse_file(&current.bytes, &format) {
            Ok(p) => p,
            Err(e) => {
                if current.entry.is_some() {
                    issues.push(connector_sdk::RecordIssue {
                        record: current.name.clone(),
                        code: e.code.to_string(),
                        message: e.message(),
                    });
                    imp.finish_failed(&current, &e)?;
                }
                continue;
            }
        };
        if current.row < parsed.len() {
            let end = (current.row + page_size).min(parsed.len());
            let mut records = Vec::with_capacity(end - current.row);
            for i in current.row..end {
                match parsed.row(i) {
                    Row::Ok(r, gaiji) => {
                        let name = &current.name;
                        warnings.extend(gaiji.iter().map(|g| g.warning(name, &r.id)));
                        records.push(select(r, req.fields.as_deref()));
                    }
                    Row::Bad(e) => issues.push(e.issue(&current.name)),
                }
            }
            return Ok(ReadPage {
                records,
                next_cursor: Some(at(&current.hash, end)),
                has_more: true,
                issues,
                warnings,
                ..Default::default()
            });
        }
        imp.finish_parsed(&current, &parsed)?;
    }
}

/// The file to read next: one left in `.processing/` (a crash, or a cursor not committed),
/// else the first waiting file whose size has settled.
fn next_file(imp: &Importer<'_>, dir: &ObjectDir, opts: &Options) -> CsvResult<Option<Current>> {
    loop {
        if let Some(p) = dir.in_process()? {
            match imp.open_processing(&p)? {
                Some(c) => return Ok(Some(c)),
                None => continue, // a duplicate or a finished import, now in backup
            }
        }
        let Some(w) = dir.next_stable(opts.settle)? else {
            return Ok(None);
        };
        if dir.take(&w)?.is_none() {
            return Ok(None); // still held by its writer: next time
        }
    }
}

fn select(mut r: Record, fields: Option<&[String]>) -> Record {
    if let Some(wanted) = fields {
        r.fields.retain(|k, _| wanted.iter().any(|w| w == k));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_unknown_ones_start_over() {
        let h = "a".repeat(64);
        assert_eq!(
            parse_cursor(Some(&at(&h, 300))),
            Cursor::At { hash: h, row: 300 }
        );
        assert_eq!(parse_cursor(Some(IDLE)), Cursor::Idle);
        assert_eq!(parse_cursor(Some("2024-01-01T00:00:00Z")), Cursor::Idle);
        assert_eq!(parse_cursor(None), Cursor::Idle);
    }
}
