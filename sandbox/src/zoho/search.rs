//! `GET /{module}/search` (reference §5): exactly one of `criteria`, `email`, `phone` or `word`;
//! criteria like `((Email:equals:a@b.c)and(Last_Name:starts_with:山))` with `\` escapes.
//! Also `GET /{module}/actions/count`, which takes the same filters optionally.

use super::assumed;
use super::caller::{Caller, Op};
use super::errors::{empty, json_response, ZohoError};
use super::model::{fmt_time, parse_time, ModuleData, OrgData, Record};
use super::read::{module_arg, page, per_page};
use super::schema::{Field, Kind, CREATED_TIME, MODIFIED_TIME};
use super::values::{display_name, render, requested_fields};
use super::Shared;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;

pub const MAX_CRITERIA: usize = 10;

#[derive(Debug)]
pub enum Node {
    Cond {
        field: &'static Field,
        op: String,
        value: String,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
}

fn bad(reason: impl Into<String>) -> ZohoError {
    ZohoError::new(
        StatusCode::BAD_REQUEST,
        assumed::BAD_CRITERIA_CODE,
        "invalid query formed",
    )
    .details(json!({"reason": reason.into()}))
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    module: &'a ModuleData,
    conds: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> Result<(), ZohoError> {
        self.skip_ws();
        if self.chars.get(self.pos) == Some(&c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(bad(format!("expected `{c}` at {}", self.pos)))
        }
    }

    fn keyword(&mut self) -> Option<&'static str> {
        self.skip_ws();
        for kw in ["and", "or"] {
            let end = self.pos + kw.len();
            if end <= self.chars.len() {
                let s: String = self.chars[self.pos..end].iter().collect();
                if s.eq_ignore_ascii_case(kw) {
                    self.pos = end;
                    return Some(kw);
                }
            }
        }
        None
    }

    fn expr(&mut self) -> Result<Node, ZohoError> {
        let mut node = self.group()?;
        while let Some(kw) = self.keyword() {
            let rhs = self.group()?;
            node = if kw == "and" {
                Node::And(Box::new(node), Box::new(rhs))
            } else {
                Node::Or(Box::new(node), Box::new(rhs))
            };
        }
        Ok(node)
    }

    fn group(&mut self) -> Result<Node, ZohoError> {
        self.eat('(')?;
        self.skip_ws();
        let node = if self.chars.get(self.pos) == Some(&'(') {
            self.expr()?
        } else {
            self.cond()?
        };
        self.eat(')')?;
        Ok(node)
    }

