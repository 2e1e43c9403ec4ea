//! Each DQ rule firing and not firing, on bundles built in memory.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;
use crate::bundle::BundleFile;
use crate::bundle::manifest::Manifest;
use crate::bundle::read::{Format, ReadProblem};
use crate::bundle::value::{DstProblem, Value};
use crate::policy::model::builtin;

const MANIFEST: &str = r#"
[bundle]
id = "test"
organization = "Test Imaging"
period_start = 2026-01-01
period_end = 2026-03-31
timezone = "America/Chicago"
format_version = 1
"#;

fn empty_bundle() -> Bundle {
    Bundle {
        root: PathBuf::from("b"),
        manifest: Manifest::parse(MANIFEST, Path::new("b/bundle.toml")).unwrap(),
        files: Vec::new(),
        ignored: Vec::new(),
        absent: Vec::new(),
        tables: vec![Vec::new(); Dataset::ALL.len()],
    }
}

/// Appends a record of `dataset`, read from `<dataset>.csv` at the next line (header on line 1).
/// Later pairs override earlier ones, so a baseline can be followed by changes.
fn add(bundle: &mut Bundle, dataset: Dataset, values: &[(&str, Value)]) -> usize {
    let path = format!("{}.csv", dataset.name());
    let file = match bundle.files.iter().position(|f| f.path == path) {
        Some(i) => i,
        None => {
            bundle.files.push(BundleFile {
                path,
                dataset,
                format: Format::Csv,
                gzip: false,
                bytes: 0,
                sha256: String::new(),
                records: 0,
                problems: Vec::new(),
            });
            bundle.files.len() - 1
        }
    };
    let mut row = vec![Value::Missing; dataset.fields().len()];
    for (name, value) in values {
        let column = dataset.field_index(name).unwrap();
        row[column] = value.clone();
    }
    let table = &mut bundle.tables[dataset.index()];
    let line = u32::try_from(table.len()).unwrap() + 2;
    table.push(Record {
        file: u32::try_from(file).unwrap(),
        line,
        values: row.into_boxed_slice(),
    });
    table.len() - 1
}

fn s(text: &str) -> Value {
    Value::Str(text.into())
}

fn ts(text: &str) -> Value {
    Value::Ts(
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc),
    )
}

fn invalid(text: &str) -> Value {
    Value::Invalid(text.into())
}

fn no_instant(text: &str, problem: DstProblem) -> Value {
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap();
    Value::no_instant(local, problem)
}

fn facility(id: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("facility_id", s(id)),
        ("setting", Value::Enum(&"office")),
        ("state", s("IL")),
    ]
}

fn practitioner(id: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("practitioner_id", s(id)),
        ("role", Value::Enum(&"radiologist")),
    ]
}

/// A completed exam without contrast at facility F1, well inside the period.
fn exam(id: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("exam_id", s(id)),
        ("facility_id", s("F1")),
        ("cpt_code", s("74177")),
        ("status", Value::Enum(&"completed")),
        ("scheduled_at", ts("2026-01-05T14:00:00Z")),
        ("started_at", ts("2026-01-05T14:10:00Z")),
        ("ended_at", ts("2026-01-05T14:40:00Z")),
        ("contrast", Value::Bool(false)),
    ]
}

