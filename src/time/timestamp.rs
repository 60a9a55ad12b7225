//! ISO 8601 / RFC 3339 text ⇄ Unix epoch milliseconds (UTC), the unit of `calls.started_at`.
//!
//! Accepted forms, all case-insensitive in their letters:
//! - a date alone: `2026-11-01`;
//! - a datetime: `2026-11-01T09:30`, `2026-11-01T09:30:00`, `2026-11-01T09:30:00.123456`, with `T` or a
//!   space between date and time and `.` or `,` before the fraction (1 to 9 digits);
//! - optionally followed by an offset: `Z`, `+05:30`, `+0530`, `+05`, `-08:00`, ... (hours 00–23, minutes
//!   00–59). A space in the offset's sign position is read as `+`: it is what an unencoded `+` in a URL query
//!   becomes. Without an offset a datetime is local wall time in the request's zone (UTC by default).
//!
//! Years have four digits (0000–9999). Surrounding whitespace is ignored.
//!
//! Instants that machines write (a key record's `expires_at`, a call's `started_at`) are read strictly, by
//! [`parse_instant`]: RFC 3339 with seconds and `Z` or `±hh:mm`, nothing around it (the grammar of
//! `tests/vectors/instants.json`, which the tools' reader shares).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike};

use crate::time::zone::{midnight_millis, TimeZone};

const NANOS_PER_MILLI: i64 = 1_000_000;
pub const MILLIS_PER_DAY: i64 = 86_400_000;

/// A parsed parameter value: a calendar date, a wall-clock datetime, or an exact instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamp {
    /// A date without a time: a whole local day.
    Date(NaiveDate),
    /// A datetime without an offset: wall-clock seconds (counted as if UTC) and nanoseconds, read in a zone.
    Local { wall_seconds: i64, nanos: u32 },
    /// An instant (a datetime with `Z` or an offset): seconds since the Unix epoch and nanoseconds.
    Instant { epoch_seconds: i64, nanos: u32 },
}

/// The text is not one of the accepted forms (or names a day or time that does not exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidTimestamp;

impl Timestamp {
    pub fn parse(text: &str) -> Result<Self, InvalidTimestamp> {
        let mut cursor = Cursor::new(text.trim());
        let date = cursor.date()?;
        if cursor.at_end() {
            return Ok(Timestamp::Date(date));
        }
        if !cursor.eat_any(b"Tt ") {
            return Err(InvalidTimestamp);
        }
        let (time, fraction_nanos) = cursor.time()?;
        let offset_seconds = cursor.offset()?;
        if !cursor.at_end() {
            return Err(InvalidTimestamp);
        }
        let wall_seconds = date.and_time(time).and_utc().timestamp();
        Ok(match offset_seconds {
            None => Timestamp::Local {
                wall_seconds,
                nanos: fraction_nanos,
            },
            Some(offset) => Timestamp::Instant {
                epoch_seconds: wall_seconds - i64::from(offset),
                nanos: fraction_nanos,
            },
        })
    }

    /// The first millisecond at or after this timestamp's start in `zone`: a call whose `started_at` is at
    /// least this value did not start before the timestamp. A date starts at the first instant of that local
    /// day; a local datetime is resolved by the compatible rule (see `zone`).
    pub fn start_millis(self, zone: &TimeZone) -> i64 {
        match self {
            Timestamp::Date(date) => zone.first_instant(midnight_millis(date)),
            _ => self.instant_millis(zone),
        }
    }

    /// The exclusive end this timestamp denotes as an upper bound, in milliseconds: a date covers its whole
    /// local day (the bound is the first instant of the next one), an instant is exclusive itself.
    pub fn end_millis(self, zone: &TimeZone) -> i64 {
        match self {
            Timestamp::Date(date) => zone.first_instant(midnight_millis(date) + MILLIS_PER_DAY),
            // A call at millisecond t started before the instant iff t < the instant, in milliseconds rounded up.
            _ => self.instant_millis(zone),
        }
    }

