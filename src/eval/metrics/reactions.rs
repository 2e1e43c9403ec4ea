//! `reactions.*`: contrast reaction rates, response and documentation (contrast-reactions).
//!
//! A reaction's exam is the first exam record carrying its `exam_id`; its groups are that exam's
//! raw `facility_id` and the month of that exam's DOS. A reaction whose exam is unknown (or
//! whose `exam_id` is missing) is in the overall group only.
//!
//! `reactions.per_1000`: denominator every completed exam record with `contrast = true`,
//! numerator the reactions whose exam is one of them (reactions of cancelled, no-show or
//! non-contrast exams are left out of the rate, not of the other reaction metrics).
//! - The `contrast_class` variant uses that class's exams; exams without a valid class (and
//!   their reactions) are only in the plain rate.
//! - The `severity` variant has all completed contrast exams of the group as denominator and
//!   is emitted for each listed severity (`mild`, `moderate`, `severe`) wherever the plain
//!   rate is, as 0 when no reaction of that severity occurred; reactions with a missing or
//!   invalid severity are only in the plain rate.
//!
//! `reactions.onset_to_intervention_median_s`: moderate and severe reactions whose `onset_at`
//! and `intervention_at` both have an instant, taken as they are (the spec names no order
//! check for this pair, so an intervention before onset gives a negative duration).
//!
//! `reactions.documentation_complete_share`: complete = the RXN-002 check passes
//! (`complete() == Some(true)`); every reaction is in the denominator, including those whose
//! tier is unknown (neither pass nor fail: not complete).
//!
//! `reactions.protocol_adherence_share`: over reactions with both step counts present and not
//! negative (a negative count is not a count of steps); not emitted when the required steps
//! sum to zero.

use rustc_hash::FxHashMap as HashMap;

use crate::bundle::Record;
use crate::bundle::schema::{Dataset, REACTION_SEVERITIES, col};
use crate::bundle::value::Value;
use crate::eval::metrics::{Emit, Group, Merge, exam_group, roll_up, sort_values};
use crate::eval::world::World;

/// Positions of the reaction fields read here that have no `col::` constant.
struct Cols {
    severity: usize,
    intervention_at: usize,
    steps_required: usize,
    steps_completed: usize,
}

impl Cols {
    fn new() -> Cols {
        // A name missing from the schema reads as `Missing` (Record::get past the end).
        let at = |name| Dataset::Reactions.field_index(name).unwrap_or(usize::MAX);
        Cols {
            severity: at("severity"),
            intervention_at: at("intervention_at"),
            steps_required: at("protocol_steps_required"),
            steps_completed: at("protocol_steps_completed"),
        }
    }
}

/// Completed contrast exams and their reactions, per group.
#[derive(Debug, Default)]
struct Rate {
    exams: u64,
    reactions: u64,
}

#[derive(Debug, Default)]
struct Acc {
    reactions: u64,
    complete: u64,
    delays: Vec<f64>,
    steps_done: i64,
    steps_required: i64,
}

impl Merge for Rate {
    fn merge(&mut self, other: &Self) {
        self.exams += other.exams;
        self.reactions += other.reactions;
    }
}

impl Merge for Acc {
    fn merge(&mut self, other: &Self) {
        self.reactions += other.reactions;
        self.complete += other.complete;
        self.delays.extend_from_slice(&other.delays);
        self.steps_done += other.steps_done;
        self.steps_required += other.steps_required;
    }
}

fn completed_contrast(exam: &Record) -> bool {
    matches!(exam.get(col::exam::STATUS), Value::Enum("completed"))
        && exam.get(col::exam::CONTRAST).as_bool() == Some(true)
}

/// Reaction metrics: the rate denominators are fed one exam record at a time by the shared
/// exam pass; [`Reactions::finish`] then walks the reactions and emits.
#[derive(Default)]
pub(super) struct Reactions<'a> {
    /// Completed contrast exams and their reactions, plain and by `contrast_class`.
    rates: HashMap<Group<'a>, Rate>,
    /// Reactions of completed contrast exams by `severity` (the exams are in `rates`).
    by_severity: HashMap<Group<'a>, u64>,
    groups: HashMap<Group<'a>, Acc>,
}

