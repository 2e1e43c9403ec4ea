//! The rule catalogue and rule explanations, generated from the packs themselves: every rule
//! described back in the names its file used, with the parameters it reads and their values.
//!
//! `facts` describes one rule of one version and `params` finds the parameters it reads;
//! `model` builds the catalogue from those, `explain` one rule across versions; `markdown` and
//! `html` write the catalogue.

mod explain;
mod facts;
mod html;
mod markdown;
mod model;
mod params;

pub use explain::{ExplainedVersion, Explanation, explain, explain_text, rule_ids};
pub use facts::{
    CheckFacts, RuleFacts, describe_condition, describe_version, effective_range, field_name,
    join_and, toml_to_json, value_text,
};
pub use html::{RenderError, catalog_html};
pub use markdown::catalog_markdown;
pub use model::{
    Catalog, PackEntry, ParamRow, ParamValue, RuleRow, VersionEntry, by_version, catalog,
};
pub use params::{RuleParams, params_read};
