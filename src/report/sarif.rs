//! SARIF 2.1.0: one rule per rule id, one result per finding.
//!
//! One run; `tool.driver.rules` has every rule of the loaded packs (a rule id in several versions
//! once, described by its latest version), sorted by id, and each result points at its rule by
//! `ruleId` and `ruleIndex`. A result's physical location is the finding's file, relative to the
//! bundle root (`uriBaseId: "BUNDLE"`, described in `originalUriBaseIds` without a URI: the doc
//! does not carry where the bundle lies), with `startLine` when the line is known; its logical
//! location is the record (`dataset/key`). `partialFingerprints["vigil/v1"]` is the finding id,
//! stable across runs, so code-scanning services track a finding from one export to the next.
//! Waived findings stay, with an external suppression. No clock: the same doc gives the same bytes.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use crate::policy::model::Pack;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF log as pretty JSON ending with a newline.
pub fn sarif(doc: &Json, packs: &[Pack]) -> String {
    let log = sarif_log(doc, packs);
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

/// The SARIF log as a JSON value.
pub fn sarif_log(doc: &Json, packs: &[Pack]) -> Json {
    let rules = descriptors(doc, packs);
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (str_of(&r["id"]), i))
        .collect();
    let results: Vec<Json> = array(&doc["findings"])
        .iter()
        .map(|f| result(f, index.get(str_of(&f["rule"])).copied()))
        .collect();
    let mut driver = json!({
        "name": "vigil",
        "version": str_of(&doc["tool"]["version"]),
        "rules": rules,
    });
    if driver["version"] == "" {
        driver["version"] = json!(env!("CARGO_PKG_VERSION"));
    }
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "originalUriBaseIds": {
                "BUNDLE": {"description": {"text": format!(
                    "the root folder of the record bundle `{}`", str_of(&doc["bundle"]["id"])
                )}}
            },
            "invocations": [{"executionSuccessful": true}],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "as_of": doc["as_of"],
                "bundle": doc["bundle"]["id"],
                "organization": doc["bundle"]["organization"],
                "policies": array(&doc["policies"])
                    .iter()
                    .map(|p| format!("{}@{}", str_of(&p["id"]), str_of(&p["version"])))
                    .collect::<Vec<_>>(),
            },
        }],
    })
}

/// The reporting descriptors, sorted by id: every rule of the packs (the latest version wins),
/// then any rule only the summary or a finding names (a pack-less rule still gets an index).
fn descriptors(doc: &Json, packs: &[Pack]) -> Vec<Json> {
    let mut by_id: BTreeMap<String, Json> = BTreeMap::new();
    for version in packs.iter().flat_map(|p| p.versions.iter()) {
        for rule in &version.rules {
            by_id.insert(
                rule.id.clone(),
                descriptor(
                    &rule.id,
                    &rule.title,
                    rule.severity.name(),
                    &version.pack_id,
                    &rule.citation,
                    &rule.remediation,
                ),
            );
        }
    }
    let summaries = array(&doc["summary"]["rules"]).iter();
    for r in summaries.chain(array(&doc["findings"])) {
        let id = str_of(&r["rule"]);
        if id.is_empty() || by_id.contains_key(id) {
            continue;
        }
        let title = r["title"].as_str().unwrap_or(id);
        let d = descriptor(
            id,
            title,
            str_of(&r["severity"]),
            str_of(&r["policy"]),
            str_of(&r["citation"]),
            str_of(&r["remediation"]),
        );
        by_id.insert(id.to_string(), d);
    }
    by_id.into_values().collect()
}

fn descriptor(
    id: &str,
    title: &str,
    severity: &str,
    pack: &str,
    citation: &str,
    remediation: &str,
) -> Json {
    let help = match (remediation.is_empty(), citation.is_empty()) {
        (false, false) => format!("{remediation}\n\nCitation: {citation}"),
        (false, true) => remediation.to_string(),
        (true, false) => format!("Citation: {citation}"),
        (true, true) => title.to_string(),
    };
    json!({
        "id": id,
        "name": camel_case(title),
        "shortDescription": {"text": title},
        "fullDescription": {"text": help},
        "help": {"text": help},
        "defaultConfiguration": {"level": level(severity)},
        "properties": {
            "citation": citation,
            "pack": pack,
            "severity": severity,
            "tags": ["compliance", pack, severity],
        },
    })
}

