//! A compliance officer's own pack (fixtures/packs/custom: a `duration` rule with a parameter and
//! a Rhai `script` rule) instead of, or beside, the shipped packs.

use serde_json::Value;

use crate::common::{bundle, check_json, of_rule, of_rule_key};

const CUSTOM: &str = "fixtures/packs/custom";

fn pack_ids(doc: &Value) -> Vec<String> {
    let mut ids: Vec<String> = doc["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    ids.dedup();
    ids
}

#[test]
fn both_custom_rules_fire_with_their_pack_id() {
    let r = check_json(&bundle("custom_pack"), &["--policies", CUSTOM]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    // duration: L1 lasted 2.5 h, over max_exam_s = 3600
    let loc1 = of_rule_key(&doc, "LOC-001", "L1");
    assert_eq!(loc1.len(), 1, "{doc:#}");
    assert_eq!(loc1[0]["policy"], "lakeside-local");
    assert_eq!(loc1[0]["policy_version"], "1.0.0");
    assert_eq!(loc1[0]["severity"], "medium");
    assert_eq!(loc1[0]["location"]["file"], "exams.csv");
    assert_eq!(loc1[0]["location"]["line"], 2);
    assert_eq!(loc1[0]["evidence"]["seconds"], 9000.0);
    assert!(
        loc1[0]["message"].as_str().unwrap().contains("over 3600 s"),
        "{}",
        loc1[0]["message"]
    );
    // script: L2's technologist is its supervisor
    let loc2 = of_rule_key(&doc, "LOC-002", "L2");
    assert_eq!(loc2.len(), 1, "{doc:#}");
    assert_eq!(loc2[0]["policy"], "lakeside-local");
    assert_eq!(loc2[0]["severity"], "high");
    assert_eq!(loc2[0]["location"]["line"], 3);
    assert_eq!(loc2[0]["evidence"]["practitioner_id"], "S2");
    assert_eq!(of_rule(&doc, "LOC-001").len(), 1);
    assert_eq!(of_rule(&doc, "LOC-002").len(), 1);
    // export-integrity always runs: the unreadable sessions line is still reported
    assert_eq!(pack_ids(&doc), ["export-integrity", "lakeside-local"]);
    let dq7 = of_rule(&doc, "DQ-007");
    assert_eq!(dq7.len(), 1);
    assert_eq!(dq7[0]["policy"], "export-integrity");
    // the shipped cms pack did not run
    assert!(of_rule(&doc, "SUP-005").is_empty());
    let rules: Vec<&str> = doc["summary"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"DQ-001") && rules.contains(&"LOC-002"),
        "{rules:?}"
    );
    assert!(!rules.iter().any(|r| r.starts_with("SUP-")), "{rules:?}");
}

#[test]
fn builtin_beside_custom_runs_both() {
    let r = check_json(
        &bundle("custom_pack"),
        &["--policies", "builtin", "--policies", CUSTOM],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(
        pack_ids(&doc),
        [
            "acr-contrast-supervision",
            "cms-direct-supervision",
            "contrast-reactions",
            "export-integrity",
            "network-benchmarks",
            "state-contrast-law",
            "lakeside-local"
        ]
    );
    assert_eq!(of_rule(&doc, "LOC-001").len(), 1);
    assert_eq!(of_rule(&doc, "LOC-002").len(), 1);
    assert_eq!(of_rule(&doc, "DQ-007").len(), 1);
    let rules: Vec<&str> = doc["summary"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"SUP-005"), "{rules:?}");
}

#[test]
fn a_folder_of_packs_loads_each_pack() {
    // fixtures/packs holds err_ packs too, so use a temp folder of two good packs
    let dir = tempfile::tempdir().unwrap();
    let root = crate::common::root();
    for pack in ["custom"] {
        let to = dir.path().join(pack);
        std::fs::create_dir(&to).unwrap();
        for e in std::fs::read_dir(root.join("fixtures/packs").join(pack)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    let r = check_json(
        &bundle("custom_pack"),
        &["--policies", dir.path().to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(of_rule(&r.json(), "LOC-002").len(), 1);
}

/// Beside `builtin`, a folder's pack with a shipped pack's id replaces the shipped pack (its
/// rules and versions are the folder's), and the run says so.
#[test]
fn a_pack_with_a_builtin_id_beside_builtin_replaces_it_and_says_so() {
    let r = check_json(
        &bundle("custom_pack"),
        &[
            "--policies",
            "builtin",
            "--policies",
            "fixtures/packs/dup_builtin",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "pack `cms-direct-supervision` from `fixtures/packs/dup_builtin` replaces the shipped pack"
        ),
        "{}",
        r.stderr
    );
    let doc = r.json();
    assert_eq!(of_rule(&doc, "LOC-001").len(), 1);
    assert!(
        of_rule(&doc, "SUP-002").is_empty(),
        "the shipped SUP rules still ran"
    );
    let cms: Vec<&str> = doc["policies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["id"] == "cms-direct-supervision")
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(cms, ["fixtures/packs/dup_builtin/1.0.0.toml"]);
    // alone, it replaces nothing and runs
    let r = check_json(
        &bundle("custom_pack"),
        &["--policies", "fixtures/packs/dup_builtin"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(of_rule(&r.json(), "LOC-001").len(), 1);
}

#[test]
fn the_same_pack_twice_is_refused() {
    let r = check_json(
        &bundle("custom_pack"),
        &["--policies", CUSTOM, "--policies", CUSTOM],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("lakeside-local"), "{}", r.stderr);
}

/// A metric declared in a pack (`[[metric]]`), with no code: over the hand-made metrics bundle,
/// the share of completed exams with contrast, overall and by facility, equals what the export
/// itself says, and a count by month adds up to the overall count.
#[test]
fn a_declared_metric_is_computed_from_the_pack_alone() {
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("local-metrics");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(
        pack.join("1.0.0.toml"),
        r#"format_version = 1
[pack]
id = "local-metrics"
version = "1.0.0"
title = "Local metrics"

[[metric]]
id = "exams.contrast_share"
title = "Completed exams with contrast"
dataset = "exams"
when = { status = "completed" }
kind = "share"
counts = { contrast = true }
groups = ["facility_id"]

[[metric]]
id = "exams.completed"
title = "Completed exams"
dataset = "exams"
when = { status = "completed" }
kind = "count"
groups = ["month"]
"#,
    )
    .unwrap();
    let doc = check_json(&bundle("metrics"), &["--policies", pack.to_str().unwrap()]).json();
    let metric = |id: &str, group: &[(&str, &str)]| -> serde_json::Value {
        crate::common::metric(&doc, id, group)
            .unwrap_or_else(|| panic!("no {id} {group:?}"))
            .clone()
    };
    // What the export says, read independently of vigil.
    let mut reader =
        csv::Reader::from_path(crate::common::root().join("fixtures/bundles/metrics/exams.csv"))
            .unwrap();
    let (mut completed, mut with_contrast) = (0u64, 0u64);
    let (mut f1, mut f1_contrast) = (0u64, 0u64);
    for row in reader.records() {
        let row = row.unwrap();
        if &row[3] == "completed" {
            completed += 1;
            with_contrast += u64::from(&row[7] == "true");
            if &row[1] == "F1" {
                f1 += 1;
                f1_contrast += u64::from(&row[7] == "true");
            }
        }
    }
    let overall = metric("exams.contrast_share", &[]);
    assert_eq!(overall["numerator"], with_contrast as f64);
    assert_eq!(overall["denominator"], completed as f64);
    assert_eq!(overall["policy"], "local-metrics");
    assert_eq!(overall["parameters"], serde_json::json!({}));
    let by_f1 = metric("exams.contrast_share", &[("facility_id", "F1")]);
    assert_eq!(by_f1["numerator"], f1_contrast as f64);
    assert_eq!(by_f1["denominator"], f1 as f64);
    assert_eq!(metric("exams.completed", &[])["value"], completed as f64);
    let months: f64 = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["id"] == "exams.completed" && m["group"].get("month").is_some())
        .map(|m| m["value"].as_f64().unwrap())
        .sum();
    assert_eq!(months, completed as f64);
    // No shape that was not asked for.
    assert!(
        doc["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| { m["id"] != "exams.contrast_share" || m["group"].get("month").is_none() })
    );
}

/// The example pack of a compliance officer's own metrics runs beside the shipped packs.
#[test]
fn the_example_metrics_pack_runs_beside_the_shipped_packs() {
    let doc = check_json(
        &bundle("demo"),
        &[
            "--policies",
            "builtin",
            "--policies",
            "fixtures/packs/lot_metric",
        ],
    )
    .json();
    let ids: std::collections::BTreeSet<&str> = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains("exams.contrast_lot_share") && ids.contains("exams.contrast_dose_median_ml")
    );
    assert!(
        ids.contains("response.share_over_risk"),
        "the shipped metrics still run"
    );
}

/// A rule and a metric that take no record of a bundle that has records of their dataset are
/// named in `summary.warnings`, in the text summary and in the report's methodology; the shipped
/// packs on the demo give none.
#[test]
fn a_rule_or_metric_that_takes_no_record_is_a_run_warning() {
    let policies = [
        "--policies",
        "builtin",
        "--policies",
        "fixtures/packs/zero_scope",
    ];
    let doc = crate::common::check_json(&crate::common::bundle("demo"), &policies).json();
    let warnings = doc["summary"]["warnings"].as_array().unwrap();
    let ids: Vec<(&str, &str)> = warnings
        .iter()
        .map(|w| (w["kind"].as_str().unwrap(), w["id"].as_str().unwrap()))
        .collect();
    assert_eq!(ids, [("rule", "ZER-001"), ("metric", "zero.old_exams")]);
    assert_eq!(warnings[0]["records"], 600);
    assert_eq!(warnings[0]["dataset"], "exams");
    let shipped = crate::common::check_json(&crate::common::bundle("demo"), &[]).json();
    assert_eq!(shipped["summary"]["warnings"], serde_json::json!([]));

    let mut args = vec!["check", "fixtures/bundles/demo", "--fail-on", "none"];
    args.extend(policies);
    let text = crate::common::run(&args);
    assert!(
        text.stdout
            .contains("warnings:\n  rule ZER-001 judged none of the 600 `exams` records"),
        "{}",
        text.stdout
    );
    let html = crate::common::demo_report_html(&policies);
    assert!(
        html.contains("Run warnings"),
        "no run warnings in report.html"
    );
    assert!(html.contains("metric zero.old_exams has no value"));
}

/// A pack whose script rule throws on the exams `throws_on` selects (a Rhai condition on `r`).
fn throwing_pack(dir: &std::path::Path, id: &str, rule: &str, throws_on: &str) -> String {
    script_pack(
        dir,
        id,
        rule,
        &format!("fn check(r, params) {{ if {throws_on} {{ throw \"{rule} broke\"; }} true }}\n"),
    )
}

/// A pack of one script rule on completed exams.
fn script_pack(dir: &std::path::Path, id: &str, rule: &str, script: &str) -> String {
    let pack = dir.join(id);
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(
        pack.join("1.0.0.toml"),
        format!(
            r#"format_version = 1

[pack]
id = "{id}"
version = "1.0.0"
title = "A pack whose script fails"

[[rule]]
id = "{rule}"
title = "A script that throws"
severity = "high"
dataset = "exams"
when = {{ status = "completed" }}
check = {{ kind = "script", file = "throws.rhai" }}
message = "exam {{exam_id}}"
citation = "none"
remediation = "none"
"#
        ),
    )
    .unwrap();
    std::fs::write(pack.join("throws.rhai"), script).unwrap();
    pack.to_string_lossy().into_owned()
}

/// All packs are judged in one pass, in parallel; when several scripts fail, the error is the
/// one judging the packs one after another would meet first: the first pack's, at its first
/// failing record in walk order, though the second pack fails on an earlier record. The same
/// on any number of threads.
#[test]
fn the_error_of_two_failing_packs_is_the_first_packs_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let first = throwing_pack(
        dir.path(),
        "first-pack",
        "FIRST-001",
        r#"r.exam_id.ends_with("7")"#,
    );
    let second = throwing_pack(dir.path(), "second-pack", "SECOND-001", "true");
    let stderr = stderr_on_any_thread_count(&[
        "check",
        &bundle("demo"),
        "--policies",
        &first,
        "--policies",
        &second,
    ]);
    assert!(stderr.contains("rule `FIRST-001`"), "{stderr}");
    assert!(stderr.contains("FIRST-001 broke"), "{stderr}");
}

/// What `vigil` (expected to exit 2) prints on stderr, the same on 1, 2 and 4 threads.
fn stderr_on_any_thread_count(args: &[&str]) -> String {
    let seen: Vec<String> = ["1", "2", "4"]
        .iter()
        .map(|threads| {
            let out = crate::common::vigil()
                .env("RAYON_NUM_THREADS", threads)
                .args(args)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(2), "{threads} threads: {stderr}");
            stderr
        })
        .collect();
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:#?}");
    seen.into_iter().next().unwrap_or_default()
}

/// The run's budget of script operations counts as judging the packs one after another would:
/// a first pack that stays within it, then a second pack's script error on the last exam, is
/// that error (not the budget's, which a parallel pass that also replays the first pack would
/// reach); and a first pack's error comes before a later pack's heavy scripts spend the budget.
/// The same on any number of threads.
#[test]
fn a_script_error_before_the_budget_is_spent_is_the_error_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let heavy = |id: &str, n: u32| {
        script_pack(
            dir.path(),
            id,
            &format!("{}-001", id.to_uppercase()),
            // A loop the native fast path cannot answer: every evaluation is Rhai's.
            &format!("fn check(r, params) {{ let s = 0; for i in 0..{n} {{ s += i; }} s >= 0 }}\n"),
        )
    };
    let cases = [
        (
            vec![
                heavy("heavy", 600),
                throwing_pack(
                    dir.path(),
                    "late",
                    "LATE-001",
                    r#"r.exam_id == "EX0000600""#,
                ),
            ],
            // The heavy pack alone takes about 0.9M operations.
            "1200000",
            "rule `LATE-001`",
        ),
        (
            vec![
                script_pack(
                    dir.path(),
                    "early",
                    "EARLY-001",
                    "fn check(r, params) { let s = 0; for i in 0..5 { s += i; } \
                     if r.exam_id == \"EX0000250\" { throw \"EARLY-001 broke\"; } s >= 0 }\n",
                ),
                heavy("heavier", 2000),
            ],
            "2000000",
            "rule `EARLY-001`",
        ),
    ];
    for (packs, budget, want) in cases {
        let mut args = vec!["check".to_string(), bundle("demo")];
        for p in &packs {
            args.extend(["--policies".to_string(), p.clone()]);
        }
        args.extend(["--max-script-operations".to_string(), budget.to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let stderr = stderr_on_any_thread_count(&args);
        assert!(stderr.contains(want), "{stderr}");
    }
}
