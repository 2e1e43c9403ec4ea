//! Judging records: each record by the pack version in effect on its date, every rule's scope,
//! requirements and check, in parallel, with findings in a deterministic order.
//!
//! `versions` gives each record its pack version and runs the rules of a version in one pass;
//! `judge` decides one rule on one record; `finding` turns a failure into a [`Finding`] and
//! puts findings in report order. This file merges what the passes tallied into findings and
//! rule summaries.

mod finding;
mod judge;
mod versions;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::eval::metrics;
use crate::eval::model::{Finding, RuleSummary};
use crate::eval::quality::{QualityReport, data_quality_of};
use crate::eval::world::World;
use crate::policy::model::*;

pub use finding::finish_ids;
use finding::{quality_finding, rule_finding};
use judge::out_of_scope;
pub use judge::value_json;
use versions::{JudgedPack, judge_packs};

/// Why a run stopped (exit 2).
#[derive(Debug, Clone, thiserror::Error)]
pub enum EvalError {
    /// A policy script failed at run time: named by rule, script, line and record.
    #[error("rule `{rule}` failed in `{script}`{}: {message}\n  while judging {record}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Script {
        rule: String,
        script: String,
        line: Option<usize>,
        message: String,
        /// The record being judged, as `file:line`.
        record: String,
    },
    /// The scripts and expressions of the run took more Rhai operations than its budget. The
    /// message names no rule or record: which one crossed the line depends on the threads.
    #[error(
        "the policies' scripts and expressions took more than {budget} Rhai operations in all, \
         the run's budget: a script that loops too long on many records? (raise it with \
         --max-script-operations)"
    )]
    Budget { budget: u64 },
}

/// What one evaluation found.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub rules: Vec<RuleSummary>,
    /// The metrics of the packs that ran (docs/outputs.md, "Metrics").
    pub metrics: Vec<crate::eval::model::Metric>,
    /// Rhai evaluations made (expressions and scripts): at most one per rule and record, which
    /// a test checks so a change cannot make script work grow faster than the data.
    pub script_calls: u64,
    /// Evaluations of `expr` and `script` checks natively answered (src/policy/native.rs).
    pub native_calls: u64,
    /// Rules and metrics that took no record of a dataset that has records.
    pub warnings: Vec<crate::eval::model::RunWarning>,
}

pub(super) enum Judgement {
    OutOfScope,
    Pass,
    /// One or more findings on the record: evidence and an optional message each.
    Fail(Vec<(Evidence, Said)>),
    NotApplicable(String),
}

pub(super) type Evidence = serde_json::Map<String, serde_json::Value>;

/// What a script's failure says of itself, over the rule's own: its `message`, and its
/// `citation` (a source per finding, e.g. the state whose law applies).
#[derive(Debug, Default)]
pub(super) struct Said {
    pub(super) message: Option<String>,
    pub(super) citation: Option<String>,
}

/// Evaluations of script checks: tried natively, and run in Rhai.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counts {
    pub(super) native: u64,
    pub(super) rhai: u64,
}

/// What one rule found over many records, merged in record order.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) counts: Counts,
    pub(super) evaluated: u64,
    pub(super) not_applicable: u64,
    pub(super) reasons: BTreeMap<String, u64>,
    pub(super) fails: Vec<(u32, Evidence, Said)>,
}

impl Tally {
    pub(super) fn add(&mut self, idx: u32, judgement: Judgement) {
        match judgement {
            Judgement::OutOfScope => {}
            Judgement::Pass => self.evaluated += 1,
            Judgement::NotApplicable(reason) => {
                self.not_applicable += 1;
                *self.reasons.entry(reason).or_default() += 1;
            }
            Judgement::Fail(fails) => {
                self.evaluated += 1;
                self.fails
                    .extend(fails.into_iter().map(|(ev, message)| (idx, ev, message)));
            }
        }
    }

    pub(super) fn merge(mut self, other: Tally) -> Tally {
        self.counts.native += other.counts.native;
        self.counts.rhai += other.counts.rhai;
        self.evaluated += other.evaluated;
        self.not_applicable += other.not_applicable;
        for (reason, n) in other.reasons {
            *self.reasons.entry(reason).or_default() += n;
        }
        self.fails.extend(other.fails);
        self
    }
}

