//! A queue batch, consumed. From the calls queue: the deliveries written to D1 in one transaction; if that
//! fails, each on its own, so one that cannot be written does not hold back the others; what fails is
//! retried later (a delay that doubles with each attempt), and after the queue's last retry it goes to the
//! dead-letter queue. From the dead-letter queue: each message kept in KV (`dead_letters`), where an operator
//! lists and replays it. Nothing here acknowledges a message before it is written somewhere durable.

use serde::Serialize;

use crate::ingest::dead_letters;
use crate::ingest::delivery::Delivery;
use crate::ingest::store;
pub use crate::ingest::Message;
use crate::platform::Platform;

/// What to tell the queue of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ack,
    /// Deliver it again after this many seconds.
    Retry(u32),
}

/// What a batch did, for its log line.
#[derive(Debug, Default)]
pub struct Consumed {
    pub outcomes: Vec<Outcome>,
    pub messages: usize,
    /// Calls inserted or replaced (a delivery older than the stored one writes nothing).
    pub calls_written: u64,
    pub retried: usize,
    pub dead_letters_kept: usize,
    pub d1_rows_written: u64,
    /// The first failure, for the log.
    pub error: Option<String>,
    /// The queue's ids of the messages retried (never their content), so that a message the queue gives up
    /// on can still be named.
    pub retried_ids: Vec<String>,
}

/// The wait before attempt `attempts + 1`: 1 s, doubling, at most 5 minutes.
pub fn retry_delay(attempts: u32) -> u32 {
    1u32.checked_shl(attempts.saturating_sub(1)).unwrap_or(u32::MAX).min(300)
}

/// Consumes a batch of the calls queue.
pub async fn calls<P: Platform>(platform: &P, messages: &[Message]) -> Consumed {
    let mut consumed = Consumed {
        messages: messages.len(),
        outcomes: vec![Outcome::Ack; messages.len()],
        ..Consumed::default()
    };
    let mut deliveries = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        match message.body.as_deref().map(Delivery::decode) {
            Some(Ok(delivery)) => deliveries.push((i, delivery)),
            // Never writable: retried until the queue dead-letters it, and kept there as it is.
            Some(Err(why)) => consumed.fail(i, message, format!("message {} is not a delivery: {why}", message.id)),
            None => consumed.fail(i, message, format!("message {} has no text body", message.id)),
        }
    }
    let all: Vec<Delivery> = deliveries.iter().map(|(_, d)| d.clone()).collect();
    match write(platform, &all).await {
        Ok((calls, rows)) => {
            consumed.calls_written += calls;
            consumed.d1_rows_written += rows;
        }
        Err(error) if deliveries.len() == 1 => consumed.fail(deliveries[0].0, &messages[deliveries[0].0], error),
        Err(error) => {
            consumed.error = Some(error);
            for (i, delivery) in &deliveries {
                match write(platform, std::slice::from_ref(delivery)).await {
                    Ok((calls, rows)) => {
                        consumed.calls_written += calls;
                        consumed.d1_rows_written += rows;
                    }
                    Err(error) => consumed.fail(*i, &messages[*i], error),
                }
            }
        }
    }
    consumed
}

/// Consumes a batch of the dead-letter queue: each message kept in KV.
pub async fn dead_letters<P: Platform>(platform: &P, messages: &[Message]) -> Consumed {
    let mut consumed = Consumed {
        messages: messages.len(),
        outcomes: vec![Outcome::Ack; messages.len()],
        ..Consumed::default()
    };
    for (i, message) in messages.iter().enumerate() {
        match dead_letters::keep(platform, message).await {
            Ok(()) => consumed.dead_letters_kept += 1,
            Err(error) => consumed.fail(i, message, error.to_string()),
        }
    }
    consumed
}

impl Consumed {
    fn fail(&mut self, i: usize, message: &Message, error: String) {
        self.outcomes[i] = Outcome::Retry(retry_delay(message.attempts));
        self.retried += 1;
        self.retried_ids.push(format!("{} (attempt {})", message.id, message.attempts));
        self.error.get_or_insert(error);
    }

    /// The batch's log line (never a message body: it holds an owner's email).
    pub fn log_line(&self, queue: &str, duration_ms: f64) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            level: &'static str,
            queue: &'a str,
            duration_ms: f64,
            messages: usize,
            calls_written: u64,
            retried: usize,
            dead_letters_kept: usize,
            d1_rows_written: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a str>,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            retried_ids: &'a [String],
        }
        serde_json::to_string(&Line {
            level: if self.retried > 0 { "error" } else { "info" },
            queue,
            duration_ms,
            messages: self.messages,
            calls_written: self.calls_written,
            retried: self.retried,
            dead_letters_kept: self.dead_letters_kept,
            d1_rows_written: self.d1_rows_written,
            error: self.error.as_deref(),
            retried_ids: &self.retried_ids,
        })
        .unwrap_or_default()
    }
}

