//! `vigil check --format junit|sarif|github|ndjson` on the demo bundle, each parsed back by a
//! real consumer (the OASIS SARIF 2.1.0 schema, an XML parser, a JSON parser) and compared with
//! the JSON output of the same run; hostile record values (`fixtures/bundles/format_escaping`)
//! come out escaped; every format is byte-identical across runs and leaves the exit code alone.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use serde_json::Value;

use crate::common::{Run, bundle, check_json, findings, root, run};

const DEMO: &str = "fixtures/bundles/demo";
const FORMATS: [&str; 4] = ["junit", "sarif", "github", "ndjson"];
/// The facility name in `format_escaping`'s first SUP-002 message.
const HOSTILE: &str = "<Lakeside & \"North\">";

fn check(bundle: &str, format: &str) -> Run {
    run(&["check", bundle, "--format", format, "--as-of", "2026-04-02"])
}

/// The run in `format` and the JSON run of the same bundle; both exit as the JSON run does.
fn with_json(bundle: &str, format: &str) -> (Run, Value) {
    let json = check_json(bundle, &[]);
    let r = check(bundle, format);
    assert_eq!(r.code, json.code, "--format {format}: {}", r.stderr);
    assert!(r.stderr.is_empty(), "--format {format}: {}", r.stderr);
    (r, json.json())
}

// ---- SARIF

fn sarif_validator() -> jsonschema::Validator {
    let path = root().join("fixtures/data/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid_sarif(log: &Value) {
    let errors: Vec<String> = sarif_validator()
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid SARIF 2.1.0:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_is_valid_and_has_a_result_per_finding() {
    let (r, doc) = with_json(DEMO, "sarif");
    let log: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_valid_sarif(&log);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    let findings = findings(&doc);
    assert!(!findings.is_empty());
    assert_eq!(results.len(), findings.len());

    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "rules sorted by id, each once");
    for rule in doc["summary"]["rules"].as_array().unwrap() {
        assert!(ids.contains(&rule["rule"].as_str().unwrap()), "{rule}");
    }
    for rule in rules {
        assert!(
            !rule["properties"]["citation"].as_str().unwrap().is_empty(),
            "{rule}"
        );
        assert!(
            rule["help"]["text"]
                .as_str()
                .unwrap()
                .contains("Citation: ")
        );
    }

    for (result, finding) in results.iter().zip(findings) {
        assert_eq!(result["ruleId"], finding["rule"]);
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], finding["rule"]);
        assert_eq!(result["message"]["text"], finding["message"]);
        assert_eq!(result["partialFingerprints"]["vigil/v1"], finding["id"]);
        let loc = &result["locations"][0];
        let physical = &loc["physicalLocation"];
        assert_eq!(
            physical["artifactLocation"]["uri"],
            finding["location"]["file"]
        );
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "BUNDLE");
        assert_eq!(physical["region"]["startLine"], finding["location"]["line"]);
        assert_eq!(
            loc["logicalLocations"][0]["name"],
            finding["subject"]["key"]
        );
        let level = match finding["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(result["level"], level, "{finding}");
        assert_eq!(result["properties"]["evidence"], finding["evidence"]);
    }
}

#[test]
fn the_schema_rejects_a_broken_log() {
    let r = check(DEMO, "sarif");
    let mut log: Value = serde_json::from_str(&r.stdout).unwrap();
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(
        !sarif_validator().is_valid(&log),
        "the validator checks the schema's enums"
    );
}

#[test]
fn sarif_keeps_hostile_values_as_json_strings() {
    let (r, doc) = with_json(&bundle("format_escaping"), "sarif");
    let log: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_valid_sarif(&log);
    let messages: Vec<&Value> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["message"]["text"])
        .collect();
    let expected: Vec<&Value> = findings(&doc).iter().map(|f| &f["message"]).collect();
    assert_eq!(messages, expected);
    assert!(messages[0].as_str().unwrap().contains(HOSTILE));
}

