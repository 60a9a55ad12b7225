//! A key's KV record, read: JSON `{"role", "expires_at"?, "revoked"?, ...}` as `scripts/lib/apikeys.mjs`
//! writes it. `role` is a string (required); `expires_at` null, absent or an RFC 3339 instant (read
//! strictly: the key tool always writes a full instant); `revoked` a boolean, null or absent; other fields
//! (label, created_at, revoked_at...) are skipped whatever they hold. The contract, with the tool, is
//! `tests/vectors/key-records.json`.

use crate::json::{self, Value};
use crate::time::timestamp::parse_instant;

/// What a record says of its key at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyStatus {
    /// Usable, with this role.
    Live(String),
    /// Revoked, whatever else the record says.
    Revoked,
    /// Past its `expires_at`.
    Expired,
}

/// The fields of a key record that decide on a key.
#[derive(Debug, Default, PartialEq, Eq)]
struct KeyRecord {
    role: Option<String>,
    expires_at: Option<String>,
    revoked: Option<bool>,
}

/// The status of the key whose record is `text`, at `now_millis`; `Err` (why, for the log) when the text is
/// not a key record.
pub fn status(text: &str, now_millis: i64) -> Result<KeyStatus, String> {
    let record = parse(text)?;
    // An unreadable expiry makes the record unreadable, revoked or not (as the key tool reads it).
    let expiry = match record.expires_at.as_deref() {
        Some(at) => Some(parse_instant(at).map_err(|_| "expires_at is not an RFC 3339 instant".to_owned())?),
        None => None,
    };
    if record.revoked == Some(true) {
        return Ok(KeyStatus::Revoked);
    }
    if expiry.is_some_and(|expiry| now_millis >= expiry) {
        return Ok(KeyStatus::Expired);
    }
    Ok(KeyStatus::Live(record.role.unwrap_or_default()))
}

fn parse(text: &str) -> Result<KeyRecord, String> {
    json::document(text, |json| {
        let mut record = KeyRecord::default();
        json.object(|json, name| {
            if !matches!(name.as_str(), "role" | "expires_at" | "revoked") {
                return json.skip();
            }
            let slot_taken = match (name.as_str(), json.value()?) {
                ("role", Value::Str(role)) => record.role.replace(role).is_some(),
                ("expires_at", Value::Str(at)) => record.expires_at.replace(at).is_some(),
                ("revoked", Value::Bool(revoked)) => record.revoked.replace(revoked).is_some(),
                ("expires_at" | "revoked", Value::Null) => false,
                _ => return Err(format!("field {name} has the wrong type")),
            };
            if slot_taken {
                return Err(format!("field {name} is given twice"));
            }
            Ok(())
        })?;
        if record.role.is_none() {
            return Err("no role".into());
        }
        Ok(record)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Vectors {
        now: String,
        records: Vec<Case>,
    }

    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        record: String,
        status: String,
        role: Option<String>,
    }

    #[test]
    fn reads_records_as_the_key_tool_s_vectors_say() {
        let vectors: Vectors =
            serde_json::from_str(include_str!("../../tests/vectors/key-records.json")).unwrap();
        let now = parse_instant(&vectors.now).unwrap();
        assert!(vectors.records.len() >= 30);
        for case in &vectors.records {
            let expected = match case.status.as_str() {
                "live" => Ok(KeyStatus::Live(case.role.clone().expect("a live record has a role"))),
                "revoked" => Ok(KeyStatus::Revoked),
                "expired" => Ok(KeyStatus::Expired),
                "malformed" => Err(()),
                other => panic!("{}: unknown status {other}", case.name),
            };
            assert_eq!(status(&case.record, now).map_err(|_| ()), expected, "{}", case.name);
        }
    }

    #[test]
    fn refuses_what_only_a_careful_reader_sees() {
        // Cases JSON.parse cannot decide (it keeps the last of two fields), so not in the shared vectors.
        for text in [
            r#"{"role":"super_admin","role":"super_admin"}"#,
            r#"{"role":"super_admin","revoked":false,"revoked":true}"#,
            &format!("{{\"role\":\"super_admin\",\"x\":{}1{}}}", "[".repeat(40), "]".repeat(40)),
        ] {
            assert!(status(text, 0).is_err(), "{text}");
        }
        assert_eq!(
            status(r#"{"role":"a\/b\n","expires_at":"2026-01-01T00:00:00Z"}"#, 0),
            Ok(KeyStatus::Live("a/b\n".into()))
        );
    }
}
