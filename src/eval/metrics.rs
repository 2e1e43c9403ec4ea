//! Report KPIs (docs/outputs.md, "Metrics"): one pass per dataset, values accumulated per group
//! in hash maps, then emitted in a fixed order.
//!
//! Every metric is emitted for the group shapes `{}`, `{facility_id}`, `{month}` and
//! `{facility_id, month}`. A record contributes to the shapes whose keys it has: a record
//! without a facility or a month still counts in the shapes that do not need the missing key
//! (so the overall group always holds every record).

mod cancellations;
mod declared;
mod reactions;
mod sessions;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use chrono::{Datelike, NaiveDate};

use crate::bundle::schema::{Dataset, col};
use crate::eval::metrics::cancellations::Cancellations;
use crate::eval::metrics::reactions::Reactions;
use crate::eval::model::Metric;
use crate::eval::world::World;
use crate::policy::model::{FAMILY_PARAMETERS, Pack};

/// The pack version a metric family belongs to in this run, and the numeric parameters it
/// reads (`FAMILY_PARAMETERS`), as written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricSource {
    pub policy: String,
    pub policy_version: String,
    pub parameters: BTreeMap<String, toml::Value>,
}

impl MetricSource {
    /// A numeric parameter (the loader checked that it is one).
    fn number(&self, name: &str) -> Option<f64> {
        match self.parameters.get(name)? {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// A list of texts (the loader checked that it is one).
    fn texts(&self, name: &str) -> Vec<&str> {
        match self.parameters.get(name) {
            Some(toml::Value::Array(items)) => items.iter().filter_map(|i| i.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// A parameter as findings.json shows it.
    fn json(&self, name: &str) -> serde_json::Value {
        fn convert(v: &toml::Value) -> serde_json::Value {
            match v {
                toml::Value::Integer(i) => (*i).into(),
                toml::Value::Float(f) => serde_json::Number::from_f64(*f)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null),
                toml::Value::String(s) => s.as_str().into(),
                toml::Value::Array(items) => items.iter().map(convert).collect(),
                other => other.to_string().into(),
            }
        }
        self.parameters
            .get(name)
            .map_or(serde_json::Value::Null, convert)
    }
}

/// Which metric families to compute, each with the pack version it belongs to: a family is
/// computed when a pack that runs names it in `pack.metrics` (the newest version of the first
/// such pack owns it).
#[derive(Debug, Clone, Default)]
pub struct MetricFamilies {
    pub response: Option<MetricSource>,
    pub reactions: Option<MetricSource>,
    pub cancellations: Option<MetricSource>,
}

impl MetricFamilies {
    pub fn of(packs: &[Pack]) -> MetricFamilies {
        let source = |family: &str| {
            let version = packs.iter().find_map(|p| {
                p.versions
                    .iter()
                    .rev()
                    .find(|v| v.metrics.iter().any(|m| m == family))
            })?;
            let names = FAMILY_PARAMETERS
                .iter()
                .filter(|(f, _)| *f == family)
                .flat_map(|(_, names)| names.iter().map(|(n, _)| n));
            Some(MetricSource {
                policy: version.pack_id.clone(),
                policy_version: version.version.clone(),
                parameters: names
                    .filter_map(|n| Some((n.to_string(), version.parameters.get(*n)?.clone())))
                    .collect(),
            })
        };
        MetricFamilies {
            response: source("response"),
            reactions: source("reactions"),
            cancellations: source("cancellations"),
        }
    }
}

/// Every metric of the packs: the families they name and the metrics they declare
/// (`[[metric]]`), sorted by id, then by group.
pub fn compute_all(world: &World, packs: &[Pack]) -> Vec<Metric> {
    let mut out = compute(world, &MetricFamilies::of(packs));
    declared::compute(world, packs, &mut out);
    out.sort_by(compare);
    out
}

/// Every metric of the requested families, sorted by id, then by group (as its sorted list of
/// `(key, value)` pairs, so the overall group `{}` comes first).
pub fn compute(world: &World, families: &MetricFamilies) -> Vec<Metric> {
    let mut out = Vec::new();
    if let Some(source) = &families.response {
        sessions::compute(world, source, &mut out);
    }
    // One pass over exams feeds both families that need them.
    let mut reactions = families.reactions.as_ref().map(|_| Reactions::default());
    let mut cancellations = families.cancellations.as_ref().map(Cancellations::new);
    if reactions.is_some() || cancellations.is_some() {
        for (idx, exam) in world.bundle.table(Dataset::Exams).iter().enumerate() {
            let group = exam_group(world, idx);
            if let Some(r) = reactions.as_mut() {
                r.add_exam(exam, group);
            }
            if let Some(c) = cancellations.as_mut() {
                let dos = world.exam_facts.get(idx).and_then(|f| f.dos);
                c.add_exam(world, exam, dos, group);
            }
        }
    }
    if let (Some(r), Some(source)) = (reactions, &families.reactions) {
        r.finish(world, &mut Emit::new(&mut out, source));
    }
    if let (Some(c), Some(source)) = (cancellations, &families.cancellations) {
        c.emit(&mut Emit::new(&mut out, source));
    }
    out.sort_by(compare);
    out
}

fn compare(a: &Metric, b: &Metric) -> Ordering {
    a.id.cmp(&b.id)
        .then_with(|| a.group.iter().cmp(b.group.iter()))
}

/// The `p` quantile (0..=1) of ascending `sorted` values by linear interpolation between closest
/// ranks: `h = (n - 1) p`, between ranks floor(h) and floor(h) + 1 (numpy "linear", Excel
/// PERCENTILE.INC). `None` for no values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * p;
    let lo = (h.floor().max(0.0) as usize).min(last);
    let hi = (lo + 1).min(last);
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (h - lo as f64) * (b - a))
}

/// A calendar month, `(year, month)`.
type Month = (i32, u32);

fn month_of(date: NaiveDate) -> Month {
    (date.year(), date.month())
}

/// The own group of exam record `idx`: its raw `facility_id` and the month of its DOS.
fn exam_group(world: &World, idx: usize) -> Group<'_> {
    let facility = world
        .bundle
        .table(Dataset::Exams)
        .get(idx)
        .and_then(|e| e.str(col::exam::FACILITY_ID));
    let month = world.exam_facts.get(idx).and_then(|f| f.dos).map(month_of);
    Group::new(facility, month)
}

/// A metric group: the four shapes, plus one optional extra key (`contrast_class`, `severity`).
/// Borrows its texts from the world's records, so building one allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Group<'a> {
    facility: Option<&'a str>,
    month: Option<Month>,
    extra: Option<(&'static str, &'a str)>,
}

