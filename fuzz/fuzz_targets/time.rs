//! Time and value parsing: timestamps (with and without offsets), dates, every field type, and
//! naive local times placed in zones with DST gaps and overlaps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::bundle::schema::FieldType;
use vigil::bundle::time::{parse_date, parse_timestamp, parse_zone, resolve_local};
use vigil::bundle::typing::type_text;
use vigil::bundle::value::Value;

const ZONES: [&str; 4] = ["America/New_York", "Australia/Lord_Howe", "Pacific/Apia", "UTC"];
const TYPES: [FieldType; 8] = [
    FieldType::Str,
    FieldType::Int,
    FieldType::Float,
    FieldType::Bool,
    FieldType::Date,
    FieldType::Ts,
    FieldType::Enum(&["completed", "cancelled", "no_show"]),
    FieldType::List,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_date(text);
    if let Some(Value::Local(t)) = parse_timestamp(text) {
        for zone in ZONES.iter().filter_map(|z| parse_zone(z)) {
            let _ = resolve_local(t, zone);
        }
    }
    for ty in TYPES {
        let value = type_text(text, ty);
        let _ = value.display();
    }
    let _ = parse_zone(text);
});
