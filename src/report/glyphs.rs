//! The fonts of report.pdf and the text they can show.
//!
//! PDF/A forbids a character drawn without a glyph, and typst's embedded text fonts cover Latin,
//! Greek and Cyrillic only: one facility name in Chinese or one emoji used to stop the audit.
//! GNU Unifont (`assets/fonts/`, SIL OFL 1.1) is embedded as the fallback: a glyph for every
//! character of the Basic Multilingual Plane and most of plane 1, emoji among them. A character
//! that still has no glyph in any font (an unassigned code point, a private-use character) and
//! every control character but line feed and tab is shown as a visible `\u{e000}` escape, so no
//! value can stop the PDF. (Record values are cut at 500 characters by the report model,
//! `report::shown`, before they get here.)

use std::io::Read as _;
use std::sync::LazyLock;

use typst::foundations::Bytes;
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;

/// Unifont's BMP and plane-1 faces, gzip-compressed (1.5 MB instead of 5.9 MB).
const FALLBACK_FONTS: [&[u8]; 2] = [
    include_bytes!("../../assets/fonts/unifont-15.0.01.otf.gz"),
    include_bytes!("../../assets/fonts/unifont_upper-15.0.01.otf.gz"),
];

/// The most a decompressed fallback font may take (the two are 5.1 MB and 0.9 MB).
const FALLBACK_FONT_MAX_BYTES: u64 = 16 << 20;

/// The embedded fonts, parsed once per process: typst's text fonts first, so they are chosen
/// wherever they have the glyph, then the fallback.
pub static FONTS: LazyLock<(LazyHash<FontBook>, Vec<Font>)> = LazyLock::new(|| {
    let mut fonts: Vec<Font> = typst_kit::fonts::embedded().map(|(font, _)| font).collect();
    for compressed in FALLBACK_FONTS {
        let mut data = Vec::new();
        let read = flate2::read::GzDecoder::new(compressed)
            .take(FALLBACK_FONT_MAX_BYTES)
            .read_to_end(&mut data);
        // The bytes are part of the binary; a failure here is a broken build, and the report
        // then shows the characters those fonts would have drawn as escapes.
        if read.is_ok() {
            fonts.extend(Font::iter(Bytes::new(data)));
        }
    }
    (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
});

/// Whether some embedded font has a glyph for `c`.
fn drawable(book: &FontBook, c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_control() || c == '\n' || c == '\t';
    }
    if c.is_control() {
        return false;
    }
    let mut i = 0;
    while let Some(info) = book.info(i) {
        if info.coverage.contains(u32::from(c)) {
            return true;
        }
        i += 1;
    }
    false
}

/// `json` (the serialized report model) with every string made drawable: control characters
/// (but line feed and tab) and characters no embedded font has become the visible text
/// `\u{1f600}`. The JSON structure is untouched.
pub fn drawable_json(json: &[u8]) -> Vec<u8> {
    let book = &FONTS.0;
    let Ok(text) = std::str::from_utf8(json) else {
        // serde_json writes UTF-8; anything else is passed on for typst to report.
        return json.to_vec();
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if !in_string {
            out.push(c);
            in_string = c == '"';
            continue;
        }
        let shown = match c {
            '"' => {
                out.push('"');
                in_string = false;
                continue;
            }
            '\\' => match chars.next() {
                // serde_json's escapes: the quote, the backslash, the slash and line feed and
                // tab stay; every other control character is shown as an escape.
                Some(e @ ('"' | '\\' | '/' | 'n' | 't')) => Shown::Escape(e),
                Some('b') => Shown::Visible(0x8),
                Some('f') => Shown::Visible(0xc),
                Some('r') => Shown::Visible(0xd),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    match u32::from_str_radix(&hex, 16) {
                        Ok(code) if code < 0x20 || (0x7f..0xa0).contains(&code) => {
                            Shown::Visible(code)
                        }
                        _ => Shown::Raw(format!("\\u{hex}")),
                    }
                }
                Some(other) => Shown::Raw(format!("\\{other}")),
                None => Shown::Raw("\\".into()),
            },
            c if drawable(book, c) => Shown::Char(c),
            c => Shown::Visible(u32::from(c)),
        };
        match shown {
            Shown::Char(c) => out.push(c),
            Shown::Escape(e) => {
                out.push('\\');
                out.push(e);
            }
            // The text `\u{1b}`: a backslash escaped for JSON, then the rest.
            Shown::Visible(code) => out.push_str(&format!("\\\\u{{{code:x}}}")),
            Shown::Raw(raw) => out.push_str(&raw),
        }
    }
    out.into_bytes()
}

/// One character of a JSON string as it reaches typst.
enum Shown {
    /// Drawn as it is.
    Char(char),
    /// A JSON escape kept as it is (`\n`, `\"`).
    Escape(char),
    /// Shown as the text `\u{…}` of this code point.
    Visible(u32),
    /// Passed on as written.
    Raw(String),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn through(value: &str) -> String {
        let json = serde_json::to_vec(&serde_json::json!({ "v": value })).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&drawable_json(&json)).unwrap();
        back["v"].as_str().unwrap().to_string()
    }

    #[test]
    fn the_fallback_font_draws_cjk_hangul_and_emoji() {
        assert_eq!(through("Albany 医院 🏥 병원 ĳ"), "Albany 医院 🏥 병원 ĳ");
        assert_eq!(
            through("line\nnext\ttab \"q\" \\"),
            "line\nnext\ttab \"q\" \\"
        );
    }

    #[test]
    fn control_and_glyphless_characters_become_visible_escapes() {
        assert_eq!(
            through("a\u{1b}[31m\u{7}\u{0}\r\u{8}"),
            "a\\u{1b}[31m\\u{7}\\u{0}\\u{d}\\u{8}"
        );
        assert_eq!(through("x\u{85}\u{7f}"), "x\\u{85}\\u{7f}");
        // Plane 15 and 16 private use: no font has them. (U+E000 is Libertinus's `fb` ligature.)
        assert_eq!(through("\u{f0000}\u{10fffd}"), "\\u{f0000}\\u{10fffd}");
    }

    /// The fallback fonts' cost to the binary: 1.5 MB as embedded (gzip), 5.9 MB once loaded.
    #[test]
    fn the_fallback_fonts_stay_small() {
        let embedded: usize = FALLBACK_FONTS.iter().map(|f| f.len()).sum();
        assert!(embedded < 2 << 20, "{embedded} bytes embedded");
        // Both faces parse: typst's own fonts plus two.
        assert_eq!(FONTS.1.len(), typst_kit::fonts::embedded().count() + 2);
    }

    #[test]
    fn the_structure_is_kept() {
        let json = br#"{"a":[1,2.5,true,null,{"b":"c\u0000"}],"d":"e"}"#;
        let expected = br#"{"a":[1,2.5,true,null,{"b":"c\\u{0}"}],"d":"e"}"#;
        assert_eq!(drawable_json(json), expected.to_vec());
    }
}
