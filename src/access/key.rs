//! An API key as a request presents it: the bearer token of the `Authorization` header, whether it has
//! the shape of our keys (`cak_` and 43 base64url characters: 32 random bytes), and the names its hash
//! gives it (its KV entry, its fingerprint in logs and in the key tool). Keys are never stored in clear:
//! KV holds only their SHA-256 (the contract with the key tool: `tests/vectors/key-records.json`).

use crate::access::AuthError;

/// Longest token read at all; anything longer is a malformed header.
pub const MAX_TOKEN_LEN: usize = 256;

/// Every key the key tool makes starts with this, followed by [`KEY_BODY_LEN`] base64url characters.
pub const KEY_PREFIX: &str = "cak_";
pub const KEY_BODY_LEN: usize = 43;

/// Hex characters of the key hash that identify a key in logs and in the key-management command.
pub const FINGERPRINT_LEN: usize = 12;

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
    self::token(token.trim_start_matches(' ')).ok_or(AuthError::MalformedCredentials)
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

/// A token (of the header, or of a URL's path): RFC 6750's `b64token` syntax, at most [`MAX_TOKEN_LEN`]
/// characters.
pub fn token(text: &str) -> Option<&str> {
    (text.len() <= MAX_TOKEN_LEN && b64token(text)).then_some(text)
}

/// RFC 6750's `b64token`.
fn b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Whether `token` has the shape of our keys; no other token can be one, so none other is hashed or looked up.
pub fn is_ours(token: &str) -> bool {
    token.len() == KEY_PREFIX.len() + KEY_BODY_LEN
        && token.starts_with(KEY_PREFIX)
        && token[KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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

    #[derive(serde::Deserialize)]
    struct Vectors {
        key_shape: Shape,
        known_key: Known,
        tokens: Tokens,
    }

    #[derive(serde::Deserialize)]
    struct Shape {
        prefix: String,
        length: usize,
    }

    #[derive(serde::Deserialize)]
    struct Known {
        key: String,
        sha256: String,
        storage_name: String,
        fingerprint: String,
    }

    #[derive(serde::Deserialize)]
    struct Tokens {
        ours: Vec<String>,
        not_ours: Vec<String>,
    }

    fn vectors() -> Vectors {
        serde_json::from_str(include_str!("../../tests/vectors/key-records.json")).unwrap()
    }

    #[test]
    fn names_the_key_tool_s_known_key_as_the_tool_does() {
        let known = vectors().known_key;
        let hash: Vec<u8> = (0..64).step_by(2).map(|i| u8::from_str_radix(&known.sha256[i..i + 2], 16).unwrap()).collect();
        let hash: [u8; 32] = hash.try_into().unwrap();
        assert_eq!(storage_name(&hash), known.storage_name);
        assert_eq!(fingerprint(&hash), known.fingerprint);
        assert!(is_ours(&known.key));
    }

    #[test]
    fn knows_the_shape_of_our_keys() {
        let vectors = vectors();
        assert_eq!((vectors.key_shape.prefix.as_str(), vectors.key_shape.length), (KEY_PREFIX, KEY_PREFIX.len() + KEY_BODY_LEN));
        for token in &vectors.tokens.ours {
            assert!(is_ours(token), "{token}");
        }
        for token in &vectors.tokens.not_ours {
            assert!(!is_ours(token), "{token}");
        }
    }
}
