//! Data-driven: each `fixtures/cases/bundles/NAME.toml` describes what `vigil check
//! fixtures/bundles/NAME --format json --as-of 2026-04-02` must do. Adding a case adds files.
//!
//! Case file keys (all optional except `exit`):
//! - `exit`: the exit code, or `"0 or 1"` for a run that completes whatever it finds (a bundle
//!   whose findings another case or module owns); `args`: extra arguments after the defaults.
//! - `snapshot = false`: no insta snapshot (a bundle someone else owns and changes; the case
//!   only proves the run completes and every line is read).
//! - `stderr`: substrings stderr must contain (for exit 2: the file that stopped the run).
//! - `findings`: tables matched against findings by any of `rule`, `file`, `line`, `key`,
//!   `field`, `policy`, `policy_version`, `severity`, `status`, or `"evidence.NAME"` (the evidence
//!   value of NAME, e.g. `"evidence.onsite.role"`); each must match at least one finding.
//! - `not_findings`: the same, each must match no finding. `exact = true`: the findings listed
//!   are all the findings.
//! - `ignored`, `absent`: `bundle.ignored` / `bundle.absent` exactly.
//! - `[lines]`: data lines of a file whose lines cannot be counted from its bytes (JSON, gzip,
//!   quoted newlines). Every other `.csv`/`.ndjson` is counted: header and blank lines aside,
//!   every line is a record or a DQ-007 finding.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::common::{bundle, check_json, finding_line, finding_lines, findings};

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    exit: Exit,
    #[serde(default = "yes")]
    snapshot: bool,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    stderr: Vec<String>,
    #[serde(default)]
    findings: Vec<BTreeMap<String, toml::Value>>,
    #[serde(default)]
    not_findings: Vec<BTreeMap<String, toml::Value>>,
    #[serde(default)]
    exact: bool,
    #[serde(default)]
    ignored: Option<Vec<String>>,
    #[serde(default)]
    absent: Option<Vec<String>>,
    #[serde(default)]
    lines: BTreeMap<String, u64>,
}

/// The exit code a case expects: one code, or either of the codes of a completed run.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum Exit {
    Code(i32),
    Completed(CompletedRun),
}

#[derive(Debug, serde::Deserialize)]
enum CompletedRun {
    #[serde(rename = "0 or 1")]
    ZeroOrOne,
}

impl Exit {
    fn accepts(&self, code: i32) -> bool {
        match self {
            Exit::Code(c) => *c == code,
            Exit::Completed(CompletedRun::ZeroOrOne) => code == 0 || code == 1,
        }
    }

    fn is_error(&self) -> bool {
        matches!(self, Exit::Code(2))
    }
}

fn yes() -> bool {
    true
}

fn cases() -> Vec<(String, Case)> {
    let dir = crate::common::root().join("fixtures/cases/bundles");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let case: Case = toml::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: bad case file: {e}", path.display()));
            out.push((name, case));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 20, "case files went missing: {}", out.len());
    out
}

/// The finding value a case key compares with.
fn finding_value<'a>(f: &'a Value, key: &str) -> &'a Value {
    match key {
        "file" => &f["location"]["file"],
        "line" => &f["location"]["line"],
        "key" => &f["subject"]["key"],
        "dataset" => &f["subject"]["dataset"],
        "field" => &f["evidence"]["field"],
        other => match other.strip_prefix("evidence.") {
            Some(name) => &f["evidence"][name],
            None => &f[other],
        },
    }
}

fn matches(f: &Value, want: &BTreeMap<String, toml::Value>) -> bool {
    want.iter().all(|(k, v)| {
        let got = finding_value(f, k);
        match v {
            toml::Value::String(s) => got.as_str() == Some(s.as_str()),
            toml::Value::Integer(i) => got.as_i64() == Some(*i),
            toml::Value::Float(x) => got.as_f64() == Some(*x),
            toml::Value::Boolean(b) => got.as_bool() == Some(*b),
            other => panic!("case key `{k}`: unsupported value {other}"),
        }
    })
}

