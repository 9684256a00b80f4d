//! One CSV file read with an import format: its data rows, each a record or an error naming
//! the line and column a person must fix.

use connector_sdk::{Fields, Record, RecordIssue, RecordWarning};
use serde_json::Value;

use crate::codec::{self, Encoding};
use crate::format::{normalize_header, ImportFormat, ValueKind};
use crate::table::{self, RawRow};

/// A data row that could not become a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub code: &'static str,
    pub ja: String,
    pub en: String,
}

impl RowError {
    /// The run history's entry: record `取引先.csv:12`, message in Japanese and English.
    pub fn issue(&self, file: &str) -> RecordIssue {
        RecordIssue {
            record: format!("{file}:{}", self.line),
            code: self.code.to_string(),
            message: format!("{} / {}", self.ja, self.en),
        }
    }
}

/// A user-defined character (外字) in a row that was read. It is kept as its private-use code
/// point (the standard mapping, so the file round-trips), but only the PC that made it has its
/// glyph: every other system shows a blank or a box, so a person must replace it in 奉行.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gaiji {
    pub line: usize,
    /// The file's column, from 1, and its header.
    pub column: usize,
    pub header: String,
    /// `0xF040` (see [`codec::private_use_label`]).
    pub code: String,
}

impl Gaiji {
    pub const CODE: &'static str = "gaiji";

    /// The import history's line: where, and what to fix.
    pub fn detail(&self) -> String {
        format!(
            "{}行目 {}列目「{}」に外字 ({}) があります。奉行で{}を直してください / line {}, column {} ({}): user-defined character {}",
            self.line, self.column, self.header, self.code, self.header,
            self.line, self.column, self.header, self.code
        )
    }

