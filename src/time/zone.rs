//! Time zones: local wall time ⇄ instants, for `timezone`. The offsets come from the runtime's `Intl` (every
//! IANA zone, no bundled database) through [`Offsets`]; everything else is here and host-tested.
//!
//! A local time that does not exist (a spring-forward gap) moves forward by the gap; an ambiguous one (a
//! fall-back repeat) is the earlier instant: the "compatible" rule of RFC 9557 and JavaScript's Temporal.

use std::fmt;
use std::rc::Rc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime};

const DAY: i64 = 86_400_000;

/// A zone's UTC offset at an instant, in milliseconds (local minus UTC).
pub trait Offsets {
    fn offset_millis(&self, utc_millis: i64) -> i64;
}

/// A zone that never changes its offset (UTC).
pub struct Fixed(pub i64);

impl Offsets for Fixed {
    fn offset_millis(&self, _utc_millis: i64) -> i64 {
        self.0
    }
}

/// A named IANA zone and its offsets.
#[derive(Clone)]
pub struct TimeZone {
    name: String,
    offsets: Rc<dyn Offsets>,
}

/// The instants a local wall time names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// The compatible instant: the only one, the earlier of two, or (in a gap) the one after the gap.
    pub earlier: i64,
    /// The later instant of an ambiguous (repeated) local time.
    pub later: Option<i64>,
}

impl TimeZone {
    /// `name`: the runtime's canonical name for the zone (legacy spellings are replaced, see
    /// [`iana_name`]).
    pub fn new(name: &str, offsets: Rc<dyn Offsets>) -> Self {
        Self {
            name: iana_name(name).to_owned(),
            offsets,
        }
    }

    pub fn utc() -> Self {
        Self::new("UTC", Rc::new(Fixed(0)))
    }

    /// The zone's IANA name, in IANA's current spelling (`Asia/Kolkata`, `UTC`).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_utc(&self) -> bool {
        self.name == "UTC"
    }

    pub fn offset_at(&self, utc_millis: i64) -> i64 {
        self.offsets.offset_millis(utc_millis)
    }

    /// The local wall time at an instant.
    pub fn local(&self, utc_millis: i64) -> NaiveDateTime {
        wall_time(utc_millis + self.offset_at(utc_millis))
    }

    /// The instants at which the local clock shows `local` (as milliseconds of a UTC-like wall clock).
    pub fn instants(&self, wall_millis: i64) -> Resolved {
        // Offsets a day either side: a zone changes its offset at most once in two days.
        let before = self.offset_at(wall_millis - DAY);
        let after = self.offset_at(wall_millis + DAY);
        let fits = |offset: i64| {
            let instant = wall_millis - offset;
            (instant + self.offset_at(instant) == wall_millis).then_some(instant)
        };
        match (fits(before), fits(after)) {
            (Some(a), Some(b)) if a != b => Resolved {
                earlier: a.min(b),
                later: Some(a.max(b)),
            },
            (Some(only), _) | (None, Some(only)) => Resolved {
                earlier: only,
                later: None,
            },
            // In a gap: the offset before it, which lands as far after the gap as the time was into it.
            (None, None) => Resolved {
                earlier: wall_millis - before,
                later: None,
            },
        }
    }

    /// The compatible instant of a local wall time (for a datetime without an offset).
    pub fn resolve(&self, wall_millis: i64) -> i64 {
        self.instants(wall_millis).earlier
    }

    /// The first instant at which the local clock shows `wall_millis` or later (for the start of a local
    /// day or period): the earlier instant of the time, or, if a gap skips it, the instant the gap ends.
    pub fn first_instant(&self, wall_millis: i64) -> i64 {
        let instants = self.instants(wall_millis);
        let before = self.offset_at(wall_millis - DAY);
        let in_gap = instants.later.is_none() && instants.earlier + self.offset_at(instants.earlier) != wall_millis;
        if !in_gap {
            return instants.earlier;
        }
        // The offset changes somewhere in (wall - after, wall - before]: find where, to the millisecond.
        let (mut low, mut high) = (wall_millis - self.offset_at(wall_millis + DAY), wall_millis - before);
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if self.offset_at(middle) == before {
                low = middle;
            } else {
                high = middle;
            }
        }
        high
    }
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for TimeZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TimeZone {}

/// A wall-clock reading as a naive date and time (milliseconds counted as if UTC).
pub fn wall_time(wall_millis: i64) -> NaiveDateTime {
    DateTime::from_timestamp_millis(wall_millis)
        .map_or(NaiveDateTime::MIN, |t| t.naive_utc())
}

/// Milliseconds of a wall-clock reading, counted as if UTC.
pub fn wall_millis(local: NaiveDateTime) -> i64 {
    local.and_utc().timestamp_millis()
}

