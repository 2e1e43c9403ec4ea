#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::*;

fn opts(exams: usize, seed: u64, defect_rate: f64) -> GenOptions {
    GenOptions {
        exams,
        seed,
        defect_rate,
        ..GenOptions::default()
    }
}

/// Relative path -> bytes of every file under `dir`.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, acc: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, acc);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                acc.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut acc = BTreeMap::new();
    walk(dir, dir, &mut acc);
    acc
}

/// Rows of a CSV file as header -> value maps.
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn exam_rows(dir: &Path) -> Vec<BTreeMap<String, String>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join("exams"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names.iter().flat_map(|p| csv_rows(p)).collect()
}

/// The records of an NDJSON file; the lines that are not JSON (DQ-007 defects) are left out.
fn ndjson(path: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    ndjson_lines(path).0
}

/// The records of an NDJSON file, and its lines that are not JSON.
fn ndjson_lines(path: &Path) -> (Vec<serde_json::Map<String, serde_json::Value>>, Vec<String>) {
    let (mut records, mut bad) = (Vec::new(), Vec::new());
    for line in std::fs::read_to_string(path).unwrap().lines() {
        match serde_json::from_str(line) {
            Ok(r) => records.push(r),
            Err(_) => bad.push(line.to_string()),
        }
    }
    (records, bad)
}

fn defect_count(summary: &GenSummary, rule: &str) -> u64 {
    summary
        .defects
        .iter()
        .find(|(r, _)| *r == rule)
        .map(|(_, n)| *n)
        .unwrap()
}

#[test]
fn same_options_give_identical_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let o = opts(4_000, 7, 0.1);
    let sa = generate(&o, a.path()).unwrap();
    let sb = generate(&o, b.path()).unwrap();
    assert_eq!(sa.files, sb.files);
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (path, bytes) in &fa {
        assert!(bytes == &fb[path], "{} differs", path.display());
    }
    let c = tempfile::tempdir().unwrap();
    generate(&opts(4_000, 8, 0.1), c.path()).unwrap();
    assert_ne!(
        fa[Path::new("exams/2026-01.csv")],
        files(c.path())[Path::new("exams/2026-01.csv")]
    );
}

#[test]
fn layout_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&opts(3_000, 1, 0.05), dir.path()).unwrap();
    let names: Vec<&str> = summary.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "facilities.csv",
            "practitioners.csv",
            "reference/procedure_codes.csv",
            "exams/2026-01.csv",
            "exams/2026-02.csv",
            "exams/2026-03.csv",
            "sessions.ndjson",
            "coverage.csv",
            "reactions.ndjson",
        ]
    );
    assert!(dir.path().join("bundle.toml").is_file());
    let exams: u64 = summary
        .files
        .iter()
        .filter(|(n, _)| n.starts_with("exams/"))
        .map(|(_, c)| c)
        .sum();
    assert_eq!(exams, 3_000);
    assert_eq!(exam_rows(dir.path()).len(), 3_000);
    for (name, count) in &summary.files {
        let path = dir.path().join(name);
        let records = if name.ends_with(".csv") {
            csv_rows(&path).len()
        } else {
            ndjson(&path).len()
        };
        assert_eq!(records as u64, *count, "{name}");
    }
}

#[test]
fn manifest_parses_with_required_keys() {
    let dir = tempfile::tempdir().unwrap();
    generate(&opts(10, 3, 0.02), dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("bundle.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let bundle = doc["bundle"].as_table().unwrap();
    assert_eq!(bundle["format_version"].as_integer(), Some(1));
    assert_eq!(bundle["timezone"].as_str(), Some("America/Chicago"));
    for key in ["id", "organization", "source"] {
        assert!(bundle[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
    }
    assert_eq!(bundle["period_start"].to_string(), "2026-01-01");
    assert_eq!(bundle["period_end"].to_string(), "2026-03-31");
    assert!(bundle["exported_at"].as_datetime().is_some());
}

#[test]
fn invalid_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        GenOptions {
            months: 0,
            ..GenOptions::default()
        },
        opts(10, 1, 1.5),
        opts(10, 1, -0.1),
        opts(10, 1, f64::NAN),
    ] {
        let err = generate(&bad, dir.path()).unwrap_err();
        assert!(matches!(err, GenError::Invalid(_)), "{err}");
    }
}

#[test]
fn zero_exams_write_empty_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&opts(0, 1, 0.02), dir.path()).unwrap();
    for (name, count) in &summary.files {
        if name.starts_with("exams/") || name.ends_with(".ndjson") {
            assert_eq!(*count, 0, "{name}");
        }
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("exams/2026-02.csv"))
            .unwrap()
            .lines()
            .count(),
        1
    );
    assert!(summary.defects.iter().all(|(_, n)| *n == 0));
}

