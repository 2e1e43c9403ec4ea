//! What an evaluation produces: findings, rule summaries and metrics (outputs-v1.md).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::policy::severity::Severity;

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
    pub status: String,
    pub subject: Subject,
    pub location: Location,
    pub message: String,
    pub evidence: serde_json::Map<String, serde_json::Value>,
    pub citation: String,
    pub remediation: String,
    pub waiver: Option<serde_json::Value>,
    /// Position of the file in walk order, for sorting (not written).
    #[serde(skip)]
    pub file_order: u32,
}

/// Per-rule counts (outputs-v1.md `summary.rules[]`).
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

/// One metric value for one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub id: String,
    pub group: BTreeMap<String, String>,
    pub value: f64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}
