//! The rule catalogue and rule explanations, generated from the packs themselves: every rule
//! described back in the names its file used, with the parameters it reads and their values.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::bundle::schema::Dataset;
use crate::policy::fields::FieldRef;
use crate::policy::file::PolicyFile;
use crate::policy::load::BUILTIN_PACKS;
use crate::policy::model::*;

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
        ConditionTest::Compare(op, l) => {
            let words = match op {
                CompareOp::Eq => "is",
                CompareOp::Ne => "is not",
                CompareOp::Lt => "is less than",
                CompareOp::Le => "is at most",
                CompareOp::Gt => "is greater than",
                CompareOp::Ge => "is at least",
            };
            format!("`{f}` {words} {}", literal_text(l))
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

/// The parameters one rule reads.
#[derive(Debug, Clone, Default)]
pub struct RuleParams {
    /// Every parameter the rule reads: its check, script, expression or message.
    pub read: BTreeSet<String>,
    /// The `param = "x"` of its check, if any.
    pub check_param: Option<String>,
}

/// The parameters each rule of `version` reads, by rule id. Validation resolves `param = "x"`
/// to its value, so the policy file is read again for those names; scripts and expressions are
/// searched for `params.x`.
pub fn params_read(version: &PackVersion) -> BTreeMap<String, RuleParams> {
    let mut out: BTreeMap<String, RuleParams> = BTreeMap::new();
    let file: Option<PolicyFile> =
        read_source(&version.path).and_then(|text| toml::from_str(&text).ok());
    for rule in &version.rules {
        let entry = out.entry(rule.id.clone()).or_default();
        let used = &mut entry.read;
        for part in &rule.message.parts {
            if let TemplatePart::Param(p) = part {
                used.insert(p.clone());
            }
        }
        let spec = file.as_ref().and_then(|f| {
            f.rules
                .iter()
                .find(|r| r.get_ref().id.get_ref() == &rule.id)
        });
        if let Some(p) = spec.and_then(|r| r.get_ref().check.get_ref().param.as_ref()) {
            used.insert(p.get_ref().clone());
            entry.check_param = Some(p.get_ref().clone());
        }
        let code = match &rule.check {
            Check::Expr { source, .. } => Some(source.clone()),
            Check::Script { path, .. } => script_text(version, path),
            _ => None,
        };
        if let Some(code) = code {
            for name in version.parameters.keys() {
                if reads_param(&code, name) {
                    used.insert(name.clone());
                }
            }
        }
    }
    out
}

/// A script's text, when the file still has the content the pack was loaded with.
fn script_text(version: &PackVersion, path: &str) -> Option<String> {
    let text = read_source(path)?;
    let (_, sha, _) = version.scripts.iter().find(|(p, _, _)| p == path)?;
    (crate::digest::sha256_hex(text.as_bytes()) == *sha).then_some(text)
}

/// Reads a pack file by the path it is shown under (`builtin:pack/file` or a path on disk).
fn read_source(path: &str) -> Option<String> {
    match path.strip_prefix("builtin:") {
        Some(inner) => BUILTIN_PACKS
            .get_file(inner)
            .and_then(|f| f.contents_utf8())
            .map(String::from),
        None => std::fs::read_to_string(path).ok(),
    }
}

/// Whether Rhai code reads `params.name` or `params["name"]`.
fn reads_param(code: &str, name: &str) -> bool {
    let dotted = format!("params.{name}");
    let indexed = [format!("params[\"{name}\"]"), format!("params['{name}']")];
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(&dotted).any(|(i, m)| {
        let before_ok = code[..i].chars().next_back().is_none_or(|c| !ident(c));
        let after_ok = code[i + m.len()..].chars().next().is_none_or(|c| !ident(c));
        before_ok && after_ok
    }) || indexed.iter().any(|s| code.contains(s.as_str()))
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

/// The catalogue of every loaded pack, in pack id order.
#[derive(Debug, Clone, Serialize)]
pub struct Catalog {
    pub packs: Vec<PackEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackEntry {
    pub id: String,
    /// Title, description and regulatory status of the latest version.
    pub title: String,
    pub description: Option<String>,
    pub regulatory: bool,
    pub citations: Vec<String>,
    pub source: String,
    pub versions: Vec<VersionEntry>,
    pub parameters: Vec<ParamRow>,
    pub rules: Vec<RuleRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionEntry {
    pub version: String,
    pub effective_from: Option<String>,
    pub effective_to: Option<String>,
    /// `up to 2020-02-29`, `2020-03-01..2025-12-31`, `from 2026-01-01`, `every record`.
    pub range: String,
    pub supersedes: Option<String>,
    pub changelog: Vec<String>,
    pub path: String,
    pub sha256: String,
}

/// One parameter and its value in each version (`None` where a version lacks it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamRow {
    pub name: String,
    pub values: Vec<ParamValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamValue {
    pub version: String,
    pub value: Option<serde_json::Value>,
}

impl ParamRow {
    /// `1.0.0 false; 2.0.0, 3.0.0 true`, or just the value when every version agrees.
    pub fn text(&self) -> String {
        let texts: Vec<(String, String)> = self
            .values
            .iter()
            .map(|v| {
                let t = v.value.as_ref().map_or("(none)".into(), value_text);
                (v.version.clone(), t)
            })
            .collect();
        by_version(&texts)
    }
}

/// One rule across the versions of its pack.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    pub id: String,
    /// Each field is the latest version's value, or `1.0.0: a; 2.0.0: b` when versions differ.
    pub title: String,
    pub severity: String,
    pub dataset: String,
    pub check_kind: String,
    pub checks: String,
    pub citation: String,
    pub remediation: String,
    pub parameters: Vec<String>,
    pub versions: Vec<String>,
}

/// Merges per-version texts: `x` when all agree, else `1.0.0: x; 2.0.0, 3.0.0: y`.
pub fn by_version(texts: &[(String, String)]) -> String {
    let mut groups: Vec<(Vec<&str>, &str)> = Vec::new();
    for (version, text) in texts {
        match groups.last_mut() {
            Some((vs, t)) if *t == text.as_str() => vs.push(version),
            _ => groups.push((vec![version], text)),
        }
    }
    match groups.as_slice() {
        [(_, only)] => (*only).to_string(),
        _ => groups
            .iter()
            .map(|(vs, t)| format!("{}: {t}", vs.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Builds the catalogue of `packs` (sorted by id).
pub fn catalog(packs: &[Pack]) -> Catalog {
    let mut packs: Vec<&Pack> = packs.iter().collect();
    packs.sort_by(|a, b| a.id.cmp(&b.id));
    Catalog {
        packs: packs.into_iter().filter_map(pack_entry).collect(),
    }
}

fn pack_entry(pack: &Pack) -> Option<PackEntry> {
    let latest = pack.versions.last()?;
    let facts: Vec<(String, Vec<RuleFacts>)> = pack
        .versions
        .iter()
        .map(|v| (v.version.clone(), describe_version(v)))
        .collect();
    let mut order: Vec<String> = Vec::new();
    for (_, rules) in &facts {
        for r in rules {
            if !order.contains(&r.id) {
                order.push(r.id.clone());
            }
        }
    }
    order.sort();
    let rules = order
        .iter()
        .map(|id| {
            let present: Vec<(&str, &RuleFacts)> = facts
                .iter()
                .filter_map(|(v, rs)| rs.iter().find(|r| &r.id == id).map(|r| (v.as_str(), r)))
                .collect();
            rule_row(id, &present)
        })
        .collect();
    Some(PackEntry {
        id: pack.id.clone(),
        title: latest.title.clone(),
        description: latest.description.clone(),
        regulatory: latest.regulatory,
        citations: latest.citations.clone(),
        source: pack.source.clone(),
        versions: pack.versions.iter().map(|v| version_entry(v)).collect(),
        parameters: param_rows(pack, None),
        rules,
    })
}

fn version_entry(v: &PackVersion) -> VersionEntry {
    VersionEntry {
        version: v.version.clone(),
        effective_from: v.effective_from.map(|d| d.to_string()),
        effective_to: v.effective_to.map(|d| d.to_string()),
        range: effective_range(v),
        supersedes: v.supersedes.clone(),
        changelog: v.changelog.clone(),
        path: v.path.clone(),
        sha256: v.sha256.clone(),
    }
}

/// The parameters of `pack` (only `names` when given), with values in each version.
fn param_rows(pack: &Pack, names: Option<&BTreeSet<String>>) -> Vec<ParamRow> {
    let all: BTreeSet<&String> = pack
        .versions
        .iter()
        .flat_map(|v| v.parameters.keys())
        .filter(|n| names.is_none_or(|names| names.contains(*n)))
        .collect();
    all.into_iter()
        .map(|name| ParamRow {
            name: name.clone(),
            values: pack
                .versions
                .iter()
                .map(|v| ParamValue {
                    version: v.version.clone(),
                    value: v.parameters.get(name).map(toml_to_json),
                })
                .collect(),
        })
        .collect()
}

fn rule_row(id: &str, present: &[(&str, &RuleFacts)]) -> RuleRow {
    let merged = |f: &dyn Fn(&RuleFacts) -> String| {
        let texts: Vec<(String, String)> = present
            .iter()
            .map(|(v, r)| ((*v).to_string(), f(r)))
            .collect();
        by_version(&texts)
    };
    let parameters: BTreeSet<String> = present
        .iter()
        .flat_map(|(_, r)| r.parameters.keys().cloned())
        .collect();
    RuleRow {
        id: id.to_string(),
        title: merged(&|r| r.title.clone()),
        severity: merged(&|r| match &r.severity_by {
            Some(by) => format!("{} ({by})", r.severity),
            None => r.severity.clone(),
        }),
        dataset: merged(&|r| r.dataset.clone()),
        check_kind: merged(&|r| r.check.kind.clone()),
        checks: merged(&|r| r.check.summary.clone()),
        citation: merged(&|r| r.citation.clone()),
        remediation: merged(&|r| r.remediation.clone()),
        parameters: parameters.into_iter().collect(),
        versions: present.iter().map(|(v, _)| (*v).to_string()).collect(),
    }
}

/// A rule explained: what it checks, why, its parameters and the versions holding it.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub rule: String,
    pub pack: String,
    pub pack_title: String,
    pub regulatory: bool,
    pub source: String,
    /// The rule as the latest version holding it has it.
    pub latest: RuleFacts,
    /// The parameters the rule reads in any version, with their values in every version.
    pub parameters: Vec<ParamRow>,
    pub versions: Vec<ExplainedVersion>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExplainedVersion {
    pub version: String,
    pub range: String,
    pub contains: bool,
    /// What changed in the rule since the previous version holding it.
    pub changes: Vec<crate::author::compare::Change>,
}

/// Every rule id of `packs`, for suggestions.
pub fn rule_ids(packs: &[Pack]) -> BTreeSet<String> {
    packs
        .iter()
        .flat_map(|p| p.versions.iter())
        .flat_map(|v| v.rules.iter().map(|r| r.id.clone()))
        .collect()
}

/// Explains `rule_id` in every pack that has it (exact id first, else ignoring case).
pub fn explain(packs: &[Pack], rule_id: &str) -> Vec<Explanation> {
    let ids = rule_ids(packs);
    let id = if ids.contains(rule_id) {
        rule_id.to_string()
    } else {
        match ids.iter().find(|i| i.eq_ignore_ascii_case(rule_id)) {
            Some(i) => i.clone(),
            None => return Vec::new(),
        }
    };
    packs.iter().filter_map(|p| explain_in(p, &id)).collect()
}

fn explain_in(pack: &Pack, id: &str) -> Option<Explanation> {
    let mut versions = Vec::new();
    let mut latest: Option<RuleFacts> = None;
    let mut used = BTreeSet::new();
    for v in &pack.versions {
        let facts = describe_version(v).into_iter().find(|r| r.id == id);
        let changes = match (&latest, &facts) {
            (Some(old), Some(new)) => crate::author::compare::rule_changes(old, new),
            _ => Vec::new(),
        };
        versions.push(ExplainedVersion {
            version: v.version.clone(),
            range: effective_range(v),
            contains: facts.is_some(),
            changes,
        });
        if let Some(f) = facts {
            used.extend(f.parameters.keys().cloned());
            latest = Some(f);
        }
    }
    let latest = latest?;
    let head = pack.versions.last()?;
    Some(Explanation {
        rule: id.to_string(),
        pack: pack.id.clone(),
        pack_title: head.title.clone(),
        regulatory: head.regulatory,
        source: pack.source.clone(),
        latest,
        parameters: param_rows(pack, Some(&used)),
        versions,
    })
}

/// `vigil explain` as text.
pub fn explain_text(e: &Explanation) -> String {
    let r = &e.latest;
    let mut out = String::new();
    let line = |out: &mut String, label: &str, value: &str| {
        out.push_str(format!("{label:<12} {value}").trim_end());
        out.push('\n');
    };
    line(&mut out, &r.id, &r.title);
    let regulatory = if e.regulatory {
        "regulatory"
    } else {
        "not regulatory"
    };
    line(
        &mut out,
        "pack",
        &format!("{} ({regulatory}): {}", e.pack, e.pack_title),
    );
    let severity = match &r.severity_by {
        Some(by) => format!("{}, {by}", r.severity),
        None => r.severity.clone(),
    };
    line(&mut out, "severity", &severity);
    line(&mut out, "dataset", &r.dataset);
    let scope = if r.dataset == "*" {
        "every record of every dataset".to_string()
    } else if r.when.is_empty() {
        format!("every record of `{}`", r.dataset)
    } else {
        format!("{} where {}", r.dataset, join_and(&r.when))
    };
    line(&mut out, "applies to", &scope);
    if !r.requires.is_empty() {
        let names: Vec<String> = r.requires.iter().map(|n| format!("`{n}`")).collect();
        line(
            &mut out,
            "requires",
            &format!("{} (otherwise not applicable)", join_and(&names)),
        );
    }
    line(
        &mut out,
        "checks",
        &format!("{}: {}", r.check.kind, r.check.summary),
    );
    if let Some(sha) = r.check.settings.get("sha256") {
        line(&mut out, "", &format!("script sha256 {sha}"));
    }
    // Built-in checks write their own messages; their template is a placeholder.
    if r.check.kind != "builtin" {
        line(&mut out, "message", &r.message);
    }
    if !r.evidence.is_empty() {
        line(&mut out, "evidence", &r.evidence.join(", "));
    }
    for a in &r.addenda {
        line(&mut out, "addendum", a);
    }
    line(&mut out, "why", &r.citation);
    line(&mut out, "remediation", &r.remediation);
    if e.parameters.is_empty() {
        line(&mut out, "parameters", "none");
    } else {
        out.push_str("parameters\n");
        for p in &e.parameters {
            out.push_str(&format!("  {:<28} {}\n", p.name, p.text()));
        }
    }
    out.push_str("versions\n");
    for v in &e.versions {
        let held = if v.contains {
            ""
        } else {
            "  (not in this version)"
        };
        out.push_str(&format!("  {:<10} {}{held}\n", v.version, v.range));
        for c in &v.changes {
            crate::author::compare::push_change(&mut out, c, "    ");
        }
    }
    out.push_str(&format!("source       {}\n", e.source));
    out
}

/// Escapes text for Markdown (a table cell or a paragraph): `|` always, and outside code
/// spans `\` and `<` (so `a <b> & c` shows as text rather than as an HTML tag).
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    for c in s.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            '\\' | '<' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The catalogue as Markdown.
pub fn catalog_markdown(c: &Catalog) -> String {
    let mut out = String::from(
        "# Rule catalogue\n\nGenerated by `vigil policy catalog` from the packs themselves.\n",
    );
    for p in &c.packs {
        out.push_str(&format!("\n## `{}`: {}\n\n", p.id, cell(&p.title)));
        if let Some(d) = &p.description {
            out.push_str(&format!("{}\n\n", cell(d)));
        }
        let regulatory = if p.regulatory { "yes" } else { "no" };
        out.push_str(&format!("- regulatory: {regulatory}\n"));
        if !p.citations.is_empty() {
            out.push_str(&format!("- citations: {}\n", cell(&p.citations.join("; "))));
        }
        out.push_str(&format!("- source: `{}`\n", p.source));
        out.push_str(
            "\n| version | dates of service | supersedes | changes |\n|---|---|---|---|\n",
        );
        for v in &p.versions {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&v.version),
                cell(&v.range),
                cell(v.supersedes.as_deref().unwrap_or("")),
                cell(&v.changelog.join("; "))
            ));
        }
        if !p.parameters.is_empty() {
            out.push_str("\n| parameter | value |\n|---|---|\n");
            for row in &p.parameters {
                out.push_str(&format!(
                    "| `{}` | {} |\n",
                    cell(&row.name),
                    cell(&row.text())
                ));
            }
        }
        out.push_str(
            "\n| id | title | severity | dataset | checks | parameters | citation | versions | remediation |\n\
             |---|---|---|---|---|---|---|---|---|\n",
        );
        for r in &p.rules {
            let params: Vec<String> = r.parameters.iter().map(|n| format!("`{n}`")).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {}: {} | {} | {} | {} | {} |\n",
                cell(&r.id),
                cell(&r.title),
                cell(&r.severity),
                cell(&r.dataset),
                cell(&r.check_kind),
                cell(&r.checks),
                cell(&params.join(", ")),
                cell(&r.citation),
                cell(&r.versions.join(", ")),
                cell(&r.remediation)
            ));
        }
    }
    out
}

const CATALOG_TEMPLATE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Rule catalogue</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
code { background: #f6f6f6; padding: 0 0.2rem; }
.meta { color: #555; }
</style>
</head>
<body>
<h1>Rule catalogue</h1>
<p class="meta">Generated by <code>vigil policy catalog</code> from the packs themselves.</p>
{% for p in packs %}
<section id="{{ p.id }}">
<h2><code>{{ p.id }}</code>: {{ p.title }}</h2>
{% if p.description %}<p>{{ p.description }}</p>{% endif %}
<p class="meta">regulatory: {{ "yes" if p.regulatory else "no" }}{% if p.citations %}; citations: {{ p.citations | join("; ") }}{% endif %}; source: <code>{{ p.source }}</code></p>
<table>
<tr><th>version</th><th>dates of service</th><th>supersedes</th><th>changes</th></tr>
{% for v in p.versions %}<tr><td>{{ v.version }}</td><td>{{ v.range }}</td><td>{{ v.supersedes or "" }}</td><td>{{ v.changelog | join("; ") }}</td></tr>
{% endfor %}</table>
{% if p.parameters %}<table>
<tr><th>parameter</th><th>value</th></tr>
{% for row in p.parameters %}<tr><td><code>{{ row.name }}</code></td><td>{{ row.text }}</td></tr>
{% endfor %}</table>{% endif %}
<table>
<tr><th>id</th><th>title</th><th>severity</th><th>dataset</th><th>checks</th><th>parameters</th><th>citation</th><th>versions</th><th>remediation</th></tr>
{% for r in p.rules %}<tr id="{{ r.id }}"><td>{{ r.id }}</td><td>{{ r.title }}</td><td>{{ r.severity }}</td><td>{{ r.dataset }}</td><td>{{ r.check_kind }}: {{ r.checks }}</td><td>{{ r.parameters | join(", ") }}</td><td>{{ r.citation }}</td><td>{{ r.versions | join(", ") }}</td><td>{{ r.remediation }}</td></tr>
{% endfor %}</table>
</section>
{% endfor %}
</body>
</html>
"#;

/// Rendering the HTML catalogue failed (a template bug, not user input).
#[derive(Debug, thiserror::Error)]
#[error("cannot render the catalogue: {0}")]
pub struct RenderError(#[from] minijinja::Error);

/// Parameter rows with their text, for the template.
#[derive(Serialize)]
struct HtmlParam<'a> {
    name: &'a str,
    text: String,
}

/// The catalogue as one self-contained HTML page, every text escaped.
pub fn catalog_html(c: &Catalog) -> Result<String, RenderError> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template("catalog.html.j2", CATALOG_TEMPLATE)?;
    let packs: Vec<minijinja::Value> = c
        .packs
        .iter()
        .map(|p| {
            let params: Vec<HtmlParam<'_>> = p
                .parameters
                .iter()
                .map(|r| HtmlParam {
                    name: &r.name,
                    text: r.text(),
                })
                .collect();
            minijinja::context! {
                id => &p.id,
                title => &p.title,
                description => &p.description,
                regulatory => p.regulatory,
                citations => &p.citations,
                source => &p.source,
                versions => minijinja::value::Serde(&p.versions),
                parameters => minijinja::value::Serde(&params),
                rules => minijinja::value::Serde(&p.rules),
            }
        })
        .collect();
    let tmpl = env.get_template("catalog.html.j2")?;
    Ok(tmpl.render(minijinja::context! { packs => packs })?)
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;
    use crate::policy::load::load_packs;

    #[test]
    fn reads_params_by_name_only() {
        assert!(reads_param("if !params.allowed { }", "allowed"));
        assert!(reads_param("params[\"allowed\"]", "allowed"));
        assert!(!reads_param("params.allowed_x", "allowed"));
        assert!(!reads_param("myparams.allowed", "allowed"));
    }

    #[test]
    fn merges_equal_texts_by_version() {
        let t = |v: &str, s: &str| (v.to_string(), s.to_string());
        assert_eq!(by_version(&[t("1", "a"), t("2", "a")]), "a");
        assert_eq!(
            by_version(&[t("1", "a"), t("2", "b"), t("3", "b")]),
            "1: a; 2, 3: b"
        );
    }

    #[test]
    fn sup003_reads_the_virtual_presence_parameters() {
        let packs = load_packs(&[]).unwrap();
        let e = explain(&packs, "sup-003");
        assert_eq!(e.len(), 1);
        let names: Vec<&str> = e[0].parameters.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["excluded_global_days", "virtual_presence_allowed"]);
        assert!(explain(&packs, "NOPE-1").is_empty());
    }

    #[test]
    fn compare_check_names_its_parameter() {
        let packs = load_packs(&[]).unwrap();
        let cat = catalog(&packs);
        let all: Vec<&RuleRow> = cat.packs.iter().flat_map(|p| p.rules.iter()).collect();
        assert_eq!(all.len(), 29);
        let ben002 = all.iter().find(|r| r.id == "BEN-002").unwrap();
        assert!(!ben002.parameters.is_empty(), "{ben002:?}");
    }
}
