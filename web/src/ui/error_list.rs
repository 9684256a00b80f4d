//! A run's refused records as its page lists them: in record order (numeric ids by number, as
//! kintone and 奉行 number them) and a page at a time, so a run with thousands of refusals
//! stays readable.

use hub_domain::RunError;
use std::cmp::Ordering;

pub const PER_PAGE: usize = 50;

/// Numeric ids by their number, before other ids in text order; then the side.
pub fn sort(errors: &mut [RunError]) {
    errors.sort_by(|a, b| {
        let n = |e: &RunError| e.record.trim().parse::<u64>().ok();
        match (n(a), n(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.record.cmp(&b.record),
        }
        .then_with(|| a.side.cmp(&b.side))
    });
}

/// Which slice of `total` items page `page` (1-based, clamped) shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub page: usize,
    pub pages: usize,
    /// 1-based, inclusive; 0 and 0 when there is nothing.
    pub from: usize,
    pub to: usize,
    pub total: usize,
}

impl Window {
    pub fn of(total: usize, page: Option<&str>) -> Window {
        let pages = total.div_ceil(PER_PAGE).max(1);
        let page = page
            .and_then(|p| p.trim().parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, pages);
        let start = (page - 1) * PER_PAGE;
        let to = (start + PER_PAGE).min(total);
        Window {
            page,
            pages,
            from: if total == 0 { 0 } else { start + 1 },
            to,
            total,
        }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.from.saturating_sub(1)..self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(record: &str) -> RunError {
        RunError {
            record: record.into(),
            side: "target".into(),
            code: "x".into(),
            message: String::new(),
            ..Default::default()
        }
    }

    #[test]
    fn ids_sort_by_number_then_text() {
        let mut v = vec![e("28"), e("10"), e("C-2"), e("9"), e("A-1"), e("100")];
        sort(&mut v);
        let ids: Vec<&str> = v.iter().map(|e| e.record.as_str()).collect();
        assert_eq!(ids, ["9", "10", "28", "100", "A-1", "C-2"]);
    }

    #[test]
    fn pages_of_fifty_clamped_to_what_exists() {
        let w = Window::of(120, Some("2"));
        assert_eq!((w.page, w.pages, w.from, w.to), (2, 3, 51, 100));
        assert_eq!(Window::of(120, Some("9")).from, 101);
        assert_eq!(Window::of(120, Some("x")).page, 1);
        let none = Window::of(0, None);
        assert_eq!((none.pages, none.from, none.to), (1, 0, 0));
        assert!(none.range().is_empty());
    }
}
