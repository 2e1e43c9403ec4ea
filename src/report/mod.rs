//! Writers of the findings model: findings.json, the terminal summary, JUnit, SARIF, NDJSON,
//! GitHub annotations, and the audit report (its model, charts, HTML and PDF). Each reads a
//! [`document::Document`] through the [`document::Writer`] interface; this layer may use
//! `bundle`, `policy` and `eval`, never `packet`, `author` or the command line.

pub mod annotations;
pub mod charts;
pub mod document;
#[cfg(test)]
pub(crate) mod fixture;
#[cfg(feature = "pdf")]
mod glyphs;
pub mod html;
pub mod inspect;
pub mod json;
pub mod junit;
pub mod model;
pub mod ndjson;
#[cfg(feature = "pdf")]
pub mod pdf;
pub mod sarif;
pub mod shown;
pub mod text;
