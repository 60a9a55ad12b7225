//! The endpoint's parameters (the query string's pairs, decoded by `http`): `start_date`, `end_date` (see
//! [`crate::time::timestamp`]), `user_email` (see [`crate::call::email`]), `timezone` (see
//! [`crate::time::zone`]) and `interval` (see [`crate::report::periods`]), each at most once, read into a
//! [`Selection`]. An empty value means the parameter is absent. The range is half-open, `[start, end)`, in
//! epoch milliseconds.

use std::fmt;

use crate::call::email::UserEmail;
use crate::report::periods::{periods, Interval, MAX_PERIODS};
use crate::report::selection::{Selection, Strategy};
use crate::time::range::TimeRange;
use crate::time::timestamp::{Timestamp, MILLIS_PER_DAY};
use crate::time::zone::{plausible_name, TimeZone};

/// Length of the default window, ending at `end_date` (or now).
pub const DEFAULT_WINDOW_MILLIS: i64 = 30 * MILLIS_PER_DAY;

pub const ACCEPTED_PARAMETERS: [&str; 5] =
    ["start_date", "end_date", "user_email", "timezone", "interval"];

/// Why a query string was refused; every variant is the user's mistake (400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    Repeated(&'static str),
    /// A parameter this endpoint does not take; carries its name when it is short and plain enough to quote.
    Unknown(Option<String>),
    InvalidTimestamp(&'static str),
    EmptyRange,
    InvalidEmail,
    UnknownTimeZone,
    InvalidInterval,
    /// The range holds more than [`MAX_PERIODS`] periods of the interval.
    TooManyPeriods(Interval),
    InvalidStrategy,
}

const TIMESTAMP_FORMS: &str = "an ISO 8601 date (2026-11-01, a whole day in the timezone) or datetime \
(2026-11-01T09:30:00Z, 2026-11-01T15:00:00+05:30, 2026-11-01T15:00:00.250+0530; \
without an offset it is local time in the timezone, UTC by default)";

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Repeated(name) => write!(f, "Parameter {name} was given more than once"),
            ParamError::Unknown(name) => {
                match name {
                    Some(name) => write!(f, "Unknown parameter \"{name}\"")?,
                    None => f.write_str("Unknown parameter")?,
                }
                write!(
                    f,
                    "; accepted parameters are {}",
                    ACCEPTED_PARAMETERS.join(", ")
                )
            }
            ParamError::InvalidTimestamp(name) => {
                write!(f, "Invalid {name}: expected {TIMESTAMP_FORMS}")
            }
            ParamError::EmptyRange => f.write_str(
                "start_date must be before end_date (the range is [start_date, end_date); \
                 by default end_date is now and start_date is 30 days before end_date)",
            ),
            ParamError::InvalidEmail => f.write_str(
                "Invalid user_email: expected an email address such as alice@example.com \
                 (in a URL, write a + in the address as %2B: an unencoded + reads as a space)",
            ),
            ParamError::UnknownTimeZone => f.write_str(
                "Invalid timezone: expected an IANA time zone name such as Asia/Kolkata, \
                 America/New_York or UTC (matched case-insensitively)",
            ),
            ParamError::InvalidInterval => {
                f.write_str("Invalid interval: expected hour, day, week (ISO weeks, from Monday) or month")
            }
            ParamError::TooManyPeriods(interval) => write!(
                f,
                "Too many periods: interval={} splits this range into more than {MAX_PERIODS} periods, \
                 the most one request answers; choose a shorter range or a longer interval",
                interval.name()
            ),
            ParamError::InvalidStrategy => f.write_str("Invalid strategy: expected rollups or raw"),
        }
    }
}

