//! Contrast reactions: how often (domain.md 2.2), how severe, what gets documented, and the
//! documentation defects (RXN-001..006).

use std::fmt::Write as _;

use super::catalog::{SYMPTOMS_ALLERGIC, SYMPTOMS_PHYSIOLOGIC, TREATMENTS};
use super::defects::{Defect, Tally, reaction_kinds};
use super::exam::{Exam, push_facility_time};
use super::rng::Rng;
use super::stamp::MINUTE;

/// Reactions per completed contrast exam: about 4.5 per 1,000 iodinated, 1.5 per 1,000 gadolinium.
pub(crate) fn rate(class: &str) -> f64 {
    if class == "gadolinium" {
        0.0015
    } else {
        0.0045
    }
}

const SEVERITIES: [&str; 3] = ["mild", "moderate", "severe"];

#[derive(Debug, Default)]
struct Reaction<'a> {
    onset: Option<i64>,
    severity: Option<&'static str>,
    kind: Option<&'static str>,
    symptoms: Option<&'static str>,
    treatment: Option<&'static str>,
    epinephrine: Option<i64>,
    notified: Option<i64>,
    intervention: Option<i64>,
    responder: Option<&'a str>,
    outcome: Option<&'static str>,
    vitals: Option<bool>,
    allergy_updated: Option<bool>,
    informed: Option<bool>,
    referring: Option<bool>,
    steps_required: Option<i64>,
    steps_completed: Option<i64>,
    documented_at: Option<i64>,
    documented_by: Option<&'a str>,
}

fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.index(items.len())]
}

/// Generates one reaction to `exam` (which has a start and an end) and appends its NDJSON line.
/// `fallback` is who responds when the exam names neither supervisor nor on-site practitioner.
pub(crate) fn push_reaction(
    rng: &mut Rng,
    exam: &Exam<'_>,
    fallback: &str,
    defect_rate: f64,
    tally: &mut Tally,
    buf: &mut String,
) {
    let start = exam.started.unwrap_or(exam.scheduled);
    let end = exam.ended.unwrap_or(start);
    let base = exam.contrast_at.unwrap_or(start + MINUTE);
    let tier = match rng.unit() {
        u if u < 0.77 => 0,
        u if u < 0.98 => 1,
        _ => 2,
    };
    let allergic = rng.chance(0.65);
    let onset = base + 30 + ((-(1.0 - rng.unit()).ln() * 240.0) as i64).min(1_800);
    let supervisor = exam.supervisor.as_deref();
    let onsite = exam.onsite.as_deref();
    let mut r = Reaction {
        onset: Some(onset),
        severity: Some(SEVERITIES[tier]),
        kind: Some(if allergic {
            "allergic-like"
        } else {
            "physiologic"
        }),
        symptoms: Some(pick(
            rng,
            if allergic {
                SYMPTOMS_ALLERGIC[tier]
            } else {
                SYMPTOMS_PHYSIOLOGIC[tier]
            },
        )),
        vitals: Some(true),
        allergy_updated: allergic.then_some(true),
        informed: Some(true),
        steps_required: Some([2, 5, 8][tier]),
        documented_at: Some(end.max(onset) + rng.range(600, 3_600)),
        documented_by: Some(onsite.or(supervisor).unwrap_or(fallback)),
        ..Reaction::default()
    };
    r.steps_completed = r.steps_required;
    match tier {
        0 => {
            r.treatment = Some(pick(rng, TREATMENTS[0]));
            if rng.chance(0.5) {
                r.notified = Some(onset + rng.range(30, 300));
                r.responder = Some(onsite.or(supervisor).unwrap_or(fallback));
            }
            r.outcome = Some(if rng.chance(0.85) {
                "resolved"
            } else {
                "observed"
            });
        }
        1 => {
            r.treatment = Some(pick(rng, TREATMENTS[1]));
            let notified = onset + rng.range(20, 120);
            r.notified = Some(notified);
            r.intervention = Some(notified + rng.range(30, 480));
            r.responder = Some(supervisor.or(onsite).unwrap_or(fallback));
            r.referring = Some(rng.chance(0.5));
            r.outcome = Some(if rng.chance(0.7) {
                "resolved"
            } else {
                "observed"
            });
        }
        _ => {
            r.treatment = Some(TREATMENTS[2][usize::from(!allergic)]);
            let notified = onset + rng.range(10, 60);
            let intervention = notified + rng.range(20, 180);
            r.notified = Some(notified);
            r.intervention = Some(intervention);
            r.epinephrine = allergic.then(|| intervention + rng.range(0, 90));
            r.responder = Some(supervisor.or(onsite).unwrap_or(fallback));
            r.referring = Some(true);
            r.outcome = Some(match rng.unit() {
                u if u < 0.6 => "ed_transfer",
                u if u < 0.85 => "admitted",
                _ => "observed",
            });
        }
    }
    if rng.chance((3.0 * defect_rate).min(1.0)) {
        let kinds = reaction_kinds(allergic, tier > 0);
        let defect = kinds[rng.index(kinds.len())];
        damage(rng, &mut r, defect, tier, allergic);
        tally.add(defect);
    }
    push_json(buf, exam, &r);
}