fn with(
    mut base: Vec<(&'static str, Value)>,
    changes: &[(&'static str, Value)],
) -> Vec<(&'static str, Value)> {
    base.extend(changes.iter().cloned());
    base
}

/// A bundle with facility F1 and practitioner P1, and nothing wrong.
fn base() -> Bundle {
    let mut b = empty_bundle();
    add(&mut b, Dataset::Facilities, &facility("F1"));
    add(&mut b, Dataset::Practitioners, &practitioner("P1"));
    b
}

fn of<'a>(report: &'a QualityReport, rule: &str) -> Vec<&'a Observation> {
    report
        .observations
        .iter()
        .filter(|o| o.rule == rule)
        .collect()
}

#[test]
fn a_clean_bundle_has_no_observations() {
    let mut b = base();
    add(&mut b, Dataset::Exams, &exam("E1"));
    let report = data_quality(&b);
    assert_eq!(report.observations, vec![]);
    let evaluated: std::collections::BTreeMap<&str, u64> =
        report.evaluated.iter().map(|(k, v)| (*k, *v)).collect();
    let expected: std::collections::BTreeMap<&str, u64> = [
        (builtin::FIELD_VALUES, 3),
        (builtin::UNIQUE_KEYS, 3),
        (builtin::REFERENCES, 1),
        (builtin::TIME_ORDER, 1),
        (builtin::LOCAL_TIMES, 1),
        (builtin::PERIOD, 1),
        (builtin::READABLE_LINES, 3),
    ]
    .into_iter()
    .collect();
    assert_eq!(evaluated, expected);
}

#[test]
fn dq001_reports_invalid_values_with_their_type() {
    let mut b = base();
    add(
        &mut b,
        Dataset::Exams,
        &with(
            exam("E-12"),
            &[
                ("status", invalid("complete")),
                ("contrast_dose_ml", invalid("NaN")),
            ],
        ),
    );
    let report = data_quality(&b);
    let found = of(&report, builtin::FIELD_VALUES);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].key, "E-12");
    assert_eq!(
        found[0].message,
        "exams `E-12` field `status`: `complete` is not a valid enum value \
         (one of completed, cancelled, no_show; did you mean `completed`?)"
    );
    assert_eq!(
        serde_json::Value::Object(found[0].evidence.clone()),
        json!({"field": "status", "value": "complete"})
    );
    assert!(
        found[1].message.contains("`NaN` is not a valid number"),
        "{}",
        found[1].message
    );
    assert_eq!(found[0].record, Some(0));
    assert_eq!((found[0].file, found[0].line), (2, 2));
}

