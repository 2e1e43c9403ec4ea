//! Times as plain seconds, their text forms (naive local, RFC 3339 with offset, UTC), and zone
//! offsets per local day.
//!
//! A local time is seconds since 1970-01-01 00:00 on the local wall clock. Offsets are taken at
//! local noon of each day: generated times stay between 05:00 and 22:00, away from the 01:00-03:00
//! window where US zones change, so the noon offset is the offset of every generated time.

use chrono::{Datelike, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;

pub(crate) const MINUTE: i64 = 60;
pub(crate) const HOUR: i64 = 3_600;
pub(crate) const DAY: i64 = 86_400;

/// Days from 0001-01-01 (CE day 1) to 1970-01-01.
const UNIX_EPOCH_CE: i64 = 719_163;

pub(crate) fn epoch_day(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - UNIX_EPOCH_CE
}

pub(crate) fn date_of(day: i64) -> Option<NaiveDate> {
    i32::try_from(day + UNIX_EPOCH_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// (year, month, day) of an epoch day (H. Hinnant's civil_from_days).
pub(crate) fn civil(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// 0 = Monday .. 6 = Sunday.
pub(crate) fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// Relative exam volume of a day: sites open Monday to Saturday (Saturday at 40%), closed on
/// Sundays and the six major US holidays.
pub(crate) fn opening_weight(day: i64) -> u128 {
    let (_, m, d) = civil(day);
    let wd = weekday(day);
    let holiday = matches!((m, d), (1, 1) | (7, 4) | (12, 25))
        || (m == 5 && wd == 0 && d >= 25)
        || (m == 9 && wd == 0 && d <= 7)
        || (m == 11 && wd == 3 && (22..=28).contains(&d));
    match wd {
        _ if holiday => 0,
        6 => 0,
        5 => 4,
        _ => 10,
    }
}

fn push2(buf: &mut String, v: i64) {
    buf.push(char::from(b'0' + (v / 10 % 10) as u8));
    buf.push(char::from(b'0' + (v % 10) as u8));
}

pub(crate) fn push_date(buf: &mut String, day: i64) {
    let (y, m, d) = civil(day);
    push2(buf, y / 100);
    push2(buf, y % 100);
    buf.push('-');
    push2(buf, i64::from(m));
    buf.push('-');
    push2(buf, i64::from(d));
}

fn push_clock(buf: &mut String, secs: i64, sep: char, seconds: bool) {
    push_date(buf, secs.div_euclid(DAY));
    buf.push(sep);
    let sod = secs.rem_euclid(DAY);
    push2(buf, sod / HOUR);
    buf.push(':');
    push2(buf, sod % HOUR / MINUTE);
    if seconds {
        buf.push(':');
        push2(buf, sod % MINUTE);
    }
}

/// `2026-01-05 14:03:22`
pub(crate) fn push_naive(buf: &mut String, local: i64) {
    push_clock(buf, local, ' ', true);
}

/// `2026-01-05 14:03`: no seconds, which the bundle format refuses (a DQ-001 defect).
pub(crate) fn push_naive_minutes(buf: &mut String, local: i64) {
    push_clock(buf, local, ' ', false);
}

/// `2026-01-05T14:03:22-06:00`
pub(crate) fn push_offset(buf: &mut String, local: i64, offset: i32) {
    push_clock(buf, local, 'T', true);
    let offset = i64::from(offset);
    buf.push(if offset < 0 { '-' } else { '+' });
    let abs = offset.abs();
    push2(buf, abs / HOUR);
    buf.push(':');
    push2(buf, abs % HOUR / MINUTE);
}

/// `2026-01-05T20:03:22Z`
pub(crate) fn push_utc(buf: &mut String, utc: i64) {
    push_clock(buf, utc, 'T', true);
    buf.push('Z');
}

/// UTC offset (seconds east) of `tz` at local noon of `day`.
pub(crate) fn noon_offset(tz: Tz, day: i64) -> i32 {
    date_of(day)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .and_then(|noon| tz.offset_from_local_datetime(&noon).earliest())
        .map_or(0, |o| o.fix().local_minus_utc())
}

/// Whether the wall-clock time `local` does not exist (gap) or exists twice (overlap) in `tz`.
pub(crate) fn is_dst_edge(tz: Tz, local: i64) -> bool {
    let Some(date) = date_of(local.div_euclid(DAY)) else {
        return false;
    };
    let sod = local.rem_euclid(DAY) as u32;
    date.and_hms_opt(sod / 3600, sod % 3600 / 60, sod % 60)
        .is_some_and(|t| tz.offset_from_local_datetime(&t).single().is_none())
}

/// Offsets of one zone for a range of local days, with a slow path outside the range.
#[derive(Debug, Clone)]
pub(crate) struct ZoneDays {
    pub(crate) tz: Tz,
    first_day: i64,
    offsets: Vec<i32>,
}

impl ZoneDays {
    pub(crate) fn new(tz: Tz, first_day: i64, last_day: i64) -> ZoneDays {
        let offsets = (first_day..=last_day).map(|d| noon_offset(tz, d)).collect();
        ZoneDays {
            tz,
            first_day,
            offsets,
        }
    }

    pub(crate) fn offset(&self, day: i64) -> i32 {
        usize::try_from(day - self.first_day)
            .ok()
            .and_then(|i| self.offsets.get(i).copied())
            .unwrap_or_else(|| noon_offset(self.tz, day))
    }

    /// UTC seconds of the local time `local`.
    pub(crate) fn to_utc(&self, local: i64) -> i64 {
        local - i64::from(self.offset(local.div_euclid(DAY)))
    }

    /// Local days in `[first, last]` on which the zone changes offset (DST starts or ends).
    pub(crate) fn transitions(&self, first: i64, last: i64) -> Vec<i64> {
        (first..=last)
            .filter(|&d| self.offset(d) != self.offset(d - 1))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_through_chrono() {
        for day in [-1, 0, 365, 20_454, 20_513, 20_819, 30_000] {
            let (y, m, d) = civil(day);
            let date = date_of(day).unwrap();
            assert_eq!(date, NaiveDate::from_ymd_opt(y as i32, m, d).unwrap());
            assert_eq!(epoch_day(date), day);
        }
    }

    #[test]
    fn formats() {
        let day = epoch_day(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
        let t = day * DAY + 14 * HOUR + 3 * MINUTE + 22;
        let mut s = String::new();
        push_naive(&mut s, t);
        s.push('|');
        push_offset(&mut s, t, -6 * 3600);
        s.push('|');
        push_utc(&mut s, t);
        s.push('|');
        push_naive_minutes(&mut s, t);
        assert_eq!(
            s,
            "2026-01-05 14:03:22|2026-01-05T14:03:22-06:00|2026-01-05T14:03:22Z|2026-01-05 14:03"
        );
        assert_eq!(weekday(day), 0);
    }

    #[test]
    fn chicago_springs_forward_on_march_8_2026() {
        let tz: Tz = "America/Chicago".parse().unwrap();
        let day = epoch_day(NaiveDate::from_ymd_opt(2026, 3, 8).unwrap());
        let zone = ZoneDays::new(tz, day - 10, day + 10);
        assert_eq!(zone.transitions(day - 5, day + 5), vec![day]);
        assert!(is_dst_edge(tz, day * DAY + 2 * HOUR + 30 * MINUTE));
        assert!(!is_dst_edge(tz, day * DAY + 3 * HOUR + 30 * MINUTE));
        assert_eq!(zone.offset(day), -5 * 3600);
        assert_eq!(zone.offset(day - 1), -6 * 3600);
    }
}
