//! Metrics declared in packs with `[[metric]]`: each counted, shared, measured or summed over
//! the records in its scope that its pack version governs, grouped overall and by the keys it
//! asks for (docs/outputs.md, "Metrics"; docs/policy-format.md, `[[metric]]`).
//!
//! One walk per dataset feeds every metric that reads it: a record's date and facility are
//! found once, then each metric adds the record to its own group (and to one group per extra
//! key the record has a value for); the groups of every shape come from [`roll_up`].

use std::collections::BTreeSet;

use rustc_hash::FxHashMap as HashMap;

use chrono::NaiveDate;

use crate::bundle::schema::Dataset;
use crate::bundle::time::local_date;
use crate::bundle::value::Value;
use crate::eval::condition;
use crate::eval::metrics::{
    Emit, Group, Merge, MetricSource, Month, month_of, parameter_json, roll_up, sort_values,
};
use crate::eval::model::Metric;
use crate::eval::world::{World, seconds_between};
use crate::policy::fields::FieldRef;
use crate::policy::model::{
    Condition, DeclaredMetric, Measure, MetricKind, MetricScope, Pack, PackVersion,
};

#[derive(Debug, Default)]
struct Acc {
    /// Records in scope (a share's denominator; with `per`, the numerator).
    records: u64,
    /// Records counted (`counts`).
    counted: u64,
    values: Vec<f64>,
    /// A ratio's sums (integer fields, so the order of adding cannot change them).
    num: i128,
    den: i128,
}

impl Merge for Acc {
    fn merge(&mut self, other: &Self) {
        self.records += other.records;
        self.counted += other.counted;
        self.values.extend_from_slice(&other.values);
        self.num += other.num;
        self.den += other.den;
    }
}

/// What one record adds to each group it belongs to.
#[derive(Debug, Clone, Copy, Default)]
struct Contribution {
    counted: bool,
    value: Option<f64>,
    ratio: Option<(i64, i64)>,
}

impl Acc {
    fn add(&mut self, c: Contribution) {
        self.records += 1;
        self.counted += u64::from(c.counted);
        if let Some(v) = c.value {
            self.values.push(v);
        }
        if let Some((n, d)) = c.ratio {
            self.num += i128::from(n);
            self.den += i128::from(d);
        }
    }
}

/// One declared metric of one pack version, with its groups as the walks fill them.
struct Plan<'a> {
    metric: &'a DeclaredMetric,
    version: &'a PackVersion,
    timeless: bool,
    own: HashMap<Group<'a>, Acc>,
    /// Denominator records of a rate with `per`.
    per: HashMap<Group<'a>, Acc>,
}

/// Every declared metric of every pack version that runs.
pub fn compute<'a>(world: &'a World, packs: &'a [Pack], out: &mut Vec<Metric>) {
    let mut plans: Vec<Plan<'a>> = Vec::new();
    for pack in packs {
        for version in &pack.versions {
            for metric in &version.declared_metrics {
                plans.push(Plan {
                    metric,
                    version,
                    timeless: pack.is_timeless(),
                    own: HashMap::default(),
                    per: HashMap::default(),
                });
            }
        }
    }
    for d in Dataset::ALL {
        walk(world, d, &mut plans);
    }
    for plan in plans {
        plan.emit(out);
    }
}

fn per_dataset(metric: &DeclaredMetric) -> Option<Dataset> {
    match &metric.kind {
        MetricKind::Share { per: Some(p), .. } => Some(p.dataset),
        _ => None,
    }
}

/// One pass over the records of `d` for every plan that reads them.
fn walk<'a>(world: &'a World, d: Dataset, plans: &mut [Plan<'a>]) {
    let main: Vec<usize> = (0..plans.len())
        .filter(|&i| plans[i].metric.dataset == d)
        .collect();
    let per: Vec<usize> = (0..plans.len())
        .filter(|&i| per_dataset(plans[i].metric) == Some(d))
        .collect();
    if main.is_empty() && per.is_empty() {
        return;
    }
    // The month of a `month_of` field, found once per record for every plan naming it.
    let mut months: Vec<(FieldRef, Option<Month>)> = Vec::new();
    for idx in 0..world.bundle.table(d).len() as u32 {
        let at = Record {
            world,
            d,
            idx,
            date: world.record_date(d, idx),
            facility: world.facility_id(d, idx),
        };
        months.clear();
        for &i in &main {
            plans[i].add(&at, &mut months);
        }
        for &i in &per {
            plans[i].add_per(&at);
        }
    }
}

/// A record being walked, with what every plan reads of it.
struct Record<'a> {
    world: &'a World,
    d: Dataset,
    idx: u32,
    date: Option<NaiveDate>,
    facility: Option<&'a str>,
}

impl<'a> Record<'a> {
    fn holds(&self, conditions: &[Condition]) -> bool {
        conditions
            .iter()
            .all(|c| condition::holds_at(self.world, self.d, self.idx, c) == Some(true))
    }

    fn in_scope(&self, scope: &MetricScope) -> bool {
        self.holds(&scope.all) && (scope.any.is_empty() || scope.any.iter().any(|a| self.holds(a)))
    }

    /// The local month of a date or time field (a time in the record's facility's zone).
    fn month_of(&self, field: FieldRef) -> Option<Month> {
        match &*self.world.value(self.d, self.idx, field) {
            Value::Date(date) => Some(month_of(*date)),
            v => {
                let t = v.instant()?;
                Some(month_of(local_date(
                    t,
                    self.world.facility_zone(self.facility),
                )))
            }
        }
    }

    fn number(&self, field: FieldRef) -> Option<f64> {
        self.world.value(self.d, self.idx, field).as_float()
    }

