//! SUP-001..SUP-007 beyond what the case files say: evidence, versions, summaries.
//! Which exams fire and which do not: fixtures/cases/bundles/sup_rules.toml.

use serde_json::Value;

use crate::common::{bundle, check_json, of_rule, of_rule_key};

fn sup_rules() -> Value {
    let r = check_json(&bundle("sup_rules"), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    r.json()
}

fn rule_summary<'a>(doc: &'a Value, rule: &str) -> &'a Value {
    doc["summary"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("no summary for {rule}"))
}

#[test]
fn sup003_version_by_local_date_of_service() {
    let doc = sup_rules();
    let c02 = of_rule_key(&doc, "SUP-003", "C02");
    assert_eq!(c02.len(), 1);
    assert_eq!(c02[0]["evidence"]["dos"], "2026-01-01");
    assert_eq!(c02[0]["evidence"]["global_days"], "010");
    assert_eq!(c02[0]["evidence"]["codes_source"], "illustrative");
    let c03 = of_rule_key(&doc, "SUP-003", "C03");
    assert_eq!(c03[0]["policy_version"], "1.0.0");
    assert_eq!(c03[0]["evidence"]["dos"], "2020-02-29");
    // C01 starts 2026-01-01T02:00Z, on 2025-12-31 in Chicago: its DQ-006 says so
    let c01 = of_rule_key(&doc, "DQ-006", "C01");
    assert!(
        c01[0]["message"].as_str().unwrap().contains("2025-12-31"),
        "{}",
        c01[0]["message"]
    );
    assert!(of_rule_key(&doc, "SUP-003", "C01").is_empty());
    let s = rule_summary(&doc, "SUP-003");
    // C01..C05, D01, D02, P01, P02 are virtual and direct
    assert_eq!(s["evaluated"], 9, "{s}");
    assert_eq!(s["failed"], 2, "{s}");
}

#[test]
fn sup004_names_the_audio_only_session() {
    let doc = sup_rules();
    let d01 = of_rule_key(&doc, "SUP-004", "D01");
    assert_eq!(d01.len(), 1);
    assert_eq!(d01[0]["evidence"]["session_id"], "X1");
    assert_eq!(d01[0]["evidence"]["audio"], true);
    assert_eq!(d01[0]["evidence"]["video"], false);
    assert!(
        d01[0]["message"]
            .as_str()
            .unwrap()
            .contains("without live video")
    );
    let s = rule_summary(&doc, "SUP-004");
    assert_eq!(s["evaluated"], 2, "{s}");
    assert_eq!(s["reasons"]["no linked session"], 7, "{s}");
}

#[test]
fn sup005_reports_the_first_gap() {
    let doc = sup_rules();
    let p02 = of_rule_key(&doc, "SUP-005", "P02");
    assert_eq!(p02.len(), 1);
    let ev = &p02[0]["evidence"];
    assert_eq!(ev["uncovered_s"].as_f64(), Some(900.0), "{ev}");
    // 09:30 to 09:45 in Chicago (UTC-6)
    assert_eq!(ev["gap_start"], "2026-02-03T15:30:00Z", "{ev}");
    assert_eq!(ev["gap_end"], "2026-02-03T15:45:00Z", "{ev}");
    assert_eq!(of_rule(&doc, "SUP-005").len(), 1);
}

#[test]
fn sup006_and_sup007_evidence() {
    let doc = sup_rules();
    let g01 = of_rule_key(&doc, "SUP-006", "G01");
    assert_eq!(
        g01[0]["evidence"]["supervisor.role"], "np",
        "{}",
        g01[0]["evidence"]
    );
    assert_eq!(g01[0]["evidence"]["facility.setting"], "idtf");
    let g03 = of_rule_key(&doc, "SUP-006", "G03");
    assert_eq!(g03[0]["evidence"]["supervisor.role"], "technologist");
    let h01 = of_rule_key(&doc, "SUP-007", "H01");
    assert_eq!(
        h01[0]["evidence"]["facility.state"], "WI",
        "{}",
        h01[0]["evidence"]
    );
    assert!(h01[0]["citation"].as_str().unwrap().contains("410.20(b)"));
}

