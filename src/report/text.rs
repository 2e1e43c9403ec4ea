//! The terminal summaries of `check` and `inspect`: counts first, then the most severe findings.

use std::fmt::Write as _;

use crate::eval::model::Status;
use crate::policy::severity::Severity;
use crate::report::document::{Document, WriteError, Writer};
use crate::report::shown::{SHOWN_CHARS, shown};

/// ANSI styling, on only for a terminal without NO_COLOR.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.paint(code, &format!("{:<8}", s.name()))
    }
}

/// How many findings the text summary lists.
pub const TOP_FINDINGS: usize = 20;

/// The summary `vigil check` prints by default.
pub struct CheckSummary {
    pub style: Style,
}

impl Writer for CheckSummary {
    fn write(&self, doc: &Document<'_>) -> Result<String, WriteError> {
        Ok(check_summary(doc, self.style))
    }
}

fn check_summary(doc: &Document<'_>, style: Style) -> String {
    let (bundle, findings) = (doc.bundle, doc.findings());
    let mut out = String::new();
    let m = &bundle.manifest;
    let _ = writeln!(
        out,
        "{} — {} ({} to {}): {} records in {} files",
        style.paint("1", &shown(&m.id, SHOWN_CHARS)),
        shown(&m.organization, SHOWN_CHARS),
        m.period_start,
        m.period_end,
        bundle.record_count(),
        bundle.files.len()
    );
    if !bundle.absent.is_empty() {
        let names: Vec<&str> = bundle.absent.iter().map(|d| d.name()).collect();
        let _ = writeln!(out, "absent datasets (not exported): {}", names.join(", "));
    }
    if !bundle.ignored.is_empty() {
        let names: Vec<String> = bundle
            .ignored
            .iter()
            .map(|n| shown(n, SHOWN_CHARS))
            .collect();
        let _ = writeln!(out, "ignored files: {}", names.join(", "));
    }
    for w in &m.warnings {
        let _ = writeln!(out, "warning: bundle.toml: {}", shown(w, SHOWN_CHARS));
    }
    let counts = doc.counts_by_severity();
    let total: u64 = counts.values().sum();
    let waived = findings
        .iter()
        .filter(|f| f.status == Status::Waived)
        .count();
    if waived > 0 {
        let _ = writeln!(
            out,
            "\nfindings: {total} ({waived} waived: listed, never failing the run)"
        );
    } else {
        let _ = writeln!(out, "\nfindings: {total}");
    }
    for s in Severity::ALL {
        if let Some(n) = counts.get(&s) {
            let _ = writeln!(out, "  {} {n}", style.severity(s));
        }
    }
    let _ = writeln!(out, "\nrules:");
    let _ = writeln!(
        out,
        "  {:<9} {:<8} {:>9} {:>7} {:>7}  pack",
        "rule", "severity", "evaluated", "failed", "n/a"
    );
    for r in doc.rules() {
        let _ = writeln!(
            out,
            "  {:<9} {:<8} {:>9} {:>7} {:>7}  {}",
            r.rule,
            r.severity.name(),
            r.evaluated,
            r.failed,
            r.not_applicable,
            r.policy
        );
    }
    if !doc.warnings().is_empty() {
        let _ = writeln!(out, "\nwarnings:");
        for w in doc.warnings() {
            let _ = writeln!(out, "  {}", style.paint("33", &w.message));
        }
    }
    if !findings.is_empty() {
        let listed = findings.len().min(TOP_FINDINGS);
        let _ = writeln!(out, "\nmost severe findings ({listed} of {total}):");
        for f in findings.iter().take(TOP_FINDINGS) {
            let marker = if f.status == Status::Waived {
                style.paint("2", "[waived] ")
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {} {:<8} {}:{}  {marker}{}",
                style.severity(f.severity),
                f.rule,
                shown(&f.location.file, SHOWN_CHARS),
                f.location.line,
                shown(&f.message, SHOWN_CHARS)
            );
        }
        if findings.len() > TOP_FINDINGS {
            let _ = writeln!(
                out,
                "  ... {} more (use --format json for all)",
                findings.len() - TOP_FINDINGS
            );
        }
    }
    out
}
