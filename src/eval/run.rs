//! Judging records: each record by the pack version in effect on its date, every rule's scope,
//! requirements and check, in parallel, with findings in a deterministic order.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rayon::prelude::*;
use rhai::Dynamic;

use crate::bundle::schema::Dataset;
use crate::bundle::value::Value;
use crate::digest::sha256_hex;
use crate::eval::metrics::{self, MetricFamilies};
use crate::eval::model::{Finding, Location, RecordRef, RuleSummary, Status, Subject};
use crate::eval::quality::{Observation, data_quality};
use crate::eval::script::native::{self, NativeExpr, NativeScript};
use crate::eval::script::sandbox::{self, Outcome, Rec, rfc3339};
use crate::eval::world::{World, seconds_between};
use crate::policy::fields::FieldRef;
use crate::policy::model::*;
use crate::policy::severity::Severity;

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
    /// The metrics of the packs that ran (docs/outputs.md, "Metrics").
    pub metrics: Vec<crate::eval::model::Metric>,
    /// Rhai evaluations made (expressions and scripts): at most one per rule and record, which
    /// a test checks so a change cannot make script work grow faster than the data.
    pub script_calls: u64,
    /// Evaluations of `expr` and `script` checks natively answered (src/policy/native.rs).
    pub native_calls: u64,
}

enum Judgement {
    OutOfScope,
    Pass,
    /// One or more findings on the record: evidence and an optional message each.
    Fail(Vec<(Evidence, Option<String>)>),
    NotApplicable(String),
}

type Evidence = serde_json::Map<String, serde_json::Value>;

/// Evaluations of script checks: tried natively, and run in Rhai.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    native: u64,
    rhai: u64,
}

/// What one rule found over many records, merged in record order.
#[derive(Default)]
struct Tally {
    counts: Counts,
    evaluated: u64,
    not_applicable: u64,
    reasons: BTreeMap<String, u64>,
    fails: Vec<(u32, Evidence, Option<String>)>,
}

impl Tally {
    fn add(&mut self, idx: u32, judgement: Judgement) {
        match judgement {
            Judgement::OutOfScope => {}
            Judgement::Pass => self.evaluated += 1,
            Judgement::NotApplicable(reason) => {
                self.not_applicable += 1;
                *self.reasons.entry(reason).or_default() += 1;
            }
            Judgement::Fail(fails) => {
                self.evaluated += 1;
                self.fails
                    .extend(fails.into_iter().map(|(ev, message)| (idx, ev, message)));
            }
        }
    }

    fn merge(mut self, other: Tally) -> Tally {
        self.counts.native += other.counts.native;
        self.counts.rhai += other.counts.rhai;
        self.evaluated += other.evaluated;
        self.not_applicable += other.not_applicable;
        for (reason, n) in other.reasons {
            *self.reasons.entry(reason).or_default() += n;
        }
        self.fails.extend(other.fails);
        self
    }
}

