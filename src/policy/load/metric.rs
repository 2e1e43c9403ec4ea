//! `[[metric]]` tables: metrics a compliance officer declares in a pack (id, dataset, scope,
//! kind, what is counted or measured, groups), validated with located errors.

use std::collections::BTreeMap;

use toml::Spanned;

use super::context::FileCtx;
use super::rule::conditions;
use crate::bundle::schema::Dataset;
use crate::policy::error::{PolicyError, suggestion};
use crate::policy::file::MetricSpec;
use crate::policy::model::{DeclaredMetric, METRIC_GROUP_KEYS, METRIC_KINDS, MetricKind};

/// The version's `[[metric]]` tables, in file order; ids are unique within the version.
pub(super) fn build_metrics(
    specs: &[Spanned<MetricSpec>],
    ctx: &FileCtx<'_>,
) -> Result<Vec<DeclaredMetric>, PolicyError> {
    let mut out: Vec<DeclaredMetric> = Vec::new();
    for spec in specs {
        let spec = spec.get_ref();
        let metric = build_metric(spec, ctx)?;
        if out.iter().any(|m| m.id == metric.id) {
            return Err(ctx.err(
                format!("metric `{}` is declared twice in this version", metric.id),
                spec.id.span(),
            ));
        }
        out.push(metric);
    }
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
    let name = spec.dataset.get_ref();
    let dataset = Dataset::from_name(name).ok_or_else(|| {
        ctx.err(format!("unknown dataset `{name}`"), spec.dataset.span())
            .with_help(suggestion(name, Dataset::ALL.iter().map(|d| d.name())))
    })?;
    let when = conditions(&spec.when, dataset, ctx)?;
    let kind = metric_kind(spec, dataset, ctx)?;
    let mut groups = Vec::new();
    for g in &spec.groups {
        if !METRIC_GROUP_KEYS.contains(&g.get_ref().as_str()) {
            return Err(ctx
                .err(format!("unknown metric group `{}`", g.get_ref()), g.span())
                .with_help(
                    suggestion(g.get_ref(), METRIC_GROUP_KEYS)
                        .or_else(|| Some(format!("groups: {}", METRIC_GROUP_KEYS.join(", ")))),
                ));
        }
    }
    for key in METRIC_GROUP_KEYS {
        if spec.groups.iter().any(|g| g.get_ref() == key) {
            groups.push(key.to_string());
        }
    }
    let mut parameters = BTreeMap::new();
    let tables = std::iter::once(&spec.when).chain(spec.counts.iter().map(Spanned::get_ref));
    for value in tables.flat_map(|t| t.values()) {
        if let toml::Value::Table(t) = value.get_ref()
            && let Some(toml::Value::String(p)) = t.get("param")
            && let Some(v) = ctx.params.get(p)
        {
            parameters.insert(p.clone(), v.clone());
        }
    }
    Ok(DeclaredMetric {
        id,
        title: spec.title.clone(),
        dataset,
        when,
        kind,
        groups,
        parameters,
    })
}

fn metric_kind(
    spec: &MetricSpec,
    dataset: Dataset,
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
        "count" => Ok(MetricKind::Count),
        "share" | "per_1000" => {
            let counts = spec.counts.as_ref().ok_or_else(|| {
                needs("counts").with_help(Some(
                    "`counts = { field = value }`: the records counted, in the `when` language"
                        .into(),
                ))
            })?;
            Ok(MetricKind::Share {
                counts: conditions(counts.get_ref(), dataset, ctx)?,
                scale: if kind == "share" { 1.0 } else { 1000.0 },
            })
        }
        "median" | "percentile" => {
            let field = spec.field.as_ref().ok_or_else(|| {
                needs("field").with_help(Some("the numeric field measured".into()))
            })?;
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
            Ok(MetricKind::Quantile {
                field: ctx.field(dataset, field)?,
                p,
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
