//! `GET /admin/analytics/calls/by-phone-number`: its sequence (parameters → SQL → D1 → sums, series, order
//! and rounding → envelope), its answer's shape and its message. Access is checked before (`access`, by
//! `app`).

use serde::Serialize;

use crate::buckets::{self, PhoneNumberRow};
use crate::error::ApiError;
use crate::log::LogFacts;
use crate::parameters::{self, ParamError};
use crate::periods::max_buckets;
use crate::platform::Platform;
use crate::response::Reply;
use crate::selection::Selection;
use crate::sql;
use crate::timestamp::format_with_offset;

pub const SUCCESS_MESSAGE: &str = "Calls by phone number fetched successfully";

/// `data` of a successful answer: the rows, and the range, filter, zone and interval that produced them.
#[derive(Debug, Serialize)]
pub struct Data<'a> {
    pub phone_numbers: Vec<PhoneNumberRow>,
    pub start_date: String,
    pub end_date: String,
    pub user_email: Option<&'a str>,
    pub timezone: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<&'static str>,
}

impl<'a> Data<'a> {
    pub fn new(selection: &'a Selection, phone_numbers: Vec<PhoneNumberRow>) -> Self {
        Self {
            phone_numbers,
            start_date: selection.range.start_rfc3339(),
            end_date: selection.range.end_rfc3339(),
            user_email: selection.user_email.as_ref().map(|email| email.as_str()),
            timezone: selection.zone.name(),
            interval: selection.interval.map(|interval| interval.name()),
        }
    }
}

