//! A delivery: one call as the webhook accepted it, with when and by which request, as it travels through
//! the queue. Only what the report stores goes in it (a few hundred bytes: never the transcript, the
//! recording or the caller's number). When two deliveries of a call meet, the later-received one wins:
//! `(received_at, request)`, compared in that order.

use serde::Serialize;

use crate::call::email::UserEmail;
use crate::call::record::{CallRecord, Field};
use crate::json::{self, Value};

/// The message format's version, for a consumer meeting messages of an older worker.
const VERSION: &str = "1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub call: CallRecord,
    /// When the webhook accepted it, in epoch milliseconds.
    pub received_at: i64,
    /// The id of the request that accepted it (ties within a millisecond are broken by it).
    pub request: String,
}

#[derive(Serialize)]
struct Message<'a> {
    v: &'a str,
    id: &'a str,
    owner: Option<&'a str>,
    platform: &'a str,
    number: Option<&'a str>,
    started_at: i64,
    duration_ms: i64,
    received_at: i64,
    request: &'a str,
}

impl Delivery {
    /// Whether this delivery wins over `other` (of the same call).
    pub fn is_later_than(&self, other: &Delivery) -> bool {
        (self.received_at, &self.request) > (other.received_at, &other.request)
    }

    /// The queue message's text.
    pub fn encode(&self) -> String {
        let call = &self.call;
        serde_json::to_string(&Message {
            v: VERSION,
            id: &call.id,
            owner: call.owner.as_ref().map(UserEmail::as_str),
            platform: &call.platform,
            number: call.platform_number.as_deref(),
            started_at: call.started_at,
            duration_ms: call.duration_millis,
            received_at: self.received_at,
            request: &self.request,
        })
        .unwrap_or_default()
    }

    /// A queue message's text read back; `Err` says why it is not a delivery (the call is checked against
    /// the record rule again, whoever sent it).
    pub fn decode(text: &str) -> Result<Self, String> {
        let mut fields: [Option<Value<'_>>; 9] = Default::default();
        const NAMES: [&str; 9] = ["v", "id", "owner", "platform", "number", "started_at", "duration_ms", "received_at", "request"];
        json::document(text, |json| {
            json.object(|json, name| match NAMES.iter().position(|n| *n == name) {
                Some(i) => json.value().map(|value| fields[i] = Some(value)),
                None => json.skip(),
            })
        })?;
        let [v, id, owner, platform, number, started_at, duration_ms, received_at, request] = fields;
        let bad = |name: &str| format!("{name} is not what a delivery holds");
        let text = |value: Option<Value<'_>>, name: &str| match value {
            Some(Value::Str(text)) => Ok(text),
            _ => Err(bad(name)),
        };
        let optional = |value: Option<Value<'_>>, name: &str| match value {
            None | Some(Value::Null) => Ok(None),
            other => text(other, name).map(Some),
        };
        let integer = |value: Option<Value<'_>>, name: &str| match value {
            Some(Value::Number(n)) => n.parse::<i64>().map_err(|_| bad(name)),
            _ => Err(bad(name)),
        };
        if text(v, "v")? != VERSION {
            return Err(bad("v"));
        }
        let owner = optional(owner, "owner")?.map(|email| UserEmail::parse(&email).map_err(|_| bad("owner"))).transpose()?;
        let call = CallRecord::new(
            &text(id, "id")?,
            owner,
            &text(platform, "platform")?,
            optional(number, "number")?.as_deref(),
            integer(started_at, "started_at")?,
            integer(duration_ms, "duration_ms")?,
        )
        .map_err(|error| {
            // The message's own names for the fields the rule names by column.
            bad(match error.0 {
                Field::Id => "id",
                Field::Platform => "platform",
                Field::PlatformNumber => "number",
                Field::StartedAt => "started_at",
                Field::Duration => "duration_ms",
                Field::UserId | Field::UserEmail => "owner", // never met: the owner is already a UserEmail
            })
        })?;
        Ok(Delivery {
            call,
            received_at: integer(received_at, "received_at")?,
            request: text(request, "request")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn delivery(id: &str, received_at: i64, request: &str) -> Delivery {
        Delivery {
            call: CallRecord::new(id, UserEmail::parse("a@example.com").ok(), "exotel", Some("080"), 1_796_030_102_374, 330_000).unwrap(),
            received_at,
            request: request.into(),
        }
    }

    #[test]
    fn round_trips_through_its_text_and_holds_only_what_the_report_stores() {
        let sent = delivery("asst_1", 1_796_030_105_000, "req-1");
        let text = sent.encode();
        assert_eq!(
            text,
            r#"{"v":"1","id":"asst_1","owner":"a@example.com","platform":"exotel","number":"080","started_at":1796030102374,"duration_ms":330000,"received_at":1796030105000,"request":"req-1"}"#
        );
        assert_eq!(Delivery::decode(&text), Ok(sent));
        let no_owner = Delivery { call: CallRecord { owner: None, platform_number: None, ..delivery("x", 1, "r").call }, ..delivery("x", 1, "r") };
        assert_eq!(Delivery::decode(&no_owner.encode()), Ok(no_owner));
    }

    #[test]
    fn the_later_received_wins_and_ties_go_by_request() {
        assert!(delivery("c", 2, "a").is_later_than(&delivery("c", 1, "z")));
        assert!(!delivery("c", 1, "z").is_later_than(&delivery("c", 2, "a")));
        assert!(delivery("c", 1, "b").is_later_than(&delivery("c", 1, "a")));
        assert!(!delivery("c", 1, "a").is_later_than(&delivery("c", 1, "a")), "the same delivery is not later than itself");
    }

    #[test]
    fn refuses_what_is_not_a_delivery() {
        let good = delivery("c", 1, "r").encode();
        for (bad, why) in [
            ("{}".to_owned(), "v is not what a delivery holds"),
            (good.replace(r#""v":"1""#, r#""v":"2""#), "v is not what a delivery holds"),
            (good.replace("1796030102374", "946684799999"), "started_at is not what a delivery holds"),
            (good.replace("330000", "604800001"), "duration_ms is not what a delivery holds"),
            (good.replace(r#""id":"c""#, r#""id":" c""#), "id is not what a delivery holds"),
            (good.replace("330000", "3.5"), "duration_ms is not what a delivery holds"),
            ("not json".to_owned(), "expected"),
        ] {
            let error = Delivery::decode(&bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }
}
