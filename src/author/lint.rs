//! `vigil policy lint`: what loading does not already refuse. Loading checks syntax, keys,
//! names, the version chain and that Rhai compiles; lint adds parameters that no rule uses,
//! `params.x` in Rhai naming no parameter, and a pack folder named unlike its `pack.id`.
//!
//! A parameter counts as used by `param = "x"` in a check, `{param.x}` in a message, or
//! `params.x` / `params["x"]` in a rule's `expr` or script text (comments included). A script
//! that indexes `params` with anything but a string literal (`params[name]`) may read any
//! parameter, so it marks them all used.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::policy::error::{PolicyError, suggestion};
use crate::policy::file::{PACK_DATA_PARAMETERS, PolicyFile};
use crate::policy::load::BUILTIN_PACKS;
use crate::policy::model::{Check, Pack, PackVersion};

/// What lint found in some packs.
#[derive(Debug, Default)]
pub struct LintReport {
    pub packs: usize,
    pub versions: usize,
    /// Distinct rule ids, summed over packs.
    pub rules: usize,
    pub errors: Vec<PolicyError>,
    pub warnings: Vec<PolicyError>,
}

impl LintReport {
    /// Adds what lint finds in `pack` (a pack that loaded).
    pub fn add_pack(&mut self, pack: &Pack) {
        self.packs += 1;
        self.versions += pack.versions.len();
        let ids: BTreeSet<&str> = pack
            .versions
            .iter()
            .flat_map(|v| v.rules.iter().map(|r| r.id.as_str()))
            .collect();
        self.rules += ids.len();
        if let Some(w) = folder_name_warning(pack) {
            self.warnings.push(w);
        }
        for version in &pack.versions {
            self.errors.extend(lint_version(version));
        }
    }
}

/// The text of a file as shown to users: `builtin:x/1.0.0.toml` or a path on disk.
pub fn read_shown(path: &str) -> Option<String> {
    match path.strip_prefix("builtin:") {
        Some(inner) => BUILTIN_PACKS
            .get_file(inner)
            .and_then(|f| f.contents_utf8())
            .map(str::to_string),
        None => std::fs::read_to_string(path).ok(),
    }
}

fn folder_name_warning(pack: &Pack) -> Option<PolicyError> {
    let folder = pack
        .source
        .trim_start_matches("builtin:")
        .trim_end_matches(['/', '\\']);
    let name = std::path::Path::new(folder).file_name()?.to_string_lossy();
    (name != pack.id).then(|| {
        PolicyError::new(
            pack.source.clone(),
            format!(
                "the pack folder `{name}` is not named after its `pack.id = \"{}\"`",
                pack.id
            ),
        )
        .with_help(Some(format!("rename the folder to `{}`", pack.id)))
    })
}

/// Only the `[parameters]` keys, with their spans.
#[derive(Deserialize)]
struct ParameterKeys {
    #[serde(default)]
    parameters: BTreeMap<Spanned<String>, serde::de::IgnoredAny>,
}

/// Unused parameters and unknown `params.x` in Rhai, for one version.
fn lint_version(version: &PackVersion) -> Vec<PolicyError> {
    let mut errors = Vec::new();
    let Some(text) = read_shown(&version.path) else {
        errors.push(PolicyError::new(
            version.path.clone(),
            "cannot read the file again to lint it",
        ));
        return errors;
    };
    let (Ok(file), Ok(keys)) = (
        toml::from_str::<PolicyFile>(&text),
        toml::from_str::<ParameterKeys>(&text),
    ) else {
        errors.push(PolicyError::new(
            version.path.clone(),
            "the file changed while it was linted",
        ));
        return errors;
    };
    let known: Vec<&str> = version.parameters.keys().map(String::as_str).collect();
    // Pack data is read by the engine itself, whether or not a rule names it.
    let mut used: BTreeSet<String> = PACK_DATA_PARAMETERS.iter().map(|p| p.to_string()).collect();
    // So are those the version's `[[metric]]` conditions read.
    used.extend(
        version
            .declared_metrics
            .iter()
            .flat_map(|m| m.reads.iter().cloned()),
    );
    let mut all_used = false;
    for (spec, rule) in file.rules.iter().zip(&version.rules) {
        let spec = spec.get_ref();
        if let Some(p) = &spec.check.get_ref().param {
            used.insert(p.get_ref().clone());
        }
        used.extend(message_params(spec.message.get_ref()));
        used.extend(message_params(spec.citation.get_ref()));
        // `when = { field = { param = "NAME" } }`, or `{ gt = { param = "NAME" } }`.
        for value in spec.when.values() {
            param_refs(value.get_ref(), &mut used);
        }
        let (source, shown, base) = match &rule.check {
            Check::Expr { source, .. } => {
                let base = spec
                    .check
                    .get_ref()
                    .expr
                    .as_ref()
                    .map(|e| e.span().start + 1)
                    .unwrap_or(0);
                (source.clone(), version.path.clone(), Some(base))
            }
            Check::Script { path, .. } => match read_shown(path) {
                Some(s) => (s, path.clone(), None),
                None => continue,
            },
            _ => continue,
        };
        let uses = rhai_params(&source);
        all_used |= uses.dynamic;
        for (name, span) in uses.names {
            if !version.parameters.contains_key(&name) {
                // An expr's offsets are in the TOML string; a literal '...' string maps 1:1.
                let (file_text, span) = match base {
                    Some(b) if text.get(b + span.start..b + span.end) == Some(name.as_str()) => {
                        (text.as_str(), b + span.start..b + span.end)
                    }
                    // An escape in a "..." string shifts offsets: point at the whole expression.
                    Some(b) => (text.as_str(), b.saturating_sub(1)..b + source.len()),
                    None => (source.as_str(), span),
                };
                errors.push(
                    PolicyError::new(
                        shown.clone(),
                        format!(
                            "rule `{}` reads `params.{name}`, but the version declares no such parameter",
                            rule.id
                        ),
                    )
                    .at(file_text, Some(span))
                    .with_help(
                        suggestion(&name, known.iter().copied())
                            .or(Some("declare it under `[parameters]`".into())),
                    ),
                );
            }
            used.insert(name);
        }
    }
    if all_used {
        return errors;
    }
    for key in keys.parameters.keys() {
        let name = key.get_ref();
        if !used.contains(name) {
            errors.push(
                PolicyError::new(
                    version.path.clone(),
                    format!("parameter `{name}` is declared but no rule uses it"),
                )
                .at(&text, Some(key.span()))
                .with_help(Some(format!(
                    "use it (`param = \"{name}\"` in a check, `{{param.{name}}}` in a message, `params.{name}` in Rhai) or remove it"
                ))),
            );
        }
    }
    errors
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
    use crate::policy::load::load_packs;

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

    #[test]
    fn the_shipped_packs_lint_clean() {
        let mut report = LintReport::default();
        for pack in load_packs(&[]).unwrap() {
            report.add_pack(&pack);
        }
        let errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        assert_eq!(report.packs, 5);
    }
}
