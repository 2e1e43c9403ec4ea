//! Metrics over the hand-made bundle `fixtures/bundles/metrics`, with every expected value worked
//! out by hand, and the percentile function on its own.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use super::*;
use crate::bundle::Bundle;

/// The shipped packs, whose `[[metric]]` tables declare every metric below.
fn all() -> Vec<Pack> {
    crate::policy::load::load_packs(&[]).unwrap()
}

fn world() -> World {
    let root = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/bundles/metrics"
    ));
    World::new(
        Bundle::load(root).unwrap(),
        crate::eval::world::PackData::of(&crate::policy::load::load_packs(&[]).unwrap()),
    )
}

fn find<'m>(metrics: &'m [Metric], id: &str, group: &[(&str, &str)]) -> Option<&'m Metric> {
    let group: BTreeMap<String, String> = group
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    metrics.iter().find(|m| m.id == id && m.group == group)
}

/// Asserts one metric: its value (to 1e-9; interpolation is not exact in binary), numerator
/// and denominator.
#[track_caller]
fn check(
    metrics: &[Metric],
    id: &str,
    group: &[(&str, &str)],
    value: f64,
    numerator: Option<f64>,
    denominator: Option<f64>,
) {
    let Some(m) = find(metrics, id, group) else {
        panic!("no metric {id} {group:?}");
    };
    assert!(
        (m.value - value).abs() < 1e-9,
        "{id} {group:?}: {} != {value}",
        m.value
    );
    assert_eq!(m.numerator, numerator, "{id} {group:?} numerator");
    assert_eq!(m.denominator, denominator, "{id} {group:?} denominator");
}

#[track_caller]
fn count(metrics: &[Metric], id: &str, group: &[(&str, &str)], n: f64) {
    check(metrics, id, group, n, None, None);
}

#[track_caller]
fn share(metrics: &[Metric], id: &str, group: &[(&str, &str)], num: f64, den: f64) {
    check(metrics, id, group, num / den, Some(num), Some(den));
}

#[track_caller]
fn per_1000(metrics: &[Metric], group: &[(&str, &str)], num: f64, den: f64) {
    let id = "reactions.per_1000";
    check(metrics, id, group, num * 1000.0 / den, Some(num), Some(den));
}

#[track_caller]
fn absent(metrics: &[Metric], id: &str, group: &[(&str, &str)]) {
    assert!(
        find(metrics, id, group).is_none(),
        "unexpected {id} {group:?}"
    );
}

const F1: (&str, &str) = ("facility_id", "F1");
const F2: (&str, &str) = ("facility_id", "F2");
const F9: (&str, &str) = ("facility_id", "F9");
const JAN: (&str, &str) = ("month", "2026-01");
const FEB: (&str, &str) = ("month", "2026-02");

