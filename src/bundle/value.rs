//! Raw cells as the readers find them, and typed values as the rest of vigil sees them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// A present value as a reader found it, before typing. Missing values (an empty CSV cell, an
/// absent JSON key, JSON `null` or `""`) are `None` in [`RawRecord::cells`], never a `RawValue`.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// A CSV cell or a JSON string, exactly as written (never trimmed).
    Text(String),
    /// A JSON number, as written in the file (`70460`, `3.0`, `1e3`).
    Number(String),
    /// A JSON `true` or `false`.
    Bool(bool),
    /// A JSON array; its items are raw values too (missing items are dropped).
    Array(Vec<RawValue>),
    /// A JSON object (or any value no field type accepts), as compact JSON text.
    Other(String),
}

impl RawValue {
    /// The value as text, for evidence and messages.
    pub fn display(&self) -> String {
        match self {
            RawValue::Text(s) | RawValue::Number(s) | RawValue::Other(s) => s.clone(),
            RawValue::Bool(b) => b.to_string(),
            RawValue::Array(items) => {
                let parts: Vec<String> = items.iter().map(RawValue::display).collect();
                format!("[{}]", parts.join(", "))
            }
        }
    }
}

/// One record as read: its physical line and one cell per field of its dataset's schema
/// (`cells[i]` belongs to `Dataset::fields()[i]`). Columns or keys not in the schema are dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    /// 1-based physical line where the record starts.
    pub line: u32,
    pub cells: Vec<Option<RawValue>>,
}

/// A naive local time that names no single instant in its zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DstProblem {
    /// The local time does not exist (clocks jumped over it).
    Gap,
    /// The local time happened twice (clocks fell back over it).
    Ambiguous,
}

impl DstProblem {
    pub fn describe(self) -> &'static str {
        match self {
            DstProblem::Gap => "does not exist (DST gap)",
            DstProblem::Ambiguous => "is ambiguous (DST overlap)",
        }
    }
}

/// Text of a value: up to 24 bytes (every id and code) is stored inline, without an allocation,
/// so a value stays 24 bytes and a million records do not mean ten million small allocations.
pub type Text = compact_str::CompactString;

/// A typed field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Missing,
    /// Present but not parseable as the field's type: DQ-001, and missing for every other rule.
    Invalid(Box<str>),
    Str(Text),
    /// An enum value, canonical (lowercase, from the schema's list).
    Enum(&'static str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
    /// A timestamp with an instant.
    Ts(DateTime<Utc>),
    /// A naive local time whose zone is not applied yet (only between reading and zoning).
    Local(NaiveDateTime),
    /// A naive local time in a DST gap or overlap: present, but no instant (DQ-005).
    NoInstant(NaiveDateTime, DstProblem),
    List(Box<[Box<str>]>),
}

impl Value {
    /// Present and parsed (an `Invalid` value counts as missing).
    pub fn is_present(&self) -> bool {
        !matches!(self, Value::Missing | Value::Invalid(_))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Enum(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(x) => Some(*x),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// The instant of a timestamp; `None` when missing, invalid or in a DST gap/overlap.
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        match self {
            Value::Ts(t) => Some(*t),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Box<str>]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The value as text for messages and evidence; `None` when missing.
    pub fn display(&self) -> Option<String> {
        Some(match self {
            Value::Missing => return None,
            Value::Invalid(s) => s.to_string(),
            Value::Str(s) => s.to_string(),
            Value::Enum(s) => (*s).to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(x) => x.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Date(d) => d.to_string(),
            Value::Ts(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            Value::Local(t) | Value::NoInstant(t, _) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            Value::List(items) => items.join(";"),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_is_three_words() {
        assert_eq!(std::mem::size_of::<super::Value>(), 24);
    }
}
