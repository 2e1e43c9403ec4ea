//! The demo bundle as README's first command shows it, the metrics in findings.json, and
//! `vigil reference import-rvu` through the CLI.

use std::collections::BTreeSet;

use crate::common::{check_json, findings, run};

/// Every rule id of the catalogue (policies/README.md).
const CATALOGUE: &[&str] = &[
    "SUP-001", "SUP-002", "SUP-003", "SUP-004", "SUP-005", "SUP-006", "SUP-007", "ACR-001",
    "ACR-002", "ACR-003", "RXN-001", "RXN-002", "RXN-003", "RXN-004", "RXN-005", "RXN-006",
    "RXN-007", "BEN-001", "BEN-002", "BEN-003", "BEN-004", "BEN-005", "DQ-001", "DQ-002", "DQ-003",
    "DQ-004", "DQ-005", "DQ-006", "DQ-007", "STL-001",
];

#[test]
fn demo_reports_findings_from_every_pack_and_every_rule_but_ben003() {
    let r = check_json("fixtures/bundles/demo", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = r.json();
    let packs: BTreeSet<&str> = findings(&doc)
        .iter()
        .map(|f| f["policy"].as_str().unwrap())
        .collect();
    assert_eq!(
        packs.into_iter().collect::<Vec<_>>(),
        [
            "acr-contrast-supervision",
            "cms-direct-supervision",
            "contrast-reactions",
            "export-integrity",
            "network-benchmarks",
            "state-contrast-law"
        ]
    );
    let fired: BTreeSet<&str> = findings(&doc)
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    let silent: Vec<&&str> = CATALOGUE
        .iter()
        .filter(|id| !fired.contains(**id))
        .collect();
    // BEN-003 needs at least 5,000 completed contrast exams of a class at one facility.
    assert_eq!(silent, [&"BEN-003"]);
    let summarised: BTreeSet<&str> = doc["summary"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(summarised, CATALOGUE.iter().copied().collect());
}

#[test]
fn findings_json_carries_the_catalogue_metrics_in_every_group_shape() {
    let doc = check_json("fixtures/bundles/demo", &[]).json();
    let metrics = doc["metrics"].as_array().unwrap();
    let ids: BTreeSet<&str> = metrics.iter().map(|m| m["id"].as_str().unwrap()).collect();
    for id in [
        "response.sessions",
        "response.unmeasured",
        "response.median_s",
        "response.p90_s",
        "response.share_within_best_in_class",
        "response.share_over_risk",
        "reactions.per_1000",
        "reactions.onset_to_intervention_median_s",
        "reactions.documentation_complete_share",
        "reactions.protocol_adherence_share",
        "cancellations.rate_before",
        "cancellations.rate_after",
        "cancellations.coverage_gap_before",
        "cancellations.coverage_gap_after",
    ] {
        assert!(ids.contains(id), "{id} missing");
    }
    let shapes: BTreeSet<Vec<&str>> = metrics
        .iter()
        .filter(|m| m["id"] == "response.sessions")
        .map(|m| {
            m["group"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect()
        })
        .collect();
    assert_eq!(
        shapes,
        [
            vec![],
            vec!["facility_id"],
            vec!["facility_id", "month"],
            vec!["month"]
        ]
        .into_iter()
        .collect()
    );
    // The overall session count equals the sessions read.
    let sessions = metrics
        .iter()
        .find(|m| m["id"] == "response.sessions" && m["group"].as_object().unwrap().is_empty())
        .unwrap();
    assert_eq!(
        sessions["value"],
        doc["summary"]["records"]["sessions"].as_f64().unwrap()
    );
}

#[test]
fn metrics_follow_the_packs_that_run() {
    // Only export-integrity and a custom pack without metrics: no metrics at all.
    let doc = check_json(
        "fixtures/bundles/demo",
        &["--policies", "fixtures/packs/custom"],
    )
    .json();
    assert_eq!(doc["metrics"].as_array().unwrap().len(), 0);
}

#[test]
fn import_rvu_writes_procedure_codes_and_reports_what_it_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("procedure_codes.csv");
    let r = run(&[
        "reference",
        "import-rvu",
        "fixtures/reference/pprrvu_small.csv",
        "--year",
        "2026",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("imported 11 codes for 2026"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("line 20: supervision indicator `X`"),
        "{}",
        r.stderr
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "cpt_code,year,supervision_indicator,global_days,description"
    );
    assert!(
        lines.contains(&"70460,2026,02,XXX,Ct head/brain w/dye"),
        "{csv}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("36000,2026,09,010,")),
        "{csv}"
    );
}

#[test]
fn imported_codes_are_read_by_a_bundle() {
    // The import's output, placed in a bundle's reference/ folder, decides required levels.
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b");
    let src = crate::common::root().join("fixtures/bundles/minimal");
    std::fs::create_dir_all(bundle.join("reference")).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), bundle.join(entry.file_name())).unwrap();
        }
    }
    let r = run(&[
        "reference",
        "import-rvu",
        "fixtures/reference/pprrvu_small.csv",
        "--year",
        "2026",
        "-o",
        bundle
            .join("reference/procedure_codes.csv")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = check_json(bundle.to_str().unwrap(), &[]);
    assert_ne!(r.code, 2, "{}", r.stderr);
    let doc = r.json();
    let codes = doc["summary"]["records"]["procedure_codes"]
        .as_u64()
        .unwrap();
    assert_eq!(codes, 11);
}

#[test]
fn import_rvu_refuses_a_file_without_a_header_row() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("x.csv");
    std::fs::write(&bad, "title line\nno header here\n").unwrap();
    let r = run(&[
        "reference",
        "import-rvu",
        bad.to_str().unwrap(),
        "--year",
        "2026",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no header row"), "{}", r.stderr);
    let r = run(&[
        "reference",
        "import-rvu",
        "fixtures/reference/pprrvu_small.csv",
        "--year",
        "26",
    ]);
    assert_eq!(r.code, 2, "a two-digit year is refused");
}
