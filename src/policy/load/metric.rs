//! `[[metric]]` tables: metrics a pack declares (id, dataset, scope, kind, what is counted or
//! measured, groups), validated with located errors.

use std::collections::BTreeMap;

use toml::Spanned;

use super::context::FileCtx;
use super::rule::conditions;
use crate::bundle::schema::{Dataset, FieldType};
use crate::policy::error::{Collect, PolicyError, suggestion};
use crate::policy::fields::{FieldRef, field_type};
use crate::policy::file::{ConditionsSpec, MetricSpec, PerSpec};
use crate::policy::model::{
    DeclaredMetric, METRIC_KINDS, Measure, MetricKind, MetricScope, Per, Variant,
};

/// The version's `[[metric]]` tables, in file order; ids are unique within the version.
pub(super) fn build_metrics(
    specs: &[Spanned<MetricSpec>],
    ctx: &FileCtx<'_>,
) -> Result<Vec<DeclaredMetric>, PolicyError> {
    let mut out: Vec<DeclaredMetric> = Vec::new();
    let mut errors = Collect::default();
    for spec in specs {
        let spec = spec.get_ref();
        let Some(metric) = errors.take(build_metric(spec, ctx)) else {
            continue;
        };
        if out.iter().any(|m| m.id == metric.id) {
            errors.push(ctx.err(
                format!("metric `{}` is declared twice in this version", metric.id),
                spec.id.span(),
            ));
            continue;
        }
        out.push(metric);
    }
    errors.finish()?;
    Ok(out)
}

fn build_metric(spec: &MetricSpec, ctx: &FileCtx<'_>) -> Result<DeclaredMetric, PolicyError> {
    let id = spec.id.get_ref().clone();
    if id.is_empty() || id.contains(char::is_whitespace) {
        return Err(ctx.err(
            format!("metric id `{id}` must be a non-empty word without spaces"),
            spec.id.span(),
        ));
    }
    let dataset = dataset(&spec.dataset, ctx)?;
    let when = scope(&spec.when, dataset, ctx)?;
    let mut by_facility = false;
    let mut by_month = false;
    let mut variants: Vec<Variant> = Vec::new();
    for g in &spec.groups {
        match g.get_ref().as_str() {
            "facility_id" => by_facility = true,
            "month" => by_month = true,
            name => {
                let (_, field) = ctx.field(dataset, g).map_err(|e| {
                    e.with_help(Some(
                        "groups: `facility_id`, `month`, or a field whose values make groups"
                            .into(),
                    ))
                })?;
                if matches!(field, FieldRef::Derived(_)) {
                    return Err(ctx.err(
                        format!("group key `{name}` is a derived fact; a group key is a field of the record or of a linked record"),
                        g.span(),
                    ));
                }
                let key = name.rsplit('.').next().unwrap_or(name).to_string();
                if variants.iter().any(|v| v.key == key) {
                    return Err(ctx.err(format!("group key `{key}` is listed twice"), g.span()));
                }
                let values = match field_type(dataset, field) {
                    Some(FieldType::Enum(values)) => Some(values),
                    _ => None,
                };
                variants.push(Variant { key, field, values });
            }
        }
    }
    let month_of = match &spec.month_of {
        None => None,
        Some(name) => {
            let (n, field) = ctx.field(dataset, name)?;
            if !matches!(
                field_type(dataset, field),
                Some(FieldType::Date | FieldType::Ts)
            ) {
                return Err(ctx.err(
                    format!("`month_of` names `{n}`, which is not a date or a time"),
                    name.span(),
                ));
            }
            if !by_month {
                return Err(ctx
                    .err("`month_of` without `month` in `groups`".into(), name.span())
                    .with_help(Some("add \"month\" to `groups`".into())));
            }
            Some((n, field))
        }
    };
    let kind = metric_kind(spec, dataset, &variants, ctx)?;
    let referenced = referenced_parameters(spec, ctx);
    let mut reads: Vec<String> = referenced.keys().cloned().collect();
    let parameters = match &spec.parameters {
        Some(shown) => {
            let mut out = BTreeMap::new();
            for (key, name) in shown.get_ref() {
                out.insert(key.clone(), ctx.param(name)?.clone());
                reads.push(name.get_ref().clone());
            }
            out
        }
        None => referenced,
    };
    reads.sort();
    reads.dedup();
    Ok(DeclaredMetric {
        id,
        title: spec.title.clone(),
        dataset,
        when,
        kind,
        by_facility,
        by_month,
        month_of,
        variants,
        parameters,
        reads,
    })
}

