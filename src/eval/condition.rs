//! Conditions on values, as `when`, `addendum` and documentation `applies` write them, and the
//! comparison of values that conditions and `compare` checks share.

use crate::bundle::schema::Dataset;
use crate::bundle::value::Value;
use crate::eval::world::World;
use crate::policy::model::{Condition, ConditionTest, Literal};

/// Condition `c` on record `idx` of `dataset`; `None` when it reads a missing value.
pub fn holds_at(world: &World, dataset: Dataset, idx: u32, c: &Condition) -> Option<bool> {
    let v = world.value(dataset, idx, c.field);
    if let ConditionTest::CompareField(op, _, other) = &c.test {
        let other = world.value(dataset, idx, *other);
        if !v.is_present() || !other.is_present() {
            return None;
        }
        return Some(compare(&v, &other).is_some_and(|o| op.holds(o)));
    }
    holds(&v, &c.test)
}

/// `None` when the condition reads a missing value, or compares with another field (which
/// [`holds_at`] reads).
pub fn holds(v: &Value, test: &ConditionTest) -> Option<bool> {
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
        ConditionTest::CompareField(..) => return None,
    })
}

pub fn literal_value(l: &Literal) -> Value {
    match l {
        Literal::Str(s) => Value::Str(s.as_str().into()),
        Literal::Int(i) => Value::Int(*i),
        Literal::Float(f) => Value::Float(*f),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Date(d) => Value::Date(*d),
    }
}

/// `compare(v, literal_value(l)) == Equal`, without building the literal's value.
pub fn matches_literal(v: &Value, l: &Literal) -> bool {
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
pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
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
