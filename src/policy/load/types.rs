//! `[types]`: the type and unit of every parameter, declared beside it, so a value of the wrong
//! kind (`risk_s = "60"`, a share of 95) is refused where it is written, not discovered as a
//! rule that silently stops firing.
//!
//! ```toml
//! [parameters]
//! risk_s = 90
//! coverage_reasons = ["coverage_gap"]
//!
//! [types]
//! risk_s = "seconds"
//! coverage_reasons = "codes"
//! ```
//!
//! The pack data the engine reads (`documentation`, `supervision_levels`,
//! `unlisted_contrast_level`) has a fixed form checked on its own and takes no type.

use std::collections::BTreeMap;

use toml::Spanned;

use super::context::FileCtx;
use crate::policy::error::{PolicyError, suggestion};
use crate::policy::file::PACK_DATA_PARAMETERS;

/// The types a parameter may declare; any of them but `codes` also as `table of TYPE`.
pub const PARAMETER_TYPES: [&str; 10] = [
    "seconds", "count", "share", "rate", "number", "boolean", "date", "text", "codes", "table",
];

/// What a type accepts, in words.
fn describe(ty: &str) -> String {
    match ty {
        "seconds" => "a number of seconds (0 or more)".into(),
        "count" => "a whole number (0 or more)".into(),
        "share" => "a number from 0 to 1".into(),
        "rate" => "a number (0 or more)".into(),
        "number" => "a number".into(),
        "boolean" => "`true` or `false`".into(),
        "date" => "a date (`2026-01-01`)".into(),
        "text" => "a text in quotes".into(),
        "codes" => "a list of texts (`[\"a\", \"b\"]`)".into(),
        "table" => "a table (its entries are read by the rules that use it)".into(),
        other => match other.strip_prefix("table of ") {
            Some(inner) => format!("a table whose values are each {}", describe(inner)),
            None => other.into(),
        },
    }
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

fn fits(ty: &str, v: &toml::Value) -> bool {
    match ty {
        "seconds" | "rate" => number(v).is_some_and(|n| n >= 0.0),
        "count" => matches!(v, toml::Value::Integer(i) if *i >= 0),
        "share" => number(v).is_some_and(|n| (0.0..=1.0).contains(&n)),
        "number" => number(v).is_some(),
        "boolean" => matches!(v, toml::Value::Boolean(_)),
        "date" => matches!(v, toml::Value::Datetime(d) if d.date.is_some() && d.time.is_none()),
        "text" => matches!(v, toml::Value::String(_)),
        "codes" => matches!(v, toml::Value::Array(items)
            if items.iter().all(|i| matches!(i, toml::Value::String(_)))),
        "table" => matches!(v, toml::Value::Table(_)),
        other => match (other.strip_prefix("table of "), v) {
            (Some(inner), toml::Value::Table(t)) => t.values().all(|x| fits(inner, x)),
            _ => false,
        },
    }
}

fn known(ty: &str) -> bool {
    match ty.strip_prefix("table of ") {
        Some(inner) => inner != "codes" && inner != "table" && PARAMETER_TYPES.contains(&inner),
        None => PARAMETER_TYPES.contains(&ty),
    }
}

/// Every parameter has a known type its value fits; every type names a parameter.
pub(super) fn check_types(
    types: &BTreeMap<Spanned<String>, Spanned<String>>,
    ctx: &FileCtx<'_>,
) -> Vec<PolicyError> {
    let mut errors = Vec::new();
    let declared: BTreeMap<&str, &Spanned<String>> = types
        .iter()
        .map(|(k, v)| (k.get_ref().as_str(), v))
        .collect();
    for (name, value) in ctx.params {
        if PACK_DATA_PARAMETERS.contains(&name.as_str()) {
            continue;
        }
        let Some(ty) = declared.get(name.as_str()) else {
            errors.push(
                ctx.param_err(name, format!("parameter `{name}` declares no type"), 0..0)
                    .with_help(Some(format!(
                        "add `{name} = \"{}\"` under `[types]` (types: {}, or `table of TYPE`)",
                        guess(value),
                        PARAMETER_TYPES.join(", ")
                    ))),
            );
            continue;
        };
        let ty_name = ty.get_ref().as_str();
        if !known(ty_name) {
            continue; // reported below, at the type
        }
        if !fits(ty_name, value) {
            errors.push(
                ctx.param_err(
                    name,
                    format!(
                        "parameter `{name}` is declared `{ty_name}`, {}, but its value is {}",
                        describe(ty_name),
                        shown(value)
                    ),
                    ty.span(),
                )
                .with_help(Some(format!(
                    "write {} (or change its type under `[types]`)",
                    describe(ty_name)
                ))),
            );
        }
    }
    for (name, ty) in types {
        let n = name.get_ref();
        if PACK_DATA_PARAMETERS.contains(&n.as_str()) {
            errors.push(ctx.err(
                format!("`{n}` is pack data with a form of its own: it takes no type"),
                name.span(),
            ));
        } else if !ctx.params.contains_key(n) {
            errors.push(
                ctx.err(
                    format!("`[types]` names `{n}`, which `[parameters]` does not declare"),
                    name.span(),
                )
                .with_help(suggestion(n, ctx.params.keys().map(String::as_str))),
            );
        } else if !known(ty.get_ref()) {
            let t = ty.get_ref();
            errors.push(
                ctx.err(format!("unknown parameter type `{t}`"), ty.span())
                    .with_help(suggestion(t, PARAMETER_TYPES).or_else(|| {
                        Some(format!(
                            "types: {}, or `table of TYPE`",
                            PARAMETER_TYPES.join(", ")
                        ))
                    })),
            );
        }
    }
    errors
}

/// A type that fits `value`, for the help of a parameter without one.
fn guess(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::Integer(i) if *i >= 0 => "count",
        toml::Value::Integer(_) | toml::Value::Float(_) => "number",
        toml::Value::Boolean(_) => "boolean",
        toml::Value::Datetime(_) => "date",
        toml::Value::String(_) => "text",
        toml::Value::Array(_) => "codes",
        toml::Value::Table(_) => "table of count",
    }
}

fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("the text \"{s}\""),
        toml::Value::Array(_) => "a list".into(),
        toml::Value::Table(_) => "a table".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fit_their_types() {
        let v = |s: &str| -> toml::Value {
            toml::from_str::<toml::Table>(&format!("x = {s}"))
                .map(|t| t["x"].clone())
                .unwrap_or(toml::Value::Boolean(false))
        };
        assert!(fits("seconds", &v("90")) && fits("seconds", &v("0.5")));
        assert!(!fits("seconds", &v("\"60\"")) && !fits("seconds", &v("-1")));
        assert!(fits("count", &v("5000")) && !fits("count", &v("1.5")));
        assert!(fits("share", &v("1.0")) && !fits("share", &v("95")));
        assert!(fits("date", &v("2026-01-01")) && !fits("date", &v("\"2026-01-01\"")));
        assert!(fits("codes", &v("[\"a\", \"b\"]")) && !fits("codes", &v("[1]")));
        assert!(fits("table of rate", &v("{ a = 15, b = 0.4 }")));
        assert!(!fits("table of count", &v("{ a = \"x\" }")));
        assert!(known("table of count") && !known("table of codes") && !known("secs"));
    }
}
