//! The first listing of a whole app, read by record number from the top down so that its
//! pages can be read at once. The first page asks for the top page of records by number and
//! how many there are; below it, the numbers are cut in windows one page wide. A window of
//! `size` numbers holds at most `size` records, so one call reads it whole whatever is updated
//! meanwhile, and the cursor after each window is known before it is read: the page foretells
//! them ([`connector_sdk::ReadPage::ahead`]) and the hub reads several at once. The windows
//! stop where the count says the records should end; below that (numbers left sparse by
//! deletions), a seek by number finds the rest, one page after another.
//!
//! A record updated after the listing began (`更新日時` at or after the listing's `cut`) is
//! held back: the listing that follows, from the watermark `cut`, delivers it once, with
//! whatever else changed meanwhile.

use serde::{Deserialize, Serialize};

/// Cursors of later pages one page foretells at most (the hub reads no more of them at once
/// than the manifest's `max_concurrency`).
pub const FORETOLD: usize = 16;

/// Where a walk is: the page after it reads the records numbered at or below `below`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Walk {
    /// Every record numbered above this (up to the top when the listing began) was read.
    pub below: u64,
    /// Windows reach down to here; below it, the walk seeks.
    pub floor: u64,
    /// A record updated after the listing began was held back for the listing after it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
}

/// The query of the first page: the top `size` records by number.
pub fn first_query(size: usize) -> String {
    format!("order by $id desc limit {size}")
}

impl Walk {
    /// The walk after its first page: `got` records (of `total` in the app, when kintone
    /// told) down to number `lowest`. `None`: that page held them all. Without a count there
    /// are no windows: the walk seeks.
    pub fn begin(got: usize, lowest: u64, total: Option<u64>, size: usize) -> Option<Walk> {
        let left = total.map(|t| t.saturating_sub(got as u64));
        if got < size || left == Some(0) || lowest <= 1 {
            return None;
        }
        let below = lowest - 1;
        let windows = left.map_or(0, |l| l.div_ceil(size as u64));
        Some(Walk {
            below,
            floor: below.saturating_sub(windows.saturating_mul(size as u64)),
            held: false,
        })
    }

    /// Whether the next page is a window (its successor known before it is read).
    fn windowed(&self) -> bool {
        self.below > self.floor
    }

    /// The kintone query of the next page.
    pub fn query(&self, size: usize) -> String {
        if self.windowed() {
            let above = self.below.saturating_sub(size as u64).max(self.floor);
            format!(
                "$id > {above} and $id <= {} order by $id desc limit {size}",
                self.below
            )
        } else {
            format!("$id <= {} order by $id desc limit {size}", self.below)
        }
    }

    /// The walk after its next page, which answered `got` records down to number `lowest`;
    /// `None`: the walk is done.
    pub fn next(&self, size: usize, got: usize, lowest: Option<u64>) -> Option<Walk> {
        let below = if self.windowed() {
            self.below.saturating_sub(size as u64).max(self.floor)
        } else if got < size {
            0
        } else {
            lowest.map_or(0, |l| l.saturating_sub(1))
        };
        let floor = if self.windowed() { self.floor } else { below };
        (below > 0).then_some(Walk {
            below,
            floor,
            held: self.held,
        })
    }

    /// This walk and the ones after it, as long as each follows from windows alone (at most
    /// [`FORETOLD`]).
    pub fn foretold(self, size: usize) -> Vec<Walk> {
        let mut out = vec![self];
        let mut at = self;
        while out.len() < FORETOLD && at.windowed() {
            match at.next(size, size, None) {
                Some(w) => {
                    out.push(w);
                    at = w;
                }
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_numbers_the_count_asks_for_then_seek() {
        // 1,200 records numbered 1..=1200: the top 500, then two windows.
        let w = Walk::begin(500, 701, Some(1200), 500).unwrap();
        assert_eq!((w.below, w.floor), (700, 0));
        assert_eq!(
            w.query(500),
            "$id > 200 and $id <= 700 order by $id desc limit 500"
        );
        let w2 = w.next(500, 500, Some(201)).unwrap();
        assert_eq!(
            w2.query(500),
            "$id > 0 and $id <= 200 order by $id desc limit 500"
        );
        assert_eq!(
            w2.next(500, 200, Some(1)),
            None,
            "the windows reach 0: done"
        );
        assert_eq!(w.foretold(500), vec![w, w2]);

        // Numbers left sparse: the windows stop where the count says, a seek goes on.
        let w = Walk::begin(10, 991, Some(25), 10).unwrap();
        assert_eq!((w.below, w.floor), (990, 970));
        let w = w.next(10, 3, Some(985)).unwrap();
        let w = w.next(10, 2, Some(975)).unwrap();
        assert_eq!((w.below, w.floor), (970, 970));
        assert_eq!(w.query(10), "$id <= 970 order by $id desc limit 10");
        assert_eq!(w.foretold(10), vec![w], "a seek's successor is not known");
        let w = w.next(10, 10, Some(500)).unwrap();
        assert_eq!((w.below, w.floor), (499, 499));
        assert_eq!(w.next(10, 0, None), None);
    }

    #[test]
    fn a_first_page_that_holds_everything_ends_the_walk() {
        assert_eq!(Walk::begin(30, 1, Some(30), 500), None);
        assert_eq!(Walk::begin(500, 1, Some(500), 500), None);
        assert_eq!(
            Walk::begin(500, 2001, Some(500), 500),
            None,
            "the count says no more"
        );
    }

    #[test]
    fn without_a_count_the_walk_seeks() {
        let w = Walk::begin(500, 2001, None, 500).unwrap();
        assert_eq!((w.below, w.floor), (2000, 2000));
        assert_eq!(w.query(500), "$id <= 2000 order by $id desc limit 500");
        assert_eq!(w.foretold(500), vec![w]);
    }

    #[test]
    fn foretelling_stops_at_its_cap() {
        let w = Walk::begin(500, 99_501, Some(100_000), 500).unwrap();
        let ahead = w.foretold(500);
        assert_eq!(ahead.len(), FORETOLD);
        assert!(ahead
            .windows(2)
            .all(|p| p[0].next(500, 500, None) == Some(p[1])));
    }
}
