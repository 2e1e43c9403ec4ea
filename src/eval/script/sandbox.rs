//! The Rhai sandbox, built in one place: one engine with limits, no file or network access,
//! time and coverage helpers registered in Rust, and records handed to scripts by reference.
//!
//! Records reach scripts as a registered type (`Record`) holding an `Arc` of the world and the
//! record's index; fields are read on demand through the indexer (`r.status` or `r["status"]`).
//! That measured about 4x faster than building a map per record (docs/performance.md, "How
//! records reach Rhai scripts").

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rhai::{
    AST, Array, CallFnOptions, Dynamic, Engine, EvalAltResult, ImmutableString, Map, Scope,
};

use crate::bundle::schema::{Dataset, col};
use crate::bundle::value::Value;
use crate::eval::world::{World, seconds_between};
use crate::policy::fields;
use crate::policy::script::{self, MAX_OPERATIONS};

/// A record as scripts see it.
#[derive(Clone)]
pub struct Rec {
    pub world: Arc<World>,
    pub dataset: Dataset,
    pub idx: u32,
}

/// An instant (a timestamp with a time zone applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(pub DateTime<Utc>);

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// What a rule's script decides for one record.
#[derive(Debug, Clone)]
pub enum Outcome {
    Pass,
    Fail(Map),
    NotApplicable(String),
    /// Several findings on one record (from an array result); empty means pass.
    Fails(Vec<Map>),
}

/// The one engine that runs scripts: the limits of [`script::limited_engine`] (the engine
/// that compiled them at load), and the record, time and coverage helpers registered here.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(build_engine)
}

