//! Date of service: the local calendar date (facility zone) an exam, and what hangs off it, is judged by.

use chrono::NaiveDate;

use crate::bundle::schema::col;
use crate::bundle::{Record, ZoneLookup, time};

/// The DOS of an exam: local date of `started_at` when it has an instant, else of
/// `scheduled_at`; `None` when neither has an instant (docs/bundle-format.md, "Timestamps").
pub fn exam_dos(exam: &Record, zones: &ZoneLookup<'_>) -> Option<NaiveDate> {
    let instant = exam
        .get(col::exam::STARTED_AT)
        .instant()
        .or_else(|| exam.get(col::exam::SCHEDULED_AT).instant())?;
    let zone = zones.facility(exam.str(col::exam::FACILITY_ID));
    Some(time::local_date(instant, zone))
}

/// The local date of `scheduled_at`: BEN-005 judges a cancelled exam by it (policies/README.md,
/// "Decisions"). The cancellation metrics use the exam's DOS (docs/outputs.md, "Metrics").
pub fn scheduled_date(exam: &Record, zones: &ZoneLookup<'_>) -> Option<NaiveDate> {
    let instant = exam.get(col::exam::SCHEDULED_AT).instant()?;
    Some(time::local_date(
        instant,
        zones.facility(exam.str(col::exam::FACILITY_ID)),
    ))
}
