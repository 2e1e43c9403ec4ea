//! Judging records: each record by the pack version in effect on its date, every rule's scope,
//! requirements and check, in parallel, with findings in a deterministic order.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use rhai::Dynamic;

use crate::bundle::schema::Dataset;
use crate::bundle::sha256_hex;
use crate::bundle::value::Value;
use crate::eval::metrics::{self, MetricFamilies};
use crate::eval::model::{Finding, Location, RuleSummary, Severity, Subject};
use crate::eval::quality::{Observation, data_quality};
use crate::eval::world::{World, seconds_between};
use crate::policy::fields::FieldRef;
use crate::policy::model::*;
use crate::policy::sandbox::{self, Outcome, Rec, rfc3339};

/// A policy script failed at run time: the run stops (exit 2) naming rule, script and line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("rule `{rule}` failed in `{script}`{}: {message}\n  while judging {record}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
pub struct EvalError {
    pub rule: String,
    pub script: String,
    pub line: Option<usize>,
    pub message: String,
    /// The record being judged, as `file:line`.
    pub record: String,
}

/// What one evaluation found.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub rules: Vec<RuleSummary>,
    /// The catalogue metrics of the packs that ran (rules-v1.md "Metrics").
    pub metrics: Vec<crate::eval::model::Metric>,
    /// Rhai evaluations made (expressions and scripts): at most one per rule and record, which
    /// a test checks so a change cannot make script work grow faster than the data.
    pub script_calls: u64,
}

enum Judgement {
    OutOfScope,
    Pass,
    /// One or more findings on the record: evidence and an optional message each.
    Fail(Vec<(Evidence, Option<String>)>),
    NotApplicable(String),
}

type Evidence = serde_json::Map<String, serde_json::Value>;