fn damage(rng: &mut Rng, r: &mut Reaction<'_>, defect: Defect, tier: usize, allergic: bool) {
    match defect {
        Defect::ReactionUnclassified => {
            if rng.chance(0.5) {
                r.severity = None;
            } else {
                r.kind = Some("allergic");
            }
        }
        Defect::ReactionIncomplete => {
            let mut fields = vec![0, 1, 2, 3];
            if tier > 0 {
                fields.extend([4, 5, 6, 7, 8]);
            }
            if tier == 2 {
                fields.push(9);
                if allergic {
                    fields.push(10);
                }
            }
            match fields[rng.index(fields.len())] {
                0 => r.symptoms = None,
                1 => r.outcome = None,
                2 => r.documented_at = None,
                3 => r.documented_by = None,
                4 => r.treatment = None,
                5 => r.notified = None,
                6 => r.intervention = None,
                7 => r.responder = None,
                8 => r.vitals = Some(false),
                9 => r.referring = Some(false),
                _ => r.epinephrine = None,
            }
        }
        Defect::AllergyListNotUpdated => {
            r.allergy_updated = rng.chance(0.5).then_some(false);
        }
        Defect::SlowIntervention => {
            if let Some(onset) = r.onset {
                let late = if tier == 2 {
                    rng.range(301, 900)
                } else {
                    rng.range(901, 2_400)
                };
                let intervention = onset + late;
                r.intervention = Some(intervention);
                r.notified = r.notified.map(|n| n.min(intervention));
                r.epinephrine = r.epinephrine.map(|_| intervention + rng.range(0, 90));
            }
        }
        Defect::PatientNotInformed => r.informed = Some(false),
        Defect::ProtocolIncomplete => {
            r.steps_completed = r.steps_required.map(|n| n - rng.range(1, 2));
        }
        _ => {}
    }
}

fn push_json(buf: &mut String, exam: &Exam<'_>, r: &Reaction<'_>) {
    let f = exam.facility;
    let _ = write!(
        buf,
        "{{\"reaction_id\":\"RX{:07}\",\"exam_id\":\"{}\"",
        exam.seq, exam.id
    );
    let time = |buf: &mut String, key: &str, t: Option<i64>| {
        if let Some(t) = t {
            let _ = write!(buf, ",\"{key}\":\"");
            push_facility_time(buf, f, t);
            buf.push('"');
        }
    };
    time(buf, "onset_at", r.onset);
    let text = |buf: &mut String, key: &str, v: Option<&str>| {
        if let Some(v) = v {
            let _ = write!(buf, ",\"{key}\":\"{v}\"");
        }
    };
    text(buf, "severity", r.severity);
    text(buf, "type", r.kind);
    text(buf, "symptoms", r.symptoms);
    text(buf, "treatment", r.treatment);
    time(buf, "epinephrine_at", r.epinephrine);
    time(buf, "notified_at", r.notified);
    time(buf, "intervention_at", r.intervention);
    text(buf, "responder_id", r.responder);
    text(buf, "outcome", r.outcome);
    let flag = |buf: &mut String, key: &str, v: Option<bool>| {
        if let Some(v) = v {
            let _ = write!(buf, ",\"{key}\":{v}");
        }
    };
    flag(buf, "vitals_recorded", r.vitals);
    flag(buf, "allergy_list_updated", r.allergy_updated);
    flag(buf, "patient_informed", r.informed);
    flag(buf, "referring_notified", r.referring);
    let int = |buf: &mut String, key: &str, v: Option<i64>| {
        if let Some(v) = v {
            let _ = write!(buf, ",\"{key}\":{v}");
        }
    };
    int(buf, "protocol_steps_required", r.steps_required);
    int(buf, "protocol_steps_completed", r.steps_completed);
    time(buf, "documented_at", r.documented_at);
    text(buf, "documented_by", r.documented_by);
    buf.push_str("}\n");
}
