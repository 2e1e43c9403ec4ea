//! RXN-001..RXN-007 of contrast-reactions over fixtures/bundles/rxn_rules: every reaction's
//! RXN findings exactly, RXN-002's `evidence.missing` lists and severities per tier, and the
//! rule summaries. The reaction ids say what each one is (see the case file).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::common::{bundle, check_json, findings, root, rule_counts, rule_reasons};

const ALL_TIERS: &[&str] = &[
    "onset_at",
    "symptoms",
    "outcome",
    "documented_at",
    "documented_by",
];
const MODERATE_AND_SEVERE: &[&str] = &[
    "treatment",
    "notified_at",
    "intervention_at",
    "responder_id",
    "vitals_recorded",
];

/// The elements each tier needs (RXN-002, policies/README.md), by the tier's name in the
/// reaction ids.
fn tiers() -> Vec<(&'static str, Vec<&'static str>)> {
    let moderate = [ALL_TIERS, MODERATE_AND_SEVERE].concat();
    let severe = [moderate.as_slice(), &["referring_notified"]].concat();
    let severe_allergic = [severe.as_slice(), &["epinephrine_at"]].concat();
    vec![
        ("mild", ALL_TIERS.to_vec()),
        ("moderate", moderate),
        ("severe-physiologic", severe),
        ("severe-allergic", severe_allergic),
    ]
}

fn doc() -> Value {
    let run = check_json(&bundle("rxn_rules"), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.json()
}

/// Every reaction id in the fixture, in file order.
fn reaction_ids() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("fixtures/bundles/rxn_rules/reactions.ndjson"))
        .unwrap();
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["reaction_id"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The RXN rules each reaction must fail; a reaction not listed fails none.
fn expected() -> BTreeMap<String, BTreeSet<&'static str>> {
    let mut want: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    let mut add = |key: &str, rules: &[&'static str]| {
        want.entry(key.to_string())
            .or_default()
            .extend(rules.iter().copied());
    };
    for (tier, elements) in tiers() {
        for e in elements {
            add(&format!("M-{tier}-{e}"), &["RXN-002"]);
            if ["vitals_recorded", "referring_notified"].contains(&e) {
                add(&format!("F-{tier}-{e}"), &["RXN-002"]);
            }
        }
    }
    add("U-no-severity", &["RXN-001"]);
    add("U-no-severity-no-symptoms", &["RXN-001", "RXN-002"]);
    add("U-bad-severity", &["RXN-001"]);
    add("U-bad-type", &["RXN-001"]);
    add("U-severe-no-type", &["RXN-001"]);
    add("A-allergy-false", &["RXN-003"]);
    add("A-allergy-missing", &["RXN-003"]);
    add("T-severe-301", &["RXN-004"]);
    add("T-moderate-901", &["RXN-004"]);
    add("D-informed-false", &["RXN-005"]);
    add("D-informed-missing", &["RXN-005"]);
    add("S-2-of-3", &["RXN-006"]);
    add("E-unknown-exam", &["RXN-007"]);
    add("E-no-contrast", &["RXN-007"]);
    want
}

#[test]
fn every_reaction_fails_exactly_the_expected_rules() {
    let doc = doc();
    let want = expected();
    let ids = reaction_ids();
    for key in want.keys() {
        assert!(ids.contains(key), "the fixture lacks reaction {key}");
    }
    let mut got: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for f in findings(&doc) {
        let rule = f["rule"].as_str().unwrap();
        if rule.starts_with("RXN-") {
            let key = f["subject"]["key"].as_str().unwrap().to_string();
            assert!(
                got.entry(key).or_default().insert(rule),
                "{rule} twice: {f}"
            );
        }
    }
    for id in &ids {
        let none = BTreeSet::new();
        assert_eq!(
            got.get(id).unwrap_or(&none),
            want.get(id).unwrap_or(&none),
            "RXN findings of reaction {id}"
        );
    }
    assert!(got.keys().all(|k| ids.contains(k)), "{got:?}");
}

#[test]
fn rxn002_lists_exactly_the_missing_elements_with_the_tier_severity() {
    let doc = doc();
    let rxn002: BTreeMap<&str, &Value> = findings(&doc)
        .iter()
        .filter(|f| f["rule"] == "RXN-002")
        .map(|f| (f["subject"]["key"].as_str().unwrap(), f))
        .collect();
    for (tier, elements) in tiers() {
        let severity = if tier.starts_with("severe") {
            "high"
        } else {
            "medium"
        };
        assert!(
            !rxn002.contains_key(format!("OK-{tier}").as_str()),
            "OK-{tier} is complete for its tier"
        );
        for e in &elements {
            let mut keys = vec![format!("M-{tier}-{e}")];
            if ["vitals_recorded", "referring_notified"].contains(e) {
                // false is not enough: the boolean elements must be true
                keys.push(format!("F-{tier}-{e}"));
            }
            for key in keys {
                let f = rxn002
                    .get(key.as_str())
                    .unwrap_or_else(|| panic!("no RXN-002 for {key}"));
                assert_eq!(
                    f["evidence"]["missing"],
                    serde_json::json!([e]),
                    "{key}: {f}"
                );
                assert_eq!(f["severity"], severity, "{key}");
            }
        }
    }
    // unknown severity: the base elements are still checked, at the default severity
    let f = rxn002["U-no-severity-no-symptoms"];
    assert_eq!(f["evidence"]["missing"], serde_json::json!(["symptoms"]));
    assert_eq!(f["severity"], "medium");
}

