//! Token-endpoint parameters (reference §2): the docs put them in the query string, the Python
//! SDK sends a form-urlencoded body, the Node SDK multipart/form-data. All three are read here.

use axum::http::{header, HeaderMap};
use std::collections::HashMap;

/// Query parameters first, then body fields, which win on a clash.
pub fn collect(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let lower = ctype.to_ascii_lowercase();
    if lower.starts_with("multipart/form-data") {
        if let Some(b) = boundary(&ctype) {
            out.extend(multipart(body, &b));
        }
    } else if !body.is_empty() && !lower.starts_with("application/json") {
        out.extend(url::form_urlencoded::parse(body).into_owned());
    }
    out
}

fn boundary(ctype: &str) -> Option<String> {
    ctype.split(';').map(str::trim).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Text fields of a multipart body (files are not expected at the token endpoint).
fn multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let delim = format!("--{boundary}");
    let mut out = Vec::new();
    let mut pos = match find(body, delim.as_bytes(), 0) {
        Some(p) => p + delim.len(),
        None => return out,
    };
    loop {
        if body[pos..].starts_with(b"--") {
            break;
        }
        let Some(next) = find(body, delim.as_bytes(), pos) else {
            break;
        };
        let part = &body[pos..next];
        let part = part
            .strip_prefix(b"\r\n")
            .or_else(|| part.strip_prefix(b"\n"))
            .unwrap_or(part);
        let (head, value) = match find(part, b"\r\n\r\n", 0) {
            Some(i) => (&part[..i], &part[i + 4..]),
            None => match find(part, b"\n\n", 0) {
                Some(i) => (&part[..i], &part[i + 2..]),
                None => (part, &part[part.len()..]),
            },
        };
        let value = value
            .strip_suffix(b"\r\n")
            .or_else(|| value.strip_suffix(b"\n"))
            .unwrap_or(value);
        if let Some(name) = part_name(&String::from_utf8_lossy(head)) {
            out.push((name, String::from_utf8_lossy(value).into_owned()));
        }
        pos = next + delim.len();
    }
    out
}

fn part_name(head: &str) -> Option<String> {
    head.lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?
        .split(';')
        .map(str::trim)
        .find_map(|p| {
            p.strip_prefix("name=")
                .map(|v| v.trim_matches('"').to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn multipart_fields_are_read_like_node_sends_them() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nrefresh_token\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n1000.abc\r\n--XyZ--\r\n";
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=XyZ"),
        );
        let p = collect(Some("client_id=ignored&scope=x"), &h, body.as_bytes());
        assert_eq!(p["grant_type"], "refresh_token");
        assert_eq!(p["client_id"], "1000.abc");
        assert_eq!(p["scope"], "x");
    }

    #[test]
    fn form_body_without_content_type_is_read() {
        let p = collect(
            None,
            &HeaderMap::new(),
            b"code=1000.a%2Eb&grant_type=authorization_code",
        );
        assert_eq!(p["code"], "1000.a.b");
    }
}
