//! Call analytics at the edge: `GET /admin/analytics/calls/by-phone-number`, a Rust Cloudflare Worker.
//!
//! A request's path through the folders: `worker.mjs` (answers for a panicked instance) → `entry` (wasm: the
//! fetch and queue events) → `http` (one request start to finish: routing, the query string or the body,
//! errors, envelope, headers, log line) → `access` (rate limits, the bearer key, its record, the decision) →
//! `report` (the report: parameters, selection, periods, the rollup plan, its statement and rows, bucket
//! rows) or `ingest` (the end-call webhook: its body, the queue's deliveries) → `platform` (the runtime as one
//! trait: D1, KV, queues, rate limiters, assets, `Intl`), with `call` (the record rule, the email rule),
//! `json` (a small reader) and `time` (zones, timestamps, ranges) beneath them all. A queue batch's path:
//! `worker.mjs` → `entry` → `ingest::consumer` (D1, or the dead letters in KV) → `platform`. `platform::cloudflare` implements the trait with
//! the real bindings; everything else is free of `worker` types and runs in `cargo test` against
//! `platform::memory`.
//!
//! Which folder may use which (checked by `scripts/check-layers.mjs` in the test command, which reads this
//! table; no module may take part in an import circle, and only `entry` may use `platform::cloudflare`):
//!
//! | folder     | holds                                                          | may use                              |
//! |------------|----------------------------------------------------------------|--------------------------------------|
//! | `time`     | time zones, timestamps (the query grammar, RFC 3339), ranges   | nothing                              |
//! | `json`     | a small JSON reader: the members a reader wants, the rest skipped | nothing                           |
//! | `call`     | what a call record may hold: the record rule, the email rule   | `time`                               |
//! | `platform` | the runtime as one trait; Cloudflare's bindings; the in-memory one | `time`                           |
//! | `access`   | rate limits, bearer token, key records, key cache, the decision | `time`, `json`, `platform`          |
//! | `report`   | the calls-by-phone-number report, from parameters to rows      | `time`, `call`, `platform`           |
//! | `ingest`   | the end-call webhook, its queue consumer, its dead letters     | `time`, `json`, `call`, `platform`   |
//! | `http`     | one request start to finish, routes, errors, envelope, log     | `time`, `call`, `platform`, `access`, `report`, `ingest` |
//! | `entry`    | the wasm events (fetch, queue)                                 | `platform`, `access`, `ingest`, `http` |

pub mod access;
pub mod call;
pub mod http;
pub mod ingest;
pub mod json;
pub mod platform;
pub mod report;
pub mod time;

#[cfg(target_arch = "wasm32")]
mod entry;
