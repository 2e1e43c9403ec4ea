//! `vigil policy diff`, `vigil policy catalog`, `vigil explain`, shell completions and the man
//! page: exit codes and the facts each output must carry.

use crate::common::{bundle, check_json, run};

const CMS2: &str = "cms-direct-supervision@2.0.0";
const CMS3: &str = "cms-direct-supervision@3.0.0";

/// Every rule id of the shipped packs.
const SHIPPED_RULES: [&str; 30] = [
    "SUP-001", "SUP-002", "SUP-003", "SUP-004", "SUP-005", "SUP-006", "SUP-007", "ACR-001",
    "ACR-002", "ACR-003", "RXN-001", "RXN-002", "RXN-003", "RXN-004", "RXN-005", "RXN-006",
    "RXN-007", "BEN-001", "BEN-002", "BEN-003", "BEN-004", "BEN-005", "DQ-001", "DQ-002", "DQ-003",
    "DQ-004", "DQ-005", "DQ-006", "DQ-007", "STL-001",
];

#[test]
fn diff_cms_2_to_3_lists_the_parameter_and_the_changed_rules() {
    let r = run(&["policy", "diff", CMS2, CMS3]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(r#"excluded_global_days: [] → ["010","090"]"#),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("rules: 0 added, 0 removed, 7 changed, 0 unchanged"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("~ SUP-003"), "{}", r.stdout);
    assert!(r.stdout.contains("effective_from: 2020-03-01 → 2026-01-01"));
}

#[test]
fn diff_json_names_each_changed_aspect() {
    let r = run(&["policy", "diff", CMS2, CMS3, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let sup003 = doc["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "SUP-003")
        .unwrap();
    let aspects: Vec<&str> = sup003["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["aspect"].as_str().unwrap())
        .collect();
    assert_eq!(aspects, ["addenda", "parameter excluded_global_days"]);
    let p = &sup003["changes"][1];
    assert_eq!(p["old"], "[]");
    assert_eq!(p["new"], r#"["010","090"]"#);
    assert!(doc["impact"].is_null());
}

#[test]
fn diff_1_to_2_shows_virtual_presence_allowed() {
    let r = run(&["policy", "diff", "cms-direct-supervision@1.0.0", CMS2]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("parameter virtual_presence_allowed: false → true"),
        "{}",
        r.stdout
    );
}

#[test]
fn diff_impact_shows_sup003_findings_for_010_codes_under_3() {
    let sup = bundle("sup_rules");
    let r = run(&[
        "policy", "diff", CMS2, CMS3, "--impact", &sup, "--format", "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let impact = &r.json()["impact"];
    let appear: Vec<(String, String)> = impact["appear"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // C01 is dated 2025-12-31 locally, C02 2026-01-01: both 36000 (global 010). Each record
    // is judged by the version in effect on its date: 3.0.0 in 2.0.0's place changes C01 only
    // (C02 is 3.0.0's already, and fails SUP-003 on both sides).
    assert_eq!(appear, [("SUP-003".to_string(), "C01".to_string())]);
    assert!(impact["disappear"].as_array().unwrap().is_empty());
    assert!(
        impact["appear"][0]["message"]
            .as_str()
            .unwrap()
            .contains("global surgery indicator 010")
    );
    // Backwards, 2.0.0 in 3.0.0's place: C02's finding disappears, C01 stays 2.0.0's.
    let back = run(&["policy", "diff", CMS3, CMS2, "--impact", &sup]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(
        back.stdout.contains("(0 appear, 1 disappear"),
        "{}",
        back.stdout
    );
}

#[test]
fn diff_custom_versions_added_removed_and_changed() {
    let sup = bundle("sup_rules");
    let r = run(&[
        "policy",
        "diff",
        "docs-versions@1.0.0",
        "docs-versions@2.0.0",
        "--policies",
        "fixtures/packs/docs_versions",
        "--impact",
        &sup,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        "rules: 1 added, 1 removed, 1 changed, 1 unchanged",
        "+ DOC-003  Exams record a known supervision mode [medium]",
        "- DOC-002  Exams name a technologist [low]",
        "severity: medium → high",
        "citation: Docs policy 1 → Docs policy 1, as amended",
        "parameter max_exam_s: 3600 → 1800",
        "max_exam_s: 3600 → 1800",
        r#"modes: (none) → ["onsite","virtual"]"#,
        r#"old_only: "gone in 2.0.0" → (none)"#,
        // Every long exam of the bundle is dated 2026, 2.0.0's on both sides: each record is
        // judged by the version in effect on its date, so nothing moves.
        "(0 appear, 0 disappear, 3 in both)",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
}

#[test]
fn diff_unknown_version_or_pack_exits_2_with_a_suggestion() {
    let r = run(&["policy", "diff", CMS2, "cms-direct-supervision@3.1.0"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("pack `cms-direct-supervision` has no version `3.1.0`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("1.0.0, 2.0.0, 3.0.0"), "{}", r.stderr);
    let r = run(&["policy", "diff", "cms-direct-supervison@2.0.0", CMS3]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("help: did you mean `cms-direct-supervision`?"),
        "{}",
        r.stderr
    );
    let r = run(&["policy", "diff", "cms-direct-supervision", CMS3]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not PACK@VERSION"), "{}", r.stderr);
}

#[test]
fn diff_impact_on_a_missing_bundle_exits_2() {
    let r = run(&[
        "policy",
        "diff",
        CMS2,
        CMS3,
        "--impact",
        "fixtures/bundles/nope",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
}

#[test]
fn catalog_lists_every_shipped_rule_with_its_citation() {
    let r = run(&["policy", "catalog"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for id in SHIPPED_RULES {
        let row = r
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {id} |")))
            .unwrap_or_else(|| panic!("no row for {id}"));
        let explained = run(&["explain", id, "--format", "json"]).json();
        let citation = explained[0]["latest"]["citation"].as_str().unwrap();
        assert!(!citation.is_empty(), "{id}");
        assert!(
            row.contains(&format!("| {} |", citation.replace('|', r"\|"))),
            "{id} row lacks its citation {citation:?}: {row}"
        );
    }
    let sup003 = r
        .stdout
        .lines()
        .find(|l| l.starts_with("| SUP-003 |"))
        .unwrap();
    assert!(sup003.contains("42 CFR 410.32(b)(3)(ii)"), "{sup003}");
    assert!(sup003.contains("1.0.0, 2.0.0, 3.0.0"), "{sup003}");
    assert!(sup003.contains("`virtual_presence_allowed`"), "{sup003}");
    let acr001 = r
        .stdout
        .lines()
        .find(|l| l.starts_with("| ACR-001 |"))
        .unwrap();
    assert!(acr001.contains("| 2.0.0 |"), "{acr001}");
    for want in [
        "## `cms-direct-supervision`",
        "- regulatory: yes",
        "| 2.0.0 | 2020-03-01..2025-12-31 | 1.0.0 |",
        r#"| `excluded_global_days` | 1.0.0, 2.0.0: []; 3.0.0: ["010","090"] |"#,
        "| `virtual_presence_allowed` | 1.0.0: false; 2.0.0, 3.0.0: true |",
        "## `export-integrity`",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?}");
    }
    // Packs in id order.
    let pos = |s: &str| r.stdout.find(s).unwrap();
    assert!(pos("## `acr-contrast-supervision`") < pos("## `cms-direct-supervision`"));
    assert!(pos("## `export-integrity`") < pos("## `network-benchmarks`"));
}

#[test]
fn catalog_is_deterministic() {
    let a = run(&["policy", "catalog", "--format", "html"]);
    let b = run(&["policy", "catalog", "--format", "html"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn catalog_html_is_self_contained_and_escapes_text() {
    let r = run(&[
        "policy",
        "catalog",
        "--format",
        "html",
        "--policies",
        "fixtures/packs/docs_escape",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = &r.stdout;
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>"));
    assert!(!html.contains("<link") && !html.contains("<script"));
    assert!(html.contains("a &lt;b&gt; &amp; c"), "{html}");
    assert!(!html.contains("a <b>"), "{html}");
    assert!(html.contains("Escaping &lt;check&gt; &amp; friends"));
    assert!(html.contains("Policy &lt;7&gt;"));
    // The shipped export-integrity pack always comes along.
    assert!(html.contains("DQ-001"));
}

#[test]
fn catalog_markdown_escapes_html_and_pipes() {
    let r = run(&[
        "policy",
        "catalog",
        "--policies",
        "fixtures/packs/docs_escape",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("| ESC-001 |"))
        .unwrap();
    assert!(row.contains(r"a \<b> & c"), "{row}");
    assert!(row.contains(r"Nothing \| to do."), "{row}");
}

#[test]
fn explain_sup005_says_what_why_and_where() {
    let r = run(&["explain", "SUP-005"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        "SUP-005      The supervisor was available throughout the exam",
        "pack         cms-direct-supervision (regulatory)",
        "severity     critical",
        "applies to   exams where",
        "`supervisor_id` has a value",
        "script: the Rhai script `sup005.rhai`",
        "why          42 CFR 410.32(b)(3)(ii)",
        "remediation  Schedule coverage",
        "parameters   none",
        "1.0.0      up to 2020-02-29",
        "3.0.0      from 2026-01-01",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
}

#[test]
fn explain_sup003_lists_versions_and_parameter_values() {
    let r = run(&["explain", "SUP-003"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        r#"excluded_global_days         1.0.0, 2.0.0: []; 3.0.0: ["010","090"]"#,
        "virtual_presence_allowed     1.0.0: false; 2.0.0, 3.0.0: true",
        "1.0.0      up to 2020-02-29",
        "2.0.0      2020-03-01..2025-12-31",
        "3.0.0      from 2026-01-01",
        "parameter virtual_presence_allowed: false → true",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
    let json = run(&["explain", "SUP-003", "--format", "json"]).json();
    let versions: Vec<&str> = json[0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.0.0", "2.0.0", "3.0.0"]);
}

#[test]
fn explain_a_custom_rule_and_its_parameter() {
    let r = run(&["explain", "LOC-001", "--policies", "fixtures/packs/custom"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("max_exam_s                   3600"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("(parameter `max_exam_s`)"),
        "{}",
        r.stdout
    );
}

#[test]
fn explain_unknown_rule_exits_2_with_a_suggestion() {
    let r = run(&["explain", "SUP-08"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown rule `SUP-08`"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `SUP-00"), "{}", r.stderr);
    let r = run(&["explain", "sup-03"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean `SUP-003`?"), "{}", r.stderr);
    let r = run(&["explain", "LOC-001"]);
    assert_eq!(r.code, 2, "custom rules need --policies");
}

#[test]
fn explain_accepts_any_case() {
    let r = run(&["explain", "sup-003"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("SUP-003"));
}

#[test]
fn completions_bash_name_vigil_and_its_commands() {
    let r = run(&["completions", "bash"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("vigil"));
    assert!(r.stdout.contains("check"));
    assert!(r.stdout.contains("explain"));
}

#[test]
fn man_page_is_roff() {
    let r = run(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // clap_mangen defines two quote strings (`.ie`/`.el`) before the title line.
    let first_macro = r
        .stdout
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"))
        .unwrap();
    assert!(first_macro.starts_with(".TH vigil 1"), "{first_macro}");
    assert!(r.stdout.contains(".SH NAME"));
    assert!(r.stdout.contains("explain"));
}

/// findings.json with each policy's `path` (where the pack was read from) left out.
fn without_policy_paths(stdout: &str) -> serde_json::Value {
    let mut doc: serde_json::Value = serde_json::from_str(stdout).unwrap();
    for p in doc["policies"].as_array_mut().unwrap() {
        p.as_object_mut().unwrap().remove("path");
    }
    doc
}

/// `vigil policy init DIR` writes an editable copy of the shipped packs, with their tests and
/// README; checking with the copy judges exactly as the built-in packs (only where each pack was
/// read from differs), the copy's own tests pass, and nothing is overwritten on a second run.
#[test]
fn policy_init_writes_a_copy_that_judges_as_the_shipped_packs() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("policies");
    let copy_arg = copy.to_str().unwrap();
    let r = run(&["policy", "init", copy_arg]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in [
        "README.md",
        "cms-direct-supervision/3.0.0.toml",
        "contrast-reactions/rxn002.rhai",
    ] {
        assert!(copy.join(f).is_file(), "{f} not written");
    }
    assert!(copy.join("network-benchmarks/tests").is_dir());
    let ours = check_json("fixtures/bundles/demo", &["--policies", copy_arg]);
    let shipped = check_json("fixtures/bundles/demo", &[]);
    assert_eq!(ours.code, shipped.code);
    assert_eq!(
        without_policy_paths(&ours.stdout),
        without_policy_paths(&shipped.stdout)
    );
    let tests = run(&["policy", "test", copy_arg]);
    assert_eq!(tests.code, 0, "{}{}", tests.stdout, tests.stderr);
    // A second init into the same folder writes nothing.
    let again = run(&["policy", "init", copy_arg]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let unknown = run(&["policy", "init", copy_arg, "--pack", "network-benchmark"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("did you mean `network-benchmarks`"),
        "{}",
        unknown.stderr
    );
}

/// A pack from a folder with a shipped pack's id replaces the shipped pack beside `builtin`, in
/// its place, and the run says so on stderr.
#[test]
fn a_folder_pack_replaces_the_shipped_pack_of_its_id_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("nb");
    let r = run(&[
        "policy",
        "init",
        copy.to_str().unwrap(),
        "--pack",
        "network-benchmarks",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pack = copy.join("network-benchmarks");
    let ours = check_json(
        "fixtures/bundles/demo",
        &[
            "--policies",
            "builtin",
            "--policies",
            pack.to_str().unwrap(),
        ],
    );
    assert!(
        ours.stderr.contains("pack `network-benchmarks`")
            && ours.stderr.contains("replaces the shipped pack"),
        "{}",
        ours.stderr
    );
    let shipped = check_json("fixtures/bundles/demo", &[]);
    assert_eq!(
        without_policy_paths(&ours.stdout),
        without_policy_paths(&shipped.stdout)
    );
}