    /// `Field:op:value` up to the first unescaped `)`.
    fn cond(&mut self) -> Result<Node, ZohoError> {
        let mut text = String::new();
        while let Some(&c) = self.chars.get(self.pos) {
            match c {
                '\\' => {
                    if let Some(&n) = self.chars.get(self.pos + 1) {
                        text.push(n);
                        self.pos += 2;
                        continue;
                    }
                    self.pos += 1;
                }
                ')' => break,
                _ => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        let mut parts = text.splitn(3, ':');
        let (Some(name), Some(op), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(format!("`{text}` is not field:comparator:value")));
        };
        let op = op.trim().to_ascii_lowercase();
        if !assumed::SEARCH_COMPARATORS.contains(&op.as_str()) {
            return Err(bad(format!("comparator `{op}` is not supported")));
        }
        let field = self
            .module
            .schema
            .field(name.trim())
            .ok_or_else(|| bad(format!("unknown field `{}`", name.trim())))?;
        self.conds += 1;
        if self.conds > MAX_CRITERIA {
            return Err(ZohoError::limit(
                "criteria",
                MAX_CRITERIA,
                "more than 10 criteria",
            ));
        }
        Ok(Node::Cond {
            field,
            op,
            value: value.to_string(),
        })
    }
}

pub fn parse_criteria(module: &ModuleData, s: &str) -> Result<Node, ZohoError> {
    let mut p = Parser {
        chars: s.chars().collect(),
        pos: 0,
        module,
        conds: 0,
    };
    let node = p.expr()?;
    p.skip_ws();
    if p.pos != p.chars.len() {
        return Err(bad(format!("unexpected text at {}", p.pos)));
    }
    Ok(node)
}

fn norm(s: &str) -> String {
    if assumed::CASE_INSENSITIVE_MATCH {
        s.trim().to_lowercase()
    } else {
        s.trim().to_string()
    }
}

/// The texts a field of a record can be matched by: a lookup by its id or its name.
fn field_texts(org: &OrgData, r: &Record, fd: &Field) -> Vec<String> {
    match fd.api_name {
        CREATED_TIME => return vec![fmt_time(r.created)],
        MODIFIED_TIME => return vec![fmt_time(r.modified)],
        _ => {}
    }
    let Some(v) = r.fields.get(fd.api_name) else {
        return Vec::new();
    };
    let mut out = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        other => vec![other.to_string()],
    };
    match fd.kind {
        Kind::Lookup(target) => {
            let m = super::schema::module_index(target).and_then(|i| org.modules.get(i));
            let id = v.as_str().and_then(|s| s.parse::<u64>().ok());
            if let (Some(m), Some(id)) = (m, id) {
                if let Some(t) = m.get(id) {
                    out.push(display_name(m, t));
                }
            }
        }
        Kind::Owner => {
            out.push(org.info.user.full_name());
            out.push(org.info.user.email.clone());
        }
        _ => {}
    }
    out
}

fn eval(org: &OrgData, r: &Record, n: &Node) -> bool {
    match n {
        Node::And(a, b) => eval(org, r, a) && eval(org, r, b),
        Node::Or(a, b) => eval(org, r, a) || eval(org, r, b),
        Node::Cond { field, op, value } => {
            let texts = field_texts(org, r, field);
            if field.kind == Kind::DateTime {
                let want = parse_time(value);
                return texts
                    .iter()
                    .any(|t| parse_time(t).is_some() && parse_time(t) == want);
            }
            let want = norm(value);
            texts.iter().any(|t| {
                let t = norm(t);
                match op.as_str() {
                    "starts_with" => t.starts_with(&want),
                    _ => t == want,
                }
            })
        }
    }
}

/// Digits only, full-width ones folded: `０３-１２３４` and `03(1234)` find each other.
fn digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            _ => None,
        })
        .collect()
}

pub enum Matcher {
    Criteria(Node),
    Email(String),
    Phone(String),
    Word(String),
}

impl Matcher {
    /// The filter of a search or count request; `None` when the request has none.
    pub fn from_query(
        md: &ModuleData,
        q: &HashMap<String, String>,
    ) -> Result<Option<Matcher>, ZohoError> {
        let given: Vec<&str> = ["criteria", "email", "phone", "word"]
            .into_iter()
            .filter(|k| q.get(*k).is_some_and(|v| !v.trim().is_empty()))
            .collect();
        if given.len() > 1 {
            return Err(bad("give only one of criteria, email, phone and word"));
        }
        let Some(&which) = given.first() else {
            return Ok(None);
        };
        let v = q.get(which).cloned().unwrap_or_default();
        Ok(Some(match which {
            "criteria" => Matcher::Criteria(parse_criteria(md, &v)?),
            "email" => Matcher::Email(norm(&v)),
            "phone" => {
                let d = digits(&v);
                if d.is_empty() {
                    return Err(bad("phone has no digits"));
                }
                Matcher::Phone(d)
            }
            _ => Matcher::Word(norm(&v)),
        }))
    }

