//! `vigil check` as a user runs it: text and JSON, `-o`, determinism, `--fail-on`, `--as-of`,
//! `--help`, and running from another folder (the shipped packs are embedded).

use predicates::prelude::*;

use crate::common::{bundle, check_json, mask, of_rule, root, run, run_in, vigil};

const MIXED: &str = "fixtures/bundles/mixed";

#[test]
fn text_output_lists_the_summary_and_file_lines() {
    let r = run(&["check", MIXED, "--as-of", "2026-04-02"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for part in [
        "12 records in 5 files",
        "absent datasets (not exported): reactions, procedure_codes",
        "findings: 11",
        "critical 3",
        "high     7",
        "SUP-004",
        "exams.csv:3",
        "exams.csv:5",
        "sessions.ndjson:3",
        "cms-direct-supervision",
        "export-integrity",
        // every shipped pack has rows in the rules table
        "acr-contrast-supervision",
        "contrast-reactions",
        "network-benchmarks",
        // E2: virtual contrast supervision by an NP; E1, E2, E4: no on-site practitioner
        "ACR-001",
        "ACR-002",
    ] {
        assert!(r.stdout.contains(part), "missing `{part}`:\n{}", r.stdout);
    }
    // NO_COLOR and a pipe: no escape codes
    assert!(!r.stdout.contains('\u{1b}'));
    insta::assert_snapshot!("check_text_mixed", r.stdout);
}

#[test]
fn json_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("findings.json");
    let r = run(&[
        "check",
        MIXED,
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
        "--as-of",
        "2026-04-02",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "with -o nothing goes to stdout");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["format"], "vigil.findings/1");
    assert_eq!(doc["as_of"], "2026-04-02T00:00:00Z");
    assert_eq!(doc["tool"]["name"], "vigil");
    assert_eq!(doc["bundle"]["id"], "t");
    assert_eq!(doc["bundle"]["period_start"], "2026-01-01");
    assert_eq!(doc["bundle"]["period_end"], "2026-03-31");
    assert_eq!(doc["summary"]["findings"]["critical"], 3);
    // every finding carries the contract keys
    for f in doc["findings"].as_array().unwrap() {
        for key in [
            "id",
            "rule",
            "policy",
            "policy_version",
            "severity",
            "status",
            "subject",
            "location",
            "message",
            "evidence",
            "citation",
            "waiver",
        ] {
            assert!(f.get(key).is_some(), "finding lacks `{key}`: {f}");
        }
        assert_eq!(f["id"].as_str().unwrap().len(), 16);
    }
    // sorted by severity first
    let rank = |s: &str| {
        ["critical", "high", "medium", "low", "info"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    let ranks: Vec<usize> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| rank(f["severity"].as_str().unwrap()))
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
}

#[test]
fn as_of_in_rfc3339_is_written_in_utc() {
    let r = run(&[
        "check",
        MIXED,
        "--format",
        "json",
        "--as-of",
        "2026-04-02T08:30:00-05:00",
    ]);
    assert_eq!(r.json()["as_of"], "2026-04-02T13:30:00Z");
}

#[test]
fn same_as_of_gives_byte_identical_json() {
    let a = check_json(MIXED, &[]);
    let b = check_json(MIXED, &[]);
    assert_eq!(a.code, 1);
    assert_eq!(a.stdout, b.stdout);
    let c = check_json(&bundle("sup_rules"), &[]);
    let d = check_json(&bundle("sup_rules"), &[]);
    assert_eq!(c.stdout, d.stdout);
}

#[test]
fn fail_on_none_exits_0() {
    let r = run(&["check", MIXED, "--fail-on", "none", "--as-of", "2026-04-02"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn fail_on_critical_exits_1_only_with_a_critical_finding() {
    // mixed has critical findings
    let r = run(&[
        "check",
        MIXED,
        "--fail-on",
        "critical",
        "--as-of",
        "2026-04-02",
    ]);
    assert_eq!(r.code, 1);
    // duplicate_keys has high findings only
    let doc = check_json(&bundle("duplicate_keys"), &[]).json();
    assert!(doc["summary"]["findings"].get("critical").is_none());
    assert!(!of_rule(&doc, "DQ-002").is_empty());
    let r = run(&["check", &bundle("duplicate_keys"), "--fail-on", "critical"]);
    assert_eq!(r.code, 0);
    let r = run(&["check", &bundle("duplicate_keys"), "--fail-on", "high"]);
    assert_eq!(r.code, 1);
    // dst_gap_and_overlap has medium findings only: default `high` passes, `medium` fails
    let r = run(&["check", &bundle("dst_gap_and_overlap")]);
    assert_eq!(r.code, 0);
    let r = run(&[
        "check",
        &bundle("dst_gap_and_overlap"),
        "--fail-on",
        "medium",
    ]);
    assert_eq!(r.code, 1);
    let r = run(&["check", &bundle("out_of_period"), "--fail-on", "low"]);
    assert_eq!(r.code, 1);
    let r = run(&["check", &bundle("minimal"), "--fail-on", "info"]);
    assert_eq!(r.code, 0);
}

#[test]
fn as_of_garbage_exits_2() {
    for bad in ["garbage", "2026-13-01", "2026-04-02 00:00:00", ""] {
        let r = run(&["check", MIXED, "--as-of", bad]);
        assert_eq!(r.code, 2, "--as-of {bad:?}: {}", r.stderr);
        assert!(r.stderr.contains("--as-of"), "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

#[test]
fn help_shows_examples() {
    vigil()
        .args(["check", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples"))
        .stdout(predicate::str::contains("--fail-on"))
        .stdout(predicate::str::contains("Exit codes"));
    vigil()
        .args(["inspect", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples"));
}

#[test]
fn runs_from_another_folder_with_the_embedded_packs() {
    let elsewhere = tempfile::tempdir().unwrap();
    let abs = root().join(MIXED);
    let r = run_in(
        elsewhere.path(),
        &[
            "check",
            abs.to_str().unwrap(),
            "--format",
            "json",
            "--as-of",
            "2026-04-02",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let packs: Vec<&str> = doc["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(packs.contains(&"cms-direct-supervision"), "{packs:?}");
    assert!(packs.contains(&"export-integrity"), "{packs:?}");
    for p in doc["policies"].as_array().unwrap() {
        assert!(p["path"].as_str().unwrap().starts_with("builtin:"), "{p}");
    }
    // the same findings as from the crate root: paths in the output are bundle-relative
    let here = check_json(MIXED, &[]);
    assert_eq!(doc["findings"], here.json()["findings"]);
    assert!(!mask(&r.stdout, elsewhere.path()).contains("[TMP]"));
}

/// docs/outputs.md, "Finding ids": the id is the first 16 hex digits of sha256 over rule,
/// subject.dataset, subject.key, the canonical JSON of evidence, and the occurrence number, joined
/// by `\n`.
#[test]
fn finding_ids_are_the_documented_fingerprint() {
    use sha2::{Digest, Sha256};
    for name in [
        "mixed",
        "sup_rules",
        "duplicate_keys",
        "dangling_refs",
        "edge_cases",
    ] {
        let doc = check_json(&bundle(name), &[]).json();
        let mut seen: std::collections::BTreeMap<String, usize> = Default::default();
        // occurrence numbers count in walk order: file order, then line
        let mut in_walk_order: Vec<&serde_json::Value> =
            crate::common::findings(&doc).iter().collect();
        let files: Vec<&str> = doc["bundle"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        in_walk_order.sort_by_key(|f| {
            (
                files.iter().position(|p| f["location"]["file"] == *p),
                f["location"]["line"].as_u64(),
            )
        });
        for f in in_walk_order {
            let evidence = serde_json::to_string(&f["evidence"]).unwrap();
            let base = format!(
                "{}\n{}\n{}\n{}",
                f["rule"].as_str().unwrap(),
                f["subject"]["dataset"].as_str().unwrap(),
                f["subject"]["key"].as_str().unwrap(),
                evidence
            );
            let n = seen.entry(base.clone()).or_default();
            let digest = Sha256::digest(format!("{base}\n{n}").as_bytes());
            *n += 1;
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(f["id"].as_str().unwrap(), &hex[..16], "{name}: {f}");
        }
    }
}