thread_local! {
    /// The operations of the evaluation running on this thread, as Rhai reports its progress.
    static OPERATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Runs one evaluation and returns its result with the Rhai operations it took.
fn counted<T>(eval: impl FnOnce() -> T) -> (T, u64) {
    OPERATIONS.with(|c| c.set(0));
    let result = eval();
    (result, OPERATIONS.with(std::cell::Cell::get))
}

fn build_engine() -> Engine {
    let mut e = script::limited_engine();
    // Each operation's running count, for the run's budget (`World::charge_script`).
    e.on_progress(|ops| {
        OPERATIONS.with(|c| c.set(ops));
        None
    });

    e.register_type_with_name::<Rec>("Record")
        .register_indexer_get(
            |r: &mut Rec, name: &str| -> Result<Dynamic, Box<EvalAltResult>> { get_field(r, name) },
        )
        .register_fn("sessions", |r: &mut Rec| -> Array {
            if r.dataset != Dataset::Exams {
                return Array::new();
            }
            r.world
                .exam_sessions(r.idx)
                .into_iter()
                .map(|i| {
                    Dynamic::from(Rec {
                        world: r.world.clone(),
                        dataset: Dataset::Sessions,
                        idx: i,
                    })
                })
                .collect()
        })
        .register_fn("reactions", |r: &mut Rec| -> Array {
            if r.dataset != Dataset::Exams {
                return Array::new();
            }
            r.world
                .exam_reactions(r.idx)
                .iter()
                .map(|i| {
                    Dynamic::from(Rec {
                        world: r.world.clone(),
                        dataset: Dataset::Reactions,
                        idx: *i,
                    })
                })
                .collect()
        })
        .register_fn("uncovered", uncovered);
    register_field_getters(&mut e);
    e.register_type_with_name::<Rec>("Record")
        .register_fn("uncovered", uncovered)
        .register_fn("contrast_exams", |r: &mut Rec, class: &str| -> i64 {
            facility_count(r, class, |s| &s.contrast_exams)
        })
        .register_fn("contrast_reactions", |r: &mut Rec, class: &str| -> i64 {
            facility_count(r, class, |s| &s.contrast_reactions)
        })
        .register_fn("to_string", |r: &mut Rec| -> String { describe(r) })
        .register_fn("to_debug", |r: &mut Rec| -> String { describe(r) });

    e.register_type_with_name::<Instant>("Instant")
        .register_fn("-", |a: Instant, b: Instant| -> f64 {
            seconds_between(b.0, a.0)
        })
        .register_fn("seconds_between", |a: Instant, b: Instant| -> f64 {
            seconds_between(a.0, b.0)
        })
        .register_fn("<", |a: Instant, b: Instant| a < b)
        .register_fn("<=", |a: Instant, b: Instant| a <= b)
        .register_fn(">", |a: Instant, b: Instant| a > b)
        .register_fn(">=", |a: Instant, b: Instant| a >= b)
        .register_fn("==", |a: Instant, b: Instant| a == b)
        .register_fn("!=", |a: Instant, b: Instant| a != b)
        .register_fn("to_string", |a: &mut Instant| rfc3339(a.0))
        .register_fn("to_debug", |a: &mut Instant| rfc3339(a.0));

    e.register_type_with_name::<Date>("Date")
        .register_fn("<", |a: Date, b: Date| a < b)
        .register_fn("<=", |a: Date, b: Date| a <= b)
        .register_fn(">", |a: Date, b: Date| a > b)
        .register_fn(">=", |a: Date, b: Date| a >= b)
        .register_fn("==", |a: Date, b: Date| a == b)
        .register_fn("!=", |a: Date, b: Date| a != b)
        .register_get("year", |d: &mut Date| i64::from(d.0.year()))
        .register_fn("to_string", |d: &mut Date| d.0.to_string())
        .register_fn("to_debug", |d: &mut Date| d.0.to_string())
        .register_fn("date", |s: &str| -> Result<Date, Box<EvalAltResult>> {
            crate::bundle::time::parse_date(s)
                .map(Date)
                .ok_or_else(|| format!("`{s}` is not a date like 2026-01-01").into())
        });

    e.register_type_with_name::<Outcome>("Outcome")
        .register_fn("pass", || Outcome::Pass)
        .register_fn("fail", || Outcome::Fail(Map::new()))
        .register_fn("fail", Outcome::Fail)
        .register_fn("not_applicable", |reason: ImmutableString| {
            Outcome::NotApplicable(reason.to_string())
        });
    e
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn describe(r: &Rec) -> String {
    let key = r
        .world
        .record(r.dataset, r.idx)
        .and_then(|rec| {
            r.dataset
                .key_field()
                .and_then(|k| r.dataset.field_index(k))
                .and_then(|i| rec.str(i))
        })
        .unwrap_or("?")
        .to_string();
    format!("{} {key}", r.dataset)
}

/// `uncovered(exam)`: the part of the exam's `[started_at, ended_at)` that its supervisor's
/// coverage windows (facility or `*`, exam's mode) leave open, as `#{seconds, gap_start,
/// gap_end}`, or `()` when fully covered or not computable.
fn uncovered(r: &mut Rec) -> Dynamic {
    if r.dataset != Dataset::Exams {
        return Dynamic::UNIT;
    }
    match exam_gap(&r.world, r.idx) {
        None => Dynamic::UNIT,
        Some(u) => {
            let mut m = Map::new();
            m.insert("seconds".into(), Dynamic::from(u.seconds));
            m.insert("gap_start".into(), Dynamic::from(Instant(u.first_gap.0)));
            m.insert("gap_end".into(), Dynamic::from(Instant(u.first_gap.1)));
            Dynamic::from(m)
        }
    }
}

/// The part of exam `idx`'s `[started_at, ended_at)` its supervisor's coverage leaves open
/// (what `uncovered(r)` shows scripts); `None` when fully covered or not computable.
pub fn exam_gap(world: &World, idx: u32) -> Option<crate::eval::coverage::Uncovered> {
    let exam = world.record(Dataset::Exams, idx)?;
    world.coverage.uncovered(
        exam.str(col::exam::SUPERVISOR_ID)?,
        exam.str(col::exam::FACILITY_ID)?,
        exam.str(col::exam::SUPERVISION_MODE)?,
        exam.get(col::exam::STARTED_AT).instant()?,
        exam.get(col::exam::ENDED_AT).instant()?,
    )
}

/// A per-class count of a facility record's aggregates (0 for other records).
fn facility_count(
    r: &Rec,
    class: &str,
    pick: impl Fn(&crate::eval::world::FacilityStats) -> &rustc_hash::FxHashMap<&'static str, u64>,
) -> i64 {
    if r.dataset != Dataset::Facilities {
        return 0;
    }
    r.world
        .facility_stats(r.idx)
        .and_then(|s| pick(s).get(class).copied())
        .map_or(0, |n| n as i64)
}

/// How a property name reads on a record of one dataset.
#[derive(Clone, Copy)]
enum Access {
    Join(fields::Join),
    Field(fields::FieldRef),
}

/// One getter per property name a record of any dataset has (`r.status`, `r.facility`,
/// `r.response_s`), resolved per dataset once, when the engine is built. Rhai finds a getter
/// by hash; without one, each `r.x` fell back to the string indexer and resolved the name
/// again on every read. Names a dataset lacks still go to [`get_field`] for its error.
fn register_field_getters(e: &mut Engine) {
    let mut names: Vec<&'static str> = Vec::new();
    for d in Dataset::ALL {
        names.extend(d.fields().iter().map(|f| f.name));
        names.extend(fields::Derived::available(d).iter().map(|x| x.name()));
        names.extend(fields::Join::available(d).iter().map(|(j, _)| j.name()));
    }
    names.sort_unstable();
    names.dedup();
    for name in names {
        let table: [Option<Access>; Dataset::ALL.len()] = Dataset::ALL.map(|d| {
            match fields::Join::available(d)
                .iter()
                .find(|(j, _)| j.name() == name)
            {
                Some((join, _)) => Some(Access::Join(*join)),
                None => fields::resolve(d, name).ok().map(Access::Field),
            }
        });
        e.register_get(
            name,
            move |r: &mut Rec| -> Result<Dynamic, Box<EvalAltResult>> {
                match table.get(r.dataset.index()).copied().flatten() {
                    Some(Access::Field(field)) => {
                        Ok(to_dynamic(&r.world.value(r.dataset, r.idx, field)))
                    }
                    Some(Access::Join(join)) => Ok(match r.world.join(r.dataset, r.idx, join) {
                        Some(idx) => Dynamic::from(Rec {
                            world: r.world.clone(),
                            dataset: join.target(),
                            idx,
                        }),
                        None => Dynamic::UNIT,
                    }),
                    None => get_field(r, name),
                }
            },
        );
    }
}

fn get_field(r: &mut Rec, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
    // A join name alone gives the linked record (or `()` when it names nobody).
    if let Some((join, _)) = fields::Join::available(r.dataset)
        .iter()
        .find(|(j, _)| j.name() == name)
    {
        return Ok(match r.world.join(r.dataset, r.idx, *join) {
            Some(idx) => Dynamic::from(Rec {
                world: r.world.clone(),
                dataset: join.target(),
                idx,
            }),
            None => Dynamic::UNIT,
        });
    }
    match fields::resolve(r.dataset, name) {
        // `r["facility.state"]` works as in policy files.
        Ok(field) => Ok(to_dynamic(&r.world.value(r.dataset, r.idx, field))),
        Err(_) => {
            let hint =
                crate::suggest::did_you_mean(name, r.dataset.fields().iter().map(|f| f.name))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
            Err(format!("unknown field `{name}` of a {} record{hint}", r.dataset).into())
        }
    }
}

/// A record value as a script sees it: missing, invalid and zone-less values are `()`.
pub fn to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Missing | Value::Invalid(_) | Value::Local(_) | Value::NoInstant(..) => {
            Dynamic::UNIT
        }
        Value::Str(s) => Dynamic::from(ImmutableString::from(&**s)),
        Value::Enum(s) => Dynamic::from(ImmutableString::from(**s)),
        Value::Int(i) => Dynamic::from(*i),
        Value::Float(x) => Dynamic::from(*x),
        Value::Bool(b) => Dynamic::from(*b),
        Value::Date(d) => Dynamic::from(Date(*d)),
        Value::Ts(t) => Dynamic::from(Instant(*t)),
        Value::List(items) => Dynamic::from(
            items
                .iter()
                .map(|s| Dynamic::from(ImmutableString::from(&**s)))
                .collect::<Array>(),
        ),
    }
}

