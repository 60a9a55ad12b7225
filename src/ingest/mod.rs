//! `POST /webhooks/end-call`: the platform's end-call webhook. The body is read (`webhook`) into a call
//! that keeps the record rule, sent to the calls queue as a delivery (`delivery`: only what the report
//! stores, stamped with when it was received), and answered with a 202 once the queue has it. The same worker
//! consumes the queue (`consumer`) and writes each batch to D1 in one transaction (`store`: the later-received
//! delivery of a call wins); what fails every retry is kept for an operator (`dead_letters`). Access is
//! checked before (by `http`, with `access`: an ingest key). Uses `time`, `json`, `call` and `platform`.

use std::fmt;

use serde::Serialize;

use crate::ingest::delivery::Delivery;
use crate::ingest::webhook::BodyError;
use crate::platform::{Platform, PlatformError};
use crate::time::timestamp::format_millis;

pub mod consumer;
pub mod dead_letters;
pub mod delivery;
pub mod store;
pub mod webhook;

/// The calls queue's producer binding.
pub const QUEUE: &str = "CALLS";

/// The dead-letter queue's name (`wrangler.toml`: the calls consumer's `dead_letter_queue`); its batches
/// are kept in KV, every other queue's are deliveries.
pub const DEAD_LETTER_QUEUE: &str = "call-analytics-calls-dead";

/// The most body a webhook may send: a long call's transcript is a few hundred KB, so no real call comes
/// near it. More is a 413, and is never read further than this.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

pub const ACCEPTED_MESSAGE: &str = "Call accepted";

/// Why a webhook was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestError {
    /// A body that can never be counted (400).
    Body(BodyError),
    /// The queue did not take it (5xx: the platform sends it again).
    Queue(PlatformError),
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IngestError::Body(error) => error.fmt(f),
            IngestError::Queue(error) => error.fmt(f),
        }
    }
}

/// A queue message as the runtime hands it over (to `consumer`, and to `dead_letters` to keep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The queue's id for it.
    pub id: String,
    /// Its body, when it is text.
    pub body: Option<String>,
    /// How many times it has been delivered, this time included.
    pub attempts: u32,
}

/// `data` of a 202.
#[derive(Debug, Serialize)]
pub struct Accepted {
    pub room_name: String,
    pub received_at: String,
}

/// Accepts a webhook body (UTF-8 text) received at `now_millis` by request `request_id`.
pub async fn accept<P: Platform>(
    platform: &P,
    body: &str,
    now_millis: i64,
    request_id: &str,
) -> Result<Accepted, IngestError> {
    let call = webhook::read(body).map_err(IngestError::Body)?;
    let delivery = Delivery {
        call,
        received_at: now_millis,
        request: request_id.to_owned(),
    };
    platform.send(QUEUE, &[delivery.encode()]).await.map_err(IngestError::Queue)?;
    Ok(Accepted {
        room_name: delivery.call.id,
        received_at: format_millis(now_millis),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::memory::{block_on, MemoryPlatform, NOW};

    #[test]
    fn wrangler_toml_dead_letters_the_calls_queue_into_the_queue_kept_here() {
        let config = include_str!("../../wrangler.toml");
        assert!(config.contains(&format!("dead_letter_queue = \"{DEAD_LETTER_QUEUE}\"")));
        assert!(config.contains(&format!("[[queues.consumers]]\nqueue = \"{DEAD_LETTER_QUEUE}\"")));
        assert!(config.contains(&format!("binding = \"{QUEUE}\"")));
        assert!(config.contains(&format!("binding = \"{}\"", dead_letters::BINDING)));
    }

    const BODY: &str = r#"{"success":true,"data":{"room_name":"asst_1","started_at":"2026-10-31T23:59:00Z","call_duration_minutes":2,"transcripts":[{"text":"a private conversation"}],"to_number":"+919999999999","recording_path":"https://rec/1"}}"#;

    #[test]
    fn sends_only_what_the_report_stores_and_answers_when_the_queue_has_it() {
        let platform = MemoryPlatform::new();
        let accepted = block_on(accept(&platform, BODY, NOW as i64, "req-7")).unwrap();
        assert_eq!((accepted.room_name.as_str(), accepted.received_at.as_str()), ("asst_1", "2026-11-01T00:00:00.000Z"));
        let sent = platform.sent();
        assert_eq!(sent.len(), 1);
        let (binding, messages) = &sent[0];
        assert_eq!((binding.as_str(), messages.len()), (QUEUE, 1));
        for private in ["private conversation", "+919999999999", "rec/1"] {
            assert!(!messages[0].contains(private), "{private} never leaves the request");
        }
        assert!(messages[0].len() < 400, "{}", messages[0]);
        assert_eq!(Delivery::decode(&messages[0]).unwrap().received_at, NOW as i64);
    }

    #[test]
    fn a_body_that_can_never_be_counted_is_refused_before_the_queue() {
        let platform = MemoryPlatform::new();
        let result = block_on(accept(&platform, r#"{"data":{"room_name":"r"}}"#, NOW as i64, "req-8"));
        assert!(matches!(result, Err(IngestError::Body(BodyError { field: "data.started_at", .. }))));
        assert!(platform.sent().is_empty());
    }

    #[test]
    fn a_queue_that_does_not_take_it_is_our_failure() {
        let platform = MemoryPlatform::new().with_failing_queue();
        assert!(matches!(block_on(accept(&platform, BODY, NOW as i64, "req-9")), Err(IngestError::Queue(_))));
    }
}
