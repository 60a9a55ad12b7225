//! Who may call: the bearer token, its KV record, and the decision.
//!
//! Keys are never stored in clear. The KV entry for a key is named `sha256:<lowercase hex SHA-256 of the raw
//! key>` and holds JSON `{"role", "label"?, "created_at"?, "expires_at"?, "revoked"?}`. Only the role
//! `super_admin` may read the analytics; any other role is a valid key without the right.

use std::fmt;

use crate::timestamp::Timestamp;
use crate::zone::TimeZone;

pub const REQUIRED_ROLE: &str = "super_admin";

/// Longest token looked up; anything longer cannot be one of ours (ours are 47 characters) and is refused
/// without a KV read.
pub const MAX_TOKEN_LEN: usize = 256;

/// Hex characters of the key hash that identify a key in logs and in the key-management command.
pub const FINGERPRINT_LEN: usize = 12;

/// Why a request is not authenticated (401) or not allowed (403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    MissingCredentials,
    /// An `Authorization` header with a scheme other than `Bearer`.
    OtherScheme,
    /// A `Bearer` header with no token, or a token that cannot be a key.
    MalformedCredentials,
    UnknownKey,
    RevokedKey,
    ExpiredKey,
    /// The KV entry exists but cannot be read as a key record; the key is refused and the detail logged.
    UnreadableRecord(String),
    /// A valid key whose role is not `super_admin`.
    InsufficientRole,
}

