//! One finding per line, for streaming into other tools.
//!
//! Each line is a finding object exactly as in findings.json (same keys, same order, compact),
//! in findings.json order, each ending with `\n`; nothing else (no header line, no summary), so
//! a consumer needs no special case and `wc -l` counts findings. No findings: empty output.

use crate::report::document::{Document, WriteError, Writer};

/// The `ndjson` writer.
pub struct Ndjson;

impl Writer for Ndjson {
    fn write(&self, doc: &Document<'_>) -> Result<String, WriteError> {
        let mut out = String::new();
        for finding in doc.findings() {
            // Through a `serde_json::Value`, whose maps keep keys sorted, as findings.json does.
            let value = serde_json::to_value(finding)?;
            out.push_str(&serde_json::to_string(&value)?);
            out.push('\n');
        }
        Ok(out)
    }
}

/// A run held in memory for the writers' tests: an empty bundle, no packs, and the findings,
/// rule summaries and metrics a test puts in.
#[cfg(test)]
pub(crate) mod fixture {
    use std::path::PathBuf;
    use std::sync::Arc;

    use crate::bundle::Bundle;
    use crate::bundle::manifest::Manifest;
    use crate::eval::model::{Finding, Location, Status, Subject};
    use crate::eval::run::Evaluation;
    use crate::policy::model::{Pack, PackVersion};
    use crate::policy::severity::Severity;
    use crate::report::document::Document;

    pub const AS_OF: &str = "2026-04-02T00:00:00Z";

    pub struct Run {
        pub bundle: Bundle,
        pub packs: Vec<Pack>,
        pub eval: Evaluation,
    }

    impl Run {
        pub fn new(findings: Vec<Finding>) -> Run {
            let manifest = Manifest {
                id: "b".into(),
                organization: "o".into(),
                period_start: chrono::NaiveDate::default(),
                period_end: chrono::NaiveDate::default(),
                timezone_name: "UTC".into(),
                timezone: chrono_tz::UTC,
                source: None,
                exported_at: None,
                warnings: Vec::new(),
            };
            Run {
                bundle: Bundle {
                    root: PathBuf::new(),
                    manifest,
                    files: Vec::new(),
                    ignored: Vec::new(),
                    absent: Vec::new(),
                    tables: Vec::new(),
                },
                packs: Vec::new(),
                eval: Evaluation {
                    findings,
                    ..Evaluation::default()
                },
            }
        }

        pub fn doc(&self) -> Document<'_> {
            Document::new(AS_OF, &self.bundle, &self.packs, &self.eval)
        }
    }

    /// A failing finding of `rule` with empty text fields, to fill in with struct update.
    pub fn finding(rule: &str) -> Finding {
        Finding {
            id: String::new(),
            rule: rule.into(),
            policy: String::new(),
            policy_version: String::new(),
            severity: Severity::Info,
            status: Status::Fail,
            subject: Subject {
                dataset: String::new(),
                key: String::new(),
            },
            location: Location {
                file: String::new(),
                line: 0,
            },
            message: String::new(),
            evidence: serde_json::Map::new(),
            citation: String::new(),
            remediation: String::new(),
            waiver: None,
            file_order: 0,
            record: None,
            facility: None,
            dos: None,
        }
    }

    /// A pack with one (empty) version per name in `versions`.
    pub fn pack(id: &str, versions: &[&str]) -> Pack {
        let version = |v: &&str| {
            Arc::new(PackVersion {
                pack_id: id.into(),
                version: (*v).into(),
                title: String::new(),
                description: None,
                effective_from: None,
                effective_to: None,
                supersedes: None,
                regulatory: false,
                citations: Vec::new(),
                changelog: Vec::new(),
                path: String::new(),
                sha256: String::new(),
                bytes: 0,
                parameters: Default::default(),
                rules: Vec::new(),
                procedure_codes: None,
                metrics: Vec::new(),
                scripts: Vec::new(),
            })
        };
        Pack {
            id: id.into(),
            source: String::new(),
            versions: versions.iter().map(version).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(
        clippy::unwrap_used,
        reason = "a test fails loudly on the first surprise"
    )]

    use super::fixture::{Run, finding};
    use super::*;
    use crate::eval::model::Finding;

    #[test]
    fn a_line_a_finding() {
        let run = Run::new(vec![
            Finding {
                id: "a".into(),
                message: "x\ny".into(),
                ..finding("R-1")
            },
            Finding {
                id: "b".into(),
                ..finding("R-2")
            },
        ]);
        let line = |id: &str, message: &str, rule: &str| {
            format!(
                "{{\"citation\":\"\",\"evidence\":{{}},\"id\":\"{id}\",\
                 \"location\":{{\"file\":\"\",\"line\":0}},\"message\":\"{message}\",\
                 \"policy\":\"\",\"policy_version\":\"\",\"remediation\":\"\",\"rule\":\"{rule}\",\
                 \"severity\":\"info\",\"status\":\"fail\",\
                 \"subject\":{{\"dataset\":\"\",\"key\":\"\"}},\"waiver\":null}}\n"
            )
        };
        assert_eq!(
            Ndjson.write(&run.doc()).unwrap(),
            [line("a", "x\\ny", "R-1"), line("b", "", "R-2")].concat()
        );
        assert_eq!(Ndjson.write(&Run::new(vec![]).doc()).unwrap(), "");
    }
}