#[test]
fn dq001_reports_missing_required_fields_and_uses_file_line_without_a_key() {
    let mut b = base();
    add(&mut b, Dataset::Facilities, &[("facility_id", s("F2"))]);
    add(&mut b, Dataset::Coverage, &[("supervisor_id", s("P1"))]);
    let report = data_quality(&b);
    let found = of(&report, builtin::FIELD_VALUES);
    let summary: Vec<(&str, &str)> = found
        .iter()
        .map(|o| (o.key.as_str(), o.evidence["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("F2", "setting"),
            ("F2", "state"),
            ("coverage.csv:2", "facility_id"),
            ("coverage.csv:2", "start"),
            ("coverage.csv:2", "end"),
            ("coverage.csv:2", "mode"),
        ]
    );
    assert_eq!(
        found[0].message,
        "facilities `F2`: required field `setting` is missing"
    );
    assert_eq!(report.evaluated[builtin::FIELD_VALUES], 4);
}

#[test]
fn dq001_conditional_fields_follow_status_and_contrast() {
    let mut b = base();
    let no_times = [("started_at", Value::Missing), ("ended_at", Value::Missing)];
    add(&mut b, Dataset::Exams, &with(exam("E1"), &no_times));
    let cancelled = with(exam("E2"), &[("status", Value::Enum(&"cancelled"))]);
    add(&mut b, Dataset::Exams, &with(cancelled, &no_times));
    let bad_status = with(exam("E3"), &[("status", invalid("done"))]);
    add(&mut b, Dataset::Exams, &with(bad_status, &no_times));
    let no_status = with(exam("E4"), &[("status", Value::Missing)]);
    add(&mut b, Dataset::Exams, &with(no_status, &no_times));
    add(
        &mut b,
        Dataset::Exams,
        &with(exam("E5"), &[("contrast", Value::Bool(true))]),
    );
    add(
        &mut b,
        Dataset::Exams,
        &with(exam("E6"), &[("contrast", invalid("maybe"))]),
    );
    let report = data_quality(&b);
    let summary: Vec<(&str, &str)> = of(&report, builtin::FIELD_VALUES)
        .iter()
        .map(|o| (o.key.as_str(), o.evidence["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("E1", "started_at"),
            ("E1", "ended_at"),
            ("E3", "status"),
            ("E4", "status"),
            ("E5", "contrast_class"),
            ("E6", "contrast"),
        ]
    );
    let e1 = &of(&report, builtin::FIELD_VALUES)[0];
    assert_eq!(
        e1.message,
        "exams `E1`: required field `started_at` is missing (required when `status` is `completed`)"
    );
}

#[test]
fn dq001_unknown_facility_zone_says_so() {
    let mut b = empty_bundle();
    add(
        &mut b,
        Dataset::Facilities,
        &with(facility("F1"), &[("timezone", invalid("America/Chicgo"))]),
    );
    let report = data_quality(&b);
    let found = of(&report, builtin::FIELD_VALUES);
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .message
            .contains("unknown time zone `America/Chicgo` (did you mean `America/Chicago`?)"),
        "{}",
        found[0].message
    );
}

#[test]
fn dq001_supervision_indicator_must_be_exactly_a_listed_code() {
    let mut b = base();
    for indicator in ["2", "6a", "6A", "09", "XX"] {
        add(
            &mut b,
            Dataset::ProcedureCodes,
            &[
                ("cpt_code", s("74177")),
                ("year", Value::Int(2026)),
                ("supervision_indicator", s(indicator)),
            ],
        );
    }
    let report = data_quality(&b);
    let found = of(&report, builtin::FIELD_VALUES);
    let values: Vec<(&str, &str)> = found
        .iter()
        .map(|o| (o.key.as_str(), o.evidence["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        values,
        vec![
            ("procedure_codes.csv:2", "2"),
            ("procedure_codes.csv:3", "6a"),
            ("procedure_codes.csv:6", "XX"),
        ]
    );
    assert!(
        found[0].message.ends_with("did you mean `02`?)"),
        "{}",
        found[0].message
    );
    assert!(
        found[1].message.ends_with("did you mean `6A`?)"),
        "{}",
        found[1].message
    );
    assert_eq!(found[0].evidence["field"], "supervision_indicator");
}

#[test]
fn dq002_counts_every_repeat_after_the_first() {
    let mut b = base();
    add(&mut b, Dataset::Exams, &exam("E1"));
    add(&mut b, Dataset::Exams, &exam("E2"));
    add(&mut b, Dataset::Exams, &exam("E1"));
    add(&mut b, Dataset::Exams, &exam("E1"));
    add(
        &mut b,
        Dataset::Exams,
        &with(exam("E3"), &[("exam_id", Value::Missing)]),
    );
    for _ in 0..2 {
        let window = [
            ("coverage_id", s("C1")),
            ("supervisor_id", s("P1")),
            ("facility_id", s("F1")),
            ("start", ts("2026-01-05T12:00:00Z")),
            ("end", ts("2026-01-05T20:00:00Z")),
            ("mode", Value::Enum(&"virtual")),
        ];
        add(&mut b, Dataset::Coverage, &window);
    }
    let report = data_quality(&b);
    let found = of(&report, builtin::UNIQUE_KEYS);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!((found[0].record, found[1].record), (Some(2), Some(3)));
    assert_eq!(
        serde_json::Value::Object(found[0].evidence.clone()),
        json!({"field": "exam_id", "first": "exams.csv:2"})
    );
    assert_eq!(
        found[0].message,
        "exams `E1`: key `exam_id` repeats; first seen at `exams.csv:2`"
    );
    // facility, practitioner, four exams with a key; coverage ids are not unique keys.
    assert_eq!(report.evaluated[builtin::UNIQUE_KEYS], 6);
}

#[test]
fn dq003_reports_dangling_references_but_not_star_coverage() {
    let mut b = base();
    add(
        &mut b,
        Dataset::Exams,
        &with(
            exam("E1"),
            &[
                ("supervisor_id", s("P1")),
                ("technologist_id", s("P9")),
                ("session_id", s("S1")),
            ],
        ),
    );
    let window = |facility: &str| {
        vec![
            ("supervisor_id", s("P1")),
            ("facility_id", s(facility)),
            ("start", ts("2026-01-05T12:00:00Z")),
            ("end", ts("2026-01-05T20:00:00Z")),
            ("mode", Value::Enum(&"virtual")),
        ]
    };
    add(&mut b, Dataset::Coverage, &window("*"));
    add(&mut b, Dataset::Coverage, &window("F9"));
    add(
        &mut b,
        Dataset::Reactions,
        &[("reaction_id", s("R1")), ("documented_by", s("P1"))],
    );
    let report = data_quality(&b);
    let found = of(&report, builtin::REFERENCES);
    let summary: Vec<(&str, serde_json::Value)> = found
        .iter()
        .map(|o| {
            (
                o.key.as_str(),
                serde_json::Value::Object(o.evidence.clone()),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "E1",
                json!({"field": "technologist_id", "value": "P9", "dataset": "practitioners"})
            ),
            (
                "E1",
                json!({"field": "session_id", "value": "S1", "dataset": "sessions"})
            ),
            (
                "coverage.csv:3",
                json!({"field": "facility_id", "value": "F9", "dataset": "facilities"})
            ),
        ]
    );
    assert_eq!(
        found[0].message,
        "exams `E1` field `technologist_id`: `P9` names no record in practitioners"
    );
    // the exam, both coverage rows (supervisor_id), the reaction (documented_by).
    assert_eq!(report.evaluated[builtin::REFERENCES], 4);
}

#[test]
fn dq004_exam_times_out_of_order() {
    let mut b = base();
    let times = |start: &str, end: &str, contrast: Option<&str>| {
        let mut fields = with(
            exam("E"),
            &[("started_at", ts(start)), ("ended_at", ts(end))],
        );
        if let Some(c) = contrast {
            fields.push(("contrast_at", ts(c)));
        }
        fields
    };
    let mut add_exam = |id: &str, fields: Vec<(&'static str, Value)>| {
        add(&mut b, Dataset::Exams, &with(fields, &[("exam_id", s(id))]));
    };
    add_exam(
        "ok",
        times(
            "2026-01-05T14:00:00Z",
            "2026-01-05T14:30:00Z",
            Some("2026-01-05T14:30:00Z"),
        ),
    );
    add_exam(
        "reversed",
        times("2026-01-05T15:00:00Z", "2026-01-05T14:00:00Z", None),
    );
    add_exam(
        "early",
        times(
            "2026-01-05T14:00:00Z",
            "2026-01-05T14:30:00Z",
            Some("2026-01-05T13:59:59Z"),
        ),
    );
    add_exam(
        "late",
        times(
            "2026-01-05T14:00:00Z",
            "2026-01-05T14:30:00Z",
            Some("2026-01-05T14:31:00Z"),
        ),
    );
    let cancelled = with(
        times(
            "2026-01-05T14:00:00Z",
            "2026-01-05T14:30:00Z",
            Some("2026-01-05T15:00:00Z"),
        ),
        &[("status", Value::Enum(&"cancelled"))],
    );
    add_exam("cancelled", cancelled);
    let no_end = with(
        times(
            "2026-01-05T14:00:00Z",
            "2026-01-05T14:30:00Z",
            Some("2026-01-05T10:00:00Z"),
        ),
        &[("ended_at", Value::Missing)],
    );
    add_exam("no_end", no_end);
    let report = data_quality(&b);
    let found = of(&report, builtin::TIME_ORDER);
    let summary: Vec<(&str, &str, &str)> = found
        .iter()
        .map(|o| {
            (
                o.key.as_str(),
                o.evidence["first"].as_str().unwrap(),
                o.evidence["second"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("reversed", "started_at", "ended_at"),
            ("early", "started_at", "contrast_at"),
            ("late", "contrast_at", "ended_at"),
            ("cancelled", "contrast_at", "ended_at"),
        ]
    );
    assert_eq!(
        serde_json::Value::Object(found[0].evidence.clone()),
        json!({
            "field": "started_at",
            "first": "started_at",
            "second": "ended_at",
            "started_at": "2026-01-05T15:00:00Z",
            "ended_at": "2026-01-05T14:00:00Z",
        })
    );
    assert_eq!(
        found[0].message,
        "exams `reversed`: `started_at` 2026-01-05T15:00:00Z is after `ended_at` 2026-01-05T14:00:00Z"
    );
    assert_eq!(
        found[1].message,
        "exams `early`: `contrast_at` 2026-01-05T13:59:59Z is outside the exam, before `started_at` 2026-01-05T14:00:00Z"
    );
    assert_eq!(report.evaluated[builtin::TIME_ORDER], 5);
}

#[test]
fn dq004_sessions_coverage_and_reactions() {
    let mut b = base();
    add(
        &mut b,
        Dataset::Exams,
        &with(exam("E1"), &[("contrast_at", ts("2026-01-05T14:15:00Z"))]),
    );
    add(
        &mut b,
        Dataset::Sessions,
        &[
            ("session_id", s("S1")),
            ("requested_at", ts("2026-01-05T14:10:00Z")),
            ("joined_at", ts("2026-01-05T14:09:00Z")),
            ("ended_at", ts("2026-01-05T14:05:00Z")),
        ],
    );
    add(
        &mut b,
        Dataset::Coverage,
        &[
            ("start", ts("2026-01-05T12:00:00Z")),
            ("end", ts("2026-01-05T12:00:00Z")),
        ],
    );
    add(
        &mut b,
        Dataset::Coverage,
        &[
            ("start", ts("2026-01-05T12:00:00Z")),
            ("end", ts("2026-01-05T12:00:01Z")),
        ],
    );
    for (id, onset) in [
        ("R1", "2026-01-05T14:14:00Z"),
        ("R2", "2026-01-05T14:15:00Z"),
    ] {
        add(
            &mut b,
            Dataset::Reactions,
            &[
                ("reaction_id", s(id)),
                ("exam_id", s("E1")),
                ("onset_at", ts(onset)),
            ],
        );
    }
    add(
        &mut b,
        Dataset::Reactions,
        &[
            ("reaction_id", s("R3")),
            ("exam_id", s("E9")),
            ("onset_at", ts("2026-01-05T14:14:00Z")),
        ],
    );
    let report = data_quality(&b);
    let found = of(&report, builtin::TIME_ORDER);
    let summary: Vec<(&str, &str)> = found
        .iter()
        .map(|o| (o.key.as_str(), o.evidence["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("S1", "requested_at"),
            ("S1", "joined_at"),
            ("coverage.csv:2", "start"),
            ("R1", "onset_at"),
        ]
    );
    assert_eq!(
        found[2].message,
        "coverage `coverage.csv:2`: `start` 2026-01-05T12:00:00Z is not before `end` 2026-01-05T12:00:00Z"
    );
    assert_eq!(
        serde_json::Value::Object(found[3].evidence.clone()),
        json!({
            "field": "onset_at",
            "first": "contrast_at",
            "second": "onset_at",
            "contrast_at": "2026-01-05T14:15:00Z",
            "onset_at": "2026-01-05T14:14:00Z",
            "exam_id": "E1",
        })
    );
    // exam E1, session S1, two coverage rows, R1 and R2 (R3's exam is unknown).
    assert_eq!(report.evaluated[builtin::TIME_ORDER], 6);
}

#[test]
fn dq005_one_observation_per_record_even_with_two_bad_fields() {
    let mut b = base();
    add(
        &mut b,
        Dataset::Exams,
        &with(
            exam("E1"),
            &[
                (
                    "started_at",
                    no_instant("2026-03-08T02:30:00", DstProblem::Gap),
                ),
                (
                    "ended_at",
                    no_instant("2026-11-01T01:30:00", DstProblem::Ambiguous),
                ),
            ],
        ),
    );
    add(&mut b, Dataset::Exams, &exam("E2"));
    let only_missing = [
        ("scheduled_at", Value::Missing),
        ("started_at", Value::Missing),
        ("ended_at", Value::Missing),
    ];
    add(&mut b, Dataset::Exams, &with(exam("E3"), &only_missing));
    let report = data_quality(&b);
    let found = of(&report, builtin::LOCAL_TIMES);
    assert_eq!(found.len(), 1);
    assert_eq!(
        serde_json::Value::Object(found[0].evidence.clone()),
        json!({
            "field": "started_at",
            "fields": ["started_at", "ended_at"],
            "local": ["2026-03-08T02:30:00", "2026-11-01T01:30:00"],
            "problem": "gap",
            "problems": ["gap", "ambiguous"],
            "zone": "America/Chicago",
        })
    );
    assert_eq!(
        found[0].message,
        "exams `E1`: `started_at` local time `2026-03-08T02:30:00` does not exist (DST gap); \
         `ended_at` local time `2026-11-01T01:30:00` is ambiguous (DST overlap) \
         in `America/Chicago`, so they name no instant"
    );
    // No DQ-001 for the present-but-instantless fields, and no DQ-004 pair to compare.
    assert_eq!(
        of(&report, builtin::FIELD_VALUES).len(),
        3,
        "E3's three missing times"
    );
    assert_eq!(report.evaluated[builtin::LOCAL_TIMES], 2);
    assert_eq!(report.evaluated[builtin::TIME_ORDER], 1);
}

#[test]
fn dq006_flags_dates_of_service_on_both_sides_of_the_period() {
    let mut b = base();
    // 03:00Z on Jan 1 is still Dec 31 in Chicago: the facility zone decides.
    let before = [("started_at", ts("2026-01-01T03:00:00Z"))];
    add(&mut b, Dataset::Exams, &with(exam("before"), &before));
    let first_day = [("started_at", ts("2026-01-01T06:00:00Z"))];
    add(&mut b, Dataset::Exams, &with(exam("first_day"), &first_day));
    let last_day = [("started_at", ts("2026-04-01T04:59:59Z"))];
    add(&mut b, Dataset::Exams, &with(exam("last_day"), &last_day));
    let cancelled_after = [
        ("status", Value::Enum(&"cancelled")),
        ("scheduled_at", ts("2026-04-02T15:00:00Z")),
        ("started_at", Value::Missing),
        ("ended_at", Value::Missing),
    ];
    add(
        &mut b,
        Dataset::Exams,
        &with(exam("after"), &cancelled_after),
    );
    let no_dos = [
        ("scheduled_at", Value::Missing),
        (
            "started_at",
            no_instant("2026-03-08T02:30:00", DstProblem::Gap),
        ),
    ];
    add(&mut b, Dataset::Exams, &with(exam("no_dos"), &no_dos));
    let report = data_quality(&b);
    let found = of(&report, builtin::PERIOD);
    let summary: Vec<serde_json::Value> = found
        .iter()
        .map(|o| json!([o.key, serde_json::Value::Object(o.evidence.clone())]))
        .collect();
    assert_eq!(
        summary,
        vec![
            json!(["before", {"field": "started_at", "dos": "2025-12-31",
                   "period_start": "2026-01-01", "period_end": "2026-03-31"}]),
            json!(["after", {"field": "scheduled_at", "dos": "2026-04-02",
                   "period_start": "2026-01-01", "period_end": "2026-03-31"}]),
        ]
    );
    assert_eq!(
        found[0].message,
        "exams `before`: date of service 2025-12-31 (from `started_at`) is before the bundle period 2026-01-01 .. 2026-03-31"
    );
    assert_eq!(report.evaluated[builtin::PERIOD], 4);
}

#[test]
fn dq007_reports_every_file_problem() {
    let mut b = base();
    add(&mut b, Dataset::Exams, &exam("E1"));
    b.files[2].problems = vec![
        ReadProblem {
            line: 7,
            message: "line 7 is not valid JSON: expected value".into(),
        },
        ReadProblem {
            line: 9,
            message: "the gzip stream is truncated".into(),
        },
    ];
    let report = data_quality(&b);
    let found = of(&report, builtin::READABLE_LINES);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].key, "exams.csv:7");
    assert_eq!(found[0].record, None);
    assert_eq!(
        (found[0].dataset, found[0].file, found[0].line),
        (Dataset::Exams, 2, 7)
    );
    assert_eq!(found[0].message, "line 7 is not valid JSON: expected value");
    assert_eq!(
        serde_json::Value::Object(found[1].evidence.clone()),
        json!({"file": "exams.csv", "line": 9})
    );
    assert_eq!(report.evaluated[builtin::READABLE_LINES], 3);
}

#[test]
fn large_tables_keep_record_order() {
    let mut b = base();
    for i in 0..20_000 {
        let facility = if i % 3 == 0 { "F9" } else { "F1" };
        add(
            &mut b,
            Dataset::Exams,
            &with(exam(&format!("E{i}")), &[("facility_id", s(facility))]),
        );
    }
    let report = data_quality(&b);
    let records: Vec<usize> = of(&report, builtin::REFERENCES)
        .iter()
        .filter_map(|o| o.record)
        .collect();
    let expected: Vec<usize> = (0..20_000).filter(|i| i % 3 == 0).collect();
    assert_eq!(records, expected);
    assert_eq!(report.evaluated[builtin::REFERENCES], 20_000);
}

/// The world's indexes and links give the report the bundle's own indexes give, on generated
/// bundles with and without defects (repeated keys and references to no record among them).
#[test]
fn the_report_over_a_world_is_the_report_over_its_bundle() {
    use crate::eval::world::{PackData, World};
    use crate::generate::{GenOptions, generate};
    for (seed, defect_rate) in [(1, 0.0), (2, 0.05), (3, 0.3)] {
        let dir = tempfile::tempdir().unwrap();
        let opts = GenOptions {
            exams: 1_500,
            seed,
            defect_rate,
            ..GenOptions::default()
        };
        generate(&opts, dir.path()).unwrap();
        let own = data_quality(&Bundle::load(dir.path()).unwrap());
        let world = World::new(Bundle::load(dir.path()).unwrap(), PackData::default());
        let of_world = data_quality_of(&world);
        for rule in [builtin::REFERENCES, builtin::UNIQUE_KEYS] {
            assert!(
                defect_rate < 0.1 || own.observations.iter().any(|o| o.rule == rule),
                "seed {seed}: the bundle should have {rule} observations"
            );
        }
        assert_eq!(own, of_world, "seed {seed}");
    }
}