/// With no defects the bundle is clean in every way the rules can see from one record.
#[test]
fn defect_rate_zero_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&opts(20_000, 11, 0.0), dir.path()).unwrap();
    assert!(summary.defects.iter().all(|(_, n)| *n == 0));
    let d = dir.path();
    let facilities: BTreeMap<String, BTreeMap<String, String>> =
        csv_rows(&d.join("facilities.csv"))
            .into_iter()
            .map(|r| (r["facility_id"].clone(), r))
            .collect();
    let practitioners: BTreeMap<String, BTreeMap<String, String>> =
        csv_rows(&d.join("practitioners.csv"))
            .into_iter()
            .map(|r| (r["practitioner_id"].clone(), r))
            .collect();
    let codes: BTreeSet<String> = csv_rows(&d.join("reference/procedure_codes.csv"))
        .into_iter()
        .map(|r| r["cpt_code"].clone())
        .collect();
    let sessions = ndjson(&d.join("sessions.ndjson"));
    let exams = exam_rows(d);
    let ids: BTreeSet<&String> = exams.iter().map(|e| &e["exam_id"]).collect();
    assert_eq!(ids.len(), exams.len(), "exam ids are unique");

    let (mut contrast, mut completed, mut virtual_exams) = (0, 0, 0);
    for e in &exams {
        let f = &facilities[&e["facility_id"]];
        assert!(["completed", "cancelled", "no_show"].contains(&e["status"].as_str()));
        assert!(codes.contains(&e["cpt_code"]), "{}", e["cpt_code"]);
        contrast += usize::from(e["contrast"] == "true");
        if e["status"] == "completed" {
            completed += 1;
            let sup = &practitioners[&e["supervisor_id"]];
            assert!(["radiologist", "physician"].contains(&sup["role"].as_str()));
            assert!(sup["licensed_states"].split(';').any(|s| s == f["state"]));
            assert_ne!(e["onsite_practitioner_id"], e["technologist_id"]);
            assert!(practitioners.contains_key(&e["technologist_id"]));
            assert!(e["started_at"] <= e["ended_at"]);
            if e["supervision_mode"] == "virtual" {
                virtual_exams += 1;
                assert_eq!(e["contrast"], "true");
                assert!(f["virtual_go_live"].as_str() <= &e["scheduled_at"][..10]);
                assert!(!e["cpt_code"].starts_with("36"));
            }
        }
        if e["status"] == "cancelled" && !f["virtual_go_live"].is_empty() {
            let after = f["virtual_go_live"].as_str() <= &e["scheduled_at"][..10];
            let gap =
                ["coverage_gap", "supervisor_unavailable"].contains(&e["cancel_reason"].as_str());
            assert!(!(after && gap), "coverage cancellation after go-live");
        }
    }
    let share = |n: usize, of: usize| n as f64 / of as f64;
    assert!(
        (0.40..0.50).contains(&share(contrast, exams.len())),
        "contrast share"
    );
    assert!(
        (0.82..0.88).contains(&share(completed, exams.len())),
        "completed share"
    );
    assert_eq!(sessions.len(), virtual_exams);
    let mut waits: Vec<i64> = Vec::new();
    for s in &sessions {
        assert_eq!(s["video"], serde_json::Value::Bool(true));
        assert_eq!(s["audio"], serde_json::Value::Bool(true));
        let t = |k: &str| {
            chrono::DateTime::parse_from_rfc3339(s[k].as_str().unwrap())
                .unwrap()
                .timestamp()
        };
        let wait = t("joined_at") - t("requested_at");
        assert!((0..=30).contains(&wait));
        assert!(t("joined_at") <= t("ended_at"));
        waits.push(wait);
    }
    waits.sort_unstable();
    let median = waits[waits.len() / 2];
    assert!((15..=20).contains(&median), "median response {median}");
    for r in ndjson(&d.join("reactions.ndjson")) {
        let exam = exams
            .iter()
            .find(|e| e["exam_id"] == r["exam_id"].as_str().unwrap())
            .unwrap();
        assert_eq!(exam["contrast"], "true");
        assert_eq!(r["patient_informed"], serde_json::Value::Bool(true));
        assert_eq!(r["protocol_steps_required"], r["protocol_steps_completed"]);
    }
}

