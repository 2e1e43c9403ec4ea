//! report.html: the report model rendered by minijinja from `report-templates/*.j2` (embedded;
//! `--templates DIR` overrides). HTML auto-escaping is on for every template and undefined
//! variables are errors, so a record value can never become markup and a template typo fails.

use std::path::Path;

use include_dir::{Dir, include_dir};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::report::model::ReportModel;

/// The shipped templates, embedded so the binary works from any directory.
pub static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/report-templates");

/// The template rendered for report.html.
pub const REPORT_TEMPLATE: &str = "report.html.j2";

#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error("cannot read templates from `{path}`: {message}")]
    Templates { path: String, message: String },
    #[error("template error: {0:#}")]
    Render(#[from] minijinja::Error),
}

/// The template files (name, text, display path) from `dir`, or the embedded ones.
pub fn template_sources(dir: Option<&Path>) -> Result<Vec<(String, String, String)>, HtmlError> {
    let mut out = Vec::new();
    match dir {
        None => {
            for f in TEMPLATES.files() {
                let name = f.path().to_string_lossy().into_owned();
                let text = f.contents_utf8().ok_or_else(|| HtmlError::Templates {
                    path: format!("builtin:{name}"),
                    message: "not valid UTF-8".into(),
                })?;
                out.push((
                    name.clone(),
                    text.to_string(),
                    format!("builtin:report-templates/{name}"),
                ));
            }
        }
        Some(dir) => {
            let err = |message: String| HtmlError::Templates {
                path: dir.display().to_string(),
                message,
            };
            let entries = std::fs::read_dir(dir).map_err(|e| err(e.to_string()))?;
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                if !path.is_file() {
                    continue;
                }
                let name = entry.file_name().to_string_lossy().into_owned();
                let text =
                    std::fs::read_to_string(&path).map_err(|e| err(format!("`{name}`: {e}")))?;
                out.push((name, text, path.display().to_string()));
            }
            if !out.iter().any(|(n, _, _)| n == REPORT_TEMPLATE) {
                return Err(err(format!("no `{REPORT_TEMPLATE}` in the folder")));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Renders report.html.
pub fn render(model: &ReportModel, templates: Option<&Path>) -> Result<String, HtmlError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    for (name, text, _) in template_sources(templates)? {
        env.add_template_owned(name, text)?;
    }
    let template = env.get_template(REPORT_TEMPLATE)?;
    let html = template.render(minijinja::context! { r => minijinja::value::Serde(model) })?;
    Ok(html)
}
