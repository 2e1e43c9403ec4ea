//! Typing of raw cells into values per the field types of docs/bundle-format.md ("Datasets and
//! fields", "Values").

use super::Record;
use super::read::Sink;
use super::schema::{FieldDef, FieldType};
use super::time::{parse_date, parse_timestamp};
use super::value::{RawValue, Value};

/// A reader's sink that types every record as it is read: CSV cells straight from the row's
/// bytes, JSON cells from their raw values. Naive local times stay [`Value::Local`] until the
/// loader knows their zone.
pub struct TypingSink<'f> {
    pub fields: &'f [FieldDef],
    /// Index of the file in the bundle, stored on each record.
    pub file: u32,
    pub records: Vec<Record>,
    /// The row being typed, one value per field, reused from record to record: all missing
    /// between records.
    pub scratch: Vec<Value>,
}

impl<'f> TypingSink<'f> {
    pub fn new(fields: &'f [FieldDef], file: u32) -> TypingSink<'f> {
        TypingSink {
            fields,
            file,
            records: Vec::new(),
            scratch: vec![Value::Missing; fields.len()],
        }
    }

    /// Keeps the typed row of `scratch` as a record (leaving `scratch` all missing).
    fn push(&mut self, line: u32) {
        self.records
            .push(Record::new(self.file, line, &mut self.scratch));
    }
}

impl Sink for TypingSink<'_> {
    fn cells(&mut self, line: u32, cells: Vec<Option<RawValue>>) {
        for ((slot, field), cell) in self.scratch.iter_mut().zip(self.fields).zip(&cells) {
            if let Some(raw) = cell {
                *slot = type_value(raw, field.ty);
            }
        }
        self.push(line);
    }

    fn csv_row(&mut self, line: u32, row: &csv::ByteRecord, columns: &[Option<usize>]) -> bool {
        for (cell, column) in row.iter().zip(columns) {
            let Ok(text) = std::str::from_utf8(cell) else {
                // Not a record: the row typed so far is dropped.
                self.scratch.fill(Value::Missing);
                return false;
            };
            if let (Some(idx), false) = (*column, text.is_empty())
                && let (Some(slot), Some(field)) = (self.scratch.get_mut(idx), self.fields.get(idx))
            {
                *slot = type_text(text, field.ty);
            }
        }
        self.push(line);
        true
    }
}

/// Types one present text cell (a CSV cell or a JSON string): the same as [`type_value`] of
/// `RawValue::Text`, without copying the text first.
pub fn type_text(s: &str, ty: FieldType) -> Value {
    typed_text(s, ty).unwrap_or_else(|| Value::Invalid(s.into()))
}

fn typed_text(s: &str, ty: FieldType) -> Option<Value> {
    match ty {
        FieldType::Str => Some(Value::Str(s.into())),
        FieldType::Int => parse_int(s).map(Value::Int),
        FieldType::Float => parse_float(s).map(Value::Float),
        FieldType::Bool => text_bool(s).map(Value::Bool),
        FieldType::Date => parse_date(s).map(Value::Date),
        FieldType::Ts => parse_timestamp(s),
        FieldType::Enum(values) => parse_enum(s, values).map(Value::Enum),
        FieldType::List => Some(Value::List(split_items(s).into())),
    }
}

/// Types one present raw value as `ty`, per the accepted spellings of docs/bundle-format.md
/// ("Values", "Timestamps"). A value that does not parse is [`Value::Invalid`] holding the raw
/// text; the result is never [`Value::Missing`] (missing values never get here). Timestamps
/// without an offset come back as [`Value::Local`], for the caller to place in a zone.
///
/// Where the spec is silent:
/// - a JSON boolean is not text: for a `str` or `list` field (or as a list item) it is invalid,
///   since `true` is far more likely a column mix-up than a name or code;
/// - JSON numbers count as text everywhere text is read except dates, timestamps and enums,
///   where they cannot be valid anyway (`20260105` is not a date);
/// - a float may be written any way Rust reads a finite decimal (`+1.5`, `.5`, `5.`, `1e3`), but
///   never `NaN`, `inf` or `infinity`, and a value too large for `f64` is invalid;
/// - an int may have leading zeros (`007` is 7) but no `+`, fraction or exponent;
/// - a bare JSON number for a list field is a one-item list of its text.
pub fn type_value(raw: &RawValue, ty: FieldType) -> Value {
    typed(raw, ty).unwrap_or_else(|| Value::Invalid(raw.display().into()))
}

