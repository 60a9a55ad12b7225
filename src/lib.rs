//! Call analytics at the edge: `GET /admin/analytics/calls/by-phone-number`.
//!
//! A request's path through the code:
//! `entry` (wasm: the fetch event) → `routing` → `auth` (+ `keystore`, wasm: KV) → `params` (+ `timestamp`)
//! → `query` (which rollups and calls, as SQL) → `database` (wasm: D1) → `report` → `response` (envelope,
//! headers, `cors`) → `log`.
//! Failures are `error::ApiError`, mapped to HTTP in one place.
//!
//! Everything but the wasm-only glue is free of `worker` types and unit-tested on the host.

pub mod auth;
pub mod cors;
pub mod error;
pub mod keycache;
pub mod log;
pub mod openapi;
pub mod params;
pub mod query;
pub mod report;
pub mod response;
pub mod routing;
pub mod timestamp;

#[cfg(target_arch = "wasm32")]
mod database;
#[cfg(target_arch = "wasm32")]
mod entry;
#[cfg(target_arch = "wasm32")]
mod keystore;
