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
        // Everything but the findings through a `serde_json::Value`, whose maps keep keys
        // sorted: the order findings.json has always had, whatever the order of the fields
        // below. The findings, most of the bytes, are rendered the same way in parallel chunks
        // and put in their place: the bytes are those of rendering the whole document at once.
        let mut file = FindingsFile::of(doc);
        file.findings = &[];
        let mut value = serde_json::to_value(file)?;
        let serde_json::Value::Object(top) = &mut value else {
            return Ok(serde_json::to_string_pretty(&value)? + "\n");
        };
        let mut out = String::with_capacity(doc.findings().len() * 1024 + 64 * 1024);
        out.push('{');
        let count = top.len();
        for (i, (key, field)) in top.iter().enumerate() {
            out.push_str("\n  ");
            out.push_str(&serde_json::to_string(key)?);
            out.push_str(": ");
            if key == "findings" {
                findings_array(doc.findings(), &mut out)?;
            } else {
                push_nested(&mut out, &serde_json::to_string_pretty(field)?, "  ");
            }
            if i + 1 < count {
                out.push(',');
            }
        }
        out.push_str("\n}\n");
        Ok(out)
    }
}

/// Findings per chunk rendered by one task.
const CHUNK: usize = 512;

/// The findings array as it sits at depth one of findings.json: each finding pretty-printed on
/// its own (keys sorted through a `serde_json::Value`), in parallel, and indented to its depth.
fn findings_array(findings: &[Finding], out: &mut String) -> Result<(), WriteError> {
    use rayon::prelude::*;
    if findings.is_empty() {
        out.push_str("[]");
        return Ok(());
    }
    let chunks: Vec<String> = findings
        .par_chunks(CHUNK)
        .map(|chunk| -> Result<String, WriteError> {
            let mut text = String::with_capacity(chunk.len() * 1024);
            for finding in chunk {
                let value = serde_json::to_value(finding)?;
                text.push_str("\n    ");
                push_nested(&mut text, &serde_json::to_string_pretty(&value)?, "    ");
                text.push(',');
            }
            Ok(text)
        })
        .collect::<Result<_, _>>()?;
    out.push('[');
    for chunk in &chunks {
        out.push_str(chunk);
    }
    // The last element has no comma after it.
    out.pop();
    out.push_str("\n  ]");
    Ok(())
}

/// Pretty JSON of a value nested at `indent`: every line after the first indented by it. (A
/// line break in pretty JSON is always structure: one inside a string is written `\n`.)
fn push_nested(out: &mut String, pretty: &str, indent: &str) {
    let mut lines = pretty.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first);
    }
    for line in lines {
        out.push('\n');
        out.push_str(indent);
        out.push_str(line);
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

#[cfg(test)]
mod tests {
    #![expect(
        clippy::unwrap_used,
        reason = "a test fails loudly on the first surprise"
    )]

    use super::*;
    use crate::report::fixture::{Run, finding};

    /// The whole document through one `serde_json::Value`: how findings.json was written before
    /// its findings were rendered in parallel chunks, and the bytes it must still have.
    fn at_once(doc: &Document<'_>) -> String {
        let value = serde_json::to_value(FindingsFile::of(doc)).unwrap();
        serde_json::to_string_pretty(&value).unwrap() + "\n"
    }

    #[test]
    fn chunked_findings_are_the_bytes_of_the_whole_document() {
        for count in [0, 1, 2, CHUNK, CHUNK + 1, 3 * CHUNK + 7] {
            let findings = (0..count)
                .map(|i| {
                    let mut f = finding(&format!("R-{:03}", i % 7));
                    f.id = format!("{i:016x}");
                    f.message = format!("line one\nline \"two\" {i}");
                    f.evidence.insert(
                        "nested".into(),
                        serde_json::json!({"a": [1, {"b": []}], "z": {}}),
                    );
                    f
                })
                .collect();
            let run = Run::new(findings);
            let doc = run.doc();
            assert_eq!(
                FindingsJson.write(&doc).unwrap(),
                at_once(&doc),
                "{count} findings"
            );
        }
    }
}
