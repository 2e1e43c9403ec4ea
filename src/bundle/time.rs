//! Timestamps: RFC 3339 and naive local times, and the zone that turns a local time into an instant.

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};
use chrono_tz::Tz;

use super::value::{DstProblem, Value};

/// Parses a timestamp of bundle format 1: `YYYY-MM-DD`, a separator (`T`, `t` or one space),
/// `HH:MM:SS`, an optional fraction of 1 to 9 digits, then an optional offset (`Z`, `z`,
/// `+hh:mm`, `-hh:mm`). With an offset the result is [`Value::Ts`]; without one it is a naive
/// [`Value::Local`] waiting for its zone. Nothing is trimmed, and impossible dates and times
/// (February 30, hour 24, leap second `:60`) are `None`.
///
/// A hand parser rather than chrono's format strings: it runs once per timestamp cell, and the
/// accepted spellings are narrower than any single chrono format.
pub fn parse_timestamp(s: &str) -> Option<Value> {
    let b = s.as_bytes();
    if b.len() < 19 || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let date = date_from_bytes(&b[..10])?;
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let hour = two_digits(b[11], b[12])?;
    let minute = two_digits(b[14], b[15])?;
    let second = two_digits(b[17], b[18])?;

    let mut rest = &b[19..];
    let mut nano = 0u32;
    if let Some((&b'.', after_dot)) = rest.split_first() {
        let digits = after_dot.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        for &c in &after_dot[..digits] {
            nano = nano * 10 + u32::from(c - b'0');
        }
        nano *= 10u32.pow((9 - digits) as u32);
        rest = &after_dot[digits..];
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nano)?;
    let local = NaiveDateTime::new(date, time);

    match rest {
        [] => Some(Value::Local(local)),
        [b'Z' | b'z'] => rfc3339_year(local.and_utc()),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let oh = two_digits(*h1, *h2)?;
            let om = two_digits(*m1, *m2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = i32::try_from(oh * 3600 + om * 60).ok()?;
            let offset = FixedOffset::east_opt(if *sign == b'-' { -secs } else { secs })?;
            rfc3339_year(local.checked_sub_offset(offset)?.and_utc())
        }
        _ => None,
    }
}

/// An instant whose UTC year has four digits, as RFC 3339 (and every output) writes it; an
/// offset that moves 9999-12-31 past the year 9999 gives an invalid value (DQ-001), not a
/// `+10000-...` time.
fn rfc3339_year(at: DateTime<Utc>) -> Option<Value> {
    (0..=9999).contains(&at.year()).then_some(Value::Ts(at))
}

/// Parses a calendar date written exactly `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 {
        return None;
    }
    date_from_bytes(b)
}

/// The instant a naive local time names in `tz`, or why it names none: a time the clocks jumped
/// over is a [`DstProblem::Gap`], a time they passed twice is [`DstProblem::Ambiguous`]. Never a
/// guess (docs/bundle-format.md, "Timestamps").
pub fn resolve_local(t: NaiveDateTime, tz: Tz) -> Value {
    match tz.from_local_datetime(&t) {
        LocalResult::Single(at) => rfc3339_year(at.with_timezone(&Utc))
            .unwrap_or_else(|| Value::Invalid(t.format("%Y-%m-%dT%H:%M:%S").to_string().into())),
        LocalResult::Ambiguous(_, _) => Value::no_instant(t, DstProblem::Ambiguous),
        LocalResult::None => Value::no_instant(t, DstProblem::Gap),
    }
}

