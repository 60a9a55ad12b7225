//! Call analytics at the edge: `GET /admin/analytics/calls/by-phone-number`.
//!
//! A request's path through the code:
//! `worker.mjs` (answers for a panicked instance) → `entry` (wasm: the fetch event) → `app` (one request,
//! start to finish) → `routing` → `access` (rate `limits`, then the key: `auth`) →
//! `calls_by_phone_number` (the endpoint) → `parameters` (+ `query_string`, `timestamp`, `email`) →
//! `selection` (what the report covers) → `sql` (which rollups and calls) → the `platform` (D1) → `buckets`
//! (order and rounding) → `response` (envelope, headers, `cors`) → `log`.
//! Failures are `error::ApiError`, mapped to HTTP in one place. `cloudflare` implements `platform::Platform`
//! with the real bindings; everything but it and `entry` is free of `worker` types and runs in host tests
//! against an in-memory platform (`testing`).

pub mod access;
pub mod app;
pub mod auth;
pub mod buckets;
pub mod calls_by_phone_number;
pub mod cors;
pub mod diagnostics;
pub mod email;
pub mod error;
pub mod keycache;
pub mod limits;
pub mod log;
pub mod parameters;
pub mod platform;
pub mod query_string;
pub mod response;
pub mod routing;
pub mod selection;
pub mod sql;
pub mod periods;
pub mod timestamp;
pub mod zone;

#[cfg(test)]
mod openapi;
#[cfg(test)]
mod testing;

#[cfg(target_arch = "wasm32")]
mod cloudflare;
#[cfg(target_arch = "wasm32")]
mod entry;
