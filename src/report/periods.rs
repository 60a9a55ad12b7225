//! `interval`: the periods of a series, in the request's zone. A period starts at the first instant the
//! local clock shows a time in it (a whole hour; midnight; Monday's midnight for ISO weeks; the 1st's
//! midnight; or, when a DST gap skips that, the end of the gap), and for hours also when the clock turns back
//! to a whole hour: a repeated hour is its own period. A period runs until the next one starts, so local days
//! on DST changes last 23 or 25 hours. The first and last periods are clipped to the range.

use chrono::{Datelike, Duration, NaiveDateTime, NaiveTime, Timelike};

use crate::time::range::TimeRange;
use crate::time::zone::{next_month, wall_millis, TimeZone};

/// The most periods one request answers.
pub const MAX_PERIODS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Hour,
    Day,
    Week,
    Month,
}

impl Interval {
    pub const NAMES: [&'static str; 4] = ["hour", "day", "week", "month"];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "hour" => Some(Interval::Hour),
            "day" => Some(Interval::Day),
            "week" => Some(Interval::Week),
            "month" => Some(Interval::Month),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The longest such a period can last, in milliseconds (a DST change adds at most an hour).
    fn longest_millis(self) -> i64 {
        const HOUR: i64 = 3_600_000;
        match self {
            Interval::Hour => 2 * HOUR,
            Interval::Day => 26 * HOUR,
            Interval::Week => 7 * 24 * HOUR + 2 * HOUR,
            Interval::Month => 31 * 24 * HOUR + 2 * HOUR,
        }
    }

    /// The local start of the period containing `local`.
    fn floor(self, local: NaiveDateTime) -> NaiveDateTime {
        let date = local.date();
        match self {
            Interval::Hour => date.and_hms_opt(local.hour(), 0, 0).expect("a whole hour exists"),
            Interval::Day => date.and_time(NaiveTime::MIN),
            Interval::Week => {
                let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
                monday.and_time(NaiveTime::MIN)
            }
            Interval::Month => date.with_day(1).expect("a day 1").and_time(NaiveTime::MIN),
        }
    }

    /// The local start of the period after the one that starts at `start`.
    fn next(self, start: NaiveDateTime) -> NaiveDateTime {
        match self {
            Interval::Hour => start + Duration::hours(1),
            Interval::Day => start + Duration::days(1),
            Interval::Week => start + Duration::weeks(1),
            Interval::Month => {
                next_month(start.date()).map_or(NaiveDateTime::MAX, |d| d.and_time(NaiveTime::MIN))
            }
        }
    }
}

/// The range is more than [`MAX_PERIODS`] periods of the interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyPeriods;

/// The periods of `interval` in `zone` that overlap `range`, in time order, clipped to it.
pub fn periods(zone: &TimeZone, interval: Interval, range: TimeRange) -> Result<Vec<TimeRange>, TooManyPeriods> {
    let (start, end) = (range.start_millis(), range.end_millis());
    // No period is longer than this: a range that long holds too many (and need not be walked through).
    if (end - start) / interval.longest_millis() > MAX_PERIODS as i64 + 1 {
        return Err(TooManyPeriods);
    }
    let mut periods = Vec::new();
    let mut from = start;
    while from < end {
        let to = next_start(zone, interval, from).min(end);
        periods.push(TimeRange::new(from, to).expect("periods advance"));
        if periods.len() > MAX_PERIODS {
            return Err(TooManyPeriods);
        }
        from = to;
    }
    Ok(periods)
}

/// The first period start after the instant `t`.
fn next_start(zone: &TimeZone, interval: Interval, t: i64) -> i64 {
    let mut local = interval.floor(zone.local(t));
    // The next starts, in local time, until one resolves after `t` (a repeated hour around midnight can put
    // the next local day's start before `t`); for hours, a repeated hour's later instant counts too.
    for _ in 0..4 {
        let wall = wall_millis(local);
        let later = match interval {
            Interval::Hour => zone.instants(wall).later,
            _ => None,
        };
        let candidates = [Some(zone.first_instant(wall)), later];
        if let Some(next) = candidates.into_iter().flatten().filter(|&c| c > t).min() {
            return next;
        }
        local = interval.next(local);
    }
    // Unreachable for real zones (offsets change by less than a day); never loop forever.
    t + interval.longest_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::memory::zone;
    use crate::time::timestamp::format_with_offset;

    fn at(iso: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(iso).unwrap().timestamp_millis()
    }

    /// The periods' starts, with the zone's offset at each, and the last one's end.
    fn starts(zone_name: &str, interval: Interval, from: &str, to: &str) -> Vec<String> {
        let zone = zone(zone_name);
        let range = TimeRange::new(at(from), at(to)).unwrap();
        let periods = periods(&zone, interval, range).unwrap();
        let mut out: Vec<String> = periods
            .iter()
            .map(|p| format_with_offset(p.start_millis(), zone.offset_at(p.start_millis())))
            .collect();
        let last = periods.last().unwrap().end_millis();
        out.push(format!("end {}", format_with_offset(last, zone.offset_at(last))));
        out
    }

    #[test]
    fn local_days_in_kolkata_start_at_18_30_utc() {
        assert_eq!(
            starts("Asia/Calcutta", Interval::Day, "2026-11-01T00:00:00+05:30", "2026-11-03T12:00:00+05:30"),
            [
                "2026-11-01T00:00:00+05:30",
                "2026-11-02T00:00:00+05:30",
                "2026-11-03T00:00:00+05:30",
                "end 2026-11-03T12:00:00+05:30"
            ]
        );
    }

    #[test]
    fn the_first_and_last_periods_are_clipped() {
        assert_eq!(
            starts("UTC", Interval::Month, "2026-01-15T10:00:00Z", "2026-03-02T00:00:00.5Z"),
            [
                "2026-01-15T10:00:00+00:00",
                "2026-02-01T00:00:00+00:00",
                "2026-03-01T00:00:00+00:00",
                "end 2026-03-02T00:00:00.500+00:00"
            ]
        );
    }

    #[test]
    fn days_across_dst_changes_last_23_and_25_hours() {
        let days = starts("America/New_York", Interval::Day, "2026-03-07T00:00:00-05:00", "2026-03-10T00:00:00-04:00");
        assert_eq!(
            days,
            [
                "2026-03-07T00:00:00-05:00",
                "2026-03-08T00:00:00-05:00",
                "2026-03-09T00:00:00-04:00",
                "end 2026-03-10T00:00:00-04:00"
            ]
        );
        let zone = zone("America/New_York");
        let fall = periods(&zone, Interval::Day, TimeRange::new(at("2026-11-01T00:00:00-04:00"), at("2026-11-02T00:00:00-05:00")).unwrap()).unwrap();
        assert_eq!(fall.len(), 1);
        assert_eq!(fall[0].end_millis() - fall[0].start_millis(), 25 * 3_600_000);
    }

    #[test]
    fn a_repeated_hour_is_its_own_period_and_a_skipped_one_is_none() {
        assert_eq!(
            starts("America/New_York", Interval::Hour, "2026-11-01T00:00:00-04:00", "2026-11-01T03:00:00-05:00"),
            [
                "2026-11-01T00:00:00-04:00",
                "2026-11-01T01:00:00-04:00",
                "2026-11-01T01:00:00-05:00",
                "2026-11-01T02:00:00-05:00",
                "end 2026-11-01T03:00:00-05:00"
            ]
        );
        assert_eq!(
            starts("America/New_York", Interval::Hour, "2026-03-08T01:00:00-05:00", "2026-03-08T04:00:00-04:00"),
            ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "end 2026-03-08T04:00:00-04:00"]
        );
    }

