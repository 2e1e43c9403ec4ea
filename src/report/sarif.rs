//! SARIF 2.1.0: one rule per rule id, one result per finding.
//!
//! One run; `tool.driver.rules` has every rule of the loaded packs (a rule id in several versions
//! once, described by its latest version), sorted by id, and each result points at its rule by
//! `ruleId` and `ruleIndex`. A result's physical location is the finding's file, relative to the
//! bundle root (`uriBaseId: "BUNDLE"`, described in `originalUriBaseIds` without a URI, so the log
//! does not depend on where the bundle lies), with `startLine` when the line is known; its
//! logical location is the record (`dataset/key`). `partialFingerprints["vigil/v1"]` is the
//! finding id, stable across runs, so code-scanning services track a finding from one export to
//! the next. Waived findings stay, with an external suppression. No clock: the same doc gives the
//! same bytes.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use crate::eval::model::{AppliedWaiver, Finding, Status};
use crate::policy::severity::Severity;
use crate::report::document::{Document, WriteError, Writer};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The `sarif` writer: the SARIF log as pretty JSON ending with a newline.
pub struct Sarif;

impl Writer for Sarif {
    fn write(&self, doc: &Document<'_>) -> Result<String, WriteError> {
        let mut text = serde_json::to_string_pretty(&sarif_log(doc)?)?;
        text.push('\n');
        Ok(text)
    }
}

/// The SARIF log as a JSON value.
pub fn sarif_log(doc: &Document<'_>) -> Result<Json, WriteError> {
    let rules = descriptors(doc);
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r["id"].as_str().unwrap_or_default(), i))
        .collect();
    let results = doc
        .findings()
        .iter()
        .map(|f| result(f, index.get(f.rule.as_str()).copied()))
        .collect::<Result<Vec<Json>, WriteError>>()?;
    let driver = json!({
        "name": "vigil",
        "version": doc.tool_version(),
        "rules": rules,
    });
    let bundle = &doc.bundle.manifest;
    Ok(json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "originalUriBaseIds": {
                "BUNDLE": {"description": {"text": format!(
                    "the root folder of the record bundle `{}`", bundle.id
                )}}
            },
            "invocations": [{"executionSuccessful": true}],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "as_of": doc.as_of,
                "bundle": bundle.id,
                "organization": bundle.organization,
                "policies": doc
                    .versions()
                    .map(|v| format!("{}@{}", v.pack_id, v.version))
                    .collect::<Vec<_>>(),
            },
        }],
    }))
}

/// The reporting descriptors, sorted by id: every rule of the packs (the latest version wins),
/// then any rule only the summary or a finding names (a pack-less rule still gets an index).
fn descriptors(doc: &Document<'_>) -> Vec<Json> {
    let mut by_id: BTreeMap<String, Json> = BTreeMap::new();
    for version in doc.versions() {
        for rule in &version.rules {
            by_id.insert(
                rule.id.clone(),
                descriptor(&Described {
                    id: &rule.id,
                    title: &rule.title,
                    severity: rule.severity,
                    pack: &version.pack_id,
                    citation: &rule.citation,
                    remediation: &rule.remediation,
                }),
            );
        }
    }
    // A rule summary has no citation or remediation; a finding has no title but its rule id.
    let summaries = doc.rules().iter().map(|r| Described {
        id: &r.rule,
        title: &r.title,
        severity: r.severity,
        pack: &r.policy,
        citation: "",
        remediation: "",
    });
    let findings = doc.findings().iter().map(|f| Described {
        id: &f.rule,
        title: &f.rule,
        severity: f.severity,
        pack: &f.policy,
        citation: &f.citation,
        remediation: &f.remediation,
    });
    for d in summaries.chain(findings) {
        if d.id.is_empty() || by_id.contains_key(d.id) {
            continue;
        }
        by_id.insert(d.id.to_string(), descriptor(&d));
    }
    by_id.into_values().collect()
}

/// What a reporting descriptor says about one rule.
struct Described<'a> {
    id: &'a str,
    title: &'a str,
    severity: Severity,
    pack: &'a str,
    citation: &'a str,
    remediation: &'a str,
}

fn descriptor(d: &Described) -> Json {
    let (title, citation, remediation) = (d.title, d.citation, d.remediation);
    let help = match (remediation.is_empty(), citation.is_empty()) {
        (false, false) => format!("{remediation}\n\nCitation: {citation}"),
        (false, true) => remediation.to_string(),
        (true, false) => format!("Citation: {citation}"),
        (true, true) => title.to_string(),
    };
    let severity = d.severity.name();
    json!({
        "id": d.id,
        "name": camel_case(title),
        "shortDescription": {"text": title},
        "fullDescription": {"text": help},
        "help": {"text": help},
        "defaultConfiguration": {"level": level(d.severity)},
        "properties": {
            "citation": citation,
            "pack": d.pack,
            "severity": severity,
            "tags": ["compliance", d.pack, severity],
        },
    })
}

fn result(f: &Finding, rule_index: Option<usize>) -> Result<Json, WriteError> {
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.rule));
    if let Some(i) = rule_index {
        r.insert("ruleIndex".into(), json!(i));
    }
    r.insert("level".into(), json!(level(f.severity)));
    r.insert("message".into(), json!({"text": f.message}));
    r.insert("locations".into(), json!([location(f)]));
    r.insert("partialFingerprints".into(), json!({"vigil/v1": f.id}));
    if f.status == Status::Waived {
        r.insert(
            "suppressions".into(),
            json!([suppression(f.waiver.as_ref())?]),
        );
    }
    r.insert(
        "properties".into(),
        json!({
            "evidence": Json::Object(f.evidence.clone()),
            "severity": f.severity.name(),
            "status": f.status.name(),
            "policy": f.policy,
            "policy_version": f.policy_version,
            "citation": f.citation,
        }),
    );
    Ok(Json::Object(r))
}

