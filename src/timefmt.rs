//! Time as the core needs it: Unix seconds in, Zoom's UTC format out, and the date forms
//! Zoom uses in `Retry-After`.

use crate::error::{CoreError, Result};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

// Formatting and parsing are done by hand on top of `time`'s calendar: its
// format-description machinery was a tenth of the .wasm for three fixed formats.

/// Zoom's GMT form `yyyy-MM-ddTHH:mm:ssZ`, always computed from Unix time, never from a
/// local wall-clock time with a `Z` glued on.
pub fn zoom_utc(unix: i64, field: &str) -> Result<String> {
    let t = OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .filter(|t| (1970..=9999).contains(&t.year()))
        .ok_or_else(|| CoreError::field("time_out_of_range", field, "time is out of range"))?;
    // Digits pushed directly: padded `format!` is slow in the interpreter. The year is
    // 1970..=9999, so every part has a fixed width.
    let y = t.year() as u32;
    let parts = [
        ((y / 100) as u8, ""),
        ((y % 100) as u8, "-"),
        (t.month().into(), "-"),
        (t.day(), "T"),
        (t.hour(), ":"),
        (t.minute(), ":"),
        (t.second(), "Z"),
    ];
    let mut s = String::with_capacity(20);
    for (n, then) in parts {
        s.push(char::from(b'0' + n / 10));
        s.push(char::from(b'0' + n % 10));
        s.push_str(then);
    }
    Ok(s)
}

fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| s.parse().ok())?
}

fn at(y: i32, mo: u8, d: u8, h: u8, mi: u8, sec: u8, offset: UtcOffset) -> Option<i64> {
    let date = Date::from_calendar_date(y, Month::try_from(mo).ok()?, d).ok()?;
    let time = Time::from_hms(h, mi, sec).ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_offset(offset)
            .unix_timestamp(),
    )
}

/// Parses an RFC 3339 timestamp (`2020-05-31T00:00:00Z`, fractions and offsets allowed).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    // Byte offsets below assume ASCII: anything else is not a date (and must not panic).
    if !s.is_ascii() {
        return None;
    }
    let (date, rest) = s.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let (y, mo, dd) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    if d.next().is_some() || rest.len() < 9 {
        return None;
    }
    let (clock, zone) = rest.split_at(8);
    let mut c = clock.split(':');
    let (h, mi, sec) = (num(c.next()?)?, num(c.next()?)?, num(c.next()?)?);
    let zone = match zone.strip_prefix('.') {
        Some(frac) => frac.trim_start_matches(|ch: char| ch.is_ascii_digit()),
        None => zone,
    };
    let offset = match zone {
        "Z" | "z" => UtcOffset::UTC,
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) => {
            let sign: i8 = if z.starts_with('-') { -1 } else { 1 };
            let (oh, om) = (num::<i8>(&z[1..3])?, num::<i8>(&z[4..6])?);
            UtcOffset::from_hms(sign * oh, sign * om, 0).ok()?
        }
        _ => return None,
    };
    at(y, mo, dd, h, mi, sec, offset)
}

/// Parses an HTTP date (`Sun, 31 May 2020 00:00:00 GMT`).
pub fn parse_http_date(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let s = s.trim();
    if !s.is_ascii() {
        return None;
    }
    let s = s.split_once(", ").map_or(s, |(_, rest)| rest);
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [day, mon, year, clock, "GMT" | "UTC" | "+0000"] = parts.as_slice() else {
        return None;
    };
    let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(mon))? as u8 + 1;
    let mut c = clock.split(':');
    let (h, mi, sec) = (num(c.next()?)?, num(c.next()?)?, num(c.next()?)?);
    at(num(year)?, mo, num(day)?, h, mi, sec, UtcOffset::UTC)
}

/// `Retry-After` as Zoom sends it: delta seconds, an RFC 3339 date, or an HTTP date.
pub fn parse_retry_after(value: &str, now: i64) -> Option<i64> {
    let v = value.trim();
    if let Some(secs) = num::<u64>(v) {
        return Some(now.saturating_add(secs.min(i64::MAX as u64) as i64));
    }
    parse_rfc3339(v).or_else(|| parse_http_date(v))
}

/// The next 00:00 UTC strictly after `now`: when Zoom's daily create/update cap resets.
pub fn next_utc_midnight(now: i64) -> i64 {
    (now.div_euclid(86_400) + 1) * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_format_is_zoom_gmt_form() {
        assert_eq!(
            zoom_utc(1_767_261_600, "t").unwrap(),
            "2026-01-01T10:00:00Z"
        );
        assert_eq!(zoom_utc(0, "t").unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            zoom_utc(253_402_300_799, "t").unwrap(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(zoom_utc(951_825_605, "t").unwrap(), "2000-02-29T12:00:05Z");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("30", 1000), Some(1030));
        assert_eq!(
            parse_retry_after("2020-05-31T00:00:00Z", 0),
            Some(1_590_883_200)
        );
        assert_eq!(
            parse_retry_after("Sun, 31 May 2020 00:00:00 GMT", 0),
            Some(1_590_883_200)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
        assert_eq!(parse_retry_after("2020-02-30T00:00:00Z", 0), None);
        assert_eq!(
            parse_rfc3339("2020-05-31T02:00:00.123+02:00"),
            Some(1_590_883_200)
        );
        assert_eq!(parse_retry_after("-5", 0), None);
    }

    /// Found by the abuse review: a multi-byte character where the clock should be panicked
    /// (byte-index slicing), which traps the .wasm.
    #[test]
    fn non_ascii_retry_after_is_not_a_date_and_does_not_panic() {
        for v in [
            "2020-05-31T00:00:0\u{e9}Z",
            "2020-05-31T00:00:00+0\u{e9}:00",
            "2020-05-31T\u{1f600}0:00Z",
            "Sun, 31 May 2020 00:00:0\u{e9} GMT",
            "\u{e9}\u{e9}\u{e9}\u{e9}-\u{e9}\u{e9}-\u{e9}\u{e9}T\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}",
        ] {
            assert_eq!(parse_retry_after(v, 0), None, "{v}");
        }
    }

    #[test]
    fn midnight_is_strictly_later() {
        assert_eq!(next_utc_midnight(0), 86_400);
        assert_eq!(next_utc_midnight(86_399), 86_400);
        assert_eq!(next_utc_midnight(86_400), 172_800);
    }
}
