//! TOML values as policy literals: strings, numbers, booleans and plain dates.

use chrono::NaiveDate;

use crate::policy::model::Literal;

pub(super) fn literal(v: &toml::Value) -> Option<Literal> {
    Some(match v {
        toml::Value::String(s) => Literal::Str(s.clone()),
        toml::Value::Integer(i) => Literal::Int(*i),
        toml::Value::Float(f) => Literal::Float(*f),
        toml::Value::Boolean(b) => Literal::Bool(*b),
        toml::Value::Datetime(d) => Literal::Date(toml_date(d)?),
        _ => return None,
    })
}

/// A list of literals, or one literal as a list of one.
pub(super) fn literals(v: &toml::Value) -> Option<Vec<Literal>> {
    match v {
        toml::Value::Array(items) => items.iter().map(literal).collect(),
        other => literal(other).map(|l| vec![l]),
    }
}

/// A plain date (no time, no offset); anything else is `None`.
pub(super) fn toml_date(d: &toml::value::Datetime) -> Option<NaiveDate> {
    if d.time.is_some() || d.offset.is_some() {
        return None;
    }
    let date = d.date?;
    NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )
}
