//! Record values as a person reads them in a report or a terminal: control characters (NUL, BEL,
//! ESC, line breaks) as visible `\u{1b}` escapes, and long values cut with the number of
//! characters left out. findings.json and the CSVs keep every value whole.

/// The most characters of one value shown in a report row or a terminal line.
pub const SHOWN_CHARS: usize = 500;

/// `text` with control characters escaped and, past `max` characters, cut with
/// "... N more characters".
pub fn shown(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 2));
    let mut chars = text.chars();
    for (count, c) in chars.by_ref().enumerate() {
        if count == max {
            let more = 1 + chars.count();
            out.push_str(&format!("... {} more characters", group(more)));
            return out;
        }
        if c.is_control() || is_bidi_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// The bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they
/// reorder the text around them as displayed ("Trojan Source"), so a value could show one id and
/// hold another. Shown as escapes; the marks (U+200E, U+200F) that only steer punctuation stay.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// 48213 -> "48,213".
pub fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters_and_cuts_long_values() {
        assert_eq!(
            shown("a\u{1b}[31mb\u{7}\n", 100),
            "a\\u{1b}[31mb\\u{7}\\u{a}"
        );
        assert_eq!(
            shown(&"x".repeat(50_005), 5),
            "xxxxx... 50,000 more characters"
        );
        assert_eq!(shown("exactly", 7), "exactly");
        assert_eq!(shown("E1\u{202e}cba", 100), "E1\\u{202e}cba");
        assert_eq!(shown("Albany 医院 🏥", 100), "Albany 医院 🏥");
    }
}
