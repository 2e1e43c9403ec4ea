//! Validated policy packs: versions, rules, scopes and checks, with every field name resolved.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::bundle::Record;
use crate::bundle::schema::Dataset;
use crate::policy::fields::FieldRef;
pub use crate::policy::severity::Severity;

/// A pack: one or more versions that chain by date of service.
#[derive(Debug, Clone)]
pub struct Pack {
    pub id: String,
    /// Where it came from, for messages and inputs (`builtin:cms-direct-supervision`).
    pub source: String,
    /// Sorted by `effective_from`.
    pub versions: Vec<Arc<PackVersion>>,
    /// The shipped pack of the same id this pack replaces in the run (its source), if any.
    pub replaces: Option<String>,
}

impl Pack {
    /// The version in effect on `dos`, if any.
    pub fn version_on(&self, dos: NaiveDate) -> Option<&Arc<PackVersion>> {
        self.versions.iter().find(|v| v.covers(dos))
    }

    /// A single version open at both ends judges every record, with or without a date.
    pub fn is_timeless(&self) -> bool {
        self.versions.len() == 1
            && self.versions[0].effective_from.is_none()
            && self.versions[0].effective_to.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct PackVersion {
    pub pack_id: String,
    pub version: String,
    /// Where `pack.version` is written, for errors about the version chain.
    pub version_place: Option<Box<crate::policy::error::Place>>,
    pub title: String,
    pub description: Option<String>,
    pub effective_from: Option<NaiveDate>,
    pub effective_to: Option<NaiveDate>,
    pub supersedes: Option<String>,
    pub regulatory: bool,
    pub citations: Vec<String>,
    pub changelog: Vec<String>,
    /// The TOML file, as shown to users (`builtin:x/1.0.0.toml` or a path).
    pub path: String,
    pub sha256: String,
    /// Size of the TOML file in bytes.
    pub bytes: u64,
    pub parameters: BTreeMap<String, toml::Value>,
    pub rules: Vec<Rule>,
    /// The pack's own procedure_codes table (illustrative), typed like bundle records.
    pub procedure_codes: Option<Arc<Vec<Record>>>,
    /// Rhai scripts of this version: (display path, sha256, bytes).
    pub scripts: Vec<(String, String, u64)>,
    /// Documentation completeness of contrast reactions (`[[parameters.documentation]]`), when
    /// the version declares it: RXN-002, BEN-004 and the documentation metric all read it.
    pub documentation: Option<Arc<[DocumentationGroup]>>,
    /// The supervision level each CMS supervision indicator requires (`supervision_levels`,
    /// `unlisted_contrast_level`), when the version declares it.
    pub supervision_levels: Option<Arc<SupervisionLevels>>,
    /// The `[[metric]]` declarations, in file order.
    pub declared_metrics: Vec<DeclaredMetric>,
}

/// A metric a pack declares with `[[metric]]`.
#[derive(Debug, Clone)]
pub struct DeclaredMetric {
    pub id: String,
    pub title: String,
    pub dataset: Dataset,
    /// The records the metric is about (a share's denominator).
    pub when: MetricScope,
    pub kind: MetricKind,
    /// Grouped by the record's facility (`facility_id` in `groups`).
    pub by_facility: bool,
    /// Grouped by month (`month` in `groups`): of `month_of` when set, else of the record's date.
    pub by_month: bool,
    /// The date or time field whose (local) month groups the records, instead of their date.
    pub month_of: Option<(String, FieldRef)>,
    /// Group keys besides `facility_id` and `month`, each emitted on its own with the four
    /// shapes (never combined with each other).
    pub variants: Vec<Variant>,
    /// The parameters the metric used, as findings.json names them, with their values.
    pub parameters: BTreeMap<String, toml::Value>,
    /// The names of the parameters it reads (its conditions, and those it shows).
    pub reads: Vec<String>,
}

/// Which records a metric takes: every condition of `all`, and (when `any` is not empty) every
/// condition of one of the alternatives of `any`.
#[derive(Debug, Clone, Default)]
pub struct MetricScope {
    pub all: Vec<Condition>,
    pub any: Vec<Vec<Condition>>,
}

/// An extra group key: the value of `field` on each record, shown under `key`.
#[derive(Debug, Clone)]
pub struct Variant {
    pub key: String,
    pub field: FieldRef,
    /// The values of the field's enum, when it is one: a metric whose denominator records lack
    /// the key is emitted for each of them.
    pub values: Option<&'static [&'static str]>,
}

/// The records of another dataset a rate is taken over (`per`): "reactions per 1,000 exams".
#[derive(Debug, Clone)]
pub struct Per {
    pub dataset: Dataset,
    pub when: MetricScope,
    /// For each variant of the metric (same order), the field of this dataset that has its key,
    /// if any; without one, the denominator of a variant group is its group without the key.
    pub variants: Vec<Option<FieldRef>>,
}

/// What a declared metric computes over the records in scope.
#[derive(Debug, Clone)]
pub enum MetricKind {
    /// Records in scope; with `counts`, those of them counted (a group exists wherever a
    /// record is in scope, so a count of 0 is shown).
    Count { counts: Option<MetricScope> },
    /// Records counted / records in scope (times `scale`: 1 or 1,000). With `per`, the records
    /// in scope are the numerator and `per`'s records the denominator.
    Share {
        counts: Option<MetricScope>,
        per: Option<Per>,
        scale: f64,
    },
    /// The `p` quantile (median: 0.5) of a measure over the records that have it.
    Quantile { measure: Measure, p: f64 },
    /// Sum of `numerator` / sum of `denominator` over the records in scope that have both;
    /// with `cap`, a record's numerator counts at most its denominator.
    Ratio {
        numerator: (String, FieldRef),
        denominator: (String, FieldRef),
        cap: bool,
    },
}

/// What a median or percentile measures.
#[derive(Debug, Clone)]
pub enum Measure {
    /// A numeric field.
    Field((String, FieldRef)),
    /// Seconds from one time to another, for records where both have an instant.
    Duration {
        from: (String, FieldRef),
        to: (String, FieldRef),
    },
}

/// The kinds a `[[metric]]` may have.
pub const METRIC_KINDS: [&str; 6] = [
    "count",
    "share",
    "per_1000",
    "median",
    "percentile",
    "ratio",
];

/// The levels of supervision 42 CFR 410.32(b)(3) defines, and `not_applicable` (indicator 09):
/// the vocabulary `supervision_levels` maps indicators to, and `required_level` takes.
pub static SUPERVISION_LEVELS: [&str; 4] = ["general", "direct", "personal", "not_applicable"];

/// What level of supervision a procedure code requires, by its supervision indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisionLevels {
    /// Indicator -> level (one of [`SUPERVISION_LEVELS`]); an indicator not listed is a level
    /// unknown.
    pub by_indicator: BTreeMap<String, String>,
    /// The level of a contrast exam whose code has no row for its DOS year; none: unknown.
    pub unlisted_contrast: Option<String>,
}

