//! The grouping, run in D1. Bucket and exact duration are the generated columns `calls.bucket` and
//! `calls.duration_ms` (migrations/0001), so the rule lives in one place.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

use crate::error::ApiError;
use crate::params::ReportRequest;
use crate::report::BucketTotal;

const BY_BUCKET: &str = "\
SELECT bucket, COUNT(*) AS calls, SUM(duration_ms) AS duration_ms
FROM calls
WHERE started_at >= ?1 AND started_at < ?2
GROUP BY bucket";

const BY_BUCKET_FOR_USER: &str = "\
SELECT bucket, COUNT(*) AS calls, SUM(duration_ms) AS duration_ms
FROM calls
WHERE user_id = (SELECT id FROM users WHERE email = ?3)
  AND started_at >= ?1 AND started_at < ?2
GROUP BY bucket";

#[derive(Deserialize)]
struct Row {
    bucket: String,
    calls: u64,
    duration_ms: u64,
}

/// Per-bucket totals for the request, and the number of rows D1 read to produce them.
pub async fn bucket_totals(
    db: &D1Database,
    request: &ReportRequest,
) -> Result<(Vec<BucketTotal>, u64), ApiError> {
    let failed = |e: worker::Error| ApiError::internal("D1 query failed", e);
    // Epoch milliseconds are bound as JS numbers (exact to 2^53); D1Type::Integer is only an i32.
    let mut params = vec![
        JsValue::from_f64(request.range.start_millis() as f64),
        JsValue::from_f64(request.range.end_millis() as f64),
    ];
    let sql = match &request.user_email {
        Some(email) => {
            params.push(JsValue::from_str(email.as_str()));
            BY_BUCKET_FOR_USER
        }
        None => BY_BUCKET,
    };
    let result = db.prepare(sql).bind(&params).map_err(failed)?.all().await.map_err(failed)?;
    let rows_read = result.meta().map_err(failed)?.and_then(|m| m.rows_read).unwrap_or(0) as u64;
    let totals = result
        .results::<Row>()
        .map_err(failed)?
        .into_iter()
        .map(|row| BucketTotal {
            phone_number: row.bucket,
            total_calls: row.calls,
            total_duration_millis: row.duration_ms,
        })
        .collect();
    Ok((totals, rows_read))
}
