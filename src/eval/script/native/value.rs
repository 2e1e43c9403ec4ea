//! The constants and values the native path works with, and how Rhai compares them: literals
//! and parameters as Rhai holds them (`Lit`), record values and constants as a script sees them
//! (`View`), Rhai's comparisons, `in` and `type_of` over those, and Rhai's data limits.

use chrono::{DateTime, NaiveDate, Utc};
use rhai::{Dynamic, Expr};

use crate::bundle::value::Value;
use crate::eval::script::sandbox;
use crate::policy::model::CompareOp;

/// Rhai's data limits (0 for none): Rhai raises an error when a record read gives a longer
/// string, or an array with more items or more text in all.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    string: usize,
    array: usize,
}

impl Limits {
    pub(super) fn of_engine() -> Limits {
        let engine = sandbox::engine();
        Limits {
            string: engine.max_string_size(),
            array: engine.max_array_size(),
        }
    }

    pub(super) fn admit(self, v: &Value) -> bool {
        let over = |n: usize, max: usize| max != 0 && n > max;
        match v {
            Value::Str(s) => !over(s.len(), self.string),
            Value::List(items) => {
                let text = items.iter().map(|s| s.len()).sum();
                !over(items.len(), self.array) && !over(text, self.string)
            }
            _ => true,
        }
    }
}

/// A constant: a literal of the expression or a parameter, as Rhai holds it.
#[derive(Debug, Clone)]
pub(super) enum Lit {
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Date(NaiveDate),
    Instant(DateTime<Utc>),
    Array(Box<[Lit]>),
}

/// A literal of the expression (`None` for anything else).
pub(super) fn literal(e: &Expr) -> Option<Lit> {
    Some(match e {
        Expr::Unit(_) => Lit::Unit,
        Expr::BoolConstant(b, _) => Lit::Bool(*b),
        Expr::IntegerConstant(i, _) => Lit::Int(*i),
        Expr::FloatConstant(f, _) => Lit::Float(**f),
        Expr::StringConstant(s, _) => Lit::Str(s.as_str().into()),
        Expr::DynamicConstant(d, _) => dynamic_literal(d)?,
        Expr::Array(items, _) => Lit::Array(items.iter().map(literal).collect::<Option<_>>()?),
        _ => return None,
    })
}

/// A constant Rhai value (a folded constant, or a parameter through `toml_to_dynamic`).
pub(super) fn dynamic_literal(d: &Dynamic) -> Option<Lit> {
    if d.is_unit() {
        return Some(Lit::Unit);
    }
    if let Ok(b) = d.as_bool() {
        return Some(Lit::Bool(b));
    }
    if let Ok(i) = d.as_int() {
        return Some(Lit::Int(i));
    }
    if let Ok(f) = d.as_float() {
        return Some(Lit::Float(f));
    }
    if d.is_string() {
        return Some(Lit::Str(
            d.clone().into_immutable_string().ok()?.as_str().into(),
        ));
    }
    if d.is_array() {
        let items = d.as_array_ref().ok()?;
        return Some(Lit::Array(
            items.iter().map(dynamic_literal).collect::<Option<_>>()?,
        ));
    }
    if let Some(date) = d.clone().try_cast::<sandbox::Date>() {
        return Some(Lit::Date(date.0));
    }
    if let Some(t) = d.clone().try_cast::<sandbox::Instant>() {
        return Some(Lit::Instant(t.0));
    }
    None
}

/// A value as a Rhai script sees it (see `sandbox::to_dynamic`).
#[derive(Clone, Copy)]
pub(super) enum View<'v> {
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'v str),
    Date(NaiveDate),
    Instant(DateTime<Utc>),
    Strs(&'v [Box<str>]),
    Lits(&'v [Lit]),
    Record,
    /// A map (what `uncovered` returns for a gap).
    Map,
}

impl Lit {
    pub(super) fn view(&self) -> View<'_> {
        match self {
            Lit::Unit => View::Unit,
            Lit::Bool(b) => View::Bool(*b),
            Lit::Int(i) => View::Int(*i),
            Lit::Float(x) => View::Float(*x),
            Lit::Str(s) => View::Str(s),
            Lit::Date(d) => View::Date(*d),
            Lit::Instant(t) => View::Instant(*t),
            Lit::Array(items) => View::Lits(items),
        }
    }
}

