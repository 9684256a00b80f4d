//! The query language (reference §6), parsed into a tree: conditions with `and` / `or` and
//! parentheses, then `order by`, `limit` and `offset` in that order.

use super::error::{KError, KResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    /// An unquoted word: a number such as `100` or `-5`.
    Bare(String),
    /// `TODAY()`, `FROM_TODAY(-7, DAYS)`: upper-cased name and raw arguments.
    Func(String, Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp {
        field: String,
        op: Op,
        value: Lit,
    },
    In {
        field: String,
        negate: bool,
        values: Vec<Lit>,
    },
    Like {
        field: String,
        negate: bool,
        value: String,
    },
    Empty {
        field: String,
        negate: bool,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub filter: Option<Expr>,
    /// (field, descending)
    pub order: Vec<(String, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Op(Op),
    Str(String),
    Word(String),
}

fn tokenize(q: &str) -> KResult<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::LParen);
            }
            ')' => {
                chars.next();
                out.push(Tok::RParen);
            }
            ',' => {
                chars.next();
                out.push(Tok::Comma);
            }
            '=' => {
                chars.next();
                out.push(Tok::Op(Op::Eq));
            }
            '!' => {
                chars.next();
                if chars.next_if_eq(&'=').is_none() {
                    return Err(KError::query("クエリ記法が間違っています（!）。"));
                }
                out.push(Tok::Op(Op::Ne));
            }
            '<' | '>' => {
                chars.next();
                let eq = chars.next_if_eq(&'=').is_some();
                out.push(Tok::Op(match (c, eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    (_, false) => Op::Gt,
                    (_, true) => Op::Ge,
                }));
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                let mut closed = false;
                while let Some(ch) = chars.next() {
                    match ch {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                s.push(n);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        _ => s.push(ch),
                    }
                }
                if !closed {
                    return Err(KError::query(
                        "クエリ記法が間違っています（閉じられていない\"）。",
                    ));
                }
                out.push(Tok::Str(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || "()=!<>,\"".contains(ch) {
                        break;
                    }
                    w.push(ch);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

fn syntax(near: &str) -> KError {
    KError::query(format!("クエリ記法が間違っています（{near} 付近）。"))
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_kw(&mut self, kw: &str) -> KResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(syntax(&self.near()))
        }
    }

    fn near(&self) -> String {
        match self.peek() {
            None => "末尾".into(),
            Some(Tok::Word(w)) => w.clone(),
            Some(Tok::Str(s)) => format!("\"{s}\""),
            Some(t) => format!("{t:?}"),
        }
    }

    fn at_options(&self) -> bool {
        self.peek().is_none() || self.is_kw("order") || self.is_kw("limit") || self.is_kw("offset")
    }

    fn or_expr(&mut self) -> KResult<Expr> {
        let mut items = vec![self.and_expr()?];
        while self.eat_kw("or") {
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> KResult<Expr> {
        let mut items = vec![self.primary()?];
        while self.eat_kw("and") {
            items.push(self.primary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn primary(&mut self) -> KResult<Expr> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or_expr()?;
            if self.next() != Some(Tok::RParen) {
                return Err(KError::query(
                    "クエリ記法が間違っています（括弧が閉じられていません）。",
                ));
            }
            return Ok(e);
        }
        let field = match self.next() {
            Some(Tok::Word(w)) if !is_keyword(&w) => w,
            _ => {
                self.pos = self.pos.saturating_sub(1);
                return Err(syntax(&self.near()));
            }
        };
        match self.next() {
            Some(Tok::Op(op)) => {
                let value = self.literal()?;
                Ok(Expr::Cmp { field, op, value })
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => self.in_list(field, false),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("like") => self.like(field, false),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") => {
                if self.eat_kw("in") {
                    self.in_list(field, true)
                } else if self.eat_kw("like") {
                    self.like(field, true)
                } else {
                    Err(syntax(&self.near()))
                }
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("is") => {
                let negate = self.eat_kw("not");
                self.expect_kw("empty")?;
                Ok(Expr::Empty { field, negate })
            }
            _ => {
                self.pos = self.pos.saturating_sub(1);
                Err(syntax(&self.near()))
            }
        }
    }

    fn in_list(&mut self, field: String, negate: bool) -> KResult<Expr> {
        if self.next() != Some(Tok::LParen) {
            return Err(KError::query("in の後には ( が必要です。"));
        }
        let mut values = Vec::new();
        loop {
            values.push(self.literal()?);
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::RParen) => break,
                _ => {
                    return Err(KError::query(
                        "クエリ記法が間違っています（in の値の並び）。",
                    ))
                }
            }
        }
        Ok(Expr::In {
            field,
            negate,
            values,
        })
    }

    fn like(&mut self, field: String, negate: bool) -> KResult<Expr> {
        match self.next() {
            Some(Tok::Str(value)) => Ok(Expr::Like {
                field,
                negate,
                value,
            }),
            _ => Err(KError::query("like の値は \" で囲んでください。")),
        }
    }

    fn literal(&mut self) -> KResult<Lit> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Lit::Str(s)),
            Some(Tok::Word(w)) if !is_keyword(&w) => {
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    let mut args = Vec::new();
                    loop {
                        match self.next() {
                            Some(Tok::RParen) => break,
                            Some(Tok::Comma) => continue,
                            Some(Tok::Word(a)) | Some(Tok::Str(a)) => args.push(a),
                            _ => return Err(KError::query("関数の引数が正しくありません。")),
                        }
                    }
                    Ok(Lit::Func(w.to_ascii_uppercase(), args))
                } else {
                    Ok(Lit::Bare(w))
                }
            }
            _ => {
                self.pos = self.pos.saturating_sub(1);
                Err(syntax(&self.near()))
            }
        }
    }

    fn number(&mut self, what: &str) -> KResult<u64> {
        match self.next() {
            Some(Tok::Word(w)) => w
                .parse()
                .map_err(|_| KError::query(format!("{what} には0以上の整数を指定してください。"))),
            _ => Err(KError::query(format!(
                "{what} には0以上の整数を指定してください。"
            ))),
        }
    }
}

