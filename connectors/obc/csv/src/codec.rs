//! Text encodings of 奉行 CSV files: CP932 (Windows Shift_JIS) and UTF-8 with a BOM.
//!
//! `encoding_rs` decodes CP932 per the WHATWG Shift_JIS spec, which is Microsoft's table, and
//! encodes the way Windows does (a character in both NEC row 13 and the IBM extensions goes to
//! NEC row 13; the NEC-selected IBM extensions 0xED/0xEE go to the IBM rows 0xFA–0xFC), so
//! every file 奉行 writes comes back byte-identical. Two gaps are filled here:
//! - the user-defined area (外字, 0xF040–0xF9FC) decodes to U+E000–U+E757 but encoding_rs
//!   does not encode it back: it is encoded by the standard's formula below;
//! - text typed on a Mac or Linux carries the JIS X 0208 code points (〜 U+301C, − U+2212…)
//!   where CP932 has the Windows ones (～ U+FF5E, － U+FF0D…): they are the same characters
//!   and are written as Windows writes them.
//!
//! Anything else CP932 cannot represent is an error naming the character, never a '?'.

use encoding_rs::{DecoderResult, EncoderResult, SHIFT_JIS};

/// The encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Cp932,
    Utf8,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Cp932 => "Shift_JIS (CP932)",
            Encoding::Utf8 => "UTF-8",
        }
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The file's encoding and its content without a BOM: UTF-8 when it starts with a BOM or is
/// valid UTF-8 (CP932 text with any Japanese character almost never is), else CP932.
pub fn detect(bytes: &[u8]) -> (Encoding, &[u8]) {
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return (Encoding::Utf8, rest);
    }
    if std::str::from_utf8(bytes).is_ok() {
        (Encoding::Utf8, bytes)
    } else {
        (Encoding::Cp932, bytes)
    }
}

/// Bytes that do not decode: where (byte offset in the field) and which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable {
    pub offset: usize,
    pub bytes: Vec<u8>,
}