/// Every rule gets its defect once the bundle is large enough, and defects stay rare.
#[test]
fn defects_cover_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&opts(100_000, 5, 0.5), dir.path()).unwrap();
    for (rule, count) in &summary.defects {
        // BEN-003 needs a site with 5,000 completed iodinated exams (about 1,000,000 in all).
        assert!(*count > 0 || *rule == "BEN-003", "no {rule} defect");
    }
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&opts(20_000, 5, 0.02), dir.path()).unwrap();
    let exam_defects: u64 = summary
        .defects
        .iter()
        .filter(|(r, _)| {
            (!r.starts_with("RXN") || *r == "RXN-007") && !["BEN-003", "DQ-007"].contains(r)
        })
        .map(|(_, n)| n)
        .sum();
    let rate = exam_defects as f64 / 20_000.0;
    assert!((0.015..0.025).contains(&rate), "exam defect rate {rate}");
    for (rule, count) in &summary.defects {
        assert!(*count < 100, "{rule}: {count}");
    }
}

#[test]
fn rules_in_rules_v1_order() {
    let summary = generate(&opts(10, 1, 0.02), tempfile::tempdir().unwrap().path()).unwrap();
    let rules: Vec<&str> = summary.defects.iter().map(|(r, _)| *r).collect();
    let pack = |r: &str| {
        ["SUP", "ACR", "RXN", "BEN", "DQ"]
            .iter()
            .position(|p| r.starts_with(p))
            .unwrap()
    };
    let mut sorted = rules.clone();
    sorted.sort_by_key(|r| (pack(r), r.to_string()));
    assert_eq!(rules, sorted);
    assert!(rules.contains(&"BEN-003") && rules.contains(&"DQ-007"));
    assert_eq!(rules.last(), Some(&"DQ-007"));
}

/// DQ-007: some sessions lines are followed by a copy cut off mid-line, which is not JSON; the
/// intact records are all there.
#[test]
fn unreadable_session_lines() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&opts(20_000, 3, 0.2), dir.path()).unwrap();
    let (records, bad) = ndjson_lines(&dir.path().join("sessions.ndjson"));
    assert!(!bad.is_empty());
    assert_eq!(bad.len() as u64, defect_count(&summary, "DQ-007"));
    let sessions = summary.files.iter().find(|(n, _)| n == "sessions.ndjson");
    assert_eq!(Some(records.len() as u64), sessions.map(|(_, n)| *n));
    let ids: BTreeSet<&str> = records
        .iter()
        .map(|r| r["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), records.len());
    for line in &bad {
        assert!(line.starts_with("{\"session_id\":\"SS"), "{line}");
        assert!(!line.trim().is_empty() && !line.ends_with('}'), "{line}");
        assert!(serde_json::from_str::<serde_json::Value>(line).is_err());
        // The cut copy repeats the start of an intact record.
        let id = &line[15..line.len().min(24)];
        assert!(ids.iter().any(|i| i.starts_with(id)), "{line}");
    }
    // At least one even when the rate draws none.
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&opts(2_000, 3, 0.001), dir.path()).unwrap();
    let (records, bad) = ndjson_lines(&dir.path().join("sessions.ndjson"));
    assert!(!records.is_empty());
    assert_eq!(bad.len(), 1);
    assert_eq!(defect_count(&summary, "DQ-007"), 1);
    // None without defects.
    let dir = tempfile::tempdir().unwrap();
    generate(&opts(20_000, 3, 0.0), dir.path()).unwrap();
    let (records, bad) = ndjson_lines(&dir.path().join("sessions.ndjson"));
    assert!(!records.is_empty());
    assert!(bad.is_empty(), "{bad:?}");
}

