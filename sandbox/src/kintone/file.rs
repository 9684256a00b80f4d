//! `file.json`, minimal (reference §8): a multipart upload of the part `file` answers a
//! `fileKey`; a GET with that key downloads it. Files live in memory only.

use super::error::{KError, KResult};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Blob {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct Files {
    blobs: HashMap<String, Blob>,
}

impl Files {
    pub fn put(&mut self, b: Blob) -> String {
        let key = uuid::Uuid::new_v4().simple().to_string();
        self.blobs.insert(key.clone(), b);
        key
    }

    pub fn get(&self, key: &str) -> Option<&Blob> {
        self.blobs.get(key)
    }

    pub fn clear(&mut self) {
        self.blobs.clear();
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

fn param<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').map(str::trim).find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"'))
    })
}

/// The part named `file` of a multipart/form-data body.
pub fn parse_upload(content_type: &str, body: &[u8]) -> KResult<Blob> {
    let missing = || KError::invalid("file", "必須です。");
    let boundary = param(content_type, "boundary").ok_or_else(missing)?;
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut pos = find(body, delim, 0).ok_or_else(missing)?;
    loop {
        let start = pos + delim.len();
        if body.get(start..start + 2) == Some(b"--") {
            return Err(missing());
        }
        let head_end = find(body, b"\r\n\r\n", start).ok_or_else(missing)?;
        let next = find(body, delim, head_end).ok_or_else(missing)?;
        let head = String::from_utf8_lossy(&body[start..head_end]);
        let mut disposition = "";
        let mut ctype = "application/octet-stream";
        for line in head.lines() {
            if let Some((k, v)) = line.split_once(':') {
                if k.trim().eq_ignore_ascii_case("content-disposition") {
                    disposition = v.trim();
                } else if k.trim().eq_ignore_ascii_case("content-type") {
                    ctype = v.trim();
                }
            }
        }
        if param(disposition, "name") == Some("file") {
            // The part ends with CRLF before the next delimiter.
            let end = next.saturating_sub(2).max(head_end + 4);
            return Ok(Blob {
                name: param(disposition, "filename").unwrap_or("file").to_string(),
                content_type: ctype.to_string(),
                bytes: body[head_end + 4..end].to_vec(),
            });
        }
        pos = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_file_part() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n";
        let b = parse_upload("multipart/form-data; boundary=XX", body).unwrap();
        assert_eq!(b.name, "a.txt");
        assert_eq!(b.content_type, "text/plain");
        assert_eq!(b.bytes, b"hello");
        assert!(parse_upload("multipart/form-data; boundary=YY", body).is_err());
    }
}