/// An IANA zone by its exact name (`America/Chicago`, `UTC`).
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// The local calendar date of an instant in `tz` (the date of service is one).
pub fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// `YYYY-MM-DD` in exactly 10 bytes, a real calendar date.
fn date_from_bytes(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = two_digits(b[0], b[1])? * 100 + two_digits(b[2], b[3])?;
    let month = two_digits(b[5], b[6])?;
    let day = two_digits(b[8], b[9])?;
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

fn two_digits(a: u8, b: u8) -> Option<u32> {
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").unwrap()
    }

    fn zone(name: &str) -> Tz {
        parse_zone(name).unwrap()
    }

    #[test]
    fn offsets_give_instants() {
        let cases = [
            ("2026-01-05T14:03:22-06:00", "2026-01-05T20:03:22Z"),
            ("2026-01-05T14:03:22+05:30", "2026-01-05T08:33:22Z"),
            ("2026-01-05T14:03:22+00:00", "2026-01-05T14:03:22Z"),
            ("2026-01-05T14:03:22-00:00", "2026-01-05T14:03:22Z"),
            ("2026-01-05T14:03:22Z", "2026-01-05T14:03:22Z"),
            ("2026-01-05T14:03:22z", "2026-01-05T14:03:22Z"),
            ("2026-01-05t14:03:22Z", "2026-01-05T14:03:22Z"),
            ("2026-01-05 14:03:22Z", "2026-01-05T14:03:22Z"),
            ("2026-01-05T23:30:00-23:59", "2026-01-06T23:29:00Z"),
            ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_timestamp(input),
                Some(Value::Ts(utc(want))),
                "{input}"
            );
        }
    }

    #[test]
    fn naive_times_stay_local() {
        for input in [
            "2026-01-05T14:03:22",
            "2026-01-05t14:03:22",
            "2026-01-05 14:03:22",
        ] {
            assert_eq!(
                parse_timestamp(input),
                Some(Value::Local(naive("2026-01-05T14:03:22"))),
                "{input}"
            );
        }
    }

    #[test]
    fn fractions_of_one_to_nine_digits() {
        let cases = [
            ("2026-01-05T14:03:22.5Z", 500_000_000),
            ("2026-01-05T14:03:22.05Z", 50_000_000),
            ("2026-01-05T14:03:22.123Z", 123_000_000),
            ("2026-01-05T14:03:22.123456Z", 123_456_000),
            ("2026-01-05T14:03:22.123456789Z", 123_456_789),
            ("2026-01-05T14:03:22.000000001+00:00", 1),
        ];
        for (input, nanos) in cases {
            let instant = parse_timestamp(input).and_then(|v| v.instant());
            assert_eq!(
                instant.map(|t| t.timestamp_subsec_nanos()),
                Some(nanos),
                "{input}"
            );
        }
        assert_eq!(
            parse_timestamp("2026-01-05 14:03:22.25"),
            Some(Value::Local(naive("2026-01-05T14:03:22.25")))
        );
    }

    #[test]
    fn rejected_spellings() {
        for input in [
            "",
            "2026-01-05",
            "2026-01-05T14:03",
            "2026-01-05T14:03Z",
            "2026-01-05T14:03:2",
            " 2026-01-05T14:03:22Z",
            "2026-01-05T14:03:22Z ",
            "2026-01-05T14:03:22 ",
            "2026-01-05  14:03:22",
            "2026-01-05_14:03:22",
            "2026-01-05T14:03:22+0600",
            "2026-01-05T14:03:22+06",
            "2026-01-05T14:03:22+6:00",
            "2026-01-05T14:03:22+24:00",
            "2026-01-05T14:03:22+05:60",
            "2026-01-05T14:03:22 +06:00",
            "2026-01-05T14:03:22UTC",
            "2026-01-05T14:03:22ZZ",
            "2026-01-05T14:03:22.",
            "2026-01-05T14:03:22.Z",
            "2026-01-05T14:03:22.1234567890Z",
            "2026-01-05T14:03:22,5Z",
            "2026-02-30T10:00:00Z",
            "2026-02-29T10:00:00",
            "2026-13-01T10:00:00",
            "2026-00-10T10:00:00",
            "2026-01-00T10:00:00",
            "2026-01-05T24:00:00",
            "2026-01-05T23:60:00",
            "2016-12-31T23:59:60Z",
            "26-01-05T14:03:22",
            "2026/01/05T14:03:22",
            "2026-1-05T14:03:22",
            "2026-01-05T14-03-22",
            "+2026-01-05T14:03:22",
            "2026-01-05T14:03:22\u{e9}",
            "２０２６-01-05T14:03:22",
        ] {
            assert_eq!(parse_timestamp(input), None, "{input:?}");
        }
    }

    #[test]
    fn leap_day_of_a_leap_year_parses() {
        assert_eq!(
            parse_timestamp("2028-02-29T10:00:00Z"),
            Some(Value::Ts(utc("2028-02-29T10:00:00Z")))
        );
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            parse_date("2026-03-31"),
            NaiveDate::from_ymd_opt(2026, 3, 31)
        );
        for input in [
            "",
            "2026-3-31",
            "2026-03-31 ",
            " 2026-03-31",
            "2026-02-30",
            "2026-04-31",
            "2026/03/31",
            "20260331",
            "2026-03-31T00:00:00",
        ] {
            assert_eq!(parse_date(input), None, "{input:?}");
        }
    }

    #[test]
    fn chicago_dst_gap_overlap_and_single() {
        let chicago = zone("America/Chicago");
        let gap = naive("2026-03-08T02:30:00");
        assert_eq!(
            resolve_local(gap, chicago),
            Value::no_instant(gap, DstProblem::Gap)
        );
        let overlap = naive("2026-11-01T01:30:00");
        assert_eq!(
            resolve_local(overlap, chicago),
            Value::no_instant(overlap, DstProblem::Ambiguous)
        );
        assert_eq!(
            resolve_local(naive("2026-01-05T14:03:22"), chicago),
            Value::Ts(utc("2026-01-05T20:03:22Z"))
        );
        assert_eq!(
            resolve_local(naive("2026-07-05T14:03:22"), chicago),
            Value::Ts(utc("2026-07-05T19:03:22Z"))
        );
    }

    #[test]
    fn london_dst_gap_overlap_and_single() {
        let london = zone("Europe/London");
        let gap = naive("2026-03-29T01:30:00");
        assert_eq!(
            resolve_local(gap, london),
            Value::no_instant(gap, DstProblem::Gap)
        );
        let overlap = naive("2026-10-25T01:30:00");
        assert_eq!(
            resolve_local(overlap, london),
            Value::no_instant(overlap, DstProblem::Ambiguous)
        );
        assert_eq!(
            resolve_local(naive("2026-01-05T14:03:22"), london),
            Value::Ts(utc("2026-01-05T14:03:22Z"))
        );
        assert_eq!(
            resolve_local(naive("2026-06-05T14:03:22"), london),
            Value::Ts(utc("2026-06-05T13:03:22Z"))
        );
    }

    #[test]
    fn utc_has_no_gaps() {
        let t = naive("2026-03-08T02:30:00");
        assert_eq!(
            resolve_local(t, zone("UTC")),
            Value::Ts(utc("2026-03-08T02:30:00Z"))
        );
    }

    #[test]
    fn zones_by_exact_iana_name() {
        assert_eq!(
            parse_zone("America/Chicago"),
            Some(chrono_tz::America::Chicago)
        );
        assert_eq!(parse_zone("UTC"), Some(chrono_tz::UTC));
        assert_eq!(parse_zone("Europe/London"), Some(chrono_tz::Europe::London));
        for name in [
            "",
            "america/chicago",
            "America/Chicago ",
            "Mars/Olympus",
            "CST6",
        ] {
            assert_eq!(parse_zone(name), None, "{name:?}");
        }
    }

    #[test]
    fn local_dates_follow_the_zone() {
        let chicago = zone("America/Chicago");
        let late = utc("2026-01-06T03:00:00Z");
        assert_eq!(
            local_date(late, chicago),
            NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
        );
        assert_eq!(
            local_date(late, zone("UTC")),
            NaiveDate::from_ymd_opt(2026, 1, 6).unwrap()
        );
    }
}
