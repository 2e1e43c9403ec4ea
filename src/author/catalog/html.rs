//! The catalogue as one self-contained HTML page (`vigil policy catalog --format html`), from
//! the embedded template `report-templates/catalog/catalog.html.j2`. It sits in a folder of its
//! own there: the files at the top of `report-templates/` are the audit report's templates, each
//! read into every audit and listed with its hash among the packet's inputs.

use serde::Serialize;

use super::model::Catalog;

/// The template, embedded so the binary works from any directory.
const CATALOG_TEMPLATE: &str = include_str!("../../../report-templates/catalog/catalog.html.j2");

/// Rendering the HTML catalogue failed (a template bug, not user input).
#[derive(Debug, thiserror::Error)]
#[error("cannot render the catalogue: {0}")]
pub struct RenderError(#[from] minijinja::Error);

/// Parameter rows with their text, for the template.
#[derive(Serialize)]
struct HtmlParam<'a> {
    name: &'a str,
    text: String,
}

/// The catalogue as one self-contained HTML page, every text escaped.
pub fn catalog_html(c: &Catalog) -> Result<String, RenderError> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template("catalog.html.j2", CATALOG_TEMPLATE)?;
    let packs: Vec<minijinja::Value> = c
        .packs
        .iter()
        .map(|p| {
            let params: Vec<HtmlParam<'_>> = p
                .parameters
                .iter()
                .map(|r| HtmlParam {
                    name: &r.name,
                    text: r.text(),
                })
                .collect();
            minijinja::context! {
                id => &p.id,
                title => &p.title,
                description => &p.description,
                regulatory => p.regulatory,
                citations => &p.citations,
                source => &p.source,
                versions => minijinja::value::Serde(&p.versions),
                parameters => minijinja::value::Serde(&params),
                rules => minijinja::value::Serde(&p.rules),
            }
        })
        .collect();
    let tmpl = env.get_template("catalog.html.j2")?;
    Ok(tmpl.render(minijinja::context! { packs => packs })?)
}
