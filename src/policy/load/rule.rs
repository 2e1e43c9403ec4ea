//! A version's `[[rule]]` tables to rules: ids unique in the version, severity, dataset, the
//! `when` conditions that scope it, fields, then the check and the message template.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::check::build_check;
use super::context::FileCtx;
use super::literal::{literal, literals};
use super::template::parse_template;
use crate::bundle::schema::{Dataset, FieldType};
use crate::policy::error::{Collect, Place, PolicyError, suggestion};
use crate::policy::fields::{FieldRef, field_type};
use crate::policy::file::{AddendumSpec, RuleSpec, SeverityBy};
use crate::policy::model::{CompareOp, Condition, ConditionTest, Literal, Rule, Severity};

/// Every rule of a version, in file order; a rule id may appear once. Every mistake of every
/// rule is reported, not only the first.
pub(super) fn build_rules(
    specs: &[Spanned<RuleSpec>],
    ctx: &FileCtx<'_>,
    scripts: &mut Vec<(String, String, u64)>,
) -> Result<Vec<Rule>, PolicyError> {
    let mut rules = Vec::new();
    let mut errors = Collect::default();
    let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    for rule in specs {
        let rule_id = rule.get_ref().id.get_ref().clone();
        if let Some(first) = seen.get(&rule_id) {
            let first_line = Place::of(ctx.text, first.clone()).line;
            errors.push(ctx.err(
                format!(
                    "rule `{rule_id}` is defined twice in this version (first on line {first_line})"
                ),
                rule.get_ref().id.span(),
            ));
            continue;
        }
        seen.insert(rule_id, rule.get_ref().id.span());
        if let Some(r) = errors.take(build_rule(rule.get_ref(), ctx, scripts)) {
            rules.push(r);
        }
    }
    errors.finish()?;
    Ok(rules)
}

fn build_rule(
    spec: &RuleSpec,
    ctx: &FileCtx<'_>,
    scripts: &mut Vec<(String, String, u64)>,
) -> Result<Rule, PolicyError> {
    let mut e = Collect::default();
    let id = e.take(rule_id(spec, ctx));
    let severity = e.take(parse_severity(&spec.severity, ctx));
    let citation = e.take(citation(&spec.citation, ctx));
    // Everything else names fields of the rule's dataset.
    let Some(dataset) = e.take(rule_dataset(spec, ctx)) else {
        return Err(e.into_error(ctx.err("unknown dataset".into(), spec.dataset.span())));
    };
    let when = e.take(conditions(&spec.when, dataset, ctx));
    let addenda = e.take(addenda(&spec.addendum, dataset, ctx));
    let requires = e.take(field_list(&spec.requires, dataset, ctx));
    let evidence = e.take(field_list(&spec.evidence, dataset, ctx));
    let shown_id = id.clone().unwrap_or_else(|| spec.id.get_ref().clone());
    let check = e.take(build_check(
        spec.check.get_ref(),
        spec.check.span(),
        dataset,
        &shown_id,
        ctx,
        scripts,
    ));
    let message = e.take(parse_template(&spec.message, dataset, ctx));
    let severity_by = e.take(severity_by(spec.severity_by.as_ref(), dataset, ctx));
    let (
        Some(id),
        Some(severity),
        Some(citation),
        Some(when),
        Some(addenda),
        Some(requires),
        Some(evidence),
        Some(check),
        Some(message),
        Some(severity_by),
    ) = (
        id,
        severity,
        citation,
        when,
        addenda,
        requires,
        evidence,
        check,
        message,
        severity_by,
    )
    else {
        return Err(e.into_error(ctx.err("invalid rule".into(), spec.id.span())));
    };
    Ok(Rule {
        id,
        id_place: Some(Box::new(Place::of(ctx.text, spec.id.span()))),
        title: spec.title.clone(),
        severity,
        severity_by,
        dataset,
        when,
        requires,
        check,
        message,
        evidence,
        citation,
        remediation: spec.remediation.clone(),
        addenda,
    })
}