fn result(f: &Json, rule_index: Option<usize>) -> Json {
    let mut r = Map::new();
    r.insert("ruleId".into(), f["rule"].clone());
    if let Some(i) = rule_index {
        r.insert("ruleIndex".into(), json!(i));
    }
    let severity = str_of(&f["severity"]);
    r.insert("level".into(), json!(level(severity)));
    r.insert("message".into(), json!({"text": str_of(&f["message"])}));
    r.insert("locations".into(), json!([location(f)]));
    r.insert(
        "partialFingerprints".into(),
        json!({"vigil/v1": str_of(&f["id"])}),
    );
    if f["status"] == "waived" {
        r.insert("suppressions".into(), json!([suppression(&f["waiver"])]));
    }
    r.insert(
        "properties".into(),
        json!({
            "evidence": f["evidence"],
            "severity": severity,
            "status": f["status"],
            "policy": f["policy"],
            "policy_version": f["policy_version"],
            "citation": f["citation"],
        }),
    );
    Json::Object(r)
}

/// The file (and line, when known) and the record the finding is about.
fn location(f: &Json) -> Json {
    let dataset = str_of(&f["subject"]["dataset"]);
    let key = str_of(&f["subject"]["key"]);
    let mut loc = Map::new();
    let file = str_of(&f["location"]["file"]);
    if !file.is_empty() {
        let mut artifact = json!({"uri": file_uri(file)});
        // WAIVER-00x findings point into the waivers file, a path as given, not in the bundle.
        if dataset != "waivers" {
            artifact["uriBaseId"] = json!("BUNDLE");
        }
        let mut physical = json!({ "artifactLocation": artifact });
        if let Some(line) = f["location"]["line"].as_u64().filter(|l| *l >= 1) {
            physical["region"] = json!({"startLine": line});
        }
        loc.insert("physicalLocation".into(), physical);
    }
    loc.insert(
        "logicalLocations".into(),
        json!([{"name": key, "fullyQualifiedName": format!("{dataset}/{key}"), "kind": "object"}]),
    );
    Json::Object(loc)
}

/// A waiver as an external suppression; its justification when the waiver carries one.
fn suppression(waiver: &Json) -> Json {
    let mut s = json!({"kind": "external", "status": "accepted"});
    let justification = ["justification", "reason"]
        .iter()
        .find_map(|k| waiver[*k].as_str());
    if let Some(text) = justification {
        s["justification"] = json!(text);
    }
    if !waiver.is_null() {
        s["properties"] = json!({"waiver": waiver});
    }
    s
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
pub fn level(severity: &str) -> &'static str {
    match severity {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
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

fn array(v: &Json) -> &[Json] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn str_of(v: &Json) -> &str {
    v.as_str().unwrap_or_default()
}

/// The `sarif` writer.
pub struct Sarif;

impl crate::report::document::Writer for Sarif {
    fn write(
        &self,
        doc: &crate::report::document::Document<'_>,
    ) -> Result<String, crate::report::document::WriteError> {
        let json = crate::report::json::findings_document(doc);
        Ok(sarif(&json, doc.packs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(level("critical"), "error");
        assert_eq!(level("high"), "error");
        assert_eq!(level("medium"), "warning");
        assert_eq!(level("low"), "note");
        assert_eq!(level("info"), "note");
        assert_eq!(
            camel_case("The on-site practitioner holds current BLS"),
            "TheOnSitePractitionerHoldsCurrentBLS"
        );
    }

    #[test]
    fn results_locations_and_suppressions() {
        let doc = json!({
            "tool": {"version": "9.9.9"},
            "summary": {"rules": [{"rule": "R-1", "policy": "p", "title": "One", "severity": "high"}]},
            "findings": [
                {"id": "abc", "rule": "R-1", "severity": "medium", "status": "waived",
                 "subject": {"dataset": "facilities", "key": "F1"},
                 "location": {"file": "facilities.csv", "line": 0}, "message": "m",
                 "waiver": {"justification": "approved by the board"}},
                {"id": "def", "rule": "R-2", "severity": "low", "status": "fail",
                 "subject": {"dataset": "exams", "key": "E1"},
                 "location": {"file": "exams.csv", "line": 7}, "message": "n", "waiver": null},
            ],
        });
        let log = sarif_log(&doc, &[]);
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["version"], "9.9.9");
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