impl AuthError {
    /// 401 for everything but a valid key without the role (403).
    pub fn status(&self) -> u16 {
        match self {
            AuthError::InsufficientRole => 403,
            _ => 401,
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3; no error code when the client sent no bearer
    /// credentials at all, §3.1).
    pub fn challenge(&self) -> &'static str {
        match self {
            AuthError::MissingCredentials | AuthError::OtherScheme => "Bearer",
            AuthError::InsufficientRole => "Bearer error=\"insufficient_scope\"",
            _ => "Bearer error=\"invalid_token\"",
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthError::MissingCredentials => {
                "Missing API key: send the header \"Authorization: Bearer <API key>\""
            }
            AuthError::OtherScheme => {
                "Unsupported Authorization scheme: expected \"Bearer <API key>\""
            }
            AuthError::MalformedCredentials => {
                "Malformed Authorization header: expected \"Bearer <API key>\""
            }
            AuthError::UnknownKey | AuthError::UnreadableRecord(_) => "Invalid API key",
            AuthError::RevokedKey => "This API key has been revoked",
            AuthError::ExpiredKey => "This API key has expired",
            AuthError::InsufficientRole => "This endpoint requires a super-admin API key",
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). The token must have
/// RFC 6750's `b64token` syntax and at most [`MAX_TOKEN_LEN`] characters.
pub fn bearer_token(header: Option<&str>) -> Result<&str, AuthError> {
    let header = header.ok_or(AuthError::MissingCredentials)?.trim();
    if header.is_empty() {
        return Err(AuthError::MissingCredentials);
    }
    let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(AuthError::OtherScheme);
    }
    let token = token.trim_start_matches(' ');
    let b64token = |t: &str| {
        let body = t.trim_end_matches('=');
        !body.is_empty()
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
    };
    if token.len() <= MAX_TOKEN_LEN && b64token(token) {
        Ok(token)
    } else {
        Err(AuthError::MalformedCredentials)
    }
}

/// The KV entry name for a key whose SHA-256 is `hash`.
pub fn storage_name(hash: &[u8; 32]) -> String {
    format!("sha256:{}", hex(hash))
}

/// The short, non-secret identifier of a key: the first hex characters of its hash.
pub fn fingerprint(hash: &[u8; 32]) -> String {
    let mut hex = hex(hash);
    hex.truncate(FINGERPRINT_LEN);
    hex
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fields of a key record that decide on a key.
#[derive(Debug, Default, PartialEq, Eq)]
struct KeyRecord {
    role: Option<String>,
    expires_at: Option<String>,
    revoked: Option<bool>,
}

impl KeyRecord {
    /// Reads the record's JSON object: `role` a string (required), `expires_at` a string or null,
    /// `revoked` a boolean or null; other fields (label, created_at...) are skipped whatever they hold. A
    /// small reader for this one flat object, instead of a general JSON deserializer in the wasm.
    fn parse(text: &str) -> Result<Self, String> {
        let mut json = Json { bytes: text.as_bytes(), at: 0 };
        let mut record = KeyRecord::default();
        json.expect(b'{')?;
        if !json.eat(b'}') {
            loop {
                let name = json.string()?;
                json.expect(b':')?;
                let value = json.value(0)?;
                let slot_taken = match (name.as_str(), value) {
                    ("role", Value::Str(role)) => record.role.replace(role).is_some(),
                    ("expires_at", Value::Str(at)) => record.expires_at.replace(at).is_some(),
                    ("revoked", Value::Bool(revoked)) => record.revoked.replace(revoked).is_some(),
                    ("expires_at" | "revoked", Value::Null) => false,
                    ("role" | "expires_at" | "revoked", _) => {
                        return Err(format!("field {name} has the wrong type"))
                    }
                    _ => false,
                };
                if slot_taken {
                    return Err(format!("field {name} is given twice"));
                }
                if json.eat(b'}') {
                    break;
                }
                json.expect(b',')?;
            }
        }
        json.skip_whitespace();
        if json.at != json.bytes.len() {
            return Err("text after the object".into());
        }
        if record.role.is_none() {
            return Err("no role".into());
        }
        Ok(record)
    }
}

/// A JSON value as the key record reader needs it.
enum Value {
    Str(String),
    Bool(bool),
    Null,
    /// A number, object or array: checked, then skipped.
    Other,
}

/// A cursor over JSON text (RFC 8259).
struct Json<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Json<'_> {
    fn skip_whitespace(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let found = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", byte as char, self.at))
        }
    }

    fn literal(&mut self, word: &str) -> bool {
        let found = self.bytes[self.at..].starts_with(word.as_bytes());
        self.at += if found { word.len() } else { 0 };
        found
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > 32 {
            return Err("nested too deep".into());
        }
        self.skip_whitespace();
        match self.bytes.get(self.at) {
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') if self.literal("true") => Ok(Value::Bool(true)),
            Some(b'f') if self.literal("false") => Ok(Value::Bool(false)),
            Some(b'n') if self.literal("null") => Ok(Value::Null),
            Some(b'{' | b'[') => {
                let close = if self.bytes[self.at] == b'{' { b'}' } else { b']' };
                self.at += 1;
                if !self.eat(close) {
                    loop {
                        if close == b'}' {
                            self.string()?;
                            self.expect(b':')?;
                        }
                        self.value(depth + 1)?;
                        if self.eat(close) {
                            break;
                        }
                        self.expect(b',')?;
                    }
                }
                Ok(Value::Other)
            }
            Some(b'-' | b'0'..=b'9') => {
                // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
                self.literal("-");
                if !self.literal("0") && self.digits() == 0 {
                    return Err("bad number".into());
                }
                if self.literal(".") && self.digits() == 0 {
                    return Err("bad number".into());
                }
                if (self.literal("e") || self.literal("E")) && {
                    let _ = self.literal("+") || self.literal("-");
                    self.digits() == 0
                } {
                    return Err("bad number".into());
                }
                Ok(Value::Other)
            }
            _ => Err(format!("expected a value at byte {}", self.at)),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let rest = &self.bytes[self.at..];
            let plain = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let Some(end) = plain else {
                return Err("unterminated string".into());
            };
            out.push_str(std::str::from_utf8(&rest[..end]).map_err(|_| "not UTF-8")?);
            self.at += end + 1;
            match rest[end] {
                b'"' => return Ok(out),
                b'\\' => {
                    let escape = self.bytes.get(self.at).copied().ok_or("unterminated string")?;
                    self.at += 1;
                    match escape {
                        b'"' | b'\\' | b'/' => out.push(escape as char),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&high) && self.literal("\\u") {
                                let low = self.hex4()?;
                                0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                high
                            };
                            out.push(char::from_u32(code).ok_or("a lone surrogate")?);
                        }
                        _ => return Err("bad escape".into()),
                    }
                }
                _ => return Err("a control character in a string".into()),
            }
        }
    }

    /// Skips ASCII digits; how many.
    fn digits(&mut self) -> usize {
        let count = self.bytes[self.at..].iter().take_while(|b| b.is_ascii_digit()).count();
        self.at += count;
        count
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or("short \\u escape")?;
        self.at += 4;
        let text = std::str::from_utf8(digits).map_err(|_| "bad \\u escape")?;
        u32::from_str_radix(text, 16).map_err(|_| "bad \\u escape".into())
    }
}