// Sessions (F1 America/Chicago, F2 America/New_York):
//   X1 F1 Jan 10 s | X2 F1 Jan 20 s | X3 F1 Feb 30 s | X4 F2 31 s, requested 2026-01-31 23:30
//   Chicago = 2026-02-01 00:30 New York, so February | X5 F2 Feb 95 s | X6 F1 Feb unmeasured
//   (no joined_at) | X7 F2 Feb joined 10 s before requested: no response time | X8 F1 requested
//   in the 2026-03-08 DST gap: no response time, no month | X9 F2 Jan unmeasured (joined_at
//   unparseable).
#[test]
fn response_metrics() {
    let m = compute_all(&world(), &all());
    // Overall: 9 sessions, 2 unmeasured (X6, X9); measured [10, 20, 30, 31, 95].
    count(&m, "response.sessions", &[], 9.0);
    count(&m, "response.unmeasured", &[], 2.0);
    // Median: h = 4 * 0.5 = 2 -> 30. p90: h = 4 * 0.9 = 3.6 -> 31 + 0.6 * (95 - 31) = 69.4.
    check(&m, "response.median_s", &[], 30.0, None, Some(5.0));
    check(&m, "response.p90_s", &[], 69.4, None, Some(5.0));
    // Share denominators: 5 measured + 2 unmeasured = 7 (X7, X8 left out).
    // Within 30 s: 10, 20, 30 (exactly 30 is within) -> 3/7. Over 90 s: 95 + X6 + X9 -> 3/7.
    share(&m, "response.share_within_best_in_class", &[], 3.0, 7.0);
    share(&m, "response.share_over_risk", &[], 3.0, 7.0);

    // F1: X1, X2, X3, X6, X8 -> 5 sessions, 1 unmeasured, measured [10, 20, 30].
    count(&m, "response.sessions", &[F1], 5.0);
    count(&m, "response.unmeasured", &[F1], 1.0);
    check(&m, "response.median_s", &[F1], 20.0, None, Some(3.0));
    // h = 2 * 0.9 = 1.8 -> 20 + 0.8 * 10 = 28.
    check(&m, "response.p90_s", &[F1], 28.0, None, Some(3.0));
    share(&m, "response.share_within_best_in_class", &[F1], 3.0, 4.0);
    share(&m, "response.share_over_risk", &[F1], 1.0, 4.0);

    // F2: X4, X5, X7, X9 -> 4 sessions, 1 unmeasured, measured [31, 95].
    count(&m, "response.sessions", &[F2], 4.0);
    count(&m, "response.unmeasured", &[F2], 1.0);
    // Median h = 0.5 -> 63; p90 h = 0.9 -> 31 + 0.9 * 64 = 88.6.
    check(&m, "response.median_s", &[F2], 63.0, None, Some(2.0));
    check(&m, "response.p90_s", &[F2], 88.6, None, Some(2.0));
    // A zero share is emitted as 0.
    share(&m, "response.share_within_best_in_class", &[F2], 0.0, 3.0);
    share(&m, "response.share_over_risk", &[F2], 2.0, 3.0);

    // January: X1, X2, X9 -> measured [10, 20]: median 15, p90 10 + 0.9 * 10 = 19.
    count(&m, "response.sessions", &[JAN], 3.0);
    check(&m, "response.median_s", &[JAN], 15.0, None, Some(2.0));
    check(&m, "response.p90_s", &[JAN], 19.0, None, Some(2.0));
    share(&m, "response.share_within_best_in_class", &[JAN], 2.0, 3.0);
    share(&m, "response.share_over_risk", &[JAN], 1.0, 3.0);
    // February: X3, X4 (New York month), X5, X6, X7 -> measured [30, 31, 95].
    count(&m, "response.sessions", &[FEB], 5.0);
    count(&m, "response.unmeasured", &[FEB], 1.0);
    check(&m, "response.median_s", &[FEB], 31.0, None, Some(3.0));
    // h = 1.8 -> 31 + 0.8 * 64 = 82.2.
    check(&m, "response.p90_s", &[FEB], 82.2, None, Some(3.0));
    share(&m, "response.share_within_best_in_class", &[FEB], 1.0, 4.0);
    share(&m, "response.share_over_risk", &[FEB], 2.0, 4.0);

    // Facility x month.
    count(&m, "response.sessions", &[F1, JAN], 2.0);
    count(&m, "response.unmeasured", &[F1, JAN], 0.0);
    check(&m, "response.median_s", &[F1, JAN], 15.0, None, Some(2.0));
    share(
        &m,
        "response.share_within_best_in_class",
        &[F1, JAN],
        2.0,
        2.0,
    );
    share(&m, "response.share_over_risk", &[F1, JAN], 0.0, 2.0);
    count(&m, "response.sessions", &[F1, FEB], 2.0);
    count(&m, "response.sessions", &[F2, FEB], 3.0);
    // F2 January holds only X9 (unmeasured): no median, shares over 1 session.
    count(&m, "response.sessions", &[F2, JAN], 1.0);
    absent(&m, "response.median_s", &[F2, JAN]);
    absent(&m, "response.p90_s", &[F2, JAN]);
    share(
        &m,
        "response.share_within_best_in_class",
        &[F2, JAN],
        0.0,
        1.0,
    );
    share(&m, "response.share_over_risk", &[F2, JAN], 1.0, 1.0);
    // X8 has no month: no March group anywhere.
    assert!(
        !m.iter()
            .any(|x| x.group.get("month").is_some_and(|v| v == "2026-03"))
    );
}

