//! The [`Platform`] in memory, for the host tests: it records what a request asked of it (hashes, KV
//! reads, rate-limit counts, statements) and answers what the test says D1 would (its rows as D1 gives
//! them, and the rows D1 read), so the resources' own encoding and decoding run in `cargo test`. Also a
//! `block_on` for futures that never wait, and the time zones the tests know.

use std::cell::{Cell as Counter, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::access::key;
use crate::platform::{Cell, Listed, Platform, PlatformError, Rows, Statement};
use crate::time::zone::{Offsets, TimeZone};

/// 2026-11-01T00:00:00Z.
pub const NOW: f64 = 1_793_491_200_000.0;
/// Keys of our shape (`cak_` and 43 base64url characters): a super-admin one and an `admin` one.
pub const ADMIN_KEY: &str = "cak_admin00000000000000000000000000000000000000";
pub const VIEWER_KEY: &str = "cak_viewer0000000000000000000000000000000000000";

pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the memory platform never waits"),
    }
}

pub struct MemoryPlatform {
    records: HashMap<String, String>,
    limits: HashMap<&'static str, u32>,
    counts: RefCell<HashMap<(String, String), u32>>,
    counted: RefCell<Vec<(String, String)>>,
    hashes: Counter<u32>,
    kv_reads: Counter<u32>,
    statements: RefCell<Vec<Statement>>,
    answer: Rows,
    fail_database: bool,
    batches: RefCell<Vec<Vec<Statement>>>,
    /// How many of the next batches fail.
    failing_batches: Counter<u32>,
    sent: RefCell<Vec<(String, Vec<String>)>>,
    fail_send: bool,
    kv: RefCell<std::collections::BTreeMap<(String, String), (String, String)>>,
}

