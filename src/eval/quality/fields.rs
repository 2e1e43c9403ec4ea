//! DQ-001: required fields that are missing and values that do not parse as their type.

use serde_json::Value as Json;

use super::{Ctx, Observation, evidence, scan};
use crate::bundle::Record;
use crate::bundle::schema::{Dataset, FieldDef, FieldType, Required, SUPERVISION_INDICATORS, col};
use crate::bundle::value::Value;
use crate::policy::model::builtin;
use crate::suggest::did_you_mean;

pub(super) fn check(ctx: &Ctx<'_>, dataset: Dataset) -> (u64, Vec<Observation>) {
    let fields = dataset.fields();
    scan(ctx.table(dataset), |index, record, out| {
        let (completed, contrast) = conditions(dataset, record);
        for (column, field) in fields.iter().enumerate() {
            match record.get(column) {
                Value::Invalid(raw) => {
                    let detail = invalid_detail(dataset, field, raw);
                    out.push(ctx.observe(
                        builtin::FIELD_VALUES,
                        dataset,
                        index,
                        record,
                        format_args!(" field `{}`: {detail}", field.name),
                        evidence([
                            ("field", Json::from(field.name)),
                            ("value", Json::from(&**raw)),
                        ]),
                    ));
                }
                Value::Missing => {
                    let why = match field.required {
                        Required::No => continue,
                        Required::WhenCompleted if !completed => continue,
                        Required::WhenContrast if !contrast => continue,
                        Required::Always => "",
                        Required::WhenCompleted => " (required when `status` is `completed`)",
                        Required::WhenContrast => " (required when `contrast` is true)",
                    };
                    out.push(ctx.observe(
                        builtin::FIELD_VALUES,
                        dataset,
                        index,
                        record,
                        format_args!(": required field `{}` is missing{why}", field.name),
                        evidence([("field", Json::from(field.name))]),
                    ));
                }
                _ => {}
            }
        }
        if dataset == Dataset::ProcedureCodes
            && let Some(code) = record.str(col::code::INDICATOR)
            && !SUPERVISION_INDICATORS.contains(&code)
        {
            out.push(ctx.observe(
                builtin::FIELD_VALUES,
                dataset,
                index,
                record,
                format_args!(
                    " field `supervision_indicator`: `{code}` is not a supervision indicator (one of {}{})",
                    SUPERVISION_INDICATORS.join(", "),
                    indicator_hint(code),
                ),
                evidence([
                    ("field", Json::from("supervision_indicator")),
                    ("value", Json::from(code)),
                ]),
            ));
        }
        true
    })
}

/// Whether an exam is completed and had contrast. A `status` or `contrast` that is missing or
/// invalid makes the fields that depend on it not required (docs/bundle-format.md, notes under
/// "Data-quality findings").
fn conditions(dataset: Dataset, record: &Record) -> (bool, bool) {
    if dataset != Dataset::Exams {
        return (false, false);
    }
    (
        matches!(record.get(col::exam::STATUS), Value::Enum(s) if **s == "completed"),
        matches!(record.get(col::exam::CONTRAST), Value::Bool(true)),
    )
}

/// Why `raw` is not a value of `field`, with a hint when one helps.
fn invalid_detail(dataset: Dataset, field: &FieldDef, raw: &str) -> String {
    if dataset == Dataset::Facilities && field.name == "timezone" {
        let hint = did_you_mean(raw, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return format!("unknown time zone `{raw}`{hint}; the bundle time zone is used instead");
    }
    let expected = match field.ty {
        FieldType::Enum(values) => {
            let hint = did_you_mean(&raw.to_lowercase(), values.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return format!(
                "`{raw}` is not a valid enum value (one of {}{hint})",
                values.join(", ")
            );
        }
        FieldType::Bool => " (true/false, yes/no, y/n, 1/0)",
        FieldType::Int => " (a whole number written without a fraction)",
        FieldType::Float => " (a finite number)",
        FieldType::Date => " (YYYY-MM-DD)",
        FieldType::Ts => " (RFC 3339 with seconds, or a local `YYYY-MM-DD HH:MM:SS`)",
        FieldType::Str | FieldType::List => "",
    };
    format!("`{raw}` is not a valid {}{expected}", field.ty.name())
}

/// The listed code a near miss (`6a`, `2`) was probably meant to be.
fn indicator_hint(code: &str) -> String {
    let upper = code.trim().to_ascii_uppercase();
    let padded = format!("{upper:0>2}");
    [upper, padded]
        .into_iter()
        .find(|c| SUPERVISION_INDICATORS.contains(&c.as_str()))
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}
