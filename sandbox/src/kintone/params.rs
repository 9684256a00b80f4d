//! Request parameters as the official clients send them (reference §1, §11): a `qs`-style query
//! string (`fields[0]=a&ids[0]=1`, brackets usually percent-encoded) for GET and DELETE, a JSON
//! body for POST and PUT, and a JSON body on GET too (also via `X-HTTP-Method-Override`).

use super::error::{KError, KResult};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Entries allowed in `fields` when it comes in a query string (reference §3).
const MAX_QUERY_STRING_FIELDS: usize = 100;
const MAX_BODY_FIELDS: usize = 1000;

#[derive(Debug, Clone, Default)]
pub struct Params(pub Map<String, Value>);

impl Params {
    /// Query string first, then the JSON body on top.
    pub fn from_request(query: Option<&str>, body: &[u8]) -> KResult<Params> {
        let mut map = match query {
            Some(q) if !q.is_empty() => parse_qs(q),
            _ => Map::new(),
        };
        if let Some(Value::Array(f)) = map.get("fields") {
            if f.len() > MAX_QUERY_STRING_FIELDS {
                return Err(KError::invalid(
                    "fields",
                    format!(
                        "クエリ文字列で指定できるfieldsは{MAX_QUERY_STRING_FIELDS}個までです。"
                    ),
                ));
            }
        }
        if body.iter().any(|b| !b.is_ascii_whitespace()) {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(o)) => {
                    if let Some(Value::Array(f)) = o.get("fields") {
                        if f.len() > MAX_BODY_FIELDS {
                            return Err(KError::invalid(
                                "fields",
                                format!("fieldsは{MAX_BODY_FIELDS}個までです。"),
                            ));
                        }
                    }
                    map.extend(o);
                }
                _ => return Err(KError::bad_json()),
            }
        }
        Ok(Params(map))
    }

    pub fn from_value(v: &Value) -> Params {
        match v {
            Value::Object(o) => Params(o.clone()),
            _ => Params::default(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A required id-like parameter (`app`, `id`): a number or a numeric string.
    pub fn id(&self, name: &str) -> KResult<u64> {
        match self.get(name) {
            None => Err(KError::invalid(name, "必須です。")),
            Some(v) => as_id(v).ok_or_else(|| KError::invalid(name, "数字でなければなりません。")),
        }
    }

    pub fn opt_id(&self, name: &str) -> KResult<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(_) => self.id(name).map(Some),
        }
    }

    pub fn str(&self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// `true`, `"true"` (qs sends booleans as strings).
    pub fn bool(&self, name: &str) -> bool {
        match self.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    /// An array parameter; a single value counts as a one-element array.
    pub fn array(&self, name: &str) -> Vec<Value> {
        match self.get(name) {
            Some(Value::Array(a)) => a.clone(),
            Some(v) => vec![v.clone()],
            None => Vec::new(),
        }
    }

    pub fn strings(&self, name: &str) -> Vec<String> {
        self.array(name)
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect()
    }
}

pub fn as_id(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A query-string tree before arrays are recognised.
enum Node {
    Leaf(String),
    Map(BTreeMap<String, Node>, Vec<String>),
}

/// `a=1&b[0]=x&b[1]=y&c[k]=v&d=1&d=2` → `{"a":"1","b":["x","y"],"c":{"k":"v"},"d":["1","2"]}`.
pub fn parse_qs(q: &str) -> Map<String, Value> {
    let mut root = Node::Map(BTreeMap::new(), Vec::new());
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        let path = key_path(&k);
        if path.is_empty() {
            continue;
        }
        insert(&mut root, &path, v.into_owned());
    }
    match to_value(root) {
        Value::Object(o) => o,
        _ => Map::new(),
    }
}

/// `fields[0]` → ["fields", "0"]; `ids[]` → ["ids", ""].
fn key_path(k: &str) -> Vec<String> {
    let (base, mut rest) = match k.find('[') {
        Some(i) => (&k[..i], &k[i..]),
        None => return vec![k.to_string()],
    };
    let mut out = vec![base.to_string()];
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(end) => {
                out.push(stripped[..end].to_string());
                rest = &stripped[end + 1..];
            }
            None => break,
        }
    }
    out
}

fn insert(node: &mut Node, path: &[String], v: String) {
    let Node::Map(map, order) = node else {
        return;
    };
    let mut key = path[0].clone();
    if key.is_empty() {
        key = map.len().to_string();
    }
    if path.len() == 1 {
        match map.get_mut(&key) {
            // A repeated plain key becomes an array.
            Some(Node::Leaf(prev)) => {
                let prev = std::mem::take(prev);
                let mut m = BTreeMap::new();
                m.insert("0".to_string(), Node::Leaf(prev));
                m.insert("1".to_string(), Node::Leaf(v));
                map.insert(key, Node::Map(m, vec!["0".into(), "1".into()]));
            }
            Some(Node::Map(m, o)) if m.keys().all(|k| k.parse::<usize>().is_ok()) => {
                let k = m.len().to_string();
                o.push(k.clone());
                m.insert(k, Node::Leaf(v));
            }
            Some(_) => {}
            None => {
                order.push(key.clone());
                map.insert(key, Node::Leaf(v));
            }
        }
        return;
    }
    if !map.contains_key(&key) {
        order.push(key.clone());
        map.insert(key.clone(), Node::Map(BTreeMap::new(), Vec::new()));
    }
    if let Some(child) = map.get_mut(&key) {
        insert(child, &path[1..], v);
    }
}

fn to_value(n: Node) -> Value {
    match n {
        Node::Leaf(s) => Value::String(s),
        Node::Map(mut m, order) => {
            let numeric: Option<Vec<usize>> = m.keys().map(|k| k.parse().ok()).collect();
            match numeric {
                Some(mut idx) if !m.is_empty() => {
                    idx.sort_unstable();
                    Value::Array(
                        idx.into_iter()
                            .filter_map(|i| m.remove(&i.to_string()))
                            .map(to_value)
                            .collect(),
                    )
                }
                _ => {
                    let mut o = Map::new();
                    for k in order {
                        if let Some(c) = m.remove(&k) {
                            o.insert(k, to_value(c));
                        }
                    }
                    Value::Object(o)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn qs_indices_with_encoded_brackets() {
        let m = parse_qs(
            "app=1&fields%5B0%5D=%E4%BC%9A%E7%A4%BE%E5%90%8D&fields%5B1%5D=%24id&totalCount=true",
        );
        assert_eq!(
            Value::Object(m),
            json!({"app":"1","fields":["会社名","$id"],"totalCount":"true"})
        );
    }

    #[test]
    fn qs_ten_and_more_indices_keep_numeric_order() {
        let q: Vec<String> = (0..12).map(|i| format!("ids[{i}]={i}")).collect();
        let m = parse_qs(&q.join("&"));
        let ids: Vec<String> = (0..12).map(|i| i.to_string()).collect();
        assert_eq!(m["ids"], json!(ids));
    }

    #[test]
    fn qs_repeated_and_empty_brackets() {
        let m = parse_qs("ids=1&ids=2&codes[]=a&codes[]=b");
        assert_eq!(m["ids"], json!(["1", "2"]));
        assert_eq!(m["codes"], json!(["a", "b"]));
    }

    #[test]
    fn body_overrides_and_bad_json_is_refused() {
        let p = Params::from_request(Some("app=1"), br#"{"app":2,"query":"x"}"#).unwrap();
        assert_eq!(p.id("app").unwrap(), 2);
        assert!(Params::from_request(None, b"{nope").is_err());
    }
}