/// Writes deliveries in one transaction; the calls written and D1's rows written, or why it failed.
async fn write<P: Platform>(platform: &P, deliveries: &[Delivery]) -> Result<(u64, u64), String> {
    let statements = store::statements(deliveries);
    if statements.is_empty() {
        return Ok((0, 0));
    }
    let results = platform.batch(&statements).await.map_err(|e| e.to_string())?;
    let calls = statements
        .iter()
        .zip(&results)
        .filter(|(statement, _)| !statement.columns.is_empty())
        .map(|(_, rows)| rows.rows.len() as u64)
        .sum();
    Ok((calls, results.iter().map(|rows| rows.rows_written).sum()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::email::UserEmail;
    use crate::call::record::CallRecord;
    use crate::platform::memory::{block_on, MemoryPlatform};

    fn message(id: &str, call: &str, received_at: i64, attempts: u32) -> Message {
        let delivery = Delivery {
            call: CallRecord::new(call, UserEmail::parse("a@example.com").ok(), "sip", Some("+91"), 1_796_030_102_374, 60_000).unwrap(),
            received_at,
            request: format!("req-{received_at}"),
        };
        Message { id: id.into(), body: Some(delivery.encode()), attempts }
    }

    #[test]
    fn writes_a_batch_in_one_transaction_and_acknowledges_it() {
        let platform = MemoryPlatform::new();
        let messages = [message("m1", "c1", 1, 1), message("m2", "c2", 2, 1), message("m3", "c1", 3, 1)];
        let consumed = block_on(calls(&platform, &messages));
        assert_eq!(consumed.outcomes, [Outcome::Ack; 3]);
        assert_eq!(consumed.retried, 0);
        let batches = platform.batches();
        assert_eq!(batches.len(), 1, "one transaction");
        assert_eq!(batches[0].len(), 2, "the owners, then the calls");
        let crate::platform::Param::Text(rows) = &batches[0][1].params[0] else { panic!() };
        assert_eq!(rows.matches(r#""id":"c1""#).count(), 1, "the later delivery of c1 only");
        assert!(rows.contains(r#""received_at":3"#));
    }

    #[test]
    fn a_failed_batch_is_written_message_by_message_and_what_fails_is_retried_later() {
        let platform = MemoryPlatform::new();
        // The batch fails, and then the first message alone: the second is written, the first retried.
        platform.fail_batches(2);
        let messages = [message("m1", "c1", 1, 3), message("m2", "c2", 2, 1)];
        let consumed = block_on(calls(&platform, &messages));
        assert_eq!(consumed.outcomes, [Outcome::Retry(4), Outcome::Ack]);
        assert_eq!(platform.batches().len(), 3);
        assert_eq!(consumed.error.as_deref(), Some("D1 batch failed: D1_ERROR: database is locked"));
        assert!(!consumed.log_line("calls", 3.0).contains("a@example.com"), "no body in the log");
        let line: serde_json::Value = serde_json::from_str(&consumed.log_line("calls", 3.0)).unwrap();
        assert_eq!((line["level"].as_str(), line["retried"].as_u64(), line["messages"].as_u64()), (Some("error"), Some(1), Some(2)));
        assert_eq!(line["retried_ids"], serde_json::json!(["m1 (attempt 3)"]));
    }

    #[test]
    fn a_message_that_is_not_a_delivery_is_retried_never_dropped() {
        let platform = MemoryPlatform::new();
        let messages = [Message { id: "m1".into(), body: Some("{}".into()), attempts: 1 }, Message { id: "m2".into(), body: None, attempts: 2 }];
        let consumed = block_on(calls(&platform, &messages));
        assert_eq!(consumed.outcomes, [Outcome::Retry(1), Outcome::Retry(2)]);
        assert!(platform.batches().is_empty());
    }

    #[test]
    fn retries_wait_longer_each_time() {
        assert_eq!([1, 2, 3, 4, 9, 10, 40].map(retry_delay), [1, 2, 4, 8, 256, 300, 300]);
        assert_eq!(retry_delay(0), 1);
    }

    #[test]
    fn dead_letters_are_kept_in_kv_then_acknowledged() {
        let platform = MemoryPlatform::new();
        let messages = [message("m1", "c1", 1_796_030_105_000, 11), Message { id: "m2".into(), body: Some("junk".into()), attempts: 11 }];
        let consumed = block_on(dead_letters(&platform, &messages));
        assert_eq!(consumed.outcomes, [Outcome::Ack, Outcome::Ack]);
        assert_eq!(consumed.dead_letters_kept, 2);
        let (value, metadata) = platform.kv_entry(dead_letters::BINDING, "call:001796030105000:req-1796030105000").unwrap();
        assert_eq!(value, messages[0].body.clone().unwrap());
        assert_eq!(metadata, r#""c1""#);
        assert_eq!(platform.kv_entry(dead_letters::BINDING, "unreadable:m2"), Some(("junk".into(), "{}".into())));
    }
}