// Completed contrast exams: E01 F1 Jan iodinated, E02 F1 Jan gadolinium, E04 F1 Feb iodinated,
// E09 F2 Jan iodinated, E10 F2 Feb gadolinium, E12 F2 Feb iodinated, E13 F9 (no facility
// record) Jan iodinated -> 7 (5 iodinated, 2 gadolinium). E03, E08, E11 have contrast but were
// not completed.
// Reactions: R1 E01 mild, complete, steps 3/3 | R2 E04 moderate, 120 s, complete, steps 4 of 5
// | R3 E10 severe, 300 s, referring_notified missing, steps 7 of 6 | R4 unknown exam EX99,
// moderate, 60 s, vitals_recorded missing, only steps_required | R5 E11 (cancelled, F2 Feb)
// mild, complete, no steps.
#[test]
fn reaction_metrics() {
    let m = compute_all(&world(), &all());
    // Rate numerator: R1, R2, R3 (R4 unknown exam, R5 cancelled exam).
    per_1000(&m, &[], 3.0, 7.0);
    per_1000(&m, &[("contrast_class", "iodinated")], 2.0, 5.0);
    per_1000(&m, &[("contrast_class", "gadolinium")], 1.0, 2.0);
    per_1000(&m, &[("severity", "mild")], 1.0, 7.0);
    per_1000(&m, &[("severity", "moderate")], 1.0, 7.0);
    per_1000(&m, &[("severity", "severe")], 1.0, 7.0);
    per_1000(&m, &[F1], 2.0, 3.0);
    per_1000(&m, &[F2], 1.0, 3.0);
    // E13's facility names no record: still grouped by its raw facility_id; zero rate emitted.
    per_1000(&m, &[F9], 0.0, 1.0);
    per_1000(&m, &[F9, ("severity", "severe")], 0.0, 1.0);
    per_1000(&m, &[JAN], 1.0, 4.0);
    per_1000(&m, &[FEB], 2.0, 3.0);
    per_1000(&m, &[F1, JAN], 1.0, 2.0);
    per_1000(&m, &[F1, FEB], 1.0, 1.0);
    per_1000(&m, &[F1, ("contrast_class", "gadolinium")], 0.0, 1.0);
    per_1000(&m, &[F2, FEB, ("contrast_class", "gadolinium")], 1.0, 1.0);
    absent(
        &m,
        "reactions.per_1000",
        &[F2, JAN, ("contrast_class", "gadolinium")],
    );

    // Onset to intervention: R2 120, R3 300, R4 60 -> [60, 120, 300], median 120.
    let id = "reactions.onset_to_intervention_median_s";
    check(&m, id, &[], 120.0, None, Some(3.0));
    check(&m, id, &[F1], 120.0, None, Some(1.0));
    check(&m, id, &[F2], 300.0, None, Some(1.0));
    check(&m, id, &[FEB], 210.0, None, Some(2.0));
    absent(&m, id, &[JAN]);

    // Documentation complete: R1, R2, R5 of 5.
    let id = "reactions.documentation_complete_share";
    share(&m, id, &[], 3.0, 5.0);
    share(&m, id, &[F1], 2.0, 2.0);
    share(&m, id, &[F2], 1.0, 2.0);
    share(&m, id, &[JAN], 1.0, 1.0);
    share(&m, id, &[FEB], 2.0, 3.0);
    share(&m, id, &[F2, FEB], 1.0, 2.0);
    // F9 has exams but no reactions: no reaction group.
    absent(&m, id, &[F9]);

    // Protocol: R1 min(3,3)=3 of 3, R2 4 of 5, R3 min(7,6)=6 of 6 -> 13/14.
    let id = "reactions.protocol_adherence_share";
    share(&m, id, &[], 13.0, 14.0);
    share(&m, id, &[F1], 7.0, 8.0);
    share(&m, id, &[F2], 6.0, 6.0);
    share(&m, id, &[JAN], 3.0, 3.0);
    share(&m, id, &[FEB], 10.0, 11.0);
}