/// Answers `query` (the raw query string). `diagnostics` admits `strategy=raw`.
pub async fn handle<P: Platform>(
    platform: &P,
    query: &str,
    diagnostics: bool,
    facts: &mut LogFacts,
) -> Result<Reply, ApiError> {
    let zones = |name: &str| platform.time_zone(name);
    let selection = parameters::selection(query, platform.now_millis() as i64, diagnostics, &zones)?;
    let answer = platform.bucket_totals(&sql::statement(&selection)).await?;
    facts.d1_rows_read += answer.rows_read;
    let labels = selection.interval.map(|_| period_starts(&selection));
    // For a series the statement returns one bucket more than can be shown, at most (`sql::statement`):
    // that one more, even one whose periods net to nothing, means the answer may not hold them all.
    if let Some(labels) = &labels {
        if answer.buckets > max_buckets(labels.len()) {
            return Err(ParamError::TooManyPoints { periods: labels.len() }.into());
        }
    }
    let rows = buckets::rows(answer.totals, labels.as_deref());
    Ok(Reply::success(SUCCESS_MESSAGE, &Data::new(&selection, rows)))
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
    use crate::buckets::BucketTotal;
    use crate::parameters::ParamError;
    use crate::testing::{block_on, FakePlatform};

    fn total(phone_number: &str, calls: u64, seconds: u64) -> BucketTotal {
        BucketTotal {
            period: 0,
            phone_number: phone_number.into(),
            total_calls: calls,
            total_duration_millis: seconds * 1000,
        }
    }

    #[test]
    fn answers_the_spec_example_in_its_envelope() {
        let platform = FakePlatform::new().with_totals(vec![
            total("+918765432109", 30, 8_100),
            total("+919876543210", 45, 12_150),
        ]);
        let mut facts = LogFacts::default();
        let reply = block_on(handle(
            &platform,
            "user_email=Alice@Example.com",
            false,
            &mut facts,
        ))
        .unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body.as_deref().unwrap(),
            concat!(
                r#"{"success":true,"message":"Calls by phone number fetched successfully","data":{"#,
                r#""phone_numbers":[{"phone_number":"+919876543210","total_calls":45,"#,
                r#""total_duration_minutes":202.5,"total_duration_hours":3.38},"#,
                r#"{"phone_number":"+918765432109","total_calls":30,"#,
                r#""total_duration_minutes":135.0,"total_duration_hours":2.25}],"#,
                r#""start_date":"2026-10-02T00:00:00.000Z","end_date":"2026-11-01T00:00:00.000Z","#,
                r#""user_email":"Alice@Example.com","timezone":"UTC"}}"#
            )
        );
        assert_eq!(facts.d1_rows_read, 7);
        // One statement, with the email bound as its first parameter.
        let statements = platform.statements();
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].params[1],
            sql::Param::Text("Alice@Example.com".into())
        );
    }

    #[test]
    fn a_series_in_a_zone_echoes_both_and_labels_each_period() {
        let platform = FakePlatform::new().with_totals(vec![
            BucketTotal { period: 1, phone_number: "+91".into(), total_calls: 2, total_duration_millis: 120_000 },
            BucketTotal { period: 0, phone_number: "+91".into(), total_calls: 1, total_duration_millis: 60_000 },
        ]);
        let query = "start_date=2026-10-30&end_date=2026-10-31&timezone=asia/kolkata&interval=Day";
        let reply = block_on(handle(&platform, query, false, &mut LogFacts::default())).unwrap();
        let body: serde_json::Value = serde_json::from_str(reply.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["data"]["timezone"], "Asia/Kolkata");
        assert_eq!(body["data"]["interval"], "day");
        assert_eq!(body["data"]["start_date"], "2026-10-29T18:30:00.000Z");
        assert_eq!(body["data"]["end_date"], "2026-10-31T18:30:00.000Z");
        let row = &body["data"]["phone_numbers"][0];
        assert_eq!(row["total_calls"], 3);
        assert_eq!(
            row["series"],
            serde_json::json!([
                { "start": "2026-10-30T00:00:00+05:30", "total_calls": 1, "total_duration_minutes": 1.0, "total_duration_hours": 0.02 },
                { "start": "2026-10-31T00:00:00+05:30", "total_calls": 2, "total_duration_minutes": 2.0, "total_duration_hours": 0.03 }
            ])
        );
    }

    #[test]
    fn the_zone_and_interval_are_checked_before_the_database() {
        let platform = FakePlatform::new();
        let mut facts = LogFacts::default();
        for (query, error) in [
            ("timezone=Mars/Olympus", ParamError::UnknownTimeZone),
            ("timezone=%2B05:30", ParamError::UnknownTimeZone),
            ("interval=fortnight", ParamError::InvalidInterval),
            ("start_date=2026-01-01&end_date=2026-03-01&interval=hour", ParamError::TooManyPeriods(crate::periods::Interval::Hour)),
        ] {
            assert_eq!(block_on(handle(&platform, query, false, &mut facts)), Err(ApiError::BadRequest(error)), "{query}");
        }
        assert!(platform.statements().is_empty());
    }

    #[test]
    fn a_series_too_big_to_answer_is_refused() {
        let totals = (0..101)
            .map(|i| BucketTotal { period: 0, phone_number: format!("+{i}"), total_calls: 1, total_duration_millis: 1 })
            .collect();
        let platform = FakePlatform::new().with_totals(totals);
        let query = "start_date=2026-01-01&end_date=2026-02-11T16:00:00&interval=hour"; // 1,000 hours, 101 numbers
        let result = block_on(handle(&platform, query, false, &mut LogFacts::default()));
        assert_eq!(result, Err(ApiError::BadRequest(ParamError::TooManyPoints { periods: 1000 })));
        // The statement asks D1 for at most one bucket more than can be shown.
        assert!(platform.statements()[0].sql.ends_with("GROUP BY bucket LIMIT 101"));
    }

    #[test]
    fn bad_parameters_never_reach_the_database() {
        let platform = FakePlatform::new();
        let mut facts = LogFacts::default();
        let result = block_on(handle(&platform, "start_date=yesterday", false, &mut facts));
        assert_eq!(
            result,
            Err(ApiError::BadRequest(ParamError::InvalidTimestamp("start_date")))
        );
        assert!(platform.statements().is_empty());
    }

    #[test]
    fn a_database_failure_is_ours() {
        let platform = FakePlatform::new().with_failing_database();
        let result = block_on(handle(&platform, "", false, &mut LogFacts::default()));
        assert_eq!(result.map_err(|e| e.status()), Err(500));
    }
}
