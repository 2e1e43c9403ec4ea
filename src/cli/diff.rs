//! `vigil diff OLD.json NEW.json`: new, resolved and persisting findings by stable id.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value as Json, json};

use vigil::baseline::{self, Diff};
use vigil::policy::severity::Severity;

use super::{CliError, OutputFormat, emit, to_json};

const DIFF_EXAMPLES: &str = "Examples:
  vigil check export/ --format json -o before.json
  vigil check export/ --format json -o after.json
  vigil diff before.json after.json
  vigil diff before.json after.json --format json --fail-on critical

Exit codes: 0 nothing new at or above --fail-on (waived findings never count); 1 new findings
at or above it; 2 a file cannot be read or is not a findings.json.";

#[derive(Debug, clap::Args)]
#[command(after_help = DIFF_EXAMPLES)]
pub struct DiffArgs {
    /// The earlier findings.json (the baseline)
    pub old: PathBuf,
    /// The later findings.json
    pub new: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Exit 1 when a new finding is at or above this severity
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = ["critical", "high", "medium", "low", "info", "none"])]
    pub fail_on: String,
    /// Write the output to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: DiffArgs) -> Result<i32, CliError> {
    let old = baseline::load_findings(&args.old)?;
    let new = baseline::load_findings(&args.new)?;
    let diff = baseline::diff(&old, &new);
    let out = match args.format {
        OutputFormat::Text => text(&diff),
        OutputFormat::Json => to_json(&json!({
            "format": "vigil.diff/1",
            "new": diff.new,
            "resolved": diff.resolved,
            "persisting": diff.persisting,
        }))?,
    };
    emit(&out, args.output.as_deref())?;
    let threshold = Severity::parse(&args.fail_on);
    Ok(i32::from(diff.new.iter().any(|f| fails(f, threshold))))
}

/// A new finding fails the diff when it is not waived and at or above the threshold.
fn fails(f: &Json, threshold: Option<Severity>) -> bool {
    let Some(threshold) = threshold else {
        return false;
    };
    let severity = f["severity"].as_str().and_then(Severity::parse);
    f["status"].as_str() != Some("waived") && severity.is_some_and(|s| s <= threshold)
}

fn text(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "new: {}, resolved: {}, persisting: {}",
        diff.new.len(),
        diff.resolved.len(),
        diff.persisting.len()
    );
    for (title, list) in [
        ("new", &diff.new),
        ("resolved", &diff.resolved),
        ("persisting", &diff.persisting),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        for f in list {
            let _ = writeln!(out, "  {}", line(f));
        }
    }
    out
}

/// `id rule severity file:line message`, with `[waived]` before the message of a waived finding.
fn line(f: &Json) -> String {
    let s = |v: &Json| v.as_str().unwrap_or("?").to_string();
    let waived = if f["status"] == "waived" {
        "[waived] "
    } else {
        ""
    };
    format!(
        "{} {:<10} {:<8} {}:{}  {waived}{}",
        s(&f["id"]),
        s(&f["rule"]),
        s(&f["severity"]),
        s(&f["location"]["file"]),
        f["location"]["line"],
        s(&f["message"])
    )
}