    fn int(&self, field: FieldRef) -> Option<i64> {
        self.world.value(self.d, self.idx, field).as_int()
    }

    fn seconds(&self, from: FieldRef, to: FieldRef) -> Option<f64> {
        let from = self.world.value(self.d, self.idx, from).instant()?;
        let to = self.world.value(self.d, self.idx, to).instant()?;
        Some(seconds_between(from, to))
    }
}

impl<'a> Plan<'a> {
    /// The version governs the records of its dates (a timeless version, every record).
    fn covers(&self, date: Option<NaiveDate>) -> bool {
        self.timeless || date.is_some_and(|day| self.version.covers(day))
    }

    fn group(&self, at: &Record<'a>, month: Option<Month>) -> Group<'a> {
        let m = self.metric;
        Group::new(
            at.facility.filter(|_| m.by_facility),
            month.filter(|_| m.by_month),
        )
    }

    fn add(&mut self, at: &Record<'a>, months: &mut Vec<(FieldRef, Option<Month>)>) {
        let m = self.metric;
        if !self.covers(at.date) || !at.in_scope(&m.when) {
            return;
        }
        let month = match &m.month_of {
            _ if !m.by_month => None,
            None => at.date.map(month_of),
            Some((_, field)) => match months.iter().find(|(f, _)| f == field) {
                Some((_, month)) => *month,
                None => {
                    let month = at.month_of(*field);
                    months.push((*field, month));
                    month
                }
            },
        };
        let c = match &m.kind {
            MetricKind::Count { counts: None } | MetricKind::Share { counts: None, .. } => {
                Contribution::default()
            }
            MetricKind::Count {
                counts: Some(counts),
            }
            | MetricKind::Share {
                counts: Some(counts),
                ..
            } => Contribution {
                counted: at.in_scope(counts),
                ..Contribution::default()
            },
            MetricKind::Quantile { measure, .. } => Contribution {
                value: match measure {
                    Measure::Field((_, f)) => at.number(*f),
                    Measure::Duration { from, to } => at.seconds(from.1, to.1),
                },
                ..Contribution::default()
            },
            MetricKind::Ratio {
                numerator,
                denominator,
                cap,
            } => Contribution {
                ratio: at
                    .int(numerator.1)
                    .zip(at.int(denominator.1))
                    .map(|(n, d)| (if *cap { n.min(d) } else { n }, d)),
                ..Contribution::default()
            },
        };
        let group = self.group(at, month);
        self.own.entry(group).or_default().add(c);
        for v in &m.variants {
            if let Some(value) = at.world.raw_str(at.d, at.idx, v.field) {
                self.own
                    .entry(group.with(&v.key, value))
                    .or_default()
                    .add(c);
            }
        }
    }

    fn add_per(&mut self, at: &Record<'a>) {
        let MetricKind::Share { per: Some(per), .. } = &self.metric.kind else {
            return;
        };
        if !self.covers(at.date) || !at.in_scope(&per.when) {
            return;
        }
        let group = self.group(at, at.date.map(month_of));
        self.per.entry(group).or_default().records += 1;
        for (v, field) in self.metric.variants.iter().zip(&per.variants) {
            if let Some(value) = field.and_then(|f| at.world.raw_str(at.d, at.idx, f)) {
                self.per
                    .entry(group.with(&v.key, value))
                    .or_default()
                    .records += 1;
            }
        }
    }

    fn emit(self, out: &mut Vec<Metric>) {
        let m = self.metric;
        let source = MetricSource {
            policy: self.version.pack_id.clone(),
            policy_version: self.version.version.clone(),
            parameters: m
                .parameters
                .iter()
                .map(|(k, v)| (k.clone(), parameter_json(v)))
                .collect(),
        };
        let mut emit = Emit::new(out, &source);
        let id = m.id.as_str();
        let own = roll_up(self.own);
        if let MetricKind::Share {
            per: Some(per),
            scale,
            ..
        } = &m.kind
        {
            let den = roll_up(self.per);
            let num = |g: &Group<'_>| own.get(g).map_or(0, |a| a.records) as f64;
            for (group, d) in &den {
                emit.rate(id, group, num(group), d.records as f64, *scale);
            }
            // A key the denominator's records lack: each value over the group without it.
            for (v, field) in m.variants.iter().zip(&per.variants) {
                if field.is_some() {
                    continue;
                }
                let values: BTreeSet<&str> = match v.values {
                    Some(values) => values.iter().copied().collect(),
                    None => own
                        .keys()
                        .filter_map(|g| g.extra.filter(|(k, _)| *k == v.key).map(|(_, x)| x))
                        .collect(),
                };
                for (group, d) in den.iter().filter(|(g, _)| g.extra.is_none()) {
                    for value in &values {
                        let g = group.with(&v.key, value);
                        emit.rate(id, &g, num(&g), d.records as f64, *scale);
                    }
                }
            }
            return;
        }
        for (group, mut acc) in own {
            match &m.kind {
                MetricKind::Count { counts: None } => emit.count(id, &group, acc.records),
                MetricKind::Count { counts: Some(_) } => emit.count(id, &group, acc.counted),
                MetricKind::Share { scale, .. } => {
                    emit.rate(id, &group, acc.counted as f64, acc.records as f64, *scale);
                }
                MetricKind::Quantile { p, .. } => {
                    sort_values(&mut acc.values);
                    emit.quantile(id, &group, &acc.values, *p);
                }
                MetricKind::Ratio { .. } => {
                    emit.rate(id, &group, acc.num as f64, acc.den as f64, 1.0);
                }
            }
        }
    }
}