fn dataset(name: &Spanned<String>, ctx: &FileCtx<'_>) -> Result<Dataset, PolicyError> {
    Dataset::from_name(name.get_ref()).ok_or_else(|| {
        ctx.err(format!("unknown dataset `{}`", name.get_ref()), name.span())
            .with_help(suggestion(
                name.get_ref(),
                Dataset::ALL.iter().map(|d| d.name()),
            ))
    })
}

/// Conditions in the `when` language, with `any = [{...}, ...]` for alternatives.
fn scope(
    table: &ConditionsSpec,
    dataset: Dataset,
    ctx: &FileCtx<'_>,
) -> Result<MetricScope, PolicyError> {
    let mut all = ConditionsSpec::new();
    let mut any = Vec::new();
    for (name, value) in table {
        if name.get_ref() != "any" {
            all.insert(name.clone(), value.clone());
            continue;
        }
        let bad = || {
            ctx.err(
                "`any` is a list of condition tables: `any = [{ a = 1 }, { b = 2 }]`".into(),
                value.span(),
            )
        };
        let toml::Value::Array(items) = value.get_ref() else {
            return Err(bad());
        };
        for item in items {
            let toml::Value::Table(t) = item else {
                return Err(bad());
            };
            // The inner values have no spans of their own: errors point at `any`.
            let inner: ConditionsSpec = t
                .iter()
                .map(|(k, v)| {
                    (
                        Spanned::new(name.span(), k.clone()),
                        Spanned::new(value.span(), v.clone()),
                    )
                })
                .collect();
            any.push(conditions(&inner, dataset, ctx)?);
        }
        if any.is_empty() {
            return Err(bad());
        }
    }
    Ok(MetricScope {
        all: conditions(&all, dataset, ctx)?,
        any,
    })
}

fn metric_kind(
    spec: &MetricSpec,
    dataset: Dataset,
    variants: &[Variant],
    ctx: &FileCtx<'_>,
) -> Result<MetricKind, PolicyError> {
    let kind = spec.kind.get_ref().as_str();
    let needs = |what: &str| {
        ctx.err(
            format!("a `{kind}` metric needs `{what}`"),
            spec.kind.span(),
        )
    };
    match kind {
        "count" => Ok(MetricKind::Count {
            counts: match &spec.counts {
                Some(c) => Some(scope(c.get_ref(), dataset, ctx)?),
                None => None,
            },
        }),
        "share" | "per_1000" => {
            let scale = if kind == "share" { 1.0 } else { 1000.0 };
            match (&spec.counts, &spec.per) {
                (Some(_), Some(per)) => Err(ctx
                    .err(
                        "a metric has `counts` or `per`, not both".into(),
                        per.span(),
                    )
                    .with_help(Some(
                        "with `per`, the records in scope are counted and `per`'s records are the denominator".into(),
                    ))),
                (Some(counts), None) => Ok(MetricKind::Share {
                    counts: Some(scope(counts.get_ref(), dataset, ctx)?),
                    per: None,
                    scale,
                }),
                (None, Some(per)) => Ok(MetricKind::Share {
                    counts: None,
                    per: Some(build_per(per, variants, ctx)?),
                    scale,
                }),
                (None, None) => Err(needs("counts").with_help(Some(
                    "`counts = { field = value }`: the records counted, in the `when` language; or `per = { dataset = \"...\" }` for a rate over another dataset's records".into(),
                ))),
            }
        }
        "median" | "percentile" => {
            let p = match (kind, &spec.p) {
                ("median", _) => 0.5,
                (_, Some(p)) if (0.0..=1.0).contains(p.get_ref()) => *p.get_ref(),
                (_, Some(p)) => {
                    return Err(ctx.err(
                        format!("`p = {}` is not between 0 and 1", p.get_ref()),
                        p.span(),
                    ));
                }
                (_, None) => return Err(needs("p").with_help(Some("0.9 for the 90th".into()))),
            };
            let measure = match (&spec.field, &spec.from, &spec.to) {
                (Some(field), None, None) => Measure::Field(ctx.field(dataset, field)?),
                (None, Some(from), Some(to)) => Measure::Duration {
                    from: time_field(dataset, from, ctx)?,
                    to: time_field(dataset, to, ctx)?,
                },
                _ => {
                    return Err(needs("field").with_help(Some(
                        "the numeric field measured, or `from` and `to`: two times, for the seconds between them".into(),
                    )));
                }
            };
            Ok(MetricKind::Quantile { measure, p })
        }
        "ratio" => {
            let numerator = spec.numerator.as_ref().ok_or_else(|| {
                needs("numerator").with_help(Some("the numeric field summed above the line".into()))
            })?;
            let denominator = spec.denominator.as_ref().ok_or_else(|| {
                needs("denominator")
                    .with_help(Some("the numeric field summed below the line".into()))
            })?;
            Ok(MetricKind::Ratio {
                numerator: number_field(dataset, numerator, ctx)?,
                denominator: number_field(dataset, denominator, ctx)?,
                cap: spec.cap,
            })
        }
        other => Err(ctx
            .err(format!("unknown metric kind `{other}`"), spec.kind.span())
            .with_help(
                suggestion(other, METRIC_KINDS)
                    .or_else(|| Some(format!("kinds: {}", METRIC_KINDS.join(", ")))),
            )),
    }
}

