//! BEN-001..BEN-005 of network-benchmarks: boundaries and rule summaries over
//! fixtures/bundles/ben_rules and ben003_rates (their findings: the case files).

use crate::common::{bundle, check_json, of_rule, rule_counts, rule_keys, rule_reasons};

fn keys(doc: &serde_json::Value, rule: &str) -> Vec<String> {
    rule_keys(doc, rule).into_iter().map(|(_, k)| k).collect()
}

#[test]
fn response_time_boundaries() {
    let doc = check_json(&bundle("ben_rules"), &[]).json();
    // exactly 30 s passes; over 30 up to 90 s is BEN-002; over 90 s or unmeasured is BEN-001
    assert_eq!(keys(&doc, "BEN-002"), ["X30.5", "X31", "X90"]);
    assert_eq!(keys(&doc, "BEN-001"), ["X-bad-join", "X-no-join", "X91"]);
    for f in of_rule(&doc, "BEN-001") {
        let measured = f["subject"]["key"] == "X91";
        assert_eq!(
            f["evidence"]["unmeasured"].as_bool().unwrap_or(false),
            !measured,
            "{f}"
        );
    }
    // 9 sessions: joined before requested has no response time: in neither rule
    assert_eq!(rule_counts(&doc, "BEN-001"), (8, 3, 1));
    // BEN-002 needs a response time: the two unmeasured sessions and the out-of-order one
    assert_eq!(rule_counts(&doc, "BEN-002"), (6, 3, 3));
    assert_eq!(keys(&doc, "DQ-004"), ["X-join-before-request"]);
}

#[test]
fn cancellations_after_go_live() {
    let doc = check_json(&bundle("ben_rules"), &[]).json();
    assert_eq!(
        keys(&doc, "BEN-005"),
        ["K-after-gap", "K-golive-gap", "K-golive-unavailable"]
    );
    // K-day-before-gap (its local date is 01-31) passes; F2 has no go-live: not applicable;
    // other reasons and no-shows are out of scope
    assert_eq!(rule_counts(&doc, "BEN-005"), (4, 3, 1));
    assert!(
        rule_reasons(&doc, "BEN-005").contains("virtual_go_live"),
        "{}",
        rule_reasons(&doc, "BEN-005")
    );
}

#[test]
fn documentation_share_per_facility() {
    let doc = check_json(&bundle("ben_rules"), &[]).json();
    assert_eq!(keys(&doc, "BEN-004"), ["F1", "F4"]);
    let (evaluated, failed, _) = rule_counts(&doc, "BEN-004");
    // F1 (1 of 2), F3 (2 of 2), F4 (unknown severity: not complete)
    assert_eq!((evaluated, failed), (3, 2));
}

/// policies/README.md: BEN-004 applies "per facility with reactions"; F2 has none, so it is outside
/// the rule, not "not applicable" for a missing input. Today F2 (no completed contrast exam, so no
/// facility stats) gets `reactions_count` Missing and counts as not applicable with the reason
/// "`reactions_count` missing" (src/eval/world.rs, Derived::ReactionsCount), while a facility with
/// completed contrast exams and no reactions is out of scope.
#[test]
fn ben004_facility_without_reactions_is_out_of_scope() {
    let doc = check_json(&bundle("ben_rules"), &[]).json();
    assert_eq!(rule_counts(&doc, "BEN-004"), (3, 2, 0));
}

#[test]
fn reaction_rate_needs_min_exams() {
    let run = check_json(&bundle("ben003_rates"), &[]);
    assert_eq!(run.code, 0, "info only: {}", run.stderr);
    let doc = run.json();
    let found = of_rule(&doc, "BEN-003");
    assert_eq!(found.len(), 1, "{found:?}");
    let f = found[0];
    assert_eq!(f["subject"]["key"], "G1");
    assert_eq!(f["severity"], "info");
    assert_eq!(f["evidence"]["contrast_class"], "iodinated");
    assert_eq!(f["evidence"]["exams"], 5000);
    assert_eq!(f["evidence"]["reactions"], 0);
    // G1 fails, G2 (2 per 1,000) passes, G3 (4999 exams) is not applicable
    assert_eq!(rule_counts(&doc, "BEN-003"), (2, 1, 1));
    assert!(rule_reasons(&doc, "BEN-003").contains("min_exams"));
}

/// What a response threshold moves, over the demo with a copy of network-benchmarks (and the
/// shipped contrast-reactions): the rule's findings, the share's overall value and recorded
/// threshold, the first finding's citation, and the report's tile and histogram.
struct ThresholdOutcome {
    findings: usize,
    share: f64,
    threshold: serde_json::Value,
    citation: String,
    report: String,
}

fn threshold_outcome(pack: &std::path::Path, rule: &str, share_id: &str) -> ThresholdOutcome {
    let cr = crate::common::root().join("policies/contrast-reactions");
    let policies = [
        "--policies",
        pack.to_str().unwrap(),
        "--policies",
        cr.to_str().unwrap(),
    ];
    let doc = check_json(&bundle("demo"), &policies).json();
    let share = crate::common::metric(&doc, share_id, &[]).unwrap().clone();
    let mut extra = vec!["--as-of", "2026-04-02"];
    extra.extend(policies);
    let report = crate::common::demo_report_html(&extra);
    ThresholdOutcome {
        findings: of_rule(&doc, rule).len(),
        share: share["value"].as_f64().unwrap(),
        threshold: share["parameters"]["threshold_s"].clone(),
        citation: of_rule(&doc, rule)[0]["citation"]
            .as_str()
            .unwrap()
            .to_string(),
        report,
    }
}