    /// A datetime's instant in milliseconds, a fraction of one rounded up; local ones are resolved in `zone`
    /// (offsets change on whole seconds, so the fraction is kept as it is).
    fn instant_millis(self, zone: &TimeZone) -> i64 {
        let (whole_millis, nanos) = match self {
            Timestamp::Instant { epoch_seconds, nanos } => (epoch_seconds * 1000, nanos),
            Timestamp::Local { wall_seconds, nanos } => {
                let wall = wall_seconds * 1000 + i64::from(nanos) / NANOS_PER_MILLI;
                (wall_seconds * 1000 + zone.resolve(wall) - wall, nanos)
            }
            Timestamp::Date(date) => (midnight_millis(date), 0),
        };
        whole_millis + (i64::from(nanos) + NANOS_PER_MILLI - 1) / NANOS_PER_MILLI
    }
}

/// An RFC 3339 instant as machines write it, in epoch milliseconds (digits past the millisecond dropped):
/// `YYYY-MM-DD`, `T` (or `t` or a space), `hh:mm:ss`, an optional `.` and 1 to 9 digits, then `Z` (or `z`)
/// or `±hh:mm`; every field in its range, nothing before or after.
pub fn parse_instant(text: &str) -> Result<i64, InvalidTimestamp> {
    let mut cursor = Cursor::new(text);
    let date = cursor.date()?;
    if !cursor.eat_any(b"Tt ") {
        return Err(InvalidTimestamp);
    }
    let hour = cursor.digits(2)?;
    cursor.expect(b':')?;
    let minute = cursor.digits(2)?;
    cursor.expect(b':')?;
    let second = cursor.digits(2)?;
    let nanos = if cursor.eat(b'.') { cursor.fraction()? } else { 0 };
    let time = NaiveTime::from_hms_opt(hour, minute, second).ok_or(InvalidTimestamp)?;
    let offset_seconds = if cursor.eat_any(b"Zz") {
        0
    } else {
        let sign = match cursor.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err(InvalidTimestamp),
        };
        cursor.at += 1;
        let hours = cursor.digits(2)?;
        cursor.expect(b':')?;
        let minutes = cursor.digits(2)?;
        if hours > 23 || minutes > 59 {
            return Err(InvalidTimestamp);
        }
        sign * i64::from(hours * 3600 + minutes * 60)
    };
    if !cursor.at_end() {
        return Err(InvalidTimestamp);
    }
    let wall_seconds = date.and_time(time).and_utc().timestamp();
    Ok((wall_seconds - offset_seconds) * 1000 + i64::from(nanos) / NANOS_PER_MILLI)
}

/// Formats epoch milliseconds as RFC 3339 in UTC with milliseconds, as JavaScript's `toISOString` does
/// (`2026-11-01T00:00:00.000Z`; years outside 0000–9999 in its six-digit signed form).
pub fn format_millis(epoch_millis: i64) -> String {
    format!("{}.{:03}Z", wall_clock(epoch_millis), epoch_millis.rem_euclid(1000))
}

/// Formats an instant as RFC 3339 local time with the given offset: `2026-11-01T00:00:00+05:30`, with
/// milliseconds only when there are some. RFC 3339 offsets have no seconds: a historical local mean time
/// with some (+05:53:28) is written to the whole minute toward zero (+05:53), its local time moved to match,
/// so the instant stays exact.
pub fn format_with_offset(epoch_millis: i64, offset_millis: i64) -> String {
    let offset_millis = offset_millis - offset_millis % 60_000;
    let local = epoch_millis + offset_millis;
    let millis = match local.rem_euclid(1000) {
        0 => String::new(),
        ms => format!(".{ms:03}"),
    };
    let sign = if offset_millis < 0 { '-' } else { '+' };
    let minutes = offset_millis.unsigned_abs() / 60_000;
    format!("{}{millis}{sign}{:02}:{:02}", wall_clock(local), minutes / 60, minutes % 60)
}

/// `YYYY-MM-DDTHH:MM:SS` of wall-clock milliseconds (years outside 0000–9999 as `toISOString` writes them).
fn wall_clock(wall_millis: i64) -> String {
    let Some(instant) = DateTime::from_timestamp_millis(wall_millis) else {
        // Beyond chrono's range (±262,000 years): no parameter can produce it, but never panic.
        return wall_millis.to_string();
    };
    let year = instant.year();
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!(
            "{}{:06}",
            if year < 0 { '-' } else { '+' },
            year.unsigned_abs()
        )
    };
    format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:{:02}",
        instant.month(),
        instant.day(),
        instant.hour(),
        instant.minute(),
        instant.second(),
    )
}

