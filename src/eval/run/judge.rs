//! One rule on one record: its scope (`when`), its required fields, then its check:
//! declarative checks in Rust, `expr` and `script` checks natively where the fast path can
//! answer and in Rhai otherwise.

use std::sync::Arc;

use rhai::Dynamic;

use super::{Counts, EvalError, Evidence, Judgement, Said};
use crate::bundle::schema::Dataset;
use crate::bundle::value::Value;
use crate::eval::condition;
use crate::eval::condition::{compare, literal_value, matches_literal};
use crate::eval::script::native::{self, NativeExpr, NativeScript};
use crate::eval::script::sandbox::{self, Outcome, Rec, rfc3339};
use crate::eval::world::{World, seconds_between};
use crate::policy::fields::FieldRef;
use crate::policy::model::*;

/// Whether a scope condition of `rule` is definitely false for the record.
pub(super) fn out_of_scope(world: &World, rule: &Rule, idx: u32) -> bool {
    rule.when
        .iter()
        .any(|c| condition::holds_at(world, rule.dataset, idx, c) == Some(false))
}

/// The answers of one record to the scope conditions of the rules judged together: each
/// distinct condition (rules share many, `status = "completed"` most of all) is decided once per
/// record. Conditions are numbered by [`Prepared::when_ids`].
pub(super) struct Answers {
    /// Per condition: 0 not decided yet, 1 true, 2 false, 3 reads a missing value.
    got: Vec<u8>,
}

impl Answers {
    pub(super) fn new(conditions: usize) -> Answers {
        Answers {
            got: vec![0; conditions],
        }
    }

    /// Forgets every answer: the next record is another record.
    pub(super) fn next_record(&mut self) {
        self.got.fill(0);
    }

    fn holds(&mut self, id: usize, decide: impl FnOnce() -> Option<bool>) -> Option<bool> {
        let Some(slot) = self.got.get_mut(id) else {
            return decide();
        };
        if *slot == 0 {
            *slot = match decide() {
                Some(true) => 1,
                Some(false) => 2,
                None => 3,
            };
        }
        match *slot {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }
}

/// Numbers the scope conditions of `rules`, all rules of one dataset (each rule's `when`, in
/// order), equal conditions alike: each rule's numbers, and how many distinct conditions there
/// are.
pub(super) fn number_conditions<'r>(
    rules: impl Iterator<Item = &'r Rule>,
) -> (Vec<Vec<usize>>, usize) {
    let mut distinct: Vec<&Condition> = Vec::new();
    let ids = rules
        .map(|rule| {
            rule.when
                .iter()
                .map(|c| {
                    distinct.iter().position(|d| *d == c).unwrap_or_else(|| {
                        distinct.push(c);
                        distinct.len() - 1
                    })
                })
                .collect()
        })
        .collect();
    (ids, distinct.len())
}

/// How a rule's check runs, prepared once per rule and version.
pub(super) struct Prepared {
    /// The number of each `when` condition in the record's [`Answers`].
    pub(super) when_ids: Vec<usize>,
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
    pub(super) fn new(rule: &Rule, version: &PackVersion, params: &Dynamic) -> Prepared {
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
            when_ids: (0..rule.when.len()).collect(),
            params: params.clone(),
            native,
            native_script,
        }
    }
}

/// Whose account the Rhai operations of an evaluation go to: the run's (shared by every
/// thread), or a replay's own, which walks packs, versions, rules and records in order after a
/// run failed to find the error judging them one after another meets first.
pub(super) enum Spent {
    World,
    Replay(u64),
}

/// Judges one record by one rule: scope, required fields, check, then the rule's evidence
/// fields added to each finding.
#[allow(clippy::too_many_arguments)]
pub(super) fn judge(
    world: &Arc<World>,
    rule: &Rule,
    version: &PackVersion,
    prepared: &Prepared,
    idx: u32,
    counts: &mut Counts,
    answers: &mut Answers,
    spent: &mut Spent,
) -> Result<Judgement, EvalError> {
    if let Some(outside) = scope(world, rule, &prepared.when_ids, idx, answers) {
        return Ok(outside);
    }
    if prepared.native.is_some() || prepared.native_script.is_some() {
        counts.native += 1;
    }
    let judgement = match &rule.check {
        Check::Expr { .. } | Check::Script { .. } => {
            scripted(world, rule, version, prepared, idx, counts, spent)?
        }
        Check::Builtin(_) => Judgement::OutOfScope,
        check => declarative(world, rule.dataset, idx, check),
    };
    Ok(match judgement {
        Judgement::Fail(mut fails) => {
            for (ev, _) in &mut fails {
                for (name, field) in &rule.evidence {
                    ev.entry(name.clone())
                        .or_insert_with(|| value_json(&world.value(rule.dataset, idx, *field)));
                }
            }
            Judgement::Fail(fails)
        }
        other => other,
    })
}

