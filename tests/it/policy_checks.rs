//! `vigil policy lint` (the shipped packs are clean; unused and unknown parameters point into the
//! file), `vigil policy test` (the shipped packs' own cases pass with full rule coverage but
//! BEN-003; a failing case names the difference; JUnit), and `vigil schema policy` (every shipped
//! policy file validates against it; a misspelt key does not).

use std::path::Path;

use serde_json::Value;

use crate::common::{root, run};

#[test]
fn the_shipped_packs_lint_clean() {
    let r = run(&["policy", "lint"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "ok: 6 packs, 9 versions, 30 rules\n");
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn lint_points_at_unused_and_unknown_parameters() {
    // Both mistakes in one run; the pack does not load, so its folder name is not judged.
    let r = run(&["policy", "lint", "fixtures/packs/lint_unused_param"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    for expected in [
        "error: parameter `max_wait_s` is declared but no rule or metric uses it",
        "--> fixtures/packs/lint_unused_param/1.0.0.toml:12:1",
        "12 | max_wait_s = 600",
        "error: rule `LINT-002`: unknown parameter `params.max_exam_sec`: the version declares none",
        "1.0.0.toml:33:108",
        "help: did you mean `max_exam_s`?",
        "lint: 2 error(s), 0 warning(s)",
    ] {
        assert!(
            r.stderr.contains(expected),
            "no `{expected}` in:\n{}",
            r.stderr
        );
    }
}

/// Three mistakes in one pack: lint reports all three in one run, and `check` refuses the pack
/// with the same three before reading the bundle.
#[test]
fn lint_and_check_report_every_mistake_in_one_run() {
    let pack = "fixtures/packs/lint_three_mistakes";
    let expected = [
        "`complete` is not a value of `status`",
        "lint_three_mistakes/1.0.0.toml:22:19",
        "unknown field `contrast_clas` for dataset `exams`",
        "lint_three_mistakes/1.0.0.toml:33:36",
        "parameter `max_wait_s` is declared but no rule or metric uses it",
        "lint_three_mistakes/1.0.0.toml:12:1",
    ];
    let lint = run(&["policy", "lint", pack]);
    assert_eq!(lint.code, 2, "{}", lint.stderr);
    assert!(lint.stderr.contains("lint: 3 error(s)"), "{}", lint.stderr);
    let check = run(&[
        "check",
        "fixtures/bundles/no-such-bundle",
        "--policies",
        pack,
    ]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(
        check.stderr.contains("3 errors in the policies"),
        "{}",
        check.stderr
    );
    for e in expected {
        assert!(
            lint.stderr.contains(e),
            "lint: no `{e}` in:\n{}",
            lint.stderr
        );
        assert!(
            check.stderr.contains(e),
            "check: no `{e}` in:\n{}",
            check.stderr
        );
    }
}

#[test]
fn lint_reports_load_errors_of_each_folder_and_warns_on_folder_names() {
    let r = run(&[
        "policy",
        "lint",
        "fixtures/packs/err_unknown_key",
        "fixtures/packs/custom",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("error: unknown key `sevrity`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("1.0.0.toml:19:1"), "{}", r.stderr);
    assert!(
        r.stderr.contains("help: did you mean `severity`?"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("warning: the pack folder `custom`"),
        "{}",
        r.stderr
    );
    let r = run(&["policy", "lint", "fixtures/packs/custom"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "ok: 1 packs, 1 versions, 2 rules (1 warning(s))\n"
    );
}

#[test]
fn the_shipped_packs_pass_their_own_cases() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("policy-tests.xml");
    // The embedded case bundles are written under TMPDIR: a folder of our own, to see them go.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = crate::common::vigil()
        .env("TMPDIR", &tmp)
        .args(["policy", "test", "--junit", junit.to_str().unwrap()])
        .output()
        .unwrap();
    let r = crate::common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("FAIL"), "{}", r.stdout);
    // Every rule fires in some case, except BEN-003: it needs thousands of contrast exams per
    // facility (min_exams), too large to embed in the binary; fixtures/bundles/ben003_rates has it.
    let coverage: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("coverage:"))
        .collect();
    assert_eq!(coverage.len(), 6, "{}", r.stdout);
    for line in &coverage {
        assert!(
            !line.contains("never:")
                || line.ends_with("4 of 5 rules fire in some case; never: BEN-003"),
            "{line}"
        );
    }
    assert!(r.stdout.contains("never: BEN-003"), "{}", r.stdout);
    for pack in [
        "cms-direct-supervision",
        "acr-contrast-supervision",
        "contrast-reactions",
        "network-benchmarks",
        "export-integrity",
        "state-contrast-law",
    ] {
        let section = r.stdout.split(&format!("{pack} (builtin:")).nth(1).unwrap();
        let passes = section
            .lines()
            .take_while(|l| !l.contains("coverage:"))
            .filter(|l| l.trim_start().starts_with("PASS"))
            .count();
        assert!(passes >= 2, "{pack}: {passes} cases\n{}", r.stdout);
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    let (suites, cases, failures) = junit_counts(&xml);
    assert_eq!(suites, 6);
    assert!(cases >= 17, "{xml}");
    assert_eq!(failures, 0);
    assert!(
        xml.contains("name=\"uncovered_rules\" value=\"BEN-003\""),
        "{xml}"
    );
    // The embedded bundles were written to temporary folders and removed.
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

/// `(testsuites, testcases, failures)` read by a real XML parser.
fn junit_counts(xml: &str) -> (usize, usize, usize) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut suites, mut cases, mut failures) = (0, 0, 0);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => suites += 1,
                b"testcase" => cases += 1,
                b"failure" => failures += 1,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    (suites, cases, failures)
}

#[test]
fn a_failing_case_names_the_difference() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("j.xml");
    let r = run(&[
        "policy",
        "test",
        "fixtures/packs/ptest_failing",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    insta::assert_snapshot!("policy_test_failing", r.stdout);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(junit_counts(&xml), (1, 3, 2), "{xml}");
    assert!(xml.contains("missing: LOC-002 on L3"), "{xml}");
}

#[test]
fn a_case_naming_an_unknown_rule_cannot_run() {
    let r = run(&["policy", "test", "fixtures/packs/ptest_bad_expected"]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("finding rule `LOC-01` is not a rule of pack `ptest-bad-expected` (did you mean `LOC-001`?)"),
        "{}",
        r.stdout
    );
    let r = run(&["policy", "test", "fixtures/packs/custom"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no policy test cases found"),
        "{}",
        r.stderr
    );
}

/// The schema printed by `vigil schema policy`.
fn policy_schema() -> Value {
    let r = run(&["schema", "policy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

/// A policy file as JSON, the way taplo sees it: TOML dates as `YYYY-MM-DD` strings (the toml
/// crate wraps them as `{"$__toml_private_datetime": "..."}`).
fn policy_json(path: &Path) -> Value {
    fn unwrap_dates(v: Value) -> Value {
        match v {
            Value::Object(map) => {
                if map.len() == 1
                    && let Some(Value::String(s)) = map.get("$__toml_private_datetime")
                {
                    return Value::String(s.clone());
                }
                Value::Object(map.into_iter().map(|(k, v)| (k, unwrap_dates(v))).collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(unwrap_dates).collect()),
            other => other,
        }
    }
    let text = std::fs::read_to_string(path).unwrap();
    unwrap_dates(toml::from_str::<Value>(&text).unwrap())
}

#[test]
fn every_shipped_policy_file_validates_against_the_schema() {
    let schema = policy_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut files = Vec::new();
    for pack in std::fs::read_dir(root().join("policies")).unwrap() {
        let pack = pack.unwrap().path();
        if !pack.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&pack).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "toml") {
                files.push(f);
            }
        }
    }
    files.push(root().join("fixtures/packs/custom/1.0.0.toml"));
    assert!(files.len() >= 9, "{files:?}");
    for f in &files {
        let doc = policy_json(f);
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {}", f.display(), errors.join("\n"));
    }
}

#[test]
fn the_schema_rejects_misspelt_keys_and_misplaced_check_keys() {
    let schema = policy_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    // fixtures/packs/err_unknown_key has `sevrity`.
    let doc = policy_json(&root().join("fixtures/packs/err_unknown_key/1.0.0.toml"));
    assert!(!validator.is_valid(&doc));
    let good = policy_json(&root().join("fixtures/packs/custom/1.0.0.toml"));
    assert!(validator.is_valid(&good));
    let mut bad = good.clone();
    bad["pack"]["titel"] = Value::String("x".into());
    assert!(!validator.is_valid(&bad));
    let mut bad = good.clone();
    bad["rule"][0]["check"]["values"] = serde_json::json!(["a"]);
    assert!(
        !validator.is_valid(&bad),
        "`values` does not belong to a duration check"
    );
    let mut bad = good;
    bad["rule"][0]["severity"] = Value::String("severe".into());
    assert!(!validator.is_valid(&bad));
}

#[test]
fn schema_names_only_known_schemas() {
    let r = run(&["schema", "bundle"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("policy"), "{}", r.stderr);
}

/// `policy test --bless` rewrites a failing case's expected.toml from the findings, says what
/// changed, and the next run passes; `--bless` on the shipped packs, whose cases pass, writes
/// nothing (a failing built-in case is refused: it lives in the binary).
#[test]
fn bless_rewrites_a_failing_case_and_says_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("packs");
    let init = run(&["policy", "init", copy.to_str().unwrap()]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let expected = copy.join("network-benchmarks/tests/boundaries/expected.toml");
    let text = std::fs::read_to_string(&expected).unwrap();
    // Drop the first expected finding and move the second to another line.
    let first = text.find("[[finding]]").unwrap();
    let second = first + 5 + text[first + 5..].find("[[finding]]").unwrap();
    let edited =
        format!("{}{}", &text[..first], &text[second..]).replacen("line = 7\n", "line = 77\n", 1);
    std::fs::write(&expected, edited).unwrap();
    let dirs = copy.to_str().unwrap();
    let failing = run(&["policy", "test", dirs]);
    assert_eq!(failing.code, 1, "{}", failing.stdout);
    let bless = run(&["policy", "test", dirs, "--bless"]);
    assert_eq!(bless.code, 0, "{}{}", bless.stdout, bless.stderr);
    for s in [
        "BLESS boundaries",
        "different: BEN-001 on X-no-join: line 7, expected 77",
        "unexpected: BEN-001 on X91",
        "1 blessed",
    ] {
        assert!(bless.stdout.contains(s), "no `{s}` in:\n{}", bless.stdout);
    }
    let again = run(&["policy", "test", dirs]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert!(
        again.stdout.contains("  PASS  boundaries"),
        "{}",
        again.stdout
    );
    assert!(
        again
            .stdout
            .contains("versions: 3 of 3 have a finding in some case"),
        "{}",
        again.stdout
    );
    let builtin = run(&["policy", "test", "--bless"]);
    assert_eq!(builtin.code, 0, "{}", builtin.stdout);
}

/// Valid edits a compliance officer makes to a copy of the shipped packs (a new version, a new
/// typed parameter, a new rule that reads it) load with no false alarm: lint is clean and
/// `check` runs the bundle.
#[test]
fn valid_pack_edits_load_without_a_false_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("packs");
    let init = run(&["policy", "init", copy.to_str().unwrap()]);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let cms = copy.join("cms-direct-supervision");
    let v3 = std::fs::read_to_string(cms.join("3.0.0.toml")).unwrap();
    assert!(v3.contains("effective_from = 2026-01-01\n"));
    std::fs::write(
        cms.join("3.0.0.toml"),
        v3.replace(
            "effective_from = 2026-01-01\n",
            "effective_from = 2026-01-01\neffective_to = 2026-12-31\n",
        ),
    )
    .unwrap();
    let v4 = v3
        .replace("version = \"3.0.0\"", "version = \"4.0.0\"")
        .replace("effective_from = 2026-01-01", "effective_from = 2027-01-01")
        .replace(
            "[types]\n",
            "[types]\nmax_join_s = \"seconds\"\n",
        )
        .replace(
            "[parameters]\n",
            "[parameters]\n# Longest wait for the supervisor to join, network policy.\nmax_join_s = 120\n",
        )
        + r#"
[[rule]]
id = "SUP-900"
title = "The supervisor joined within the network's limit"
severity = "low"
dataset = "sessions"
check = { kind = "duration", from = "requested_at", to = "joined_at", param = "max_join_s" }
message = "session {session_id}: joined after {evidence.seconds} s, over {param.max_join_s} s"
citation = "Network policy"
remediation = "Review the on-call path."
"#;
    std::fs::write(cms.join("4.0.0.toml"), v4).unwrap();
    let dirs = copy.to_str().unwrap();
    let lint = run(&["policy", "lint", dirs]);
    assert_eq!(lint.code, 0, "{}", lint.stderr);
    assert!(
        lint.stdout
            .starts_with("ok: 6 packs, 10 versions, 31 rules"),
        "{}",
        lint.stdout
    );
    let check = run(&[
        "check",
        "fixtures/bundles/demo",
        "--policies",
        dirs,
        "--format",
        "json",
        "--as-of",
        "2026-04-02",
    ]);
    assert!(check.code == 0 || check.code == 1, "{}", check.stderr);
    let doc = check.json();
    assert!(
        doc["policies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["version"] == "4.0.0"),
        "{doc}"
    );
    // The demo is dated 2026: 4.0.0 judges none of it, and the run says so for its new rule.
    let warnings = doc["summary"]["warnings"].to_string();
    assert!(warnings.contains("SUP-900"), "{warnings}");
}
