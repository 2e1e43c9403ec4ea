//! DQ-006: exams whose date of service falls outside the bundle's period.

use serde_json::Value as Json;

use super::{Ctx, Observation, evidence, scan};
use crate::bundle::schema::{Dataset, col};
use crate::eval::dos::exam_dos;
use crate::policy::model::builtin;

/// Evaluated = exams with a DOS; exams without one are DQ-001's (missing `scheduled_at`).
pub(super) fn check(ctx: &Ctx<'_>, dataset: Dataset) -> (u64, Vec<Observation>) {
    if dataset != Dataset::Exams {
        return (0, Vec::new());
    }
    let manifest = &ctx.bundle.manifest;
    let (start, end) = (manifest.period_start, manifest.period_end);
    scan(ctx.table(dataset), |index, record, out| {
        let Some(dos) = exam_dos(record, ctx.zones) else {
            return false;
        };
        let side = if dos < start {
            "before"
        } else if dos > end {
            "after"
        } else {
            return true;
        };
        // The field the DOS was taken from (same choice as `exam_dos`).
        let field = if record.get(col::exam::STARTED_AT).instant().is_some() {
            "started_at"
        } else {
            "scheduled_at"
        };
        out.push(ctx.observe(
            builtin::PERIOD,
            dataset,
            index,
            record,
            format_args!(
                ": date of service {dos} (from `{field}`) is {side} the bundle period {start} .. {end}"
            ),
            evidence([
                ("field", Json::from(field)),
                ("dos", Json::from(dos.to_string())),
                ("period_start", Json::from(start.to_string())),
                ("period_end", Json::from(end.to_string())),
            ]),
        ));
        true
    })
}