/// BEN-003: the busiest site exports no reaction (its exams are unchanged); it counts as a defect
/// only once it has BEN-003's `min_exams` completed contrast exams of a class.
#[test]
fn under_reporting_site_has_no_reactions() {
    let reactions_by_site = |dir: &Path| {
        // A repeated exam id names its first exam, as the reader resolves it.
        let mut site: BTreeMap<String, String> = BTreeMap::new();
        for e in exam_rows(dir) {
            site.entry(e["exam_id"].clone())
                .or_insert_with(|| e["facility_id"].clone());
        }
        let mut by_site: BTreeMap<String, usize> = BTreeMap::new();
        for r in ndjson(&dir.join("reactions.ndjson")) {
            *by_site
                .entry(site[r["exam_id"].as_str().unwrap()].clone())
                .or_default() += 1;
        }
        by_site
    };
    let o = opts(60_000, 9, 0.1);
    let (first_day, last_day) = period(&o).unwrap();
    let world = world::build(&mut Rng::stream(9, 0), o.exams, first_day, last_day);
    let silent = world.facilities[busiest(&world).unwrap()].id.clone();
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&o, dir.path()).unwrap();
    let d = dir.path();
    let exams_at_silent = exam_rows(d)
        .iter()
        .filter(|e| e["facility_id"] == silent && e["contrast"] == "true")
        .count();
    assert!(exams_at_silent > 1_000, "{exams_at_silent}");
    let by_site = reactions_by_site(d);
    assert_eq!(by_site.get(&silent), None, "{by_site:?}");
    assert!(by_site.len() >= 3, "{by_site:?}");
    // Too few exams at this size for BEN-003 to fail, so not counted.
    assert_eq!(defect_count(&summary, "BEN-003"), 0);
    // Without defects the same site reports reactions.
    let clean = tempfile::tempdir().unwrap();
    generate(&opts(60_000, 9, 0.0), clean.path()).unwrap();
    assert!(reactions_by_site(clean.path()).contains_key(&silent));
}

#[test]
fn dst_defects_only_when_the_period_has_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let o = GenOptions {
        exams: 20_000,
        defect_rate: 0.5,
        start: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        months: 2,
        seed: 2,
    };
    let summary = generate(&o, dir.path()).unwrap();
    let dq005 = summary
        .defects
        .iter()
        .find(|(r, _)| *r == "DQ-005")
        .unwrap();
    assert_eq!(dq005.1, 0);
}

/// Generates a bundle of 1,000,000 exams and prints the time taken:
/// `cargo test --release --lib generate::tests::million -- --ignored --nocapture`.
#[test]
#[ignore]
fn million() {
    let out = std::env::temp_dir().join("vigil-gen-1m");
    let _ = std::fs::remove_dir_all(&out);
    let started = std::time::Instant::now();
    let summary = generate(&opts(1_000_000, 42, 0.02), &out).unwrap();
    let elapsed = started.elapsed();
    let bytes: u64 = files(&out).values().map(|b| b.len() as u64).sum();
    println!("{:?}", summary.files);
    println!("1,000,000 exams in {elapsed:.2?}, {} MB", bytes / 1_000_000);
}

/// Writes a demo-sized bundle to look at: `cargo test --lib generate::tests::sample -- --ignored`.
#[test]
#[ignore]
fn sample() {
    let out = std::env::temp_dir().join("vigil-gen-sample");
    let _ = std::fs::remove_dir_all(&out);
    let summary = generate(
        &opts(
            std::env::var("N").map_or(5_000, |n| n.parse().unwrap()),
            1,
            std::env::var("RATE").map_or(0.05, |n| n.parse().unwrap()),
        ),
        &out,
    )
    .unwrap();
    println!("{}: {summary:?}", out.display());
}
