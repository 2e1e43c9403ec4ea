//! Facts of one rule in one pack version, in words and in the names its file used: its scope,
//! check, message and the parameters it reads. The catalogue, `vigil explain` and `policy diff`
//! are built from these.

use std::collections::BTreeMap;

use serde::Serialize;

use super::params::{RuleParams, params_read};
use crate::bundle::schema::Dataset;
use crate::policy::fields::FieldRef;
use crate::policy::model::{
    Check, CompareOp, Condition, ConditionTest, Literal, Operand, PackVersion, Rule, Template,
    TemplatePart,
};

/// One rule of one pack version in words and names, comparable across versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleFacts {
    pub id: String,
    pub title: String,
    pub severity: String,
    /// `by `severity`: moderate → medium, severe → high`.
    pub severity_by: Option<String>,
    pub dataset: String,
    /// The scope conditions, each in words (`` `status` is `completed` ``).
    pub when: Vec<String>,
    pub requires: Vec<String>,
    pub check: CheckFacts,
    /// The message template as written, with its `{placeholders}`.
    pub message: String,
    pub evidence: Vec<String>,
    pub citation: String,
    pub remediation: String,
    /// Each addendum in words: its conditions and the text it appends.
    pub addenda: Vec<String>,
    /// The parameters the rule reads (check, script, expression or message), with their values.
    pub parameters: BTreeMap<String, serde_json::Value>,
}

/// A check as its file wrote it: kind, settings, and a sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckFacts {
    pub kind: String,
    /// `field`, `op`, `value`, `file`, `sha256`, ... (scripts compare by content hash).
    pub settings: BTreeMap<String, String>,
    pub summary: String,
}

/// Describes every rule of `version`.
pub fn describe_version(version: &PackVersion) -> Vec<RuleFacts> {
    let params = params_read(version);
    let none = RuleParams::default();
    version
        .rules
        .iter()
        .map(|rule| describe_rule(version, rule, params.get(&rule.id).unwrap_or(&none)))
        .collect()
}

fn describe_rule(version: &PackVersion, rule: &Rule, params: &RuleParams) -> RuleFacts {
    let mut parameters = BTreeMap::new();
    for name in &params.read {
        if let Some(v) = version.parameters.get(name) {
            parameters.insert(name.clone(), toml_to_json(v));
        }
    }
    let mut check = describe_check(version, &rule.check);
    // A value taken from a parameter is shown by its name: its value is in `parameters`.
    if let Some(name) = &params.check_param {
        for key in ["value", "values", "max_s"] {
            check.settings.remove(key);
        }
        check.settings.insert("param".into(), name.clone());
        check.summary = format!("{} (parameter `{name}`)", check.summary);
    }
    RuleFacts {
        id: rule.id.clone(),
        title: rule.title.clone(),
        severity: rule.severity.name().into(),
        severity_by: rule.severity_by.as_ref().map(|(field, values)| {
            let values: Vec<String> = values.iter().map(|(k, s)| format!("{k} → {s}")).collect();
            format!(
                "by `{}`: {}",
                field_name(rule.dataset, *field),
                values.join(", ")
            )
        }),
        // Built-in checks read every dataset (`dataset = "*"` in the file).
        dataset: match rule.check {
            Check::Builtin(_) => "*".into(),
            _ => rule.dataset.name().into(),
        },
        when: rule.when.iter().map(describe_condition).collect(),
        requires: rule.requires.iter().map(|(n, _)| n.clone()).collect(),
        check,
        message: template_text(rule.dataset, &rule.message),
        evidence: rule.evidence.iter().map(|(n, _)| n.clone()).collect(),
        citation: rule.citation.clone(),
        remediation: rule.remediation.clone(),
        addenda: rule
            .addenda
            .iter()
            .map(|(conds, text)| {
                let conds: Vec<String> = conds.iter().map(describe_condition).collect();
                format!("when {}: append {text:?}", join_and(&conds))
            })
            .collect(),
        parameters,
    }
}

/// The name a rule file uses for a resolved field.
pub fn field_name(dataset: Dataset, field: FieldRef) -> String {
    let own = |d: Dataset, i: usize| d.fields().get(i).map_or("?", |f| f.name);
    match field {
        FieldRef::Own(i) => own(dataset, i).to_string(),
        FieldRef::Joined(join, i) => format!("{}.{}", join.name(), own(join.target(), i)),
        FieldRef::Derived(d) => d.name().to_string(),
    }
}

fn literal_text(l: &Literal) -> String {
    match l {
        Literal::Str(s) => format!("`{s}`"),
        Literal::Int(i) => i.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::Bool(b) => b.to_string(),
        Literal::Date(d) => d.to_string(),
    }
}