/// Out of scope when a `when` condition is false; not applicable when one reads a missing
/// value or a `requires` field is missing; `None` when the check is to run.
fn scope(
    world: &World,
    rule: &Rule,
    when_ids: &[usize],
    idx: u32,
    answers: &mut Answers,
) -> Option<Judgement> {
    let d = rule.dataset;
    let mut unknown = None;
    for (k, c) in rule.when.iter().enumerate() {
        let id = when_ids.get(k).copied().unwrap_or(usize::MAX);
        match answers.holds(id, || condition::holds_at(world, d, idx, c)) {
            Some(false) => return Some(Judgement::OutOfScope),
            None => {
                unknown.get_or_insert_with(|| missing(world, &c.name, c.field));
            }
            Some(true) => {}
        }
    }
    if let Some(reason) = unknown {
        return Some(Judgement::NotApplicable(reason));
    }
    for (name, field) in &rule.requires {
        let v = world.value(d, idx, *field);
        if !v.is_present() {
            return Some(Judgement::NotApplicable(missing(world, name, *field)));
        }
        // A time that names no instant (a DST gap or overlap; DQ-005 owns it) is `()` to a
        // script: a rule that requires the time cannot judge the record.
        if matches!(*v, Value::NoInstant(..) | Value::Local(_)) {
            return Some(Judgement::NotApplicable(format!(
                "`{name}` names no instant (a local time in a DST gap or overlap)"
            )));
        }
    }
    None
}

/// Why a rule is not applicable for lack of a value: the field is missing, or, for a fact no
/// pack that runs provides (documentation completeness without the pack that declares it), why.
fn missing(world: &World, name: &str, field: FieldRef) -> String {
    match world.why_absent(field) {
        Some(why) => format!("`{name}` missing: {why}"),
        None => format!("`{name}` missing"),
    }
}

/// The declarative checks: required, compare, one_of, duration, reference.
fn declarative(world: &World, d: Dataset, idx: u32, check: &Check) -> Judgement {
    let value = |f: &(String, FieldRef)| world.value(d, idx, f.1);
    let mut evidence = Evidence::new();
    match check {
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
                Judgement::Fail(vec![(evidence, Said::default())])
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
                    Judgement::NotApplicable(missing(world, &field.0, field.1))
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
                        Judgement::Fail(vec![(evidence, Said::default())])
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
                Judgement::Fail(vec![(evidence, Said::default())])
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
                    Judgement::Fail(vec![(evidence, Said::default())])
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
                Judgement::Fail(vec![(evidence, Said::default())])
            }
        },
        Check::Expr { .. } | Check::Script { .. } | Check::Builtin(_) => Judgement::OutOfScope,
    }
}

/// `expr` and `script` checks: natively where the fast path answers, else in Rhai.
fn scripted(
    world: &Arc<World>,
    rule: &Rule,
    version: &PackVersion,
    prepared: &Prepared,
    idx: u32,
    counts: &mut Counts,
    spent: &mut Spent,
) -> Result<Judgement, EvalError> {
    let (d, params) = (rule.dataset, &prepared.params);
    let evidence = Evidence::new();
    Ok(match &rule.check {
        Check::Expr { .. }
            if let Some(b) = prepared.native.as_ref().and_then(|n| n.eval(world, d, idx)) =>
        {
            // Exactly what Rhai returns for a bool: pass, or a finding with no evidence.
            if b {
                Judgement::Pass
            } else {
                Judgement::Fail(vec![(evidence, Said::default())])
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
            let (result, operations) = match &rule.check {
                Check::Script { .. } => sandbox::eval_script(ast, rec, params),
                _ => sandbox::eval_expr(ast, rec, params),
            };
            // A failed evaluation keeps its own, located error even when it also crossed the
            // budget.
            let within = match spent {
                Spent::World => world.charge_script(operations),
                Spent::Replay(total) => {
                    *total = total.saturating_add(operations);
                    *total <= world.script_budget()
                }
            };
            if !within && result.is_ok() {
                return Err(EvalError::Budget {
                    budget: world.script_budget(),
                });
            }
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
                    return Err(EvalError::Script {
                        rule: rule.id.clone(),
                        script,
                        line: e.line,
                        message: e.message,
                        record,
                    });
                }
            }
        }
        _ => Judgement::OutOfScope,
    })
}

/// A script's failure map: a `message` key overrides the rule message, a `citation` key the
/// rule's citation (a text; anything else stays evidence); the rest is evidence.
fn script_fail(map: &rhai::Map) -> (Evidence, Said) {
    let mut ev = sandbox::map_to_json(map);
    let message = ev
        .remove("message")
        .and_then(|m| m.as_str().map(String::from));
    let citation = match ev.get("citation") {
        Some(serde_json::Value::String(_)) => ev
            .remove("citation")
            .and_then(|c| c.as_str().map(String::from)),
        _ => None,
    };
    (ev, Said { message, citation })
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
