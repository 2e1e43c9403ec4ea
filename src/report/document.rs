//! The one input of every writer: the typed findings model of one run (the evaluation, the
//! bundle it judged, the packs that judged it and the `--as-of` stamp), and the [`Writer`]
//! interface each output format implements. A writer reads findings, rule summaries and
//! metrics as the engine built them; none reads another writer's output back.

use std::collections::BTreeMap;

use crate::bundle::Bundle;
use crate::bundle::schema::Dataset;
use crate::eval::model::{Finding, Metric, RuleSummary};
use crate::eval::run::Evaluation;
use crate::policy::model::{Pack, PackVersion};
use crate::policy::severity::Severity;

/// What one run found, with what it judged and by which packs.
#[derive(Clone, Copy)]
pub struct Document<'a> {
    /// `--as-of`, as RFC 3339 UTC with seconds.
    pub as_of: &'a str,
    pub bundle: &'a Bundle,
    pub packs: &'a [Pack],
    pub eval: &'a Evaluation,
}

/// An output format: one document in, the bytes of the output out (UTF-8 text for every format
/// but the PDF).
pub trait Writer {
    fn write(&self, doc: &Document<'_>) -> Result<String, WriteError>;
}

/// A document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot serialise the output: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot render the report: {0}")]
    Render(String),
}

impl<'a> Document<'a> {
    pub fn new(
        as_of: &'a str,
        bundle: &'a Bundle,
        packs: &'a [Pack],
        eval: &'a Evaluation,
    ) -> Self {
        Document {
            as_of,
            bundle,
            packs,
            eval,
        }
    }

    /// Findings in report order (severity, rule, place).
    pub fn findings(&self) -> &'a [Finding] {
        &self.eval.findings
    }

    /// Rule summaries in evaluation order (pack by pack, then waivers).
    pub fn rules(&self) -> &'a [RuleSummary] {
        &self.eval.rules
    }

    /// Rules and metrics that took no record of a dataset that has records.
    pub fn warnings(&self) -> &'a [crate::eval::model::RunWarning] {
        &self.eval.warnings
    }

    pub fn metrics(&self) -> &'a [Metric] {
        &self.eval.metrics
    }

    /// Every version of every pack that ran, in pack order.
    pub fn versions(&self) -> impl Iterator<Item = &'a PackVersion> + 'a {
        self.packs
            .iter()
            .flat_map(|p| p.versions.iter().map(|v| &**v))
    }

    /// The version of vigil that wrote the document.
    pub fn tool_version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// Finding counts by severity (waived findings included), in severity order; severities
    /// without findings are left out.
    pub fn counts_by_severity(&self) -> BTreeMap<Severity, u64> {
        let mut counts = BTreeMap::new();
        for f in self.findings() {
            *counts.entry(f.severity).or_default() += 1;
        }
        counts
    }

    /// Records read per dataset name, every dataset listed.
    pub fn records_by_dataset(&self) -> BTreeMap<&'static str, usize> {
        Dataset::ALL
            .iter()
            .map(|d| (d.name(), self.bundle.table(*d).len()))
            .collect()
    }

    /// A numeric parameter a metric used (its first value, as every value of one metric id used
    /// the same pack version).
    pub fn metric_parameter(&self, id: &str, key: &str) -> Option<f64> {
        self.metrics()
            .iter()
            .find(|m| m.id == id)
            .and_then(|m| m.parameters.get(key))
            .and_then(serde_json::Value::as_f64)
    }

    /// A metric's value for exactly `group` (empty: the overall value).
    pub fn metric(&self, id: &str, group: &[(&str, &str)]) -> Option<f64> {
        self.metrics().iter().find_map(|m| {
            let same = m.id == id
                && m.group.len() == group.len()
                && group
                    .iter()
                    .all(|(k, v)| m.group.get(*k).map(String::as_str) == Some(*v));
            // A value that is not finite is written as `null`: it has no value to show.
            same.then_some(m.value).filter(|v| v.is_finite())
        })
    }
}
