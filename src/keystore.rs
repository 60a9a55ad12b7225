//! Where API keys live: the SHA-256 of a presented key (Web Crypto) and its record in Workers KV, read
//! through KV's edge cache and, for a few seconds, this isolate's memory.

use std::cell::RefCell;

use js_sys::{futures::JsFuture, ArrayBuffer, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use worker::kv::KvStore;

use crate::error::ApiError;
use crate::keycache::RecordCache;

/// KV caches a key's record at the edge for this long (the floor is 30 s). With the isolate's own cache
/// (`keycache::TTL_MILLIS`), a revocation takes effect within about 70 s, plus KV's propagation.
pub const CACHE_TTL_SECONDS: u64 = 60;

thread_local! {
    static RECORDS: RefCell<RecordCache> = RefCell::new(RecordCache::default());
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = digest, catch)]
    fn subtle_digest(algorithm: &str, data: &Uint8Array) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    pub fn random_uuid() -> String;
}

pub async fn sha256(text: &str) -> Result<[u8; 32], ApiError> {
    let failed = |e: JsValue| ApiError::internal("SHA-256 digest failed", format!("{e:?}"));
    let data = Uint8Array::from(text.as_bytes());
    let digest = JsFuture::from(subtle_digest("SHA-256", &data).map_err(failed)?)
        .await
        .map_err(failed)?;
    let bytes = Uint8Array::new(&digest.unchecked_into::<ArrayBuffer>()).to_vec();
    bytes
        .try_into()
        .map_err(|_| ApiError::Internal("SHA-256 digest is not 32 bytes".into()))
}

/// The raw record stored under `name`, or `None` when there is no such key.
pub async fn record(keys: &KvStore, name: &str) -> Result<Option<String>, ApiError> {
    let now = js_sys::Date::now();
    if let Some(record) = RECORDS.with(|cache| cache.borrow().get(name, now).map(str::to_owned)) {
        return Ok(Some(record));
    }
    let record = keys
        .get(name)
        .cache_ttl(CACHE_TTL_SECONDS)
        .text()
        .await
        .map_err(|e| ApiError::internal("KV lookup of an API key failed", e))?;
    if let Some(record) = &record {
        RECORDS.with(|cache| cache.borrow_mut().put(name, record, now));
    }
    Ok(record)
}
