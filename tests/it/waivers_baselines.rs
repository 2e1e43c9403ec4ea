//! Waivers (`--waivers`: waived findings, expiry, unmatched waivers, malformed files) and
//! baselines (`--baseline`, `vigil diff`), through the binary. Fixtures: fixtures/waivers/
//! (see its README.md for what each file waives) and fixtures/baselines/.

use std::path::Path;

use serde_json::Value;

use crate::common::{Run, check_json, findings, mask, of_rule, root, rule_counts, run, run_in};

const NETWORK: &str = "fixtures/waivers/network";

fn check_waived(waivers: &str, as_of: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "check",
        NETWORK,
        "--format",
        "json",
        "--as-of",
        as_of,
        "--waivers",
        waivers,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// `(key, status)` of every SUP-002 finding, in report order.
fn sup002(doc: &Value) -> Vec<(String, String)> {
    of_rule(doc, "SUP-002")
        .iter()
        .map(|f| {
            (
                f["subject"]["key"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn statuses(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, s)| (k.to_string(), s.to_string()))
        .collect()
}

#[test]
fn the_network_fixture_has_four_critical_findings() {
    let r = check_json(NETWORK, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(
        sup002(&doc),
        statuses(&[
            ("E-2026-001", "fail"),
            ("E-2026-002", "fail"),
            ("E-2026-003", "fail"),
            ("E-2026-101", "fail"),
        ])
    );
    // Nothing else at or above `high`, so waiving SUP-002 is enough to pass.
    assert!(
        findings(&doc)
            .iter()
            .all(|f| f["rule"] == "SUP-002" || f["severity"] == "low" || f["severity"] == "info"),
        "{}",
        crate::common::finding_lines(&doc)
    );
    assert!(findings(&doc).iter().all(|f| f["waiver"].is_null()));
}

#[test]
fn a_valid_waiver_marks_findings_waived_and_the_run_passes() {
    let r = check_waived("fixtures/waivers/all.toml", "2026-04-02", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let waived = of_rule(&doc, "SUP-002");
    assert_eq!(waived.len(), 4);
    for f in &waived {
        assert_eq!(f["status"], "waived", "{f}");
        let w = &f["waiver"];
        assert_eq!(w["file"], "fixtures/waivers/all.toml");
        assert_eq!(w["line"], 3);
        assert_eq!(w["rule"], "SUP-002");
        assert_eq!(w["subject"], "E-2026-*");
        assert_eq!(w["approver"], "Director of Compliance");
        assert_eq!(w["ticket"], "COMP-1182");
        assert_eq!(w["created"], "2026-02-03");
        assert_eq!(w["expires"], "2026-06-30");
        assert!(
            w["justification"]
                .as_str()
                .unwrap()
                .contains("paper roster")
        );
    }
    // A waiver in force that matches is neither WAIVER-001 nor WAIVER-002.
    assert!(of_rule(&doc, "WAIVER-001").is_empty());
    assert!(of_rule(&doc, "WAIVER-002").is_empty());
    assert_eq!(rule_counts(&doc, "WAIVER-001"), (1, 0, 0));
    assert_eq!(rule_counts(&doc, "WAIVER-002"), (1, 0, 0));
    // Waived findings keep their ids: the waiver changes only the status.
    let plain = check_json(NETWORK, &[]).json();
    let ids = |d: &Value| -> Vec<String> {
        of_rule(d, "SUP-002")
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&doc), ids(&plain));
}

#[test]
fn the_text_summary_counts_and_marks_waived_findings() {
    let r = run(&[
        "check",
        NETWORK,
        "--as-of",
        "2026-04-02",
        "--waivers",
        "fixtures/waivers/all.toml",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("(4 waived"), "{}", r.stdout);
    assert!(
        r.stdout.contains("exams.csv:2  [waived] exam E-2026-001"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("WAIVER-001"), "{}", r.stdout);
}

#[test]
fn a_waiver_applies_through_its_expiry_day() {
    // The last second of 2026-06-30 UTC is still in force.
    let r = check_waived("fixtures/waivers/all.toml", "2026-06-30T23:59:59Z", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(of_rule(&r.json(), "WAIVER-001").is_empty());
}

#[test]
fn an_expired_waiver_no_longer_applies_and_is_reported_once() {
    let r = check_waived("fixtures/waivers/all.toml", "2026-07-01", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert!(
        of_rule(&doc, "SUP-002")
            .iter()
            .all(|f| f["status"] == "fail" && f["waiver"].is_null())
    );
    let expired = of_rule(&doc, "WAIVER-001");
    assert_eq!(expired.len(), 1, "one WAIVER-001 per expired waiver");
    let f = expired[0];
    assert_eq!(f["severity"], "low");
    assert_eq!(f["status"], "fail");
    assert_eq!(f["policy"], "waivers");
    assert_eq!(f["subject"]["dataset"], "waivers");
    assert_eq!(f["subject"]["key"], "COMP-1182");
    assert_eq!(f["location"]["file"], "fixtures/waivers/all.toml");
    assert_eq!(f["location"]["line"], 3);
    assert_eq!(f["evidence"]["expires"], "2026-06-30");
    assert_eq!(f["evidence"]["rule"], "SUP-002");
    let message = f["message"].as_str().unwrap();
    for part in [
        "`SUP-002`",
        "`E-2026-*`",
        "expired on 2026-06-30",
        "4 findings",
    ] {
        assert!(message.contains(part), "{message}");
    }
    assert!(of_rule(&doc, "WAIVER-002").is_empty());
    assert_eq!(rule_counts(&doc, "WAIVER-001"), (1, 1, 0));
}

#[test]
fn the_first_waiver_in_force_wins() {
    let r = check_waived("fixtures/waivers/first_wins.toml", "2026-04-02", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let tickets: Vec<(String, String)> = of_rule(&doc, "SUP-002")
        .iter()
        .map(|f| {
            (
                f["subject"]["key"].as_str().unwrap().to_string(),
                f["waiver"]["ticket"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    assert_eq!(
        tickets,
        statuses(&[
            ("E-2026-001", "COMP-1101"),
            ("E-2026-002", "COMP-1101"),
            ("E-2026-003", "COMP-1101"),
            ("E-2026-101", "-"),
        ])
    );
    let expired: Vec<&str> = of_rule(&doc, "WAIVER-001")
        .iter()
        .map(|f| f["subject"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(expired, ["COMP-1100"]);
    assert!(of_rule(&doc, "WAIVER-002").is_empty());
    assert_eq!(rule_counts(&doc, "WAIVER-001"), (3, 1, 0));
}

#[test]
fn a_waiver_created_after_as_of_is_not_yet_in_force() {
    let r = check_waived("fixtures/waivers/all.toml", "2026-01-20", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert!(
        of_rule(&doc, "SUP-002")
            .iter()
            .all(|f| f["status"] == "fail")
    );
    assert!(of_rule(&doc, "WAIVER-001").is_empty());
    assert!(of_rule(&doc, "WAIVER-002").is_empty());
    assert_eq!(rule_counts(&doc, "WAIVER-002"), (0, 0, 1));
    assert_eq!(
        crate::common::rule_reasons(&doc, "WAIVER-002"),
        "created after --as-of"
    );
}

#[test]
fn glob_facility_and_dos_range_narrow_a_waiver() {
    let r = check_waived("fixtures/waivers/filters.toml", "2026-04-02", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(
        sup002(&doc),
        statuses(&[
            ("E-2026-001", "waived"),
            ("E-2026-002", "fail"), // February: after dos_to
            ("E-2026-003", "fail"), // F-SOUTH
            ("E-2026-101", "fail"), // not `E-2026-0*`
        ])
    );
    let f = of_rule(&doc, "SUP-002")[0];
    assert_eq!(f["waiver"]["facility"], "F-NORTH");
    assert_eq!(f["waiver"]["dos_from"], "2026-01-01");
    assert_eq!(f["waiver"]["dos_to"], "2026-01-31");
}

#[test]
fn a_waiver_matching_nothing_is_waiver_002() {
    let r = check_waived("fixtures/waivers/unmatched.toml", "2026-04-02", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(sup002(&doc)[0], ("E-2026-001".into(), "waived".into()));
    let unmatched = of_rule(&doc, "WAIVER-002");
    assert_eq!(unmatched.len(), 1);
    let f = unmatched[0];
    assert_eq!(f["severity"], "low");
    // No ticket: the waiver is named by file and line.
    assert_eq!(f["subject"]["key"], "fixtures/waivers/unmatched.toml:11");
    assert_eq!(f["location"]["line"], 11);
    assert_eq!(f["evidence"]["subject"], "E-1999-*");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("matches no finding"),
        "{f}"
    );
    // It names the criterion that left nothing: here the rule itself.
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("rule `SUP-005` has no finding in this run"),
        "{f}"
    );
    assert_eq!(rule_counts(&doc, "WAIVER-002"), (2, 1, 0));
    assert!(of_rule(&doc, "WAIVER-001").is_empty());
}

/// `(expected line, expected stderr parts)` from an err_ fixture's `# expect` comments.
fn expectations(text: &str) -> (String, Vec<String>) {
    let mut line = None;
    let mut parts = Vec::new();
    for l in text.lines() {
        if let Some(n) = l.strip_prefix("# expect-line: ") {
            line = Some(n.trim().to_string());
        } else if let Some(p) = l.strip_prefix("# expect: ") {
            parts.push(p.trim().to_string());
        }
    }
    (line.expect("an `# expect-line:` comment"), parts)
}

#[test]
fn malformed_waiver_files_stop_before_the_bundle_is_read() {
    let mut cases: Vec<_> = std::fs::read_dir(root().join("fixtures/waivers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("err_") && n.ends_with(".toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "{cases:?}");
    for name in cases {
        let path = format!("fixtures/waivers/{name}");
        let text = std::fs::read_to_string(root().join(&path)).unwrap();
        let (line, parts) = expectations(&text);
        // The bundle does not exist: the waivers error must come first.
        for bundle in ["fixtures/waivers/no-such-bundle", NETWORK] {
            let r = run(&["check", bundle, "--waivers", &path]);
            assert_eq!(r.code, 2, "{name}: {}", r.stderr);
            assert!(r.stdout.is_empty(), "{name}: {}", r.stdout);
            assert!(
                r.stderr.contains(&format!("--> {path}:{line}:")),
                "{name}: expected line {line}:\n{}",
                r.stderr
            );
            for part in &parts {
                assert!(
                    r.stderr.contains(part.as_str()),
                    "{name}: `{part}` in\n{}",
                    r.stderr
                );
            }
            assert!(!r.stderr.contains("no-such-bundle"), "{name}: {}", r.stderr);
        }
    }
}

#[test]
fn a_missing_waivers_file_exits_2_naming_it() {
    let r = run(&[
        "check",
        NETWORK,
        "--waivers",
        "fixtures/waivers/no-such-file.toml",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("cannot read waivers file `fixtures/waivers/no-such-file.toml`"),
        "{}",
        r.stderr
    );
}

/// Copies the network bundle into `dir`, so a test can add a problem to it.
fn copy_network(dir: &Path) {
    for entry in std::fs::read_dir(root().join(NETWORK)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
}

fn write_findings(bundle: &str, dir: &Path, out: &str) -> Run {
    let out = dir.join(out);
    run(&[
        "check",
        bundle,
        "--format",
        "json",
        "--as-of",
        "2026-04-02",
        "-o",
        out.to_str().unwrap(),
    ])
}

#[test]
fn a_baseline_fails_only_on_new_findings_and_diff_shows_them() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("bundle");
    std::fs::create_dir(&bundle).unwrap();
    copy_network(&bundle);
    let bundle_arg = bundle.to_str().unwrap();
    let old = tmp.path().join("old.json");
    let old_arg = old.to_str().unwrap();
    assert_eq!(write_findings(bundle_arg, tmp.path(), "old.json").code, 1);

    // The same bundle against its own baseline: findings exist, none is new.
    let r = check_json(bundle_arg, &["--baseline", old_arg]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(of_rule(&r.json(), "SUP-002").len(), 4);

    // A new problem: another exam without a supervisor.
    let exams = bundle.join("exams.csv");
    let mut text = std::fs::read_to_string(&exams).unwrap();
    text.push_str("E-2026-005,F-SOUTH,70460,completed,2026-03-02 10:00:00,2026-03-02 10:00:00,2026-03-02 10:30:00,false,,none,,T1,\n");
    std::fs::write(&exams, text).unwrap();
    let r = check_json(bundle_arg, &["--baseline", old_arg]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(write_findings(bundle_arg, tmp.path(), "new.json").code, 1);
    let new_arg = tmp.path().join("new.json");
    let new_arg = new_arg.to_str().unwrap();

    let r = run(&["diff", old_arg, new_arg, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["format"], "vigil.diff/1");
    let new: Vec<String> = doc["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(crate::common::finding_line)
        .collect();
    assert_eq!(new, ["critical SUP-002  exams.csv:7 E-2026-005"]);
    assert_eq!(doc["resolved"].as_array().unwrap().len(), 0);
    assert_eq!(doc["persisting"].as_array().unwrap().len(), 4);

    let r = run(&["diff", old_arg, new_arg]);
    assert_eq!(r.code, 1);
    let text = mask(&r.stdout, tmp.path());
    assert!(
        text.starts_with("new: 1, resolved: 0, persisting: 4\n"),
        "{text}"
    );
    let new_id = doc["new"][0]["id"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "new:\n  {new_id} SUP-002    critical exams.csv:7  exam E-2026-005"
        )),
        "{text}"
    );

    // Exit codes: the new finding is critical; `--fail-on none` never fails; reversed, the
    // new finding is resolved and nothing is new.
    assert_eq!(
        run(&["diff", old_arg, new_arg, "--fail-on", "critical"]).code,
        1
    );
    assert_eq!(
        run(&["diff", old_arg, new_arg, "--fail-on", "none"]).code,
        0
    );
    let r = run(&["diff", new_arg, old_arg, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["resolved"].as_array().unwrap().len(), 1);
    assert_eq!(run(&["diff", old_arg, old_arg]).code, 0);
}

#[test]
fn diff_does_not_fail_on_new_waived_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let old = tmp.path().join("old.json");
    // The same findings before and after a waiver: ids do not change, so nothing is new…
    let r = run(&[
        "check",
        NETWORK,
        "--format",
        "json",
        "--as-of",
        "2026-04-02",
        "-o",
        old.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    let waived = tmp.path().join("waived.json");
    let r = check_waived(
        "fixtures/waivers/all.toml",
        "2026-04-02",
        &["-o", waived.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&[
        "diff",
        old.to_str().unwrap(),
        waived.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["new"].as_array().unwrap().len(), 0);
    assert!(
        doc["persisting"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "waived")
    );
    // …and against an empty run every finding is new, but waived: exit 0.
    let empty = tmp.path().join("empty.json");
    let r = run(&[
        "check",
        "fixtures/bundles/minimal",
        "--format",
        "json",
        "--as-of",
        "2026-04-02",
        "-o",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&["diff", empty.to_str().unwrap(), waived.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("[waived] exam E-2026-001"),
        "{}",
        r.stdout
    );
}

#[test]
fn baseline_and_diff_refuse_files_that_are_not_findings() {
    let wrong = "fixtures/baselines/err_not_findings.json";
    let r = run(&[
        "check",
        "fixtures/waivers/no-such-bundle",
        "--baseline",
        wrong,
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(&format!("`{wrong}` is not a findings.json")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("`vigil.diff/1`"), "{}", r.stderr);
    let r = run(&["diff", wrong, wrong]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(wrong), "{}", r.stderr);
    let r = run(&["diff", "fixtures/baselines/missing.json", wrong]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("cannot read findings file `fixtures/baselines/missing.json`"),
        "{}",
        r.stderr
    );
    let tmp = tempfile::tempdir().unwrap();
    let r = run_in(
        tmp.path(),
        &["diff", "a.json", "b.json", "--fail-on", "severe"],
    );
    assert_eq!(r.code, 2);
}
