//! Cell text of CMS files: UTF-8 when it is, Windows-1252 when it is not, and header names compared
//! the way people type them.

/// Decodes one cell. CMS files are often Windows-1252 (`é`, `–` in descriptions): a cell that is
/// not valid UTF-8 is read as Windows-1252, so no byte is lost or replaced. Returns the text and
/// whether the fallback was used.
pub fn decode_cell(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (bytes.iter().map(|&b| windows_1252(b)).collect(), true),
    }
}

/// One Windows-1252 byte as a char (the WHATWG mapping: the five unassigned bytes in 0x80..0xA0
/// become the C1 controls of the same value, as in ISO 8859-1).
fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}',
        '\u{017D}', '\u{008F}', '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}',
        '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}',
        '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
    ];
    match b {
        0x80..=0x9F => HIGH
            .get(usize::from(b - 0x80))
            .copied()
            .unwrap_or(char::from(b)),
        _ => char::from(b),
    }
}

/// A header name as compared: trimmed, internal whitespace (line breaks in quoted cells included)
/// collapsed to one space, upper case.
pub fn normalize_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_kept_and_windows_1252_is_decoded() {
        assert_eq!(
            decode_cell("Caf\u{e9}".as_bytes()),
            ("Caf\u{e9}".into(), false)
        );
        assert_eq!(
            decode_cell(b"Caf\xE9 \x96 \x93x\x94 \x81"),
            ("Caf\u{e9} \u{2013} \u{201C}x\u{201D} \u{81}".into(), true)
        );
    }

    #[test]
    fn names_are_trimmed_collapsed_and_upper_cased() {
        assert_eq!(normalize_name("  Glob\r\n  days "), "GLOB DAYS");
        assert_eq!(
            normalize_name("PHYSICIAN SUPERVISION OF\nDIAGNOSTIC PROCEDURES"),
            "PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES"
        );
    }
}
