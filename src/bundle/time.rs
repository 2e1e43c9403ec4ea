//! Timestamps: RFC 3339 and naive local times, and the zone that turns a local time into an instant.
// STUB
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use crate::bundle::value::Value;
pub fn parse_timestamp(_s: &str) -> Option<Value> { None }
pub fn parse_date(s: &str) -> Option<NaiveDate> { NaiveDate::parse_from_str(s, "%Y-%m-%d").ok() }
pub fn resolve_local(_t: NaiveDateTime, _tz: Tz) -> Value { Value::Missing }
pub fn parse_zone(name: &str) -> Option<Tz> { name.parse().ok() }
pub fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate { t.with_timezone(&tz).date_naive() }