/// Milliseconds of a date's midnight on a wall clock, counted as if UTC.
pub fn midnight_millis(date: NaiveDate) -> i64 {
    wall_millis(date.and_time(NaiveTime::MIN))
}

/// The first day of the month after `date`'s (`None` beyond the calendar's range).
pub fn next_month(date: NaiveDate) -> Option<NaiveDate> {
    match date.month() {
        12 => NaiveDate::from_ymd_opt(date.year() + 1, 1, 1),
        month => NaiveDate::from_ymd_opt(date.year(), month + 1, 1),
    }
}

/// The offset in the runtime's `…GMT+05:30` (`Intl`'s `longOffset`; `GMT-04:56:02` for a local mean time,
/// a bare `GMT` for zero), in milliseconds.
pub fn parse_gmt_offset(text: &str) -> i64 {
    let Some(at) = text.as_bytes().windows(3).rposition(|w| w == b"GMT") else {
        return 0;
    };
    let rest = &text[at + 3..];
    let sign = if rest.starts_with('-') { -1 } else { 1 };
    let unit = [3_600_000, 60_000, 1_000];
    let magnitude: i64 = rest
        .trim_start_matches(['+', '-'])
        .split(':')
        .zip(unit)
        .map(|(part, unit)| part.trim().parse::<i64>().unwrap_or(0) * unit)
        .sum();
    sign * magnitude
}

/// Whether `name` looks like an IANA zone name (`Area/Location`, `UTC`, `Etc/GMT+5`): what is asked of the
/// runtime. Offsets (`+05:30`) and other strings the runtime would also take are not names.
pub fn plausible_name(name: &str) -> bool {
    let part = |p: &str| {
        p.starts_with(|c: char| c.is_ascii_alphabetic())
            && p.chars().all(|c| c.is_ascii_alphanumeric() || "_-+".contains(c))
    };
    !name.is_empty() && name.len() <= 64 && name.split('/').all(part)
}