/// A byte cursor over ASCII grammar; any non-ASCII byte simply fails to match.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.eat_any(&[byte])
    }

    fn eat_any(&mut self, set: &[u8]) -> bool {
        match self.peek() {
            Some(byte) if set.contains(&byte) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), InvalidTimestamp> {
        self.eat(byte).then_some(()).ok_or(InvalidTimestamp)
    }

    /// Exactly `count` ASCII digits as a number.
    fn digits(&mut self, count: usize) -> Result<u32, InvalidTimestamp> {
        let end = self.at + count;
        let slice = self.bytes.get(self.at..end).ok_or(InvalidTimestamp)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return Err(InvalidTimestamp);
        }
        self.at = end;
        Ok(slice.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    }

    fn date(&mut self) -> Result<NaiveDate, InvalidTimestamp> {
        let year = self.digits(4)?;
        self.expect(b'-')?;
        let month = self.digits(2)?;
        self.expect(b'-')?;
        let day = self.digits(2)?;
        NaiveDate::from_ymd_opt(year as i32, month, day).ok_or(InvalidTimestamp)
    }

    /// `HH:MM[:SS[(.|,)fraction]]`, returning the time and the fraction in nanoseconds.
    fn time(&mut self) -> Result<(NaiveTime, u32), InvalidTimestamp> {
        let hour = self.digits(2)?;
        self.expect(b':')?;
        let minute = self.digits(2)?;
        let mut second = 0;
        let mut nanos = 0;
        if self.eat(b':') {
            second = self.digits(2)?;
            if self.eat_any(b".,") {
                nanos = self.fraction()?;
            }
        }
        // from_hms_opt rejects 24:00 and leap seconds (60), which no call record can carry either.
        let time = NaiveTime::from_hms_opt(hour, minute, second).ok_or(InvalidTimestamp)?;
        Ok((time, nanos))
    }

    /// 1 to 9 digits of a fraction of a second, in nanoseconds.
    fn fraction(&mut self) -> Result<u32, InvalidTimestamp> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let fraction = &self.bytes[start..self.at];
        if fraction.is_empty() || fraction.len() > 9 {
            return Err(InvalidTimestamp);
        }
        let value = fraction.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        Ok(value * 10u32.pow(9 - fraction.len() as u32))
    }

    /// The UTC offset in seconds: none (`None`: local time), `Z`, or a sign (`+`, `-`, or a space standing
    /// for `+`) with `HH`, `HHMM` or `HH:MM`.
    fn offset(&mut self) -> Result<Option<i32>, InvalidTimestamp> {
        if self.at_end() {
            return Ok(None);
        }
        if self.eat_any(b"Zz") {
            return Ok(Some(0));
        }
        let sign = match self.peek() {
            Some(b'+' | b' ') => 1,
            Some(b'-') => -1,
            _ => return Err(InvalidTimestamp),
        };
        self.at += 1;
        let hours = self.digits(2)?;
        let minutes = if self.at_end() {
            0
        } else {
            self.eat(b':');
            self.digits(2)?
        };
        if hours > 23 || minutes > 59 {
            return Err(InvalidTimestamp);
        }
        Ok(Some(sign * (hours * 3600 + minutes * 60) as i32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::memory::zone;

    fn utc() -> TimeZone {
        TimeZone::utc()
    }

    fn millis(text: &str) -> i64 {
        Timestamp::parse(text).unwrap().start_millis(&utc())
    }

    // 2026-11-01T00:00:00Z, worked out as 20,758 days after 1970-01-01 (date -u -d @1793491200).
    const NOV_1: i64 = 1_793_491_200_000;

    #[test]
    fn utc_forms_agree() {
        for text in [
            "2026-11-01T00:00:00Z",
            "2026-11-01T00:00:00z",
            "2026-11-01t00:00:00Z",
            "2026-11-01T00:00:00",
            "2026-11-01T00:00",
            "2026-11-01 00:00:00Z",
            "2026-11-01T00:00:00.000Z",
            "2026-11-01T00:00:00,000000000Z",
            "2026-11-01T00:00:00+00:00",
            "2026-11-01T00:00:00-00:00",
            "  2026-11-01T00:00:00Z ",
        ] {
            assert_eq!(millis(text), NOV_1, "{text}");
        }
    }

    #[test]
    fn offsets_move_the_instant() {
        let five_thirty = (5 * 60 + 30) * 60_000;
        for text in [
            "2026-11-01T00:00:00+05:30",
            "2026-11-01T00:00:00+0530",
            "2026-11-01T00:00:00 05:30",
            "2026-11-01T00:00:00 0530",
            "2026-11-01 00:00:00 05:30",
        ] {
            assert_eq!(millis(text), NOV_1 - five_thirty, "{text}");
        }
        assert_eq!(millis("2026-11-01T00:00:00-08:00"), NOV_1 + 8 * 3_600_000);
        assert_eq!(millis("2026-11-01T00:00:00+05"), NOV_1 - 5 * 3_600_000);
        assert_eq!(
            millis("2026-11-01T00:00:00.5-23:59"),
            NOV_1 + 86_340_000 + 500
        );
    }

    #[test]
    fn fractions_round_up_to_the_next_millisecond() {
        assert_eq!(millis("2026-11-01T00:00:00.123Z"), NOV_1 + 123);
        assert_eq!(millis("2026-11-01T00:00:00.1Z"), NOV_1 + 100);
        assert_eq!(millis("2026-11-01T00:00:00.000001Z"), NOV_1 + 1);
        assert_eq!(millis("2026-11-01T00:00:00.999999999Z"), NOV_1 + 1000);
        // Before the epoch the ceiling still rounds towards +infinity.
        assert_eq!(millis("1969-12-31T23:59:59.9995Z"), 0);
        assert_eq!(millis("1969-12-31T23:59:59.999Z"), -1);
    }

    #[test]
    fn a_date_is_a_whole_utc_day() {
        let date = Timestamp::parse("2026-11-01").unwrap();
        assert_eq!(
            date,
            Timestamp::Date(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap())
        );
        assert_eq!(date.start_millis(&utc()), NOV_1);
        assert_eq!(date.end_millis(&utc()), NOV_1 + MILLIS_PER_DAY);
        let instant = Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
        assert_eq!(instant.end_millis(&utc()), NOV_1);
    }

    #[test]
    fn extreme_years_are_instants_too() {
        assert_eq!(millis("0001-01-01"), -62_135_596_800_000);
        assert_eq!(millis("0000-01-01T00:00:00Z"), -62_167_219_200_000);
        let last = Timestamp::parse("9999-12-31").unwrap();
        assert_eq!(last.end_millis(&utc()), 253_402_300_800_000);
        assert_eq!(
            millis("9999-12-31T23:59:59.999-23:59"),
            253_402_300_800_000 + 86_340_000 - 1
        );
    }

    #[test]
    fn rejects_what_is_not_an_accepted_form() {
        for text in [
            "",
            " ",
            "yesterday",
            "2026-11",
            "2026-1-01",
            "26-11-01",
            "+2026-11-01",
            "20261101",
            "2026-11-01T",
            "2026-11-01T9:30",
            "2026-11-01T09",
            "2026-11-01T09:30:0",
            "2026-11-01T09:30:00.",
            "2026-11-01T09:30:00.1234567890Z",
            "2026-11-01T09:30:00ZZ",
            "2026-11-01T09:30:00+5:30",
            "2026-11-01T09:30:00+05:3",
            "2026-11-01T09:30:00+24:00",
            "2026-11-01T09:30:00+05:60",
            "2026-11-01T09:30:00+05:30:00",
            "2026-11-01T09:30:00 UTC",
            "2026-11-01T24:00:00Z",
            "2026-11-01T23:60:00Z",
            "2026-12-31T23:59:60Z",
            "2026-02-29",
            "2026-13-01",
            "2026-11-00",
            "2026-11-01+05:30",
            "2026-11-01T09:30:00\u{0}",
            "２０２６-11-01",
            "1762000000000",
        ] {
            assert_eq!(Timestamp::parse(text), Err(InvalidTimestamp), "{text:?}");
        }
        assert!(Timestamp::parse("2028-02-29").is_ok());
    }

    #[test]
    fn without_an_offset_a_datetime_is_local_time_in_the_zone() {
        let kolkata = zone("Asia/Calcutta");
        let local = Timestamp::parse("2026-11-01T09:30:00.250").unwrap();
        assert_eq!(local.start_millis(&utc()), NOV_1 + 9 * 3_600_000 + 1_800_000 + 250);
        assert_eq!(local.start_millis(&kolkata), NOV_1 + 4 * 3_600_000 + 250);
        // An explicit offset wins over the zone.
        let explicit = Timestamp::parse("2026-11-01T09:30:00Z").unwrap();
        assert_eq!(explicit.start_millis(&kolkata), NOV_1 + 9 * 3_600_000 + 1_800_000);
        // Sub-millisecond local times still round up to the next millisecond.
        let fine = Timestamp::parse("2026-11-01T00:00:00.0000001").unwrap();
        assert_eq!(fine.start_millis(&kolkata), NOV_1 - 19_800_000 + 1);
        // A time in New York's spring gap moves forward by the gap.
        let gap = Timestamp::parse("2026-03-08T02:30:00").unwrap();
        let new_york = zone("America/New_York");
        assert_eq!(format_millis(gap.start_millis(&new_york)), "2026-03-08T07:30:00.000Z");
    }

    #[test]
    fn a_date_is_a_whole_local_day() {
        let date = Timestamp::parse("2026-11-01").unwrap();
        let kolkata = zone("Asia/Calcutta");
        assert_eq!(date.start_millis(&kolkata), NOV_1 - 19_800_000);
        assert_eq!(date.end_millis(&kolkata), NOV_1 - 19_800_000 + MILLIS_PER_DAY);
        // New York's 2026-11-01 lasts 25 hours; Santiago's 2026-09-06 starts at 01:00.
        let new_york = zone("America/New_York");
        assert_eq!(date.end_millis(&new_york) - date.start_millis(&new_york), 25 * 3_600_000);
        let santiago = Timestamp::parse("2026-09-06").unwrap();
        assert_eq!(format_millis(santiago.start_millis(&zone("America/Santiago"))), "2026-09-06T04:00:00.000Z");
    }

    #[test]
    fn formats_with_the_zone_s_offset() {
        assert_eq!(format_with_offset(NOV_1, 19_800_000), "2026-11-01T05:30:00+05:30");
        assert_eq!(format_with_offset(NOV_1 + 250, -18_000_000), "2026-10-31T19:00:00.250-05:00");
        assert_eq!(format_with_offset(NOV_1, 0), "2026-11-01T00:00:00+00:00");
        assert_eq!(format_with_offset(NOV_1, 49_500_000), "2026-11-01T13:45:00+13:45");
        // Local mean time, with seconds (Asia/Kolkata's in 1850 was +05:53:28): to the minute, same instant.
        assert_eq!(format_with_offset(0, 21_208_000), "1970-01-01T05:53:00+05:53");
        assert_eq!(format_with_offset(0, -17_762_000), "1969-12-31T19:04:00-04:56");
        assert_eq!(format_with_offset(-1, -3_600_000), "1969-12-31T22:59:59.999-01:00");
    }

    #[test]
    fn formats_like_to_iso_string() {
        assert_eq!(format_millis(NOV_1), "2026-11-01T00:00:00.000Z");
        assert_eq!(format_millis(NOV_1 + 12_345), "2026-11-01T00:00:12.345Z");
        assert_eq!(format_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            format_millis(-62_135_596_800_000),
            "0001-01-01T00:00:00.000Z"
        );
        // new Date(253402300800000).toISOString() === "+010000-01-01T00:00:00.000Z"
        assert_eq!(
            format_millis(253_402_300_800_000),
            "+010000-01-01T00:00:00.000Z"
        );
        // new Date(-62167219200001).toISOString() === "-000001-12-31T23:59:59.999Z"
        assert_eq!(
            format_millis(-62_167_219_200_001),
            "-000001-12-31T23:59:59.999Z"
        );
    }

    #[derive(serde::Deserialize)]
    struct Instants {
        accepted: Vec<Accepted>,
        refused: Vec<String>,
    }

    #[derive(serde::Deserialize)]
    struct Accepted {
        input: String,
        millis: i64,
    }

    #[test]
    fn reads_instants_as_the_shared_vectors_say() {
        let vectors: Instants =
            serde_json::from_str(include_str!("../../tests/vectors/instants.json")).unwrap();
        assert!(vectors.accepted.len() >= 15 && vectors.refused.len() >= 30);
        for case in &vectors.accepted {
            assert_eq!(parse_instant(&case.input), Ok(case.millis), "{:?}", case.input);
        }
        for input in &vectors.refused {
            assert_eq!(parse_instant(input), Err(InvalidTimestamp), "{input:?}");
        }
    }

    #[test]
    fn round_trips_through_its_own_format() {
        for ms in [
            0,
            NOV_1,
            NOV_1 + 999,
            -1,
            253_402_300_799_999,
            -62_135_596_800_000,
        ] {
            assert_eq!(millis(&format_millis(ms)), ms);
        }
    }
}
