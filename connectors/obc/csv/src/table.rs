//! Comma-separated rows (RFC 4180: quoted fields may hold commas, quotes as "" and line
//! breaks). Parsed as bytes, before decoding: in CP932 the second byte of a character is
//! 0x40 or above, so it is never a comma, quote, CR or LF, and a field that does not decode
//! can be reported by its own line and column.

use std::borrow::Cow;

use crate::codec::{self, Unencodable};

/// One row as it is in the file: its first line (1 = the first line of the file) and its
/// fields, unquoted but not yet decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow<'a> {
    pub line: usize,
    pub fields: Vec<Cow<'a, [u8]>>,
}

impl RawRow<'_> {
    /// A line with nothing on it (also `,,,`): not a row.
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.is_empty())
    }
}

/// A quoted field that never closes: everything after `line` is unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unterminated {
    pub line: usize,
    pub column: usize,
}

/// The rows of `bytes`, and the unclosed quote that ended reading early, if any.
pub fn parse(bytes: &[u8]) -> (Vec<RawRow<'_>>, Option<Unterminated>) {
    let mut rows = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let n = bytes.len();
    while i < n {
        let row_line = line;
        let mut fields: Vec<Cow<'_, [u8]>> = Vec::new();
        loop {
            // One field starting at i.
            if i < n && bytes[i] == b'"' {
                let start_line = line;
                let mut value = Vec::new();
                i += 1;
                let mut closed = false;
                while i < n {
                    match bytes[i] {
                        b'"' if i + 1 < n && bytes[i + 1] == b'"' => {
                            value.push(b'"');
                            i += 2;
                        }
                        b'"' => {
                            i += 1;
                            closed = true;
                            break;
                        }
                        b => {
                            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                                line += 1;
                            }
                            value.push(b);
                            i += 1;
                        }
                    }
                }
                if !closed {
                    return (
                        rows,
                        Some(Unterminated {
                            line: start_line,
                            column: fields.len() + 1,
                        }),
                    );
                }
                // Text after the closing quote (`"a"b`) is kept: 奉行 never writes it, and
                // dropping it would lose data silently.
                while i < n && !matches!(bytes[i], b',' | b'\r' | b'\n') {
                    value.push(bytes[i]);
                    i += 1;
                }
                fields.push(Cow::Owned(value));
            } else {
                let start = i;
                while i < n && !matches!(bytes[i], b',' | b'\r' | b'\n') {
                    i += 1;
                }
                fields.push(Cow::Borrowed(&bytes[start..i]));
            }
            if i < n && bytes[i] == b',' {
                i += 1;
                continue;
            }
            break;
        }
        // End of row: CRLF, LF, CR or end of input.
        if i < n && bytes[i] == b'\r' {
            i += 1;
        }
        if i < n && bytes[i] == b'\n' {
            i += 1;
        }
        line += 1;
        rows.push(RawRow {
            line: row_line,
            fields,
        });
    }
    (rows, None)
}

fn needs_quotes(field: &str) -> bool {
    field
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
        || field.starts_with(' ')
        || field.ends_with(' ')
}

/// Appends one CP932 row ending in CRLF, quoting only fields that need it; or the column
/// (from 1) and character that CP932 cannot represent (`out` is then unchanged).
pub fn write_row_cp932<S: AsRef<str>>(
    fields: &[S],
    out: &mut Vec<u8>,
) -> Result<(), (usize, Unencodable)> {
    let start = out.len();
    let mut encoded = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let f = f.as_ref();
        if i > 0 {
            out.push(b',');
        }
        encoded.clear();
        if let Err(e) = codec::encode_cp932(f, &mut encoded) {
            out.truncate(start);
            return Err((i + 1, e));
        }
        if needs_quotes(f) {
            // Doubling quotes byte by byte is safe: no CP932 second byte is 0x22.
            out.push(b'"');
            for &b in &encoded {
                out.push(b);
                if b == b'"' {
                    out.push(b'"');
                }
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(&encoded);
        }
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(row: &RawRow<'_>) -> Vec<String> {
        row.fields
            .iter()
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn parses_quotes_commas_and_line_breaks_with_line_numbers() {
        let data = "a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n\r\nlast,,\r\n";
        let (rows, err) = parse(data.as_bytes());
        assert!(err.is_none());
        assert_eq!(rows.len(), 4);
        assert_eq!(texts(&rows[0]), ["a", "b", "c"]);
        assert_eq!(rows[1].line, 2);
        assert_eq!(texts(&rows[1]), ["x,1", "say \"hi\"", "two\r\nlines"]);
        assert!(rows[2].is_blank());
        assert_eq!(rows[2].line, 4);
        assert_eq!(rows[3].line, 5);
        assert_eq!(texts(&rows[3]), ["last", "", ""]);
    }

    #[test]
    fn lf_and_no_final_newline() {
        let (rows, _) = parse(b"a,b\nc,d");
        assert_eq!(rows.len(), 2);
        assert_eq!(texts(&rows[1]), ["c", "d"]);
        assert_eq!(rows[1].line, 2);
    }

    #[test]
    fn an_unclosed_quote_is_reported_where_it_opened() {
        let (rows, err) = parse(b"h1,h2\r\nok,1\r\nbad,\"open\r\nmore\r\n");
        assert_eq!(rows.len(), 2);
        assert_eq!(err, Some(Unterminated { line: 3, column: 2 }));
    }

    #[test]
    fn cp932_bytes_that_look_like_ascii_do_not_split_fields() {
        // 表 is 0x95 0x5C: its second byte is a backslash, never a separator.
        let bytes = [0x95, 0x5C, b',', 0x83, 0x5C, b'\r', b'\n'];
        let (rows, _) = parse(&bytes);
        assert_eq!(rows[0].fields.len(), 2);
        assert_eq!(&*rows[0].fields[0], &[0x95, 0x5C]);
    }

    #[test]
    fn writes_cp932_rows_and_names_an_unencodable_column() {
        let mut out = Vec::new();
        write_row_cp932(&["001", "株式会社,テスト", "ｶﾌﾞ"], &mut out).unwrap();
        let text = codec::decode(&out, codec::Encoding::Cp932).unwrap();
        assert_eq!(text, "001,\"株式会社,テスト\",ｶﾌﾞ\r\n");
        let before = out.len();
        let (col, e) = write_row_cp932(&["002", "\"𠮷\"野家"], &mut out).unwrap_err();
        assert_eq!((col, e.ch, e.index), (2, '𠮷', 1));
        assert_eq!(out.len(), before);
    }
}