/// One group of documentation elements: the reactions it `applies` to (conditions on reaction
/// fields, all of which must hold) and the elements they must then have.
#[derive(Debug, Clone)]
pub struct DocumentationGroup {
    pub applies: Vec<Condition>,
    /// Element names and their field positions in the reactions schema, in declaration order.
    pub elements: Vec<(String, usize)>,
}

impl PackVersion {
    pub fn covers(&self, dos: NaiveDate) -> bool {
        self.effective_from.is_none_or(|f| f <= dos) && self.effective_to.is_none_or(|t| dos <= t)
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    /// Where the id is written in its file, for errors that name the rule.
    pub id_place: Option<Box<crate::policy::error::Place>>,
    pub title: String,
    pub severity: Severity,
    pub severity_by: Option<(FieldRef, BTreeMap<String, Severity>)>,
    pub dataset: Dataset,
    pub when: Vec<Condition>,
    pub requires: Vec<(String, FieldRef)>,
    pub check: Check,
    pub message: Template,
    pub evidence: Vec<(String, FieldRef)>,
    pub citation: String,
    pub remediation: String,
    /// Texts appended to messages of findings whose record meets every condition.
    pub addenda: Vec<(Vec<Condition>, String)>,
}

/// One scope condition on a field.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub name: String,
    pub field: FieldRef,
    pub test: ConditionTest,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConditionTest {
    /// The value equals one of these (text compared exactly, enums by canonical name).
    OneOf(Vec<Literal>),
    NoneOf(Vec<Literal>),
    Present(bool),
    /// `field op value`, e.g. `{ gt = 0 }`.
    Compare(CompareOp, Literal),
    /// `field op other field` of the same record, e.g. `{ lt = { field = "facility.virtual_go_live" } }`.
    CompareField(CompareOp, String, FieldRef),
}

/// A literal from a policy file, compared with record values.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub const NAMES: [&'static str; 6] = ["==", "!=", "<", "<=", ">", ">="];

