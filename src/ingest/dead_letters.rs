//! Deliveries that failed every retry, kept in their own KV namespace (not in D1, which may be what failed)
//! until an operator replays them: `POST /admin/dead-letters/replay` sends them back to the calls queue,
//! where they are written as any delivery is (the later-received one of a call still wins: a delivery keeps
//! the instant it was first received). `scripts/dead-letters.mjs` is the operator's command: `list` reads
//! the namespace itself (names and the call ids kept as metadata: nothing personal), `replay` calls the
//! route. A message that is not a delivery at all is kept too, as `unreadable:`, for an operator to read; it
//! is never replayed.

use serde::Serialize;

use crate::ingest::delivery::Delivery;
use crate::ingest::{Message, QUEUE};
use crate::platform::{Platform, PlatformError};

/// The KV namespace of dead letters.
pub const BINDING: &str = "DEAD_LETTERS";
/// How many dead letters one replay handles (the queue takes at most 100 messages per send).
pub const PAGE: u32 = 100;

const DELIVERY: &str = "call:";
const UNREADABLE: &str = "unreadable:";

/// `data` of a replay.
#[derive(Debug, Serialize)]
pub struct Replayed {
    pub replayed: usize,
    /// Whether deliveries are left to replay (run it again).
    pub more: bool,
}

/// Keeps a dead-lettered message: a delivery under `call:<received_at>:<request>` (names sort in the order
/// they were received) with the call's id as its metadata, anything else under `unreadable:<message id>`.
pub async fn keep<P: Platform>(platform: &P, message: &Message) -> Result<(), PlatformError> {
    let body = message.body.as_deref().unwrap_or("");
    match Delivery::decode(body) {
        Ok(delivery) => {
            let name = format!("{DELIVERY}{:015}:{}", delivery.received_at, delivery.request);
            platform.kv_put(BINDING, &name, body, &metadata(&delivery.call.id)).await
        }
        Err(_) => platform.kv_put(BINDING, &format!("{UNREADABLE}{}", message.id), body, "{}").await,
    }
}

/// KV keeps at most 1,024 bytes of metadata; a call id of the record rule's 256 characters can take more as
/// JSON (four-byte characters, or escapes). The id, as JSON text of at most this many bytes: whole if it
/// fits, else its first characters and `…` (a listing's label; the value keeps the whole call).
const MAX_METADATA_BYTES: usize = 1_000;

fn metadata(call: &str) -> String {
    let whole = serde_json::to_string(call).unwrap_or_default();
    if whole.len() <= MAX_METADATA_BYTES {
        return whole;
    }
    let mut cut = String::new();
    for c in call.chars() {
        cut.push(c);
        if serde_json::to_string(&cut).map_or(0, |json| json.len()) > MAX_METADATA_BYTES - 8 {
            cut.pop();
            break;
        }
    }
    serde_json::to_string(&format!("{cut}…")).unwrap_or_default()
}

/// Sends the first [`PAGE`] kept deliveries back to the calls queue, then forgets them.
pub async fn replay<P: Platform>(platform: &P) -> Result<Replayed, PlatformError> {
    let page = platform.kv_list(BINDING, DELIVERY, PAGE + 1).await?;
    let more = page.len() > PAGE as usize;
    let mut names = Vec::new();
    let mut bodies = Vec::new();
    for entry in page.into_iter().take(PAGE as usize) {
        if let Some(body) = platform.kv_get(BINDING, &entry.name).await? {
            bodies.push(body);
            names.push(entry.name);
        }
    }
    if !bodies.is_empty() {
        platform.send(QUEUE, &bodies).await?;
    }
    // Only once the queue has them: a failure between the two replays a delivery twice, which changes nothing.
    for name in &names {
        platform.kv_delete(BINDING, name).await?;
    }
    Ok(Replayed { replayed: names.len(), more })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::consumer;
    use crate::platform::memory::{block_on, MemoryPlatform};

    fn dead(platform: &MemoryPlatform, count: usize) -> Vec<String> {
        let bodies: Vec<String> = (0..count)
            .map(|i| {
                format!(
                    r#"{{"v":"1","id":"c{i}","owner":null,"platform":"sip","number":"+91","started_at":1796030102374,"duration_ms":60000,"received_at":{},"request":"r{i}"}}"#,
                    1_796_030_105_000 + i as i64
                )
            })
            .collect();
        let messages: Vec<Message> = bodies.iter().enumerate().map(|(i, b)| Message { id: format!("m{i}"), body: Some(b.clone()), attempts: 11 }).collect();
        block_on(consumer::dead_letters(platform, &messages));
        bodies
    }

    #[test]
    fn replays_deliveries_a_page_at_a_time_into_the_calls_queue() {
        let platform = MemoryPlatform::new();
        let bodies = dead(&platform, (PAGE + 5) as usize);
        block_on(keep(&platform, &Message { id: "m-junk".into(), body: Some("junk".into()), attempts: 11 })).unwrap();
        let first = block_on(replay(&platform)).unwrap();
        assert_eq!((first.replayed, first.more), (PAGE as usize, true));
        let second = block_on(replay(&platform)).unwrap();
        assert_eq!((second.replayed, second.more), (5, false));
        let sent: Vec<String> = platform.sent().into_iter().flat_map(|(binding, messages)| {
            assert_eq!(binding, QUEUE);
            messages
        }).collect();
        let mut expected = bodies.clone();
        expected.sort_by_key(|b| b[b.find("received_at").unwrap()..].to_owned());
        assert_eq!(sent, expected, "every delivery once, as it was received");
        assert_eq!(platform.kv_entry(BINDING, "call:001796030105000:r0"), None, "forgotten once sent");
        assert_eq!(platform.kv_entry(BINDING, "unreadable:m-junk").map(|(v, _)| v), Some("junk".into()), "never replayed");
    }

    #[test]
    fn a_call_id_too_long_for_kv_metadata_is_listed_by_its_start() {
        assert_eq!(metadata("c1"), r#""c1""#);
        let wide = "😀".repeat(256); // 1,024 bytes of UTF-8, 1,026 as JSON
        let kept = metadata(&wide);
        assert!(kept.len() <= MAX_METADATA_BYTES && kept.ends_with("…\""), "{}", kept.len());
        let escaped = "\u{1}".repeat(256); // 6 bytes each as JSON
        assert!(metadata(&escaped).len() <= MAX_METADATA_BYTES);
    }

    #[test]
    fn a_failed_send_forgets_nothing() {
        let platform = MemoryPlatform::new().with_failing_queue();
        dead(&platform, 3);
        assert!(block_on(replay(&platform)).is_err());
        for i in 0..3 {
            assert!(platform.kv_entry(BINDING, &format!("call:00179603010500{i}:r{i}")).is_some());
        }
    }
}