#[test]
fn bundle_codes_replace_the_illustrative_table() {
    let r = check_json(&bundle("sup_reference_codes"), &[]);
    let doc = r.json();
    for f in of_rule(&doc, "SUP-001")
        .into_iter()
        .chain(of_rule(&doc, "SUP-003"))
    {
        assert_ne!(f["evidence"]["codes_source"], "illustrative", "{f}");
    }
    let r01 = of_rule_key(&doc, "SUP-003", "R01");
    assert!(
        r01[0]["message"].as_str().unwrap().contains("personal"),
        "{}",
        r01[0]["message"]
    );
    let s = rule_summary(&doc, "SUP-002");
    assert_eq!(s["not_applicable"], 1, "{s}");
}

/// docs/bundle-format.md, "Repeated keys and links": links that collect records (the sessions of an
/// exam for SUP-004) take every record that carries the key. E3's session_id X3 names two records;
/// the second had no video.
#[test]
fn sup004_takes_every_session_with_the_key() {
    let r = check_json(&bundle("sup004_repeated_session"), &[]);
    let doc = r.json();
    let e3 = of_rule_key(&doc, "SUP-004", "E3");
    assert_eq!(e3.len(), 1, "{}", crate::common::finding_lines(&doc));
    assert_eq!(e3[0]["evidence"]["session_id"], "X3");
    assert_eq!(e3[0]["evidence"]["video"], false);
}

/// policies/README.md: whether the CY2026 rule made virtual presence permanent for hospital
/// outpatient services is unverified, so 3.0.0 findings at `hospital_outpatient` facilities say so.
#[test]
fn hospital_outpatient_findings_under_3_0_0_say_unverified() {
    let doc = check_json(&bundle("sup_hospital_outpatient"), &[]).json();
    let message = |key: &str| {
        let found = of_rule_key(&doc, "SUP-002", key);
        assert_eq!(found.len(), 1, "{key}: {found:?}");
        found[0]["message"].as_str().unwrap().to_string()
    };
    let hospital = message("HO26");
    assert!(hospital.contains("unverified"), "{hospital}");
    assert!(hospital.contains("410.28(e)"), "{hospital}");
    for key in ["OF26", "HO25"] {
        let m = message(key);
        assert!(!m.contains("unverified"), "{key}: {m}");
    }
}

/// Over the demo with a copy of the pack: the findings whose evidence says the exam requires
/// direct supervision, and the SUP-002 findings.
fn levels_and_sup002(pack: &std::path::Path) -> (usize, usize) {
    let run = check_json(&bundle("demo"), &["--policies", pack.to_str().unwrap()]);
    assert!(run.code <= 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let with_level = |level: &str| {
        crate::common::findings(&doc)
            .iter()
            .filter(|f| f["evidence"]["required_level"] == level)
            .count()
    };
    (with_level("direct"), of_rule(&doc, "SUP-002").len())
}

/// Supervision levels are pack data: mapping indicator `02` to `general` in a copy of the pack
/// changes the level the demo's exams require, and SUP-002 with it, with no code change.
#[test]
fn indicator_02_mapped_to_general_changes_the_required_level() {
    let dir = tempfile::tempdir().unwrap();
    let same = crate::common::edited_pack(
        &dir.path().join("same"),
        "cms-direct-supervision",
        str::to_string,
    );
    let general = crate::common::edited_pack(
        &dir.path().join("general"),
        "cms-direct-supervision",
        |text| {
            assert!(
                text.contains(r#""02" = "direct""#),
                "the shipped levels changed"
            );
            text.replace(r#""02" = "direct""#, r#""02" = "general""#)
        },
    );
    let (direct, sup002) = levels_and_sup002(&same);
    let (direct2, sup002_2) = levels_and_sup002(&general);
    assert!(
        direct > 0 && sup002 > 0,
        "{direct} direct, {sup002} SUP-002"
    );
    assert!(
        direct2 < direct,
        "findings on direct exams: {direct} -> {direct2}"
    );
    assert!(sup002_2 < sup002, "SUP-002: {sup002} -> {sup002_2}");
    // The copy as shipped decides what the built-in pack decides.
    let builtin: Value = serde_json::from_str(&check_json(&bundle("demo"), &[]).stdout).unwrap();
    assert_eq!(of_rule(&builtin, "SUP-002").len(), sup002);
}