    pub fn matches(&self, org: &OrgData, md: &ModuleData, r: &Record) -> bool {
        let of_kind = |k: Kind| md.schema.fields.iter().filter(move |f| f.kind == k);
        let text = |f: &Field| {
            r.fields
                .get(f.api_name)
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        match self {
            Matcher::Criteria(n) => eval(org, r, n),
            Matcher::Email(e) => of_kind(Kind::Email).any(|f| norm(text(f)) == *e),
            Matcher::Phone(p) => of_kind(Kind::Phone).any(|f| digits(text(f)) == *p),
            Matcher::Word(w) => md
                .schema
                .fields
                .iter()
                .filter(|f| f.kind.is_text())
                .any(|f| norm(text(f)).contains(w.as_str())),
        }
    }
}

type Params = Query<HashMap<String, String>>;

/// `GET /crm/v8/{module}/search`.
pub async fn search(
    State(st): State<Shared>,
    caller: Caller,
    Path(module): Path<String>,
    Query(q): Params,
) -> Response {
    let run = || -> Result<Response, ZohoError> {
        let midx = module_arg(&caller, &module, Op::Read)?;
        let per_page = per_page(&q)?;
        let page = page(&q)?;
        if page * per_page > assumed::MAX_SEARCH_RESULTS {
            return Err(ZohoError::limit(
                "page",
                assumed::MAX_SEARCH_RESULTS,
                "search reaches only the first 2000 records",
            ));
        }
        st.read(|s| {
            let org = &s.orgs[caller.org];
            let md = &org.modules[midx];
            let m = Matcher::from_query(md, &q)?.ok_or_else(|| ZohoError::missing_param("criteria"))?;
            let only = q.get("fields").map(|f| requested_fields(md, f)).transpose()?;
            let skip = (page - 1) * per_page;
            let mut rows: Vec<&Record> = md
                .records()
                .filter(|r| m.matches(org, md, r))
                .skip(skip)
                .take(per_page + 1)
                .collect();
            let more = rows.len() > per_page;
            rows.truncate(per_page);
            if rows.is_empty() {
                return Ok(empty(StatusCode::NO_CONTENT));
            }
            let data: Vec<Value> = rows.iter().map(|r| render(org, md, r, only.as_deref())).collect();
            let body = json!({
                "data": data,
                "info": {"per_page": per_page, "count": data.len(), "page": page, "more_records": more}
            });
            Ok(json_response(StatusCode::OK, &body))
        })
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

/// `GET /crm/v8/{module}/actions/count`.
pub async fn count(
    State(st): State<Shared>,
    caller: Caller,
    Path(module): Path<String>,
    Query(q): Params,
) -> Response {
    let run = || -> Result<Response, ZohoError> {
        let midx = module_arg(&caller, &module, Op::Read)?;
        st.read(|s| {
            let org = &s.orgs[caller.org];
            let md = &org.modules[midx];
            let n = match Matcher::from_query(md, &q)? {
                Some(m) => md.records().filter(|r| m.matches(org, md, r)).count(),
                None => md.len(),
            };
            Ok(json_response(StatusCode::OK, &json!({"count": n})))
        })
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::super::schema::{module_index, MODULES};
    use super::*;

    fn contacts() -> ModuleData {
        ModuleData::new(&MODULES[module_index("Contacts").unwrap()])
    }

    #[test]
    fn criteria_parse_nesting_and_escapes() {
        let md = contacts();
        let n = parse_criteria(
            &md,
            r"((Last_Name:equals:山田\(本社\))and(Email:starts_with:a\,b))",
        )
        .unwrap();
        match n {
            Node::And(a, b) => {
                assert!(matches!(*a, Node::Cond { ref value, .. } if value == "山田(本社)"));
                assert!(matches!(*b, Node::Cond { ref value, .. } if value == "a,b"));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_criteria(&md, "(Nope:equals:x)").is_err());
        assert!(parse_criteria(&md, "(Last_Name:greater_than:x)").is_err());
        assert!(parse_criteria(&md, "(Last_Name:equals:x").is_err());
    }

    #[test]
    fn phone_digits_fold_full_width() {
        assert_eq!(digits("０３-１２３４-５６７８"), "0312345678");
        assert_eq!(digits("03 (1234) 5678"), "0312345678");
    }
}
