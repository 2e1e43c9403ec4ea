//! Parameters declared but read by nothing: a likely misspelling (`risk_sec = 60` beside a rule
//! reading `risk_s`), refused at load like any other mistake.
//!
//! A parameter counts as used by `param = "x"` in a check, `{param.x}` in a message or citation,
//! `{ param = "x" }` in a condition, a `[[metric]]` that reads it, the pack data the engine reads
//! (`documentation`, `supervision_levels`, `unlisted_contrast_level`), or `params.x` /
//! `params["x"]` in a rule's `expr` or script text (comments included). A script that indexes
//! `params` with anything but a string literal (`params[name]`) may read any parameter, so it
//! marks them all used.

use std::collections::BTreeSet;
use std::ops::Range;

use super::context::FileCtx;
use crate::policy::error::PolicyError;
use crate::policy::file::{PACK_DATA_PARAMETERS, PolicyFile};

/// One error per declared parameter nothing reads.
///
/// Read from the file as written, so it runs (and reports) even when a rule has other mistakes.
pub(super) fn unused_parameters(file: &PolicyFile, ctx: &FileCtx<'_>) -> Vec<PolicyError> {
    let mut used: BTreeSet<String> = PACK_DATA_PARAMETERS.iter().map(|p| p.to_string()).collect();
    for spec in &file.metrics {
        let spec = spec.get_ref();
        for table in std::iter::once(&spec.when).chain(spec.counts.iter().map(|c| c.get_ref())) {
            table
                .values()
                .for_each(|v| param_refs(v.get_ref(), &mut used));
        }
        if let Some(per) = &spec.per {
            let when = &per.get_ref().when;
            when.values()
                .for_each(|v| param_refs(v.get_ref(), &mut used));
        }
        if let Some(shown) = &spec.parameters {
            used.extend(shown.get_ref().values().map(|n| n.get_ref().clone()));
        }
    }
    for spec in &file.rules {
        let spec = spec.get_ref();
        let check = spec.check.get_ref();
        if let Some(p) = &check.param {
            used.insert(p.get_ref().clone());
        }
        used.extend(message_params(spec.message.get_ref()));
        used.extend(message_params(spec.citation.get_ref()));
        for value in spec.when.values() {
            param_refs(value.get_ref(), &mut used);
        }
        let source = match (&check.expr, &check.file) {
            (Some(expr), _) => expr.get_ref().clone(),
            (None, Some(f)) => match ctx.source.read(f.get_ref()) {
                Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                None => continue,
            },
            _ => continue,
        };
        let uses = rhai_params(&source);
        if uses.dynamic {
            return Vec::new();
        }
        used.extend(uses.names.into_iter().map(|(n, _)| n));
    }
    let mut spans: Vec<(&String, &Range<usize>)> = ctx.param_spans.iter().collect();
    spans.sort_by_key(|(_, s)| s.start);
    spans
        .into_iter()
        .filter(|(name, _)| !used.contains(*name))
        .map(|(name, span)| {
            ctx.err(
                format!("parameter `{name}` is declared but no rule or metric uses it"),
                span.clone(),
            )
            .with_help(Some(format!(
                "use it (`param = \"{name}\"` in a check, `{{param.{name}}}` in a message, `params.{name}` in Rhai) or remove it"
            )))
        })
        .collect()
}

/// The `{param.x}` placeholders of a message (`{{` is a literal brace).
/// Every `{ param = "NAME" }` in a condition value, at any depth.
fn param_refs(v: &toml::Value, used: &mut BTreeSet<String>) {
    match v {
        toml::Value::Table(t) => {
            if let Some(toml::Value::String(name)) = t.get("param") {
                used.insert(name.clone());
            }
            t.values().for_each(|inner| param_refs(inner, used));
        }
        toml::Value::Array(items) => items.iter().for_each(|i| param_refs(i, used)),
        _ => {}
    }
}

fn message_params(message: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = message;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            rest = stripped;
            continue;
        }
        let Some(end) = after.find('}') else { break };
        if let Some(p) = after[..end].trim().strip_prefix("param.") {
            out.push(p.to_string());
        }
        rest = &after[end + 1..];
    }
    out
}

/// The parameters a piece of Rhai reads.
#[derive(Debug, Default, PartialEq)]
struct RhaiUses {
    /// `params.x` and `params["x"]`, with the byte range of the name.
    names: Vec<(String, Range<usize>)>,
    /// `params[expr]`: any parameter may be read.
    dynamic: bool,
}

fn rhai_params(source: &str) -> RhaiUses {
    let mut uses = RhaiUses::default();
    let bytes = source.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(i) = source[from..].find("params").map(|i| i + from) {
        from = i + "params".len();
        if (i > 0 && is_ident(bytes[i - 1])) || bytes.get(from).is_some_and(|b| is_ident(*b)) {
            continue;
        }
        let mut j = from;
        while bytes.get(j).is_some_and(|b| *b == b' ') {
            j += 1;
        }
        match bytes.get(j) {
            Some(b'.') => {
                let start = j + 1;
                let mut end = start;
                while bytes.get(end).is_some_and(|b| is_ident(*b)) {
                    end += 1;
                }
                if end > start {
                    uses.names
                        .push((source[start..end].to_string(), start..end));
                }
            }
            Some(b'[') => {
                let start = j + 2;
                let close = source[j + 1..].find(']').map(|k| k + j + 1);
                match close {
                    Some(close)
                        if bytes.get(j + 1) == Some(&b'"')
                            && close > start
                            && bytes.get(close - 1) == Some(&b'"') =>
                    {
                        uses.names
                            .push((source[start..close - 1].to_string(), start..close - 1));
                    }
                    _ => uses.dynamic = true,
                }
            }
            _ => {}
        }
    }
    uses
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_parameters_in_rhai() {
        let u = rhai_params(
            r#"fn check(r, params) { params.a < params ["b"] && myparams.c || params.d_e || params[k] }"#,
        );
        let names: Vec<&str> = u.names.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b", "d_e"]);
        assert!(u.dynamic);
        let u = rhai_params(r#"params["x"] + params.min[class]"#);
        let names: Vec<&str> = u.names.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x", "min"]);
        assert!(!u.dynamic);
    }

    #[test]
    fn finds_parameters_in_messages() {
        assert_eq!(
            message_params("{a} {param.x} {{param.y}} {evidence.z} { param.w }"),
            ["x", "w"]
        );
    }
}
