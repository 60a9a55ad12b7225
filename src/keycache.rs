//! A small in-memory cache of API key records, per worker isolate, so that a busy admin page does not cost
//! a KV read per request. Only records that exist are cached (a miss always asks KV), for a short time,
//! and at most [`CAPACITY`] of them.

use std::collections::HashMap;

/// How long a record is reused before KV is asked again. Added to KV's own edge cache (`cacheTtl`), this is
/// the longest a revocation can take to reach an isolate that has the key in memory.
pub const TTL_MILLIS: f64 = 10_000.0;
pub const CAPACITY: usize = 256;

#[derive(Debug, Default)]
pub struct RecordCache {
    entries: HashMap<String, (String, f64)>,
}

impl RecordCache {
    /// The record cached for `name`, if it was fetched less than [`TTL_MILLIS`] before `now`.
    pub fn get(&self, name: &str, now: f64) -> Option<&str> {
        let (record, fetched_at) = self.entries.get(name)?;
        (now - fetched_at < TTL_MILLIS && now >= *fetched_at).then_some(record.as_str())
    }

    pub fn put(&mut self, name: &str, record: &str, now: f64) {
        if self.entries.len() >= CAPACITY && !self.entries.contains_key(name) {
            self.entries
                .retain(|_, (_, fetched_at)| now - *fetched_at < TTL_MILLIS);
            if self.entries.len() >= CAPACITY {
                let oldest = self
                    .entries
                    .iter()
                    .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
                    .map(|(name, _)| name.clone());
                if let Some(oldest) = oldest {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries
            .insert(name.to_owned(), (record.to_owned(), now));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_a_record_for_the_ttl_only() {
        let mut cache = RecordCache::default();
        assert_eq!(cache.get("sha256:a", 0.0), None);
        cache.put("sha256:a", "{}", 1_000.0);
        assert_eq!(cache.get("sha256:a", 1_000.0), Some("{}"));
        assert_eq!(
            cache.get("sha256:a", 1_000.0 + TTL_MILLIS - 1.0),
            Some("{}")
        );
        assert_eq!(cache.get("sha256:a", 1_000.0 + TTL_MILLIS), None);
        assert_eq!(
            cache.get("sha256:a", 999.0),
            None,
            "a clock that went back is not trusted"
        );
        cache.put("sha256:a", r#"{"revoked":true}"#, 20_000.0);
        assert_eq!(cache.get("sha256:a", 20_001.0), Some(r#"{"revoked":true}"#));
    }

    #[test]
    fn holds_at_most_capacity_records_dropping_expired_then_oldest() {
        let mut cache = RecordCache::default();
        for i in 0..CAPACITY {
            cache.put(&format!("k{i}"), "{}", i as f64);
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.put("new", "{}", 500.0);
        assert_eq!(cache.len(), CAPACITY);
        assert_eq!(cache.get("k0", 500.0), None, "the oldest went");
        assert_eq!(cache.get("k1", 500.0), Some("{}"));
        cache.put("later", "{}", 100_000.0);
        assert_eq!(cache.len(), 1, "expired records are dropped first");
        assert!(!cache.is_empty());
    }
}