/// Judges every record of the world by every pack.
pub fn evaluate(world: &Arc<World>, packs: &[Pack]) -> Result<Evaluation, EvalError> {
    let mut findings = Vec::new();
    let mut summaries: Vec<RuleSummary> = Vec::new();

    // Data quality and the metrics run beside the rules: they share nothing but the world.
    let ((quality, metrics), judged) = rayon::join(
        || {
            rayon::join(
                || data_quality_of(world),
                || metrics::compute_all(world, packs),
            )
        },
        || {
            crate::progress::add(&crate::progress::PACKS_FOUND, packs.len() as u64);
            judge_packs(world, packs)
        },
    );
    let judged = judged?;
    let mut counts = Counts::default();
    for (pack, judged) in packs.iter().zip(judged) {
        summaries.extend(summarize_pack(
            world,
            pack,
            judged,
            &quality,
            &mut findings,
            &mut counts,
        ));
    }
    finish_ids(&mut findings);
    let warnings = run_warnings(world, packs, &summaries, &metrics);
    Ok(Evaluation {
        findings,
        rules: summaries,
        metrics,
        script_calls: counts.rhai,
        native_calls: counts.native,
        warnings,
    })
}

/// A rule that judged no record (every one out of its scope or its versions' dates) and a
/// metric that produced no value, where the bundle has records of their dataset: what a
/// misspelt value or a wrong date would look like, said rather than left as a silent zero.
fn run_warnings(
    world: &World,
    packs: &[Pack],
    rules: &[RuleSummary],
    metrics: &[crate::eval::model::Metric],
) -> Vec<crate::eval::model::RunWarning> {
    use crate::eval::model::RunWarning;
    let mut out = Vec::new();
    let mut seen_rules = std::collections::BTreeSet::new();
    let mut seen_metrics = std::collections::BTreeSet::new();
    for pack in packs {
        for version in &pack.versions {
            for rule in &version.rules {
                if matches!(rule.check, Check::Builtin(_)) || !seen_rules.insert(&rule.id) {
                    continue;
                }
                let records = world.bundle.table(rule.dataset).len();
                let judged = rules
                    .iter()
                    .find(|s| s.rule == rule.id)
                    .is_some_and(|s| s.evaluated + s.not_applicable > 0);
                if records > 0 && !judged {
                    out.push(RunWarning {
                        kind: "rule",
                        id: rule.id.clone(),
                        policy: pack.id.clone(),
                        dataset: rule.dataset.name(),
                        records,
                        message: format!(
                            "rule {} judged none of the {records} `{}` records: its `when`, its versions' dates or its check left every one out",
                            rule.id,
                            rule.dataset.name()
                        ),
                    });
                }
            }
            for metric in &version.declared_metrics {
                if !seen_metrics.insert((&pack.id, &metric.id)) {
                    continue;
                }
                let records = world.bundle.table(metric.dataset).len();
                let emitted = metrics
                    .iter()
                    .any(|m| m.id == metric.id && m.policy == pack.id);
                if records > 0 && !emitted {
                    out.push(RunWarning {
                        kind: "metric",
                        id: metric.id.clone(),
                        policy: pack.id.clone(),
                        dataset: metric.dataset.name(),
                        records,
                        message: format!(
                            "metric {} has no value over the {records} `{}` records: its `when`, its versions' dates or what it measures left every one out",
                            metric.id,
                            metric.dataset.name()
                        ),
                    });
                }
            }
        }
    }
    out
}

/// A finding to make: of a data quality observation, or of a rule's failure on a record.
enum Pending<'a> {
    Quality(
        &'a PackVersion,
        &'a Rule,
        &'a crate::eval::quality::Observation,
    ),
    Rule(&'a PackVersion, &'a Rule, u32, Evidence, Said),
}

