//! The engine: packs x bundle -> findings, rule summaries and metrics. Pure: no file I/O, no printing.

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
