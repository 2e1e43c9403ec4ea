//! Why a waivers file cannot be used: it stops the run (exit 2) before any evaluation.

use crate::policy::error::PolicyError;

/// An unreadable or malformed waivers file. `Invalid` points into the file with line, column,
/// excerpt and, where one helps, a suggestion (the same rendering as a policy error).
#[derive(Debug, thiserror::Error)]
pub enum WaiverError {
    #[error("cannot read waivers file `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid waivers file: {0}")]
    Invalid(PolicyError),
}