#[test]
fn rule_summaries_count_failures_and_not_applicable_reasons() {
    let doc = doc();
    let ids = reaction_ids().len() as u64;
    let want = expected();
    let failed = |rule: &str| want.values().filter(|r| r.contains(rule)).count() as u64;
    // RXN-002: unknown severity (2) or a severe reaction of unknown type, nothing missing:
    // neither a finding nor a pass
    let (evaluated, f, na) = rule_counts(&doc, "RXN-002");
    assert_eq!((f, na), (failed("RXN-002"), 3));
    assert_eq!(evaluated + na, ids);
    assert!(
        rule_reasons(&doc, "RXN-002").contains("unknown"),
        "{}",
        rule_reasons(&doc, "RXN-002")
    );
    // RXN-001 judges every reaction
    assert_eq!(rule_counts(&doc, "RXN-001"), (ids, failed("RXN-001"), 0));
    // RXN-007: the reaction without exam_id is not applicable (DQ-001 owns it)
    let (evaluated, f, na) = rule_counts(&doc, "RXN-007");
    assert_eq!((evaluated, f, na), (ids - 1, failed("RXN-007"), 1));
    assert!(rule_reasons(&doc, "RXN-007").contains("exam_id"));
    // RXN-006: the reaction without step counts is not applicable
    let (_, f, na) = rule_counts(&doc, "RXN-006");
    assert_eq!((f, na), (failed("RXN-006"), 1));
    for rule in ["RXN-003", "RXN-004", "RXN-005"] {
        assert_eq!(rule_counts(&doc, rule).1, failed(rule), "{rule}");
    }
}

/// RXN-002, BEN-004 and `reactions.documentation_complete_share` over the demo with these
/// contrast-reactions and the shipped network-benchmarks: (RXN-002 findings on moderate
/// reactions, BEN-004's messages, which state each facility's share, the overall share).
fn documentation_outcomes(pack: &std::path::Path) -> (usize, Vec<String>, f64) {
    let nb = root().join("policies/network-benchmarks");
    let run = check_json(
        &bundle("demo"),
        &[
            "--policies",
            pack.to_str().unwrap(),
            "--policies",
            nb.to_str().unwrap(),
        ],
    );
    assert!(run.code <= 1, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let moderate = findings(&doc)
        .iter()
        .filter(|f| f["rule"] == "RXN-002" && f["message"].as_str().unwrap().contains("moderate"))
        .count();
    let ben004: Vec<String> = findings(&doc)
        .iter()
        .filter(|f| f["rule"] == "BEN-004")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    let share = crate::common::metric(&doc, "reactions.documentation_complete_share", &[])
        .and_then(|m| m["value"].as_f64())
        .unwrap();
    (moderate, ben004, share)
}

/// Documentation completeness is pack data: one more element for moderate and severe reactions
/// in a copy of the pack moves RXN-002, BEN-004 and the documentation metric together, with no
/// code change.
#[test]
fn one_more_documentation_element_moves_the_rule_the_benchmark_and_the_metric() {
    let dir = tempfile::tempdir().unwrap();
    let same = crate::common::edited_pack(
        &dir.path().join("same"),
        "contrast-reactions",
        str::to_string,
    );
    let more = crate::common::edited_pack(&dir.path().join("more"), "contrast-reactions", |text| {
        let old = r#""responder_id", "vitals_recorded"]"#;
        assert!(text.contains(old), "the shipped groups changed");
        text.replace(
            old,
            r#""responder_id", "vitals_recorded", "referring_notified"]"#,
        )
    });
    let (moderate, ben004, share) = documentation_outcomes(&same);
    let (moderate2, ben004_2, share2) = documentation_outcomes(&more);
    assert!(
        moderate2 > moderate,
        "RXN-002 on moderate reactions: {moderate} -> {moderate2}"
    );
    assert!(share2 < share, "documentation share: {share} -> {share2}");
    assert!(
        !ben004.is_empty() && ben004_2 != ben004,
        "BEN-004: {ben004:?} -> {ben004_2:?}"
    );
    // The copy as shipped decides exactly what the built-in pack decides.
    let builtin = check_json(&bundle("demo"), &[]);
    let doc: Value = serde_json::from_str(&builtin.stdout).unwrap();
    let shipped: Vec<String> = findings(&doc)
        .iter()
        .filter(|f| f["rule"] == "BEN-004")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(shipped, ben004);
}

/// Without the pack that declares documentation completeness, BEN-004 is not applicable, and
/// its rule summary says why.
#[test]
fn ben004_without_contrast_reactions_is_not_applicable_and_says_why() {
    let nb = root().join("policies/network-benchmarks");
    let run = check_json(&bundle("demo"), &["--policies", nb.to_str().unwrap()]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let (evaluated, failed, not_applicable) = rule_counts(&doc, "BEN-004");
    assert_eq!((evaluated, failed), (0, 0));
    assert!(not_applicable > 0);
    let reasons = rule_reasons(&doc, "BEN-004");
    assert!(
        reasons.contains("no pack that runs declares documentation completeness"),
        "{reasons}"
    );
}