impl<'a> Group<'a> {
    /// The record's own group: its facility and month, as far as it has them.
    fn new(facility: Option<&'a str>, month: Option<Month>) -> Group<'a> {
        Group {
            facility,
            month,
            extra: None,
        }
    }

    /// The groups a record of this group contributes to: the overall group, and each other
    /// shape whose keys it has; the extra key is kept.
    fn shapes(self) -> impl Iterator<Item = Group<'a>> {
        let (facility, month) = (self.facility, self.month);
        let candidates = [
            (true, None, None),
            (facility.is_some(), facility, None),
            (month.is_some(), None, month),
            (facility.is_some() && month.is_some(), facility, month),
        ];
        candidates
            .into_iter()
            .filter_map(move |(wanted, facility, month)| {
                wanted.then_some(Group {
                    facility,
                    month,
                    ..self
                })
            })
    }

    fn with(self, key: &'static str, value: &'a str) -> Group<'a> {
        Group {
            extra: Some((key, value)),
            ..self
        }
    }

    fn render(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        if let Some(f) = self.facility {
            map.insert("facility_id".to_string(), f.to_string());
        }
        if let Some((year, month)) = self.month {
            map.insert("month".to_string(), format!("{year:04}-{month:02}"));
        }
        if let Some((key, value)) = self.extra {
            map.insert(key.to_string(), value.to_string());
        }
        map
    }
}

/// An accumulator of one group, that the accumulators of other groups add into.
trait Merge: Default {
    fn merge(&mut self, other: &Self);
}

impl Merge for u64 {
    fn merge(&mut self, other: &Self) {
        *self += other;
    }
}

/// Turns per-record-group accumulators into accumulators of every shape. Records are added to
/// their own group only (one hash update per record); this roll-up then touches each distinct
/// group once. Every sum is of integers, so the order of merging cannot change a value.
fn roll_up<'a, A: Merge>(own: HashMap<Group<'a>, A>) -> HashMap<Group<'a>, A> {
    let mut out: HashMap<Group<'a>, A> =
        HashMap::with_capacity_and_hasher(own.len() * 4, Default::default());
    for (group, acc) in &own {
        for shape in group.shapes() {
            out.entry(shape).or_default().merge(acc);
        }
    }
    out
}

/// Pushes metrics with the numerator/denominator conventions of docs/outputs.md ("Metrics"),
/// each naming its pack version and the parameters it used.
struct Emit<'o> {
    out: &'o mut Vec<Metric>,
    source: &'o MetricSource,
    /// The parameters the next metrics used (`{}` for most).
    parameters: BTreeMap<String, serde_json::Value>,
}

impl<'o> Emit<'o> {
    fn new(out: &'o mut Vec<Metric>, source: &'o MetricSource) -> Emit<'o> {
        Emit {
            out,
            source,
            parameters: BTreeMap::new(),
        }
    }

    /// The next metrics used the pack parameter `name`, shown under `key`.
    fn using(&mut self, key: &str, name: &str) -> &mut Self {
        self.parameters
            .insert(key.to_string(), self.source.json(name));
        self
    }

    /// The next metrics used no parameter.
    fn plain(&mut self) -> &mut Self {
        self.parameters.clear();
        self
    }

    fn push(
        &mut self,
        id: &str,
        group: &Group<'_>,
        value: f64,
        num: Option<f64>,
        den: Option<f64>,
    ) {
        self.out.push(Metric {
            id: id.to_string(),
            policy: self.source.policy.clone(),
            policy_version: self.source.policy_version.clone(),
            parameters: self.parameters.clone(),
            group: group.render(),
            value,
            numerator: num,
            denominator: den,
        });
    }

    /// A count: both numerator and denominator null.
    fn count(&mut self, id: &str, group: &Group<'_>, n: u64) {
        self.push(id, group, n as f64, None, None);
    }

    /// `num / den * scale`; not emitted when the denominator is empty.
    fn rate(&mut self, id: &str, group: &Group<'_>, num: f64, den: f64, scale: f64) {
        if den > 0.0 {
            self.push(id, group, num * scale / den, Some(num), Some(den));
        }
    }

    fn share(&mut self, id: &str, group: &Group<'_>, num: f64, den: f64) {
        self.rate(id, group, num, den, 1.0);
    }

    /// A quantile of ascending `sorted` values, with their number as the denominator; not
    /// emitted without values.
    fn quantile(&mut self, id: &str, group: &Group<'_>, sorted: &[f64], p: f64) {
        if let Some(v) = percentile(sorted, p) {
            self.push(id, group, v, None, Some(sorted.len() as f64));
        }
    }
}

fn sort_values(values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
}