/// Data lines of a plain CSV or NDJSON file: non-blank lines, less the CSV header.
fn counted_lines(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let is_csv = name.ends_with(".csv");
    if !(is_csv || name.ends_with(".ndjson") || name.ends_with(".jsonl")) {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let non_blank = bytes
        .split(|b| *b == b'\n')
        .filter(|l| l.iter().any(|b| !b" \t\r".contains(b)))
        .count() as u64;
    Some(if is_csv {
        non_blank.saturating_sub(1)
    } else {
        non_blank
    })
}

/// Every data line of every file is a record or one DQ-007 finding: none disappears.
fn assert_accounted(name: &str, case: &Case, doc: &Value) {
    let dir = crate::common::root().join(bundle(name));
    let files = doc["bundle"]["files"].as_array().unwrap();
    let mut by_dataset: BTreeMap<String, u64> = BTreeMap::new();
    for file in files {
        let path = file["path"].as_str().unwrap();
        let records = file["records"].as_u64().unwrap();
        *by_dataset
            .entry(file["dataset"].as_str().unwrap().to_string())
            .or_default() += records;
        let unreadable = findings(doc)
            .iter()
            .filter(|f| f["rule"] == "DQ-007" && f["location"]["file"] == path)
            .count() as u64;
        let expected = case
            .lines
            .get(path)
            .copied()
            .or_else(|| counted_lines(&dir.join(path)))
            .unwrap_or_else(|| panic!("{name}: give `[lines] \"{path}\"` in the case file"));
        assert_eq!(
            records + unreadable,
            expected,
            "{name}: `{path}` has {expected} data lines but {records} records and {unreadable} DQ-007 findings"
        );
    }
    for (dataset, n) in &by_dataset {
        assert_eq!(
            doc["summary"]["records"][dataset].as_u64(),
            Some(*n),
            "{name}: summary.records.{dataset} differs from the sum over its files"
        );
    }
}

fn run_case(name: &str, case: &Case) -> String {
    let extra: Vec<&str> = case.args.iter().map(String::as_str).collect();
    let run = check_json(&bundle(name), &extra);
    assert!(
        case.exit.accepts(run.code),
        "{name}: exit code {} is not {:?}; stderr:\n{}\nfindings:\n{}",
        run.code,
        case.exit,
        run.stderr,
        if run.code == 2 {
            String::new()
        } else {
            finding_lines(&run.json())
        }
    );
    for s in &case.stderr {
        assert!(
            run.stderr.contains(s.as_str()),
            "{name}: stderr lacks `{s}`:\n{}",
            run.stderr
        );
    }
    if case.exit.is_error() {
        assert!(run.stdout.is_empty(), "{name}: output despite exit 2");
        assert!(run.stderr.starts_with("error: "), "{name}: {}", run.stderr);
        return format!("exit: 2\nstderr:\n{}", run.stderr.trim_end());
    }
    let doc = run.json();
    assert_eq!(doc["format"], "vigil.findings/1");
    let all = findings(&doc);
    for want in &case.findings {
        assert!(
            all.iter().any(|f| matches(f, want)),
            "{name}: no finding matches {want:?}; findings:\n{}",
            finding_lines(&doc)
        );
    }
    for unwanted in &case.not_findings {
        if let Some(f) = all.iter().find(|f| matches(f, unwanted)) {
            panic!("{name}: unexpected finding {}", finding_line(f));
        }
    }
    if case.exact {
        assert_eq!(
            all.len(),
            case.findings.len(),
            "{name}: findings other than the listed ones:\n{}",
            finding_lines(&doc)
        );
    }
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    if let Some(ignored) = &case.ignored {
        assert_eq!(
            &strings(&doc["bundle"]["ignored"]),
            ignored,
            "{name}: ignored"
        );
    }
    if let Some(absent) = &case.absent {
        assert_eq!(&strings(&doc["bundle"]["absent"]), absent, "{name}: absent");
    }
    assert_accounted(name, case, &doc);
    format!(
        "exit: {}\nrecords: {}\nignored: {}\nabsent: {}\nfindings:\n{}",
        run.code,
        doc["summary"]["records"],
        doc["bundle"]["ignored"],
        doc["bundle"]["absent"],
        finding_lines(&doc)
    )
}

#[test]
fn every_bundle_case() {
    let cases = cases();
    for (name, case) in &cases {
        let snapshot = run_case(name, case);
        if case.snapshot {
            insta::assert_snapshot!(format!("bundle_{name}"), snapshot);
        }
    }
}

/// Every fixture bundle (except the shared demo) has a case file, so none is left untested.
#[test]
fn every_bundle_has_a_case() {
    let cases: Vec<String> = cases().into_iter().map(|(n, _)| n).collect();
    for entry in std::fs::read_dir(crate::common::root().join("fixtures/bundles")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name != "demo" {
            assert!(
                cases.contains(&name),
                "fixtures/bundles/{name} has no case file"
            );
        }
    }
}