/// Judges every record of the world by every pack.
pub fn evaluate(world: &Arc<World>, packs: &[Pack]) -> Result<Evaluation, EvalError> {
    let mut findings = Vec::new();
    let mut summaries: Vec<RuleSummary> = Vec::new();
    let quality = data_quality(&world.bundle);
    let calls = AtomicU64::new(0);
    for pack in packs {
        let mut pack_summaries: BTreeMap<String, RuleSummary> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        // Which version judges each record, per dataset the pack's rules read.
        let datasets: Vec<Dataset> = {
            let mut ds: Vec<Dataset> = pack
                .versions
                .iter()
                .flat_map(|v| v.rules.iter().map(|r| r.dataset))
                .collect();
            ds.sort();
            ds.dedup();
            ds
        };
        let mut assignment: HashMap<Dataset, Vec<Option<usize>>> = HashMap::new();
        let mut undated: HashMap<Dataset, Vec<u32>> = HashMap::new();
        for &d in &datasets {
            let n = world.bundle.table(d).len();
            let assigned: Vec<Option<usize>> = if pack.is_timeless() {
                vec![Some(0); n]
            } else {
                let dates: Vec<Option<chrono::NaiveDate>> = (0..n as u32)
                    .into_par_iter()
                    .map(|i| world.record_date(d, i))
                    .collect();
                let no_date = (0..n as u32)
                    .filter(|i| dates[*i as usize].is_none())
                    .collect();
                undated.insert(d, no_date);
                dates
                    .iter()
                    .map(|date| {
                        date.and_then(|date| pack.versions.iter().position(|v| v.covers(date)))
                    })
                    .collect()
            };
            assignment.insert(d, assigned);
        }
        for (vi, version) in pack.versions.iter().enumerate() {
            let params = params_dynamic(version);
            for rule in &version.rules {
                let summary = pack_summaries.entry(rule.id.clone()).or_insert_with(|| {
                    order.push(rule.id.clone());
                    RuleSummary {
                        rule: rule.id.clone(),
                        policy: pack.id.clone(),
                        title: rule.title.clone(),
                        severity: rule.severity,
                        ..RuleSummary::default()
                    }
                });
                if let Check::Builtin(name) = &rule.check {
                    summary.evaluated += quality.evaluated.get(name.as_str()).copied().unwrap_or(0);
                    for obs in quality
                        .observations
                        .iter()
                        .filter(|o| o.rule == name.as_str())
                    {
                        summary.failed += 1;
                        findings.push(quality_finding(world, pack, version, rule, obs));
                    }
                    continue;
                }
                let assigned = assignment
                    .get(&rule.dataset)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let results: Vec<(u32, Judgement)> = (0..assigned.len() as u32)
                    .into_par_iter()
                    .filter(|i| assigned[*i as usize] == Some(vi))
                    .map(|i| judge(world, rule, version, &params, i, &calls).map(|j| (i, j)))
                    .collect::<Result<_, _>>()
                    .map_err(|e| {
                        first_error(world, rule, version, &params, assigned, vi).unwrap_or(e)
                    })?;
                for (idx, judgement) in results {
                    match judgement {
                        Judgement::OutOfScope => {}
                        Judgement::Pass => summary.evaluated += 1,
                        Judgement::NotApplicable(reason) => {
                            summary.not_applicable += 1;
                            *summary.reasons.entry(reason).or_default() += 1;
                        }
                        Judgement::Fail(fails) => {
                            summary.evaluated += 1;
                            summary.failed += fails.len() as u64;
                            for (evidence, message) in fails {
                                findings.push(rule_finding(
                                    world, pack, version, rule, idx, evidence, message,
                                ));
                            }
                        }
                    }
                }
            }
        }
        // Records with no date cannot be given a version: not applicable to each rule whose
        // scope (as the newest version writes it) does not already leave them out.
        for (d, undated_records) in undated {
            for id in &order {
                let Some(rule) = pack
                    .versions
                    .iter()
                    .rev()
                    .find_map(|v| v.rules.iter().find(|r| &r.id == id && r.dataset == d))
                else {
                    continue;
                };
                let count = undated_records
                    .iter()
                    .filter(|&&i| !out_of_scope(world, rule, i))
                    .count() as u64;
                if let (true, Some(s)) = (count > 0, pack_summaries.get_mut(id)) {
                    s.not_applicable += count;
                    *s.reasons.entry("no date of service".into()).or_default() += count;
                }
            }
        }
        // Rule ids in catalogue order, whatever version introduced them.
        order.sort();
        summaries.extend(order.iter().filter_map(|id| pack_summaries.remove(id)));
    }
    finish_ids(&mut findings);
    let wants = |family: &str| {
        packs
            .iter()
            .flat_map(|p| p.versions.iter())
            .any(|v| v.metrics.iter().any(|m| m == family))
    };
    let families = MetricFamilies {
        response: wants("response"),
        reactions: wants("reactions"),
        cancellations: wants("cancellations"),
    };
    Ok(Evaluation {
        findings,
        rules: summaries,
        metrics: metrics::compute(world, families),
        script_calls: calls.into_inner(),
    })
}

/// A script's failure map: a `message` key overrides the rule message; the rest is evidence.
fn script_fail(map: &rhai::Map) -> (Evidence, Option<String>) {
    let mut ev = sandbox::map_to_json(map);
    let message = ev
        .remove("message")
        .and_then(|m| m.as_str().map(String::from));
    (ev, message)
}

/// After a parallel run failed, the error of the first failing record in walk order, so the
/// message names the same record on every run.
fn first_error(
    world: &Arc<World>,
    rule: &Rule,
    version: &PackVersion,
    params: &Dynamic,
    assigned: &[Option<usize>],
    vi: usize,
) -> Option<EvalError> {
    (0..assigned.len() as u32)
        .filter(|i| assigned[*i as usize] == Some(vi))
        .find_map(|i| judge(world, rule, version, params, i, &AtomicU64::new(0)).err())
}

