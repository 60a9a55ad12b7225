//! Runs the [`query`](crate::query) statements in D1 as one batch (one round trip), through a Sessions API
//! session whose first read may be served by the nearest read replica.

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

/// Every statement's per-bucket rows (not yet merged), and the number of rows D1 read for them.
pub async fn bucket_totals(
    db: &D1Database,
    statements: &[Statement],
) -> Result<(Vec<BucketTotal>, u64), ApiError> {
    let failed = |e: worker::Error| ApiError::internal("D1 query failed", describe(e));
    let session = db
        .with_session_constraint(D1SessionConstraint::FirstUnconstrained)
        .map_err(failed)?;
    let prepared = statements
        .iter()
        .map(|statement| {
            session
                .prepare(&statement.sql)
                .bind(&js_params(&statement.params))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    let mut totals = Vec::new();
    let mut rows_read = 0;
    for result in session.batch(prepared).await.map_err(failed)? {
        rows_read += result
            .meta()
            .map_err(failed)?
            .and_then(|m| m.rows_read)
            .unwrap_or(0) as u64;
        totals.extend(
            result
                .results::<Row>()
                .map_err(failed)?
                .into_iter()
                .map(|row| BucketTotal {
                    phone_number: row.bucket,
                    total_calls: row.calls,
                    total_duration_millis: row.duration_ms,
                }),
        );
    }
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