/// Reads the query string's decoded `(name, value)` pairs. `now_millis` is the default `end_date`;
/// `diagnostics` also admits `strategy=rollups|raw`; `zones` finds a time zone by name (the runtime's,
/// case-insensitively).
pub fn selection(
    pairs: Vec<(String, String)>,
    now_millis: i64,
    diagnostics: bool,
    zones: &dyn Fn(&str) -> Option<TimeZone>,
) -> Result<Selection, ParamError> {
    let mut start = None;
    let mut end = None;
    let mut email = None;
    let mut timezone = None;
    let mut interval = None;
    let mut strategy = None;
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "start_date" => &mut start,
            "end_date" => &mut end,
            "user_email" => &mut email,
            "timezone" => &mut timezone,
            "interval" => &mut interval,
            "strategy" if diagnostics => &mut strategy,
            _ => return Err(ParamError::Unknown(quotable(&name))),
        };
        if slot.replace(value).is_some() {
            let name = ["strategy"]
                .iter()
                .chain(&ACCEPTED_PARAMETERS)
                .find(|p| **p == name);
            return Err(ParamError::Repeated(name.expect("matched above")));
        }
    }
    let present = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let zone = match present(timezone) {
        None => TimeZone::utc(),
        Some(name) => {
            let name = name.trim();
            plausible_name(name)
                .then(|| zones(name))
                .flatten()
                .ok_or(ParamError::UnknownTimeZone)?
        }
    };
    let interval = present(interval)
        .map(|v| Interval::parse(&v.trim().to_ascii_lowercase()).ok_or(ParamError::InvalidInterval))
        .transpose()?;
    let timestamp = |value: Option<String>, name| {
        present(value)
            .map(|v| Timestamp::parse(&v).map_err(|_| ParamError::InvalidTimestamp(name)))
            .transpose()
    };
    let start = timestamp(start, "start_date")?;
    let end = timestamp(end, "end_date")?;
    let user_email = present(email)
        .map(|v| UserEmail::parse(&v).map_err(|_| ParamError::InvalidEmail))
        .transpose()?;
    let strategy = match present(strategy).as_deref().map(str::trim) {
        None | Some("rollups") => Strategy::Rollups,
        Some("raw") => Strategy::Raw,
        Some(_) => return Err(ParamError::InvalidStrategy),
    };

    let end_millis = end.map_or(now_millis, |end| end.end_millis(&zone));
    let start_millis = start.map_or(end_millis.saturating_sub(DEFAULT_WINDOW_MILLIS), |start| {
        start.start_millis(&zone)
    });
    let range = TimeRange::new(start_millis, end_millis).ok_or(ParamError::EmptyRange)?;
    let periods = match interval {
        None => vec![range],
        Some(interval) => {
            periods(&zone, interval, range).map_err(|_| ParamError::TooManyPeriods(interval))?
        }
    };
    Ok(Selection {
        range,
        user_email,
        strategy,
        zone,
        interval,
        periods,
    })
}

/// A parameter name is quoted back only when it is short and made of plain characters.
fn quotable(name: &str) -> Option<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-.[]".contains(c);
    (!name.is_empty() && name.len() <= 40 && name.chars().all(plain)).then(|| name.to_owned())
}