/// Whether a scope condition of `rule` is definitely false for the record.
fn out_of_scope(world: &World, rule: &Rule, idx: u32) -> bool {
    rule.when
        .iter()
        .any(|c| condition_holds(&world.value(rule.dataset, idx, c.field), &c.test) == Some(false))
}

/// `None` when the condition reads a missing value.
fn condition_holds(v: &Value, test: &ConditionTest) -> Option<bool> {
    if let ConditionTest::Present(want) = test {
        return Some(v.is_present() == *want);
    }
    if !v.is_present() {
        return None;
    }
    Some(match test {
        ConditionTest::OneOf(lits) => lits.iter().any(|l| matches_literal(v, l)),
        ConditionTest::NoneOf(lits) => !lits.iter().any(|l| matches_literal(v, l)),
        ConditionTest::Compare(op, l) => compare(v, &literal_value(l)).is_some_and(|o| op.holds(o)),
        ConditionTest::Present(_) => true,
    })
}

fn params_dynamic(version: &PackVersion) -> Dynamic {
    Dynamic::from(
        version
            .parameters
            .iter()
            .map(|(k, v)| (k.as_str().into(), sandbox::toml_to_dynamic(v)))
            .collect::<rhai::Map>(),
    )
}

fn judge(
    world: &Arc<World>,
    rule: &Rule,
    version: &PackVersion,
    params: &Dynamic,
    idx: u32,
    calls: &AtomicU64,
) -> Result<Judgement, EvalError> {
    let d = rule.dataset;
    let mut unknown = None;
    for c in &rule.when {
        let holds = condition_holds(&world.value(d, idx, c.field), &c.test);
        match holds {
            Some(false) => return Ok(Judgement::OutOfScope),
            None => {
                unknown.get_or_insert_with(|| format!("`{}` missing", c.name));
            }
            Some(true) => {}
        }
    }
    if let Some(reason) = unknown {
        return Ok(Judgement::NotApplicable(reason));
    }
    for (name, field) in &rule.requires {
        if !world.value(d, idx, *field).is_present() {
            return Ok(Judgement::NotApplicable(format!("`{name}` missing")));
        }
    }
    let value = |f: &(String, FieldRef)| world.value(d, idx, f.1);
    let mut evidence = Evidence::new();
    let judgement = match &rule.check {
        Check::Required(fields) => {
            let missing: Vec<serde_json::Value> = fields
                .iter()
                .filter(|f| !value(f).is_present())
                .map(|f| f.0.clone().into())
                .collect();
            if missing.is_empty() {
                Judgement::Pass
            } else {
                evidence.insert("missing".into(), missing.into());
                Judgement::Fail(vec![(evidence, None)])
            }
        }
        Check::Compare { field, op, operand } => {
            let left = value(field);
            let right = match operand {
                Operand::Literal(l) => std::borrow::Cow::Owned(literal_value(l)),
                Operand::Field(_, r) => world.value(d, idx, *r),
            };
            match compare(&left, &right) {
                None if !left.is_present() => {
                    Judgement::NotApplicable(format!("`{}` missing", field.0))
                }
                None if !right.is_present() => {
                    let name = match operand {
                        Operand::Field(n, _) => n.clone(),
                        Operand::Literal(_) => "value".into(),
                    };
                    Judgement::NotApplicable(format!("`{name}` missing"))
                }
                None => Judgement::NotApplicable(format!("`{}` cannot be compared", field.0)),
                Some(ord) => {
                    let holds = op.holds(ord);
                    if holds {
                        Judgement::Pass
                    } else {
                        evidence.insert(field.0.clone(), value_json(&left));
                        evidence.insert(
                            "expected".into(),
                            format!("{} {}", op.symbol(), right.display().unwrap_or_default())
                                .into(),
                        );
                        Judgement::Fail(vec![(evidence, None)])
                    }
                }
            }
        }
        Check::OneOf { field, values } => {
            let v = value(field);
            if !v.is_present() {
                Judgement::NotApplicable(format!("`{}` missing", field.0))
            } else if values.iter().any(|l| matches_literal(&v, l)) {
                Judgement::Pass
            } else {
                evidence.insert(field.0.clone(), value_json(&v));
                Judgement::Fail(vec![(evidence, None)])
            }
        }
        Check::Duration { from, to, max_s } => match (value(from).instant(), value(to).instant()) {
            (Some(a), Some(b)) => {
                let secs = seconds_between(a, b);
                if secs <= *max_s {
                    Judgement::Pass
                } else {
                    evidence.insert("seconds".into(), json_f64(secs));
                    evidence.insert("max_s".into(), json_f64(*max_s));
                    Judgement::Fail(vec![(evidence, None)])
                }
            }
            (None, _) => Judgement::NotApplicable(format!("`{}` missing", from.0)),
            (_, None) => Judgement::NotApplicable(format!("`{}` missing", to.0)),
        },
        Check::Reference { field, dataset } => match value(field).as_str() {
            None => Judgement::NotApplicable(format!("`{}` missing", field.0)),
            Some(k) if world.lookup(*dataset, k).is_some() => Judgement::Pass,
            Some(k) => {
                evidence.insert(field.0.clone(), k.into());
                Judgement::Fail(vec![(evidence, None)])
            }
        },
        Check::Expr { ast, .. } | Check::Script { ast, .. } => {
            let rec = Rec {
                world: world.clone(),
                dataset: d,
                idx,
            };
            calls.fetch_add(1, Ordering::Relaxed);
            let result = match &rule.check {
                Check::Script { .. } => sandbox::eval_script(ast, rec, params),
                _ => sandbox::eval_expr(ast, rec, params),
            };
            match result {
                Ok(Outcome::Pass) => Judgement::Pass,
                Ok(Outcome::NotApplicable(reason)) => Judgement::NotApplicable(reason),
                Ok(Outcome::Fail(map)) => Judgement::Fail(vec![script_fail(&map)]),
                Ok(Outcome::Fails(maps)) if maps.is_empty() => Judgement::Pass,
                Ok(Outcome::Fails(maps)) => Judgement::Fail(maps.iter().map(script_fail).collect()),
                Err(e) => {
                    let script = match &rule.check {
                        Check::Script { path, .. } => path.clone(),
                        _ => format!("{} (expression of rule {})", version.path, rule.id),
                    };
                    let record = world
                        .record(d, idx)
                        .map(|r| format!("{}:{}", world.bundle.file_path(r.file), r.line))
                        .unwrap_or_default();
                    return Err(EvalError {
                        rule: rule.id.clone(),
                        script,
                        line: e.line,
                        message: e.message,
                        record,
                    });
                }
            }
        }
        Check::Builtin(_) => Judgement::OutOfScope,
    };
    Ok(match judgement {
        Judgement::Fail(mut fails) => {
            for (ev, _) in &mut fails {
                for (name, field) in &rule.evidence {
                    ev.entry(name.clone())
                        .or_insert_with(|| value_json(&world.value(d, idx, *field)));
                }
            }
            Judgement::Fail(fails)
        }
        other => other,
    })
}

