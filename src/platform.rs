//! What a request needs from the runtime, as one small trait: the clock, SHA-256, API key records (Workers
//! KV), rate limits, D1, the static assets and the time zones (`Intl`). `cloudflare.rs` implements it with the real bindings; the host tests implement
//! it in memory, so that a request's whole sequence (limits, key, parameters, SQL, answer) runs in
//! `cargo test`.

use crate::buckets::BucketTotal;
use crate::error::ApiError;
use crate::limits::Limit;
use crate::sql::Statement;
use crate::zone::TimeZone;

/// A key record lookup: the stored record (`None`: no such key) and whether KV was asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLookup {
    pub record: Option<String>,
    pub from_kv: bool,
}

/// Per-period, per-bucket totals and the number of rows the database read for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    pub totals: Vec<BucketTotal>,
    /// The buckets the statement returned, those whose periods net to nothing included.
    pub buckets: usize,
    pub rows_read: u64,
}

// The futures are never sent across threads (a Worker isolate has one), so no Send bound.
#[allow(async_fn_in_trait)]
pub trait Platform {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> f64;

    async fn sha256(&self, text: &str) -> Result<[u8; 32], ApiError>;

    /// The API key record stored under `name` (see `auth::storage_name`).
    async fn key_record(&self, name: &str) -> Result<KeyLookup, ApiError>;

    /// Counts one request against `limit` for `key`; `false` once the key is over the limit.
    async fn within_limit(&self, limit: Limit, key: &str) -> Result<bool, ApiError>;

    async fn bucket_totals(&self, statement: &Statement) -> Result<QueryAnswer, ApiError>;

    /// A static asset's text (from `public/`), such as the OpenAPI document.
    async fn asset(&self, path: &str) -> Result<String, ApiError>;

    /// The zone the runtime knows by `name` (case-insensitively), named as the runtime canonicalizes it.
    fn time_zone(&self, name: &str) -> Option<TimeZone>;

    /// The size of this instance's wasm linear memory (the soak run's probe), 0 where there is none.
    fn wasm_memory_bytes(&self) -> u64;
}
