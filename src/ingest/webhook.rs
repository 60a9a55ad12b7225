//! The platform's end-call webhook body, read leniently into a call that keeps the record rule.
//!
//! The body is the platform's envelope `{"success", "message", "data": {...the call record...}}`; only
//! `data` matters, and of it only: `room_name` (the call's id), `started_at` (an RFC 3339 instant, with `Z`
//! or an offset, 1 to 9 digits of a fraction of a second), `call_duration_minutes` (a number of minutes, or a numeric
//! string; null or missing is 0), `created_by_email` (the owner), `call_type` and `call_service` (`web`
//! makes a web call), `platform_number`. Everything else (the transcript, the recording, `to_number`...) is
//! skipped unread, and so are values of a type we do not expect in fields we can do without. Mapping:
//! - id ← `room_name`; start ← `started_at` (to the millisecond, digits past it dropped);
//! - duration ← `call_duration_minutes` in exact milliseconds (from its decimal text, rounded half away
//!   from zero), null as 0;
//! - owner ← `created_by_email` when it is an address `user_email` can filter by; otherwise (null, missing,
//!   or an address no filter could ever match) the call has no owner: it counts in every cross-tenant total
//!   and in no user's;
//! - platform ← `web` when `call_type` or `call_service` is `web` (any case, spaces around ignored), else
//!   `call_service`, else `call_type` (each only when it is 1 to 64 characters, not blank), else `unknown`;
//!   the bucket rule then makes it `WEB_CALL`, the number, or `UNKNOWN_PLATFORM`;
//! - number ← `platform_number` as sent (a number is taken as its digits); the bucket rule trims it.

use std::fmt;

use crate::call::email::UserEmail;
use crate::call::record::{check_platform, CallRecord, Field, MAX_DURATION_MILLIS};
use crate::json::{self, Value};
use crate::time::timestamp::parse_instant;

/// Why a body can never be counted (400): the field, and what it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError {
    pub field: &'static str,
    pub expected: &'static str,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid {}: expected {}", self.field, self.expected)
    }
}

const BODY: BodyError = BodyError {
    field: "body",
    expected: "the platform's end-call envelope as JSON, {\"data\": {\"room_name\": ..., \"started_at\": ...}}",
};
const DATA: BodyError = BodyError { field: "data", expected: "an object holding the call record" };
const ROOM_NAME: BodyError = BodyError {
    field: "data.room_name",
    expected: "the call's id, a string of 1 to 256 characters without surrounding whitespace",
};
const STARTED_AT: BodyError = BodyError {
    field: "data.started_at",
    expected: "an RFC 3339 instant with Z or an offset (2026-11-30T09:15:02.374000Z), from 2000-01-01 up to 2100-01-01",
};
const DURATION: BodyError = BodyError {
    field: "data.call_duration_minutes",
    expected: "a number of minutes from 0 to one week (10080), or null",
};
const PLATFORM_NUMBER: BodyError = BodyError {
    field: "data.platform_number",
    expected: "at most 64 characters once trimmed, or null",
};

/// The members of `data` a call is made of, as sent.
#[derive(Default)]
struct Sent<'a> {
    room_name: Option<Value<'a>>,
    started_at: Option<Value<'a>>,
    duration: Option<Value<'a>>,
    email: Option<Value<'a>>,
    call_type: Option<Value<'a>>,
    call_service: Option<Value<'a>>,
    platform_number: Option<Value<'a>>,
}

/// Reads a webhook body into the call it reports.
pub fn read(body: &str) -> Result<CallRecord, BodyError> {
    let mut sent = Sent::default();
    let mut has_data = false;
    json::document(body, |json| {
        json.object(|json, name| {
            if name != "data" {
                return json.skip();
            }
            // As JSON.parse does, the last `data` is the one that counts, whole.
            sent = Sent::default();
            has_data = json.at_object();
            if !has_data {
                return json.skip();
            }
            json.object(|json, name| {
                let slot = match name.as_str() {
                    "room_name" => &mut sent.room_name,
                    "started_at" => &mut sent.started_at,
                    "call_duration_minutes" => &mut sent.duration,
                    "created_by_email" => &mut sent.email,
                    "call_type" => &mut sent.call_type,
                    "call_service" => &mut sent.call_service,
                    "platform_number" => &mut sent.platform_number,
                    _ => return json.skip(),
                };
                // As JSON.parse does, the last of a repeated member counts.
                *slot = Some(json.value()?);
                Ok(())
            })
        })
    })
    .map_err(|_| BODY)?;
    if !has_data {
        return Err(DATA);
    }
    call(sent)
}