    /// The run history's warning for record `record` of file `file`: the hub words it from its
    /// catalogue by these params; the message is the fallback.
    pub fn warning(&self, file: &str, record: &str) -> RecordWarning {
        let params = [
            ("file", file.to_string()),
            ("line", self.line.to_string()),
            ("column", self.column.to_string()),
            ("header", self.header.clone()),
            ("char_code", self.code.clone()),
        ];
        RecordWarning {
            record: record.to_string(),
            code: Self::CODE.to_string(),
            params: params.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            message: format!(
                "外字（ユーザー定義文字）があります: ファイル {file} 行 {} 列 {}「{}」({})。{}を直してください。 / \
                 user-defined character (gaiji) {} in file {file}, line {}, column {} ({}): other systems cannot show it; replace it in 奉行",
                self.line, self.column, self.header, self.code, self.header,
                self.code, self.line, self.column, self.header
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// A record, and the 外字 it holds.
    Ok(Record, Vec<Gaiji>),
    Bad(RowError),
}

/// A file that cannot be read at all (no header, no key column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub code: &'static str,
    pub ja: String,
    pub en: String,
}

impl FileError {
    pub fn message(&self) -> String {
        format!("{} / {}", self.ja, self.en)
    }
}

/// A file's rows, turned into records only when asked for (a page at a time), so a large
/// file costs little more memory than its bytes.
#[derive(Debug, Clone)]
pub struct ParsedFile<'a> {
    pub encoding: Encoding,
    format: &'a ImportFormat,
    headers: Vec<String>,
    /// (file column, format column) of every mapped column.
    mapping: Vec<(usize, usize)>,
    key_file_col: usize,
    /// Data rows (blank lines are not rows).
    raw: Vec<RawRow<'a>>,
    unterminated: Option<table::Unterminated>,
}

impl ParsedFile<'_> {
    /// Data rows in the file, an unclosed quote counting as one (bad) row.
    pub fn len(&self) -> usize {
        self.raw.len() + usize::from(self.unterminated.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Data row `i` (from 0) as a record or an error.
    pub fn row(&self, i: usize) -> Row {
        match self.raw.get(i) {
            Some(r) => read_row(
                r,
                self.encoding,
                &self.headers,
                &self.mapping,
                self.key_file_col,
                self.format,
            ),
            None => {
                let u = self
                    .unterminated
                    .clone()
                    .unwrap_or(table::Unterminated { line: 0, column: 0 });
                Row::Bad(RowError {
                    line: u.line,
                    code: "unclosed_quote",
                    ja: format!(
                        "{}行目 {}列目の引用符 \" が閉じていないため、ここから後を読めません",
                        u.line, u.column
                    ),
                    en: format!(
                        "line {}, column {}: a quote (\") is never closed; nothing after it can be read",
                        u.line, u.column
                    ),
                })
            }
        }
    }

    pub fn rows(&self) -> impl Iterator<Item = Row> + '_ {
        (0..self.len()).map(|i| self.row(i))
    }

    /// Rows read as records, the errors of the others, and the 外字 of the records.
    pub fn outcome(&self) -> (usize, Vec<RowError>, Vec<Gaiji>) {
        let mut ok = 0;
        let mut errors = Vec::new();
        let mut gaiji = Vec::new();
        for r in self.rows() {
            match r {
                Row::Ok(_, mut g) => {
                    ok += 1;
                    gaiji.append(&mut g);
                }
                Row::Bad(e) => errors.push(e),
            }
        }
        (ok, errors, gaiji)
    }
}

fn column_label(i: usize, header: &str) -> (String, String) {
    (
        format!("{}列目「{header}」", i + 1),
        format!("column {} ({header})", i + 1),
    )
}

/// Reads `bytes` (a whole file) with `format`.
pub fn parse_file<'a>(
    bytes: &'a [u8],
    format: &'a ImportFormat,
) -> Result<ParsedFile<'a>, FileError> {
    let (encoding, body) = codec::detect(bytes);
    let (raw, unterminated) = table::parse(body);
    let mut raw = raw.into_iter().filter(|r| !r.is_blank());
    let Some(header_row) = raw.next() else {
        return Err(FileError {
            code: "empty_file",
            ja: "ファイルに見出し行もデータもありません".into(),
            en: "the file has no header row and no data".into(),
        });
    };
    let mut headers = Vec::with_capacity(header_row.fields.len());
    for (i, f) in header_row.fields.iter().enumerate() {
        let h = codec::decode(f, encoding).map_err(|e| FileError {
            code: "undecodable_header",
            ja: format!(
                "{}行目（見出し行）の{}列目を {} として読めません（バイト {}）",
                header_row.line,
                i + 1,
                encoding.label(),
                e.hex()
            ),
            en: format!(
                "line {} (header), column {}: bytes {} are not valid {}",
                header_row.line,
                i + 1,
                e.hex(),
                encoding.label()
            ),
        })?;
        headers.push(h);
    }
    // Which file column feeds which field: the first header matching any accepted name.
    let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
    let mut mapping: Vec<(usize, usize)> = Vec::new(); // (file column, format column)
    for (ci, col) in format.columns.iter().enumerate() {
        let found = col.headers.iter().find_map(|h| {
            let h = normalize_header(h);
            normalized.iter().position(|n| *n == h)
        });
        if let Some(fi) = found {
            if !mapping.iter().any(|(f, _)| *f == fi) {
                mapping.push((fi, ci));
            }
        }
    }
    let key_pos = format.columns.iter().position(|c| c.field == format.key);
    let Some(key_file_col) = mapping
        .iter()
        .find(|(_, ci)| Some(*ci) == key_pos)
        .map(|(fi, _)| *fi)
    else {
        return Err(FileError {
            code: "missing_key_column",
            ja: format!(
                "見出し行に「{}」の列がありません（見出し: {}）。CSV 取込フォーマットを確認してください",
                format.key_header(),
                headers.join(", ")
            ),
            en: format!(
                "the header row has no '{}' column (headers: {}); check the import format",
                format.key_header(),
                headers.join(", ")
            ),
        });
    };
    Ok(ParsedFile {
        encoding,
        format,
        headers,
        mapping,
        key_file_col,
        raw: raw.collect(),
        unterminated,
    })
}

