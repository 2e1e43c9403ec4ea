//! The engine: packs x bundle -> findings, rule summaries and metrics. Pure: no file I/O, no printing.

pub mod dos;
pub mod model;
pub mod quality;
