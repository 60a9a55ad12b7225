//! The [`Platform`] on Cloudflare (wasm only): Web Crypto, Workers KV (through its edge cache), the Rate
//! Limiting bindings, D1 through a Sessions API session, the static assets and `Intl`'s time zones. Each
//! binding's JavaScript API is called directly; nothing here knows what a key, a report or a call is.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use js_sys::{futures::JsFuture, Array, ArrayBuffer, Object, Promise, Reflect, Uint8Array, JSON};
use wasm_bindgen::prelude::*;
use worker::Env;

use crate::platform::{Cell, Listed, Param, Platform, PlatformError, Rows, Statement};
use crate::time::zone::{parse_gmt_offset, Offsets, TimeZone};

/// KV caches a key's record at the edge for this long (its floor). With the isolate's own memory of it
/// (`access::cache::TTL_MILLIS`, 10 s), a revocation takes effect within about 40 s, plus KV's propagation.
pub const KV_CACHE_TTL_SECONDS: u32 = 30;

thread_local! {
    /// The zones asked for in this isolate, by the name as given (lowercased): the runtime's formatter for
    /// each, with its offsets remembered. `None`: the runtime knows no such zone.
    static ZONES: RefCell<HashMap<String, Option<TimeZone>>> = RefCell::new(HashMap::new());
}

/// At most this many zones (and offsets per zone) are remembered; then the memory starts afresh.
const ZONE_MEMORY: usize = 64;
const OFFSET_MEMORY: usize = 20_000;

// The bindings' JavaScript APIs, called directly: workers-rs's wrappers would bring serde's deserializers
// (and float formatting for their error messages) into the wasm for the three fields read here.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = digest, catch)]
    fn subtle_digest(algorithm: &str, data: &Uint8Array) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    pub fn random_uuid() -> String;

    /// JavaScript's `String(value)`.
    #[wasm_bindgen(js_name = String)]
    pub fn js_string(value: &JsValue) -> String;

    /// A Rate Limiting binding (`[[ratelimits]]`).
    type RateLimitBinding;
    #[wasm_bindgen(method, catch)]
    fn limit(this: &RateLimitBinding, options: &Object) -> Result<Promise, JsValue>;

    /// A Workers KV namespace.
    type KvNamespace;
    #[wasm_bindgen(method, catch, js_name = get)]
    fn get_text(this: &KvNamespace, key: &str, options: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = put)]
    fn put_text(this: &KvNamespace, key: &str, value: &str, options: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn list(this: &KvNamespace, options: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = delete)]
    fn delete_key(this: &KvNamespace, key: &str) -> Result<Promise, JsValue>;

    /// A queue's producer binding.
    type QueueProducer;
    #[wasm_bindgen(method, catch, js_name = sendBatch)]
    fn send_batch(this: &QueueProducer, messages: &Array) -> Result<Promise, JsValue>;

    /// A D1 database, a Sessions API session of one, and a prepared statement.
    type D1Database;
    #[wasm_bindgen(method, catch, js_name = withSession)]
    fn with_session(this: &D1Database, constraint: &str) -> Result<D1Session, JsValue>;
    type D1Session;
    #[wasm_bindgen(method, catch)]
    fn prepare(this: &D1Session, sql: &str) -> Result<D1Statement, JsValue>;
    type D1Statement;
    #[wasm_bindgen(method, catch, variadic)]
    fn bind(this: &D1Statement, values: &Array) -> Result<D1Statement, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn all(this: &D1Statement) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = prepare)]
    fn prepare_on_primary(this: &D1Database, sql: &str) -> Result<D1Statement, JsValue>;
    #[wasm_bindgen(method, catch, js_name = batch)]
    fn run_batch(this: &D1Database, statements: &Array) -> Result<Promise, JsValue>;

    /// `Intl.DateTimeFormat`: the runtime's time zone data.
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    type DateTimeFormat;
    #[wasm_bindgen(constructor, catch, js_namespace = Intl, js_class = "DateTimeFormat")]
    fn new(locale: &str, options: &Object) -> Result<DateTimeFormat, JsValue>;
    #[wasm_bindgen(method)]
    fn format(this: &DateTimeFormat, epoch_millis: f64) -> String;
    #[wasm_bindgen(method, js_name = resolvedOptions)]
    fn resolved_options(this: &DateTimeFormat) -> Object;

    /// A service binding (the static assets).
    type Fetcher;
    #[wasm_bindgen(method, catch)]
    fn fetch(this: &Fetcher, url: &str) -> Result<Promise, JsValue>;
    type FetchResponse;
    #[wasm_bindgen(method, getter)]
    fn status(this: &FetchResponse) -> u16;
    #[wasm_bindgen(method, catch)]
    fn text(this: &FetchResponse) -> Result<Promise, JsValue>;
}