/// Decides on a key from its KV entry (`None`: no such key) at `now_millis`.
pub fn authorize(entry: Option<&str>, now_millis: i64) -> Result<(), AuthError> {
    let entry = entry.ok_or(AuthError::UnknownKey)?;
    let record = KeyRecord::parse(entry)
        .map_err(|e| AuthError::UnreadableRecord(format!("key record is not valid: {e}")))?;
    if record.revoked == Some(true) {
        return Err(AuthError::RevokedKey);
    }
    if let Some(expires_at) = record.expires_at.as_deref() {
        let expiry = Timestamp::parse(expires_at).map_err(|_| {
            AuthError::UnreadableRecord("key record has an unreadable expires_at".into())
        })?;
        if now_millis >= expiry.start_millis(&TimeZone::utc()) {
            return Err(AuthError::ExpiredKey);
        }
    }
    if record.role.as_deref() == Some(REQUIRED_ROLE) {
        Ok(())
    } else {
        Err(AuthError::InsufficientRole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bearer_token() {
        assert_eq!(
            bearer_token(Some("Bearer cak_abc-DEF_123")),
            Ok("cak_abc-DEF_123")
        );
        assert_eq!(bearer_token(Some("bearer abc")), Ok("abc"));
        assert_eq!(bearer_token(Some("BEARER   abc==")), Ok("abc=="));
        assert_eq!(bearer_token(Some("  Bearer a.b~c+d/e  ")), Ok("a.b~c+d/e"));
        assert_eq!(
            bearer_token(Some(&format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN)))).map(str::len),
            Ok(256)
        );
    }

    #[test]
    fn refuses_what_is_not_a_bearer_token() {
        assert_eq!(bearer_token(None), Err(AuthError::MissingCredentials));
        assert_eq!(bearer_token(Some("")), Err(AuthError::MissingCredentials));
        assert_eq!(
            bearer_token(Some("   ")),
            Err(AuthError::MissingCredentials)
        );
        for header in [
            "Bearer",
            "Bearer ",
            "Bearer  ",
            "Bearer abc def",
            "Bearer ===",
            "Bearer a=b",
            "Bearer \"abc\"",
            "Bearer ключ",
            "Bearer abc\tdef",
        ] {
            assert_eq!(
                bearer_token(Some(header)),
                Err(AuthError::MalformedCredentials),
                "{header:?}"
            );
        }
        for header in ["Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Token abc", "Bearerabc", "Basic"] {
            assert_eq!(
                bearer_token(Some(header)),
                Err(AuthError::OtherScheme),
                "{header:?}"
            );
        }
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(
            bearer_token(Some(&long)),
            Err(AuthError::MalformedCredentials)
        );
    }

    #[test]
    fn names_entries_by_hash() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let hash: [u8; 32] = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
            0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
            0xf2, 0x00, 0x15, 0xad,
        ];
        assert_eq!(
            storage_name(&hash),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(fingerprint(&hash), "ba7816bf8f01");
    }

    const NOW: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z

    #[test]
    fn admits_only_live_super_admin_keys() {
        let ok = |entry: &str| authorize(Some(entry), NOW);
        assert_eq!(ok(r#"{"role":"super_admin"}"#), Ok(()));
        assert_eq!(
            ok(
                r#"{"role":"super_admin","label":"ops","created_at":"2026-01-01T00:00:00Z","expires_at":null,"revoked":false}"#
            ),
            Ok(())
        );
        assert_eq!(
            ok(r#"{"role":"super_admin","expires_at":"2026-11-01T00:00:00.001Z"}"#),
            Ok(())
        );
        assert_eq!(
            ok(r#"{"role":"super_admin","expires_at":"2026-11-01T00:00:00Z"}"#),
            Err(AuthError::ExpiredKey)
        );
        assert_eq!(
            ok(r#"{"role":"super_admin","expires_at":"2026-10-31T23:00:00-02:00"}"#),
            Ok(())
        );
        assert_eq!(
            ok(r#"{"role":"super_admin","revoked":true}"#),
            Err(AuthError::RevokedKey)
        );
        assert_eq!(ok(r#"{"role":"super_admin","revoked":null}"#), Ok(()));
        assert_eq!(ok(r#"{"role":"admin"}"#), Err(AuthError::InsufficientRole));
        assert_eq!(
            ok(r#"{"role":"SUPER_ADMIN"}"#),
            Err(AuthError::InsufficientRole)
        );
        // A revoked or expired key is refused as such whatever its role.
        assert_eq!(
            ok(r#"{"role":"admin","revoked":true}"#),
            Err(AuthError::RevokedKey)
        );
        assert_eq!(authorize(None, NOW), Err(AuthError::UnknownKey));
    }

    #[test]
    fn reads_records_as_json_whatever_else_they_hold() {
        let ok = |entry: &str| authorize(Some(entry), NOW);
        assert_eq!(
            ok(" { \"label\" : \"a \\\"quoted\\\" \\u00e9\\ud83d\\ude00 label\", \"n\": -1.5e3, \"tags\": [1, {\"x\": [true, null]}], \"role\" : \"super\\u005fadmin\" } "),
            Ok(())
        );
        assert_eq!(ok(r#"{"revoked":false,"role":"super_admin","revoked_at":null,"expires_at":null}"#), Ok(()));
        assert_eq!(
            KeyRecord::parse(r#"{"role":"a\/b\n","expires_at":"x"}"#),
            Ok(KeyRecord { role: Some("a/b\n".into()), expires_at: Some("x".into()), revoked: None })
        );
    }

    #[test]
    fn refuses_unreadable_records() {
        for entry in [
            "",
            "super_admin",
            "{}",
            "[]",
            "null",
            r#"{"role":1}"#,
            r#"{"role":null}"#,
            r#"{"role":"super_admin","expires_at":"soon"}"#,
            r#"{"role":"super_admin","revoked":"yes"}"#,
            r#"{"role":"super_admin","expires_at":5}"#,
            r#"{"role":"super_admin","role":"super_admin"}"#,
            r#"{"role":"super_admin"} x"#,
            r#"{"role":"super_admin",}"#,
            r#"{"role":"super_admin" "label":"x"}"#,
            r#"{"role":"super_admin","label":"a
b"}"#,
            r#"{"role":"super_admin","label":"\x"}"#,
            r#"{"role":"super_admin","label":"\ud800"}"#,
            r#"{"role":"super_admin","n":1.2.3}"#,
            r#"{"role":"super_admin","n":tru}"#,
            r#"{"role":"super_admin""#,
            &format!("{{\"role\":\"super_admin\",\"x\":{}1{}}}", "[".repeat(40), "]".repeat(40)),
        ] {
            let result = authorize(Some(entry), NOW);
            assert!(
                matches!(result, Err(AuthError::UnreadableRecord(_))),
                "{entry}: {result:?}"
            );
            assert_eq!(result.unwrap_err().to_string(), "Invalid API key");
        }
    }

    #[test]
    fn maps_to_status_and_challenge() {
        assert_eq!(AuthError::MissingCredentials.status(), 401);
        assert_eq!(AuthError::MissingCredentials.challenge(), "Bearer");
        assert_eq!(AuthError::ExpiredKey.status(), 401);
        assert_eq!(
            AuthError::ExpiredKey.challenge(),
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(AuthError::InsufficientRole.status(), 403);
    }
}
