//! The export-integrity checks (DQ-001..DQ-007): the reader's contract, computed in Rust.
//!
//! Every check is a pass over the typed tables. Passes run record-parallel (rayon) but keep
//! walk order: observations come rule by rule, then dataset by dataset (schema order), then
//! record by record (DQ-007: file by file), so reruns give identical output.

mod fields;
mod keys;
mod period;
mod times;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use rayon::prelude::*;
use serde_json::{Map, Value as Json};

use crate::bundle::schema::Dataset;
use crate::bundle::{Bundle, Record, ZoneLookup};
use crate::eval::world::World;
use crate::policy::fields::Join;
use crate::policy::model::builtin;

/// One data-quality observation; the engine turns it into a finding of the export-integrity pack.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// `DQ-001` .. `DQ-007`.
    pub rule: &'static str,
    pub dataset: Dataset,
    /// Index of the record in its table, or `None` for DQ-007 (a line, not a record).
    pub record: Option<usize>,
    /// Index into `Bundle::files`.
    pub file: u32,
    pub line: u32,
    /// `subject.key`: the record's key, or `file:line` for records without one and for DQ-007.
    pub key: String,
    pub message: String,
    pub evidence: serde_json::Map<String, serde_json::Value>,
}

/// Observations in walk order, and how many records (or files, for DQ-007) each rule looked at.
#[derive(Debug, Default, PartialEq)]
pub struct QualityReport {
    pub observations: Vec<Observation>,
    /// `rule -> evaluated` (records the rule applied to, passed + failed).
    pub evaluated: std::collections::BTreeMap<&'static str, u64>,
}

/// Runs DQ-001..DQ-007 over a loaded bundle.
pub fn data_quality(bundle: &Bundle) -> QualityReport {
    run(bundle, Keys::Own(Keys::index(bundle)))
}

/// [`data_quality`] over the bundle of a world, with the world's key indexes and links (built
/// once for the rules) rather than its own: the same report.
pub fn data_quality_of(world: &World) -> QualityReport {
    run(&world.bundle, Keys::World(world))
}

fn run<'a>(bundle: &'a Bundle, keys: Keys<'a>) -> QualityReport {
    let zones = ZoneLookup::with_exams(bundle);
    let ctx = Ctx {
        bundle,
        keys: &keys,
        zones: &zones,
    };
    let mut report = QualityReport {
        observations: Vec::new(),
        evaluated: BTreeMap::new(),
    };
    let passes: [(&'static str, Pass); 6] = [
        (builtin::FIELD_VALUES, fields::check),
        (builtin::UNIQUE_KEYS, keys::check_repeats),
        (builtin::REFERENCES, keys::check_references),
        (builtin::TIME_ORDER, times::check_order),
        (builtin::LOCAL_TIMES, times::check_dst),
        (builtin::PERIOD, period::check),
    ];
    for (rule, pass) in passes {
        let mut evaluated = 0;
        for dataset in Dataset::ALL {
            let (n, found) = pass(&ctx, dataset);
            evaluated += n;
            report.observations.extend(found);
        }
        report.evaluated.insert(rule, evaluated);
    }
    let (files, unreadable) = unreadable_input(bundle);
    report.evaluated.insert(builtin::READABLE_LINES, files);
    report.observations.extend(unreadable);
    report
}

/// One rule over one dataset: (records evaluated, observations in record order).
type Pass = fn(&Ctx<'_>, Dataset) -> (u64, Vec<Observation>);

/// What every pass may look at; built once per run.
struct Ctx<'a> {
    bundle: &'a Bundle,
    keys: &'a Keys<'a>,
    zones: &'a ZoneLookup<'a>,
}

impl Ctx<'_> {
    fn table(&self, dataset: Dataset) -> &[Record] {
        self.bundle.table(dataset)
    }

    /// `subject.key`: the record's key field when present, else `file:line`.
    fn subject_key(&self, dataset: Dataset, record: &Record) -> String {
        match key_column(dataset).and_then(|c| record.str(c)) {
            Some(key) => key.to_string(),
            None => self.location(record),
        }
    }

    fn location(&self, record: &Record) -> String {
        format!("{}:{}", self.bundle.file_path(record.file), record.line)
    }

    /// An observation on record `index` of `dataset`; `detail` follows the subject in the message
    /// and starts with its own separator (`: ...` or ` field `x`: ...`).
    fn observe(
        &self,
        rule: &'static str,
        dataset: Dataset,
        index: usize,
        record: &Record,
        detail: std::fmt::Arguments<'_>,
        evidence: Map<String, Json>,
    ) -> Observation {
        let key = self.subject_key(dataset, record);
        Observation {
            rule,
            dataset,
            record: Some(index),
            file: record.file,
            line: record.line,
            message: format!("{dataset} `{key}`{detail}"),
            key,
            evidence,
        }
    }
}

