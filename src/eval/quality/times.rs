//! DQ-004 (time pairs out of order) and DQ-005 (naive local times in a DST gap or overlap).

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value as Json};

use super::{Ctx, Observation, evidence, scan};
use crate::bundle::Record;
use crate::bundle::schema::{Dataset, FieldType, col};
use crate::bundle::value::{DstProblem, Value};
use crate::policy::model::builtin;

/// DQ-004: one observation per broken pair; evaluated = records with at least one pair whose
/// two instants exist.
pub(super) fn check_order(ctx: &Ctx<'_>, dataset: Dataset) -> (u64, Vec<Observation>) {
    let table = ctx.table(dataset);
    match dataset {
        Dataset::Exams => scan(table, |index, record, out| {
            exam_order(ctx, index, record, out)
        }),
        Dataset::Sessions => scan(table, |index, record, out| {
            let pairs = [
                (col::session::REQUESTED_AT, col::session::JOINED_AT),
                (col::session::JOINED_AT, col::session::ENDED_AT),
            ];
            let mut evaluated = false;
            for (a, b) in pairs {
                let Some((ta, tb)) = instants(record, a, b) else {
                    continue;
                };
                evaluated = true;
                if ta > tb {
                    let pair = Pair::new(dataset, (a, ta), (b, tb));
                    out.push(pair.observe(ctx, index, record, "is after"));
                }
            }
            evaluated
        }),
        Dataset::Coverage => scan(table, |index, record, out| {
            let (a, b) = (col::coverage::START, col::coverage::END);
            let Some((ta, tb)) = instants(record, a, b) else {
                return false;
            };
            if ta >= tb {
                let pair = Pair::new(dataset, (a, ta), (b, tb));
                out.push(pair.observe(ctx, index, record, "is not before"));
            }
            true
        }),
        Dataset::Reactions => scan(table, |index, record, out| {
            reaction_order(ctx, index, record, out)
        }),
        Dataset::Facilities | Dataset::Practitioners | Dataset::ProcedureCodes => (0, Vec::new()),
    }
}

/// `started_at <= ended_at`, and `contrast_at` inside `[started_at, ended_at]` when all three
/// instants exist (any status).
fn exam_order(ctx: &Ctx<'_>, index: usize, record: &Record, out: &mut Vec<Observation>) -> bool {
    use col::exam::{CONTRAST_AT, ENDED_AT, STARTED_AT};
    let Some((started, ended)) = instants(record, STARTED_AT, ENDED_AT) else {
        return false;
    };
    let exams = Dataset::Exams;
    if started > ended {
        let pair = Pair::new(exams, (STARTED_AT, started), (ENDED_AT, ended));
        out.push(pair.observe(ctx, index, record, "is after"));
    }
    if let Some(contrast) = record.get(CONTRAST_AT).instant() {
        if contrast < started {
            let pair = Pair::new(exams, (STARTED_AT, started), (CONTRAST_AT, contrast));
            out.push(pair.observe_contrast(ctx, index, record, "before", (STARTED_AT, started)));
        }
        if contrast > ended {
            let pair = Pair::new(exams, (CONTRAST_AT, contrast), (ENDED_AT, ended));
            out.push(pair.observe_contrast(ctx, index, record, "after", (ENDED_AT, ended)));
        }
    }
    true
}

/// A reaction's `onset_at` must not precede its exam's `contrast_at` (the exam is the first
/// record carrying the reaction's `exam_id`).
fn reaction_order(
    ctx: &Ctx<'_>,
    index: usize,
    record: &Record,
    out: &mut Vec<Observation>,
) -> bool {
    let Some(onset) = record.get(col::reaction::ONSET_AT).instant() else {
        return false;
    };
    let Some(exam_id) = record.str(col::reaction::EXAM_ID) else {
        return false;
    };
    let contrast = ctx
        .keys
        .first(Dataset::Exams, exam_id)
        .and_then(|i| ctx.table(Dataset::Exams).get(i))
        .and_then(|exam| exam.get(col::exam::CONTRAST_AT).instant());
    let Some(contrast) = contrast else {
        return false;
    };
    if onset < contrast {
        let (onset_text, contrast_text) = (rfc3339(onset), rfc3339(contrast));
        out.push(ctx.observe(
            builtin::TIME_ORDER,
            Dataset::Reactions,
            index,
            record,
            format_args!(
                ": `onset_at` {onset_text} is before the `contrast_at` {contrast_text} of exam `{exam_id}`"
            ),
            evidence([
                ("field", Json::from("onset_at")),
                ("first", Json::from("contrast_at")),
                ("second", Json::from("onset_at")),
                ("contrast_at", Json::from(contrast_text.as_str())),
                ("onset_at", Json::from(onset_text.as_str())),
                ("exam_id", Json::from(exam_id)),
            ]),
        ));
    }
    true
}