fn literal_value(l: &Literal) -> Value {
    match l {
        Literal::Str(s) => Value::Str(s.as_str().into()),
        Literal::Int(i) => Value::Int(*i),
        Literal::Float(f) => Value::Float(*f),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Date(d) => Value::Date(*d),
    }
}

fn matches_literal(v: &Value, l: &Literal) -> bool {
    compare(v, &literal_value(l)).is_some_and(|o| o.is_eq())
}

/// Orders two present values of comparable types; `None` when either is missing or they differ in kind.
fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Str(_) | Value::Enum(_), Value::Str(_) | Value::Enum(_)) => {
            Some(a.as_str()?.cmp(b.as_str()?))
        }
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Ts(x), Value::Ts(y)) => Some(x.cmp(y)),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            a.as_float()?.partial_cmp(&b.as_float()?)
        }
        _ => None,
    }
}

fn json_f64(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

/// A record value in evidence.
pub fn value_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Missing => serde_json::Value::Null,
        Value::Int(i) => (*i).into(),
        Value::Float(x) => json_f64(*x),
        Value::Bool(b) => (*b).into(),
        Value::Ts(t) => rfc3339(*t).into(),
        Value::List(items) => items
            .iter()
            .map(|s| serde_json::Value::from(&**s))
            .collect::<Vec<_>>()
            .into(),
        other => other.display().unwrap_or_default().into(),
    }
}

