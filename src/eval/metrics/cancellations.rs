//! `cancellations.*`: cancellation rates before and after a facility's virtual go-live
//! (network-benchmarks).
//!
//! "Scheduled" is every exam record with a date of service, any status (status missing or
//! invalid included); the side is the exam's DOS against its facility's `virtual_go_live`
//! (on the go-live day is after). Exams whose facility names no record, or whose facility has
//! no valid `virtual_go_live`, take part in neither side. Groups: the exam's raw `facility_id`
//! and the month of its DOS.
//!
//! The date used is the exam's DOS (docs/bundle-format.md, "Timestamps": `started_at`, else
//! `scheduled_at`), for numerator and denominator alike so both sides of one exam agree. BEN-005
//! judges a cancelled exam by the local date of `scheduled_at` instead; the two differ only for a
//! cancelled exam whose `started_at` has an instant on another local date than `scheduled_at` (a
//! cancellation after the exam began on another day), or whose `scheduled_at` has no instant while
//! `started_at` has one. Such an exam may sit on another side here than in BEN-005.

use rustc_hash::FxHashMap as HashMap;

use chrono::NaiveDate;

use crate::bundle::Record;
use crate::bundle::schema::{Dataset, col};
use crate::bundle::value::Value;
use crate::eval::metrics::{Emit, Group, Merge, MetricSource, roll_up};
use crate::eval::world::World;
use crate::policy::model::COVERAGE_REASONS;

const BEFORE: usize = 0;
const AFTER: usize = 1;

#[derive(Debug, Default)]
struct Acc {
    scheduled: [u64; 2],
    cancelled: [u64; 2],
    coverage_gap: [u64; 2],
}

impl Merge for Acc {
    fn merge(&mut self, other: &Self) {
        for side in [BEFORE, AFTER] {
            self.scheduled[side] += other.scheduled[side];
            self.cancelled[side] += other.cancelled[side];
            self.coverage_gap[side] += other.coverage_gap[side];
        }
    }
}

/// Cancellation counts per group, fed one exam record at a time by the shared exam pass.
pub(super) struct Cancellations<'a> {
    groups: HashMap<Group<'a>, Acc>,
    /// The `cancel_reason` codes that mean no supervision coverage (the pack's
    /// `coverage_reasons`, compared exactly).
    coverage_reasons: Vec<&'a str>,
}

impl<'a> Cancellations<'a> {
    pub(super) fn new(source: &'a MetricSource) -> Cancellations<'a> {
        Cancellations {
            groups: HashMap::default(),
            coverage_reasons: source.texts(COVERAGE_REASONS),
        }
    }

    /// Adds one exam record; `group` is its own group (raw facility, month of `dos`).
    pub(super) fn add_exam(
        &mut self,
        world: &World,
        exam: &Record,
        dos: Option<NaiveDate>,
        group: Group<'a>,
    ) {
        let Some(dos) = dos else { return };
        let Some(go_live) = group
            .facility
            .and_then(|id| world.lookup(Dataset::Facilities, id))
            .and_then(|i| world.record(Dataset::Facilities, i))
            .and_then(|f| f.get(col::facility::VIRTUAL_GO_LIVE).as_date())
        else {
            return;
        };
        let side = if dos < go_live { BEFORE } else { AFTER };
        let cancelled = matches!(exam.get(col::exam::STATUS), Value::Enum("cancelled"));
        let gap = cancelled
            && exam
                .str(col::exam::CANCEL_REASON)
                .is_some_and(|r| self.coverage_reasons.contains(&r));
        let acc = self.groups.entry(group).or_default();
        acc.scheduled[side] += 1;
        acc.cancelled[side] += u64::from(cancelled);
        acc.coverage_gap[side] += u64::from(gap);
    }

    pub(super) fn emit(self, emit: &mut Emit<'_>) {
        for (group, acc) in roll_up(self.groups) {
            for (side, rate, gap) in [
                (
                    BEFORE,
                    "cancellations.rate_before",
                    "cancellations.coverage_gap_before",
                ),
                (
                    AFTER,
                    "cancellations.rate_after",
                    "cancellations.coverage_gap_after",
                ),
            ] {
                let scheduled = acc.scheduled[side] as f64;
                emit.plain()
                    .share(rate, &group, acc.cancelled[side] as f64, scheduled);
                emit.using(COVERAGE_REASONS, COVERAGE_REASONS).share(
                    gap,
                    &group,
                    acc.coverage_gap[side] as f64,
                    scheduled,
                );
            }
        }
    }
}