/// The file (and line, when known) and the record the finding is about.
fn location(f: &Finding) -> Json {
    let Finding {
        subject, location, ..
    } = f;
    let (dataset, key) = (&subject.dataset, &subject.key);
    let mut loc = Map::new();
    if !location.file.is_empty() {
        let mut artifact = json!({"uri": file_uri(&location.file)});
        // WAIVER-00x findings point into the waivers file, a path as given, not in the bundle.
        if dataset != "waivers" {
            artifact["uriBaseId"] = json!("BUNDLE");
        }
        let mut physical = json!({ "artifactLocation": artifact });
        if location.line >= 1 {
            physical["region"] = json!({"startLine": location.line});
        }
        loc.insert("physicalLocation".into(), physical);
    }
    loc.insert(
        "logicalLocations".into(),
        json!([{"name": key, "fullyQualifiedName": format!("{dataset}/{key}"), "kind": "object"}]),
    );
    Json::Object(loc)
}

/// A waiver as an external suppression, with its justification.
fn suppression(waiver: Option<&AppliedWaiver>) -> Result<Json, WriteError> {
    let mut s = json!({"kind": "external", "status": "accepted"});
    if let Some(waiver) = waiver {
        s["justification"] = json!(waiver.justification);
        // Through a `serde_json::Value`, whose maps keep keys sorted, as findings.json does.
        s["properties"] = json!({"waiver": serde_json::to_value(waiver)?});
    }
    Ok(s)
}

/// A bundle-relative path as a relative URI reference: `/` separators, and percent-encoding of
/// everything outside the unreserved and path characters (spaces, `%`, `#`, `?`, non-ASCII).
pub fn file_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SARIF level of a severity: critical/high are errors, medium warnings, the rest notes.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// `Virtual supervision is by a physician` -> `VirtualSupervisionIsByAPhysician`.
fn camel_case(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![expect(
        clippy::unwrap_used,
        reason = "a test fails loudly on the first surprise"
    )]

    use super::*;
    use crate::eval::model::{Location, RuleSummary, Subject};
    use crate::report::fixture::{Run, finding};

    fn waiver(justification: &str) -> AppliedWaiver {
        AppliedWaiver {
            file: "waivers.toml".into(),
            line: 1,
            rule: "R-1".into(),
            subject: "F1".into(),
            facility: None,
            dos_from: None,
            dos_to: None,
            justification: justification.into(),
            approver: "a".into(),
            ticket: None,
            created: None,
            expires: "2026-12-31".into(),
        }
    }

    #[test]
    fn file_paths_become_relative_uris() {
        assert_eq!(file_uri("exams/2026-01.csv"), "exams/2026-01.csv");
        assert_eq!(
            file_uri("my exams\\50%#1?.csv"),
            "my%20exams/50%25%231%3F.csv"
        );
        assert_eq!(file_uri("é.csv"), "%C3%A9.csv");
    }

    #[test]
    fn levels_and_names() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
        assert_eq!(level(Severity::Info), "note");
        assert_eq!(
            camel_case("The on-site practitioner holds current BLS"),
            "TheOnSitePractitionerHoldsCurrentBLS"
        );
    }

    #[test]
    fn results_locations_and_suppressions() {
        let mut run = Run::new(vec![
            Finding {
                id: "abc".into(),
                severity: Severity::Medium,
                status: Status::Waived,
                subject: Subject {
                    dataset: "facilities".into(),
                    key: "F1".into(),
                },
                location: Location {
                    file: "facilities.csv".into(),
                    line: 0,
                },
                message: "m".into(),
                waiver: Some(waiver("approved by the board")),
                ..finding("R-1")
            },
            Finding {
                id: "def".into(),
                severity: Severity::Low,
                subject: Subject {
                    dataset: "exams".into(),
                    key: "E1".into(),
                },
                location: Location {
                    file: "exams.csv".into(),
                    line: 7,
                },
                message: "n".into(),
                ..finding("R-2")
            },
        ]);
        run.eval.rules = vec![RuleSummary {
            rule: "R-1".into(),
            policy: "p".into(),
            title: "One".into(),
            severity: Severity::High,
            ..RuleSummary::default()
        }];
        let log = sarif_log(&run.doc()).unwrap();
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "R-1");
        assert_eq!(run["tool"]["driver"]["rules"][1]["id"], "R-2");
        let (a, b) = (&run["results"][0], &run["results"][1]);
        assert_eq!(a["level"], "warning");
        assert_eq!(a["ruleIndex"], 0);
        assert!(
            a["locations"][0]["physicalLocation"]
                .get("region")
                .is_none()
        );
        assert_eq!(
            a["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "facilities/F1"
        );
        assert_eq!(
            a["suppressions"][0]["justification"],
            "approved by the board"
        );
        assert_eq!(a["partialFingerprints"]["vigil/v1"], "abc");
        assert_eq!(b["ruleIndex"], 1);
        assert_eq!(
            b["locations"][0]["physicalLocation"]["region"]["startLine"],
            7
        );
        assert!(b.get("suppressions").is_none());
    }
}