impl Undecodable {
    pub fn hex(&self) -> String {
        self.bytes
            .iter()
            .map(|b| format!("0x{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Decodes one field; the first malformed sequence is an error.
pub fn decode(bytes: &[u8], enc: Encoding) -> Result<String, Undecodable> {
    match enc {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => {
                let at = e.valid_up_to();
                let len = e.error_len().unwrap_or(bytes.len() - at);
                Err(Undecodable {
                    offset: at,
                    bytes: bytes[at..at + len].to_vec(),
                })
            }
        },
        Encoding::Cp932 => decode_cp932(bytes),
    }
}

fn decode_cp932(bytes: &[u8]) -> Result<String, Undecodable> {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len() * 3 / 2 + 4);
    let mut read = 0;
    loop {
        let cap = decoder
            .max_utf8_buffer_length_without_replacement(bytes.len() - read)
            .unwrap_or(bytes.len() * 3 + 16);
        out.reserve(cap);
        let (result, n) =
            decoder.decode_to_string_without_replacement(&bytes[read..], &mut out, true);
        read += n;
        match result {
            DecoderResult::InputEmpty => return Ok(out),
            DecoderResult::OutputFull => continue,
            DecoderResult::Malformed(bad, after) => {
                // `bad` bytes ending `after` bytes before `read` were malformed.
                let end = read - after as usize;
                let start = end.saturating_sub(bad as usize);
                return Err(Undecodable {
                    offset: start,
                    bytes: bytes[start..end].to_vec(),
                });
            }
        }
    }
}

/// A character CP932 cannot represent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unencodable {
    pub ch: char,
    /// Position of the character in the text (in characters, from 0).
    pub index: usize,
}

impl Unencodable {
    pub fn describe(&self) -> String {
        format!("「{}」(U+{:04X})", self.ch, self.ch as u32)
    }
}

/// The Windows (CP932) code point for a JIS X 0208 mapping of the same character.
fn windows_equivalent(c: char) -> Option<char> {
    Some(match c {
        '\u{301C}' => '\u{FF5E}', // 〜 WAVE DASH → ～
        '\u{2016}' => '\u{2225}', // ‖ → ∥
        '\u{2212}' => '\u{FF0D}', // − MINUS SIGN → －
        '\u{00A2}' => '\u{FFE0}', // ¢
        '\u{00A3}' => '\u{FFE1}', // £
        '\u{00AC}' => '\u{FFE2}', // ¬
        '\u{2014}' => '\u{2015}', // — EM DASH → ―
        '\u{00A6}' => '\u{FFE4}', // ¦
        _ => return None,
    })
}

/// The two bytes of a user-defined character (外字, U+E000–U+E757 ↔ 0xF040–0xF9FC).
fn eudc_bytes(c: char) -> Option<[u8; 2]> {
    let cp = c as u32;
    if !(0xE000..=0xE757).contains(&cp) {
        return None;
    }
    let pointer = cp - 0xE000 + 8836;
    let lead = pointer / 188;
    let trail = pointer % 188;
    let lead = lead + if lead < 0x1F { 0x81 } else { 0xC1 };
    let trail = trail + if trail < 0x3F { 0x40 } else { 0x41 };
    Some([lead as u8, trail as u8])
}

/// A private-use character's name for a person: its CP932 code (`0xF040`) for a 外字, which is
/// what 奉行 and the Windows 外字エディタ show, else `U+E800`. `None` for any other character.
/// In a CP932 file only 外字 decode to private-use code points; their meaning lives in the
/// font of the PC that made them, so no other system can show them.
pub fn private_use_label(c: char) -> Option<String> {
    if !('\u{E000}'..='\u{F8FF}').contains(&c) {
        return None;
    }
    Some(match eudc_bytes(c) {
        Some([lead, trail]) => format!("0x{lead:02X}{trail:02X}"),
        None => format!("U+{:04X}", c as u32),
    })
}

/// Appends `text` in CP932 to `out`, or names the first character it cannot represent
/// (`out` is then left as it was).
pub fn encode_cp932(text: &str, out: &mut Vec<u8>) -> Result<(), Unencodable> {
    let start_len = out.len();
    let mut encoder = SHIFT_JIS.new_encoder();
    let mut rest = text;
    loop {
        let cap = encoder
            .max_buffer_length_from_utf8_without_replacement(rest.len())
            .unwrap_or(rest.len() * 2 + 16);
        out.reserve(cap);
        let (result, read) = encoder.encode_from_utf8_to_vec_without_replacement(rest, out, true);
        rest = &rest[read..];
        match result {
            EncoderResult::InputEmpty => return Ok(()),
            EncoderResult::OutputFull => continue,
            EncoderResult::Unmappable(c) => {
                if let Some(b) = eudc_bytes(c) {
                    out.extend_from_slice(&b);
                } else if let Some(w) = windows_equivalent(c) {
                    let mut buf = [0u8; 4];
                    // The equivalents are all in CP932, so this cannot fail.
                    if encode_cp932(w.encode_utf8(&mut buf), out).is_err() {
                        out.truncate(start_len);
                        return Err(unencodable(text, rest, c));
                    }
                } else {
                    out.truncate(start_len);
                    return Err(unencodable(text, rest, c));
                }
            }
        }
    }
}

fn unencodable(text: &str, rest: &str, c: char) -> Unencodable {
    // `rest` starts just after `c`.
    let end = text.len() - rest.len();
    let index = text[..end].chars().count().saturating_sub(1);
    Unencodable { ch: c, index }
}

/// Whether `text` can be written in CP932.
pub fn check_cp932(text: &str) -> Result<(), Unencodable> {
    let mut scratch = Vec::new();
    encode_cp932(text, &mut scratch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    /// Text as 奉行 (Windows) writes it: NEC special characters, IBM extension kanji,
    /// half-width kana, user-defined characters, backslash and tilde.
    const CORPUS: &str = "81 40 87 40 87 41 87 8A 87 54 87 82 87 84 FB FC FA B1 FA 40 FA 5C FA 55 \
        81 E0 81 CA 81 E6 B1 B2 B3 DE DF 0D 0A 5C 7E 88 9F 82 A0 83 41 F0 40 F9 FC 87 93 87 94";

    #[test]
    fn windows_cp932_round_trips_byte_identical() {
        let bytes = hex(CORPUS);
        let text = decode(&bytes, Encoding::Cp932).unwrap();
        for c in [
            '①', '②', '㈱', 'Ⅰ', '№', '℡', '髙', '﨑', 'ⅰ', '纊', '≒', '￢', '∵', 'ｱ', 'ﾟ',
        ] {
            assert!(text.contains(c), "{c} missing from {text}");
        }
        let mut back = Vec::new();
        encode_cp932(&text, &mut back).unwrap();
        assert_eq!(back, bytes);
    }

    #[test]
    fn every_windows_byte_pair_round_trips() {
        // All double-byte codes Windows writes: everything but the NEC-selected IBM rows
        // (0xED/0xEE) and the duplicates below, which Windows itself writes elsewhere.
        let duplicates: &[u16] = &[
            0x8790, 0x8791, 0x8792, 0x8795, 0x8796, 0x8797, 0x879A, 0x879B, 0x879C, 0xFA4A, 0xFA4B,
            0xFA4C, 0xFA4D, 0xFA4E, 0xFA4F, 0xFA50, 0xFA51, 0xFA52, 0xFA53, 0xFA54, 0xFA58, 0xFA59,
            0xFA5A, 0xFA5B,
        ];
        let mut checked = 0;
        for lead in (0x81u8..=0x9F).chain(0xE0..=0xFC) {
            for trail in (0x40u8..=0x7E).chain(0x80..=0xFC) {
                let code = u16::from(lead) << 8 | u16::from(trail);
                if lead == 0xED || lead == 0xEE || duplicates.contains(&code) {
                    continue;
                }
                let b = [lead, trail];
                let Ok(text) = decode(&b, Encoding::Cp932) else {
                    continue; // unassigned
                };
                let mut back = Vec::new();
                encode_cp932(&text, &mut back)
                    .unwrap_or_else(|e| panic!("{code:04X} {text}: {e:?}"));
                assert_eq!(back, b, "{code:04X} {text}");
                checked += 1;
            }
        }
        assert!(checked > 9000, "{checked}");
    }

    #[test]
    fn duplicates_read_as_the_same_character_and_are_written_as_windows_does() {
        // ㈱ as IBM extension 0xFA58, ≒ as NEC row 13 0x8790, 纊 as NEC-selected 0xED40.
        let text = decode(&hex("FA 58 87 90 ED 40"), Encoding::Cp932).unwrap();
        assert_eq!(text, "㈱≒纊");
        let mut back = Vec::new();
        encode_cp932(&text, &mut back).unwrap();
        assert_eq!(back, hex("87 8A 81 E0 FA 5C"));
    }

    #[test]
    fn user_defined_characters_decode_to_private_use_and_are_named_by_code() {
        let text = decode(&hex("8A 94 F0 40 F9 FC"), Encoding::Cp932).unwrap();
        assert_eq!(text, "株\u{E000}\u{E757}");
        let labels: Vec<Option<String>> = text.chars().map(private_use_label).collect();
        assert_eq!(labels, [None, Some("0xF040".into()), Some("0xF9FC".into())]);
        assert_eq!(private_use_label('\u{E800}').as_deref(), Some("U+E800"));
    }

    #[test]
    fn jis_code_points_are_written_as_their_windows_equivalents() {
        let mut out = Vec::new();
        encode_cp932("〜−‖—¢£¬", &mut out).unwrap();
        assert_eq!(out, hex("81 60 81 7C 81 61 81 5C 81 91 81 92 81 CA"));
    }

    #[test]
    fn an_unencodable_character_is_named_with_its_position() {
        let mut out = b"x".to_vec();
        let err = encode_cp932("株式会社𠮷野家", &mut out).unwrap_err();
        assert_eq!(err.ch, '𠮷');
        assert_eq!(err.index, 4);
        assert_eq!(out, b"x", "nothing half-written");
        assert!(err.describe().contains("U+20BB7"));
        assert!(check_cp932("😀").is_err());
        assert!(check_cp932("ｶﾌﾞｼｷｶﾞｲｼｬ").is_ok());
    }

    #[test]
    fn undecodable_bytes_are_located() {
        let e = decode(&hex("82 A0 A0 82 A2"), Encoding::Cp932).unwrap_err();
        assert_eq!(e.offset, 2);
        assert_eq!(e.hex(), "0xA0");
        let e = decode(&hex("41 E3 81"), Encoding::Utf8).unwrap_err();
        assert_eq!(e.offset, 1);
    }

    #[test]
    fn detects_bom_utf8_and_cp932() {
        let (e, rest) = detect(b"\xEF\xBB\xBFabc");
        assert_eq!((e, rest), (Encoding::Utf8, &b"abc"[..]));
        assert_eq!(detect("取引先".as_bytes()).0, Encoding::Utf8);
        assert_eq!(detect(&hex("8E E6 88 F8 90 E6")).0, Encoding::Cp932);
    }
}
