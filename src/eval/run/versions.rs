//! Versions by date of service: each record gets the pack version in effect on its date, and
//! the rules of a version judge their records in one parallel pass per dataset.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use rhai::Dynamic;

use super::judge::{Prepared, judge};
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

/// Gives each record the pack version in effect on its date, then judges it by that
/// version's rules (builtins aside).
pub(super) fn judge_pack(world: &Arc<World>, pack: &Pack) -> Result<JudgedPack, EvalError> {
    // Which version judges each record, per dataset the pack's rules read.
    let datasets: Vec<Dataset> = {
        let mut ds: Vec<Dataset> = pack
            .versions
            .iter()
            .flat_map(|v| v.rules.iter().map(|r| r.dataset))
            .collect();
        ds.sort();
        ds.dedup();
        ds
    };
    // Per dataset: the records each version judges (by index of the version).
    let mut assignment: HashMap<Dataset, Vec<Vec<u32>>> = HashMap::new();
    let mut undated: HashMap<Dataset, Vec<u32>> = HashMap::new();
    for &d in &datasets {
        let n = world.bundle.table(d).len() as u32;
        let mut by_version: Vec<Vec<u32>> = vec![Vec::new(); pack.versions.len()];
        if pack.is_timeless() {
            if let Some(all) = by_version.first_mut() {
                *all = (0..n).collect();
            }
        } else {
            let versions: Vec<Option<u32>> = (0..n)
                .into_par_iter()
                .with_min_len(1024)
                .map(|i| {
                    world.record_date(d, i).map(|date| {
                        pack.versions
                            .iter()
                            .position(|v| v.covers(date))
                            .map_or(u32::MAX, |v| u32::try_from(v).unwrap_or(u32::MAX))
                    })
                })
                .collect();
            let mut no_date = Vec::new();
            for (i, v) in versions.into_iter().enumerate() {
                match v {
                    None => no_date.push(i as u32),
                    Some(v) => {
                        if let Some(list) = by_version.get_mut(v as usize) {
                            list.push(i as u32);
                        }
                    }
                }
            }
            undated.insert(d, no_date);
        }
        assignment.insert(d, by_version);
    }
    let mut tallies = Vec::with_capacity(pack.versions.len());
    for (vi, version) in pack.versions.iter().enumerate() {
        let params = params_dynamic(version);
        tallies.push(judge_version(world, version, vi, &params, &assignment)?);
    }
    Ok(JudgedPack { undated, tallies })
}

/// Judges the records `version` is in effect for by each of its rules (builtins aside): one
/// parallel pass per dataset that runs every rule of the dataset on a record while it is at
/// hand, rather than one pass over the table per rule. One tally per rule, by rule index.
fn judge_version(
    world: &Arc<World>,
    version: &PackVersion,
    vi: usize,
    params: &Dynamic,
    assignment: &HashMap<Dataset, Vec<Vec<u32>>>,
) -> Result<Vec<Tally>, EvalError> {
    let mut tallies: Vec<Tally> = version.rules.iter().map(|_| Tally::default()).collect();
    let mut failed = None;
    for (&dataset, by_version) in assignment {
        let rules: Vec<(usize, &Rule, Prepared)> = version
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.dataset == dataset && !matches!(r.check, Check::Builtin(_)))
            .map(|(i, r)| (i, r, Prepared::new(r, version, params)))
            .collect();
        if rules.is_empty() {
            continue;
        }
        let records = by_version.get(vi).map(Vec::as_slice).unwrap_or(&[]);
        let fresh = || -> Vec<Tally> { rules.iter().map(|_| Tally::default()).collect() };
        // Tallied in parallel, in record order: only failures keep anything per record.
        let result = records
            .par_iter()
            .with_min_len(256)
            .try_fold(fresh, |mut ts, &i| {
                for ((_, rule, prepared), t) in rules.iter().zip(ts.iter_mut()) {
                    let judgement = judge(world, rule, version, prepared, i, &mut t.counts)?;
                    t.add(i, judgement);
                }
                Ok(ts)
            })
            .try_reduce(fresh, |a, b| {
                Ok(a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect())
            });
        match result {
            Ok(ts) => {
                for ((ri, ..), t) in rules.iter().zip(ts) {
                    if let Some(slot) = tallies.get_mut(*ri) {
                        *slot = t;
                    }
                }
            }
            Err(e) => failed = Some(e),
        }
    }
    match failed {
        None => Ok(tallies),
        // The same error on every run: the first rule (in file order) that fails, at its first
        // failing record in walk order.
        Some(e) => Err(version
            .rules
            .iter()
            .filter(|r| !matches!(r.check, Check::Builtin(_)))
            .find_map(|rule| {
                let records = assignment
                    .get(&rule.dataset)
                    .and_then(|v| v.get(vi))
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                first_error(
                    world,
                    rule,
                    version,
                    &Prepared::new(rule, version, params),
                    records,
                )
            })
            .unwrap_or(e)),
    }
}

/// After a parallel run failed, the error of the first failing record in walk order, so the
/// message names the same record on every run.
fn first_error(
    world: &Arc<World>,
    rule: &Rule,
    version: &PackVersion,
    prepared: &Prepared,
    records: &[u32],
) -> Option<EvalError> {
    records
        .iter()
        .find_map(|&i| judge(world, rule, version, prepared, i, &mut Counts::default()).err())
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
