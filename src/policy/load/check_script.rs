//! Script checks: a rule's `.rhai` file read from its pack, compiled, required to define
//! `check(r, params)`, and listed once among the version's scripts (path, sha256, bytes).

use std::sync::Arc;

use super::check::CheckSite;
use crate::digest::sha256_hex;
use crate::policy::error::PolicyError;
use crate::policy::model::Check;
use crate::policy::script::{self, ScriptError};

pub(super) fn script_check(
    site: &CheckSite<'_>,
    rule_id: &str,
    scripts: &mut Vec<(String, String, u64)>,
) -> Result<Check, PolicyError> {
    let (shown, text) = read_script(site)?;
    let ast =
        script::compile_script(&text).map_err(|e| compile_error(&shown, &text, rule_id, &e))?;
    if !script::defines_check(&ast) {
        return Err(PolicyError::new(shown, format!("rule `{rule_id}`: script defines no `fn check(r, params)`"))
            .with_help(Some("a rule script defines `fn check(r, params) { ... }` returning pass(), fail(#{...}) or not_applicable(\"reason\")".into())));
    }
    if !scripts.iter().any(|(p, _, _)| *p == shown) {
        scripts.push((
            shown.clone(),
            sha256_hex(text.as_bytes()),
            text.len() as u64,
        ));
    }
    Ok(Check::Script {
        path: shown,
        ast: Arc::new(ast),
        source: text.into(),
    })
}

/// The script named by `file`: its name as shown to users, and its text.
fn read_script(site: &CheckSite<'_>) -> Result<(String, String), PolicyError> {
    let ctx = site.ctx;
    let file = site.spec.file.as_ref().ok_or_else(|| site.need("file"))?;
    let name = file.get_ref();
    let shown = ctx.source.display(name);
    let bytes = ctx.source.read(name).ok_or_else(|| {
        ctx.err(
            format!("script `{name}` not found in the pack folder"),
            file.span(),
        )
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ctx.err(format!("script `{name}` is not valid UTF-8"), file.span()))?;
    Ok((shown, text))
}

/// A compile error located in the script itself, not in the policy file.
fn compile_error(shown: &str, text: &str, rule_id: &str, e: &ScriptError) -> PolicyError {
    let mut pe = PolicyError::new(
        shown.to_string(),
        format!("rule `{rule_id}`: script does not compile: {}", e.message),
    );
    if let Some((line, col)) = e.position {
        pe = pe.at(
            text,
            Some(offset_of(text, line, col)..offset_of(text, line, col) + 1),
        );
    }
    pe
}

/// The byte offset of 1-based `line` and `col`, clamped to the line and the text.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + col.saturating_sub(1).min(l.len());
        }
        offset += l.len();
    }
    text.len()
}
