//! The parameters each rule reads: from its check's `param = "x"` (read again from the policy
//! file), its message placeholders, and `params.x` in its expression or script.

use std::collections::{BTreeMap, BTreeSet};

use crate::policy::file::PolicyFile;
use crate::policy::load::BUILTIN_PACKS;
use crate::policy::model::{Check, PackVersion, TemplatePart};

/// The parameters one rule reads.
#[derive(Debug, Clone, Default)]
pub struct RuleParams {
    /// Every parameter the rule reads: its check, script, expression or message.
    pub read: BTreeSet<String>,
    /// The `param = "x"` of its check, if any.
    pub check_param: Option<String>,
}

/// The parameters each rule of `version` reads, by rule id. Validation resolves `param = "x"`
/// to its value, so the policy file is read again for those names; scripts and expressions are
/// searched for `params.x`.
pub fn params_read(version: &PackVersion) -> BTreeMap<String, RuleParams> {
    let mut out: BTreeMap<String, RuleParams> = BTreeMap::new();
    let file: Option<PolicyFile> =
        read_source(&version.path).and_then(|text| toml::from_str(&text).ok());
    for rule in &version.rules {
        let entry = out.entry(rule.id.clone()).or_default();
        let used = &mut entry.read;
        for part in &rule.message.parts {
            if let TemplatePart::Param(p) = part {
                used.insert(p.clone());
            }
        }
        let spec = file.as_ref().and_then(|f| {
            f.rules
                .iter()
                .find(|r| r.get_ref().id.get_ref() == &rule.id)
        });
        if let Some(p) = spec.and_then(|r| r.get_ref().check.get_ref().param.as_ref()) {
            used.insert(p.get_ref().clone());
            entry.check_param = Some(p.get_ref().clone());
        }
        let code = match &rule.check {
            Check::Expr { source, .. } => Some(source.clone()),
            Check::Script { path, .. } => script_text(version, path),
            _ => None,
        };
        if let Some(code) = code {
            for name in version.parameters.keys() {
                if reads_param(&code, name) {
                    used.insert(name.clone());
                }
            }
        }
    }
    out
}

/// A script's text, when the file still has the content the pack was loaded with.
fn script_text(version: &PackVersion, path: &str) -> Option<String> {
    let text = read_source(path)?;
    let (_, sha, _) = version.scripts.iter().find(|(p, _, _)| p == path)?;
    (crate::digest::sha256_hex(text.as_bytes()) == *sha).then_some(text)
}

/// Reads a pack file by the path it is shown under (`builtin:pack/file` or a path on disk).
fn read_source(path: &str) -> Option<String> {
    match path.strip_prefix("builtin:") {
        Some(inner) => BUILTIN_PACKS
            .get_file(inner)
            .and_then(|f| f.contents_utf8())
            .map(String::from),
        None => std::fs::read_to_string(path).ok(),
    }
}

/// Whether Rhai code reads `params.name` or `params["name"]`.
fn reads_param(code: &str, name: &str) -> bool {
    let dotted = format!("params.{name}");
    let indexed = [format!("params[\"{name}\"]"), format!("params['{name}']")];
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(&dotted).any(|(i, m)| {
        let before_ok = code[..i].chars().next_back().is_none_or(|c| !ident(c));
        let after_ok = code[i + m.len()..].chars().next().is_none_or(|c| !ident(c));
        before_ok && after_ok
    }) || indexed.iter().any(|s| code.contains(s.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_params_by_name_only() {
        assert!(reads_param("if !params.allowed { }", "allowed"));
        assert!(reads_param("params[\"allowed\"]", "allowed"));
        assert!(!reads_param("params.allowed_x", "allowed"));
        assert!(!reads_param("myparams.allowed", "allowed"));
    }
}
