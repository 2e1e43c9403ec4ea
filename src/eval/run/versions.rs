//! Versions by date of service: each record gets the pack version in effect on its date, and
//! the rules of a version judge their records in one parallel pass per dataset.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use rhai::Dynamic;

use super::judge::{Answers, Prepared, Spent, judge, number_conditions};
use super::{Counts, EvalError, Tally};
use crate::bundle::schema::Dataset;
use crate::eval::script::sandbox;
use crate::eval::world::World;
use crate::policy::model::*;

/// What the rules of one pack found: per version, one tally per rule; and per dataset, the
/// records no version could be chosen for (no date).
pub(super) struct JudgedPack {
    pub(super) undated: HashMap<Dataset, Vec<u32>>,
    pub(super) tallies: Vec<Vec<Tally>>,
}

/// Which version of a pack judges each record of a dataset: per record, the version's index,
/// [`NO_VERSION`] when no version is in effect on its date, or [`UNDATED`] when it has no date.
type Assignment = Vec<u32>;
const NO_VERSION: u32 = u32::MAX;
const UNDATED: u32 = u32::MAX - 1;

/// Gives each record the version of each pack in effect on its date, then judges it by those
/// versions' rules (builtins aside): one parallel pass per dataset for all packs together, so
/// that a record is read once while at hand and the scope conditions the rules share (of every
/// pack: `status = "completed"` above all) are decided once per record.
pub(super) fn judge_packs(
    world: &Arc<World>,
    packs: &[Pack],
) -> Result<Vec<JudgedPack>, EvalError> {
    let mut judged: Vec<JudgedPack> = packs
        .iter()
        .map(|pack| JudgedPack {
            undated: HashMap::new(),
            tallies: pack
                .versions
                .iter()
                .map(|v| v.rules.iter().map(|_| Tally::default()).collect())
                .collect(),
        })
        .collect();
    let params: Vec<Vec<Dynamic>> = packs
        .iter()
        .map(|p| p.versions.iter().map(|v| params_dynamic(v)).collect())
        .collect();
    let mut failed = None;
    for dataset in Dataset::ALL {
        // Every rule on the dataset: (pack, version, rule index, rule, how its check runs).
        let mut rules: Vec<(usize, usize, usize, &Rule, Prepared)> = Vec::new();
        for (pi, pack) in packs.iter().enumerate() {
            for (vi, version) in pack.versions.iter().enumerate() {
                for (ri, rule) in version.rules.iter().enumerate() {
                    if rule.dataset == dataset && !matches!(rule.check, Check::Builtin(_)) {
                        let prepared = Prepared::new(rule, version, &params[pi][vi]);
                        rules.push((pi, vi, ri, rule, prepared));
                    }
                }
            }
        }
        // Each pack with a rule on the dataset (builtins included): which of its versions
        // judges each record, and the records without a date.
        let assignments: Vec<Option<Assignment>> = packs
            .iter()
            .map(|pack| {
                let reads = pack
                    .versions
                    .iter()
                    .any(|v| v.rules.iter().any(|r| r.dataset == dataset));
                reads.then(|| assign(world, pack, dataset))
            })
            .collect();
        for ((pack, assignment), j) in packs.iter().zip(&assignments).zip(judged.iter_mut()) {
            if let Some(assignment) = assignment
                && !pack.is_timeless()
            {
                let undated = (0..assignment.len() as u32)
                    .filter(|&i| assignment.get(i as usize) == Some(&UNDATED))
                    .collect();
                j.undated.insert(dataset, undated);
            }
        }
        if rules.is_empty() {
            continue;
        }
        let (ids, conditions) = number_conditions(rules.iter().map(|r| r.3));
        for (rule, ids) in rules.iter_mut().zip(ids) {
            rule.4.when_ids = ids;
        }
        let n = world.bundle.table(dataset).len() as u32;
        let fresh = || -> Vec<Tally> { rules.iter().map(|_| Tally::default()).collect() };
        // Tallied in parallel, in record order: only failures keep anything per record.
        let result = (0..n)
            .into_par_iter()
            .with_min_len(256)
            .try_fold(
                || (fresh(), Answers::new(conditions)),
                |(mut ts, mut answers), i| {
                    answers.next_record();
                    for ((pi, vi, _, rule, prepared), t) in rules.iter().zip(ts.iter_mut()) {
                        let judged_by = assignments
                            .get(*pi)
                            .and_then(Option::as_ref)
                            .and_then(|a| a.get(i as usize));
                        if judged_by != Some(&(*vi as u32)) {
                            continue;
                        }
                        let version = &packs[*pi].versions[*vi];
                        let judgement = judge(
                            world,
                            rule,
                            version,
                            prepared,
                            i,
                            &mut t.counts,
                            &mut answers,
                            &mut Spent::World,
                        )?;
                        t.add(i, judgement);
                    }
                    Ok((ts, answers))
                },
            )
            .map(|folded| folded.map(|(ts, _)| ts))
            .try_reduce(fresh, |a, b| {
                Ok(a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect())
            });
        match result {
            Ok(ts) => {
                for ((pi, vi, ri, ..), t) in rules.iter().zip(ts) {
                    if let Some(slot) = judged
                        .get_mut(*pi)
                        .and_then(|j| j.tallies.get_mut(*vi))
                        .and_then(|v| v.get_mut(*ri))
                    {
                        *slot = t;
                    }
                }
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    crate::progress::add(&crate::progress::PACKS_JUDGED, packs.len() as u64);
    match failed {
        None => Ok(judged),
        Some(e) => Err(first_failure(world, packs, &params).unwrap_or(e)),
    }
}

/// The version of `pack` that judges each record of `dataset`.
fn assign(world: &World, pack: &Pack, dataset: Dataset) -> Assignment {
    let n = world.bundle.table(dataset).len() as u32;
    if pack.is_timeless() {
        return vec![0; n as usize];
    }
    (0..n)
        .into_par_iter()
        .with_min_len(1024)
        .map(|i| match world.record_date(dataset, i) {
            None => UNDATED,
            Some(date) => pack
                .versions
                .iter()
                .position(|v| v.covers(date))
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(NO_VERSION),
        })
        .collect()
}

/// After a parallel run failed, the error every run gives, on any number of threads: the one
/// judging the packs one after another meets first. Packs, versions and rules (in file order)
/// judge their records in walk order, their Rhai operations counted on the replay's own account
/// (the run's is spent): the first failing evaluation's error, or the budget's when the
/// operations so far pass it first.
fn first_failure(world: &Arc<World>, packs: &[Pack], params: &[Vec<Dynamic>]) -> Option<EvalError> {
    let mut spent = Spent::Replay(0);
    let mut assignments: HashMap<(usize, Dataset), Assignment> = HashMap::new();
    for (pi, pack) in packs.iter().enumerate() {
        for (vi, version) in pack.versions.iter().enumerate() {
            for rule in version
                .rules
                .iter()
                .filter(|r| !matches!(r.check, Check::Builtin(_)))
            {
                let assignment = assignments
                    .entry((pi, rule.dataset))
                    .or_insert_with(|| assign(world, pack, rule.dataset));
                let records: Vec<u32> = (0..assignment.len() as u32)
                    .filter(|&i| assignment[i as usize] == vi as u32)
                    .collect();
                let prepared = Prepared::new(rule, version, &params[pi][vi]);
                if let Some(e) = first_error(world, rule, version, &prepared, &records, &mut spent)
                {
                    return Some(e);
                }
            }
        }
    }
    None
}

/// After a parallel run failed, the error of the first failing record in walk order, so the
/// message names the same record on every run.
fn first_error(
    world: &Arc<World>,
    rule: &Rule,
    version: &PackVersion,
    prepared: &Prepared,
    records: &[u32],
    spent: &mut Spent,
) -> Option<EvalError> {
    let mut answers = Answers::new(rule.when.len());
    records.iter().find_map(|&i| {
        answers.next_record();
        judge(
            world,
            rule,
            version,
            prepared,
            i,
            &mut Counts::default(),
            &mut answers,
            spent,
        )
        .err()
    })
}

fn params_dynamic(version: &PackVersion) -> Dynamic {
    Dynamic::from(
        version
            .parameters
            .iter()
            .map(|(k, v)| (k.as_str().into(), sandbox::toml_to_dynamic(v)))
            .collect::<rhai::Map>(),
    )
}
