//! The edit suite: for every parameter of every shipped pack, a copy of the pack with that one
//! parameter changed (as a compliance officer would, with no code) moves exactly the rules and
//! metrics that read it, on the demo bundle: every one of them changes, and nothing else does.
//! The dependencies are read off the pack files by hand (which rule names which parameter, in its
//! check, `when`, message, citation or script; which metric's conditions read it; which rules
//! read the pack data through derived facts).

use std::collections::{BTreeMap, BTreeSet};

use crate::common::{bundle, check_json, edited_pack};

/// One edit: in pack `pack`, the text `from` becomes `to` in every version that has it.
struct Edit {
    pack: &'static str,
    parameter: &'static str,
    from: &'static str,
    to: &'static str,
    /// Rules whose findings or counts must change.
    rules: &'static [&'static str],
    /// Rules that read the parameter too and may change, though this edit need not move them on
    /// the demo; no rule outside `rules` and `may` may change.
    may: &'static [&'static str],
    /// Metrics whose values or recorded parameters must change, and no other.
    metrics: &'static [&'static str],
}

const LEVELS_02: &str = r#""02" = "direct""#;

const EDITS: &[Edit] = &[
    Edit {
        pack: "network-benchmarks",
        parameter: "best_in_class_s",
        from: "best_in_class_s = 30\n",
        to: "best_in_class_s = 20\n",
        rules: &["BEN-002"],
        metrics: &["response.share_within_best_in_class"],
        may: &[],
    },
    Edit {
        pack: "network-benchmarks",
        parameter: "risk_s",
        from: "risk_s = 90\n",
        to: "risk_s = 60\n",
        rules: &["BEN-001", "BEN-002"],
        metrics: &["response.share_over_risk"],
        may: &[],
    },
    Edit {
        pack: "network-benchmarks",
        parameter: "coverage_reasons",
        from: r#"coverage_reasons = ["coverage_gap", "supervisor_unavailable"]"#,
        to: r#"coverage_reasons = ["coverage_gap"]"#,
        rules: &["BEN-005"],
        metrics: &[
            "cancellations.coverage_gap_after",
            "cancellations.coverage_gap_before",
        ],
        may: &[],
    },
    Edit {
        pack: "network-benchmarks",
        parameter: "min_exams",
        from: "min_exams = { iodinated = 5000, gadolinium = 20000 }",
        to: "min_exams = { iodinated = 1, gadolinium = 1 }",
        rules: &["BEN-003"],
        metrics: &[],
        may: &[],
    },
    Edit {
        pack: "network-benchmarks",
        parameter: "max_per_1000",
        from: "max_per_1000 = { iodinated = 15, gadolinium = 5 }",
        to: "max_per_1000 = { iodinated = 0.01, gadolinium = 0.01 }",
        // Judged only where a facility has `min_exams` exams of a class: lowered below too.
        rules: &["BEN-003"],
        metrics: &[],
        may: &[],
    },
    Edit {
        pack: "network-benchmarks",
        parameter: "min_share",
        from: "min_share = 1.0\n",
        to: "min_share = 0.1\n",
        rules: &["BEN-004"],
        metrics: &[],
        may: &[],
    },
    Edit {
        pack: "contrast-reactions",
        parameter: "severe_max_s",
        from: "severe_max_s = 300\n",
        to: "severe_max_s = 30\n",
        rules: &["RXN-004"],
        metrics: &[],
        may: &[],
    },
    Edit {
        pack: "contrast-reactions",
        parameter: "moderate_max_s",
        from: "moderate_max_s = 900\n",
        to: "moderate_max_s = 30\n",
        rules: &["RXN-004"],
        metrics: &[],
        may: &[],
    },
    Edit {
        pack: "contrast-reactions",
        parameter: "documentation",
        from: r#"elements = ["treatment", "notified_at", "intervention_at", "responder_id", "vitals_recorded"]"#,
        to: r#"elements = ["treatment", "notified_at", "intervention_at", "responder_id", "vitals_recorded", "epinephrine_at"]"#,
        rules: &["RXN-002", "BEN-004"],
        metrics: &["reactions.documentation_complete_share"],
        may: &[],
    },
    Edit {
        pack: "cms-direct-supervision",
        parameter: "virtual_presence_allowed",
        from: "virtual_presence_allowed = true\n",
        to: "virtual_presence_allowed = false\n",
        rules: &["SUP-003"],
        metrics: &[],
        may: &[],
    },
    Edit {
        pack: "cms-direct-supervision",
        parameter: "excluded_global_days",
        from: r#"excluded_global_days = ["010", "090"]"#,
        to: r#"excluded_global_days = ["090"]"#,
        rules: &["SUP-003"],
        metrics: &[],
        may: &[],
    },
    Edit {
        pack: "cms-direct-supervision",
        parameter: "supervision_levels",
        from: LEVELS_02,
        to: r#""02" = "general""#,
        rules: &["SUP-002", "SUP-003", "SUP-005"],
        metrics: &[],
        may: &[],
    },
    Edit {
        pack: "cms-direct-supervision",
        parameter: "unlisted_contrast_level",
        from: r#"unlisted_contrast_level = "direct""#,
        to: r#"unlisted_contrast_level = "personal""#,
        rules: &["SUP-003"],
        metrics: &[],
        may: &["SUP-002", "SUP-005"],
    },
    Edit {
        pack: "state-contrast-law",
        parameter: "physician_on_site",
        from: "[parameters.physician_on_site.NY]\n",
        to: "[parameters.physician_on_site.NY]\neffective_from = 2027-01-01\n",
        rules: &["STL-001"],
        metrics: &[],
        may: &[],
    },
];

