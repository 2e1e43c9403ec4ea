//! `vigil inspect`: reads and types every file without evaluating rules; bad values are counted,
//! not fatal.

use serde_json::Value;

use crate::common::{bundle, run};

fn inspect_json(name: &str) -> Value {
    let r = run(&["inspect", &bundle(name), "--format", "json"]);
    assert_eq!(r.code, 0, "{name}: {}", r.stderr);
    r.json()
}

fn dataset<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dataset"] == name)
        .unwrap_or_else(|| panic!("no dataset `{name}` in {doc:#}"))
}

#[test]
fn unknown_enum_values_are_counted_by_field() {
    let doc = inspect_json("unknown_enum");
    assert_eq!(doc["format"], "vigil.inspect/1");
    assert_eq!(doc["bundle"]["id"], "unknown_enum");
    let exams = dataset(&doc, "exams");
    assert_eq!(exams["records"], 4);
    assert_eq!(exams["unparseable"]["status"], 1);
    assert_eq!(exams["unparseable"]["contrast_class"], 1);
    // `Onsite` is a valid spelling of `onsite`
    assert!(exams["unparseable"].get("supervision_mode").is_none());
    assert_eq!(exams["dos_first"], "2026-01-05");
    assert_eq!(exams["dos_last"], "2026-01-07");
    assert_eq!(dataset(&doc, "facilities")["records"], 2);
    assert_eq!(dataset(&doc, "facilities")["unparseable"]["setting"], 1);
    assert_eq!(dataset(&doc, "practitioners")["records"], 3);
    assert_eq!(dataset(&doc, "practitioners")["unparseable"]["role"], 1);
    assert_eq!(dataset(&doc, "sessions")["records"], 2);
    assert_eq!(dataset(&doc, "coverage")["records"], 3);
}

#[test]
fn bad_timestamps_are_counted_by_field() {
    let doc = inspect_json("bad_timestamps");
    let exams = dataset(&doc, "exams");
    assert_eq!(exams["records"], 4);
    assert_eq!(exams["unparseable"]["scheduled_at"], 1);
    assert_eq!(exams["unparseable"]["started_at"], 1);
    let sessions = dataset(&doc, "sessions");
    assert_eq!(sessions["records"], 3);
    assert_eq!(sessions["unparseable"]["joined_at"], 1);
}

#[test]
fn unreadable_lines_are_counted() {
    let doc = inspect_json("ndjson_not_json");
    let sessions = dataset(&doc, "sessions");
    assert_eq!(sessions["records"], 2);
    assert_eq!(sessions["unreadable_lines"], 2);
    let doc = inspect_json("truncated_gzip");
    let sessions = dataset(&doc, "sessions");
    assert_eq!(sessions["records"], 5);
    assert_eq!(sessions["files"][0]["gzip"], true);
    assert_eq!(sessions["unreadable_lines"], 1);
}

#[test]
fn dst_times_are_counted_as_without_instant() {
    let doc = inspect_json("dst_gap_and_overlap");
    let exams = dataset(&doc, "exams");
    assert_eq!(exams["records"], 4);
    assert!(
        exams["unparseable"].as_object().unwrap().is_empty(),
        "{exams:#}"
    );
    assert!(
        !exams["no_instant"].as_object().unwrap().is_empty(),
        "{exams:#}"
    );
}

#[test]
fn text_output() {
    let r = run(&["inspect", &bundle("bad_timestamps")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("unparseable: scheduled_at 1, started_at 1"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("unparseable: joined_at 1"),
        "{}",
        r.stdout
    );
    insta::assert_snapshot!("inspect_text_bad_timestamps", r.stdout);
}

#[test]
fn no_manifest_exits_2() {
    let r = run(&["inspect", &bundle("err_no_manifest")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bundle.toml"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}
