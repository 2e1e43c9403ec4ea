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

/// The text of a value: up to [`Text::INLINE`] bytes (every id and code of a usual export) is
/// stored inline, longer text in one allocation behind a thin pointer, so that a [`Value`] is
/// 16 bytes (two words) and a million records do not mean ten million small allocations.
#[derive(Clone, PartialEq, Eq)]
pub struct Text(Repr);

/// Inline text is always `Inline` (never `Heap`), its unused bytes zero: equal texts are equal
/// representations, so equality compares the representation.
#[derive(Clone, PartialEq, Eq)]
enum Repr {
    Inline(u8, [u8; Text::INLINE]),
    Heap(Box<Box<str>>),
}

impl Text {
    /// The longest text stored without an allocation.
    pub const INLINE: usize = 14;

    pub fn new(s: &str) -> Text {
        let mut bytes = [0u8; Text::INLINE];
        match bytes.get_mut(..s.len()) {
            Some(slot) => {
                slot.copy_from_slice(s.as_bytes());
                Text(Repr::Inline(s.len() as u8, bytes))
            }
            None => Text(Repr::Heap(Box::new(s.into()))),
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Copied from a `&str` whole: always UTF-8.
            Repr::Inline(len, bytes) => bytes
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            Repr::Heap(s) => s,
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        if s.len() <= Text::INLINE {
            Text::new(&s)
        } else {
            Text(Repr::Heap(Box::new(s.into_boxed_str())))
        }
    }
}

impl From<Box<str>> for Text {
    fn from(s: Box<str>) -> Text {
        if s.len() <= Text::INLINE {
            Text::new(&s)
        } else {
            Text(Repr::Heap(Box::new(s)))
        }
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Text behind one thin pointer: an invalid value's raw text.
#[derive(Clone, PartialEq, Eq)]
pub struct Raw(Box<Box<str>>);

impl std::ops::Deref for Raw {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Raw {
    fn from(s: &str) -> Raw {
        Raw(Box::new(s.into()))
    }
}

impl From<String> for Raw {
    fn from(s: String) -> Raw {
        Raw(Box::new(s.into_boxed_str()))
    }
}

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

/// A list's items behind one thin pointer.
#[derive(Clone, PartialEq, Eq)]
pub struct Items(Box<Box<[Box<str>]>>);

impl std::ops::Deref for Items {
    type Target = [Box<str>];

    fn deref(&self) -> &[Box<str>] {
        &self.0
    }
}

impl From<Box<[Box<str>]>> for Items {
    fn from(items: Box<[Box<str>]>) -> Items {
        Items(Box::new(items))
    }
}

impl FromIterator<Box<str>> for Items {
    fn from_iter<I: IntoIterator<Item = Box<str>>>(iter: I) -> Items {
        Items(Box::new(iter.into_iter().collect()))
    }
}

impl std::fmt::Debug for Items {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

/// A typed field value: 16 bytes. What does not fit beside the tag (long text, lists, a time
/// in a DST gap) is behind one thin pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Missing,
    /// Present but not parseable as the field's type: DQ-001, and missing for every other rule.
    Invalid(Raw),
    Str(Text),
    /// An enum value, canonical (lowercase, from the schema's list).
    Enum(&'static &'static str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
    /// A timestamp with an instant.
    Ts(DateTime<Utc>),
    /// A naive local time whose zone is not applied yet (only between reading and zoning).
    Local(NaiveDateTime),
    /// A naive local time in a DST gap or overlap: present, but no instant (DQ-005).
    NoInstant(Box<(NaiveDateTime, DstProblem)>),
    List(Items),
}

/// Missing: what an empty cell is.
impl Default for Value {
    fn default() -> Value {
        Value::Missing
    }
}

impl Value {
    /// A naive local time in a DST gap or overlap.
    pub fn no_instant(t: NaiveDateTime, problem: DstProblem) -> Value {
        Value::NoInstant(Box::new((t, problem)))
    }

    /// Present and parsed (an `Invalid` value counts as missing).
    pub fn is_present(&self) -> bool {
        !matches!(self, Value::Missing | Value::Invalid(_))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s.as_str()),
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
            Value::Enum(s) => (**s).to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(x) => x.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Date(d) => d.to_string(),
            Value::Ts(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            Value::Local(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            Value::NoInstant(t) => t.0.format("%Y-%m-%dT%H:%M:%S").to_string(),
            Value::List(items) => items.join(";"),
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_is_two_words() {
        assert_eq!(std::mem::size_of::<super::Value>(), 16);
        assert_eq!(std::mem::size_of::<Option<super::Value>>(), 16);
    }

    #[test]
    fn text_is_inline_up_to_its_limit_and_whole_beyond() {
        use super::Text;
        for s in [
            "",
            "a",
            "EX0000001",
            "ACC000000001",
            "é名前",
            "fourteen bytes",
            "fifteen bytes!!",
            "a much longer text than fits",
        ] {
            let t = Text::from(s);
            assert_eq!(t.as_str(), s);
            assert_eq!(t, Text::from(s.to_string()));
            assert_eq!(t, Text::from(Box::<str>::from(s)));
            assert_eq!(format!("{t}"), s);
            assert_eq!(format!("{t:?}"), format!("{s:?}"));
        }
        assert_ne!(Text::from("a"), Text::from("b"));
    }
}
