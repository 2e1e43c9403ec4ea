//! The engine: packs x bundle -> findings, rule summaries and metrics. Pure: no file I/O, no printing.

pub mod coverage;
pub mod documentation;
pub mod dos;
pub mod metrics;
pub mod model;
pub mod quality;
pub mod redact;
pub mod run;
pub mod world;

/// Checks computed in Rust that a policy file may name with `kind = "builtin"`.
pub const BUILTIN_CHECKS: [&str; 7] = [
    "DQ-001", "DQ-002", "DQ-003", "DQ-004", "DQ-005", "DQ-006", "DQ-007",
];
