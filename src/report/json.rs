//! findings.json (`vigil.findings/1`): the findings model as JSON, keys sorted, two-space
//! indents, one final newline. Deterministic: the same inputs and `--as-of` give the same bytes.

use serde::Serialize;

use crate::eval::model::{Finding, Metric, RuleSummary};
use crate::report::document::{Document, WriteError, Writer};

/// The format name findings.json declares.
pub const FORMAT: &str = "vigil.findings/1";

/// The findings.json writer.
pub struct FindingsJson;

impl Writer for FindingsJson {
    fn write(&self, doc: &Document<'_>) -> Result<String, WriteError> {
        // Through a `serde_json::Value`, whose maps keep keys sorted: the order findings.json
        // has always had, whatever the order of the fields below.
        let value = serde_json::to_value(FindingsFile::of(doc))?;
        Ok(serde_json::to_string_pretty(&value)? + "\n")
    }
}

#[derive(Serialize)]
struct FindingsFile<'a> {
    format: &'static str,
    tool: Tool,
    as_of: &'a str,
    bundle: BundleSection<'a>,
    policies: Vec<PolicySection<'a>>,
    summary: Summary<'a>,
    findings: &'a [Finding],
    metrics: &'a [Metric],
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct BundleSection<'a> {
    id: &'a str,
    organization: &'a str,
    period_start: String,
    period_end: String,
    timezone: &'a str,
    ignored: &'a [String],
    absent: Vec<&'static str>,
    files: Vec<FileSection<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct FileSection<'a> {
    path: &'a str,
    dataset: &'static str,
    records: usize,
    sha256: &'a str,
}

#[derive(Serialize)]
struct PolicySection<'a> {
    id: &'a str,
    version: &'a str,
    title: &'a str,
    effective_from: Option<String>,
    effective_to: Option<String>,
    path: &'a str,
    sha256: &'a str,
}

#[derive(Serialize)]
struct Summary<'a> {
    records: std::collections::BTreeMap<&'static str, usize>,
    findings: std::collections::BTreeMap<&'static str, u64>,
    rules: &'a [RuleSummary],
    warnings: &'a [crate::eval::model::RunWarning],
}

impl<'a> FindingsFile<'a> {
    fn of(doc: &Document<'a>) -> FindingsFile<'a> {
        let b = doc.bundle;
        let m = &b.manifest;
        FindingsFile {
            format: FORMAT,
            tool: Tool {
                name: "vigil",
                version: doc.tool_version(),
            },
            as_of: doc.as_of,
            bundle: BundleSection {
                id: &m.id,
                organization: &m.organization,
                period_start: m.period_start.to_string(),
                period_end: m.period_end.to_string(),
                timezone: &m.timezone_name,
                ignored: &b.ignored,
                absent: b.absent.iter().map(|d| d.name()).collect(),
                files: b
                    .files
                    .iter()
                    .map(|f| FileSection {
                        path: &f.path,
                        dataset: f.dataset.name(),
                        records: f.records,
                        sha256: &f.sha256,
                    })
                    .collect(),
                warnings: &m.warnings,
            },
            policies: doc
                .versions()
                .map(|v| PolicySection {
                    id: &v.pack_id,
                    version: &v.version,
                    title: &v.title,
                    effective_from: v.effective_from.map(|d| d.to_string()),
                    effective_to: v.effective_to.map(|d| d.to_string()),
                    path: &v.path,
                    sha256: &v.sha256,
                })
                .collect(),
            summary: Summary {
                records: doc.records_by_dataset(),
                findings: doc
                    .counts_by_severity()
                    .into_iter()
                    .map(|(s, n)| (s.name(), n))
                    .collect(),
                rules: doc.rules(),
                warnings: doc.warnings(),
            },
            findings: doc.findings(),
            metrics: doc.metrics(),
        }
    }
}
