//! Message templates: text with `{name}` placeholders, each resolved when the policy loads.

use toml::Spanned;

use super::context::FileCtx;
use crate::bundle::schema::Dataset;
use crate::policy::error::{PolicyError, suggestion};
use crate::policy::fields;
use crate::policy::model::{Template, TemplatePart};

/// `{name}` placeholders: a field name, `param.x` or `evidence.x`; `{{` and `}}` escape braces.
pub(super) fn parse_template(
    spec: &Spanned<String>,
    dataset: Dataset,
    ctx: &FileCtx<'_>,
) -> Result<Template, PolicyError> {
    let text = spec.get_ref();
    let mut parts = Vec::new();
    let mut literal_text = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                chars.next();
                literal_text.push('{');
            }
            '}' if chars.peek().map(|(_, c)| *c) == Some('}') => {
                chars.next();
                literal_text.push('}');
            }
            '{' => {
                let mut name = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(ctx.err(
                        "unclosed `{` in message (write `{{` for a literal brace)".into(),
                        spec.span(),
                    ));
                }
                if !literal_text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut literal_text)));
                }
                parts.push(placeholder(name.trim(), spec, dataset, ctx)?);
            }
            c => literal_text.push(c),
        }
    }
    if !literal_text.is_empty() {
        parts.push(TemplatePart::Text(literal_text));
    }
    Ok(Template { parts })
}

/// What one placeholder stands for; errors point at the whole message.
fn placeholder(
    name: &str,
    spec: &Spanned<String>,
    dataset: Dataset,
    ctx: &FileCtx<'_>,
) -> Result<TemplatePart, PolicyError> {
    if let Some(p) = name.strip_prefix("param.") {
        if !ctx.params.contains_key(p) {
            return Err(ctx
                .err(format!("message uses unknown parameter `{p}`"), spec.span())
                .with_help(suggestion(p, ctx.params.keys().map(String::as_str))));
        }
        return Ok(TemplatePart::Param(p.to_string()));
    }
    if let Some(e) = name.strip_prefix("evidence.") {
        return Ok(TemplatePart::Evidence(e.to_string()));
    }
    let r = fields::resolve(dataset, name).map_err(|known| {
        ctx.err(
            format!("message uses unknown field `{name}` of dataset `{dataset}`"),
            spec.span(),
        )
        .with_help(suggestion(name, known.iter().map(String::as_str)))
    })?;
    Ok(TemplatePart::Field(r))
}