    pub fn parse(s: &str) -> Option<CompareOp> {
        Some(match s {
            "==" => CompareOp::Eq,
            "!=" => CompareOp::Ne,
            "<" => CompareOp::Lt,
            "<=" => CompareOp::Le,
            ">" => CompareOp::Gt,
            ">=" => CompareOp::Ge,
            _ => return None,
        })
    }

    /// Whether `left op right` holds, given how left compares to right.
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        match self {
            CompareOp::Eq => ord.is_eq(),
            CompareOp::Ne => ord.is_ne(),
            CompareOp::Lt => ord.is_lt(),
            CompareOp::Le => ord.is_le(),
            CompareOp::Gt => ord.is_gt(),
            CompareOp::Ge => ord.is_ge(),
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// What a compare check compares the field with.
#[derive(Debug, Clone)]
pub enum Operand {
    Literal(Literal),
    Field(String, FieldRef),
}

/// The check of a rule: what must hold for the record to pass.
#[derive(Debug, Clone)]
pub enum Check {
    /// Every field present.
    Required(Vec<(String, FieldRef)>),
    /// `field op operand` holds.
    Compare {
        field: (String, FieldRef),
        op: CompareOp,
        operand: Operand,
    },
    /// The field's value is one of the listed values.
    OneOf {
        field: (String, FieldRef),
        values: Vec<Literal>,
    },
    /// `to - from` in seconds is at most `max_s`.
    Duration {
        from: (String, FieldRef),
        to: (String, FieldRef),
        max_s: f64,
    },
    /// The field's value names a record of `dataset` by its key.
    Reference {
        field: (String, FieldRef),
        dataset: Dataset,
    },
    /// A Rhai expression over `r` (the record) and `params`: true passes.
    Expr { source: String, ast: Arc<rhai::AST> },
    /// A Rhai script defining `fn check(r, params)`, with its text.
    Script {
        path: String,
        ast: Arc<rhai::AST>,
        source: Arc<str>,
    },
    /// A check computed in Rust by the engine (the export-integrity rules).
    Builtin(String),
}

impl Check {
    pub fn kind(&self) -> &'static str {
        match self {
            Check::Required(_) => "required",
            Check::Compare { .. } => "compare",
            Check::OneOf { .. } => "one_of",
            Check::Duration { .. } => "duration",
            Check::Reference { .. } => "reference",
            Check::Expr { .. } => "expr",
            Check::Script { .. } => "script",
            Check::Builtin(_) => "builtin",
        }
    }
}

pub const CHECK_KINDS: [&str; 8] = [
    "required",
    "compare",
    "one_of",
    "duration",
    "reference",
    "expr",
    "script",
    "builtin",
];

/// A message template: text with `{name}` placeholders, resolved at load time.
#[derive(Debug, Clone)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

#[derive(Debug, Clone)]
pub enum TemplatePart {
    Text(String),
    Field(FieldRef),
    Param(String),
    Evidence(String),
}

/// The checks computed in Rust that a pack names with `kind = "builtin"`: the reader's own
/// data-quality work (the shipped export-integrity pack gives them the rule ids DQ-001..DQ-007).
pub mod builtin {
    /// Required fields present, values that parse as their type (DQ-001).
    pub const FIELD_VALUES: &str = "field_values";
    /// Keys that do not repeat (DQ-002).
    pub const UNIQUE_KEYS: &str = "unique_keys";
    /// References that name a record (DQ-003).
    pub const REFERENCES: &str = "references";
    /// Times in order (DQ-004).
    pub const TIME_ORDER: &str = "time_order";
    /// Naive local times that exist and are unambiguous (DQ-005).
    pub const LOCAL_TIMES: &str = "local_times";
    /// Dates of service within the bundle's period (DQ-006).
    pub const PERIOD: &str = "period";
    /// Every line readable (DQ-007).
    pub const READABLE_LINES: &str = "readable_lines";
}

/// Every built-in check, as `kind = "builtin", name = ...` names it.
pub const BUILTIN_CHECKS: [&str; 7] = [
    builtin::FIELD_VALUES,
    builtin::UNIQUE_KEYS,
    builtin::REFERENCES,
    builtin::TIME_ORDER,
    builtin::LOCAL_TIMES,
    builtin::PERIOD,
    builtin::READABLE_LINES,
];