fn build_per(
    per: &Spanned<PerSpec>,
    variants: &[Variant],
    ctx: &FileCtx<'_>,
) -> Result<Per, PolicyError> {
    let spec = per.get_ref();
    let d = dataset(&spec.dataset, ctx)?;
    Ok(Per {
        dataset: d,
        when: scope(&spec.when, d, ctx)?,
        // A group key is read on the denominator's records from the field of that name.
        variants: variants
            .iter()
            .map(|v| d.field_index(&v.key).map(FieldRef::Own))
            .collect(),
    })
}

fn time_field(
    dataset: Dataset,
    name: &Spanned<String>,
    ctx: &FileCtx<'_>,
) -> Result<(String, FieldRef), PolicyError> {
    let (n, field) = ctx.field(dataset, name)?;
    if field_type(dataset, field) != Some(FieldType::Ts) {
        return Err(ctx.err(format!("`{n}` is not a time"), name.span()));
    }
    Ok((n, field))
}

fn number_field(
    dataset: Dataset,
    name: &Spanned<String>,
    ctx: &FileCtx<'_>,
) -> Result<(String, FieldRef), PolicyError> {
    let (n, field) = ctx.field(dataset, name)?;
    // Integers only: their sums do not depend on the order they are added in.
    if field_type(dataset, field) != Some(FieldType::Int) {
        return Err(ctx.err(
            format!("`{n}` is not an integer field (a `ratio` sums counts)"),
            name.span(),
        ));
    }
    Ok((n, field))
}

/// The parameters the metric's conditions name with `{ param = "NAME" }`, at any depth, under
/// their own names.
fn referenced_parameters(spec: &MetricSpec, ctx: &FileCtx<'_>) -> BTreeMap<String, toml::Value> {
    fn walk(v: &toml::Value, ctx: &FileCtx<'_>, out: &mut BTreeMap<String, toml::Value>) {
        match v {
            toml::Value::Table(t) => {
                if let Some(toml::Value::String(p)) = t.get("param")
                    && let Some(value) = ctx.params.get(p)
                {
                    out.insert(p.clone(), value.clone());
                }
                for inner in t.values() {
                    walk(inner, ctx, out);
                }
            }
            toml::Value::Array(items) => items.iter().for_each(|i| walk(i, ctx, out)),
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    let tables = std::iter::once(&spec.when)
        .chain(spec.counts.iter().map(Spanned::get_ref))
        .chain(spec.per.iter().map(|p| &p.get_ref().when));
    for value in tables.flat_map(|t| t.values()) {
        walk(value.get_ref(), ctx, &mut out);
    }
    out
}
