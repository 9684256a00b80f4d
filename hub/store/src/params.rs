//! Placeholders for statements with many parameters (multi-row `VALUES`, long `IN` lists).
//!
//! The store's SQL uses `$N`, which both engines accept. On SQLite `$N` is a *named* parameter:
//! SQLite looks each one up by a linear scan while it parses the statement, and sqlx-sqlite asks
//! SQLite the name of every slot when it binds (another linear scan each), so a statement with
//! thousands of them costs quadratic time: inserting 500 runs of 6 values took ~40 ms, most of
//! the scheduler's fire lag with 10,000 flows. Anonymous `?` costs neither, so on SQLite these
//! statements use it, and their values are bound in the order the placeholders appear.

use sqlx::{AnyConnection, Database, Sqlite};

/// Hands out the placeholders of one statement, in bind order.
pub(crate) struct Params {
    sqlite: bool,
    n: usize,
}

impl Params {
    /// Placeholders for a statement run on `conn`.
    pub(crate) fn new(conn: &AnyConnection) -> Self {
        Params {
            sqlite: conn.backend_name() == <Sqlite as Database>::NAME,
            n: 0,
        }
    }

    /// The next placeholder: `?` on SQLite, `$N` on PostgreSQL.
    pub(crate) fn next(&mut self) -> String {
        self.n += 1;
        if self.sqlite {
            "?".to_string()
        } else {
            format!("${}", self.n)
        }
    }

    /// `p, p, …`: `n` placeholders.
    pub(crate) fn list(&mut self, n: usize) -> String {
        let cells: Vec<String> = (0..n).map(|_| self.next()).collect();
        cells.join(", ")
    }

    /// `(p, …), (p, …), …`: `n` rows of `width` placeholders, for a multi-row `VALUES`.
    pub(crate) fn rows(&mut self, n: usize, width: usize) -> String {
        let rows: Vec<String> = (0..n).map(|_| self.row(width)).collect();
        rows.join(", ")
    }

    /// `(p, p, …)`: one row of `width` placeholders.
    pub(crate) fn row(&mut self, width: usize) -> String {
        let cells: Vec<String> = (0..width).map(|_| self.next()).collect();
        format!("({})", cells.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn numbered_on_postgres_anonymous_on_sqlite() {
        let mut pg = Params {
            sqlite: false,
            n: 0,
        };
        assert_eq!([pg.row(2), pg.row(2)].join(", "), "($1, $2), ($3, $4)");
        let mut lite = Params { sqlite: true, n: 0 };
        assert_eq!([lite.row(2), lite.next()].join(", "), "(?, ?), ?");
    }
}
