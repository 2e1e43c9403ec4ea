//! Typing of raw cells into values per the field types of bundle-v1.md.
// STUB
use crate::bundle::schema::FieldType;
use crate::bundle::value::{RawValue, Value};
pub fn type_value(raw: &RawValue, _ty: FieldType) -> Value { Value::Str(raw.display().into()) }