fn read_row(
    r: &RawRow<'_>,
    encoding: Encoding,
    headers: &[String],
    mapping: &[(usize, usize)],
    key_file_col: usize,
    format: &ImportFormat,
) -> Row {
    let bad = |code: &'static str, ja: String, en: String| {
        Row::Bad(RowError {
            line: r.line,
            code,
            ja: format!("{}行目: {ja}", r.line),
            en: format!("line {}: {en}", r.line),
        })
    };
    if r.fields.len() != headers.len() {
        return bad(
            "column_count",
            format!(
                "列の数が見出し行と違います（見出し {} 列、この行 {} 列）",
                headers.len(),
                r.fields.len()
            ),
            format!(
                "{} columns where the header has {}",
                r.fields.len(),
                headers.len()
            ),
        );
    }
    let mut fields = Fields::new();
    let mut id = String::new();
    let mut gaiji = Vec::new();
    for &(fi, ci) in mapping {
        let col = &format.columns[ci];
        let (lja, len) = column_label(fi, &headers[fi]);
        let text = match codec::decode(&r.fields[fi], encoding) {
            Ok(t) => t,
            Err(e) => {
                return bad(
                    "undecodable",
                    format!(
                        "{lja}を {} として読めません（{} バイト目から {}）",
                        encoding.label(),
                        e.offset + 1,
                        e.hex()
                    ),
                    format!(
                        "{len}: bytes {} at byte {} are not valid {}",
                        e.hex(),
                        e.offset + 1,
                        encoding.label()
                    ),
                )
            }
        };
        gaiji.extend(
            text.chars()
                .filter_map(codec::private_use_label)
                .map(|code| Gaiji {
                    line: r.line,
                    column: fi + 1,
                    header: headers[fi].clone(),
                    code,
                }),
        );
        let value = match col.kind {
            ValueKind::Text => Value::String(text),
            ValueKind::Date => match normalize_date(&text) {
                Some(v) => v,
                None => {
                    return bad(
                        "invalid_date",
                        format!("{lja}の「{text}」は日付として読めません（例: 2025/04/01）"),
                        format!("{len}: '{text}' is not a date (e.g. 2025/04/01)"),
                    )
                }
            },
            ValueKind::Number => match normalize_number(&text) {
                Some(v) => v,
                None => {
                    return bad(
                        "invalid_number",
                        format!("{lja}の「{text}」は数値として読めません"),
                        format!("{len}: '{text}' is not a number"),
                    )
                }
            },
        };
        if fi == key_file_col {
            id = value.as_str().unwrap_or_default().trim().to_string();
            fields.insert(col.field.clone(), Value::String(id.clone()));
        } else {
            fields.insert(col.field.clone(), value);
        }
    }
    if id.is_empty() {
        let (lja, len) = column_label(key_file_col, &headers[key_file_col]);
        return bad(
            "missing_key",
            format!("{lja}が空です。キーのない行は取り込めません"),
            format!("{len} is empty; a row without its key cannot be imported"),
        );
    }
    Row::Ok(
        Record {
            id,
            version: None,
            modified_at: None,
            private: false,
            deleted: false,
            fields,
        },
        gaiji,
    )
}

fn ascii_digits(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '／' => '/',
            '－' => '-',
            _ => c,
        })
        .collect()
}

/// `yyyy/M/d`, `yyyy-M-d` or `yyyyMMdd` → `yyyy-MM-dd`; empty → null; `None` if not a date.
pub fn normalize_date(text: &str) -> Option<Value> {
    let t = ascii_digits(text);
    if t.is_empty() {
        return Some(Value::Null);
    }
    let parts: Vec<&str> = if t.contains('/') {
        t.split('/').collect()
    } else if t.contains('-') {
        t.split('-').collect()
    } else if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        vec![&t[..4], &t[4..6], &t[6..]]
    } else {
        return None;
    };
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let num = |s: &str| s.parse::<u32>().ok();
    let date = chrono::NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?)?;
    if y.len() != 4 {
        return None;
    }
    Some(Value::String(date.format("%Y-%m-%d").to_string()))
}

