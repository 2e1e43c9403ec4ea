//! The export-integrity checks (DQ-001..DQ-007): the reader's contract, computed in Rust.

use crate::bundle::schema::Dataset;

/// One data-quality observation; the engine turns it into a finding of the export-integrity pack.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// `DQ-001` .. `DQ-007`.
    pub rule: &'static str,
    pub dataset: Dataset,
    /// Index of the record in its table, or `None` for DQ-007 (a line, not a record).
    pub record: Option<usize>,
    /// Index into `Bundle::files`.
    pub file: u32,
    pub line: u32,
    /// `subject.key`: the record's key, or `file:line` for records without one and for DQ-007.
    pub key: String,
    pub message: String,
    pub evidence: serde_json::Map<String, serde_json::Value>,
}

/// Observations in walk order, and how many records (or files, for DQ-007) each rule looked at.
#[derive(Debug, Default)]
pub struct QualityReport {
    pub observations: Vec<Observation>,
    /// `rule -> evaluated` (records the rule applied to, passed + failed).
    pub evaluated: std::collections::BTreeMap<&'static str, u64>,
}
