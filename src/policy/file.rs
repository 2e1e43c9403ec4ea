//! The policy file as written (TOML, format version 1), before validation. See docs/policy-format.md.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The policy file format this build reads.
pub const POLICY_FORMAT_VERSION: i64 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    pub format_version: Spanned<i64>,
    pub pack: Spanned<PackHeader>,
    #[serde(default)]
    pub parameters: BTreeMap<String, toml::Value>,
    /// The type (and unit) of each parameter: `risk_s = "seconds"`.
    #[serde(default)]
    pub types: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<Spanned<RuleSpec>>,
    #[serde(default, rename = "metric")]
    pub metrics: Vec<Spanned<MetricSpec>>,
}

/// Conditions in the `when` language, as written.
pub type ConditionsSpec = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// A `[[metric]]` table: a figure the pack computes over the records in scope, by group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    pub id: Spanned<String>,
    pub title: String,
    pub dataset: Spanned<String>,
    /// The records the metric is about (the denominator of a share), in the `when` language;
    /// `any = [{...}, {...}]` holds when one of its tables does.
    #[serde(default)]
    pub when: ConditionsSpec,
    /// `count`, `share`, `per_1000`, `median`, `percentile` or `ratio`.
    pub kind: Spanned<String>,
    /// For `share` and `per_1000`: the records counted (the numerator), in the `when` language.
    #[serde(default)]
    pub counts: Option<Spanned<ConditionsSpec>>,
    /// For `share` and `per_1000`: the records of another dataset the rate is over.
    #[serde(default)]
    pub per: Option<Spanned<PerSpec>>,
    /// For `median` and `percentile`: the numeric field measured.
    #[serde(default)]
    pub field: Option<Spanned<String>>,
    /// For `median` and `percentile`: seconds from the time `from` to the time `to`.
    #[serde(default)]
    pub from: Option<Spanned<String>>,
    #[serde(default)]
    pub to: Option<Spanned<String>>,
    /// For `percentile`: which one, between 0 and 1 (0.9 for the 90th).
    #[serde(default)]
    pub p: Option<Spanned<f64>>,
    /// For `ratio`: the fields summed above and below the line.
    #[serde(default)]
    pub numerator: Option<Spanned<String>>,
    #[serde(default)]
    pub denominator: Option<Spanned<String>>,
    /// For `ratio`: a record's numerator counts at most its denominator.
    #[serde(default)]
    pub cap: bool,
    /// The group keys: `facility_id`, `month`, or a field whose values make extra groups.
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    /// The date or time field whose month `month` groups by (default: the record's date).
    #[serde(default)]
    pub month_of: Option<Spanned<String>>,
    /// How findings.json names the parameters the metric used: shown name -> parameter.
    #[serde(default)]
    pub parameters: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
}

/// `per = { dataset = "...", when = {...} }`: the denominator records of a rate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerSpec {
    pub dataset: Spanned<String>,
    #[serde(default)]
    pub when: ConditionsSpec,
}

/// Parameters the engine reads as pack data (beside any rule that names them).
pub const PACK_DATA_PARAMETERS: [&str; 3] = [
    "documentation",
    "supervision_levels",
    "unlisted_contrast_level",
];

/// The parameters that are pack data the engine itself reads (beyond values rules name), read
/// from the same text as [`PolicyFile`] with their places, for located errors. Other keys are
/// ignored here: [`PolicyFile`] checks them.
#[derive(Debug, Default, Deserialize)]
pub struct PackDataFile {
    #[serde(default)]
    pub parameters: PackDataSpec,
}

