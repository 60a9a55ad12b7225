//! The record rule: what one call may hold, whoever writes it, so that no writer can break a report. The
//! loader (`scripts/lib/records.mjs`) and the database's guard (`migrations/0005`) keep the same rule, and
//! `tests/vectors/call-records.json` holds the three together.
//!
//! - a call id (and a user id) of 1 to [`MAX_ID_CHARS`] characters, without surrounding White_Space (refused,
//!   not trimmed: `" c1 "` and `"c1"` would be two calls);
//! - a platform of 1 to [`MAX_PLATFORM_CHARS`] characters, not blank;
//! - a platform number missing, blank, or at most [`MAX_PLATFORM_NUMBER_CHARS`] characters once trimmed
//!   (space, tab, CR, LF: the bucket rule's trim, `migrations/0001`);
//! - an owner's email by the email rule (`call::email`);
//! - a start from 2000-01-01 (inclusive) to 2100-01-01 (exclusive), UTC, in epoch milliseconds;
//! - a duration from 0 to one week, in whole milliseconds (each writer reads its own unit exactly: the
//!   webhook's minutes in `ingest::webhook`, the loader's seconds as the database rounds them).

use std::fmt;

use crate::call::email::UserEmail;

pub const MAX_ID_CHARS: usize = 256;
pub const MAX_PLATFORM_CHARS: usize = 64;
pub const MAX_PLATFORM_NUMBER_CHARS: usize = 64;
/// 2000-01-01T00:00:00Z.
pub const EARLIEST_START_MILLIS: i64 = 946_684_800_000;
/// 2100-01-01T00:00:00Z, the first instant no longer accepted.
pub const END_OF_STARTS_MILLIS: i64 = 4_102_444_800_000;
/// One week.
pub const MAX_DURATION_MILLIS: i64 = 604_800_000;

/// What the bucket rule trims from a platform and its number (`migrations/0001`'s `calls.bucket`).
const BUCKET_TRIM: [char; 4] = [' ', '\t', '\n', '\r'];

/// A field of a call record, as the loader and the database name it; a writer with other names maps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    UserId,
    UserEmail,
    Platform,
    PlatformNumber,
    StartedAt,
    Duration,
}

impl Field {
    /// The field's column (the loader's field).
    pub fn column(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::UserId => "user_id",
            Field::UserEmail => "user_email",
            Field::Platform => "platform",
            Field::PlatformNumber => "platform_number",
            Field::StartedAt => "started_at",
            Field::Duration => "duration_seconds",
        }
    }

    /// What the field must be, to follow "<field> must be" or "<field>:".
    pub fn rule(self) -> &'static str {
        match self {
            Field::Id | Field::UserId => "1 to 256 characters without surrounding whitespace",
            Field::UserEmail => "an email address (at most 254 bytes)",
            Field::Platform => "1 to 64 characters, not blank",
            Field::PlatformNumber => "at most 64 characters once trimmed",
            Field::StartedAt => "an instant from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z",
            Field::Duration => "from 0 to one week (604,800 seconds)",
        }
    }
}

/// A record broke the rule at `field`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordError(pub Field);

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} must be {}", self.0.column(), self.0.rule())
    }
}

/// A call that follows the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub id: String,
    /// The user the call belongs to, by email; `None`: nobody (the call still counts across tenants).
    pub owner: Option<UserEmail>,
    pub platform: String,
    /// `None` when missing or blank.
    pub platform_number: Option<String>,
    pub started_at: i64,
    pub duration_millis: i64,
}

impl CallRecord {
    pub fn new(
        id: &str,
        owner: Option<UserEmail>,
        platform: &str,
        platform_number: Option<&str>,
        started_at: i64,
        duration_millis: i64,
    ) -> Result<Self, RecordError> {
        check_id(id, Field::Id)?;
        check_platform(platform)?;
        check_platform_number(platform_number)?;
        check_start(started_at)?;
        if !(0..=MAX_DURATION_MILLIS).contains(&duration_millis) {
            return Err(RecordError(Field::Duration));
        }
        Ok(Self {
            id: id.to_owned(),
            owner,
            platform: platform.to_owned(),
            platform_number: platform_number.filter(|n| !n.trim_matches(BUCKET_TRIM).is_empty()).map(str::to_owned),
            started_at,
            duration_millis,
        })
    }
}