fn subject_key(world: &World, dataset: Dataset, idx: u32) -> (String, u32, u32) {
    let Some(r) = world.record(dataset, idx) else {
        return (String::new(), 0, 0);
    };
    let key = dataset
        .key_field()
        .and_then(|k| dataset.field_index(k))
        .and_then(|i| r.str(i))
        .map(String::from)
        .unwrap_or_else(|| format!("{}:{}", world.bundle.file_path(r.file), r.line));
    (key, r.file, r.line)
}

fn render(
    world: &World,
    rule: &Rule,
    version: &PackVersion,
    idx: u32,
    evidence: &Evidence,
) -> String {
    let mut out = String::new();
    for part in &rule.message.parts {
        match part {
            TemplatePart::Text(t) => out.push_str(t),
            TemplatePart::Field(f) => match &*world.value(rule.dataset, idx, *f) {
                Value::Invalid(raw) => out.push_str(raw),
                v => out.push_str(&v.display().unwrap_or_else(|| "(missing)".into())),
            },
            TemplatePart::Param(p) => out.push_str(
                &version
                    .parameters
                    .get(p)
                    .map(|v| match v {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default(),
            ),
            TemplatePart::Evidence(k) => match evidence.get(k) {
                Some(serde_json::Value::String(s)) => out.push_str(s),
                Some(serde_json::Value::Array(items)) => out.push_str(
                    &items
                        .iter()
                        .map(|i| {
                            i.as_str()
                                .map(String::from)
                                .unwrap_or_else(|| i.to_string())
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Some(v) => out.push_str(&v.to_string()),
                None => out.push_str("(missing)"),
            },
        }
    }
    out
}

fn severity_of(world: &World, rule: &Rule, idx: u32) -> Severity {
    rule.severity_by
        .as_ref()
        .and_then(|(field, map)| {
            let v = world.value(rule.dataset, idx, *field);
            map.get(v.as_str()?).copied()
        })
        .unwrap_or(rule.severity)
}

fn rule_finding(
    world: &World,
    pack: &Pack,
    version: &PackVersion,
    rule: &Rule,
    idx: u32,
    evidence: Evidence,
    message: Option<String>,
) -> Finding {
    let (key, file, line) = subject_key(world, rule.dataset, idx);
    let mut message = message.unwrap_or_else(|| render(world, rule, version, idx, &evidence));
    for (conditions, text) in &rule.addenda {
        let applies = conditions.iter().all(|c| {
            condition_holds(&world.value(rule.dataset, idx, c.field), &c.test) == Some(true)
        });
        if applies {
            message.push_str(text);
        }
    }
    Finding {
        id: String::new(),
        rule: rule.id.clone(),
        policy: pack.id.clone(),
        policy_version: version.version.clone(),
        severity: severity_of(world, rule, idx),
        status: "fail".into(),
        subject: Subject {
            dataset: rule.dataset.name().into(),
            key,
        },
        location: Location {
            file: world.bundle.file_path(file).into(),
            line,
        },
        message,
        evidence,
        citation: rule.citation.clone(),
        remediation: rule.remediation.clone(),
        waiver: None,
        file_order: file,
    }
}

fn quality_finding(
    world: &World,
    pack: &Pack,
    version: &PackVersion,
    rule: &Rule,
    obs: &Observation,
) -> Finding {
    Finding {
        id: String::new(),
        rule: obs.rule.into(),
        policy: pack.id.clone(),
        policy_version: version.version.clone(),
        severity: rule.severity,
        status: "fail".into(),
        subject: Subject {
            dataset: obs.dataset.name().into(),
            key: obs.key.clone(),
        },
        location: Location {
            file: world.bundle.file_path(obs.file).into(),
            line: obs.line,
        },
        message: obs.message.clone(),
        evidence: obs.evidence.clone(),
        citation: rule.citation.clone(),
        remediation: rule.remediation.clone(),
        waiver: None,
        file_order: obs.file,
    }
}

/// Stable ids (outputs-v1.md): sha256 over rule, dataset, key, canonical evidence and the
/// occurrence number in walk order; then the report order.
pub fn finish_ids(findings: &mut [Finding]) {
    findings.sort_by_key(|f| (f.file_order, f.location.line));
    let mut seen: HashMap<String, u64> = HashMap::new();
    for f in findings.iter_mut() {
        let evidence = serde_json::to_string(&f.evidence).unwrap_or_default();
        let basis = format!(
            "{}\n{}\n{}\n{}",
            f.rule, f.subject.dataset, f.subject.key, evidence
        );
        let n = seen.entry(basis.clone()).or_insert(0);
        f.id = sha256_hex(format!("{basis}\n{n}").as_bytes())[..16].to_string();
        *n += 1;
    }
    let tiebreak = |f: &Finding| -> String {
        f.evidence
            .get("field")
            .or_else(|| f.evidence.get("contrast_class"))
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default()
    };
    findings.sort_by(|a, b| {
        (
            a.severity,
            &a.rule,
            a.file_order,
            a.location.line,
            &a.subject.key,
            tiebreak(a),
            &a.id,
        )
            .cmp(&(
                b.severity,
                &b.rule,
                b.file_order,
                b.location.line,
                &b.subject.key,
                tiebreak(b),
                &b.id,
            ))
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::bundle::Bundle;
    use crate::generate::{GenOptions, generate};
    use crate::policy::load::load_packs;

    /// Script work must grow like the bundle, not faster (a regression guard for the
    /// performance issue that does not depend on timing): at most one Rhai evaluation per rule
    /// and record, and calls that grow with the records between two sizes.
    #[test]
    fn rhai_evaluations_grow_linearly_with_the_bundle() {
        let packs = load_packs(&[]).unwrap();
        let mut per_record = Vec::new();
        for exams in [1_000, 4_000] {
            let dir = tempfile::tempdir().unwrap();
            let opts = GenOptions {
                exams,
                seed: 3,
                ..GenOptions::default()
            };
            generate(&opts, dir.path()).unwrap();
            let world = Arc::new(World::new(Bundle::load(dir.path()).unwrap(), None));
            let eval = evaluate(&world, &packs).unwrap();
            let bound: u64 = packs
                .iter()
                .flat_map(|p| p.versions.iter())
                .flat_map(|v| v.rules.iter())
                .filter(|r| matches!(r.check, Check::Expr { .. } | Check::Script { .. }))
                .map(|r| world.bundle.table(r.dataset).len() as u64)
                .sum();
            assert!(eval.script_calls > 0);
            assert!(
                eval.script_calls <= bound,
                "{} > {bound}",
                eval.script_calls
            );
            per_record.push((eval.script_calls as f64, world.bundle.record_count() as f64));
        }
        // Four times the exams: the calls grow like the records (a quadratic change, such as a
        // script evaluated per session per exam, would grow them about sixteen times).
        let growth = (per_record[1].0 / per_record[0].0) / (per_record[1].1 / per_record[0].1);
        assert!(
            (0.6..1.6).contains(&growth),
            "Rhai evaluations grew {growth:.2} times faster than the records: {per_record:?}"
        );
    }
}
