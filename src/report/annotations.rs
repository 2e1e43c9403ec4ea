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

use crate::eval::model::{Finding, Status};
use crate::policy::severity::Severity;
use crate::report::document::{Document, WriteError, Writer};

/// The `github` writer.
pub struct Github;

impl Writer for Github {
    fn write(&self, doc: &Document<'_>) -> Result<String, WriteError> {
        let mut out = String::new();
        for f in doc.findings() {
            let _ = writeln!(out, "{}", annotation(f));
        }
        Ok(out)
    }
}

/// One workflow command for one finding.
fn annotation(f: &Finding) -> String {
    let severity = f.severity;
    let waived = f.status == Status::Waived;
    let command = if waived { "notice" } else { command(severity) };
    let mut props: Vec<String> = Vec::new();
    let file = &f.location.file;
    if !file.is_empty() {
        props.push(format!("file={}", escape_property(file)));
        if f.location.line >= 1 {
            props.push(format!("line={}", f.location.line));
        }
    }
    let title = if waived {
        format!("{} ({severity}, waived)", f.rule)
    } else {
        format!("{} ({severity})", f.rule)
    };
    props.push(format!("title={}", escape_property(&title)));
    format!(
        "::{command} {}::{}",
        props.join(","),
        escape_data(&f.message)
    )
}

/// The annotation command of a severity.
pub fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

/// Escapes a command's message (`%`, CR, LF), as `@actions/core` `escapeData` does; any other
/// control character (NUL, BEL, ESC: a record value could hold one and drive the log viewer's
/// terminal) and bidi override (`report::shown`) is shown as a visible `\u{1b}`.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if c.is_control() || crate::report::shown::is_bidi_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value: as a message, plus `:` and `,`, which end a property.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    #![expect(
        clippy::unwrap_used,
        reason = "a test fails loudly on the first surprise"
    )]

    use super::*;
    use crate::eval::model::Location;
    use crate::report::fixture::{Run, finding};

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        assert_eq!(
            escape_data("%0A"),
            "%250A",
            "an escape in the input is not an escape"
        );
        assert_eq!(escape_data("E1\u{202e}x\u{1b}"), "E1\\u{202e}x\\u{1b}");
    }

    #[test]
    fn one_line_a_finding() {
        let run = Run::new(vec![
            Finding {
                severity: Severity::Critical,
                message: "a\nb".into(),
                location: Location {
                    file: "exams/2026-01.csv".into(),
                    line: 12,
                },
                ..finding("SUP-004")
            },
            Finding {
                severity: Severity::Medium,
                status: Status::Waived,
                message: "w".into(),
                location: Location {
                    file: "a,b.csv".into(),
                    line: 0,
                },
                ..finding("BEN-004")
            },
            Finding {
                severity: Severity::Low,
                message: "x".into(),
                ..finding("DQ-001")
            },
        ]);
        assert_eq!(
            Github.write(&run.doc()).unwrap(),
            "::error file=exams/2026-01.csv,line=12,title=SUP-004 (critical)::a%0Ab\n\
             ::notice file=a%2Cb.csv,title=BEN-004 (medium%2C waived)::w\n\
             ::notice title=DQ-001 (low)::x\n"
        );
        assert_eq!(Github.write(&Run::new(vec![]).doc()).unwrap(), "");
    }
}