pub struct Cloudflare {
    env: Env,
}

impl Cloudflare {
    pub fn new(env: Env) -> Self {
        Self { env }
    }

    /// The binding `name` (a `kind`: KV, D1...), or a 500 naming it when the deployment lacks it.
    fn binding<T: JsCast>(&self, kind: &str, name: &str) -> Result<T, PlatformError> {
        Reflect::get(&self.env, &JsValue::from_str(name))
            .ok()
            .filter(|value| !value.is_undefined())
            .map(JsCast::unchecked_into)
            .ok_or_else(|| PlatformError(format!("{kind} binding {name}: not in the environment")))
    }
}

/// A failed call into JavaScript, for the log: the error's message (and its cause's, as D1 gives it).
fn js_failure(context: &'static str) -> impl Fn(JsValue) -> PlatformError {
    move |error| {
        let text = |value: &JsValue| {
            Reflect::get(value, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| js_string(value))
        };
        let mut detail = text(&error);
        if let Ok(cause) = Reflect::get(&error, &"cause".into()) {
            if !cause.is_undefined() && !cause.is_null() {
                detail = format!("{detail}: {}", text(&cause));
            }
        }
        PlatformError::new(context, detail)
    }
}

/// `value[name]` as a whole number (D1 returns integers as JS numbers).
fn number(value: &JsValue, name: &str) -> Option<u64> {
    let number = Reflect::get(value, &JsValue::from_str(name)).ok()?.as_f64()?;
    (number >= 0.0 && number.fract() == 0.0).then_some(number as u64)
}

/// A value of a D1 row: integers arrive as JS numbers (a whole number within 2^53 is an integer).
fn cell(value: JsValue) -> Cell {
    if let Some(text) = value.as_string() {
        return Cell::Text(text);
    }
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 => Cell::Integer(n as i64),
        Some(n) => Cell::Real(n),
        None => Cell::Null,
    }
}

async fn settle(promise: Result<Promise, JsValue>, context: &'static str) -> Result<JsValue, PlatformError> {
    let failed = js_failure(context);
    JsFuture::from(promise.map_err(&failed)?).await.map_err(&failed)
}

impl Platform for Cloudflare {
    fn now_millis(&self) -> f64 {
        js_sys::Date::now()
    }

    async fn sha256(&self, text: &str) -> Result<[u8; 32], PlatformError> {
        let data = Uint8Array::from(text.as_bytes());
        let digest = settle(subtle_digest("SHA-256", &data), "SHA-256 digest failed").await?;
        let bytes = Uint8Array::new(&digest.unchecked_into::<ArrayBuffer>()).to_vec();
        bytes
            .try_into()
            .map_err(|_| PlatformError("SHA-256 digest is not 32 bytes".into()))
    }

    async fn key_record(&self, name: &str) -> Result<Option<String>, PlatformError> {
        let keys: KvNamespace = self.binding("KV", "API_KEYS")?;
        let options = Object::new();
        let _ = Reflect::set(&options, &"type".into(), &"text".into());
        let _ = Reflect::set(&options, &"cacheTtl".into(), &KV_CACHE_TTL_SECONDS.into());
        let value = settle(keys.get_text(name, &options), "KV lookup of an API key failed").await?;
        Ok(value.as_string())
    }

    async fn within_limit(&self, binding: &str, key: &str) -> Result<bool, PlatformError> {
        let limiter: RateLimitBinding = self.binding("Rate limiting", binding)?;
        let options = Object::new();
        let _ = Reflect::set(&options, &"key".into(), &key.into());
        let outcome = settle(limiter.limit(&options), "rate limit check failed").await?;
        Reflect::get(&outcome, &"success".into())
            .ok()
            .and_then(|success| success.as_bool())
            .ok_or_else(|| PlatformError("rate limit outcome has no success flag".into()))
    }

