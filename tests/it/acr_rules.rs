//! ACR-001..ACR-003 of acr-contrast-supervision: the versions by local date of service, and the
//! rule summaries (evaluated / failed / not applicable, with reasons). The findings themselves
//! are in fixtures/cases/bundles/acr_rules.toml and acr_versions.toml.

use crate::common::{bundle, check_json, findings, rule_counts, rule_keys, rule_reasons, run};

/// `(rule, key, policy_version)` of every ACR finding, sorted.
fn acr_findings(doc: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = findings(doc)
        .iter()
        .filter(|f| f["policy"] == "acr-contrast-supervision")
        .map(|f| {
            let s = |v: &serde_json::Value| v.as_str().unwrap().to_string();
            (
                s(&f["rule"]),
                s(&f["subject"]["key"]),
                s(&f["policy_version"]),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn versions_follow_the_local_date_of_service() {
    let run = check_json(&bundle("acr_versions"), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let want = [
        ("ACR-001", "V0612A", "2.0.0"),
        ("ACR-001", "V0612B", "2.0.0"),
        ("ACR-002", "V0226A", "1.0.0"),
        ("ACR-002", "V0611A", "1.0.0"),
        ("ACR-002", "V0612A", "2.0.0"),
        ("ACR-003", "V0226B", "1.0.0"),
        ("ACR-003", "V0611B", "1.0.0"),
        ("ACR-003", "V0612B", "2.0.0"),
    ]
    .map(|(r, k, v)| (r.to_string(), k.to_string(), v.to_string()));
    assert_eq!(acr_findings(&doc), want);
    // 2024-02-25 is before every version: the two exams are neither evaluated nor not
    // applicable; ACR-001 sees only the two 2.0.0 exams.
    assert_eq!(rule_counts(&doc, "ACR-001"), (2, 2, 0));
    assert_eq!(rule_counts(&doc, "ACR-002"), (6, 3, 0));
    assert_eq!(rule_counts(&doc, "ACR-003"), (3, 3, 0));
}

#[test]
fn rules_fire_pass_and_are_not_applicable_with_a_reason() {
    let doc = check_json(&bundle("acr_rules"), &[]).json();
    let keys =
        |rule: &str| -> Vec<String> { rule_keys(&doc, rule).into_iter().map(|(_, k)| k).collect() };
    assert_eq!(keys("ACR-001"), ["A01", "A02"]);
    assert_eq!(keys("ACR-002"), ["B01", "B02", "B03", "B05"]);
    assert_eq!(keys("ACR-003"), ["C01", "C03"]);
    // ACR-001: 12 virtual contrast exams with a known supervisor; A05 (none) and A06 (naming
    // nobody) are not applicable. D01-D03 are out of scope (on site, no contrast, cancelled).
    assert_eq!(rule_counts(&doc, "ACR-001"), (12, 2, 2));
    assert!(
        rule_reasons(&doc, "ACR-001").contains("supervisor"),
        "{}",
        rule_reasons(&doc, "ACR-001")
    );
    // ACR-002: all 14 virtual contrast exams are judged (a dangling on-site id passes).
    assert_eq!(rule_counts(&doc, "ACR-002"), (14, 4, 0));
    // ACR-003: 13 exams name an on-site practitioner; B04 and B05 name nobody.
    assert_eq!(rule_counts(&doc, "ACR-003"), (11, 2, 2));
    assert!(
        rule_reasons(&doc, "ACR-003").contains("onsite"),
        "{}",
        rule_reasons(&doc, "ACR-003")
    );
}

/// policies/README.md, "Decisions": `--as-of` changes no rule outcome; BLS is judged at the
/// date of service.
#[test]
fn as_of_does_not_move_the_bls_date() {
    let at = |as_of: &str| {
        let b = bundle("acr_rules");
        run(&["check", &b, "--format", "json", "--as-of", as_of]).json()
    };
    let early = at("2026-01-01");
    let late = at("2031-01-01");
    let base = check_json(&bundle("acr_rules"), &[]).json();
    assert_eq!(acr_findings(&early), acr_findings(&base));
    assert_eq!(acr_findings(&late), acr_findings(&base));
}