/// Two fields of one record that must be in order: `first` not after (or before) `second`.
struct Pair {
    dataset: Dataset,
    first: (&'static str, String),
    second: (&'static str, String),
}

impl Pair {
    fn new(
        dataset: Dataset,
        first: (usize, DateTime<Utc>),
        second: (usize, DateTime<Utc>),
    ) -> Pair {
        let name = |column: usize| dataset.fields().get(column).map_or("?", |f| f.name);
        Pair {
            dataset,
            first: (name(first.0), rfc3339(first.1)),
            second: (name(second.0), rfc3339(second.1)),
        }
    }

    fn evidence(&self) -> Map<String, Json> {
        let mut map = evidence([
            ("field", Json::from(self.first.0)),
            ("first", Json::from(self.first.0)),
            ("second", Json::from(self.second.0)),
        ]);
        map.insert(self.first.0.into(), Json::from(self.first.1.as_str()));
        map.insert(self.second.0.into(), Json::from(self.second.1.as_str()));
        map
    }

    /// "`first` <t> `relation` `second` <t>".
    fn observe(&self, ctx: &Ctx<'_>, index: usize, record: &Record, relation: &str) -> Observation {
        let ((a, ta), (b, tb)) = (&self.first, &self.second);
        ctx.observe(
            builtin::TIME_ORDER,
            self.dataset,
            index,
            record,
            format_args!(": `{a}` {ta} {relation} `{b}` {tb}"),
            self.evidence(),
        )
    }

    /// "`contrast_at` <t> is outside the exam: before `started_at` <t>".
    fn observe_contrast(
        &self,
        ctx: &Ctx<'_>,
        index: usize,
        record: &Record,
        side: &str,
        bound: (usize, DateTime<Utc>),
    ) -> Observation {
        let contrast = record
            .get(col::exam::CONTRAST_AT)
            .instant()
            .map(rfc3339)
            .unwrap_or_default();
        let bound_name = self.dataset.fields().get(bound.0).map_or("?", |f| f.name);
        let bound_time = rfc3339(bound.1);
        ctx.observe(
            builtin::TIME_ORDER,
            self.dataset,
            index,
            record,
            format_args!(
                ": `contrast_at` {contrast} is outside the exam, {side} `{bound_name}` {bound_time}"
            ),
            self.evidence(),
        )
    }
}

/// DQ-005: one observation per record with any naive time in a DST gap or overlap; evaluated =
/// records with at least one timestamp present (with or without an instant).
pub(super) fn check_dst(ctx: &Ctx<'_>, dataset: Dataset) -> (u64, Vec<Observation>) {
    let columns: Vec<usize> = dataset
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.ty == FieldType::Ts)
        .map(|(i, _)| i)
        .collect();
    if columns.is_empty() {
        return (0, Vec::new());
    }
    scan(ctx.table(dataset), |index, record, out| {
        let mut present = false;
        let mut bad = Vec::new();
        for &column in &columns {
            match record.get(column) {
                Value::Ts(_) => present = true,
                value @ Value::NoInstant(at) => {
                    present = true;
                    let name = dataset.fields().get(column).map_or("?", |f| f.name);
                    bad.push((name, value.display().unwrap_or_default(), at.1));
                }
                _ => {}
            }
        }
        if let Some(&(first, _, problem)) = bad.first() {
            out.push(dst_observation(
                ctx, dataset, index, record, first, problem, &bad,
            ));
        }
        present
    })
}

fn dst_observation(
    ctx: &Ctx<'_>,
    dataset: Dataset,
    index: usize,
    record: &Record,
    first: &str,
    problem: DstProblem,
    bad: &[(&'static str, String, DstProblem)],
) -> Observation {
    let zone = record_zone(ctx, dataset, record).name();
    let parts: Vec<String> = bad
        .iter()
        .map(|(name, local, p)| format!("`{name}` local time `{local}` {}", p.describe()))
        .collect();
    let mut map = evidence([
        ("field", Json::from(first)),
        ("problem", Json::from(problem_name(problem))),
        ("zone", Json::from(zone)),
    ]);
    map.insert(
        "fields".into(),
        bad.iter().map(|(name, ..)| Json::from(*name)).collect(),
    );
    map.insert(
        "local".into(),
        bad.iter()
            .map(|(_, local, _)| Json::from(local.as_str()))
            .collect(),
    );
    map.insert(
        "problems".into(),
        bad.iter()
            .map(|(.., p)| Json::from(problem_name(*p)))
            .collect(),
    );
    ctx.observe(
        builtin::LOCAL_TIMES,
        dataset,
        index,
        record,
        format_args!(
            ": {} in `{zone}`, so {} no instant",
            parts.join("; "),
            if bad.len() == 1 {
                "it names"
            } else {
                "they name"
            }
        ),
        map,
    )
}

fn problem_name(problem: DstProblem) -> &'static str {
    match problem {
        DstProblem::Gap => "gap",
        DstProblem::Ambiguous => "ambiguous",
    }
}

/// The zone the record's naive times were read in (docs/bundle-format.md, "Timestamps").
fn record_zone(ctx: &Ctx<'_>, dataset: Dataset, record: &Record) -> Tz {
    let zones = ctx.zones;
    match dataset {
        Dataset::Exams => zones.facility(record.str(col::exam::FACILITY_ID)),
        Dataset::Sessions => zones.facility(record.str(col::session::FACILITY_ID)),
        Dataset::Coverage => zones.facility(record.str(col::coverage::FACILITY_ID)),
        Dataset::Reactions => zones.exam(record.str(col::reaction::EXAM_ID)),
        Dataset::Facilities | Dataset::Practitioners | Dataset::ProcedureCodes => {
            zones.facility(None)
        }
    }
}

/// Both instants of a pair, when both exist.
fn instants(record: &Record, a: usize, b: usize) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    Some((record.get(a).instant()?, record.get(b).instant()?))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}
