//! Script checks: a rule's `.rhai` file read from its pack, compiled, required to define
//! `check(r, params)`, and listed once among the version's scripts (path, sha256, bytes).

use std::sync::Arc;

use super::check::CheckSite;
use crate::digest::sha256_hex;
use crate::policy::error::{Collect, PolicyError};
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
    let mut errors = Collect::default();
    for issue in super::script_names::check_script(&ast, site.dataset, site.ctx.params) {
        let message = format!("rule `{rule_id}`: {}", issue.message);
        let e = match &issue.parameter {
            // A parameter of the wrong kind is fixed where it is declared.
            Some(p) if site.ctx.param_spans.contains_key(p) => {
                let mut e = site.ctx.param_err(p, message, 0..0);
                if let Some((line, col)) = issue.position {
                    e.message
                        .push_str(&format!(" (in `{shown}`, line {line}, column {col})"));
                }
                e
            }
            _ => located(&shown, &text, message, issue.position),
        };
        errors.push(e.with_help(issue.help));
    }
    errors.finish()?;
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
    located(
        shown,
        text,
        format!("rule `{rule_id}`: script does not compile: {}", e.message),
        e.position,
    )
}

/// An error at a 1-based (line, column) of the script.
fn located(shown: &str, text: &str, message: String, at: Option<(usize, usize)>) -> PolicyError {
    let pe = PolicyError::new(shown.to_string(), message);
    match at {
        Some((line, col)) => {
            let offset = offset_of(text, line, col);
            pe.at(text, Some(offset..offset + 1))
        }
        None => pe,
    }
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
