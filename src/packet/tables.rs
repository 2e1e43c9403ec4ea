//! findings.csv and metrics.csv: RFC 4180 tables (LF line ends, UTF-8) of the findings model's
//! findings and metrics, with text cells guarded against spreadsheet formulas.

use crate::report::document::Document;

const FINDINGS_HEADER: [&str; 10] = [
    "id", "rule", "severity", "status", "dataset", "key", "file", "line", "message", "citation",
];
const METRICS_HEADER: [&str; 10] = [
    "id",
    "policy",
    "policy_version",
    "facility_id",
    "month",
    "contrast_class",
    "severity",
    "value",
    "numerator",
    "denominator",
];

/// findings.csv: one row a finding, in report order.
pub fn findings_csv(doc: &Document<'_>) -> Vec<u8> {
    let mut out = Table::new(&FINDINGS_HEADER);
    for f in doc.findings() {
        out.line([
            text(&f.id),
            text(&f.rule),
            text(f.severity.name()),
            text(f.status.name()),
            text(&f.subject.dataset),
            text(&f.subject.key),
            text(&f.location.file),
            f.location.line.to_string(),
            text(&f.message),
            text(&f.citation),
        ]);
    }
    out.bytes
}

/// metrics.csv: one row a metric value, empty cells for group keys the value is not grouped by
/// and for numbers findings.json writes as `null`.
pub fn metrics_csv(doc: &Document<'_>) -> Vec<u8> {
    let mut out = Table::new(&METRICS_HEADER);
    for m in doc.metrics() {
        let group = |key: &str| m.group.get(key).map(|v| text(v)).unwrap_or_default();
        out.line([
            text(&m.id),
            text(&m.policy),
            text(&m.policy_version),
            group("facility_id"),
            group("month"),
            group("contrast_class"),
            group("severity"),
            number(Some(m.value)),
            number(m.numerator),
            number(m.denominator),
        ]);
    }
    out.bytes
}

struct Table {
    bytes: Vec<u8>,
}

impl Table {
    fn new(header: &[&str]) -> Table {
        let mut table = Table { bytes: Vec::new() };
        table.line(header.iter().map(|h| quote(h)));
        table
    }

    fn line(&mut self, cells: impl IntoIterator<Item = String>) {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.bytes.push(b',');
            }
            self.bytes.extend_from_slice(cell.as_bytes());
        }
        self.bytes.push(b'\n');
    }
}

/// A text cell: guarded, then quoted.
fn text(s: &str) -> String {
    quote(&guard(s))
}

/// A number cell as findings.json writes the number: serde_json's shortest form that reads back
/// the same (`412.0`, `-1.5`); empty for none and for a value that is not finite, which
/// findings.json writes as `null`.
fn number(value: Option<f64>) -> String {
    value
        .and_then(serde_json::Number::from_f64)
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// A text cell beginning with `=`, `+`, `-` or `@` gets a leading `'` so that a spreadsheet shows
/// it instead of running it. Numbers are not text cells: `-1.5` stays a number.
fn guard(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// RFC 4180: a cell holding a comma, a quote or a line break is quoted, quotes doubled.
fn quote(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
