//! `response.*`: supervisor response times of live sessions (network-benchmarks).
//!
//! Each session is one of three kinds (policies/README.md, "Decisions", response time):
//! - *unmeasured*: `joined_at` missing or unparseable (`Missing` or `Invalid`), whatever
//!   `requested_at` holds: the supervisor never joined as far as the export shows;
//! - *measured*: both times have an instant and `joined_at >= requested_at`;
//! - *no response time*: anything else (`joined_at` before `requested_at`, a time in a DST gap
//!   or overlap, `requested_at` missing while `joined_at` is present).
//!
//! Reading of "over all sessions" against "counts only in `response.sessions`": a session with
//! no response time is in `response.sessions` and in no other response metric, so the share
//! denominators are measured plus unmeasured sessions (docs/outputs.md, "Metrics"), not every
//! session.
//!
//! Groups: facility = the session's own `facility_id`; month = local month of `requested_at` in
//! that facility's zone (the bundle zone when the facility is unknown). A session whose
//! `requested_at` has no instant has no month: it counts in `{}` and `{facility_id}` only.

use rustc_hash::FxHashMap as HashMap;

use crate::bundle::schema::{Dataset, col};
use crate::bundle::time::local_date;
use crate::bundle::value::Value;
use crate::eval::metrics::{Emit, Group, Merge, MetricSource, month_of, roll_up, sort_values};
use crate::eval::model::Metric;
use crate::eval::world::World;
use crate::policy::model::RESPONSE_PARAMETERS;

/// The thresholds of the shares, from the pack's parameters (`FAMILY_PARAMETERS`): a response
/// at or under `best_in_class_s` is within best in class (exactly at it is within); one over
/// `risk_s` is a risk.
#[derive(Debug, Clone, Copy)]
struct Thresholds {
    best_in_class_s: f64,
    risk_s: f64,
}

#[derive(Debug, Clone, Copy)]
enum Response {
    Measured(f64),
    Unmeasured,
    NoResponseTime,
}

#[derive(Debug, Default)]
struct Acc {
    sessions: u64,
    unmeasured: u64,
    within: u64,
    /// Measured sessions over `risk_s` (unmeasured ones are added when emitting).
    over: u64,
    values: Vec<f64>,
}

impl Acc {
    fn add(&mut self, response: Response, t: Thresholds) {
        self.sessions += 1;
        match response {
            Response::Unmeasured => self.unmeasured += 1,
            Response::Measured(s) => {
                if s <= t.best_in_class_s {
                    self.within += 1;
                }
                if s > t.risk_s {
                    self.over += 1;
                }
                self.values.push(s);
            }
            Response::NoResponseTime => {}
        }
    }
}

impl Merge for Acc {
    fn merge(&mut self, other: &Self) {
        self.sessions += other.sessions;
        self.unmeasured += other.unmeasured;
        self.within += other.within;
        self.over += other.over;
        self.values.extend_from_slice(&other.values);
    }
}

fn response(world: &World, idx: u32, joined: &Value) -> Response {
    if !joined.is_present() {
        return Response::Unmeasured;
    }
    match world.response_s(idx) {
        Some(s) => Response::Measured(s),
        None => Response::NoResponseTime,
    }
}

pub(super) fn compute(world: &World, source: &MetricSource, out: &mut Vec<Metric>) {
    let [best, risk] = RESPONSE_PARAMETERS;
    // The loader checked that a version naming `response` declares both as numbers.
    let (Some(best_in_class_s), Some(risk_s)) = (source.number(best), source.number(risk)) else {
        return;
    };
    let t = Thresholds {
        best_in_class_s,
        risk_s,
    };
    let mut groups: HashMap<Group<'_>, Acc> = HashMap::default();
    for (idx, session) in world.bundle.table(Dataset::Sessions).iter().enumerate() {
        let facility = session.str(col::session::FACILITY_ID);
        let month = session
            .get(col::session::REQUESTED_AT)
            .instant()
            .map(|t| month_of(local_date(t, world.facility_zone(facility))));
        let r = response(world, idx as u32, session.get(col::session::JOINED_AT));
        groups
            .entry(Group::new(facility, month))
            .or_default()
            .add(r, t);
    }
    let mut emit = Emit::new(out, source);
    for (group, mut acc) in roll_up(groups) {
        emit.plain()
            .count("response.sessions", &group, acc.sessions);
        emit.count("response.unmeasured", &group, acc.unmeasured);
        sort_values(&mut acc.values);
        emit.quantile("response.median_s", &group, &acc.values, 0.5);
        emit.quantile("response.p90_s", &group, &acc.values, 0.9);
        let judged = (acc.values.len() as u64 + acc.unmeasured) as f64;
        emit.using("threshold_s", best).share(
            "response.share_within_best_in_class",
            &group,
            acc.within as f64,
            judged,
        );
        emit.using("threshold_s", risk).share(
            "response.share_over_risk",
            &group,
            (acc.over + acc.unmeasured) as f64,
            judged,
        );
    }
}
