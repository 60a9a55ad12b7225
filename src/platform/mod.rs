//! The runtime as one small trait: the clock, SHA-256, Workers KV, the Rate Limiting bindings, D1, the static
//! assets and the time zones (`Intl`). It speaks the runtime's terms (a statement and the rows D1 gives
//! back, a KV entry's text, a binding's name), never a resource's: the resources encode their statements
//! and decode their rows themselves, so the host tests of a request's whole sequence run that code too.
//! `cloudflare` implements it with the real bindings (wasm only); `memory` in memory, for the host tests.
//! Uses `time` only.

use std::fmt;

use crate::time::zone::TimeZone;

#[cfg(target_arch = "wasm32")]
pub mod cloudflare;

/// A call into the runtime failed: what failed and why, for the log (never for the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformError(pub String);

impl PlatformError {
    pub fn new(context: &str, detail: impl fmt::Display) -> Self {
        Self(format!("{context}: {detail}"))
    }
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A bound parameter: an integer (bound as a JS number, exact to 2^53) or text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    Integer(i64),
    Text(String),
}

/// One SQL statement for D1, its parameters, and the columns its rows are read by (in this order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
    pub columns: &'static [&'static str],
}

/// A value as D1 returns it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl Cell {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Cell::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// A statement's rows, each with one cell per column of the statement, and the rows D1 read and wrote.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    pub rows: Vec<Vec<Cell>>,
    pub rows_read: u64,
    pub rows_written: u64,
}

/// A KV entry's name and its metadata's text (JSON), as a listing gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub metadata: Option<String>,
}

// The futures are never sent across threads (a Worker isolate has one), so no Send bound.
#[allow(async_fn_in_trait)]
pub trait Platform {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> f64;

    async fn sha256(&self, text: &str) -> Result<[u8; 32], PlatformError>;

    /// The text of the API-key KV entry `name` (`None`: no such entry).
    async fn key_record(&self, name: &str) -> Result<Option<String>, PlatformError>;

    /// Counts one request for `key` against the Rate Limiting binding `binding`; `false` once over.
    async fn within_limit(&self, binding: &str, key: &str) -> Result<bool, PlatformError>;

    /// Runs one read statement on D1 (through a Sessions API session, so a read replica may answer).
    async fn query(&self, statement: &Statement) -> Result<Rows, PlatformError>;

    /// Runs statements on D1's primary as one transaction (`batch()`): all of them, or none.
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<Rows>, PlatformError>;

    /// Sends messages (text) to the queue whose producer binding is `binding`, in one call.
    async fn send(&self, binding: &str, messages: &[String]) -> Result<(), PlatformError>;

    /// Writes a KV entry (`metadata`: JSON text kept with it) in the namespace `binding`.
    async fn kv_put(&self, binding: &str, name: &str, value: &str, metadata: &str) -> Result<(), PlatformError>;

    async fn kv_get(&self, binding: &str, name: &str) -> Result<Option<String>, PlatformError>;

    /// At most `limit` entries whose names start with `prefix`, in name order, with their metadata.
    async fn kv_list(&self, binding: &str, prefix: &str, limit: u32) -> Result<Vec<Listed>, PlatformError>;

    async fn kv_delete(&self, binding: &str, name: &str) -> Result<(), PlatformError>;

    /// A static asset's text (from `public/`), such as the OpenAPI document.
    async fn asset(&self, path: &str) -> Result<String, PlatformError>;

    /// The zone the runtime knows by `name` (case-insensitively), named as the runtime canonicalizes it.
    fn time_zone(&self, name: &str) -> Option<TimeZone>;

    /// The size of this instance's wasm linear memory (the soak run's probe), 0 where there is none.
    fn wasm_memory_bytes(&self) -> u64;
}

#[cfg(test)]
pub mod memory;