impl<'a> Reactions<'a> {
    /// Adds one exam record; `group` is its own group (raw facility, DOS month).
    pub(super) fn add_exam(&mut self, exam: &'a Record, group: Group<'a>) {
        if !completed_contrast(exam) {
            return;
        }
        self.rates.entry(group).or_default().exams += 1;
        if let Some(class) = exam.str(col::exam::CONTRAST_CLASS) {
            self.rates
                .entry(group.with("contrast_class", class))
                .or_default()
                .exams += 1;
        }
    }

    /// Walks the reactions (after every exam was added) and emits the metrics.
    pub(super) fn finish(mut self, world: &'a World, emit: &mut Emit<'_>) {
        let cols = Cols::new();
        for (idx, reaction) in world.bundle.table(Dataset::Reactions).iter().enumerate() {
            self.add_reaction(world, &cols, idx as u32, reaction);
        }
        self.emit(emit);
    }

    fn add_reaction(&mut self, world: &'a World, cols: &Cols, idx: u32, reaction: &'a Record) {
        let exam_idx = reaction
            .str(col::reaction::EXAM_ID)
            .and_then(|id| world.lookup(Dataset::Exams, id))
            .map(|i| i as usize);
        // Unknown exam: no facility, no month, so the overall group only.
        let group = exam_idx.map_or(Group::new(None, None), |i| exam_group(world, i));
        let severity = reaction.str(cols.severity);
        let acc = self.groups.entry(group).or_default();
        acc.reactions += 1;
        if world.documentation(idx).and_then(|d| d.complete()) == Some(true) {
            acc.complete += 1;
        }
        if let Some(d) = delay_s(reaction, cols, severity) {
            acc.delays.push(d);
        }
        if let Some((done, required)) = steps(reaction, cols) {
            acc.steps_done += done.min(required);
            acc.steps_required += required;
        }
        let exam = exam_idx.and_then(|i| world.bundle.table(Dataset::Exams).get(i));
        let Some(exam) = exam.filter(|e| completed_contrast(e)) else {
            return;
        };
        self.rates.entry(group).or_default().reactions += 1;
        if let Some(class) = exam.str(col::exam::CONTRAST_CLASS) {
            self.rates
                .entry(group.with("contrast_class", class))
                .or_default()
                .reactions += 1;
        }
        if let Some(severity) = severity {
            *self
                .by_severity
                .entry(group.with("severity", severity))
                .or_default() += 1;
        }
    }

    fn emit(self, emit: &mut Emit<'_>) {
        let by_severity = roll_up(self.by_severity);
        for (group, rate) in &roll_up(self.rates) {
            let exams = rate.exams as f64;
            let id = "reactions.per_1000";
            emit.rate(id, group, rate.reactions as f64, exams, 1000.0);
            if group.extra.is_none() {
                for severity in REACTION_SEVERITIES {
                    let group = group.with("severity", severity);
                    let n = by_severity.get(&group).copied().unwrap_or(0);
                    emit.rate(id, &group, n as f64, exams, 1000.0);
                }
            }
        }
        for (group, mut acc) in roll_up(self.groups) {
            sort_values(&mut acc.delays);
            let id = "reactions.onset_to_intervention_median_s";
            emit.quantile(id, &group, &acc.delays, 0.5);
            let (complete, all) = (acc.complete as f64, acc.reactions as f64);
            emit.share(
                "reactions.documentation_complete_share",
                &group,
                complete,
                all,
            );
            let (done, required) = (acc.steps_done as f64, acc.steps_required as f64);
            emit.share("reactions.protocol_adherence_share", &group, done, required);
        }
    }
}

/// `intervention_at - onset_at` in seconds, for a moderate or severe reaction with both instants.
fn delay_s(reaction: &Record, cols: &Cols, severity: Option<&str>) -> Option<f64> {
    if !matches!(severity, Some("moderate" | "severe")) {
        return None;
    }
    let onset = reaction.get(col::reaction::ONSET_AT).instant()?;
    let intervention = reaction.get(cols.intervention_at).instant()?;
    Some(crate::eval::world::seconds_between(onset, intervention))
}

/// `(completed, required)` protocol steps, when both are present and not negative.
fn steps(reaction: &Record, cols: &Cols) -> Option<(i64, i64)> {
    let required = reaction.get(cols.steps_required).as_int()?;
    let done = reaction.get(cols.steps_completed).as_int()?;
    (required >= 0 && done >= 0).then_some((done, required))
}