#[derive(Debug, Default, Deserialize)]
pub struct PackDataSpec {
    /// `[[parameters.documentation]]`: the documentation completeness groups.
    #[serde(default)]
    pub documentation: Option<Vec<Spanned<DocumentationSpec>>>,
    /// `supervision_levels = { "02" = "direct", ... }`: indicator to level.
    #[serde(default)]
    pub supervision_levels: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    /// The level of a contrast exam whose code has no row for its DOS year.
    #[serde(default)]
    pub unlisted_contrast_level: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentationSpec {
    /// Which reactions the group applies to, in the `when` language; `{}` for every reaction.
    pub applies: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    /// The reaction fields the group requires (a boolean field must be `true`).
    pub elements: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackHeader {
    pub id: Spanned<String>,
    pub version: Spanned<String>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub effective_from: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    pub effective_to: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    pub supersedes: Option<Spanned<String>>,
    #[serde(default)]
    pub regulatory: bool,
    #[serde(default)]
    pub citations: Vec<String>,
    #[serde(default)]
    pub changelog: Vec<String>,
    /// Metric families of format 1 before `[[metric]]`: refused with a pointer to `[[metric]]`.
    #[serde(default)]
    pub metrics: Option<Spanned<toml::Value>>,
    /// A procedure_codes table shipped with the pack, relative to the pack folder.
    #[serde(default)]
    pub procedure_codes: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: Spanned<String>,
    pub title: String,
    pub severity: Spanned<String>,
    pub dataset: Spanned<String>,
    /// Scope: `field = value` (equals), `field = [a, b]` (one of), `field = { present = bool }`,
    /// `field = { not = value | [values] }`, `field = { gt | ge | lt | le = value }`.
    #[serde(default)]
    pub when: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    /// Fields that must be present for the rule to apply; otherwise not applicable.
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    pub check: Spanned<CheckSpec>,
    pub message: Spanned<String>,
    /// Record fields copied into every finding's evidence.
    #[serde(default)]
    pub evidence: Vec<Spanned<String>>,
    /// The rule's source; `{param.NAME}` shows the value of a parameter of the version.
    pub citation: Spanned<String>,
    pub remediation: String,
    /// Severity by a field's value, e.g. `{ field = "severity", values = { severe = "high" } }`.
    #[serde(default)]
    pub severity_by: Option<Spanned<SeverityBy>>,
    /// Text appended to the message of findings whose record meets `when`.
    #[serde(default)]
    pub addendum: Vec<Spanned<AddendumSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddendumSpec {
    pub when: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityBy {
    pub field: Spanned<String>,
    pub values: BTreeMap<String, Spanned<String>>,
}

/// Every key any check kind takes; each kind accepts its own subset (checked in validation).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub kind: Spanned<String>,
    #[serde(default)]
    pub fields: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub field: Option<Spanned<String>>,
    #[serde(default)]
    pub op: Option<Spanned<String>>,
    #[serde(default)]
    pub value: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub param: Option<Spanned<String>>,
    #[serde(default)]
    pub other: Option<Spanned<String>>,
    #[serde(default)]
    pub values: Option<Spanned<Vec<toml::Value>>>,
    #[serde(default)]
    pub from: Option<Spanned<String>>,
    #[serde(default)]
    pub to: Option<Spanned<String>>,
    #[serde(default)]
    pub max_s: Option<Spanned<f64>>,
    #[serde(default)]
    pub dataset: Option<Spanned<String>>,
    #[serde(default)]
    pub expr: Option<Spanned<String>>,
    #[serde(default)]
    pub file: Option<Spanned<String>>,
    #[serde(default)]
    pub name: Option<Spanned<String>>,
}

impl CheckSpec {
    /// The keys that are set, with their spans, for "does not belong to this kind" errors.
    pub fn set_keys(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let mut keys = Vec::new();
        macro_rules! push {
            ($($name:ident),*) => {$(
                if let Some(v) = &self.$name { keys.push((stringify!($name), v.span())); }
            )*};
        }
        push!(
            field, op, value, param, other, values, from, to, max_s, dataset, expr, file, name
        );
        if let Some(fields) = &self.fields {
            let span = fields
                .first()
                .map(Spanned::span)
                .unwrap_or(self.kind.span());
            keys.push(("fields", span));
        }
        keys
    }
}