fn is_keyword(w: &str) -> bool {
    [
        "and", "or", "in", "not", "like", "is", "order", "limit", "offset",
    ]
    .iter()
    .any(|k| w.eq_ignore_ascii_case(k))
}

pub fn parse(q: &str) -> KResult<Query> {
    let mut p = Parser {
        toks: tokenize(q)?,
        pos: 0,
    };
    let mut query = Query::default();
    if !p.at_options() {
        query.filter = Some(p.or_expr()?);
    }
    if p.eat_kw("order") {
        p.expect_kw("by")?;
        loop {
            let field = match p.next() {
                Some(Tok::Word(w)) if !is_keyword(&w) => w,
                _ => {
                    return Err(KError::query(
                        "order by の後にはフィールドコードが必要です。",
                    ))
                }
            };
            let desc = if p.eat_kw("desc") {
                true
            } else if p.eat_kw("asc") {
                false
            } else {
                super::assumed::DEFAULT_ORDER_DESC
            };
            query.order.push((field, desc));
            if p.peek() == Some(&Tok::Comma) {
                p.pos += 1;
            } else {
                break;
            }
        }
    }
    if p.eat_kw("limit") {
        query.limit = Some(p.number("limit")?);
    }
    if p.eat_kw("offset") {
        query.offset = Some(p.number("offset")?);
    }
    if p.peek().is_some() {
        return Err(syntax(&p.near()));
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_in_order() {
        let q = parse(r#"会社名 like "商事" and (売上高 >= 1000 or 都道府県 in ("東京都", "大阪府")) order by 売上高 desc, $id asc limit 10 offset 20"#).unwrap();
        assert_eq!(
            q.order,
            vec![("売上高".into(), true), ("$id".into(), false)]
        );
        assert_eq!((q.limit, q.offset), (Some(10), Some(20)));
        let Some(Expr::And(items)) = q.filter else {
            panic!("and expected")
        };
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[1], Expr::Or(v) if v.len() == 2));
    }

    #[test]
    fn options_out_of_order_are_refused() {
        assert!(parse("offset 10 limit 5").is_err());
        assert!(parse("limit 5 order by $id asc").is_err());
        assert!(parse("$id > 1 limit").is_err());
    }

    #[test]
    fn escapes_functions_and_empties() {
        let q =
            parse(r#"備考 not like "a\"b" or 活動日 = FROM_TODAY(-7, DAYS) or 住所 is not empty"#)
                .unwrap();
        let Some(Expr::Or(items)) = q.filter else {
            panic!("or expected")
        };
        assert_eq!(
            items[0],
            Expr::Like {
                field: "備考".into(),
                negate: true,
                value: "a\"b".into()
            }
        );
        assert!(
            matches!(&items[1], Expr::Cmp { value: Lit::Func(n, a), .. } if n == "FROM_TODAY" && a.len() == 2)
        );
        assert!(matches!(&items[2], Expr::Empty { negate: true, .. }));
    }

    #[test]
    fn broken_queries_are_refused() {
        for q in [
            "会社名 = ",
            "(会社名 = \"a\"",
            "会社名 ~ \"a\"",
            "会社名 = \"a",
            "and",
        ] {
            assert!(parse(q).is_err(), "{q}");
        }
    }
}
