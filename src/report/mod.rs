//! `GET /admin/analytics/calls/by-phone-number`: the report's sequence, its answer's shape and its message.
//! Parameters → `selection` (range, user, zone, `periods`) → `plan` (which rollups and calls) →
//! `statement` (the plan as one SQL statement for D1, and its rows read back, within `answer_size`) →
//! `buckets` (sums, series, order, rounding, totals). Access is checked before (by `http`, with `access`).
//! Uses `time`, `call` and `platform`.

use std::fmt;

use serde::Serialize;

use crate::platform::{Platform, PlatformError};
use crate::report::answer_size::TooBig;
use crate::report::buckets::{PhoneNumberRow, Totals};
use crate::report::parameters::ParamError;
use crate::report::selection::Selection;
use crate::report::statement::RowsError;
use crate::time::timestamp::format_with_offset;

pub mod answer_size;
pub mod buckets;
pub mod parameters;
pub mod periods;
pub mod plan;
pub mod selection;
pub mod statement;

pub const SUCCESS_MESSAGE: &str = "Calls by phone number fetched successfully";

/// Why a report could not be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// The parameters are wrong (400).
    Parameters(ParamError),
    /// The answer would be too big to hold (400: the message says how to narrow the request).
    TooBig(TooBig),
    /// D1's rows cannot be what the rollups hold (500); the detail names the tables.
    Rows(String),
    /// D1 failed (500).
    Platform(PlatformError),
}

impl From<ParamError> for ReportError {
    fn from(error: ParamError) -> Self {
        ReportError::Parameters(error)
    }
}

impl From<PlatformError> for ReportError {
    fn from(error: PlatformError) -> Self {
        ReportError::Platform(error)
    }
}

impl From<RowsError> for ReportError {
    fn from(error: RowsError) -> Self {
        match error {
            RowsError::TooBig(too_big) => ReportError::TooBig(too_big),
            RowsError::Unreadable(detail) => ReportError::Rows(detail),
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Parameters(error) => error.fmt(f),
            ReportError::TooBig(error) => error.fmt(f),
            ReportError::Rows(detail) => f.write_str(detail),
            ReportError::Platform(error) => error.fmt(f),
        }
    }
}

/// `data` of a successful answer: the rows, their totals, and the range, filter, zone and interval that
/// produced them.
#[derive(Debug, Serialize)]
pub struct Data {
    pub phone_numbers: Vec<PhoneNumberRow>,
    pub totals: Totals,
    pub start_date: String,
    pub end_date: String,
    pub user_email: Option<String>,
    pub timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<&'static str>,
}

/// Answers the query string's decoded `pairs`. `diagnostics` admits `strategy=raw`. `rows_read` gets the
/// rows D1 read, for the log line, whatever the outcome.
pub async fn answer<P: Platform>(
    platform: &P,
    pairs: Vec<(String, String)>,
    diagnostics: bool,
    rows_read: &mut u64,
) -> Result<Data, ReportError> {
    let zones = |name: &str| platform.time_zone(name);
    let selection = parameters::selection(pairs, platform.now_millis() as i64, diagnostics, &zones)?;
    let query = statement::query(&selection);
    let rows = platform.query(&query.statement).await?;
    *rows_read += rows.rows_read;
    let buckets = query.decode(&rows)?;
    let labels = selection.interval.map(|_| period_starts(&selection));
    let (phone_numbers, totals) = buckets::rows(buckets, labels.as_deref())
        .map_err(|_| ReportError::Rows(format!("the answer's sums overflow 64 bits: {}", query.tables())))?;
    Ok(Data {
        phone_numbers,
        totals,
        start_date: selection.range.start_rfc3339(),
        end_date: selection.range.end_rfc3339(),
        user_email: selection.user_email.map(|email| email.as_str().to_owned()),
        timezone: selection.zone.name().to_owned(),
        interval: selection.interval.map(|interval| interval.name()),
    })
}

