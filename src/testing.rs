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
use crate::zone::{Offsets, TimeZone};

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
        let mut buckets: Vec<&str> = self.totals.iter().map(|t| t.phone_number.as_str()).collect();
        buckets.dedup();
        Ok(QueryAnswer {
            totals: self.totals.clone(),
            buckets: buckets.len(),
            rows_read: 7,
        })
    }

    async fn asset(&self, path: &str) -> Result<String, ApiError> {
        match path {
            "/openapi.json" => Ok(include_str!("../public/openapi.json").to_owned()),
            _ => Err(ApiError::internal("asset", "not found")),
        }
    }

    fn time_zone(&self, name: &str) -> Option<TimeZone> {
        runtime_zone(name)
    }

    fn wasm_memory_bytes(&self) -> u64 {
        0
    }
}

/// A zone as a list of offset changes (hand-copied from the IANA rules for 2025 and 2026, and checked against
/// Node's Intl when written): the offset before the first change, then `(instant, offset from then on)`.
#[derive(Clone, Copy)]
struct Changes(i64, &'static [(&'static str, i64)]);

impl Offsets for Changes {
    fn offset_millis(&self, utc_millis: i64) -> i64 {
        let instant = |iso: &str| chrono::DateTime::parse_from_rfc3339(iso).unwrap().timestamp_millis();
        self.1
            .iter()
            .take_while(|(at, _)| instant(at) <= utc_millis)
            .last()
            .map_or(self.0, |(_, offset)| *offset)
    }
}

const H: i64 = 3_600_000;
const M: i64 = 60_000;

/// The zones the host tests know, by the names the runtime's Intl gives them (legacy spellings included).
const ZONES: [(&str, Changes); 8] = [
    ("UTC", Changes(0, &[])),
    ("Etc/UTC", Changes(0, &[])),
    ("Asia/Calcutta", Changes(5 * H + 30 * M, &[])),
    ("Asia/Katmandu", Changes(5 * H + 45 * M, &[])),
    (
        "America/New_York",
        Changes(
            -5 * H,
            &[
                ("2025-03-09T07:00:00Z", -4 * H),
                ("2025-11-02T06:00:00Z", -5 * H),
                ("2026-03-08T07:00:00Z", -4 * H),
                ("2026-11-01T06:00:00Z", -5 * H),
            ],
        ),
    ),
    (
        "Australia/Lord_Howe",
        Changes(
            11 * H,
            &[
                ("2025-04-05T15:00:00Z", 10 * H + 30 * M),
                ("2025-10-04T15:30:00Z", 11 * H),
                ("2026-04-04T15:00:00Z", 10 * H + 30 * M),
                ("2026-10-03T15:30:00Z", 11 * H),
            ],
        ),
    ),
    (
        "America/Santiago",
        Changes(
            -3 * H,
            &[
                ("2025-04-06T03:00:00Z", -4 * H),
                ("2025-09-07T04:00:00Z", -3 * H),
                ("2026-04-05T03:00:00Z", -4 * H),
                ("2026-09-06T04:00:00Z", -3 * H),
            ],
        ),
    ),
    (
        "Pacific/Chatham",
        Changes(
            13 * H + 45 * M,
            &[
                ("2025-04-05T14:00:00Z", 12 * H + 45 * M),
                ("2025-09-27T14:00:00Z", 13 * H + 45 * M),
                ("2026-04-04T14:00:00Z", 12 * H + 45 * M),
                ("2026-09-26T14:00:00Z", 13 * H + 45 * M),
            ],
        ),
    ),
];

/// A test zone (see [`runtime_zone`]); panics for one the tests do not know.
pub fn zone(name: &str) -> TimeZone {
    runtime_zone(name).unwrap_or_else(|| panic!("no test zone {name}"))
}

/// A test zone by any spelling the runtime would take: case-insensitive, with the IANA names ICU knows by a
/// legacy one (Asia/Kolkata is Asia/Calcutta to ICU).
pub fn runtime_zone(name: &str) -> Option<TimeZone> {
    let modern = [("Asia/Kolkata", "Asia/Calcutta"), ("Asia/Kathmandu", "Asia/Katmandu")];
    let name = modern
        .iter()
        .find(|(iana, _)| iana.eq_ignore_ascii_case(name))
        .map_or(name, |(_, icu)| icu);
    let (known, changes) = ZONES.iter().find(|(known, _)| known.eq_ignore_ascii_case(name))?;
    Some(TimeZone::new(known, std::rc::Rc::new(*changes)))
}