impl Default for MemoryPlatform {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryPlatform {
    /// A super-admin key ([`ADMIN_KEY`]) and an `admin` one ([`VIEWER_KEY`]), generous limits, no rows.
    pub fn new() -> Self {
        let mut platform = Self {
            records: HashMap::new(),
            limits: HashMap::new(),
            counts: RefCell::default(),
            counted: RefCell::default(),
            hashes: Counter::new(0),
            kv_reads: Counter::new(0),
            statements: RefCell::default(),
            answer: Rows::default(),
            fail_database: false,
            batches: RefCell::default(),
            failing_batches: Counter::new(0),
            sent: RefCell::default(),
            fail_send: false,
            kv: RefCell::default(),
        };
        platform.add_key(ADMIN_KEY, r#"{"role":"super_admin"}"#);
        platform.add_key(VIEWER_KEY, r#"{"role":"admin"}"#);
        platform
    }

    pub fn add_key(&mut self, key: &str, record: &str) {
        self.records.insert(key::storage_name(&fake_hash(key)), record.to_owned());
    }

    pub fn remove_key(&mut self, key: &str) {
        self.records.remove(&key::storage_name(&fake_hash(key)));
    }

    /// At most `limit` requests per key for the Rate Limiting binding `binding` (else 1,000).
    pub fn with_limit(mut self, binding: &'static str, limit: u32) -> Self {
        self.limits.insert(binding, limit);
        self
    }

    /// What D1 answers to any statement: rows of text cells, and how many rows it read for them.
    pub fn with_rows(mut self, rows: &[&[&str]], rows_read: u64) -> Self {
        self.answer = Rows {
            rows: rows
                .iter()
                .map(|row| row.iter().map(|text| Cell::Text((*text).to_owned())).collect())
                .collect(),
            rows_read,
            rows_written: 0,
        };
        self
    }

    /// What D1 answers to any statement, cell by cell.
    pub fn with_answer(mut self, answer: Rows) -> Self {
        self.answer = answer;
        self
    }

    pub fn with_failing_database(mut self) -> Self {
        self.fail_database = true;
        self
    }

    /// The next `count` D1 batches fail (then they succeed).
    pub fn fail_batches(&self, count: u32) {
        self.failing_batches.set(count);
    }

    pub fn with_failing_queue(mut self) -> Self {
        self.fail_send = true;
        self
    }

    /// Every D1 batch run, in order (failed ones included).
    pub fn batches(&self) -> Vec<Vec<Statement>> {
        self.batches.borrow().clone()
    }

    /// Every message sent, by binding, in order.
    pub fn sent(&self) -> Vec<(String, Vec<String>)> {
        self.sent.borrow().clone()
    }

    /// A KV entry's value and metadata.
    pub fn kv_entry(&self, binding: &str, name: &str) -> Option<(String, String)> {
        self.kv.borrow().get(&(binding.to_owned(), name.to_owned())).cloned()
    }

    /// The fingerprint `access` gives a key.
    pub fn fingerprint(&self, key: &str) -> String {
        key::fingerprint(&fake_hash(key))
    }

    /// Every request counted against a limit, in order: (binding, key).
    pub fn counted(&self) -> Vec<(String, String)> {
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

impl Platform for MemoryPlatform {
    fn now_millis(&self) -> f64 {
        NOW
    }

    async fn sha256(&self, text: &str) -> Result<[u8; 32], PlatformError> {
        self.hashes.set(self.hashes.get() + 1);
        Ok(fake_hash(text))
    }

    async fn key_record(&self, name: &str) -> Result<Option<String>, PlatformError> {
        self.kv_reads.set(self.kv_reads.get() + 1);
        Ok(self.records.get(name).cloned())
    }

    async fn within_limit(&self, binding: &str, key: &str) -> Result<bool, PlatformError> {
        let counted = (binding.to_owned(), key.to_owned());
        self.counted.borrow_mut().push(counted.clone());
        let mut counts = self.counts.borrow_mut();
        let count = counts.entry(counted).or_default();
        *count += 1;
        Ok(*count <= self.limits.get(binding).copied().unwrap_or(1_000))
    }

    async fn query(&self, statement: &Statement) -> Result<Rows, PlatformError> {
        self.statements.borrow_mut().push(statement.clone());
        if self.fail_database {
            return Err(PlatformError::new("D1 query failed", "no such table: calls_by_day"));
        }
        Ok(self.answer.clone())
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<Rows>, PlatformError> {
        self.batches.borrow_mut().push(statements.to_vec());
        if self.failing_batches.get() > 0 {
            self.failing_batches.set(self.failing_batches.get() - 1);
            return Err(PlatformError::new("D1 batch failed", "D1_ERROR: database is locked"));
        }
        Ok(statements.iter().map(|_| Rows { rows_written: 3, ..Rows::default() }).collect())
    }

    async fn send(&self, binding: &str, messages: &[String]) -> Result<(), PlatformError> {
        if self.fail_send {
            return Err(PlatformError::new("queue send failed", "Queue is overloaded"));
        }
        self.sent.borrow_mut().push((binding.to_owned(), messages.to_vec()));
        Ok(())
    }

    async fn kv_put(&self, binding: &str, name: &str, value: &str, metadata: &str) -> Result<(), PlatformError> {
        let key = (binding.to_owned(), name.to_owned());
        self.kv.borrow_mut().insert(key, (value.to_owned(), metadata.to_owned()));
        Ok(())
    }

    async fn kv_get(&self, binding: &str, name: &str) -> Result<Option<String>, PlatformError> {
        Ok(self.kv_entry(binding, name).map(|(value, _)| value))
    }

    async fn kv_list(&self, binding: &str, prefix: &str, limit: u32) -> Result<Vec<Listed>, PlatformError> {
        let kv = self.kv.borrow();
        let listed = kv
            .iter()
            .filter(|((b, name), _)| b == binding && name.starts_with(prefix))
            .take(limit as usize)
            .map(|((_, name), (_, metadata))| Listed { name: name.clone(), metadata: Some(metadata.clone()) });
        Ok(listed.collect())
    }

    async fn kv_delete(&self, binding: &str, name: &str) -> Result<(), PlatformError> {
        self.kv.borrow_mut().remove(&(binding.to_owned(), name.to_owned()));
        Ok(())
    }

    async fn asset(&self, path: &str) -> Result<String, PlatformError> {
        match path {
            "/openapi.json" => Ok(include_str!("../../public/openapi.json").to_owned()),
            _ => Err(PlatformError::new("asset", "not found")),
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