/// Merges what one pack's passes tallied into its findings and rule summaries (in rule id
/// order), data quality findings included.
fn summarize_pack(
    world: &World,
    pack: &Pack,
    judged: JudgedPack,
    quality: &QualityReport,
    findings: &mut Vec<Finding>,
    counts: &mut Counts,
) -> Vec<RuleSummary> {
    let JudgedPack {
        undated,
        tallies: mut version_tallies,
    } = judged;
    let mut pack_summaries: BTreeMap<String, RuleSummary> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    // The findings to make, in order; made in parallel below (messages are rendered per finding).
    let mut pending: Vec<Pending<'_>> = Vec::new();
    for (vi, version) in pack.versions.iter().enumerate() {
        let mut tallies = version_tallies
            .get_mut(vi)
            .map(std::mem::take)
            .unwrap_or_default();
        for (ri, rule) in version.rules.iter().enumerate() {
            let summary = pack_summaries.entry(rule.id.clone()).or_insert_with(|| {
                order.push(rule.id.clone());
                RuleSummary {
                    rule: rule.id.clone(),
                    policy: pack.id.clone(),
                    title: rule.title.clone(),
                    severity: rule.severity,
                    ..RuleSummary::default()
                }
            });
            if let Check::Builtin(name) = &rule.check {
                summary.evaluated += quality.evaluated.get(name.as_str()).copied().unwrap_or(0);
                for obs in quality
                    .observations
                    .iter()
                    .filter(|o| o.rule == name.as_str())
                {
                    summary.failed += 1;
                    pending.push(Pending::Quality(version, rule, obs));
                }
                continue;
            }
            let tally = tallies.get_mut(ri).map(std::mem::take).unwrap_or_default();
            counts.native += tally.counts.native;
            counts.rhai += tally.counts.rhai;
            summary.evaluated += tally.evaluated;
            summary.not_applicable += tally.not_applicable;
            for (reason, n) in tally.reasons {
                *summary.reasons.entry(reason).or_default() += n;
            }
            summary.failed += tally.fails.len() as u64;
            for (idx, evidence, said) in tally.fails {
                pending.push(Pending::Rule(version, rule, idx, evidence, said));
            }
        }
    }
    {
        use rayon::prelude::*;
        let made: Vec<Finding> = pending
            .into_par_iter()
            .with_min_len(64)
            .map(|p| match p {
                Pending::Quality(version, rule, obs) => {
                    quality_finding(world, pack, version, rule, obs)
                }
                Pending::Rule(version, rule, idx, evidence, said) => {
                    rule_finding(world, pack, version, rule, idx, evidence, said)
                }
            })
            .collect();
        findings.extend(made);
    }
    // Records with no date cannot be given a version: not applicable to each rule whose
    // scope (as the newest version writes it) does not already leave them out.
    for (d, undated_records) in undated {
        for id in &order {
            let Some(rule) = pack
                .versions
                .iter()
                .rev()
                .find_map(|v| v.rules.iter().find(|r| &r.id == id && r.dataset == d))
            else {
                continue;
            };
            let count = undated_records
                .iter()
                .filter(|&&i| !out_of_scope(world, rule, i))
                .count() as u64;
            if let (true, Some(s)) = (count > 0, pack_summaries.get_mut(id)) {
                s.not_applicable += count;
                *s.reasons.entry("no date of service".into()).or_default() += count;
            }
        }
    }
    // Rule ids in catalogue order, whatever version introduced them.
    order.sort();
    order
        .iter()
        .filter_map(|id| pack_summaries.remove(id))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::bundle::Bundle;
    use crate::eval::world::PackData;
    use crate::generate::{GenOptions, generate};
    use crate::policy::load::load_packs;

    /// Script work must grow like the bundle, not faster (a regression guard for the
    /// performance issue that does not depend on timing): at most one native and one Rhai
    /// evaluation per rule and record, evaluations that grow with the records between two sizes,
    /// and Rhai left only the records native code cannot answer (failures, mostly).
    #[test]
    fn script_evaluations_grow_linearly_with_the_bundle() {
        let packs = load_packs(&[]).unwrap();
        let mut per_record = Vec::new();
        for exams in [1_000, 4_000] {
            let dir = tempfile::tempdir().unwrap();
            let opts = GenOptions {
                exams,
                seed: 3,
                ..GenOptions::default()
            };
            generate(&opts, dir.path()).unwrap();
            let world = Arc::new(World::new(
                Bundle::load(dir.path()).unwrap(),
                PackData::of(&packs),
            ));
            let eval = evaluate(&world, &packs).unwrap();
            let bound: u64 = packs
                .iter()
                .flat_map(|p| p.versions.iter())
                .flat_map(|v| v.rules.iter())
                .filter(|r| matches!(r.check, Check::Expr { .. } | Check::Script { .. }))
                .map(|r| world.bundle.table(r.dataset).len() as u64)
                .sum();
            let (native, rhai) = (eval.native_calls, eval.script_calls);
            assert!(native > 0 && rhai > 0, "{native} native, {rhai} Rhai");
            assert!(
                native <= bound && rhai <= bound,
                "{native}, {rhai} > {bound}"
            );
            // The shipped packs' expressions and hot scripts run natively: Rhai sees a small
            // share (records that fail, or are not applicable, where Rhai words the outcome).
            assert!(rhai * 5 < native, "{rhai} Rhai evaluations of {native}");
            per_record.push(((native + rhai) as f64, world.bundle.record_count() as f64));
        }
        // Four times the exams: evaluations grow like the records (a quadratic change, such as
        // a script evaluated per session per exam, would grow them about sixteen times).
        let growth = (per_record[1].0 / per_record[0].0) / (per_record[1].1 / per_record[0].1);
        assert!(
            (0.6..1.6).contains(&growth),
            "script evaluations grew {growth:.2} times faster than the records: {per_record:?}"
        );
    }
}