/// Position of the dataset's key field (`coverage_id` included), if it has one.
fn key_column(dataset: Dataset) -> Option<usize> {
    dataset.key_field().and_then(|k| dataset.field_index(k))
}

/// The first record (walk order) carrying each key, for the datasets whose keys must be unique:
/// indexed here, or the world's.
enum Keys<'a> {
    Own(Vec<HashMap<&'a str, usize>>),
    World(&'a World),
}

impl<'a> Keys<'a> {
    fn index(bundle: &'a Bundle) -> Vec<HashMap<&'a str, usize>> {
        Dataset::ALL
            .par_iter()
            .map(|&dataset| {
                let column = key_column(dataset).filter(|_| dataset.key_must_be_unique());
                let Some(column) = column else {
                    return HashMap::default();
                };
                let table = bundle.table(dataset);
                let mut map = HashMap::with_capacity_and_hasher(table.len(), Default::default());
                for (index, record) in table.iter().enumerate() {
                    if let Some(key) = record.str(column) {
                        map.entry(key).or_insert(index);
                    }
                }
                map
            })
            .collect()
    }

    /// Index of the first record of `dataset` whose key is `key`.
    fn first(&self, dataset: Dataset, key: &str) -> Option<usize> {
        match self {
            Keys::Own(first) => first.get(dataset.index())?.get(key).copied(),
            Keys::World(world) => dataset
                .key_must_be_unique()
                .then(|| world.lookup(dataset, key))
                .flatten()
                .map(|i| i as usize),
        }
    }

    /// Whether the record `index` of `dataset` names a record of `target` in `column`, which
    /// holds `key`: through the world's link when there is one for the column.
    fn names(
        &self,
        dataset: Dataset,
        index: usize,
        column: usize,
        target: Dataset,
        key: &str,
    ) -> bool {
        if let Keys::World(world) = self
            && let Some((join, _)) = Join::available(dataset)
                .iter()
                .find(|(j, field)| *field == Some(column) && j.target() == target)
            && let Ok(index) = u32::try_from(index)
        {
            return world.join(dataset, index, *join).is_some();
        }
        self.first(target, key).is_some()
    }
}

/// Runs `check` on every record of `table` in parallel. `check` pushes its observations and
/// says whether the record was evaluated; the result keeps record order.
fn scan<F>(table: &[Record], check: F) -> (u64, Vec<Observation>)
where
    F: Fn(usize, &Record, &mut Vec<Observation>) -> bool + Sync + Send,
{
    table
        .par_iter()
        .enumerate()
        .with_min_len(4096)
        .fold(
            || (0u64, Vec::new()),
            |(mut n, mut out), (index, record)| {
                if check(index, record, &mut out) {
                    n += 1;
                }
                (n, out)
            },
        )
        .reduce(
            || (0, Vec::new()),
            |(a, mut left), (b, right)| {
                left.extend(right);
                (a + b, left)
            },
        )
}

/// Builds a JSON object from key/value pairs.
fn evidence<const N: usize>(pairs: [(&str, Json); N]) -> Map<String, Json> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// DQ-007: one observation per unreadable line or damaged file; evaluated = files.
fn unreadable_input(bundle: &Bundle) -> (u64, Vec<Observation>) {
    let mut out = Vec::new();
    for (index, file) in bundle.files.iter().enumerate() {
        let file_index = u32::try_from(index).unwrap_or(u32::MAX);
        for problem in &file.problems {
            out.push(Observation {
                rule: builtin::READABLE_LINES,
                dataset: file.dataset,
                record: None,
                file: file_index,
                line: problem.line,
                key: format!("{}:{}", file.path, problem.line),
                message: problem.message.clone(),
                evidence: evidence([
                    ("file", Json::from(file.path.as_str())),
                    ("line", Json::from(problem.line)),
                ]),
            });
        }
    }
    (bundle.files.len() as u64, out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