fn typed(raw: &RawValue, ty: FieldType) -> Option<Value> {
    if let RawValue::Text(s) = raw {
        return typed_text(s, ty);
    }
    match ty {
        FieldType::Str => text_or_number(raw).map(|s| Value::Str(s.into())),
        FieldType::Int => text_or_number(raw).and_then(parse_int).map(Value::Int),
        FieldType::Float => text_or_number(raw).and_then(parse_float).map(Value::Float),
        FieldType::Bool => parse_bool(raw).map(Value::Bool),
        FieldType::Date => text(raw).and_then(parse_date).map(Value::Date),
        FieldType::Ts => text(raw).and_then(parse_timestamp),
        FieldType::Enum(values) => text(raw)
            .and_then(|s| parse_enum(s, values))
            .map(Value::Enum),
        FieldType::List => parse_list(raw).map(|items| Value::List(items.into())),
    }
}

fn text(raw: &RawValue) -> Option<&str> {
    match raw {
        RawValue::Text(s) => Some(s),
        _ => None,
    }
}

fn text_or_number(raw: &RawValue) -> Option<&str> {
    match raw {
        RawValue::Text(s) | RawValue::Number(s) => Some(s),
        _ => None,
    }
}

/// An optional `-` and digits only: `3.0`, `1e3`, `+3` and ` 3` are not ints.
fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Rust's float parser also reads `inf`, `infinity` and `NaN`; only digits, a point, an exponent
/// and signs are let through to it, and the result must be finite (`1e999` is invalid).
fn parse_float(s: &str) -> Option<f64> {
    let numeric = s
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !numeric {
        return None;
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn parse_bool(raw: &RawValue) -> Option<bool> {
    match raw {
        RawValue::Bool(b) => Some(*b),
        RawValue::Number(n) => match n.as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
        RawValue::Text(s) => text_bool(s),
        RawValue::Array(_) | RawValue::Other(_) => None,
    }
}

fn text_bool(s: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["true", "yes", "y", "1"];
    const FALSE: [&str; 4] = ["false", "no", "n", "0"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(s)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(s)) {
        Some(false)
    } else {
        None
    }
}

/// The schema's own string, so every `Completed` and `COMPLETED` shares one `&'static str`.
fn parse_enum(s: &str, values: &'static [&'static str]) -> Option<&'static &'static str> {
    values.iter().find(|v| v.eq_ignore_ascii_case(s))
}

/// A CSV cell or JSON string is `;`-separated; a JSON array holds one item per element. Either
/// way items are trimmed and empty ones dropped, so `" ; "` is a present, empty list.
fn parse_list(raw: &RawValue) -> Option<Box<[Box<str>]>> {
    match raw {
        RawValue::Text(s) | RawValue::Number(s) => Some(split_items(s)),
        RawValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let s = text_or_number(item)?.trim();
                if !s.is_empty() {
                    out.push(s.into());
                }
            }
            Some(out.into_boxed_slice())
        }
        RawValue::Bool(_) | RawValue::Other(_) => None,
    }
}

