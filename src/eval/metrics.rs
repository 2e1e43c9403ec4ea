//! Report KPIs (docs/outputs.md, "Metrics"): one pass per dataset, values accumulated per group
//! in hash maps, then emitted in a fixed order.
//!
//! Every metric is emitted for the group shapes `{}`, `{facility_id}`, `{month}` and
//! `{facility_id, month}`. A record contributes to the shapes whose keys it has: a record
//! without a facility or a month still counts in the shapes that do not need the missing key
//! (so the overall group always holds every record).

mod declared;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use chrono::{Datelike, NaiveDate};

use crate::eval::model::Metric;
use crate::eval::world::World;
use crate::policy::model::Pack;

/// The pack version a metric belongs to, and the parameters it used as findings.json shows them.
#[derive(Debug, Clone, Default, PartialEq)]
struct MetricSource {
    policy: String,
    policy_version: String,
    parameters: BTreeMap<String, serde_json::Value>,
}

/// A parameter value as findings.json shows it.
fn parameter_json(v: &toml::Value) -> serde_json::Value {
    match v {
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        toml::Value::String(s) => s.as_str().into(),
        toml::Value::Array(items) => items.iter().map(parameter_json).collect(),
        other => other.to_string().into(),
    }
}

/// Every metric the packs declare (`[[metric]]`), sorted by id, then by group (as its sorted
/// list of `(key, value)` pairs, so the overall group `{}` comes first).
pub fn compute_all(world: &World, packs: &[Pack]) -> Vec<Metric> {
    let mut out = Vec::new();
    declared::compute(world, packs, &mut out);
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

/// A metric group: the four shapes, plus one optional extra key (a `groups` field such as
/// `contrast_class`). Borrows its texts from the world's records and the packs, so building one
/// allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Group<'a> {
    facility: Option<&'a str>,
    month: Option<Month>,
    extra: Option<(&'a str, &'a str)>,
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

    fn with(self, key: &'a str, value: &'a str) -> Group<'a> {
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
}

impl<'o> Emit<'o> {
    fn new(out: &'o mut Vec<Metric>, source: &'o MetricSource) -> Emit<'o> {
        Emit { out, source }
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
            parameters: self.source.parameters.clone(),
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