/// Each period's first instant, with the zone's offset there.
fn period_starts(selection: &Selection) -> Vec<String> {
    selection
        .periods
        .iter()
        .map(|p| format_with_offset(p.start_millis(), selection.zone.offset_at(p.start_millis())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::query_string::decode_pairs;
    use crate::platform::memory::{block_on, MemoryPlatform};
    use crate::platform::Param;
    use crate::report::periods::Interval;

    fn run(platform: &MemoryPlatform, query: &str) -> Result<serde_json::Value, ReportError> {
        let mut rows_read = 0;
        let data = block_on(answer(platform, decode_pairs(query).unwrap(), false, &mut rows_read))?;
        Ok(serde_json::to_value(&data).unwrap())
    }

    /// October 2026 in UTC: one part, the month's rollup rows (part 0 of the statement).
    const OCTOBER: &str = "start_date=2026-10-01&end_date=2026-10-31";

    #[test]
    fn answers_the_spec_example_from_d1_s_rows() {
        let platform = MemoryPlatform::new().with_rows(
            &[&["+918765432109", "0:30:8100000"], &["+919876543210", "0:40:11000000,0:5:1150000"]],
            7,
        );
        let body = run(&platform, &format!("{OCTOBER}&user_email=Alice@Example.com")).unwrap();
        let statements = platform.statements();
        assert_eq!(statements.len(), 1);
        let month = format!("[[4,{},{}]]", 1_790_812_800_000_i64, 1_793_491_200_000_i64);
        assert_eq!(statements[0].params, vec![Param::Text(month), Param::Text("Alice@Example.com".into())]);
        // 8,100 s and 12,150 s: the spec's own example.
        assert_eq!(body["phone_numbers"], serde_json::json!([
            { "phone_number": "+919876543210", "total_calls": 45, "total_duration_minutes": 202.5, "total_duration_hours": 3.38 },
            { "phone_number": "+918765432109", "total_calls": 30, "total_duration_minutes": 135.0, "total_duration_hours": 2.25 }
        ]));
        // 20,250 s: 337.5 min, 5.625 h (the rows' rounded hours add up to 5.63 too, here).
        assert_eq!(body["totals"], serde_json::json!({ "total_calls": 75, "total_duration_minutes": 337.5, "total_duration_hours": 5.63 }));
        assert_eq!(
            (&body["start_date"], &body["end_date"], &body["user_email"], &body["timezone"]),
            (&"2026-10-01T00:00:00.000Z".into(), &"2026-11-01T00:00:00.000Z".into(), &"Alice@Example.com".into(), &"UTC".into())
        );
        assert!(body.get("interval").is_none());
        let mut rows_read = 0;
        block_on(answer(&platform, decode_pairs(OCTOBER).unwrap(), false, &mut rows_read)).unwrap();
        assert_eq!(rows_read, 7, "as D1 said");
    }

    #[test]
    fn a_series_in_a_zone_echoes_both_and_labels_each_period() {
        // Two Kolkata days: the statement's parts are a UTC day and 5½-hour edges; here D1 found one call in
        // the first UTC day's part and two in the second's, read from the statement which part is which.
        let query = "start_date=2026-10-30&end_date=2026-10-31&timezone=asia/kolkata&interval=Day";
        let plan = statement::query(&parameters::select(query));
        let Param::Text(parts) = &plan.statement.params[0] else { panic!() };
        let day = |iso: &str| format!("[3,{},", chrono::DateTime::parse_from_rfc3339(iso).unwrap().timestamp_millis());
        let index = |iso: &str| parts.trim_matches(['[', ']']).split("],[").position(|p| format!("[{p},").starts_with(&day(iso))).unwrap();
        let (first, second) = (index("2026-10-30T00:00:00Z"), index("2026-10-31T00:00:00Z"));
        let row = format!("{first}:1:60000,{second}:2:120000");
        let platform = MemoryPlatform::new().with_rows(&[&["+91", &row]], 30);
        let body = run(&platform, query).unwrap();
        assert_eq!(body["timezone"], "Asia/Kolkata");
        assert_eq!(body["interval"], "day");
        assert_eq!(body["start_date"], "2026-10-29T18:30:00.000Z");
        assert_eq!(body["end_date"], "2026-10-31T18:30:00.000Z");
        let row = &body["phone_numbers"][0];
        assert_eq!(row["total_calls"], 3);
        assert_eq!(
            row["series"],
            serde_json::json!([
                { "start": "2026-10-30T00:00:00+05:30", "total_calls": 1, "total_duration_minutes": 1.0, "total_duration_hours": 0.02 },
                { "start": "2026-10-31T00:00:00+05:30", "total_calls": 2, "total_duration_minutes": 2.0, "total_duration_hours": 0.03 }
            ])
        );
        assert_eq!(body["totals"]["total_duration_hours"], 0.05);
    }

    #[test]
    fn the_zone_and_interval_are_checked_before_the_database() {
        let platform = MemoryPlatform::new();
        for (query, error) in [
            ("timezone=Mars/Olympus", ParamError::UnknownTimeZone),
            ("timezone=%2B05:30", ParamError::UnknownTimeZone),
            ("interval=fortnight", ParamError::InvalidInterval),
            ("start_date=2026-01-01&end_date=2026-03-01&interval=hour", ParamError::TooManyPeriods(Interval::Hour)),
            ("start_date=yesterday", ParamError::InvalidTimestamp("start_date")),
        ] {
            assert_eq!(run(&platform, query), Err(ReportError::Parameters(error)), "{query}");
        }
        assert!(platform.statements().is_empty());
    }

    #[test]
    fn an_answer_too_big_to_hold_is_refused() {
        let labels: Vec<String> = (0..101).map(|i| format!("+{i}")).collect();
        let rows: Vec<[&str; 2]> = labels.iter().map(|label| [label.as_str(), "0:1:1"]).collect();
        let rows: Vec<&[&str]> = rows.iter().map(|row| &row[..]).collect();
        let platform = MemoryPlatform::new().with_rows(&rows, 101);
        let query = "start_date=2026-01-01&end_date=2026-02-11T16:00:00&interval=hour"; // 1,000 hours, 101 numbers
        let error = run(&platform, query).unwrap_err();
        assert!(matches!(error, ReportError::TooBig(_)), "{error:?}");
        assert!(error.to_string().starts_with("Too many points: this series has 1000 periods and more than 100 phone numbers"));
        assert!(platform.statements()[0].sql.ends_with(" LIMIT 101"));
    }

    #[test]
    fn a_damaged_rollup_is_our_failure_naming_its_table() {
        let platform = MemoryPlatform::new().with_rows(&[&["+91", "0:1:9.22337203685478e+18"]], 1);
        assert_eq!(
            run(&platform, OCTOBER),
            Err(ReportError::Rows("unreadable rows from calls_by_month: bucket \"+91\" has a row that is not whole calls and milliseconds: \"0:1:9.22337203685478e+18\"".into()))
        );
        let huge = i64::MAX.to_string();
        let platform = MemoryPlatform::new().with_rows(&[&["+1", &format!("0:1:{huge}")], &["+2", &format!("0:1:{huge}")], &["+3", "0:1:2"]], 3);
        assert_eq!(run(&platform, OCTOBER), Err(ReportError::Rows("the answer's sums overflow 64 bits: calls_by_month".into())));
    }

    #[test]
    fn a_database_failure_is_ours() {
        let platform = MemoryPlatform::new().with_failing_database();
        assert!(matches!(run(&platform, ""), Err(ReportError::Platform(_))));
    }
}