/// Mirrors `sandbox::to_dynamic`: missing, invalid and zone-less values are `()`.
pub(super) fn value_view(v: &Value) -> View<'_> {
    match v {
        Value::Missing | Value::Invalid(_) | Value::Local(_) | Value::NoInstant(..) => View::Unit,
        Value::Str(s) => View::Str(s),
        Value::Enum(s) => View::Str(s),
        Value::Int(i) => View::Int(*i),
        Value::Float(x) => View::Float(*x),
        Value::Bool(b) => View::Bool(*b),
        Value::Date(d) => View::Date(*d),
        Value::Ts(t) => View::Instant(*t),
        Value::List(items) => View::Strs(items),
    }
}

impl View<'_> {
    /// What `type_of` returns (custom type names as registered in the sandbox).
    pub(super) fn type_name(self) -> &'static str {
        match self {
            View::Unit => "()",
            View::Bool(_) => "bool",
            View::Int(_) => "i64",
            View::Float(_) => "f64",
            View::Str(_) => "string",
            View::Date(_) => "Date",
            View::Instant(_) => "Instant",
            View::Strs(_) | View::Lits(_) => "array",
            View::Record => "Record",
            View::Map => "map",
        }
    }
}

/// A comparison as Rhai answers it; `None` where Rhai raises an error (two records) or where
/// we leave it to Rhai (two arrays).
pub(super) fn compare(op: CompareOp, a: View<'_>, b: View<'_>) -> Option<bool> {
    let ord = match (a, b) {
        (View::Int(x), View::Int(y)) => x.cmp(&y),
        (View::Int(x), View::Float(y)) => return Some(float_compare(op, x as f64, y)),
        (View::Float(x), View::Int(y)) => return Some(float_compare(op, x, y as f64)),
        (View::Float(x), View::Float(y)) => return Some(float_compare(op, x, y)),
        (View::Bool(x), View::Bool(y)) => x.cmp(&y),
        (View::Str(x), View::Str(y)) => x.cmp(y),
        (View::Date(x), View::Date(y)) => x.cmp(&y),
        (View::Instant(x), View::Instant(y)) => x.cmp(&y),
        // `()` equals `()` yet Rhai answers false to `<=` and `>=` as well.
        (View::Unit, View::Unit) => return Some(op == CompareOp::Eq),
        // Rhai's fallback for values of different types: unequal, and false to every ordering.
        _ if a.type_name() != b.type_name() => return Some(op == CompareOp::Ne),
        _ => return None,
    };
    Some(op.holds(ord))
}

/// Rhai's float comparison (a build without `unchecked`): equal within a relative epsilon.
fn float_compare(op: CompareOp, x: f64, y: f64) -> bool {
    let max = if x * y == 0.0 {
        1.0
    } else {
        x.abs().max(y.abs())
    };
    if max == 0.0 {
        return matches!(op, CompareOp::Eq | CompareOp::Ge | CompareOp::Le);
    }
    match op {
        CompareOp::Eq => (x - y).abs() / max <= f64::EPSILON,
        CompareOp::Ne => (x - y).abs() / max > f64::EPSILON,
        CompareOp::Gt => (x - y) / max > f64::EPSILON,
        CompareOp::Ge => (x - y) / max > -f64::EPSILON,
        CompareOp::Lt => (y - x) / max > f64::EPSILON,
        CompareOp::Le => (y - x) / max > -f64::EPSILON,
    }
}

/// Rhai's `contains(array, value)`: `item == value` for each item in turn. Other containers
/// (a string, `()`) are left to Rhai.
pub(super) fn contains(haystack: View<'_>, needle: View<'_>) -> Option<bool> {
    match haystack {
        View::Strs(items) => any_equal(items.iter().map(|s| View::Str(s)), needle),
        View::Lits(items) => any_equal(items.iter().map(Lit::view), needle),
        _ => None,
    }
}

fn any_equal<'v>(items: impl Iterator<Item = View<'v>>, needle: View<'_>) -> Option<bool> {
    for item in items {
        if compare(CompareOp::Eq, item, needle)? {
            return Some(true);
        }
    }
    Some(false)
}