/// A query string's selection at the epoch, diagnostics on, in the test zones (for the tests of the plan).
#[cfg(test)]
pub fn select(query: &str) -> Selection {
    tests::selection_of(query, 0, true).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::query_string::decode_pairs;
    use crate::platform::memory::runtime_zone;

    const NOV_1: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z
    const NOW: i64 = NOV_1 + 12 * 3_600_000 + 345; // 2026-11-01T12:00:00.345Z

    pub fn selection_of(query: &str, now: i64, diagnostics: bool) -> Result<Selection, ParamError> {
        selection(decode_pairs(query).expect("a well-encoded query"), now, diagnostics, &runtime_zone)
    }

    fn parse(query: &str) -> Result<Selection, ParamError> {
        selection_of(query, NOW, false)
    }

    fn range(query: &str) -> (i64, i64) {
        let range = parse(query).unwrap().range;
        (range.start_millis(), range.end_millis())
    }

    #[test]
    fn defaults_to_the_thirty_days_before_now() {
        assert_eq!(range(""), (NOW - DEFAULT_WINDOW_MILLIS, NOW));
        assert_eq!(
            range("start_date=&end_date=&user_email="),
            (NOW - DEFAULT_WINDOW_MILLIS, NOW)
        );
        assert_eq!(parse("user_email=+").unwrap().user_email, None);
        assert_eq!(
            parse("").unwrap().range.end_rfc3339(),
            "2026-11-01T12:00:00.345Z"
        );
    }

    #[test]
    fn a_lone_end_date_takes_thirty_days_before_it() {
        assert_eq!(
            range("end_date=2026-10-31"),
            (NOV_1 - DEFAULT_WINDOW_MILLIS, NOV_1)
        );
        assert_eq!(
            range("end_date=2026-11-01T00:00:00Z"),
            (NOV_1 - DEFAULT_WINDOW_MILLIS, NOV_1)
        );
    }

    #[test]
    fn a_lone_start_date_runs_until_now() {
        assert_eq!(range("start_date=2026-11-01"), (NOV_1, NOW));
        assert_eq!(parse("start_date=2026-11-02"), Err(ParamError::EmptyRange));
    }

    #[test]
    fn dates_and_datetimes_combine() {
        let day = MILLIS_PER_DAY;
        assert_eq!(
            range("start_date=2026-10-01&end_date=2026-10-31"),
            (NOV_1 - 31 * day, NOV_1)
        );
        assert_eq!(
            range("start_date=2026-11-01&end_date=2026-11-01"),
            (NOV_1, NOV_1 + day)
        );
        assert_eq!(
            range("start_date=2026-11-01&end_date=2026-11-01T00:00:01Z"),
            (NOV_1, NOV_1 + 1000)
        );
    }

    #[test]
    fn the_plus_sign_survives_either_encoding() {
        let unencoded =
            parse("start_date=2026-10-31T05:30:00+05:30&end_date=2026-11-01T05:30:00+05:30");
        let encoded =
            parse("start_date=2026-10-31T05:30:00%2B05:30&end_date=2026-11-01T05:30:00%2b0530");
        assert_eq!(unencoded, encoded);
        let range = unencoded.unwrap().range;
        assert_eq!(
            (range.start_millis(), range.end_millis()),
            (NOV_1 - MILLIS_PER_DAY, NOV_1)
        );
    }

    #[test]
    fn an_empty_range_is_refused() {
        assert_eq!(
            parse("start_date=2026-11-01T00:00:00Z&end_date=2026-11-01T00:00:00Z"),
            Err(ParamError::EmptyRange)
        );
        assert_eq!(
            parse("start_date=2026-11-02&end_date=2026-11-01"),
            Err(ParamError::EmptyRange)
        );
        // One millisecond is a range.
        assert_eq!(
            range("start_date=2026-11-01T00:00:00Z&end_date=2026-11-01T00:00:00.001Z"),
            (NOV_1, NOV_1 + 1)
        );
    }

    #[test]
    fn names_the_parameter_that_is_wrong() {
        assert_eq!(
            parse("start_date=yesterday"),
            Err(ParamError::InvalidTimestamp("start_date"))
        );
        assert_eq!(
            parse("end_date=2026-02-30"),
            Err(ParamError::InvalidTimestamp("end_date"))
        );
        assert_eq!(
            parse("start_date=2026-11-01&start_date=2026-11-02"),
            Err(ParamError::Repeated("start_date"))
        );
        assert_eq!(
            parse("user_email=a@b.c&user_email="),
            Err(ParamError::Repeated("user_email"))
        );
        assert_eq!(
            parse("start=2026-11-01"),
            Err(ParamError::Unknown(Some("start".into())))
        );
        assert_eq!(parse("%3Cscript%3E=1"), Err(ParamError::Unknown(None)));
        let message = ParamError::InvalidTimestamp("end_date").to_string();
        assert!(
            message.starts_with("Invalid end_date: expected an ISO 8601 date"),
            "{message}"
        );
        assert!(ParamError::Unknown(Some("x".into()))
            .to_string()
            .contains("start_date, end_date, user_email"));
    }

    #[test]
    fn reads_decoded_values() {
        assert_eq!(parse("user_email=%C3%A9%40x.io").unwrap().user_email.unwrap().as_str(), "é@x.io");
    }

    #[test]
    fn emails_are_trimmed_and_checked() {
        // The rule itself is src/call/email.rs's, against tests/vectors/user-emails.json.
        let email = |q: &str| parse(q).map(|r| r.user_email.map(|e| e.as_str().to_owned()));
        assert_eq!(
            email("user_email=+Alice%40Example.com+"),
            Ok(Some("Alice@Example.com".into()))
        );
        assert_eq!(
            email("user_email=o'brien%2Btag@example.co.uk"),
            Ok(Some("o'brien+tag@example.co.uk".into()))
        );
        assert_eq!(
            email("user_email=first..last@example.com"),
            Ok(Some("first..last@example.com".into()))
        );
        for bad in ["alice", "a b@example.com", "<a>@example.com", "a%E2%80%8B@x.io"] {
            assert_eq!(
                parse(&format!("user_email={bad}")),
                Err(ParamError::InvalidEmail),
                "{bad}"
            );
        }
    }

    #[test]
    fn strategy_is_a_diagnostics_only_parameter() {
        assert_eq!(
            parse("strategy=raw"),
            Err(ParamError::Unknown(Some("strategy".into())))
        );
        let diagnostic =
            |q: &str| selection_of(q, NOW, true).map(|r| r.strategy);
        assert_eq!(diagnostic(""), Ok(Strategy::Rollups));
        assert_eq!(diagnostic("strategy=rollups"), Ok(Strategy::Rollups));
        assert_eq!(diagnostic("strategy=raw"), Ok(Strategy::Raw));
        assert_eq!(
            diagnostic("strategy=fast"),
            Err(ParamError::InvalidStrategy)
        );
        assert_eq!(
            diagnostic("strategy=raw&strategy=raw"),
            Err(ParamError::Repeated("strategy"))
        );
        assert_eq!(parse("").unwrap().strategy, Strategy::Rollups);
    }

    #[test]
    fn formats_the_range_it_used() {
        let range = parse("start_date=2026-10-31T18:30:00-05:30&end_date=2026-11-01")
            .unwrap()
            .range;
        assert_eq!(range.start_rfc3339(), "2026-11-01T00:00:00.000Z");
        assert_eq!(range.end_rfc3339(), "2026-11-02T00:00:00.000Z");
    }
}
