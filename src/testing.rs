//! Host test support: an in-memory [`Platform`] that records what a request asked of it, and a `block_on`
//! for futures that never wait (everything here answers at once).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::auth;
use crate::buckets::BucketTotal;
use crate::error::ApiError;
use crate::limits::Limit;
use crate::platform::{KeyLookup, Platform, QueryAnswer};
use crate::sql::Statement;

/// 2026-11-01T00:00:00Z.
pub const NOW: f64 = 1_793_491_200_000.0;
pub const ADMIN_KEY: &str = "cak_admin";
pub const VIEWER_KEY: &str = "cak_viewer";

pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the fake platform never waits"),
    }
}

pub struct FakePlatform {
    records: HashMap<String, String>,
    ip_limit: u32,
    key_limit: u32,
    counts: RefCell<HashMap<(Limit, String), u32>>,
    counted: RefCell<Vec<(Limit, String)>>,
    hashes: Cell<u32>,
    kv_reads: Cell<u32>,
    statements: RefCell<Vec<Statement>>,
    totals: Vec<BucketTotal>,
    fail_database: bool,
}

impl FakePlatform {
    /// A super-admin key ([`ADMIN_KEY`]) and an `admin` one ([`VIEWER_KEY`]), generous limits, no calls.
    pub fn new() -> Self {
        let mut platform = Self {
            records: HashMap::new(),
            ip_limit: 1_000,
            key_limit: 1_000,
            counts: RefCell::default(),
            counted: RefCell::default(),
            hashes: Cell::new(0),
            kv_reads: Cell::new(0),
            statements: RefCell::default(),
            totals: Vec::new(),
            fail_database: false,
        };
        platform.add_key(ADMIN_KEY, r#"{"role":"super_admin"}"#);
        platform.add_key(VIEWER_KEY, r#"{"role":"admin"}"#);
        platform
    }

    pub fn add_key(&mut self, key: &str, record: &str) {
        self.records
            .insert(auth::storage_name(&fake_hash(key)), record.to_owned());
    }

    pub fn with_ip_limit(mut self, limit: u32) -> Self {
        self.ip_limit = limit;
        self
    }

    pub fn with_key_limit(mut self, limit: u32) -> Self {
        self.key_limit = limit;
        self
    }

    /// What the database answers to any statement.
    pub fn with_totals(mut self, totals: Vec<BucketTotal>) -> Self {
        self.totals = totals;
        self
    }

    pub fn with_failing_database(mut self) -> Self {
        self.fail_database = true;
        self
    }

    pub fn fingerprint(&self, key: &str) -> String {
        auth::fingerprint(&fake_hash(key))
    }

    /// Every request counted against a limit, in order.
    pub fn counted(&self) -> Vec<(Limit, String)> {
        self.counted.borrow().clone()
    }

    pub fn hashes(&self) -> u32 {
        self.hashes.get()
    }

    pub fn kv_reads(&self) -> u32 {
        self.kv_reads.get()
    }

    pub fn statements(&self) -> Vec<Statement> {
        self.statements.borrow().clone()
    }
}

/// Not SHA-256, but as good for telling keys apart in memory: FNV-1a, spread by splitmix64.
fn fake_hash(text: &str) -> [u8; 32] {
    let mut state = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut hash = [0u8; 32];
    for chunk in hash.chunks_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_be_bytes());
    }
    hash
}

impl Platform for FakePlatform {
    fn now_millis(&self) -> f64 {
        NOW
    }

    async fn sha256(&self, text: &str) -> Result<[u8; 32], ApiError> {
        self.hashes.set(self.hashes.get() + 1);
        Ok(fake_hash(text))
    }

    async fn key_record(&self, name: &str) -> Result<KeyLookup, ApiError> {
        self.kv_reads.set(self.kv_reads.get() + 1);
        Ok(KeyLookup {
            record: self.records.get(name).cloned(),
            from_kv: true,
        })
    }

    async fn within_limit(&self, limit: Limit, key: &str) -> Result<bool, ApiError> {
        self.counted.borrow_mut().push((limit, key.to_owned()));
        let mut counts = self.counts.borrow_mut();
        let count = counts.entry((limit, key.to_owned())).or_default();
        *count += 1;
        let allowed = match limit {
            Limit::ClientIp => self.ip_limit,
            Limit::ApiKey => self.key_limit,
        };
        Ok(*count <= allowed)
    }

    async fn bucket_totals(&self, statement: &Statement) -> Result<QueryAnswer, ApiError> {
        self.statements.borrow_mut().push(statement.clone());
        if self.fail_database {
            return Err(ApiError::internal("D1 query failed", "no such table: calls_by_day"));
        }
        Ok(QueryAnswer {
            totals: self.totals.clone(),
            rows_read: 7,
        })
    }

    async fn asset(&self, path: &str) -> Result<String, ApiError> {
        match path {
            "/openapi.json" => Ok(include_str!("../public/openapi.json").to_owned()),
            _ => Err(ApiError::internal("asset", "not found")),
        }
    }

    fn wasm_memory_bytes(&self) -> u64 {
        0
    }
}
