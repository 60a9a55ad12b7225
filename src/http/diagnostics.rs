//! The diagnostics routes (only when the `DIAGNOSTICS` var is `on`, and only for a super-admin key):
//! `/__diagnostics/static`, an answer with no D1 work (the benchmarks' floor) giving the wasm instance's
//! memory size (the soak run's probe), and `/__diagnostics/panic`, a handler bug that proves the worker
//! recovers.

use serde::Serialize;

use crate::http::error::ApiError;
use crate::platform::Platform;
use crate::http::response::Reply;

#[derive(Serialize)]
struct Memory {
    wasm_memory_bytes: u64,
}

pub fn memory<P: Platform>(platform: &P) -> Reply {
    let memory = Memory {
        wasm_memory_bytes: platform.wasm_memory_bytes(),
    };
    Reply::success("static", &memory)
}

/// Panics after an await, as a real handler bug would.
pub async fn panic<P: Platform>(platform: &P) -> Result<Reply, ApiError> {
    platform.sha256("diagnostics").await?;
    panic!("deliberate panic from /__diagnostics/panic");
}