/// risk_s 90 -> 60 in a copy of the pack moves BEN-001, `response.share_over_risk` (value and
/// recorded threshold), BEN-001's citation, and the report's tile and histogram line.
#[test]
fn risk_s_moves_ben001_the_share_the_citation_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let same = crate::common::edited_pack(
        &dir.path().join("same"),
        "network-benchmarks",
        str::to_string,
    );
    let edited = crate::common::edited_pack(&dir.path().join("sixty"), "network-benchmarks", |t| {
        assert!(t.contains("risk_s = 90\n"));
        t.replace("risk_s = 90\n", "risk_s = 60\n")
    });
    let (a, b) = (
        threshold_outcome(&same, "BEN-001", "response.share_over_risk"),
        threshold_outcome(&edited, "BEN-001", "response.share_over_risk"),
    );
    assert!(
        b.findings > a.findings,
        "BEN-001: {} -> {}",
        a.findings,
        b.findings
    );
    assert!(
        b.share > a.share,
        "share over risk: {} -> {}",
        a.share,
        b.share
    );
    assert_eq!((a.threshold, b.threshold), (90.into(), 60.into()));
    assert!(a.citation.contains("over 90 s") && b.citation.contains("over 60 s"));
    assert!(a.report.contains("Over 90 s or unmeasured") && !a.report.contains("Over 60 s"));
    assert!(b.report.contains("Over 60 s or unmeasured") && !b.report.contains("Over 90 s"));
    assert!(b.report.contains("best in class; 60 s risk)") && !b.report.contains("; 90 s risk)"));
}

/// best_in_class_s 30 -> 20 moves BEN-002, `response.share_within_best_in_class`, BEN-002's
/// citation and the report's tile and histogram line.
#[test]
fn best_in_class_s_moves_ben002_the_share_the_citation_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let same = crate::common::edited_pack(
        &dir.path().join("same"),
        "network-benchmarks",
        str::to_string,
    );
    let edited =
        crate::common::edited_pack(&dir.path().join("twenty"), "network-benchmarks", |t| {
            assert!(t.contains("best_in_class_s = 30\n"));
            t.replace("best_in_class_s = 30\n", "best_in_class_s = 20\n")
        });
    let share = "response.share_within_best_in_class";
    let (a, b) = (
        threshold_outcome(&same, "BEN-002", share),
        threshold_outcome(&edited, "BEN-002", share),
    );
    assert!(
        b.findings > a.findings,
        "BEN-002: {} -> {}",
        a.findings,
        b.findings
    );
    assert!(
        b.share < a.share,
        "share within: {} -> {}",
        a.share,
        b.share
    );
    assert_eq!((a.threshold, b.threshold), (30.into(), 20.into()));
    assert!(a.citation.contains("under 30 s") && b.citation.contains("under 20 s"));
    assert!(a.report.contains("Within 30 s") && b.report.contains("Within 20 s"));
    assert!(b.report.contains("(seconds; 20 s best in class;"));
    assert!(!b.report.contains("(seconds; 30 s best in class;"));
}

/// One list of cancellation reasons: dropping `supervisor_unavailable` from `coverage_reasons`
/// in a copy of the pack changes BEN-005 and `cancellations.coverage_gap_after` together.
#[test]
fn coverage_reasons_move_ben005_and_the_coverage_gap_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = |pack: &std::path::Path| {
        let doc = check_json(&bundle("demo"), &["--policies", pack.to_str().unwrap()]).json();
        let reasons: Vec<String> = of_rule(&doc, "BEN-005")
            .iter()
            .map(|f| f["evidence"]["cancel_reason"].as_str().unwrap().to_string())
            .collect();
        let gap = crate::common::metric(&doc, "cancellations.coverage_gap_after", &[])
            .unwrap()
            .clone();
        (reasons, gap)
    };
    let same = crate::common::edited_pack(
        &dir.path().join("same"),
        "network-benchmarks",
        str::to_string,
    );
    let narrow =
        crate::common::edited_pack(&dir.path().join("narrow"), "network-benchmarks", |t| {
            let old = r#"coverage_reasons = ["coverage_gap", "supervisor_unavailable"]"#;
            assert!(t.contains(old));
            t.replace(old, r#"coverage_reasons = ["coverage_gap"]"#)
        });
    let ((reasons, gap), (reasons2, gap2)) = (outcome(&same), outcome(&narrow));
    assert!(
        reasons.iter().any(|r| r == "supervisor_unavailable"),
        "{reasons:?}"
    );
    assert!(reasons2.iter().all(|r| r == "coverage_gap") && !reasons2.is_empty());
    assert!(
        gap2["numerator"].as_f64() < gap["numerator"].as_f64(),
        "{gap} -> {gap2}"
    );
    assert_eq!(
        gap2["parameters"]["coverage_reasons"],
        serde_json::json!(["coverage_gap"])
    );
}