/// Judges every record of the world by every pack.
pub fn evaluate(world: &Arc<World>, packs: &[Pack]) -> Result<Evaluation, EvalError> {
    let mut findings = Vec::new();
    let mut summaries: Vec<RuleSummary> = Vec::new();
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
    // Data quality and the metrics run beside the rules: they share nothing but the world.
    let ((quality, metrics), judged) = rayon::join(
        || {
            rayon::join(
                || data_quality(&world.bundle),
                || metrics::compute(world, families),
            )
        },
        || {
            packs
                .iter()
                .map(|pack| judge_pack(world, pack))
                .collect::<Result<Vec<_>, _>>()
        },
    );
    let judged = judged?;
    let mut counts = Counts::default();
    for (pack, judged) in packs.iter().zip(judged) {
        let JudgedPack {
            undated,
            tallies: mut version_tallies,
        } = judged;
        let mut pack_summaries: BTreeMap<String, RuleSummary> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for (vi, version) in pack.versions.iter().enumerate() {
            let mut tallies = version_tallies
                .get_mut(vi)
                .map(std::mem::take)
                .unwrap_or_default();
            for (ri, rule) in version.rules.iter().enumerate() {
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
                let tally = tallies.get_mut(ri).map(std::mem::take).unwrap_or_default();
                counts.native += tally.counts.native;
                counts.rhai += tally.counts.rhai;
                summary.evaluated += tally.evaluated;
                summary.not_applicable += tally.not_applicable;
                for (reason, n) in tally.reasons {
                    *summary.reasons.entry(reason).or_default() += n;
                }
                summary.failed += tally.fails.len() as u64;
                for (idx, evidence, message) in tally.fails {
                    findings.push(rule_finding(
                        world, pack, version, rule, idx, evidence, message,
                    ));
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
    Ok(Evaluation {
        findings,
        rules: summaries,
        metrics,
        script_calls: counts.rhai,
        native_calls: counts.native,
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

/// What the rules of one pack found: per version, one tally per rule; and per dataset, the
/// records no version could be chosen for (no date).
struct JudgedPack {
    undated: HashMap<Dataset, Vec<u32>>,
    tallies: Vec<Vec<Tally>>,
}

/// Gives each record the pack version in effect on its date, then judges it by that
/// version's rules (builtins aside).
fn judge_pack(world: &Arc<World>, pack: &Pack) -> Result<JudgedPack, EvalError> {
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
    // Per dataset: the records each version judges (by index of the version).
    let mut assignment: HashMap<Dataset, Vec<Vec<u32>>> = HashMap::new();
    let mut undated: HashMap<Dataset, Vec<u32>> = HashMap::new();
    for &d in &datasets {
        let n = world.bundle.table(d).len() as u32;
        let mut by_version: Vec<Vec<u32>> = vec![Vec::new(); pack.versions.len()];
        if pack.is_timeless() {
            if let Some(all) = by_version.first_mut() {
                *all = (0..n).collect();
            }
        } else {
            let versions: Vec<Option<u32>> = (0..n)
                .into_par_iter()
                .with_min_len(1024)
                .map(|i| {
                    world.record_date(d, i).map(|date| {
                        pack.versions
                            .iter()
                            .position(|v| v.covers(date))
                            .map_or(u32::MAX, |v| u32::try_from(v).unwrap_or(u32::MAX))
                    })
                })
                .collect();
            let mut no_date = Vec::new();
            for (i, v) in versions.into_iter().enumerate() {
                match v {
                    None => no_date.push(i as u32),
                    Some(v) => {
                        if let Some(list) = by_version.get_mut(v as usize) {
                            list.push(i as u32);
                        }
                    }
                }
            }
            undated.insert(d, no_date);
        }
        assignment.insert(d, by_version);
    }
    let mut tallies = Vec::with_capacity(pack.versions.len());
    for (vi, version) in pack.versions.iter().enumerate() {
        let params = params_dynamic(version);
        tallies.push(judge_version(world, version, vi, &params, &assignment)?);
    }
    Ok(JudgedPack { undated, tallies })
}

/// Judges the records `version` is in effect for by each of its rules (builtins aside): one
/// parallel pass per dataset that runs every rule of the dataset on a record while it is at
/// hand, rather than one pass over the table per rule. One tally per rule, by rule index.
fn judge_version(
    world: &Arc<World>,
    version: &PackVersion,
    vi: usize,
    params: &Dynamic,
    assignment: &HashMap<Dataset, Vec<Vec<u32>>>,
) -> Result<Vec<Tally>, EvalError> {
    let mut tallies: Vec<Tally> = version.rules.iter().map(|_| Tally::default()).collect();
    let mut failed = None;
    for (&dataset, by_version) in assignment {
        let rules: Vec<(usize, &Rule, Prepared)> = version
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.dataset == dataset && !matches!(r.check, Check::Builtin(_)))
            .map(|(i, r)| (i, r, Prepared::new(r, version, params)))
            .collect();
        if rules.is_empty() {
            continue;
        }
        let records = by_version.get(vi).map(Vec::as_slice).unwrap_or(&[]);
        let fresh = || -> Vec<Tally> { rules.iter().map(|_| Tally::default()).collect() };
        // Tallied in parallel, in record order: only failures keep anything per record.
        let result = records
            .par_iter()
            .with_min_len(256)
            .try_fold(fresh, |mut ts, &i| {
                for ((_, rule, prepared), t) in rules.iter().zip(ts.iter_mut()) {
                    let judgement = judge(world, rule, version, prepared, i, &mut t.counts)?;
                    t.add(i, judgement);
                }
                Ok(ts)
            })
            .try_reduce(fresh, |a, b| {
                Ok(a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect())
            });
        match result {
            Ok(ts) => {
                for ((ri, ..), t) in rules.iter().zip(ts) {
                    if let Some(slot) = tallies.get_mut(*ri) {
                        *slot = t;
                    }
                }
            }
            Err(e) => failed = Some(e),
        }
    }
    match failed {
        None => Ok(tallies),
        // The same error on every run: the first rule (in file order) that fails, at its first
        // failing record in walk order.
        Some(e) => Err(version
            .rules
            .iter()
            .filter(|r| !matches!(r.check, Check::Builtin(_)))
            .find_map(|rule| {
                let records = assignment
                    .get(&rule.dataset)
                    .and_then(|v| v.get(vi))
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                first_error(
                    world,
                    rule,
                    version,
                    &Prepared::new(rule, version, params),
                    records,
                )
            })
            .unwrap_or(e)),
    }
}

/// After a parallel run failed, the error of the first failing record in walk order, so the
/// message names the same record on every run.
fn first_error(
    world: &Arc<World>,
    rule: &Rule,
    version: &PackVersion,
    prepared: &Prepared,
    records: &[u32],
) -> Option<EvalError> {
    records
        .iter()
        .find_map(|&i| judge(world, rule, version, prepared, i, &mut Counts::default()).err())
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

/// How a rule's check runs, prepared once per rule and version.
struct Prepared {
    /// The version's parameters as scripts see them.
    params: Dynamic,
    /// An `expr` check compiled to native code, when it is in the subset (src/policy/native.rs);
    /// records it cannot answer for still go through Rhai.
    native: Option<NativeExpr>,
    /// A `script` check's pass paths in native code (src/policy/native.rs); any other outcome
    /// is Rhai's to decide.
    native_script: Option<NativeScript>,
}

impl Prepared {
    fn new(rule: &Rule, version: &PackVersion, params: &Dynamic) -> Prepared {
        let native = match &rule.check {
            Check::Expr { ast, .. } => native::compile_ast(ast, rule.dataset, &version.parameters),
            _ => None,
        };
        let native_script = match &rule.check {
            Check::Script { ast, source, .. } => {
                native::compile_script(ast, source, rule.dataset, &version.parameters)
            }
            _ => None,
        };
        Prepared {
            params: params.clone(),
            native,
            native_script,
        }
    }
}

fn judge(
    world: &Arc<World>,
    rule: &Rule,
    version: &PackVersion,
    prepared: &Prepared,
    idx: u32,
    counts: &mut Counts,
) -> Result<Judgement, EvalError> {
    let params = &prepared.params;
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
    if prepared.native.is_some() || prepared.native_script.is_some() {
        counts.native += 1;
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
        Check::Expr { .. }
            if let Some(b) = prepared.native.as_ref().and_then(|n| n.eval(world, d, idx)) =>
        {
            // Exactly what Rhai returns for a bool: pass, or a finding with no evidence.
            if b {
                Judgement::Pass
            } else {
                Judgement::Fail(vec![(evidence, None)])
            }
        }
        Check::Script { .. }
            if prepared
                .native_script
                .as_ref()
                .and_then(|n| n.passes(world, d, idx))
                == Some(true) =>
        {
            Judgement::Pass
        }
        Check::Expr { ast, .. } | Check::Script { ast, .. } => {
            let rec = Rec {
                world: world.clone(),
                dataset: d,
                idx,
            };
            counts.rhai += 1;
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

/// `compare(v, literal_value(l)) == Equal`, without building the literal's value.
fn matches_literal(v: &Value, l: &Literal) -> bool {
    match (v, l) {
        (Value::Str(_) | Value::Enum(_), Literal::Str(s)) => v.as_str() == Some(s.as_str()),
        (Value::Bool(x), Literal::Bool(y)) => x == y,
        (Value::Date(x), Literal::Date(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Literal::Int(_) | Literal::Float(_)) => {
            compare(v, &literal_value(l)).is_some_and(|o| o.is_eq())
        }
        _ => false,
    }
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
        status: Status::Fail,
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
        record: Some(RecordRef {
            dataset: rule.dataset,
            index: idx,
        }),
        facility: world.facility_id(rule.dataset, idx).map(String::from),
        dos: world.record_date(rule.dataset, idx),
    }
}

fn quality_finding(
    world: &World,
    pack: &Pack,
    version: &PackVersion,
    rule: &Rule,
    obs: &Observation,
) -> Finding {
    let record = obs.record.and_then(|i| {
        Some(RecordRef {
            dataset: obs.dataset,
            index: u32::try_from(i).ok()?,
        })
    });
    Finding {
        id: String::new(),
        rule: obs.rule.into(),
        policy: pack.id.clone(),
        policy_version: version.version.clone(),
        severity: rule.severity,
        status: Status::Fail,
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
        record,
        facility: record.and_then(|r| world.facility_id(r.dataset, r.index).map(String::from)),
        dos: record.and_then(|r| world.record_date(r.dataset, r.index)),
    }
}

/// Stable ids (docs/outputs.md, "Finding ids"): sha256 over rule, dataset, key, canonical
/// evidence and the occurrence number in walk order; then the report order ("Report order").
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
    /// performance issue that does not depend on timing): at most one native and one Rhai
    /// evaluation per rule and record, evaluations that grow with the records between two sizes,
    /// and Rhai left only the records native code cannot answer (failures, mostly).
    #[test]
    fn script_evaluations_grow_linearly_with_the_bundle() {
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
            let (native, rhai) = (eval.native_calls, eval.script_calls);
            assert!(native > 0 && rhai > 0, "{native} native, {rhai} Rhai");
            assert!(
                native <= bound && rhai <= bound,
                "{native}, {rhai} > {bound}"
            );
            // The shipped packs' expressions and hot scripts run natively: Rhai sees a small
            // share (records that fail, or are not applicable, where Rhai words the outcome).
            assert!(rhai * 5 < native, "{rhai} Rhai evaluations of {native}");
            per_record.push(((native + rhai) as f64, world.bundle.record_count() as f64));
        }
        // Four times the exams: evaluations grow like the records (a quadratic change, such as
        // a script evaluated per session per exam, would grow them about sixteen times).
        let growth = (per_record[1].0 / per_record[0].0) / (per_record[1].1 / per_record[0].1);
        assert!(
            (0.6..1.6).contains(&growth),
            "script evaluations grew {growth:.2} times faster than the records: {per_record:?}"
        );
    }
}