/// An id (of a call or a user).
pub fn check_id(id: &str, field: Field) -> Result<(), RecordError> {
    let ok = !id.is_empty() && id.trim() == id && id.chars().count() <= MAX_ID_CHARS;
    ok.then_some(()).ok_or(RecordError(field))
}

pub fn check_platform(platform: &str) -> Result<(), RecordError> {
    let ok = !platform.trim_matches(BUCKET_TRIM).is_empty() && platform.chars().count() <= MAX_PLATFORM_CHARS;
    ok.then_some(()).ok_or(RecordError(Field::Platform))
}

pub fn check_platform_number(number: Option<&str>) -> Result<(), RecordError> {
    let ok = number.is_none_or(|n| n.trim_matches(BUCKET_TRIM).chars().count() <= MAX_PLATFORM_NUMBER_CHARS);
    ok.then_some(()).ok_or(RecordError(Field::PlatformNumber))
}

pub fn check_start(started_at: i64) -> Result<(), RecordError> {
    (EARLIEST_START_MILLIS..END_OF_STARTS_MILLIS)
        .contains(&started_at)
        .then_some(())
        .ok_or(RecordError(Field::StartedAt))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A duration in `unit` milliseconds (1,000 for seconds) as the database rounds `duration_seconds`
    /// (half away from zero), checked as the guard checks it: how the loader's records read here.
    fn duration_millis(value: f64, unit: f64) -> Result<i64, RecordError> {
        let millis = (value * unit).round();
        if value >= 0.0 && millis <= MAX_DURATION_MILLIS as f64 {
            Ok(millis as i64)
        } else {
            Err(RecordError(Field::Duration))
        }
    }

    #[derive(serde::Deserialize)]
    struct Vectors {
        accepted: Vec<Case>,
        refused: Vec<Case>,
    }

    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        record: Record,
        field: Option<String>,
    }

    /// A record as the loader takes it. `started_at` may be any JSON number (not all are whole).
    #[derive(serde::Deserialize)]
    struct Record {
        id: String,
        user_id: String,
        user_email: Option<String>,
        platform: String,
        platform_number: Option<String>,
        started_at: serde_json::Number,
        duration_seconds: f64,
    }

    /// The rule applied to a loader's record, field by field, as a writer with user ids would.
    fn check(record: &Record) -> Result<CallRecord, RecordError> {
        check_id(&record.user_id, Field::UserId)?;
        let owner = record
            .user_email
            .as_deref()
            .map(|email| UserEmail::parse(email).map_err(|_| RecordError(Field::UserEmail)))
            .transpose()?;
        let started_at = record.started_at.as_i64().ok_or(RecordError(Field::StartedAt))?;
        let duration = duration_millis(record.duration_seconds, 1000.0)?;
        CallRecord::new(&record.id, owner, &record.platform, record.platform_number.as_deref(), started_at, duration)
    }

    #[test]
    fn agrees_with_the_shared_vectors() {
        let vectors: Vectors =
            serde_json::from_str(include_str!("../../tests/vectors/call-records.json")).unwrap();
        assert!(vectors.accepted.len() >= 20 && vectors.refused.len() >= 30);
        for case in &vectors.accepted {
            assert!(check(&case.record).is_ok(), "{}: {:?}", case.name, check(&case.record));
        }
        for case in &vectors.refused {
            let field = check(&case.record).err().map(|e| e.0.column());
            assert_eq!(field, case.field.as_deref(), "{}", case.name);
        }
    }

    #[test]
    fn keeps_what_the_database_would_store() {
        let call = CallRecord::new("c1", None, "sip", Some("  "), EARLIEST_START_MILLIS, 0).unwrap();
        assert_eq!(call.platform_number, None, "a blank number is no number");
        assert_eq!(CallRecord::new("c1", None, "sip", None, EARLIEST_START_MILLIS, MAX_DURATION_MILLIS + 1), Err(RecordError(Field::Duration)));
        assert_eq!(CallRecord::new("c1", None, "sip", None, EARLIEST_START_MILLIS, -1), Err(RecordError(Field::Duration)));
        assert_eq!(duration_millis(f64::NAN, 1000.0), Err(RecordError(Field::Duration)));
        assert_eq!(duration_millis(f64::INFINITY, 1000.0), Err(RecordError(Field::Duration)));
        assert_eq!(
            RecordError(Field::Duration).to_string(),
            "duration_seconds must be from 0 to one week (604,800 seconds)"
        );
    }
}