fn split_items(s: &str) -> Box<[Box<str>]> {
    s.split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(Box::from)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::bundle::schema::{EXAM_STATUSES, REACTION_TYPES};
    use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};

    fn t(s: &str) -> RawValue {
        RawValue::Text(s.to_string())
    }

    #[test]
    fn a_record_keeps_no_missing_values_at_its_end_and_reads_them_as_missing() {
        use crate::bundle::schema::Dataset;
        let fields = Dataset::Exams.fields();
        let mut sink = TypingSink::new(fields, 3);
        let columns: Vec<Option<usize>> = (0..fields.len()).map(Some).collect();
        let mut row = csv::ByteRecord::new();
        for i in 0..fields.len() {
            row.push_field(if i < 2 { b"X1" } else { b"" });
        }
        assert!(sink.csv_row(7, &row, &columns));
        // A row that is no record (bad UTF-8 after a good cell) leaves nothing behind.
        let mut bad = csv::ByteRecord::new();
        bad.push_field(b"LEFT-BEHIND");
        bad.push_field(b"\xff");
        assert!(!sink.csv_row(8, &bad, &columns));
        sink.cells(8, vec![None, Some(t("F")), None]);
        sink.cells(9, Vec::new());
        assert_eq!(sink.records.len(), 3);
        let (first, second, empty) = (&sink.records[0], &sink.records[1], &sink.records[2]);
        assert_eq!((first.file, first.line, first.values.len()), (3, 7, 2));
        assert_eq!(first.str(1), Some("X1"));
        assert_eq!(second.values.len(), 2);
        assert_eq!(second.get(0), &Value::Missing);
        assert_eq!(second.str(1), Some("F"));
        assert!(empty.values.is_empty());
        for r in [first, second, empty] {
            assert_eq!(r.get(fields.len() - 1), &Value::Missing);
            assert_eq!(r.get(fields.len() + 5), &Value::Missing);
        }
        assert!(sink.scratch.iter().all(|v| *v == Value::Missing));
    }

    fn n(s: &str) -> RawValue {
        RawValue::Number(s.to_string())
    }

    fn invalid(s: &str) -> Value {
        Value::Invalid(s.into())
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Box::from(*s)).collect())
    }

    #[test]
    fn text_is_kept_as_written() {
        assert_eq!(
            type_value(&t(" a b "), FieldType::Str),
            Value::Str(" a b ".into())
        );
        assert_eq!(
            type_value(&t("70460"), FieldType::Str),
            Value::Str("70460".into())
        );
        assert_eq!(
            type_value(&n("70460"), FieldType::Str),
            Value::Str("70460".into())
        );
        assert_eq!(
            type_value(&n("1e3"), FieldType::Str),
            Value::Str("1e3".into())
        );
    }

    #[test]
    fn text_rejects_booleans_arrays_and_objects() {
        assert_eq!(
            type_value(&RawValue::Bool(true), FieldType::Str),
            invalid("true")
        );
        let arr = RawValue::Array(vec![t("a"), t("b")]);
        assert_eq!(type_value(&arr, FieldType::Str), invalid("[a, b]"));
        let obj = RawValue::Other("{\"a\":1}".to_string());
        assert_eq!(type_value(&obj, FieldType::Str), invalid("{\"a\":1}"));
    }

    #[test]
    fn ints_are_digits_with_an_optional_minus() {
        let cases = [("3", 3), ("-3", -3), ("0", 0), ("-0", 0), ("007", 7)];
        for (input, want) in cases {
            assert_eq!(
                type_value(&t(input), FieldType::Int),
                Value::Int(want),
                "{input}"
            );
            assert_eq!(
                type_value(&n(input), FieldType::Int),
                Value::Int(want),
                "{input}"
            );
        }
        assert_eq!(
            type_value(&t("9223372036854775807"), FieldType::Int),
            Value::Int(i64::MAX)
        );
        assert_eq!(
            type_value(&n("-9223372036854775808"), FieldType::Int),
            Value::Int(i64::MIN)
        );
    }

    #[test]
    fn ints_reject_fractions_exponents_signs_and_spaces() {
        for input in [
            "3.0",
            "1e3",
            "+3",
            " 3",
            "3 ",
            "-",
            "--3",
            "3-",
            "0x10",
            "1_000",
            "NaN",
            "9223372036854775808",
            "abc",
        ] {
            assert_eq!(
                type_value(&t(input), FieldType::Int),
                invalid(input),
                "{input}"
            );
            assert_eq!(
                type_value(&n(input), FieldType::Int),
                invalid(input),
                "{input}"
            );
        }
        assert_eq!(
            type_value(&RawValue::Bool(true), FieldType::Int),
            invalid("true")
        );
    }

    #[test]
    fn floats_accept_numeric_text_and_numbers() {
        let cases = [
            ("3", 3.0),
            ("3.0", 3.0),
            ("-2.5", -2.5),
            ("+1.5", 1.5),
            (".5", 0.5),
            ("1e3", 1000.0),
            ("1E-2", 0.01),
            ("100", 100.0),
        ];
        for (input, want) in cases {
            assert_eq!(
                type_value(&t(input), FieldType::Float),
                Value::Float(want),
                "{input}"
            );
            assert_eq!(
                type_value(&n(input), FieldType::Float),
                Value::Float(want),
                "{input}"
            );
        }
    }

    #[test]
    fn floats_reject_nan_infinity_and_overflow() {
        for input in [
            "NaN",
            "nan",
            "-NaN",
            "inf",
            "-inf",
            "+inf",
            "INF",
            "Infinity",
            "-infinity",
            "1e999",
            "-1e999",
            " 1.5",
            "1.5 ",
            "1,5",
            "",
            ".",
            "e3",
            "1.5ml",
            "0x1p3",
        ] {
            assert_eq!(
                type_value(&t(input), FieldType::Float),
                invalid(input),
                "{input:?}"
            );
        }
        assert_eq!(type_value(&n("1e999"), FieldType::Float), invalid("1e999"));
        assert_eq!(
            type_value(&RawValue::Bool(false), FieldType::Float),
            invalid("false")
        );
    }

    #[test]
    fn bool_spellings_in_any_case() {
        for input in ["true", "TRUE", "True", "yes", "YES", "Yes", "y", "Y", "1"] {
            assert_eq!(
                type_value(&t(input), FieldType::Bool),
                Value::Bool(true),
                "{input}"
            );
        }
        for input in ["false", "FALSE", "False", "no", "NO", "No", "n", "N", "0"] {
            assert_eq!(
                type_value(&t(input), FieldType::Bool),
                Value::Bool(false),
                "{input}"
            );
        }
        assert_eq!(
            type_value(&RawValue::Bool(true), FieldType::Bool),
            Value::Bool(true)
        );
        assert_eq!(
            type_value(&RawValue::Bool(false), FieldType::Bool),
            Value::Bool(false)
        );
        assert_eq!(type_value(&n("1"), FieldType::Bool), Value::Bool(true));
        assert_eq!(type_value(&n("0"), FieldType::Bool), Value::Bool(false));
    }

    #[test]
    fn bool_rejects_other_spellings_and_numbers() {
        for input in [
            " true", "true ", "t", "f", "on", "off", "2", "-1", "1.0", "yess", "ye",
        ] {
            assert_eq!(
                type_value(&t(input), FieldType::Bool),
                invalid(input),
                "{input:?}"
            );
        }
        for input in ["2", "1.0", "0.0", "-0", "1e0"] {
            assert_eq!(
                type_value(&n(input), FieldType::Bool),
                invalid(input),
                "{input}"
            );
        }
        let arr = RawValue::Array(vec![RawValue::Bool(true)]);
        assert_eq!(type_value(&arr, FieldType::Bool), invalid("[true]"));
    }

    #[test]
    fn dates_from_text_only() {
        assert_eq!(
            type_value(&t("2026-03-31"), FieldType::Date),
            Value::Date(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap())
        );
        for input in [
            "2026-02-30",
            " 2026-03-31",
            "2026-03-31T00:00:00",
            "03/31/2026",
        ] {
            assert_eq!(
                type_value(&t(input), FieldType::Date),
                invalid(input),
                "{input}"
            );
        }
        assert_eq!(
            type_value(&n("20260331"), FieldType::Date),
            invalid("20260331")
        );
    }

    #[test]
    fn timestamps_keep_offsets_or_stay_local() {
        assert_eq!(
            type_value(&t("2026-01-05T14:03:22-06:00"), FieldType::Ts),
            Value::Ts(Utc.with_ymd_and_hms(2026, 1, 5, 20, 3, 22).unwrap())
        );
        let local =
            NaiveDateTime::parse_from_str("2026-01-05 14:03:22", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            type_value(&t("2026-01-05 14:03:22"), FieldType::Ts),
            Value::Local(local)
        );
        for input in [
            "2026-01-05",
            "2026-01-05T14:03",
            "2026-02-30T10:00:00Z",
            " 2026-01-05T14:03:22Z",
        ] {
            assert_eq!(
                type_value(&t(input), FieldType::Ts),
                invalid(input),
                "{input:?}"
            );
        }
        assert_eq!(
            type_value(&n("1767621802"), FieldType::Ts),
            invalid("1767621802")
        );
    }

    #[test]
    fn enums_match_case_insensitively_to_the_schema_string() {
        for input in ["completed", "Completed", "COMPLETED", "cOmPlEtEd"] {
            let got = type_value(&t(input), FieldType::Enum(EXAM_STATUSES));
            assert_eq!(got, Value::Enum(&"completed"), "{input}");
            let Value::Enum(s) = got else { unreachable!() };
            assert!(std::ptr::eq(*s, EXAM_STATUSES[0]));
        }
        assert_eq!(
            type_value(&t("Allergic-Like"), FieldType::Enum(REACTION_TYPES)),
            Value::Enum(&"allergic-like")
        );
        for input in ["complete", " completed", "completed ", "no show", ""] {
            assert_eq!(
                type_value(&t(input), FieldType::Enum(EXAM_STATUSES)),
                invalid(input),
                "{input:?}"
            );
        }
        assert_eq!(
            type_value(&RawValue::Bool(true), FieldType::Enum(EXAM_STATUSES)),
            invalid("true")
        );
    }

    #[test]
    fn lists_from_cells_split_on_semicolons() {
        assert_eq!(
            type_value(&t("IL;WI"), FieldType::List),
            list(&["IL", "WI"])
        );
        assert_eq!(
            type_value(&t(" IL ; WI ;; "), FieldType::List),
            list(&["IL", "WI"])
        );
        assert_eq!(type_value(&t("IL"), FieldType::List), list(&["IL"]));
        assert_eq!(type_value(&t("IL,WI"), FieldType::List), list(&["IL,WI"]));
        assert_eq!(type_value(&t(" ; "), FieldType::List), list(&[]));
        assert_eq!(type_value(&n("42"), FieldType::List), list(&["42"]));
    }

    #[test]
    fn lists_from_json_arrays() {
        let arr = RawValue::Array(vec![t(" IL "), t(""), t("  "), n("42"), t("WI")]);
        assert_eq!(type_value(&arr, FieldType::List), list(&["IL", "42", "WI"]));
        assert_eq!(
            type_value(&RawValue::Array(vec![]), FieldType::List),
            list(&[])
        );
        // An array item is one item, even with a `;` in it.
        let arr = RawValue::Array(vec![t("IL;WI")]);
        assert_eq!(type_value(&arr, FieldType::List), list(&["IL;WI"]));
    }

    #[test]
    fn lists_reject_objects_booleans_and_nesting() {
        let with_object = RawValue::Array(vec![t("IL"), RawValue::Other("{\"s\":1}".into())]);
        assert_eq!(
            type_value(&with_object, FieldType::List),
            invalid("[IL, {\"s\":1}]")
        );
        let with_bool = RawValue::Array(vec![t("IL"), RawValue::Bool(true)]);
        assert_eq!(
            type_value(&with_bool, FieldType::List),
            invalid("[IL, true]")
        );
        let nested = RawValue::Array(vec![RawValue::Array(vec![t("IL")])]);
        assert_eq!(type_value(&nested, FieldType::List), invalid("[[IL]]"));
        assert_eq!(
            type_value(&RawValue::Bool(true), FieldType::List),
            invalid("true")
        );
        let obj = RawValue::Other("{}".into());
        assert_eq!(type_value(&obj, FieldType::List), invalid("{}"));
    }
}