/// A citation with its `{param.NAME}` placeholders replaced by the version's values, so a
/// citation quotes the thresholds the rule judges by (parameters are fixed per version).
fn citation(spec: &Spanned<String>, ctx: &FileCtx<'_>) -> Result<String, PolicyError> {
    const OPEN: &str = "{param.";
    let text = spec.get_ref();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + OPEN.len()..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        // The placeholder's place in the file: the citation's span less its opening quote.
        let start = spec.span().start + 1 + (text.len() - rest.len()) + at;
        let placeholder = Spanned::new(start..start + OPEN.len() + end + 1, name.to_string());
        match ctx.param(&placeholder)? {
            toml::Value::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn rule_id(spec: &RuleSpec, ctx: &FileCtx<'_>) -> Result<String, PolicyError> {
    let id = spec.id.get_ref().clone();
    if id.is_empty() || id.contains(char::is_whitespace) {
        return Err(ctx.err(
            format!("rule id `{id}` must be non-empty without spaces"),
            spec.id.span(),
        ));
    }
    Ok(id)
}

fn rule_dataset(spec: &RuleSpec, ctx: &FileCtx<'_>) -> Result<Dataset, PolicyError> {
    let dataset_name = spec.dataset.get_ref();
    let builtin = spec.check.get_ref().kind.get_ref() == "builtin";
    // Builtin checks (the export-integrity rules) read every dataset: `dataset = "*"`.
    let dataset = if builtin && dataset_name == "*" {
        Some(Dataset::Facilities)
    } else {
        Dataset::from_name(dataset_name)
    };
    dataset.ok_or_else(|| {
        ctx.err(
            format!("unknown dataset `{dataset_name}`"),
            spec.dataset.span(),
        )
        .with_help(suggestion(
            dataset_name,
            Dataset::ALL.iter().map(|d| d.name()),
        ))
    })
}

/// The conditions of a `when` table, in field-name order.
pub(super) fn conditions(
    table: &BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    dataset: Dataset,
    ctx: &FileCtx<'_>,
) -> Result<Vec<Condition>, PolicyError> {
    let mut out = Vec::new();
    let mut errors = Collect::default();
    for (name, value) in table {
        let field = errors.take(ctx.field(dataset, name));
        let test = errors.take(condition_test(value, dataset, ctx));
        if let (Some((field_name, field)), Some(test)) = (field, test) {
            if let Err(e) = test_fits_field(&field_name, field_type(dataset, field), &test) {
                errors.push(ctx.err(e.0, value.span()).with_help(e.1));
                continue;
            }
            out.push(Condition {
                name: field_name,
                field,
                test,
            });
        }
    }
    errors.finish()?;
    Ok(out)
}

fn condition_test(
    value: &Spanned<toml::Value>,
    dataset: Dataset,
    ctx: &FileCtx<'_>,
) -> Result<ConditionTest, PolicyError> {
    let bad = || {
        ctx.err(
            "a `when` condition is a value, a list of values, `{ present = true|false }`, `{ not = value|[values] }`, `{ gt|ge|lt|le = value }` (the value may be `{ param = \"NAME\" }` or `{ field = \"NAME\" }`) or `{ param = \"NAME\" }` (one of the parameter's values, or of a table parameter's keys)".into(),
            value.span(),
        )
    };
    match value.get_ref() {
        toml::Value::Table(t) => {
            if t.len() != 1 {
                return Err(bad());
            }
            match t.iter().next() {
                Some((k, toml::Value::Boolean(b))) if k == "present" => {
                    Ok(ConditionTest::Present(*b))
                }
                Some((k, toml::Value::String(name))) if k == "param" => {
                    let name = Spanned::new(value.span(), name.clone());
                    // A table parameter: one of its keys (`physician_on_site.NY` for "NY").
                    if let toml::Value::Table(t) = ctx.param(&name)? {
                        return Ok(ConditionTest::OneOf(
                            t.keys().map(|k| Literal::Str(k.clone())).collect(),
                        ));
                    }
                    literals(ctx.param(&name)?)
                        .map(ConditionTest::OneOf)
                        .ok_or_else(|| {
                            ctx.err(
                                format!(
                                    "parameter `{}` is not a value or a list of values",
                                    name.get_ref()
                                ),
                                value.span(),
                            )
                        })
                }
                Some((k, v)) if k == "not" => {
                    literals(v).map(ConditionTest::NoneOf).ok_or_else(bad)
                }
                Some((k, v)) if ["gt", "ge", "lt", "le"].contains(&k.as_str()) => {
                    let op = match k.as_str() {
                        "gt" => CompareOp::Gt,
                        "ge" => CompareOp::Ge,
                        "lt" => CompareOp::Lt,
                        _ => CompareOp::Le,
                    };
                    compare_operand(op, v, value, dataset, ctx)?.ok_or_else(bad)
                }
                Some((k, _)) => Err(ctx
                    .err(format!("unknown condition `{k}`"), value.span())
                    .with_help(suggestion(
                        k,
                        ["present", "not", "gt", "ge", "lt", "le", "param"],
                    ))),
                None => Err(bad()),
            }
        }
        other => literals(other).map(ConditionTest::OneOf).ok_or_else(bad),
    }
}

/// A condition's values against the type of its field: a value of another kind, or an enum
/// value the schema does not list, would silently never match. `Err((message, help))`.
pub(super) fn test_fits_field(
    name: &str,
    ty: Option<FieldType>,
    test: &ConditionTest,
) -> Result<(), (String, Option<String>)> {
    let Some(ty) = ty else { return Ok(()) };
    let lits: &[Literal] = match test {
        ConditionTest::OneOf(l) | ConditionTest::NoneOf(l) => l,
        ConditionTest::Compare(_, l) => std::slice::from_ref(l),
        ConditionTest::Present(_) | ConditionTest::CompareField(..) => return Ok(()),
    };
    for lit in lits {
        let fits = match (ty, lit) {
            (FieldType::Str, Literal::Str(_)) => true,
            (FieldType::Enum(values), Literal::Str(s)) => {
                if !values.contains(&s.as_str()) {
                    return Err((
                        format!("`{s}` is not a value of `{name}`"),
                        suggestion(s, values.iter().copied())
                            .or_else(|| Some(format!("values: {}", values.join(", ")))),
                    ));
                }
                true
            }
            (FieldType::Int | FieldType::Float, Literal::Int(_) | Literal::Float(_)) => true,
            (FieldType::Bool, Literal::Bool(_)) => true,
            (FieldType::Date, Literal::Date(_)) => true,
            (FieldType::Ts, _) => {
                return Err((
                    format!("`{name}` is a time: a condition cannot compare it with a value"),
                    Some("compare it with another field (`{ lt = { field = \"NAME\" } }`) or use a rule script".into()),
                ));
            }
            (FieldType::List, _) => {
                return Err((
                    format!("`{name}` is a list: a condition cannot test it with a value"),
                    Some("use a rule script (`x in r.field`)".into()),
                ));
            }
            _ => false,
        };
        if !fits {
            let quoted = matches!(lit, Literal::Str(_));
            let help = match ty {
                FieldType::Bool if quoted => "write `true` or `false` without quotes",
                FieldType::Int | FieldType::Float if quoted => "write the number without quotes",
                FieldType::Date if quoted => "write the date without quotes (`2026-01-01`)",
                FieldType::Str => "write the value in quotes",
                _ => "write a value of the field's type",
            };
            return Err((
                format!(
                    "`{name}` is {}, but the condition gives {}",
                    type_words(ty.name()),
                    literal_kind(lit)
                ),
                Some(help.into()),
            ));
        }
    }
    Ok(())
}

/// "a boolean", "an integer", "text".
fn type_words(name: &str) -> String {
    match name {
        "text" => "text".into(),
        n if n.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {n}"),
        n => format!("a {n}"),
    }
}

fn literal_kind(l: &Literal) -> String {
    match l {
        Literal::Str(s) => format!("the text \"{s}\""),
        Literal::Int(i) => format!("the number {i}"),
        Literal::Float(f) => format!("the number {f}"),
        Literal::Bool(b) => format!("the boolean {b}"),
        Literal::Date(d) => format!("the date {d}"),
    }
}

/// The right side of `{ gt|ge|lt|le = ... }`: a value, a parameter's single value
/// (`{ param = "NAME" }`), or another field of the record (`{ field = "NAME" }`); `None` for
/// anything else.
fn compare_operand(
    op: CompareOp,
    v: &toml::Value,
    at: &Spanned<toml::Value>,
    dataset: Dataset,
    ctx: &FileCtx<'_>,
) -> Result<Option<ConditionTest>, PolicyError> {
    let toml::Value::Table(t) = v else {
        return Ok(literal(v).map(|l| ConditionTest::Compare(op, l)));
    };
    match t.iter().next() {
        Some((k, toml::Value::String(name))) if t.len() == 1 && k == "param" => {
            let name = Spanned::new(at.span(), name.clone());
            let l = literal(ctx.param(&name)?).ok_or_else(|| {
                ctx.err(
                    format!(
                        "parameter `{}` is not a single value to compare with",
                        name.get_ref()
                    ),
                    at.span(),
                )
            })?;
            Ok(Some(ConditionTest::Compare(op, l)))
        }
        Some((k, toml::Value::String(name))) if t.len() == 1 && k == "field" => {
            let name = Spanned::new(at.span(), name.clone());
            let (name, field) = ctx.field(dataset, &name)?;
            Ok(Some(ConditionTest::CompareField(op, name, field)))
        }
        _ => Ok(None),
    }
}

/// Each addendum's scope and text, in file order.
fn addenda(
    specs: &[Spanned<AddendumSpec>],
    dataset: Dataset,
    ctx: &FileCtx<'_>,
) -> Result<Vec<(Vec<Condition>, String)>, PolicyError> {
    let mut addenda = Vec::new();
    for a in specs {
        let a = a.get_ref();
        addenda.push((conditions(&a.when, dataset, ctx)?, a.text.clone()));
    }
    Ok(addenda)
}

/// Named fields of the rule's dataset (`requires`, `evidence`).
fn field_list(
    names: &[Spanned<String>],
    dataset: Dataset,
    ctx: &FileCtx<'_>,
) -> Result<Vec<(String, FieldRef)>, PolicyError> {
    let mut errors = Collect::default();
    let fields = names
        .iter()
        .filter_map(|n| errors.take(ctx.field(dataset, n)))
        .collect();
    errors.finish()?;
    Ok(fields)
}

/// Severity by a field's value, as [`Rule::severity_by`] holds it.
type SeverityByValue = (FieldRef, BTreeMap<String, Severity>);

fn severity_by(
    by: Option<&Spanned<SeverityBy>>,
    dataset: Dataset,
    ctx: &FileCtx<'_>,
) -> Result<Option<SeverityByValue>, PolicyError> {
    let Some(by) = by else { return Ok(None) };
    let by = by.get_ref();
    let (_, field) = ctx.field(dataset, &by.field)?;
    let mut map = BTreeMap::new();
    for (value, sev) in &by.values {
        map.insert(value.clone(), parse_severity(sev, ctx)?);
    }
    Ok(Some((field, map)))
}

fn parse_severity(s: &Spanned<String>, ctx: &FileCtx<'_>) -> Result<Severity, PolicyError> {
    Severity::parse(s.get_ref()).ok_or_else(|| {
        ctx.err(format!("unknown severity `{}`", s.get_ref()), s.span())
            .with_help(
                suggestion(s.get_ref(), Severity::ALL.iter().map(|v| v.name()))
                    .or(Some("one of critical, high, medium, low, info".into())),
            )
    })
}