/// A decimal string without thousands commas; empty → null; `None` if not a number.
pub fn normalize_number(text: &str) -> Option<Value> {
    let t: String = ascii_digits(text).chars().filter(|c| *c != ',').collect();
    if t.is_empty() {
        return Some(Value::Null);
    }
    let body = t.strip_prefix(['-', '+']).unwrap_or(&t);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (body.contains('.') && frac.is_empty()) {
        return None;
    }
    Some(Value::String(t.trim_start_matches('+').to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::formats;
    use connector_sdk::Connection;

    fn customers() -> ImportFormat {
        formats(&Connection::default()).unwrap().remove(0)
    }

    fn sjis(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        codec::encode_cp932(text, &mut out).unwrap();
        out
    }

    #[test]
    fn reads_records_keyed_by_the_code_column() {
        let file = sjis("取引先コード,取引先名,フリガナ,郵便番号,住所１,電話番号,締日,備考\r\n000123,㈱髙﨑商事,ﾀｶｻｷｼｮｳｼﾞ,160-0023,東京都新宿区①,03-0000-0000,月末,x\r\n\r\n000124,株式会社テスト,,,,,31,\r\n");
        let f = customers();
        let p = parse_file(&file, &f).unwrap();
        assert_eq!(p.encoding, Encoding::Cp932);
        let rows: Vec<Row> = p.rows().collect();
        assert_eq!(rows.len(), 2);
        let Row::Bad(e) = &rows[0] else {
            panic!("{:?}", rows[0])
        };
        assert_eq!((e.line, e.code), (2, "invalid_number"));
        assert!(e.ja.contains("7列目「締日」"), "{}", e.ja);
        let Row::Ok(r, _) = &rows[1] else {
            panic!("{:?}", rows[1])
        };
        assert_eq!(r.id, "000124");
        assert_eq!(r.fields["closingDay"], "31");
        assert!(
            !r.fields.contains_key("備考"),
            "unmapped columns are not read"
        );
        assert_eq!(e.issue("取引先.csv").record, "取引先.csv:2");
    }

    #[test]
    fn utf8_with_bom_and_bad_rows_name_line_and_column() {
        let mut file = b"\xEF\xBB\xBF".to_vec();
        file.extend_from_slice("社員コード,氏名,入社年月日\r\nE1,山田,2024/4/1\r\nE2,鈴木\r\n,佐藤,2024/04/01\r\nE4,高橋,2024/13/01\r\n".as_bytes());
        let f = formats(&Connection::default()).unwrap().remove(1);
        let p = parse_file(&file, &f).unwrap();
        assert_eq!(p.encoding, Encoding::Utf8);
        let Row::Ok(r, _) = p.row(0) else { panic!() };
        assert_eq!(r.fields["joinDate"], "2024-04-01");
        let (ok, errors, _) = p.outcome();
        let codes: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.code)).collect();
        assert_eq!(
            codes,
            [(3, "column_count"), (4, "missing_key"), (5, "invalid_date")]
        );
        assert_eq!(ok, 1);
    }

    #[test]
    fn undecodable_bytes_are_a_row_error_naming_the_column() {
        let mut file = sjis("取引先コード,取引先名\r\n001,");
        file.extend_from_slice(&[0x82, 0xA0, 0xFD, b'\r', b'\n']);
        file.extend_from_slice(&sjis("002,正常\r\n"));
        let f = customers();
        let p = parse_file(&file, &f).unwrap();
        let (ok, errors, _) = p.outcome();
        let e = &errors[0];
        assert_eq!((e.line, e.code), (2, "undecodable"));
        assert!(
            e.ja.contains("2列目「取引先名」") && e.en.contains("0xFD"),
            "{e:?}"
        );
        assert_eq!(ok, 1);
    }

    #[test]
    fn a_user_defined_character_is_kept_and_reported_with_line_and_column() {
        // 「株式会社」 0xF040 「商店」: a 外字 as the 外字エディタ of a Windows PC writes it.
        let mut file =
            sjis("取引先コード,取引先名,フリガナ\r\n000001,通常商店,ﾂｳｼﾞｮｳ\r\n000002,株式会社");
        file.extend_from_slice(&[0xF0, 0x40]);
        file.extend_from_slice(&sjis("商店,ｶﾌﾞ\r\n"));
        let format = customers();
        let p = parse_file(&file, &format).unwrap();
        let Row::Ok(clean, none) = p.row(0) else {
            panic!()
        };
        assert_eq!((clean.id.as_str(), none.len()), ("000001", 0));
        let Row::Ok(r, gaiji) = p.row(1) else {
            panic!("{:?}", p.row(1))
        };
        assert_eq!(
            r.fields["name"], "株式会社\u{E000}商店",
            "the standard mapping stays"
        );
        assert_eq!(
            gaiji,
            [Gaiji {
                line: 3,
                column: 2,
                header: "取引先名".into(),
                code: "0xF040".into()
            }]
        );
        let w = gaiji[0].warning("取引先.csv", &r.id);
        assert_eq!((w.record.as_str(), w.code.as_str()), ("000002", "gaiji"));
        assert_eq!(w.params["file"], "取引先.csv");
        assert_eq!(
            (w.params["line"].as_str(), w.params["column"].as_str()),
            ("3", "2")
        );
        assert!(
            w.message
                .contains("外字（ユーザー定義文字）があります: ファイル 取引先.csv 行 3 列 2「取引先名」(0xF040)"),
            "{}",
            w.message
        );
        assert_eq!(
            p.outcome(),
            (2, vec![], gaiji),
            "a 外字 does not fail the row"
        );
    }

    #[test]
    fn a_missing_key_column_or_empty_file_fails_the_whole_file() {
        let e = parse_file(&sjis("名前,住所\r\na,b\r\n"), &customers()).unwrap_err();
        assert_eq!(e.code, "missing_key_column");
        assert!(e.ja.contains("取引先コード"), "{}", e.ja);
        assert_eq!(
            parse_file(b"\r\n\r\n", &customers()).unwrap_err().code,
            "empty_file"
        );
    }

    #[test]
    fn dates_and_numbers() {
        assert_eq!(normalize_date("2025/4/30").unwrap(), "2025-04-30");
        assert_eq!(normalize_date("20250430").unwrap(), "2025-04-30");
        assert_eq!(
            normalize_date("２０２５／０４／３０").unwrap(),
            "2025-04-30"
        );
        assert_eq!(normalize_date("").unwrap(), Value::Null);
        assert!(normalize_date("25/4/30").is_none());
        assert!(normalize_date("2025/2/30").is_none());
        assert_eq!(normalize_number("1,200").unwrap(), "1200");
        assert_eq!(normalize_number("-3.5").unwrap(), "-3.5");
        assert!(normalize_number("1.").is_none());
        assert!(normalize_number("abc").is_none());
    }
}
