//! Helpers shared by the test modules: the binary, fixture paths, findings.json access.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The crate root; fixture paths in case files are relative to it.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path of a fixture bundle, relative to the crate root (so messages show no temp paths).
pub fn bundle(name: &str) -> String {
    format!("fixtures/bundles/{name}")
}

/// `vigil`, run from the crate root, without colour.
pub fn vigil() -> Command {
    let mut cmd = Command::cargo_bin("vigil").unwrap();
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

/// The result of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}); stderr:\n{}\nstdout:\n{}",
                self.stderr, self.stdout
            )
        })
    }
}

/// Runs `vigil ARGS`; asserts it did not panic or die from a signal.
pub fn run(args: &[&str]) -> Run {
    run_in(&root(), args)
}

pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = vigil().current_dir(dir).args(args).output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "vigil {args:?} panicked:\n{}",
        run.stderr
    );
    assert!(run.code >= 0, "vigil {args:?} died from a signal");
    run
}

/// `vigil check BUNDLE --format json --as-of 2026-04-02 EXTRA...`
pub fn check_json(bundle: &str, extra: &[&str]) -> Run {
    let mut args = vec!["check", bundle, "--format", "json", "--as-of", "2026-04-02"];
    args.extend_from_slice(extra);
    run(&args)
}

pub fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().expect("findings is an array")
}

/// The findings of `rule` (any subject).
pub fn of_rule<'a>(doc: &'a Value, rule: &str) -> Vec<&'a Value> {
    findings(doc).iter().filter(|f| f["rule"] == rule).collect()
}

/// The findings of `rule` on the record with key `key`.
pub fn of_rule_key<'a>(doc: &'a Value, rule: &str, key: &str) -> Vec<&'a Value> {
    findings(doc)
        .iter()
        .filter(|f| f["rule"] == rule && f["subject"]["key"] == key)
        .collect()
}

/// One line a finding: severity, rule, file:line, key, field; for assertion messages and snapshots.
pub fn finding_line(f: &Value) -> String {
    let field = f["evidence"]["field"].as_str().unwrap_or("");
    format!(
        "{:<8} {:<8} {}:{} {} {}",
        f["severity"].as_str().unwrap_or("?"),
        f["rule"].as_str().unwrap_or("?"),
        f["location"]["file"].as_str().unwrap_or("?"),
        f["location"]["line"],
        f["subject"]["key"].as_str().unwrap_or("?"),
        field
    )
    .trim_end()
    .to_string()
}

pub fn finding_lines(doc: &Value) -> String {
    findings(doc)
        .iter()
        .map(finding_line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces every occurrence of `dir` (and its canonical form) in `text` by `[TMP]`.
pub fn mask(text: &str, dir: &Path) -> String {
    let mut out = text.to_string();
    if let Ok(canon) = dir.canonicalize() {
        out = out.replace(&canon.display().to_string(), "[TMP]");
    }
    out.replace(&dir.display().to_string(), "[TMP]")
}

/// The `summary.rules[]` entry of `rule`.
pub fn rule_summary<'a>(doc: &'a Value, rule: &str) -> &'a Value {
    doc["summary"]["rules"]
        .as_array()
        .expect("summary.rules is an array")
        .iter()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("no rule summary for {rule}"))
}

/// `(evaluated, failed, not_applicable)` of `rule` in the rule summary; the reasons of the
/// not-applicable records add up to `not_applicable`.
pub fn rule_counts(doc: &Value, rule: &str) -> (u64, u64, u64) {
    let s = rule_summary(doc, rule);
    let n = |k: &str| {
        s[k].as_u64()
            .unwrap_or_else(|| panic!("{rule}: no `{k}` in {s}"))
    };
    let reasons: u64 = s["reasons"]
        .as_object()
        .expect("reasons is an object")
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(reasons, n("not_applicable"), "{rule}: reasons {s}");
    (n("evaluated"), n("failed"), n("not_applicable"))
}

/// The reasons of `rule`'s not-applicable records, joined (for `contains` checks).
pub fn rule_reasons(doc: &Value, rule: &str) -> String {
    rule_summary(doc, rule)["reasons"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(" | ")
}

/// `(rule, subject key)` of every finding whose rule starts with `prefix`, sorted.
pub fn rule_keys(doc: &Value, prefix: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = findings(doc)
        .iter()
        .filter(|f| f["rule"].as_str().unwrap().starts_with(prefix))
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["subject"]["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every file of a folder (a packet): (name, bytes), sorted by name.
pub fn folder_contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

/// A copy of the shipped pack `id` (its files, without its tests) under `dir`, each policy file
/// passed through `edit`: a compliance officer's edit, made without code. Returns the copy's
/// folder.
pub fn edited_pack(dir: &Path, id: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let from = root().join("policies").join(id);
    let to = dir.join(id);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let text = std::fs::read_to_string(&path).unwrap();
            let is_policy = path.extension().is_some_and(|e| e == "toml");
            let text = if is_policy { edit(&text) } else { text };
            std::fs::write(to.join(path.file_name().unwrap()), text).unwrap();
        }
    }
    to
}

/// The metric value of findings.json with this id and exactly this group (`&[]`: overall).
pub fn metric<'a>(doc: &'a Value, id: &str, group: &[(&str, &str)]) -> Option<&'a Value> {
    doc["metrics"].as_array()?.iter().find(|m| {
        let Some(g) = m["group"].as_object() else {
            return false;
        };
        m["id"] == id
            && g.len() == group.len()
            && group
                .iter()
                .all(|(k, v)| g.get(*k).and_then(Value::as_str) == Some(*v))
    })
}

/// `vigil audit fixtures/bundles/demo --out TMP/packet --fail-on none EXTRA...`, which must
/// succeed; returns the report.html it wrote.
pub fn demo_report_html(extra: &[&str]) -> String {
    let out = tempfile::tempdir().unwrap();
    let packet = out.path().join("packet");
    let mut args = vec![
        "audit",
        "fixtures/bundles/demo",
        "--out",
        packet.to_str().unwrap(),
        "--fail-on",
        "none",
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::read_to_string(packet.join("report.html")).unwrap()
}

/// The full path of `tool` when it is on PATH (a report consumer such as pdftotext).
pub fn which(tool: &str) -> Option<PathBuf> {
    let out = std::process::Command::new("which")
        .arg(tool)
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
}
