//! `GET /admin/analytics/calls/by-phone-number`: its sequence (parameters → SQL → D1 → order and rounding →
//! envelope), its answer's shape and its message. Access is checked before (`access`, by `app`).

use serde::Serialize;

use crate::buckets::{self, PhoneNumberRow};
use crate::error::ApiError;
use crate::log::LogFacts;
use crate::parameters;
use crate::platform::Platform;
use crate::response::Reply;
use crate::selection::Selection;
use crate::sql;

pub const SUCCESS_MESSAGE: &str = "Calls by phone number fetched successfully";

/// `data` of a successful answer: the rows, and the range and filter that produced them.
#[derive(Debug, Serialize)]
pub struct Data<'a> {
    pub phone_numbers: Vec<PhoneNumberRow>,
    pub start_date: String,
    pub end_date: String,
    pub user_email: Option<&'a str>,
}

impl<'a> Data<'a> {
    pub fn new(selection: &'a Selection, phone_numbers: Vec<PhoneNumberRow>) -> Self {
        Self {
            phone_numbers,
            start_date: selection.range.start_rfc3339(),
            end_date: selection.range.end_rfc3339(),
            user_email: selection.user_email.as_ref().map(|email| email.as_str()),
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
    let selection = parameters::selection(query, platform.now_millis() as i64, diagnostics)?;
    let answer = platform
        .bucket_totals(&sql::statement(&selection))
        .await?;
    facts.d1_rows_read += answer.rows_read;
    let data = Data::new(&selection, buckets::rows(answer.totals));
    Ok(Reply::success(SUCCESS_MESSAGE, &data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buckets::BucketTotal;
    use crate::parameters::ParamError;
    use crate::testing::{block_on, FakePlatform};

    fn total(phone_number: &str, calls: u64, seconds: u64) -> BucketTotal {
        BucketTotal {
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
                r#""user_email":"Alice@Example.com"}}"#
            )
        );
        assert_eq!(facts.d1_rows_read, 7);
        // One statement, with the email bound as its first parameter.
        let statements = platform.statements();
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].params[0],
            sql::Param::Text("Alice@Example.com".into())
        );
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