/// A TOML parameter as a script sees it.
pub fn toml_to_dynamic(v: &toml::Value) -> Dynamic {
    match v {
        toml::Value::String(s) => Dynamic::from(ImmutableString::from(s.as_str())),
        toml::Value::Integer(i) => Dynamic::from(*i),
        toml::Value::Float(f) => Dynamic::from(*f),
        toml::Value::Boolean(b) => Dynamic::from(*b),
        toml::Value::Datetime(d) => match d.date.and_then(|dt| {
            NaiveDate::from_ymd_opt(i32::from(dt.year), u32::from(dt.month), u32::from(dt.day))
        }) {
            Some(date) if d.time.is_none() => Dynamic::from(Date(date)),
            _ => Dynamic::from(ImmutableString::from(d.to_string())),
        },
        toml::Value::Array(items) => {
            Dynamic::from(items.iter().map(toml_to_dynamic).collect::<Array>())
        }
        toml::Value::Table(t) => Dynamic::from(
            t.iter()
                .map(|(k, v)| (k.as_str().into(), toml_to_dynamic(v)))
                .collect::<Map>(),
        ),
    }
}

/// A runtime error of a script or expression, with the line it happened on.
#[derive(Debug, Clone)]
pub struct RuntimeError {
    pub message: String,
    pub line: Option<usize>,
}

impl From<Box<EvalAltResult>> for RuntimeError {
    fn from(e: Box<EvalAltResult>) -> Self {
        let line = e.position().line();
        let message = match *e {
            EvalAltResult::ErrorTooManyOperations(_) => {
                format!("stopped after {MAX_OPERATIONS} operations (an endless loop?)")
            }
            ref other => other.to_string(),
        };
        RuntimeError { message, line }
    }
}

