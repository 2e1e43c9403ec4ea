//! Metrics declared in packs with `[[metric]]`: each counted, shared or measured over the
//! records in its scope that its pack version governs, grouped overall and by the keys it asks
//! for, with the conventions of the shipped metrics (docs/outputs.md, "Metrics").

use rustc_hash::FxHashMap as HashMap;

use crate::bundle::schema::Dataset;
use crate::eval::condition;
use crate::eval::metrics::{Emit, Group, Merge, MetricSource, month_of, roll_up, sort_values};
use crate::eval::model::Metric;
use crate::eval::world::World;
use crate::policy::model::{Condition, DeclaredMetric, MetricKind, Pack, PackVersion};

#[derive(Debug, Default)]
struct Acc {
    records: u64,
    counted: u64,
    values: Vec<f64>,
}

impl Merge for Acc {
    fn merge(&mut self, other: &Self) {
        self.records += other.records;
        self.counted += other.counted;
        self.values.extend_from_slice(&other.values);
    }
}

/// Every declared metric of every pack version that runs.
pub fn compute(world: &World, packs: &[Pack], out: &mut Vec<Metric>) {
    for pack in packs {
        for version in &pack.versions {
            for metric in &version.declared_metrics {
                let timeless = pack.is_timeless();
                one(world, version, timeless, metric, out);
            }
        }
    }
}

fn holds_all(world: &World, d: Dataset, idx: u32, conditions: &[Condition]) -> bool {
    conditions
        .iter()
        .all(|c| condition::holds(&world.value(d, idx, c.field), &c.test) == Some(true))
}

fn one(
    world: &World,
    version: &PackVersion,
    timeless: bool,
    metric: &DeclaredMetric,
    out: &mut Vec<Metric>,
) {
    let d = metric.dataset;
    let by_facility = metric.groups.iter().any(|g| g == "facility_id");
    let by_month = metric.groups.iter().any(|g| g == "month");
    let mut groups: HashMap<Group<'_>, Acc> = HashMap::default();
    for idx in 0..world.bundle.table(d).len() as u32 {
        let date = world.record_date(d, idx);
        // The version governs the records of its dates (a timeless version, every record).
        if !timeless && !date.is_some_and(|day| version.covers(day)) {
            continue;
        }
        if !holds_all(world, d, idx, &metric.when) {
            continue;
        }
        let facility = if by_facility {
            world.facility_id(d, idx)
        } else {
            None
        };
        let month = if by_month { date.map(month_of) } else { None };
        let acc = groups.entry(Group::new(facility, month)).or_default();
        acc.records += 1;
        match &metric.kind {
            MetricKind::Count => {}
            MetricKind::Share { counts, .. } => {
                acc.counted += u64::from(holds_all(world, d, idx, counts));
            }
            MetricKind::Quantile { field, .. } => {
                if let Some(v) = world.value(d, idx, field.1).as_float() {
                    acc.values.push(v);
                }
            }
        }
    }
    let source = MetricSource {
        policy: version.pack_id.clone(),
        policy_version: version.version.clone(),
        parameters: metric.parameters.clone().into_iter().collect(),
    };
    let mut emit = Emit::new(out, &source);
    for name in metric.parameters.keys() {
        emit.using(name, name);
    }
    let id = metric.id.as_str();
    for (group, mut acc) in roll_up(groups) {
        match &metric.kind {
            MetricKind::Count => emit.count(id, &group, acc.records),
            MetricKind::Share { scale, .. } => {
                emit.rate(id, &group, acc.counted as f64, acc.records as f64, *scale);
            }
            MetricKind::Quantile { p, .. } => {
                sort_values(&mut acc.values);
                emit.quantile(id, &group, &acc.values, *p);
            }
        }
    }
}
