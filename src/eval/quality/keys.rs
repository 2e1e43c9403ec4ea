//! DQ-002 (repeated keys) and DQ-003 (references that name no record).

use serde_json::Value as Json;

use rayon::prelude::*;

use super::{Ctx, Keys, Observation, evidence, key_column, scan};
use crate::bundle::Record;
use crate::bundle::schema::{Dataset, col};
use crate::policy::model::builtin;

/// The references DQ-003 checks (docs/bundle-format.md, "Datasets and fields"): dataset,
/// column, target dataset.
const REFERENCES: &[(Dataset, usize, Dataset)] = &[
    (Dataset::Exams, col::exam::FACILITY_ID, Dataset::Facilities),
    (
        Dataset::Exams,
        col::exam::SUPERVISOR_ID,
        Dataset::Practitioners,
    ),
    (
        Dataset::Exams,
        col::exam::ONSITE_PRACTITIONER_ID,
        Dataset::Practitioners,
    ),
    (
        Dataset::Exams,
        col::exam::TECHNOLOGIST_ID,
        Dataset::Practitioners,
    ),
    (Dataset::Exams, col::exam::SESSION_ID, Dataset::Sessions),
    (
        Dataset::Sessions,
        col::session::FACILITY_ID,
        Dataset::Facilities,
    ),
    (Dataset::Sessions, col::session::EXAM_ID, Dataset::Exams),
    (
        Dataset::Sessions,
        col::session::SUPERVISOR_ID,
        Dataset::Practitioners,
    ),
    (
        Dataset::Sessions,
        col::session::TECHNOLOGIST_ID,
        Dataset::Practitioners,
    ),
    (
        Dataset::Coverage,
        col::coverage::SUPERVISOR_ID,
        Dataset::Practitioners,
    ),
    (
        Dataset::Coverage,
        col::coverage::FACILITY_ID,
        Dataset::Facilities,
    ),
    (Dataset::Reactions, col::reaction::EXAM_ID, Dataset::Exams),
    (
        Dataset::Reactions,
        col::reaction::RESPONDER_ID,
        Dataset::Practitioners,
    ),
    (
        Dataset::Reactions,
        col::reaction::DOCUMENTED_BY,
        Dataset::Practitioners,
    ),
];

/// Coverage for every facility: not a reference.
const ALL_FACILITIES: &str = "*";

/// DQ-002: every record whose key an earlier record (walk order) already carries.
pub(super) fn check_repeats(ctx: &Ctx<'_>, dataset: Dataset) -> (u64, Vec<Observation>) {
    let (Some(column), Some(field)) = (key_column(dataset), dataset.key_field()) else {
        return (0, Vec::new());
    };
    if !dataset.key_must_be_unique() {
        return (0, Vec::new());
    }
    let table = ctx.table(dataset);
    if let Keys::World(world) = ctx.keys {
        // The world's key index met the repeats as it was built.
        let evaluated = table
            .par_iter()
            .with_min_len(4096)
            .filter(|r| r.str(column).is_some())
            .count() as u64;
        let found = world
            .repeated_keys(dataset)
            .iter()
            .filter_map(|&(index, first)| {
                let (record, first) = (table.get(index as usize)?, table.get(first as usize)?);
                Some(repeat(ctx, dataset, field, index as usize, record, first))
            })
            .collect();
        return (evaluated, found);
    }
    scan(table, |index, record, out| {
        let Some(key) = record.str(column) else {
            return false;
        };
        let first = ctx.keys.first(dataset, key).unwrap_or(index);
        if first != index
            && let Some(first) = table.get(first)
        {
            out.push(repeat(ctx, dataset, field, index, record, first));
        }
        true
    })
}

/// DQ-002's observation of record `index`, whose key `first` carried first.
fn repeat(
    ctx: &Ctx<'_>,
    dataset: Dataset,
    field: &str,
    index: usize,
    record: &Record,
    first: &Record,
) -> Observation {
    let at = ctx.location(first);
    ctx.observe(
        builtin::UNIQUE_KEYS,
        dataset,
        index,
        record,
        format_args!(": key `{field}` repeats; first seen at `{at}`"),
        evidence([
            ("field", Json::from(field)),
            ("first", Json::from(at.as_str())),
        ]),
    )
}

/// DQ-003: one observation per record and reference field whose value names no record.
pub(super) fn check_references(ctx: &Ctx<'_>, dataset: Dataset) -> (u64, Vec<Observation>) {
    let references: Vec<(usize, &'static str, Dataset)> = REFERENCES
        .iter()
        .filter(|(from, ..)| *from == dataset)
        .filter_map(|&(_, column, target)| {
            let field = dataset.fields().get(column)?;
            Some((column, field.name, target))
        })
        .collect();
    if references.is_empty() {
        return (0, Vec::new());
    }
    scan(ctx.table(dataset), |index, record, out| {
        let mut evaluated = false;
        for &(column, field, target) in &references {
            let Some(value) = record.str(column) else {
                continue;
            };
            if dataset == Dataset::Coverage
                && column == col::coverage::FACILITY_ID
                && value == ALL_FACILITIES
            {
                continue;
            }
            evaluated = true;
            if !ctx.keys.names(dataset, index, column, target, value) {
                out.push(ctx.observe(
                    builtin::REFERENCES,
                    dataset,
                    index,
                    record,
                    format_args!(" field `{field}`: `{value}` names no record in {target}"),
                    evidence([
                        ("field", Json::from(field)),
                        ("value", Json::from(value)),
                        ("dataset", Json::from(target.name())),
                    ]),
                ));
            }
        }
        evaluated
    })
}