fn literals_text(ls: &[Literal]) -> String {
    ls.iter().map(literal_text).collect::<Vec<_>>().join(", ")
}

/// `a`, `a and b`, `a, b and c`.
pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn op_words(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "is",
        CompareOp::Ne => "is not",
        CompareOp::Lt => "is less than",
        CompareOp::Le => "is at most",
        CompareOp::Gt => "is greater than",
        CompareOp::Ge => "is at least",
    }
}

/// A scope condition in words.
pub fn describe_condition(c: &Condition) -> String {
    let f = &c.name;
    match &c.test {
        ConditionTest::OneOf(ls) if ls.len() == 1 => format!("`{f}` is {}", literals_text(ls)),
        ConditionTest::OneOf(ls) => format!("`{f}` is one of {}", literals_text(ls)),
        ConditionTest::NoneOf(ls) if ls.len() == 1 => format!("`{f}` is not {}", literals_text(ls)),
        ConditionTest::NoneOf(ls) => format!("`{f}` is none of {}", literals_text(ls)),
        ConditionTest::Present(true) => format!("`{f}` has a value"),
        ConditionTest::Present(false) => format!("`{f}` has no value"),
        ConditionTest::Compare(op, l) => format!("`{f}` {} {}", op_words(*op), literal_text(l)),
        ConditionTest::CompareField(op, other, _) => {
            format!("`{f}` {} `{other}`", op_words(*op))
        }
    }
}

fn describe_check(version: &PackVersion, check: &Check) -> CheckFacts {
    let mut settings = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        settings.insert(k.to_string(), v);
    };
    let summary = match check {
        Check::Required(fields) => {
            let names: Vec<String> = fields.iter().map(|(n, _)| format!("`{n}`")).collect();
            set(
                "fields",
                fields
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            let verb = if names.len() == 1 { "has" } else { "have" };
            format!("{} {verb} a value", join_and(&names))
        }
        Check::Compare { field, op, operand } => {
            set("field", field.0.clone());
            set("op", op.symbol().into());
            let right = match operand {
                Operand::Literal(l) => {
                    set("value", literal_text(l));
                    literal_text(l)
                }
                Operand::Field(n, _) => {
                    set("other", n.clone());
                    format!("`{n}`")
                }
            };
            format!("`{}` {} {right}", field.0, op.symbol())
        }
        Check::OneOf { field, values } => {
            set("field", field.0.clone());
            set("values", literals_text(values));
            format!("`{}` is one of {}", field.0, literals_text(values))
        }
        Check::Duration { from, to, max_s } => {
            set("from", from.0.clone());
            set("to", to.0.clone());
            set("max_s", max_s.to_string());
            format!("from `{}` to `{}` takes at most {max_s} s", from.0, to.0)
        }
        Check::Reference { field, dataset } => {
            set("field", field.0.clone());
            set("dataset", dataset.name().into());
            format!("`{}` names a record of `{}`", field.0, dataset.name())
        }
        Check::Expr { source, .. } => {
            set("expr", source.clone());
            format!("the Rhai expression `{source}` is true")
        }
        Check::Script { path, .. } => {
            let file = file_name(path);
            set("file", file.clone());
            if let Some((_, sha, _)) = version.scripts.iter().find(|(p, _, _)| p == path) {
                set("sha256", sha.clone());
            }
            format!("the Rhai script `{file}` (`fn check(r, params)`) passes the record")
        }
        Check::Builtin(name) => {
            set("name", name.clone());
            format!("built into vigil: `{name}`")
        }
    };
    CheckFacts {
        kind: check.kind().into(),
        settings,
        summary,
    }
}

fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_string()
}

/// The template as written: text with `{field}`, `{param.x}` and `{evidence.x}` placeholders.
fn template_text(dataset: Dataset, t: &Template) -> String {
    t.parts
        .iter()
        .map(|p| match p {
            TemplatePart::Text(s) => s.clone(),
            TemplatePart::Field(f) => format!("{{{}}}", field_name(dataset, *f)),
            TemplatePart::Param(p) => format!("{{param.{p}}}"),
            TemplatePart::Evidence(e) => format!("{{evidence.{e}}}"),
        })
        .collect()
}

/// A parameter value as JSON (dates as text).
pub fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// A parameter value on one line (compact JSON).
pub fn value_text(v: &serde_json::Value) -> String {
    v.to_string()
}

/// A version's dates of service in words.
pub fn effective_range(v: &PackVersion) -> String {
    match (v.effective_from, v.effective_to) {
        (None, None) => "every record".into(),
        (None, Some(t)) => format!("up to {t}"),
        (Some(f), None) => format!("from {f}"),
        (Some(f), Some(t)) => format!("{f}..{t}"),
    }
}
