//! Runs the [`query`](crate::query) statement in D1, through a Sessions API session whose first read may be
//! served by the nearest read replica.

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1SessionConstraint};

use crate::error::ApiError;
use crate::query::{Param, Statement};
use crate::report::BucketTotal;

#[derive(Deserialize)]
struct Row {
    bucket: String,
    calls: u64,
    duration_ms: u64,
}

/// Per-bucket totals, and the number of rows D1 read to produce them.
pub async fn bucket_totals(
    db: &D1Database,
    statement: &Statement,
) -> Result<(Vec<BucketTotal>, u64), ApiError> {
    let failed = |e: worker::Error| ApiError::internal("D1 query failed", describe(e));
    let session = db
        .with_session_constraint(D1SessionConstraint::FirstUnconstrained)
        .map_err(failed)?;
    let result = session
        .prepare(&statement.sql)
        .bind(&js_params(&statement.params))
        .map_err(failed)?
        .all()
        .await
        .map_err(failed)?;
    let rows_read = result
        .meta()
        .map_err(failed)?
        .and_then(|m| m.rows_read)
        .unwrap_or(0) as u64;
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

/// A one-line description of a D1 failure, for the log.
fn describe(error: worker::Error) -> String {
    match error {
        worker::Error::D1(d1) => d1.cause(),
        other => other.to_string(),
    }
}

/// Epoch milliseconds are bound as JS numbers (exact to 2^53): D1Type::Integer is only an i32.
fn js_params(params: &[Param]) -> Vec<JsValue> {
    params
        .iter()
        .map(|param| match param {
            Param::Millis(millis) => JsValue::from_f64(*millis as f64),
            Param::Text(text) => JsValue::from_str(text),
        })
        .collect()
}