/// IANA's current name for a zone the runtime (ICU, CLDR) calls by a legacy spelling; other names as they are.
pub fn iana_name(runtime_name: &str) -> &str {
    // ICU's canonical IDs that IANA has since renamed (the "backward" file's renames, not its merges:
    // Europe/Bratislava stays Europe/Bratislava).
    const RENAMED: [(&str, &str); 20] = [
        ("Africa/Asmera", "Africa/Asmara"),
        ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("America/Catamarca", "America/Argentina/Catamarca"),
        ("America/Coral_Harbour", "America/Atikokan"),
        ("America/Cordoba", "America/Argentina/Cordoba"),
        ("America/Godthab", "America/Nuuk"),
        ("America/Indianapolis", "America/Indiana/Indianapolis"),
        ("America/Jujuy", "America/Argentina/Jujuy"),
        ("America/Louisville", "America/Kentucky/Louisville"),
        ("America/Mendoza", "America/Argentina/Mendoza"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("Asia/Katmandu", "Asia/Kathmandu"),
        ("Asia/Rangoon", "Asia/Yangon"),
        ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
        ("Atlantic/Faeroe", "Atlantic/Faroe"),
        ("Etc/UTC", "UTC"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Pacific/Enderbury", "Pacific/Kanton"),
        ("Pacific/Ponape", "Pacific/Pohnpei"),
        ("Pacific/Truk", "Pacific/Chuuk"),
    ];
    RENAMED
        .iter()
        .find(|(legacy, _)| *legacy == runtime_name)
        .map_or(runtime_name, |(_, iana)| iana)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::memory::zone;

    fn at(iso: &str) -> i64 {
        DateTime::parse_from_rfc3339(iso).unwrap().timestamp_millis()
    }

    fn wall(iso: &str) -> i64 {
        wall_millis(NaiveDateTime::parse_from_str(iso, "%Y-%m-%dT%H:%M").unwrap())
    }

    #[test]
    fn a_fixed_zone_is_a_shift() {
        let kolkata = zone("Asia/Calcutta");
        assert_eq!(kolkata.name(), "Asia/Kolkata");
        assert_eq!(
            kolkata.resolve(wall("2026-11-01T00:00")),
            at("2026-10-31T18:30:00Z")
        );
        assert_eq!(
            kolkata.local(at("2026-10-31T18:30:00Z")).to_string(),
            "2026-11-01 00:00:00"
        );
        let kathmandu = zone("Asia/Katmandu");
        assert_eq!(kathmandu.name(), "Asia/Kathmandu");
        assert_eq!(
            kathmandu.resolve(wall("2026-11-01T00:00")),
            at("2026-10-31T18:15:00Z")
        );
    }

    #[test]
    fn a_time_in_a_gap_moves_forward_by_the_gap() {
        let new_york = zone("America/New_York");
        // 2026-03-08 02:30 does not exist in New York: 03:30 EDT.
        let resolved = new_york.instants(wall("2026-03-08T02:30"));
        assert_eq!(
            resolved,
            Resolved {
                earlier: at("2026-03-08T03:30:00-04:00"),
                later: None
            }
        );
        // Lord Howe moves by 30 minutes: 02:10 does not exist, 02:40 (+11:00) does.
        let lord_howe = zone("Australia/Lord_Howe");
        assert_eq!(
            lord_howe.resolve(wall("2026-10-04T02:10")),
            at("2026-10-04T02:40:00+11:00")
        );
        // Santiago skips midnight: the day starts at 01:00.
        let santiago = zone("America/Santiago");
        assert_eq!(
            santiago.resolve(wall("2026-09-06T00:00")),
            at("2026-09-06T01:00:00-03:00")
        );
    }

    #[test]
    fn an_ambiguous_time_is_the_earlier_instant_and_knows_the_later() {
        let new_york = zone("America/New_York");
        assert_eq!(
            new_york.instants(wall("2026-11-01T01:30")),
            Resolved {
                earlier: at("2026-11-01T01:30:00-04:00"),
                later: Some(at("2026-11-01T01:30:00-05:00"))
            }
        );
        let chatham = zone("Pacific/Chatham");
        assert_eq!(
            chatham.instants(wall("2026-04-05T03:00")),
            Resolved {
                earlier: at("2026-04-05T03:00:00+13:45"),
                later: Some(at("2026-04-05T03:00:00+12:45"))
            }
        );
        // Santiago repeats the hour before midnight.
        assert_eq!(
            zone("America/Santiago").instants(wall("2026-04-04T23:30")).later,
            Some(at("2026-04-04T23:30:00-04:00"))
        );
    }

    #[test]
    fn a_period_starts_where_its_first_local_time_shows() {
        // Chatham springs from 02:45 to 03:45: 03:00 never shows, and the 03 hour starts at 03:45 (the
        // compatible rule would give 04:00, for a datetime).
        let chatham = zone("Pacific/Chatham");
        assert_eq!(chatham.first_instant(wall("2026-09-27T03:00")), at("2026-09-27T03:45:00+13:45"));
        assert_eq!(chatham.resolve(wall("2026-09-27T03:00")), at("2026-09-27T04:00:00+13:45"));
        // Where the time exists, the earlier instant; Santiago's skipped midnight, 01:00.
        assert_eq!(chatham.first_instant(wall("2026-04-05T03:00")), at("2026-04-05T03:00:00+13:45"));
        assert_eq!(
            zone("America/Santiago").first_instant(wall("2026-09-06T00:00")),
            at("2026-09-06T01:00:00-03:00")
        );
    }

    #[test]
    fn reads_the_runtime_s_offsets() {
        assert_eq!(parse_gmt_offset("11/1/2026, GMT+05:30"), 19_800_000);
        assert_eq!(parse_gmt_offset("4/19/5, GMT-04:56:02"), -(4 * 3_600_000 + 56 * 60_000 + 2_000));
        assert_eq!(parse_gmt_offset("1/1/2026, GMT+13:45"), 49_500_000);
        assert_eq!(parse_gmt_offset("1/1/1970, GMT"), 0);
        assert_eq!(parse_gmt_offset("1/1/1970, GMT+00:00"), 0);
        assert_eq!(parse_gmt_offset("1/1/1970, GMT-11:00"), -39_600_000);
    }

    #[test]
    fn names_are_iana_s_current_ones() {
        assert_eq!(iana_name("Asia/Calcutta"), "Asia/Kolkata");
        assert_eq!(iana_name("Europe/Kiev"), "Europe/Kyiv");
        assert_eq!(iana_name("Etc/UTC"), "UTC");
        assert_eq!(iana_name("Europe/Bratislava"), "Europe/Bratislava");
        assert_eq!(iana_name("America/New_York"), "America/New_York");
        assert!(TimeZone::utc().is_utc());
        for name in ["UTC", "Asia/Kolkata", "america/new_york", "Etc/GMT+5", "America/Argentina/Buenos_Aires", "EST5EDT"] {
            assert!(plausible_name(name), "{name}");
        }
        for name in ["", "+05:30", "GMT+5:30", "Asia/", "/UTC", "Asia//Kolkata", "Asia/Kolkata ", "Europe/../x", "Ásia/X"] {
            assert!(!plausible_name(name), "{name}");
        }
        assert!(!plausible_name(&"A".repeat(65)));
    }
}
