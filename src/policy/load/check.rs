//! A rule's `check` table to a [`Check`]: a known kind, only the keys that kind takes, then one
//! builder per kind (script checks, which read a file of the pack, live in `check_script`).

use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;

use super::check_script::script_check;
use super::context::FileCtx;
use super::literal::{literal, literals};
use crate::bundle::schema::Dataset;
use crate::policy::error::{Collect, PolicyError, suggestion};
use crate::policy::fields::FieldRef;
use crate::policy::file::CheckSpec;
use crate::policy::model::{BUILTIN_CHECKS, CHECK_KINDS, Check, CompareOp, Operand};
use crate::policy::script;

/// Which keys each check kind takes (besides `kind`).
fn allowed_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "required" => &["fields"],
        "compare" => &["field", "op", "value", "param", "other"],
        "one_of" => &["field", "values", "param"],
        "duration" => &["from", "to", "max_s", "param"],
        "reference" => &["field", "dataset"],
        "expr" => &["expr"],
        "script" => &["file"],
        "builtin" => &["name"],
        _ => &[],
    }
}

/// One `check` table being built: the spec, where it is, and the rule's dataset.
pub(super) struct CheckSite<'a> {
    pub(super) spec: &'a CheckSpec,
    /// The whole `check` table, where "needs `key`" errors point.
    span: Range<usize>,
    pub(super) dataset: Dataset,
    kind: &'a str,
    pub(super) ctx: &'a FileCtx<'a>,
}

impl CheckSite<'_> {
    /// The error for a missing key this kind needs.
    pub(super) fn need(&self, name: &str) -> PolicyError {
        self.ctx.err(
            format!("a `{}` check needs `{name}`", self.kind),
            self.span.clone(),
        )
    }

    /// A field of the rule's dataset named by a key this kind needs.
    fn field(
        &self,
        f: &Option<Spanned<String>>,
        name: &str,
    ) -> Result<(String, FieldRef), PolicyError> {
        self.ctx
            .field(self.dataset, f.as_ref().ok_or_else(|| self.need(name))?)
    }
}

pub(super) fn build_check(
    spec: &CheckSpec,
    span: Range<usize>,
    dataset: Dataset,
    rule_id: &str,
    ctx: &FileCtx<'_>,
    scripts: &mut Vec<(String, String, u64)>,
) -> Result<Check, PolicyError> {
    let kind = spec.kind.get_ref().as_str();
    check_kind(spec, ctx)?;
    check_keys(spec, kind, ctx)?;
    let site = CheckSite {
        spec,
        span,
        dataset,
        kind,
        ctx,
    };
    match kind {
        "required" => required(&site),
        "compare" => compare(&site),
        "one_of" => one_of(&site),
        "duration" => duration(&site),
        "reference" => reference(&site),
        "expr" => expr(&site, rule_id),
        "script" => script_check(&site, rule_id, scripts),
        _ => builtin(&site),
    }
}

fn check_kind(spec: &CheckSpec, ctx: &FileCtx<'_>) -> Result<(), PolicyError> {
    let kind = spec.kind.get_ref().as_str();
    if !CHECK_KINDS.contains(&kind) {
        return Err(ctx
            .err(format!("unknown check kind `{kind}`"), spec.kind.span())
            .with_help(
                suggestion(kind, CHECK_KINDS)
                    .or(Some(format!("check kinds: {}", CHECK_KINDS.join(", ")))),
            ));
    }
    Ok(())
}

/// Every key that is set belongs to `kind`; the first stray key is the error.
fn check_keys(spec: &CheckSpec, kind: &str, ctx: &FileCtx<'_>) -> Result<(), PolicyError> {
    for (key, key_span) in spec.set_keys() {
        if !allowed_keys(kind).contains(&key) {
            return Err(ctx
                .err(
                    format!("key `{key}` does not belong to a `{kind}` check"),
                    key_span,
                )
                .with_help(Some(format!(
                    "a `{kind}` check takes: {}",
                    allowed_keys(kind).join(", ")
                ))));
        }
    }
    Ok(())
}

fn required(site: &CheckSite<'_>) -> Result<Check, PolicyError> {
    let fields = site
        .spec
        .fields
        .as_ref()
        .ok_or_else(|| site.need("fields"))?;
    if fields.is_empty() {
        return Err(site.need("fields"));
    }
    Ok(Check::Required(
        fields
            .iter()
            .map(|f| site.ctx.field(site.dataset, f))
            .collect::<Result<_, _>>()?,
    ))
}

fn compare(site: &CheckSite<'_>) -> Result<Check, PolicyError> {
    let ctx = site.ctx;
    let op_s = site.spec.op.as_ref().ok_or_else(|| site.need("op"))?;
    let op = CompareOp::parse(op_s.get_ref()).ok_or_else(|| {
        ctx.err(
            format!("unknown operator `{}`", op_s.get_ref()),
            op_s.span(),
        )
        .with_help(Some(format!("operators: {}", CompareOp::NAMES.join(" "))))
    })?;
    let operand = compare_operand(site)?;
    let field = site.field(&site.spec.field, "field")?;
    // The value (or parameter) must be of the field's kind, or the check could never hold.
    if let Operand::Literal(l) = &operand
        && let Err((message, help)) = super::rule::test_fits_field(
            &field.0,
            crate::policy::fields::field_type(site.dataset, field.1),
            &crate::policy::model::ConditionTest::Compare(op, l.clone()),
        )
    {
        let e = match (&site.spec.param, &site.spec.value) {
            (Some(p), _) => ctx.param_err(
                p.get_ref(),
                format!("parameter `{}`: {message}", p.get_ref()),
                p.span(),
            ),
            (None, Some(v)) => ctx.err(message, v.span()),
            (None, None) => ctx.err(message, site.span.clone()),
        };
        return Err(e.with_help(help));
    }
    Ok(Check::Compare { field, op, operand })
}