    #[test]
    fn half_hour_shifts_and_midnight_changes() {
        // Lord Howe springs forward from 02:00 to 02:30: the 02 hour starts at 02:30 and lasts 30 minutes.
        assert_eq!(
            starts("Australia/Lord_Howe", Interval::Hour, "2026-10-04T01:00:00+10:30", "2026-10-04T04:00:00+11:00"),
            [
                "2026-10-04T01:00:00+10:30",
                "2026-10-04T02:30:00+11:00",
                "2026-10-04T03:00:00+11:00",
                "end 2026-10-04T04:00:00+11:00"
            ]
        );
        // Santiago: midnight is skipped in September (the day starts at 01:00); in April the hour before
        // midnight repeats (at 24:00 -03 the clock goes back to 23:00 -04), so Saturday lasts 25 hours.
        assert_eq!(
            starts("America/Santiago", Interval::Day, "2026-09-05T00:00:00-04:00", "2026-09-07T00:00:00-03:00"),
            ["2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00", "end 2026-09-07T00:00:00-03:00"]
        );
        assert_eq!(
            starts("America/Santiago", Interval::Day, "2026-04-04T00:00:00-03:00", "2026-04-06T00:00:00-04:00"),
            ["2026-04-04T00:00:00-03:00", "2026-04-05T00:00:00-04:00", "end 2026-04-06T00:00:00-04:00"]
        );
    }

    #[test]
    fn an_hour_a_gap_cuts_into_starts_when_the_gap_ends() {
        // Chatham springs from 02:45 to 03:45 (+12:45 to +13:45).
        assert_eq!(
            starts("Pacific/Chatham", Interval::Hour, "2026-09-27T02:00:00+12:45", "2026-09-27T05:00:00+13:45"),
            [
                "2026-09-27T02:00:00+12:45",
                "2026-09-27T03:45:00+13:45",
                "2026-09-27T04:00:00+13:45",
                "end 2026-09-27T05:00:00+13:45"
            ]
        );
    }

    #[test]
    fn iso_weeks_start_on_monday() {
        assert_eq!(
            starts("Pacific/Chatham", Interval::Week, "2026-09-23T00:00:00+12:45", "2026-10-07T00:00:00+13:45"),
            [
                "2026-09-23T00:00:00+12:45",
                "2026-09-28T00:00:00+13:45",
                "2026-10-05T00:00:00+13:45",
                "end 2026-10-07T00:00:00+13:45"
            ]
        );
    }

    #[test]
    fn at_most_a_thousand_periods() {
        let utc = TimeZone::utc();
        let hours = |n: i64| TimeRange::new(0, n * 3_600_000).unwrap();
        assert_eq!(periods(&utc, Interval::Hour, hours(1000)).unwrap().len(), 1000);
        assert_eq!(periods(&utc, Interval::Hour, hours(1001)), Err(TooManyPeriods));
        assert_eq!(periods(&utc, Interval::Hour, hours(10_000_000)), Err(TooManyPeriods));
        let centuries = TimeRange::new(at("0001-01-01T00:00:00Z"), at("9999-12-31T00:00:00Z")).unwrap();
        assert_eq!(periods(&utc, Interval::Month, centuries), Err(TooManyPeriods));
        assert_eq!(Interval::parse("week"), Some(Interval::Week));
        assert_eq!(Interval::parse("Week"), None);
        assert_eq!(Interval::Month.name(), "month");
    }
}
