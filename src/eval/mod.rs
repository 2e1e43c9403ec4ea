//! The engine: packs x bundle -> the typed findings model (findings, rule summaries, metrics).
//! Pure: no file I/O, no printing. `script` runs the checks `policy` compiled (Rhai, and the
//! native fast path); `world` indexes the bundle; `quality` and `metrics` run beside the rules.
//!
//! May use: `bundle`, `policy`, `digest`, `suggest`. Never `report`, `packet`, `author`,
//! `waiver` or the command line.

pub mod condition;
pub mod coverage;
pub mod documentation;
pub mod dos;
pub mod metrics;
pub mod model;
pub mod quality;
pub mod redact;
pub mod run;
pub mod script;
pub mod world;
