//! STL-001 (state-contrast-law): the cases of `../shared/spec/rules-v1.md`, "Pack
//! state-contrast-law", on the bundle kept beside the pack; a second state and an
//! `effective_from` added as a compliance officer would, with no code; the demo shows it.

use crate::common::{bundle, check_json, edited_pack, of_rule, rule_counts, rule_reasons};

const CASES: &str = "policies/state-contrast-law/tests/cases/bundle";
const NY: &str = "10 NYCRR 89.1(a)(6); NY Public Health Law 3501(3); 10 NYCRR 89.40(b)";

fn keys(doc: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = of_rule(doc, "STL-001")
        .iter()
        .map(|f| f["subject"]["key"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

#[test]
fn stl001_fires_is_quiet_and_is_not_applicable_as_the_spec_says() {
    let doc = check_json(CASES, &[]).json();
    // Fires: virtual, none, and an on-site NP at a New York facility.
    assert_eq!(keys(&doc), ["N-NONE", "N-NP", "N-VIRT"]);
    for f in of_rule(&doc, "STL-001") {
        assert_eq!(f["severity"], "high");
        assert_eq!(f["citation"], NY, "{f}");
        assert_eq!(f["evidence"]["state"], "NY");
        assert!(f["message"].as_str().unwrap().contains("(NY)"), "{f}");
        assert!(
            f["message"].as_str().unwrap().contains("supervision was"),
            "{f}"
        );
    }
    let np = of_rule(&doc, "STL-001")
        .into_iter()
        .find(|f| f["subject"]["key"] == "N-NP")
        .unwrap();
    assert_eq!(np["evidence"]["supervision_mode"], "onsite");
    assert_eq!(np["evidence"]["supervisor_role"], "np");
    // Judged: the three above and the on-site radiologist and physician (quiet). Not
    // applicable: a missing mode, an on-site supervisor naming nobody or missing. Out of
    // scope: the California facility and the non-contrast exam.
    assert_eq!(rule_counts(&doc, "STL-001"), (5, 3, 3));
    assert_eq!(
        rule_reasons(&doc, "STL-001"),
        "`supervision_mode` missing | the on-site supervisor is missing or names no practitioner"
    );
    let summary = crate::common::rule_summary(&doc, "STL-001");
    assert_eq!(
        summary["reasons"]["the on-site supervisor is missing or names no practitioner"],
        2
    );
}

/// A second state and an `effective_from`, added to a copy of the pack: findings change with
/// no code. The entry here is a test-only one, not California law.
#[test]
fn a_second_state_and_an_effective_date_need_no_code() {
    let dir = tempfile::tempdir().unwrap();
    let copy = edited_pack(&dir.path().join("copy"), "state-contrast-law", |t| {
        let marker = "[parameters.physician_on_site.NY]\n";
        assert!(t.contains(marker));
        t.replace(
            marker,
            "[parameters.physician_on_site.CA]\ncitation = \"Test-only entry (not California law)\"\n\n[parameters.physician_on_site.NY]\neffective_from = 2026-03-03\n",
        )
    });
    let doc = check_json(
        CASES,
        &[
            "--policies",
            "builtin",
            "--policies",
            copy.to_str().unwrap(),
        ],
    )
    .json();
    // The California facility's virtual exam fires, citing its entry; New York's exams of
    // 2026-03-02 are before its `effective_from` and stay quiet.
    assert_eq!(keys(&doc), ["C-VIRT"]);
    let f = &of_rule(&doc, "STL-001")[0];
    assert_eq!(f["citation"], "Test-only entry (not California law)");
    assert_eq!(f["evidence"]["state"], "CA");
}

#[test]
fn the_demo_shows_stl001_and_the_report_groups_it_by_citation() {
    let doc = check_json(&bundle("demo"), &[]).json();
    assert!(!of_rule(&doc, "STL-001").is_empty());
    let html = crate::common::demo_report_html(&[]);
    assert!(
        html.contains(&format!("<li>{NY}: 1 finding</li>")),
        "no citation group in report.html"
    );
}