// F1 goes live 2026-02-01; F2 has no go-live; E13's facility F9 names no record.
// F1 before: E01, E02, E03 (cancelled, coverage_gap), E08 (no_show) -> 1 cancelled, 1 gap of 4.
// F1 after (go-live day included): E04, E05, E06 (cancelled, supervisor_unavailable), E07
// (cancelled, patient_request) -> 2 cancelled, 1 gap of 4.
#[test]
fn cancellation_metrics() {
    let m = compute_all(&world(), &all());
    for group in [&[][..], &[F1], &[F1, JAN], &[JAN]] {
        share(&m, "cancellations.rate_before", group, 1.0, 4.0);
        share(&m, "cancellations.coverage_gap_before", group, 1.0, 4.0);
    }
    for group in [&[][..], &[F1], &[F1, FEB], &[FEB]] {
        share(&m, "cancellations.rate_after", group, 2.0, 4.0);
        share(&m, "cancellations.coverage_gap_after", group, 1.0, 4.0);
    }
    absent(&m, "cancellations.rate_after", &[JAN]);
    absent(&m, "cancellations.rate_before", &[FEB]);
    assert!(!m.iter().any(|x| x.id.starts_with("cancellations.")
        && x.group.get("facility_id").is_some_and(|f| f != "F1")));
}

#[test]
fn each_pack_computes_the_metrics_it_declares() {
    let world = world();
    assert!(compute_all(&world, &[]).is_empty());
    let only = |pack: &str, prefixes: &[&str]| {
        let packs: Vec<Pack> = all().into_iter().filter(|p| p.id == pack).collect();
        let m = compute_all(&world, &packs);
        for prefix in prefixes {
            assert!(m.iter().any(|x| x.id.starts_with(prefix)), "{prefix}");
        }
        assert!(
            m.iter()
                .all(|x| x.policy == pack && prefixes.iter().any(|p| x.id.starts_with(p))),
            "{pack}"
        );
    };
    only("network-benchmarks", &["response.", "cancellations."]);
    only("contrast-reactions", &["reactions."]);
    only("cms-direct-supervision", &[]);
}

#[test]
fn output_is_sorted_unique_and_repeatable() {
    let world = world();
    let m = compute_all(&world, &all());
    assert!(
        m.windows(2)
            .all(|w| compare(&w[0], &w[1]) == Ordering::Less)
    );
    assert!(m.first().is_some_and(|x| x.group.is_empty()));
    assert_eq!(m, compute_all(&world, &all()));
    let allowed = ["facility_id", "month", "contrast_class", "severity"];
    for x in &m {
        assert!(x.group.keys().all(|k| allowed.contains(&k.as_str())));
        let extra = x.group.contains_key("contrast_class") || x.group.contains_key("severity");
        assert!(!extra || x.id == "reactions.per_1000", "{x:?}");
        assert!(x.value.is_finite());
        if x.id.contains("share") || x.id.starts_with("cancellations.") {
            assert!((0.0..=1.0).contains(&x.value), "{x:?}");
        }
    }
}

#[test]
fn percentile_interpolates_between_closest_ranks() {
    assert_eq!(percentile(&[], 0.5), None);
    // n = 1: every quantile is the value.
    assert_eq!(percentile(&[7.0], 0.5), Some(7.0));
    assert_eq!(percentile(&[7.0], 0.9), Some(7.0));
    // n = 2: h = p.
    assert_eq!(percentile(&[10.0, 20.0], 0.5), Some(15.0));
    let p90 = percentile(&[10.0, 20.0], 0.9).unwrap();
    assert!((p90 - 19.0).abs() < 1e-12);
    // Odd n: the median is the middle value.
    assert_eq!(percentile(&[1.0, 2.0, 4.0], 0.5), Some(2.0));
    // Even n: the median is the mean of the middle two.
    assert_eq!(percentile(&[1.0, 2.0, 4.0, 8.0], 0.5), Some(3.0));
    // Extremes are the first and last value.
    assert_eq!(percentile(&[1.0, 2.0, 4.0, 8.0], 0.0), Some(1.0));
    assert_eq!(percentile(&[1.0, 2.0, 4.0, 8.0], 1.0), Some(8.0));
    let p90 = percentile(&[10.0, 20.0, 30.0, 31.0, 95.0], 0.9).unwrap();
    assert!((p90 - 69.4).abs() < 1e-9);
}
