//! The findings model: what an evaluation produces (findings, rule summaries, metrics), typed,
//! built once by the engine and read by every writer. Serialised, a finding is exactly the
//! object findings.json holds; the fields marked `serde(skip)` are what the engine knows beside
//! it (the record, its facility and date of service), so no writer has to look them up again.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::bundle::schema::Dataset;
use crate::policy::severity::Severity;

/// Where a finding stands: failing, or covered by a waiver in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Fail,
    Waived,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Fail => "fail",
            Status::Waived => "waived",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A record of the bundle: its dataset and its position in that dataset's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordRef {
    pub dataset: Dataset,
    pub index: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub dataset: String,
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
}

/// One finding, as findings.json writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub id: String,
    pub rule: String,
    pub policy: String,
    pub policy_version: String,
    pub severity: Severity,
    pub status: Status,
    pub subject: Subject,
    pub location: Location,
    pub message: String,
    pub evidence: serde_json::Map<String, serde_json::Value>,
    pub citation: String,
    pub remediation: String,
    pub waiver: Option<AppliedWaiver>,
    /// Position of the file in walk order, for sorting (not written).
    #[serde(skip)]
    pub file_order: u32,
    /// The record judged; none for a line that is no record (DQ-007) and for waiver findings.
    #[serde(skip)]
    pub record: Option<RecordRef>,
    /// The facility the record belongs to: an exam's, session's or coverage window's
    /// `facility_id`, a reaction's exam's, a facility's own id.
    #[serde(skip)]
    pub facility: Option<String>,
    /// The record's date of service, where it has one.
    #[serde(skip)]
    pub dos: Option<NaiveDate>,
}

/// The waiver that covers a `waived` finding, as findings.json shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedWaiver {
    /// The waivers file, as given on the command line, and the line of the `[[waiver]]`.
    pub file: String,
    pub line: usize,
    pub rule: String,
    pub subject: String,
    pub facility: Option<String>,
    pub dos_from: Option<String>,
    pub dos_to: Option<String>,
    pub justification: String,
    pub approver: String,
    pub ticket: Option<String>,
    pub created: Option<String>,
    pub expires: String,
}

/// Per-rule counts (docs/outputs.md, `summary.rules[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleSummary {
    pub rule: String,
    pub policy: String,
    pub title: String,
    pub severity: Severity,
    pub evaluated: u64,
    pub failed: u64,
    pub not_applicable: u64,
    pub reasons: BTreeMap<String, u64>,
}

/// Something a run noticed that no static check could: a rule or metric that took none of the
/// records of its dataset although the bundle has some (docs/outputs.md, `summary.warnings`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunWarning {
    /// `rule` or `metric`.
    pub kind: &'static str,
    pub id: String,
    pub policy: String,
    pub dataset: &'static str,
    /// Records of the dataset in the bundle.
    pub records: usize,
    pub message: String,
}

/// One metric value for one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub id: String,
    /// The pack version the metric belongs to in this run.
    pub policy: String,
    pub policy_version: String,
    /// The parameter values the metric used (`{}` when none).
    pub parameters: BTreeMap<String, serde_json::Value>,
    pub group: BTreeMap<String, String>,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}