fn text<'v>(value: &'v Option<Value<'_>>) -> Option<&'v str> {
    match value {
        Some(Value::Str(text)) => Some(text),
        _ => None,
    }
}

fn call(sent: Sent<'_>) -> Result<CallRecord, BodyError> {
    let id = text(&sent.room_name).ok_or(ROOM_NAME)?;
    let started_at = text(&sent.started_at).and_then(|at| parse_instant(at).ok()).ok_or(STARTED_AT)?;
    let duration_millis = match &sent.duration {
        None | Some(Value::Null) => 0,
        Some(Value::Number(number)) => minutes_to_millis(number).ok_or(DURATION)?,
        Some(Value::Str(number)) => minutes_to_millis(number.trim()).ok_or(DURATION)?,
        Some(_) => return Err(DURATION),
    };
    let owner = text(&sent.email).and_then(|email| UserEmail::parse(email).ok());
    let is_web = |value: Option<&str>| value.is_some_and(|v| v.trim().eq_ignore_ascii_case("web"));
    let (call_type, call_service) = (text(&sent.call_type), text(&sent.call_service));
    // The platform only tells web calls from the rest: a value it cannot hold is passed over, never a 400.
    let platform = if is_web(call_type) || is_web(call_service) {
        "web"
    } else {
        [call_service, call_type]
            .into_iter()
            .flatten()
            .find(|value| check_platform(value).is_ok())
            .unwrap_or("unknown")
    };
    let number = match &sent.platform_number {
        Some(Value::Str(number)) => Some(number.as_str()),
        Some(Value::Number(digits)) => Some(*digits),
        _ => None,
    };
    CallRecord::new(id, owner, platform, number, started_at, duration_millis).map_err(|error| match error.0 {
        Field::Id => ROOM_NAME,
        Field::StartedAt => STARTED_AT,
        Field::Duration => DURATION,
        Field::PlatformNumber => PLATFORM_NUMBER,
        // Never met: the platform is chosen among values the rule keeps, and the owner is already a UserEmail.
        Field::Platform | Field::UserId | Field::UserEmail => BODY,
    })
}