    async fn query(&self, statement: &Statement) -> Result<Rows, PlatformError> {
        let failed = js_failure("D1 query failed");
        let db: D1Database = self.binding("D1", "DB")?;
        // The first query of a session may be served by the nearest read replica.
        let session = db.with_session("first-unconstrained").map_err(&failed)?;
        let prepared = session
            .prepare(&statement.sql)
            .and_then(|prepared| prepared.bind(&js_params(&statement.params)))
            .map_err(&failed)?;
        let result = settle(prepared.all(), "D1 query failed").await?;
        rows(&result, statement.columns)
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<Rows>, PlatformError> {
        let failed = js_failure("D1 batch failed");
        let db: D1Database = self.binding("D1", "DB")?;
        let prepared = Array::new();
        for statement in statements {
            let bound = db
                .prepare_on_primary(&statement.sql)
                .and_then(|prepared| prepared.bind(&js_params(&statement.params)))
                .map_err(&failed)?;
            prepared.push(&bound);
        }
        let results: Array = settle(db.run_batch(&prepared), "D1 batch failed")
            .await?
            .dyn_into()
            .map_err(|_| PlatformError("D1 batch failed: no results".into()))?;
        statements
            .iter()
            .zip(results.iter())
            .map(|(statement, result)| rows(&result, statement.columns))
            .collect()
    }

    async fn send(&self, binding: &str, messages: &[String]) -> Result<(), PlatformError> {
        let queue: QueueProducer = self.binding("Queue", binding)?;
        let batch: Array = messages
            .iter()
            .map(|body| {
                let message = Object::new();
                let _ = Reflect::set(&message, &"body".into(), &body.into());
                let _ = Reflect::set(&message, &"contentType".into(), &"text".into());
                JsValue::from(message)
            })
            .collect();
        settle(queue.send_batch(&batch), "queue send failed").await.map(drop)
    }

    async fn kv_put(&self, binding: &str, name: &str, value: &str, metadata: &str) -> Result<(), PlatformError> {
        let kv: KvNamespace = self.binding("KV", binding)?;
        let options = Object::new();
        let metadata = JSON::parse(metadata).map_err(js_failure("KV metadata is not JSON"))?;
        let _ = Reflect::set(&options, &"metadata".into(), &metadata);
        settle(kv.put_text(name, value, &options), "KV put failed").await.map(drop)
    }

    async fn kv_get(&self, binding: &str, name: &str) -> Result<Option<String>, PlatformError> {
        let kv: KvNamespace = self.binding("KV", binding)?;
        let options = Object::new();
        let _ = Reflect::set(&options, &"type".into(), &"text".into());
        Ok(settle(kv.get_text(name, &options), "KV get failed").await?.as_string())
    }

    async fn kv_list(&self, binding: &str, prefix: &str, limit: u32) -> Result<Vec<Listed>, PlatformError> {
        let kv: KvNamespace = self.binding("KV", binding)?;
        let options = Object::new();
        let _ = Reflect::set(&options, &"prefix".into(), &prefix.into());
        let _ = Reflect::set(&options, &"limit".into(), &limit.into());
        let page = settle(kv.list(&options), "KV list failed").await?;
        let keys: Array = Reflect::get(&page, &"keys".into())
            .ok()
            .and_then(|keys| keys.dyn_into().ok())
            .ok_or_else(|| PlatformError("KV list failed: no keys".into()))?;
        Ok(keys
            .iter()
            .filter_map(|key| {
                let name = Reflect::get(&key, &"name".into()).ok()?.as_string()?;
                let metadata = Reflect::get(&key, &"metadata".into()).ok().filter(|m| !m.is_undefined() && !m.is_null());
                let metadata = metadata.and_then(|m| JSON::stringify(&m).ok()).map(String::from);
                Some(Listed { name, metadata })
            })
            .collect())
    }

    async fn kv_delete(&self, binding: &str, name: &str) -> Result<(), PlatformError> {
        let kv: KvNamespace = self.binding("KV", binding)?;
        settle(kv.delete_key(name), "KV delete failed").await.map(drop)
    }

    async fn asset(&self, path: &str) -> Result<String, PlatformError> {
        let assets: Fetcher = self.binding("Assets", "ASSETS")?;
        let url = format!("https://assets.invalid{path}");
        let response: FetchResponse = settle(assets.fetch(&url), "static asset").await?.unchecked_into();
        if response.status() != 200 {
            return Err(PlatformError(format!("static asset {path}: status {}", response.status())));
        }
        let text = settle(response.text(), "static asset").await?;
        text.as_string()
            .ok_or_else(|| PlatformError(format!("static asset {path} is not text")))
    }

    fn time_zone(&self, name: &str) -> Option<TimeZone> {
        let key = name.to_ascii_lowercase();
        if let Some(known) = ZONES.with(|zones| zones.borrow().get(&key).cloned()) {
            return known;
        }
        let zone = intl_zone(name);
        ZONES.with(|zones| {
            let mut zones = zones.borrow_mut();
            if zones.len() >= ZONE_MEMORY {
                zones.clear();
            }
            zones.insert(key, zone.clone());
        });
        zone
    }

    fn wasm_memory_bytes(&self) -> u64 {
        core::arch::wasm32::memory_size::<0>() as u64 * 65_536
    }
}

/// A D1 result (`{results, meta}`) as rows of `columns`.
fn rows(result: &JsValue, columns: &[&str]) -> Result<Rows, PlatformError> {
    let meta = Reflect::get(result, &"meta".into()).ok();
    let count = |name| meta.as_ref().and_then(|meta| number(meta, name)).unwrap_or(0);
    let results: Array = Reflect::get(result, &"results".into())
        .ok()
        .and_then(|results| results.dyn_into().ok())
        .ok_or_else(|| PlatformError("D1 query failed: no results array".into()))?;
    let rows = results
        .iter()
        .map(|row| {
            let value = |name: &str| Reflect::get(&row, &name.into()).unwrap_or(JsValue::NULL);
            columns.iter().map(|name| cell(value(name))).collect()
        })
        .collect();
    Ok(Rows {
        rows,
        rows_read: count("rows_read"),
        rows_written: count("rows_written"),
    })
}

/// Integers are bound as JS numbers (exact to 2^53).
fn js_params(params: &[Param]) -> Array {
    params
        .iter()
        .map(|param| match param {
            Param::Integer(n) => JsValue::from_f64(*n as f64),
            Param::Text(text) => JsValue::from_str(text),
        })
        .collect()
}

/// The zone the runtime's `Intl` knows by `name`, with its offsets read from `Intl` as they are needed.
fn intl_zone(name: &str) -> Option<TimeZone> {
    let options = Object::new();
    let _ = Reflect::set(&options, &"timeZone".into(), &name.into());
    let _ = Reflect::set(&options, &"timeZoneName".into(), &"longOffset".into());
    let formatter = DateTimeFormat::new("en-US", &options).ok()?;
    let canonical = Reflect::get(&formatter.resolved_options(), &"timeZone".into())
        .ok()?
        .as_string()?;
    let zone = TimeZone::new(
        &canonical,
        Rc::new(IntlOffsets {
            formatter,
            memory: RefCell::new(HashMap::new()),
        }),
    );
    Some(if zone.is_utc() { TimeZone::utc() } else { zone })
}

/// A zone's offsets as `Intl` formats them (`…, GMT+05:30`), remembered per instant.
struct IntlOffsets {
    formatter: DateTimeFormat,
    memory: RefCell<HashMap<i64, i64>>,
}

impl Offsets for IntlOffsets {
    fn offset_millis(&self, utc_millis: i64) -> i64 {
        if let Some(offset) = self.memory.borrow().get(&utc_millis) {
            return *offset;
        }
        let offset = parse_gmt_offset(&self.formatter.format(utc_millis as f64));
        let mut memory = self.memory.borrow_mut();
        if memory.len() >= OFFSET_MEMORY {
            memory.clear();
        }
        memory.insert(utc_millis, offset);
        offset
    }
}
