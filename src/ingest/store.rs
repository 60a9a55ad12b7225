//! Deliveries written into D1, as statements for one `batch()` (one transaction): their owners first (a new
//! email makes a new user, whose id follows from the email, so two first deliveries for it make one user;
//! an email D1 already has, whoever stored it, is that user), then the calls. A call is inserted, or it
//! replaces the stored one only when this delivery was received later (`calls.received_at`, then
//! `calls.delivery`; a call the loader wrote has neither, and any delivery replaces it): the same delivery
//! twice changes nothing, and the later-received one wins in whichever order the queue hands them over.
//! The rollups follow through the triggers of `migrations/`, exactly.

use crate::call::email::UserEmail;
use crate::ingest::delivery::Delivery;
use crate::platform::{Param, Statement};

/// The user a call without an owner belongs to (`migrations/0005`): its email is no address, so no
/// `user_email` filter can name it.
pub const NO_OWNER: &str = "(no owner)";

/// Rows travel as one bound JSON array per statement (read with `json_each`), at most this big, so a
/// statement stays under D1's 100 KB.
const MAX_JSON_BYTES: usize = 90_000;

const USERS: &str = "INSERT INTO users (id, email) \
     SELECT '@' || lower(value), value FROM json_each(?1) WHERE true ON CONFLICT DO NOTHING";

const CALLS: &str = "INSERT INTO calls (id, user_id, platform, platform_number, started_at, duration_seconds, received_at, delivery) \
     SELECT value ->> 'id', coalesce((SELECT u.id FROM users AS u WHERE u.email = value ->> 'owner'), '(no owner)'), \
     value ->> 'platform', value ->> 'number', value ->> 'started_at', (value ->> 'duration_ms') / 1000.0, \
     value ->> 'received_at', value ->> 'request' FROM json_each(?1) WHERE true \
     ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform, \
     platform_number = excluded.platform_number, started_at = excluded.started_at, \
     duration_seconds = excluded.duration_seconds, received_at = excluded.received_at, delivery = excluded.delivery \
     WHERE calls.received_at IS NULL OR (excluded.received_at, excluded.delivery) > (calls.received_at, calls.delivery) \
     RETURNING id";

/// The latest-received delivery of each call, in the order the calls first appear. (A batch holds at most a
/// hundred: a linear search is cheaper than a hash map's code in the wasm.)
pub fn latest(deliveries: &[Delivery]) -> Vec<&Delivery> {
    let mut latest: Vec<&Delivery> = Vec::new();
    for delivery in deliveries {
        match latest.iter_mut().find(|kept| kept.call.id == delivery.call.id) {
            Some(kept) if delivery.is_later_than(kept) => *kept = delivery,
            Some(_) => {}
            None => latest.push(delivery),
        }
    }
    latest
}

/// JSON arrays of `items`, each at most [`MAX_JSON_BYTES`].
fn chunks(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut chunk = String::from("[");
    for item in items {
        if chunk.len() > 1 && chunk.len() + item.len() + 2 > MAX_JSON_BYTES {
            chunks.push(std::mem::replace(&mut chunk, String::from("[")) + "]");
        }
        if chunk.len() > 1 {
            chunk.push(',');
        }
        chunk.push_str(&item);
    }
    if chunk.len() > 1 {
        chunks.push(chunk + "]");
    }
    chunks
}

fn statement(sql: &str, json: String, columns: &'static [&'static str]) -> Statement {
    Statement {
        sql: sql.to_owned(),
        params: vec![Param::Text(json)],
        columns,
    }
}

/// The statements writing `deliveries` (the latest of each call): users, then calls, in one batch. The
/// calls statements return the id of each call they inserted or replaced.
pub fn statements(deliveries: &[Delivery]) -> Vec<Statement> {
    let latest = latest(deliveries);
    let mut owners: Vec<&str> = Vec::new();
    for owner in latest.iter().filter_map(|d| d.call.owner.as_ref().map(UserEmail::as_str)) {
        if !owners.contains(&owner) {
            owners.push(owner);
        }
    }
    let users = chunks(owners.iter().map(|email| serde_json::to_string(email).unwrap_or_default()));
    // Each row is the delivery's own message (its `v` unread): one format for the queue and for D1.
    let rows = latest.iter().map(|delivery| delivery.encode());
    let calls = chunks(rows);
    users
        .into_iter()
        .map(|json| statement(USERS, json, &[]))
        .chain(calls.into_iter().map(|json| statement(CALLS, json, &["id"])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::record::CallRecord;

    fn delivery(id: &str, owner: Option<&str>, received_at: i64, request: &str) -> Delivery {
        Delivery {
            call: CallRecord::new(id, owner.map(|o| UserEmail::parse(o).unwrap()), "exotel", Some("080"), 1_796_030_102_374, 60_000).unwrap(),
            received_at,
            request: request.into(),
        }
    }

    #[test]
    fn keeps_the_latest_received_delivery_of_each_call() {
        let all = [
            delivery("a", None, 5, "r1"),
            delivery("b", None, 1, "r2"),
            delivery("a", None, 3, "r3"),
            delivery("a", None, 5, "r4"),
            delivery("b", None, 1, "r2"),
        ];
        let kept: Vec<(&str, &str)> = latest(&all).iter().map(|d| (d.call.id.as_str(), d.request.as_str())).collect();
        assert_eq!(kept, [("a", "r4"), ("b", "r2")]);
    }

    /// The statements' text and parameters; what they do in D1 is `tests/e2e/webhook.test.mjs`'s.
    #[test]
    fn writes_owners_then_calls_as_bound_json() {
        let statements = super::statements(&[
            delivery("a", Some("Alice@Example.com"), 1, "r1"),
            delivery("b", None, 2, "r2"),
            delivery("c", Some("Alice@Example.com"), 3, "r3"),
        ]);
        assert_eq!(statements.len(), 2);
        assert_eq!(statements[0].params, vec![Param::Text(r#"["Alice@Example.com"]"#.into())]);
        assert!(statements[0].sql.contains("ON CONFLICT DO NOTHING"));
        let Param::Text(calls) = &statements[1].params[0] else { panic!() };
        assert_eq!(
            calls,
            concat!(
                r#"[{"v":"1","id":"a","owner":"Alice@Example.com","platform":"exotel","number":"080","started_at":1796030102374,"duration_ms":60000,"received_at":1,"request":"r1"},"#,
                r#"{"v":"1","id":"b","owner":null,"platform":"exotel","number":"080","started_at":1796030102374,"duration_ms":60000,"received_at":2,"request":"r2"},"#,
                r#"{"v":"1","id":"c","owner":"Alice@Example.com","platform":"exotel","number":"080","started_at":1796030102374,"duration_ms":60000,"received_at":3,"request":"r3"}]"#
            )
        );
        assert!(statements[1].sql.contains(NO_OWNER));
        assert!(statements[1].sql.contains("(excluded.received_at, excluded.delivery) > (calls.received_at, calls.delivery)"));
        assert!(super::statements(&[]).is_empty());
    }

    #[test]
    fn splits_big_batches_under_d1_s_statement_size() {
        let long = "x".repeat(250);
        let many: Vec<Delivery> = (0..400).map(|i| delivery(&format!("{long}{i}"), None, i, "r")).collect();
        let statements = super::statements(&many);
        assert!(statements.len() >= 2, "{}", statements.len());
        let mut ids = 0;
        for statement in &statements {
            let Param::Text(json) = &statement.params[0] else { panic!() };
            assert!(json.len() <= MAX_JSON_BYTES);
            ids += json.matches(r#""id":"#).count();
        }
        assert_eq!(ids, 400);
    }
}
