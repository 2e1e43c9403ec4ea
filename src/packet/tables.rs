//! findings.csv and metrics.csv: RFC 4180 tables (LF line ends, UTF-8) read from the findings
//! document, with text cells guarded against spreadsheet formulas.

use serde_json::Value as Json;

const FINDINGS_HEADER: [&str; 10] = [
    "id", "rule", "severity", "status", "dataset", "key", "file", "line", "message", "citation",
];
const METRICS_HEADER: [&str; 8] = [
    "id",
    "facility_id",
    "month",
    "contrast_class",
    "severity",
    "value",
    "numerator",
    "denominator",
];

/// findings.csv from a findings.json document: one row a finding, in the document's order.
pub fn findings_csv(doc: &Json) -> Vec<u8> {
    let mut out = Table::new(&FINDINGS_HEADER);
    for finding in rows(doc, "findings") {
        let at = |pointer: &str| finding.pointer(pointer);
        out.row([
            at("/id"),
            at("/rule"),
            at("/severity"),
            at("/status"),
            at("/subject/dataset"),
            at("/subject/key"),
            at("/location/file"),
            at("/location/line"),
            at("/message"),
            at("/citation"),
        ]);
    }
    out.bytes
}

/// metrics.csv from a findings.json document: one row a metric value, empty cells for group
/// keys the value is not grouped by and for null numbers.
pub fn metrics_csv(doc: &Json) -> Vec<u8> {
    let mut out = Table::new(&METRICS_HEADER);
    for metric in rows(doc, "metrics") {
        let group = |key: &str| metric.get("group").and_then(|g| g.get(key));
        out.row([
            metric.get("id"),
            group("facility_id"),
            group("month"),
            group("contrast_class"),
            group("severity"),
            metric.get("value"),
            metric.get("numerator"),
            metric.get("denominator"),
        ]);
    }
    out.bytes
}

fn rows<'a>(doc: &'a Json, key: &str) -> impl Iterator<Item = &'a Json> {
    doc.get(key).and_then(Json::as_array).into_iter().flatten()
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

    fn row<'a>(&mut self, cells: impl IntoIterator<Item = Option<&'a Json>>) {
        self.line(cells.into_iter().map(cell));
    }

    fn line(&mut self, cells: impl Iterator<Item = String>) {
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                self.bytes.push(b',');
            }
            self.bytes.extend_from_slice(cell.as_bytes());
        }
        self.bytes.push(b'\n');
    }
}

/// One cell: text is guarded and quoted, numbers and booleans written as in findings.json,
/// null and absent values left empty.
fn cell(value: Option<&Json>) -> String {
    match value {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => quote(&guard(s)),
        Some(Json::Number(n)) => n.to_string(),
        Some(Json::Bool(b)) => b.to_string(),
        Some(other) => quote(&guard(&other.to_string())),
    }
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
