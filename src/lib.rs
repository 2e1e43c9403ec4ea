//! vigil: audits record bundles of remote contrast supervision against versioned policy packs.
//!
//! Data flows one way, and each layer uses only the layers below it (docs/architecture.md):
//!
//! ```text
//! cli (the binary)        parse arguments, call the library, map results to exit codes
//! author                  policy authoring tools: catalog, explain, diff, test, lint
//! packet                  evidence packets: tables, inputs, manifest, signatures, verify
//! waiver, baseline        exceptions and earlier runs, applied to an evaluation
//! report                  writers of the findings model: JSON, text, CI formats, HTML, PDF
//! eval                    the engine: world, rules (eval/script: Rhai and native), metrics,
//!                         data quality -> the typed findings model; no file I/O, no printing
//! policy                  packs as data: model, loading and validation, compiled scripts
//! bundle                  manifest, discovery, readers, typing, time zones
//! digest, suggest,        hashing; "did you mean"; counters for the terminal's progress line
//! progress
//! ```
//!
//! [`generate`] (synthetic bundles) and [`reference`] (CMS reference files) stand beside the
//! chain: they write bundle files and use only `bundle`-level vocabulary.

pub mod author;
pub mod baseline;
pub mod bundle;
pub mod digest;
pub mod eval;
pub mod generate;
pub mod packet;
pub mod policy;
pub mod progress;
pub mod reference;
pub mod report;
pub mod suggest;
pub mod waiver;
