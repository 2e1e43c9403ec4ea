//! Writing what an evaluation found: findings.json, and the terminal summary.

pub mod annotations;
pub mod charts;
pub mod html;
pub mod inspect;
pub mod json;
pub mod junit;
pub mod model;
pub mod ndjson;
#[cfg(feature = "pdf")]
pub mod pdf;
pub mod sarif;
pub mod text;

use std::collections::BTreeMap;

use crate::bundle::Bundle;
use crate::eval::run::Evaluation;
use crate::policy::severity::Severity;

/// Finding counts by severity, in severity order.
pub fn counts_by_severity(eval: &Evaluation) -> BTreeMap<Severity, u64> {
    let mut counts = BTreeMap::new();
    for f in &eval.findings {
        *counts.entry(f.severity).or_default() += 1;
    }
    counts
}

/// Records read per dataset name, every dataset listed.
pub fn records_by_dataset(bundle: &Bundle) -> BTreeMap<String, usize> {
    crate::bundle::schema::Dataset::ALL
        .iter()
        .map(|d| (d.name().to_string(), bundle.table(*d).len()))
        .collect()
}