#[test]
fn sarif_suppresses_waived_findings() {
    let extra = ["--waivers", "fixtures/waivers/filters.toml"];
    let doc = check_json("fixtures/waivers/network", &extra).json();
    let mut args = vec!["check", "fixtures/waivers/network", "--format", "sarif"];
    args.extend_from_slice(&["--as-of", "2026-04-02"]);
    args.extend_from_slice(&extra);
    let log: Value = serde_json::from_str(&run(&args).stdout).unwrap();
    assert_valid_sarif(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings(&doc).len());
    let waived = findings(&doc)
        .iter()
        .filter(|f| f["status"] == "waived")
        .count();
    assert!(waived > 0);
    let suppressed: Vec<&Value> = results
        .iter()
        .filter_map(|r| r.get("suppressions"))
        .collect();
    assert_eq!(suppressed.len(), waived);
    assert_eq!(suppressed[0][0]["kind"], "external");
    assert!(suppressed[0][0]["justification"].is_string());
}

// ---- JUnit

/// What an XML parser sees in a JUnit report: element counts, attributes of the first
/// `<testsuites>`, each `<testsuite>`'s attributes, and the failure texts, entities resolved.
#[derive(Default)]
struct JUnit {
    counts: BTreeMap<String, usize>,
    totals: BTreeMap<String, String>,
    suites: Vec<BTreeMap<String, String>>,
    case_names: Vec<String>,
    failure_texts: Vec<String>,
}

fn attributes(e: &quick_xml::events::BytesStart) -> BTreeMap<String, String> {
    e.attributes()
        .map(|a| {
            let a = a.unwrap();
            (
                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                a.unescape_value().unwrap().into_owned(),
            )
        })
        .collect()
}

