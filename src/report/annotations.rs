//! GitHub Actions workflow-command annotations (`::error file=...,line=...::message`).
//!
//! One line a finding, in findings.json order: `::LEVEL file=PATH,line=N,title=RULE (severity)::
//! MESSAGE`, where critical/high are `error`, medium `warning`, low/info `notice`. Waived findings
//! are kept as `notice` with `waived` in the title (a waiver never fails a run, but the finding
//! stays in every output). `line` is left out when the line is unknown.
//!
//! `PATH` is relative to the bundle root, as in findings.json, and GitHub resolves it against the
//! repository root: annotations sit on the file's lines in a pull request only when the bundle is
//! the repository root (or its files are committed at the same relative paths); otherwise they
//! still show in the run's summary. GitHub displays only the first 10 annotations of each level
//! per step; every finding is printed anyway, since the log keeps them all.

use std::fmt::Write as _;

use serde_json::Value as Json;

pub fn github(doc: &Json) -> String {
    let mut out = String::new();
    for f in doc["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let _ = writeln!(out, "{}", annotation(f));
    }
    out
}

/// One workflow command for one finding.
fn annotation(f: &Json) -> String {
    let severity = str_of(&f["severity"]);
    let waived = f["status"] == "waived";
    let command = if waived { "notice" } else { command(severity) };
    let mut props: Vec<String> = Vec::new();
    let file = str_of(&f["location"]["file"]);
    if !file.is_empty() {
        props.push(format!("file={}", escape_property(file)));
        if let Some(line) = f["location"]["line"].as_u64().filter(|l| *l >= 1) {
            props.push(format!("line={line}"));
        }
    }
    let title = if waived {
        format!("{} ({severity}, waived)", str_of(&f["rule"]))
    } else {
        format!("{} ({severity})", str_of(&f["rule"]))
    };
    props.push(format!("title={}", escape_property(&title)));
    format!(
        "::{command} {}::{}",
        props.join(","),
        escape_data(str_of(&f["message"]))
    )
}

/// The annotation command of a severity.
pub fn command(severity: &str) -> &'static str {
    match severity {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "notice",
    }
}

/// Escapes a command's message (`%`, CR, LF), as `@actions/core` `escapeData` does.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: as a message, plus `:` and `,`, which end a property.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn str_of(v: &Json) -> &str {
    v.as_str().unwrap_or_default()
}

/// The `github` writer.
pub struct Github;

impl crate::report::document::Writer for Github {
    fn write(
        &self,
        doc: &crate::report::document::Document<'_>,
    ) -> Result<String, crate::report::document::WriteError> {
        let json = crate::report::json::findings_document(doc);
        Ok(github(&json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(
            escape_data("%0A"),
            "%250A",
            "an escape in the input is not an escape"
        );
    }

    #[test]
    fn one_line_a_finding() {
        let doc = json!({"findings": [
            {"rule": "SUP-004", "severity": "critical", "status": "fail", "message": "a\nb",
             "location": {"file": "exams/2026-01.csv", "line": 12}},
            {"rule": "BEN-004", "severity": "medium", "status": "waived", "message": "w",
             "location": {"file": "a,b.csv", "line": 0}},
            {"rule": "DQ-001", "severity": "low", "status": "fail", "message": "x",
             "location": {"file": "", "line": 0}},
        ]});
        assert_eq!(
            github(&doc),
            "::error file=exams/2026-01.csv,line=12,title=SUP-004 (critical)::a%0Ab\n\
             ::notice file=a%2Cb.csv,title=BEN-004 (medium%2C waived)::w\n\
             ::notice title=DQ-001 (low)::x\n"
        );
        assert_eq!(github(&json!({"findings": []})), "");
    }
}