/// Minutes, as JSON number text, in whole milliseconds rounded half away from zero; `None` when not a
/// number, negative, or beyond a week. From the decimal digits, not through a float, and exact: the first 30
/// digits of the fraction decide (a float's shortest text, such as 0.00014166666666666668 for 8.5 ms, has
/// at most 17 significant ones; past 30 they are below 10^-25 ms and dropped).
pub fn minutes_to_millis(text: &str) -> Option<i64> {
    const FRACTION_DIGITS: i64 = 30;
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], rest[at + 1..].parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digit = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digit(whole) || !digit(fraction) || mantissa.ends_with('.') {
        return None;
    }
    // Each digit by its place (10^place minutes): whole minutes below 10^5 (more is beyond a week), and the
    // fraction's first FRACTION_DIGITS digits as a count of 10^-FRACTION_DIGITS minutes.
    let point = i64::from(exponent) + whole.len() as i64;
    let (mut minutes, mut parts) = (0u64, 0u128);
    for (i, d) in whole.bytes().chain(fraction.bytes()).enumerate() {
        let (d, place) = (u64::from(d - b'0'), point - 1 - i as i64);
        if d == 0 || place < -FRACTION_DIGITS {
            continue;
        }
        if place >= 5 || negative {
            return None;
        }
        if place >= 0 {
            minutes += d * 10u64.pow(place as u32);
        } else {
            parts += u128::from(d) * 10u128.pow((FRACTION_DIGITS + place) as u32);
        }
    }
    let unit = 10u128.pow(FRACTION_DIGITS as u32);
    let scaled = parts * 60_000;
    let fraction_millis = u64::try_from(scaled / unit + u128::from(scaled % unit >= unit / 2)).ok()?;
    let millis = minutes * 60_000 + fraction_millis;
    i64::try_from(millis).ok().filter(|&millis| millis <= MAX_DURATION_MILLIS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(data: &str) -> String {
        format!(r#"{{"success":true,"message":"Call completed","data":{data}}}"#)
    }

    #[test]
    fn reads_minutes_exactly() {
        for (text, millis) in [
            ("5.5", Some(330_000)),
            ("0", Some(0)),
            ("-0", Some(0)),
            ("0.1", Some(6_000)),
            ("12.3456789", Some(740_741)), // 740,740.734 ms
            ("0.0000083", Some(0)),         // 0.498 ms
            ("0.00000834", Some(1)),        // 0.5004 ms: half a millisecond rounds up
            ("0.00014166666666666668", Some(9)), // 8.500000000000000008 ms: JS's text for 8.5 / 60000
            ("0.000141666666666666", Some(8)),   // 8.49999999999999996 ms
            ("0.0000083333333333333333333333333333333333", Some(0)),
            ("1e1", Some(600_000)),
            ("1.5E-2", Some(900)),
            ("10080", Some(604_800_000)),
            ("10080.0000001", Some(604_800_000)),
            ("10080.00001", None), // 604,800,000.6 ms: past a week
            ("1e300", None),
            ("-1", None),
            ("-0.0001", None),
            ("1e-400", Some(0)),
            ("abc", None),
            ("1.", None),
            (".5", None),
            ("", None),
            ("1e", None),
        ] {
            assert_eq!(minutes_to_millis(text), millis, "{text}");
        }
    }

    #[test]
    fn maps_the_spec_s_new_shape() {
        let body = envelope(
            r#"{"room_name":"asst_1a2b3c4d","started_at":"2026-11-30T09:15:02.374000Z","ended_at":"2026-11-30T09:20:32Z",
                "call_duration_minutes":5.5,"billable_duration_minutes":6,"created_by_email":" Alice@Example.com ",
                "call_type":"outbound","call_service":"exotel","platform_number":"08012345678","to_number":"+919999999999",
                "call_status":"completed","transcripts":[{"speaker":"agent","text":"Hello \"there\"","timestamp":"..."}],
                "usage":{"llm_total_tokens":1200,"mode":"x"},"is_passthrough":false,"queue_id":null}"#,
        );
        let call = read(&body).unwrap();
        assert_eq!(call.id, "asst_1a2b3c4d");
        assert_eq!(call.owner.as_ref().map(UserEmail::as_str), Some("Alice@Example.com"));
        assert_eq!((call.platform.as_str(), call.platform_number.as_deref()), ("exotel", Some("08012345678")));
        assert_eq!(call.started_at, 1_796_030_102_374);
        assert_eq!(call.duration_millis, 330_000);
    }

    #[test]
    fn is_lenient_about_what_the_report_does_not_need() {
        // The docs' quick test: most fields missing.
        let call = read(&envelope(r#"{"room_name":"test-room","started_at":"2026-11-30T09:15:02Z"}"#)).unwrap();
        assert_eq!((call.owner, call.platform.as_str(), call.platform_number, call.duration_millis), (None, "unknown", None, 0));
        // Nulls everywhere, a new call_status, values of unexpected types in fields we can do without.
        let call = read(&envelope(
            r#"{"room_name":"r","started_at":"2026-11-30T09:15:02+05:30","call_duration_minutes":null,"created_by_email":null,
                "call_type":null,"call_service":null,"platform_number":null,"call_status":"voicemail","transcripts":null,
                "usage":"n/a","sip_status_code":"486"}"#,
        ))
        .unwrap();
        assert_eq!((call.started_at, call.duration_millis), (1_796_010_302_000, 0));
        assert_eq!(read(&envelope(r#"{"room_name":"r","started_at":"2026-11-30T09:15:02Z","created_by_email":7,"call_type":["web"]}"#)).unwrap().owner, None);
        // A numeric string of minutes, and a number as the platform number.
        let call = read(&envelope(r#"{"room_name":"r","started_at":"2026-11-30T09:15:02Z","call_duration_minutes":" 2.25 ","platform_number":14155550100}"#)).unwrap();
        assert_eq!((call.duration_millis, call.platform_number.as_deref()), (135_000, Some("14155550100")));
        // The envelope's own members do not matter, and no data member is a 400 naming data.
        assert!(read(r#"{"data":{"room_name":"r","started_at":"2026-11-30T09:15:02Z"}}"#).is_ok());
        assert_eq!(read(r#"{"success":true}"#), Err(DATA));
        assert_eq!(read(r#"{"data":"room"}"#), Err(DATA));
        // Of a repeated data, the last counts, whole.
        let twice = r#"{"data":{"room_name":"a","started_at":"2026-11-30T09:15:02Z","created_by_email":"a@x.io"},"data":{"room_name":"b","started_at":"2026-11-30T09:15:02Z"}}"#;
        let call = read(twice).unwrap();
        assert_eq!((call.id.as_str(), call.owner), ("b", None));
        assert_eq!(read(r#"{"data":{"room_name":"a","started_at":"2026-11-30T09:15:02Z"},"data":null}"#), Err(DATA));
    }

    #[test]
    fn buckets_as_the_platform_s_own_report() {
        let bucket = |members: &str| {
            let call = read(&envelope(&format!(r#"{{"room_name":"r","started_at":"2026-11-30T09:15:02Z",{members}}}"#))).unwrap();
            (call.platform, call.platform_number)
        };
        assert_eq!(bucket(r#""call_type":"web","platform_number":"+1""#), ("web".into(), Some("+1".into())));
        assert_eq!(bucket(r#""call_type":"outbound","call_service":" WEB ""#), ("web".into(), None));
        assert_eq!(bucket(r#""call_type":"inbound","call_service":"twilio","platform_number":" +14155550100 ""#), ("twilio".into(), Some(" +14155550100 ".into())));
        assert_eq!(bucket(r#""call_type":"inbound","platform_number":"  ""#), ("inbound".into(), None));
        assert_eq!(bucket(r#""call_service":"","call_type":"""#), ("unknown".into(), None));
        // A value the platform cannot hold is passed over: the call still counts.
        let long = "s".repeat(65);
        assert_eq!(bucket(&format!(r#""call_service":"{long}","call_type":"inbound""#)), ("inbound".into(), None));
        assert_eq!(bucket(&format!(r#""call_service":"{long}""#)), ("unknown".into(), None));
    }

    #[test]
    fn an_address_no_filter_could_match_leaves_the_call_without_an_owner() {
        for email in [r#""not an email""#, r#""a@b@c""#, r#""""#] {
            let call = read(&envelope(&format!(r#"{{"room_name":"r","started_at":"2026-11-30T09:15:02Z","created_by_email":{email}}}"#))).unwrap();
            assert_eq!(call.owner, None, "{email}");
        }
    }

    #[test]
    fn refuses_what_can_never_be_counted_naming_the_field() {
        let with = |members: &str| read(&envelope(&format!("{{{members}}}"))).map(drop).map_err(|e| e.field);
        let start = r#""started_at":"2026-11-30T09:15:02Z""#;
        for (members, field) in [
            (format!(r#"{start}"#), "data.room_name"),
            (format!(r#""room_name":null,{start}"#), "data.room_name"),
            (format!(r#""room_name":7,{start}"#), "data.room_name"),
            (format!(r#""room_name":" r",{start}"#), "data.room_name"),
            (format!(r#""room_name":"{}",{start}"#, "r".repeat(257)), "data.room_name"),
            (r#""room_name":"r""#.into(), "data.started_at"),
            (r#""room_name":"r","started_at":"2026-11-30""#.into(), "data.started_at"),
            (r#""room_name":"r","started_at":"2026-11-30T09:15:02""#.into(), "data.started_at"),
            (r#""room_name":"r","started_at":"1999-12-31T23:59:59Z""#.into(), "data.started_at"),
            (r#""room_name":"r","started_at":1796030102374"#.into(), "data.started_at"),
            (format!(r#""room_name":"r",{start},"call_duration_minutes":-1"#), "data.call_duration_minutes"),
            (format!(r#""room_name":"r",{start},"call_duration_minutes":10081"#), "data.call_duration_minutes"),
            (format!(r#""room_name":"r",{start},"call_duration_minutes":1e300"#), "data.call_duration_minutes"),
            (format!(r#""room_name":"r",{start},"call_duration_minutes":"long""#), "data.call_duration_minutes"),
            (format!(r#""room_name":"r",{start},"call_duration_minutes":true"#), "data.call_duration_minutes"),
            (format!(r#""room_name":"r",{start},"platform_number":"+{}""#, "9".repeat(64)), "data.platform_number"),
        ] {
            assert_eq!(with(&members), Err(field), "{members}");
        }
        for body in ["", "not json", "[]", r#"{"data":{"room_name":"r"}"#, "{\"data\":{}} trailing"] {
            assert_eq!(read(body), Err(BODY), "{body:?}");
        }
        // The messages' numbers are the record rule's.
        use crate::call::record::{EARLIEST_START_MILLIS, END_OF_STARTS_MILLIS, MAX_ID_CHARS, MAX_PLATFORM_NUMBER_CHARS};
        use crate::time::timestamp::format_millis;
        assert!(ROOM_NAME.expected.contains(&format!("1 to {MAX_ID_CHARS} characters")));
        assert!(PLATFORM_NUMBER.expected.contains(&format!("at most {MAX_PLATFORM_NUMBER_CHARS} characters")));
        assert!(DURATION.expected.contains(&format!("one week ({})", MAX_DURATION_MILLIS / 60_000)));
        assert!(STARTED_AT.expected.contains(&format!("from {}", &format_millis(EARLIEST_START_MILLIS)[..10])));
        assert!(STARTED_AT.expected.contains(&format!("up to {}", &format_millis(END_OF_STARTS_MILLIS)[..10])));
        assert_eq!(
            STARTED_AT.to_string(),
            "Invalid data.started_at: expected an RFC 3339 instant with Z or an offset (2026-11-30T09:15:02.374000Z), from 2000-01-01 up to 2100-01-01"
        );
    }
}
