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