/// What a run says, per rule and per metric id, in a form that any change shows in.
struct Outcome {
    rules: BTreeMap<String, String>,
    metrics: BTreeMap<String, String>,
}

fn outcome(pack: &std::path::Path) -> Outcome {
    let run = check_json(
        &bundle("demo"),
        &[
            "--policies",
            "builtin",
            "--policies",
            pack.to_str().unwrap(),
        ],
    );
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let doc = run.json();
    let mut rules: BTreeMap<String, String> = BTreeMap::new();
    for r in doc["summary"]["rules"].as_array().unwrap() {
        let id = r["rule"].as_str().or(r["id"].as_str()).unwrap().to_string();
        rules.entry(id).or_default().push_str(&r.to_string());
    }
    for f in doc["findings"].as_array().unwrap() {
        let mut f = f.clone();
        // The finding's pack hash and file differ between copies; its content must not.
        if let Some(o) = f.as_object_mut() {
            o.remove("policy_sha256");
            o.remove("fingerprint");
        }
        let id = f["rule"].as_str().unwrap().to_string();
        rules.entry(id).or_default().push_str(&f.to_string());
    }
    let mut metrics: BTreeMap<String, String> = BTreeMap::new();
    for m in doc["metrics"].as_array().unwrap() {
        let id = m["id"].as_str().unwrap().to_string();
        metrics.entry(id).or_default().push_str(&m.to_string());
    }
    Outcome { rules, metrics }
}

fn changed(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> BTreeSet<String> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

#[test]
fn every_parameter_moves_what_reads_it_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let mut baselines: BTreeMap<&str, Outcome> = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, edit) in EDITS.iter().enumerate() {
        if !baselines.contains_key(edit.pack) {
            let same = edited_pack(&dir.path().join("same"), edit.pack, str::to_string);
            baselines.insert(edit.pack, outcome(&same));
        }
        let copy = edited_pack(&dir.path().join(format!("edit{i}")), edit.pack, |t| {
            let t = t.replace(edit.from, edit.to);
            // BEN-003 judges a rate only above `min_exams`: lower it so the rate bites.
            if edit.parameter == "max_per_1000" {
                t.replace(
                    "min_exams = { iodinated = 5000, gadolinium = 20000 }",
                    "min_exams = { iodinated = 1, gadolinium = 1 }",
                )
            } else {
                t
            }
        });
        let texts: Vec<String> = std::fs::read_dir(&copy)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
            .collect();
        assert!(
            texts.iter().any(|t| t.contains(edit.to)),
            "{}: `{}` not found in the pack",
            edit.parameter,
            edit.from
        );
        let base = &baselines[edit.pack];
        let after = outcome(&copy);
        let rules = changed(&base.rules, &after.rules);
        let metrics = changed(&base.metrics, &after.metrics);
        let want_rules: BTreeSet<String> = edit.rules.iter().map(|s| s.to_string()).collect();
        let want_metrics: BTreeSet<String> = edit.metrics.iter().map(|s| s.to_string()).collect();
        let may: BTreeSet<String> = edit.may.iter().map(|s| s.to_string()).collect();
        let rules_ok = want_rules.is_subset(&rules)
            && rules
                .iter()
                .all(|r| want_rules.contains(r) || may.contains(r));
        if !rules_ok || metrics != want_metrics {
            failures.push(format!(
                "{} {}: rules {rules:?} (want {want_rules:?}, may {may:?}), metrics {metrics:?} (want {want_metrics:?})",
                edit.pack, edit.parameter
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every parameter of every shipped pack version is in the suite above.
#[test]
fn the_suite_covers_every_parameter_of_every_shipped_pack() {
    let covered: BTreeSet<(&str, &str)> = EDITS.iter().map(|e| (e.pack, e.parameter)).collect();
    let policies = crate::common::root().join("policies");
    let mut missing = Vec::new();
    for pack in std::fs::read_dir(&policies).unwrap() {
        let pack = pack.unwrap().path();
        if !pack.is_dir() {
            continue;
        }
        let id = pack.file_name().unwrap().to_str().unwrap().to_string();
        for f in std::fs::read_dir(&pack).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let Some(toml::Value::Table(params)) = doc.get("parameters") else {
                continue;
            };
            for name in params.keys() {
                if !covered.contains(&(id.as_str(), name.as_str())) {
                    missing.push(format!("{id} {name}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "parameters without an edit: {missing:?}"
    );
}
