//! What this worker isolate remembers of API keys between requests, so that neither a busy admin page nor
//! a flood of the same bad key costs a KV read per request: records that exist, and names KV does not
//! know, each for a short time ([`TTL_MILLIS`]) and at most [`CAPACITY`] of each.

use std::collections::HashMap;

/// How long an answer of KV is reused before KV is asked again. Added to KV's own edge cache (`cacheTtl`),
/// this is the longest a revocation can take to reach an isolate that has the key in memory, and the
/// longest a key created after its name was looked up can stay unknown to that isolate.
pub const TTL_MILLIS: f64 = 10_000.0;
pub const CAPACITY: usize = 256;

/// What KV said of a key's entry: its record, or that there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    Record(String),
    Unknown,
}

/// Records and unknown names are remembered apart, each at most [`CAPACITY`]: a flood of made-up keys pushes
/// out only other made-up keys, never the records real callers use.
#[derive(Debug, Default)]
pub struct KeyCache {
    records: Memory,
    unknown: Memory,
}

#[derive(Debug, Default)]
struct Memory {
    entries: HashMap<String, (Known, f64)>,
}

impl KeyCache {
    /// What KV said of `name`, if it said it less than [`TTL_MILLIS`] before `now`.
    pub fn get(&self, name: &str, now: f64) -> Option<&Known> {
        self.records.get(name, now).or_else(|| self.unknown.get(name, now))
    }

    /// Remembers what KV said of `name` at `now`: expired answers go first when full, then the oldest.
    pub fn put(&mut self, name: &str, known: Known, now: f64) {
        let (into, other) = match known {
            Known::Record(_) => (&mut self.records, &mut self.unknown),
            Known::Unknown => (&mut self.unknown, &mut self.records),
        };
        other.entries.remove(name);
        into.put(name, known, now);
    }

    pub fn len(&self) -> usize {
        self.records.entries.len() + self.unknown.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Memory {
    fn get(&self, name: &str, now: f64) -> Option<&Known> {
        let (known, fetched_at) = self.entries.get(name)?;
        (now - fetched_at < TTL_MILLIS && now >= *fetched_at).then_some(known)
    }

    fn put(&mut self, name: &str, known: Known, now: f64) {
        if self.entries.len() >= CAPACITY && !self.entries.contains_key(name) {
            self.entries.retain(|_, (_, fetched_at)| now - *fetched_at < TTL_MILLIS);
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
        self.entries.insert(name.to_owned(), (known, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str) -> Known {
        Known::Record(text.into())
    }

    #[test]
    fn reuses_an_answer_for_the_ttl_only() {
        let mut cache = KeyCache::default();
        assert_eq!(cache.get("sha256:a", 0.0), None);
        cache.put("sha256:a", record("{}"), 1_000.0);
        assert_eq!(cache.get("sha256:a", 1_000.0), Some(&record("{}")));
        assert_eq!(cache.get("sha256:a", 1_000.0 + TTL_MILLIS - 1.0), Some(&record("{}")));
        assert_eq!(cache.get("sha256:a", 1_000.0 + TTL_MILLIS), None);
        assert_eq!(cache.get("sha256:a", 999.0), None, "a clock that went back is not trusted");
        cache.put("sha256:a", record(r#"{"revoked":true}"#), 20_000.0);
        assert_eq!(cache.get("sha256:a", 20_001.0), Some(&record(r#"{"revoked":true}"#)));
        cache.put("sha256:b", Known::Unknown, 20_000.0);
        assert_eq!(cache.get("sha256:b", 20_001.0), Some(&Known::Unknown));
        assert_eq!(cache.get("sha256:b", 20_000.0 + TTL_MILLIS), None);
    }

    #[test]
    fn holds_at_most_capacity_answers_dropping_expired_then_oldest() {
        let mut cache = KeyCache::default();
        for i in 0..CAPACITY {
            cache.put(&format!("k{i}"), Known::Unknown, i as f64);
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.put("new", Known::Unknown, 500.0);
        assert_eq!(cache.len(), CAPACITY);
        assert_eq!(cache.get("k0", 500.0), None, "the oldest went");
        assert_eq!(cache.get("k1", 500.0), Some(&Known::Unknown));
        cache.put("later", Known::Unknown, 100_000.0);
        assert_eq!(cache.len(), 1, "expired answers are dropped first");
        assert!(!cache.is_empty());
    }

    #[test]
    fn a_flood_of_unknown_keys_never_pushes_out_a_record() {
        let mut cache = KeyCache::default();
        cache.put("real", record("{}"), 0.0);
        for i in 0..10 * CAPACITY {
            cache.put(&format!("made-up-{i}"), Known::Unknown, 1.0);
        }
        assert_eq!(cache.get("real", 2.0), Some(&record("{}")));
        assert_eq!(cache.len(), 1 + CAPACITY);
        // A name KV did not know, then did: the newer answer counts.
        cache.put("late", Known::Unknown, 3.0);
        cache.put("late", record("{}"), 4.0);
        assert_eq!(cache.get("late", 5.0), Some(&record("{}")));
    }
}