/// Evaluates an expression rule on one record; also returns the Rhai operations it took.
pub fn eval_expr(ast: &AST, rec: Rec, params: &Dynamic) -> (Result<Outcome, RuntimeError>, u64) {
    counted(|| {
        let mut scope = Scope::new();
        scope.push_constant("r", rec);
        scope.push_constant_dynamic("params", params.clone());
        let result: Dynamic = engine().eval_ast_with_scope(&mut scope, ast)?;
        outcome(result)
    })
}

/// Calls `check(r, params)` of a rule script on one record; also returns the Rhai operations
/// it took.
pub fn eval_script(ast: &AST, rec: Rec, params: &Dynamic) -> (Result<Outcome, RuntimeError>, u64) {
    counted(|| {
        let mut scope = Scope::new();
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let result: Dynamic = engine().call_fn_with_options(
            options,
            &mut scope,
            ast,
            "check",
            (rec, params.clone()),
        )?;
        outcome(result)
    })
}

fn outcome(result: Dynamic) -> Result<Outcome, RuntimeError> {
    if let Some(b) = result.clone().try_cast::<bool>() {
        return Ok(if b {
            Outcome::Pass
        } else {
            Outcome::Fail(Map::new())
        });
    }
    if let Some(o) = result.clone().try_cast::<Outcome>() {
        return Ok(o);
    }
    // An array of outcomes: several findings on one record (an aggregate rule's groups).
    if let Some(items) = result.clone().try_cast::<Array>() {
        let mut fails = Vec::new();
        for item in items {
            match outcome(item)? {
                Outcome::Fail(m) => fails.push(m),
                Outcome::Pass => {}
                Outcome::NotApplicable(_) | Outcome::Fails(_) => {
                    return Err(RuntimeError {
                        message: "an array result may hold only pass() and fail(...) items".into(),
                        line: None,
                    });
                }
            }
        }
        return Ok(Outcome::Fails(fails));
    }
    Err(RuntimeError {
        message: format!(
            "returned {}; end with true/false, pass(), fail(#{{...}}) or not_applicable(\"reason\")",
            if result.is_unit() {
                "nothing (`()`)".to_string()
            } else {
                format!("a `{}`", result.type_name())
            }
        ),
        line: None,
    })
}

/// Converts a script's evidence map to JSON for findings.
pub fn map_to_json(map: &Map) -> serde_json::Map<String, serde_json::Value> {
    map.iter()
        .map(|(k, v)| (k.to_string(), dynamic_to_json(v)))
        .collect()
}

pub fn dynamic_to_json(v: &Dynamic) -> serde_json::Value {
    if v.is_unit() {
        return serde_json::Value::Null;
    }
    if let Some(b) = v.clone().try_cast::<bool>() {
        return b.into();
    }
    if let Some(i) = v.clone().try_cast::<i64>() {
        return i.into();
    }
    if let Some(f) = v.clone().try_cast::<f64>() {
        return serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null);
    }
    if let Some(t) = v.clone().try_cast::<Instant>() {
        return rfc3339(t.0).into();
    }
    if let Some(d) = v.clone().try_cast::<Date>() {
        return d.0.to_string().into();
    }
    if let Some(a) = v.clone().try_cast::<Array>() {
        return a.iter().map(dynamic_to_json).collect::<Vec<_>>().into();
    }
    if let Some(m) = v.clone().try_cast::<Map>() {
        return serde_json::Value::Object(map_to_json(&m));
    }
    if let Some(r) = v.clone().try_cast::<Rec>() {
        return describe(&r).into();
    }
    v.to_string().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What this runtime adds to the limited engine is what the loader lets scripts call
    /// (`policy::script::SCRIPT_HELPERS`), operators and property getters aside.
    #[test]
    fn the_helpers_the_loader_knows_are_the_ones_registered() {
        let names = |e: &Engine| -> std::collections::BTreeSet<String> {
            e.collect_fn_metadata(None, |f| Some(f.metadata.name.to_string()), true)
                .into_iter()
                .filter(|n| n.starts_with(|c: char| c.is_ascii_alphabetic()) && !n.contains('$'))
                .collect()
        };
        let base = names(&script::limited_engine());
        let added: std::collections::BTreeSet<String> =
            names(engine()).difference(&base).cloned().collect();
        let mut listed: std::collections::BTreeSet<String> = script::SCRIPT_HELPERS
            .iter()
            .map(|s| s.to_string())
            .collect();
        // Helpers whose names Rhai's library already has (`to_string`) are not "added".
        listed.retain(|n| !base.contains(n));
        assert_eq!(added, listed);
    }
}
