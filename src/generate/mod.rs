//! `vigil gen`: deterministic synthetic bundles for the demo, tests and benchmarks.
// STUB until helper-gen lands.
use std::path::{Path, PathBuf};
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub exams: usize,
    pub seed: u64,
    pub defect_rate: f64,
    pub start: chrono::NaiveDate,
    pub months: u32,
}
impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            exams: 500,
            seed: 1,
            defect_rate: 0.02,
            start: chrono::NaiveDate::MIN,
            months: 3,
        }
    }
}
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}
pub struct GenSummary {
    pub files: Vec<(String, u64)>,
}
pub fn generate(_opts: &GenOptions, _out: &Path) -> Result<GenSummary, GenError> {
    Err(GenError::Invalid("not yet".into()))
}