/// What a `compare` check compares with: exactly one of `value`, `param` or `other`.
fn compare_operand(site: &CheckSite<'_>) -> Result<Operand, PolicyError> {
    let (spec, ctx) = (site.spec, site.ctx);
    Ok(match (&spec.value, &spec.param, &spec.other) {
        (Some(v), None, None) => Operand::Literal(literal(v.get_ref()).ok_or_else(|| {
            ctx.err(
                "`value` must be a string, number, boolean or date".into(),
                v.span(),
            )
        })?),
        (None, Some(p), None) => {
            let v = ctx.param(p)?;
            Operand::Literal(literal(v).ok_or_else(|| {
                ctx.err(
                    format!(
                        "parameter `{}` must be a string, number, boolean or date",
                        p.get_ref()
                    ),
                    p.span(),
                )
            })?)
        }
        (None, None, Some(o)) => {
            let (n, r) = ctx.field(site.dataset, o)?;
            Operand::Field(n, r)
        }
        _ => {
            return Err(ctx.err(
                "a `compare` check needs exactly one of `value`, `param` or `other`".into(),
                site.span.clone(),
            ));
        }
    })
}

fn one_of(site: &CheckSite<'_>) -> Result<Check, PolicyError> {
    let (spec, ctx) = (site.spec, site.ctx);
    let values = match (&spec.values, &spec.param) {
        (Some(v), None) => v
            .get_ref()
            .iter()
            .map(literal)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                ctx.err(
                    "`values` must hold strings, numbers, booleans or dates".into(),
                    v.span(),
                )
            })?,
        (None, Some(p)) => literals(ctx.param(p)?).ok_or_else(|| {
            ctx.err(
                format!("parameter `{}` must be a list of values", p.get_ref()),
                p.span(),
            )
        })?,
        _ => {
            return Err(ctx.err(
                "a `one_of` check needs exactly one of `values` or `param`".into(),
                site.span.clone(),
            ));
        }
    };
    Ok(Check::OneOf {
        field: site.field(&spec.field, "field")?,
        values,
    })
}

fn duration(site: &CheckSite<'_>) -> Result<Check, PolicyError> {
    let (spec, ctx) = (site.spec, site.ctx);
    let max_s = match (&spec.max_s, &spec.param) {
        (Some(m), None) => *m.get_ref(),
        (None, Some(p)) => match ctx.param(p)? {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            _ => {
                return Err(ctx.err(
                    format!("parameter `{}` must be a number of seconds", p.get_ref()),
                    p.span(),
                ));
            }
        },
        _ => {
            return Err(ctx.err(
                "a `duration` check needs exactly one of `max_s` or `param`".into(),
                site.span.clone(),
            ));
        }
    };
    Ok(Check::Duration {
        from: site.field(&spec.from, "from")?,
        to: site.field(&spec.to, "to")?,
        max_s,
    })
}

fn reference(site: &CheckSite<'_>) -> Result<Check, PolicyError> {
    let ds = site
        .spec
        .dataset
        .as_ref()
        .ok_or_else(|| site.need("dataset"))?;
    let target = Dataset::from_name(ds.get_ref())
        .filter(|d| d.key_field().is_some())
        .ok_or_else(|| {
            site.ctx
                .err(
                    format!("`{}` is not a dataset with a key", ds.get_ref()),
                    ds.span(),
                )
                .with_help(suggestion(
                    ds.get_ref(),
                    Dataset::ALL.iter().map(|d| d.name()),
                ))
        })?;
    Ok(Check::Reference {
        field: site.field(&site.spec.field, "field")?,
        dataset: target,
    })
}

fn expr(site: &CheckSite<'_>, rule_id: &str) -> Result<Check, PolicyError> {
    let expr = site.spec.expr.as_ref().ok_or_else(|| site.need("expr"))?;
    let ast = script::compile_expr(expr.get_ref()).map_err(|e| {
        site.ctx.err(
            format!(
                "rule `{rule_id}`: the expression does not compile: {}",
                e.message
            ),
            expr.span(),
        )
    })?;
    // The expression's text starts after the opening quote of its TOML string.
    let at = |pos: Option<(usize, usize)>| {
        let start = expr.span().start + 1;
        match pos {
            Some((1, col)) => start + col.saturating_sub(1)..start + col,
            _ => expr.span(),
        }
    };
    let mut errors = Collect::default();
    for issue in super::script_names::check_expr(&ast, site.dataset, site.ctx.params) {
        let message = format!("rule `{rule_id}`: {}", issue.message);
        let e = match &issue.parameter {
            Some(p) => site.ctx.param_err(p, message, at(issue.position)),
            None => site.ctx.err(message, at(issue.position)),
        };
        errors.push(e.with_help(issue.help));
    }
    errors.finish()?;
    Ok(Check::Expr {
        source: expr.get_ref().clone(),
        ast: Arc::new(ast),
    })
}

fn builtin(site: &CheckSite<'_>) -> Result<Check, PolicyError> {
    let name = site.spec.name.as_ref().ok_or_else(|| site.need("name"))?;
    if !BUILTIN_CHECKS.contains(&name.get_ref().as_str()) {
        return Err(site
            .ctx
            .err(
                format!("unknown builtin check `{}`", name.get_ref()),
                name.span(),
            )
            .with_help(suggestion(name.get_ref(), BUILTIN_CHECKS.iter().copied())));
    }
    Ok(Check::Builtin(name.get_ref().clone()))
}
