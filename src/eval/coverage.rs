//! Coverage windows: who was immediately available for which facility, merged once per
//! (supervisor, facility, mode) so a query costs a binary search, not a scan.

use rustc_hash::FxHashMap as HashMap;

use chrono::{DateTime, TimeZone, Utc};

use crate::bundle::Record;
use crate::bundle::schema::col;

/// Half-open `[start, end)` in milliseconds since the epoch.
type Window = (i64, i64);

/// supervisor -> facility or `*` -> mode -> sorted, merged windows.
type WindowMap = HashMap<Box<str>, HashMap<Box<str>, HashMap<&'static str, Vec<Window>>>>;

#[derive(Debug, Default)]
pub struct CoverageIndex {
    /// supervisor -> facility or `*` -> mode -> sorted, merged windows.
    windows: WindowMap,
}

/// What part of an interval no window covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncovered {
    pub seconds: f64,
    /// The first uncovered stretch (equal ends for an uncovered instant).
    pub first_gap: (DateTime<Utc>, DateTime<Utc>),
}

impl CoverageIndex {
    pub fn new(coverage: &[Record]) -> CoverageIndex {
        let mut windows = WindowMap::default();
        for r in coverage {
            let (Some(sup), Some(fac), Some(mode)) = (
                r.str(col::coverage::SUPERVISOR_ID),
                r.str(col::coverage::FACILITY_ID),
                match r.get(col::coverage::MODE) {
                    crate::bundle::value::Value::Enum(m) => Some(*m),
                    _ => None,
                },
            ) else {
                continue;
            };
            let (Some(start), Some(end)) = (
                r.get(col::coverage::START).instant(),
                r.get(col::coverage::END).instant(),
            ) else {
                continue;
            };
            let (start, end) = (start.timestamp_millis(), end.timestamp_millis());
            if start < end {
                windows
                    .entry(sup.into())
                    .or_default()
                    .entry(fac.into())
                    .or_default()
                    .entry(mode)
                    .or_default()
                    .push((start, end));
            }
        }
        for list in windows
            .values_mut()
            .flat_map(|f| f.values_mut())
            .flat_map(|m| m.values_mut())
        {
            list.sort_unstable();
            let mut merged: Vec<Window> = Vec::with_capacity(list.len());
            for &(s, e) in list.iter() {
                match merged.last_mut() {
                    // Adjacent windows join: [a, b) and [b, c) cover [a, c).
                    Some(last) if s <= last.1 => last.1 = last.1.max(e),
                    _ => merged.push((s, e)),
                }
            }
            *list = merged;
        }
        CoverageIndex { windows }
    }

    /// The part of `[start, end)` that the supervisor's windows for `facility` (or `*`) in
    /// `mode` leave uncovered; `None` when fully covered. A zero-length interval is uncovered
    /// when its instant lies in no window.
    pub fn uncovered(
        &self,
        supervisor: &str,
        facility: &str,
        mode: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Option<Uncovered> {
        let (s, e) = (start.timestamp_millis(), end.timestamp_millis());
        let by_facility = self.windows.get(supervisor);
        let lists: Vec<&[Window]> = [facility, "*"]
            .iter()
            .filter_map(|f| by_facility?.get(*f)?.get(mode).map(Vec::as_slice))
            .collect();
        let mut relevant: Vec<Window> = Vec::new();
        for list in lists {
            let first = list.partition_point(|w| w.1 <= s);
            relevant.extend(
                list[first..]
                    .iter()
                    .take_while(|w| w.0 <= e.max(s))
                    .copied(),
            );
        }
        relevant.sort_unstable();
        if s == e {
            let covered = relevant.iter().any(|w| w.0 <= s && s < w.1);
            return (!covered).then_some(Uncovered {
                seconds: 0.0,
                first_gap: (start, end),
            });
        }
        let mut cursor = s;
        let mut total = 0i64;
        let mut first_gap = None;
        for (ws, we) in relevant {
            if ws >= e {
                break;
            }
            if ws > cursor {
                total += ws - cursor;
                first_gap.get_or_insert((cursor, ws));
            }
            cursor = cursor.max(we);
            if cursor >= e {
                break;
            }
        }
        if cursor < e {
            total += e - cursor;
            first_gap.get_or_insert((cursor, e));
        }
        first_gap.map(|(a, b)| Uncovered {
            seconds: total as f64 / 1000.0,
            first_gap: (millis(a), millis(b)),
        })
    }
}

fn millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}