fn parse_junit(xml: &str) -> JUnit {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = JUnit::default();
    // the raw text of the `<failure>` being read (entity references kept, resolved at its end)
    let mut failure: Option<String> = None;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let attrs = attributes(&e);
                match name.as_str() {
                    "testsuites" => out.totals = attrs,
                    "testsuite" => out.suites.push(attrs),
                    "testcase" => out.case_names.push(attrs["name"].clone()),
                    "failure" => failure = Some(String::new()),
                    _ => {}
                }
                *out.counts.entry(name).or_default() += 1;
            }
            Event::Text(t) => {
                if let Some(text) = failure.as_mut() {
                    text.push_str(&t.xml_content().unwrap());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(text) = failure.as_mut() {
                    text.push_str(&format!("&{};", r.decode().unwrap()));
                }
            }
            Event::End(e) if e.name().as_ref() == b"failure" => {
                let raw = failure.take().unwrap();
                out.failure_texts
                    .push(quick_xml::escape::unescape(&raw).unwrap().into_owned());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn count(j: &JUnit, element: &str) -> usize {
    j.counts.get(element).copied().unwrap_or(0)
}

#[test]
fn junit_counts_match_the_summary() {
    let (r, doc) = with_json(DEMO, "junit");
    let j = parse_junit(&r.stdout);
    let rules = doc["summary"]["rules"].as_array().unwrap();
    let failing: Vec<&str> = rules
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .filter(|id| {
            findings(&doc)
                .iter()
                .any(|f| f["rule"] == *id && f["status"] == "fail")
        })
        .collect();
    let mut packs: Vec<&str> = doc["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    packs.dedup();

    assert_eq!(count(&j, "testsuites"), 1);
    assert_eq!(count(&j, "testsuite"), packs.len());
    assert_eq!(count(&j, "testcase"), rules.len());
    assert_eq!(count(&j, "failure"), failing.len());
    assert_eq!(j.totals["name"], "vigil");
    assert_eq!(j.totals["tests"], rules.len().to_string());
    assert_eq!(j.totals["failures"], failing.len().to_string());
    let suite_names: Vec<&str> = j.suites.iter().map(|s| s["name"].as_str()).collect();
    assert_eq!(suite_names, packs);
    let sum = |key: &str| -> usize {
        j.suites
            .iter()
            .map(|s| s[key].parse::<usize>().unwrap())
            .sum()
    };
    assert_eq!(sum("tests"), rules.len());
    assert_eq!(sum("failures"), failing.len());
    // BEN-003 judges no demo record: skipped, not passed
    assert_eq!(count(&j, "skipped"), 1);
    assert_eq!(j.totals["skipped"], "1");
    assert!(j.case_names.iter().any(|n| n.starts_with("BEN-003: ")));
    // every failing finding is listed in its rule's failure, file:line first
    let listed: usize = j.failure_texts.iter().map(|t| t.lines().count()).sum();
    assert_eq!(listed, findings(&doc).len());
    let first = &findings(&doc)[0];
    let place = format!(
        "{}:{} {}: ",
        first["location"]["file"].as_str().unwrap(),
        first["location"]["line"],
        first["subject"]["key"].as_str().unwrap()
    );
    assert!(
        j.failure_texts.iter().any(|t| t.contains(&place)),
        "{place}"
    );
}

#[test]
fn junit_escapes_record_values() {
    let (r, doc) = with_json(&bundle("format_escaping"), "junit");
    assert!(
        !r.stdout.contains(HOSTILE),
        "raw markup in the XML:\n{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("&lt;Lakeside &amp; \"North\"&gt;"),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout.contains('\u{1}'),
        "a control character XML 1.0 forbids"
    );
    let j = parse_junit(&r.stdout);
    assert_eq!(count(&j, "failure"), 1);
    let text = &j.failure_texts[0];
    let messages: Vec<&str> = findings(&doc)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    // the parser gives back the message, the forbidden character replaced
    assert!(text.contains(messages[0]), "{text}");
    assert!(
        text.contains(&messages[1].replace('\u{1}', "\u{fffd}")),
        "{text}"
    );
}

// ---- GitHub annotations

#[test]
fn github_has_an_annotation_per_finding() {
    let (r, doc) = with_json(DEMO, "github");
    let lines: Vec<&str> = r.stdout.lines().collect();
    let findings = findings(&doc);
    assert_eq!(lines.len(), findings.len());
    for (line, f) in lines.iter().zip(findings) {
        let level = match f["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "notice",
        };
        let head = format!(
            "::{level} file={},line={},title={} ({})::",
            f["location"]["file"].as_str().unwrap(),
            f["location"]["line"],
            f["rule"].as_str().unwrap(),
            f["severity"].as_str().unwrap()
        );
        assert!(line.starts_with(&head), "{line}\nexpected {head}");
    }
}

#[test]
fn github_escapes_newlines_and_percent() {
    let (r, _) = with_json(&bundle("format_escaping"), "github");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(lines[0].ends_with(&format!("::exam E2 at {HOSTILE} requires direct supervision but records supervision mode `none` and supervisor `(missing)`")), "{}", lines[0]);
    assert!(
        // A control character is a visible escape, never a raw byte in the log.
        lines[1].contains("::exam E3 at 50%25 West%0AAnnex \\u{1}bell requires"),
        "{}",
        lines[1]
    );
}

// ---- NDJSON

#[test]
fn ndjson_lines_are_the_findings() {
    for b in [
        DEMO.to_string(),
        bundle("format_escaping"),
        bundle("minimal"),
    ] {
        let (r, doc) = with_json(&b, "ndjson");
        let parsed: Vec<Value> = r
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(&parsed, findings(&doc), "{b}");
        assert!(r.stdout.is_empty() || r.stdout.ends_with('\n'));
    }
    // a clean bundle: no line at all
    assert_eq!(check(&bundle("minimal"), "ndjson").stdout, "");
}

// ---- every format

#[test]
fn every_format_is_byte_identical_across_runs() {
    for format in FORMATS {
        let a = check(DEMO, format);
        let b = check(DEMO, format);
        assert!(!a.stdout.is_empty(), "{format}");
        assert_eq!(a.stdout, b.stdout, "--format {format} differs between runs");
    }
}

#[test]
fn the_format_does_not_change_the_exit_code() {
    for b in [DEMO.to_string(), bundle("minimal")] {
        let expected = check_json(&b, &[]).code;
        for format in FORMATS {
            assert_eq!(check(&b, format).code, expected, "{b} --format {format}");
            let r = run(&[
                "check",
                &b,
                "--format",
                format,
                "--as-of",
                "2026-04-02",
                "--fail-on",
                "none",
            ]);
            assert_eq!(r.code, 0, "{b} --format {format} --fail-on none");
        }
    }
}
