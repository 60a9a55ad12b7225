//! Who may call a protected route, and how often: the per-IP limit first (so a flood of made-up keys costs
//! neither a hash nor a KV read once its address is over the limit), then the bearer key (a token that
//! cannot be one of ours is refused before it is hashed), its record (from this isolate's memory or KV:
//! `cache`, `record`), the decision on its role, then the per-key limit. Uses `time` and `platform`.

use std::cell::RefCell;
use std::fmt;

use crate::access::cache::{KeyCache, Known};
use crate::access::limits::{client_key, Limit};
use crate::access::record::KeyStatus;
use crate::platform::{Platform, PlatformError};

pub mod cache;
pub mod key;
pub mod limits;
pub mod record;

/// What a route asks of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Reads the cross-tenant analytics (and operates on what ingest left behind).
    SuperAdmin,
    /// Writes calls: the platform's end-call webhook, and nothing else.
    Ingest,
}

impl Role {
    /// The role as key records name it.
    pub fn name(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::Ingest => "ingest",
        }
    }

    /// The limits a caller for this role is counted against: per address, then per key.
    fn limits(self) -> (Limit, Limit) {
        match self {
            Role::SuperAdmin => (Limit::ClientIp, Limit::ApiKey),
            Role::Ingest => (Limit::WebhookIp, Limit::WebhookKey),
        }
    }
}

/// Why a request is not authenticated (401) or not allowed (403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    MissingCredentials,
    /// An `Authorization` header with a scheme other than `Bearer`.
    OtherScheme,
    /// A `Bearer` header with no token, or a token that is not RFC 6750's `b64token`.
    MalformedCredentials,
    /// A key in the URL's path that is not a token at all.
    MalformedPathKey,
    /// A token that is not one of our keys: not of their shape, or not in KV.
    UnknownKey,
    RevokedKey,
    ExpiredKey,
    /// The KV entry exists but cannot be read as a key record; the key is refused and the detail logged.
    UnreadableRecord(String),
    /// A live key without the role the route needs.
    InsufficientRole(Role),
}

impl AuthError {
    /// 401 for everything but a live key without the role (403).
    pub fn status(&self) -> u16 {
        match self {
            AuthError::InsufficientRole(_) => 403,
            _ => 401,
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3; no error code when the client sent no bearer
    /// credentials at all, §3.1).
    pub fn challenge(&self) -> &'static str {
        match self {
            AuthError::MissingCredentials | AuthError::OtherScheme => "Bearer",
            AuthError::InsufficientRole(_) => "Bearer error=\"insufficient_scope\"",
            _ => "Bearer error=\"invalid_token\"",
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthError::MissingCredentials => "Missing API key: send the header \"Authorization: Bearer <API key>\"",
            AuthError::OtherScheme => "Unsupported Authorization scheme: expected \"Bearer <API key>\"",
            AuthError::MalformedCredentials => "Malformed Authorization header: expected \"Bearer <API key>\"",
            AuthError::MalformedPathKey => "Malformed key in the URL: expected /webhooks/end-call/<ingest key>",
            AuthError::UnknownKey | AuthError::UnreadableRecord(_) => "Invalid API key",
            AuthError::RevokedKey => "This API key has been revoked",
            AuthError::ExpiredKey => "This API key has expired",
            AuthError::InsufficientRole(Role::SuperAdmin) => "This endpoint requires a super-admin API key",
            AuthError::InsufficientRole(Role::Ingest) => {
                "This endpoint requires an ingest key (a super-admin key must never be put in a webhook URL)"
            }
        })
    }
}

/// Why a caller was not admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessError {
    Auth(AuthError),
    /// Over a rate limit.
    RateLimited(Limit),
    /// The runtime failed us (KV, a limiter, the digest).
    Platform(PlatformError),
}

impl From<AuthError> for AccessError {
    fn from(error: AuthError) -> Self {
        AccessError::Auth(error)
    }
}

impl From<PlatformError> for AccessError {
    fn from(error: PlatformError) -> Self {
        AccessError::Platform(error)
    }
}

/// The caller as the request presents it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller<'a> {
    /// `CF-Connecting-IP`, set by Cloudflare's edge (and by `wrangler dev`).
    pub client_ip: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// A key given in the path (the webhook's, whose sender cannot set headers); it wins over the header.
    pub path_key: Option<&'a str>,
}

/// What the access check did that a request's log line reports.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AccessFacts {
    /// The key's fingerprint, once the request presented a token of our keys' shape.
    pub key: Option<String>,
    /// Reads that reached Workers KV (not this isolate's memory of a key).
    pub kv_reads: u32,
}

/// This isolate's memory of keys, shared by its requests (see `cache`).
pub type KeyMemory = RefCell<KeyCache>;

/// Admits a caller with a live key of `role` that is within both rate limits.
pub async fn require<P: Platform>(
    platform: &P,
    memory: &KeyMemory,
    caller: Caller<'_>,
    role: Role,
    facts: &mut AccessFacts,
) -> Result<(), AccessError> {
    let (per_address, per_key) = role.limits();
    limit(platform, per_address, &client_key(caller.client_ip)).await?;

    let token = match caller.path_key {
        Some(in_path) => key::token(in_path).ok_or(AuthError::MalformedPathKey)?,
        None => key::bearer_token(caller.authorization)?,
    };
    if !key::is_ours(token) {
        return Err(AuthError::UnknownKey.into());
    }
    let hash = platform.sha256(token).await?;
    let fingerprint = key::fingerprint(&hash);
    facts.key = Some(fingerprint.clone());
    let name = key::storage_name(&hash);
    let now = platform.now_millis();
    let remembered = memory.borrow().get(&name, now).cloned();
    let known = match remembered {
        Some(known) => known,
        None => {
            let record = platform.key_record(&name).await?;
            facts.kv_reads += 1;
            let known = record.map_or(Known::Unknown, Known::Record);
            memory.borrow_mut().put(&name, known.clone(), now);
            known
        }
    };
    let Known::Record(record) = known else {
        return Err(AuthError::UnknownKey.into());
    };
    let status = record::status(&record, now as i64)
        .map_err(|why| AuthError::UnreadableRecord(format!("key record is not valid: {why}")))?;
    decide(status, role)?;

    limit(platform, per_key, &fingerprint).await
}

/// The decision on a key whose record says `status`, for a route that needs `role`.
fn decide(status: KeyStatus, role: Role) -> Result<(), AuthError> {
    match status {
        KeyStatus::Revoked => Err(AuthError::RevokedKey),
        KeyStatus::Expired => Err(AuthError::ExpiredKey),
        KeyStatus::Live(held) if held == role.name() => Ok(()),
        KeyStatus::Live(_) => Err(AuthError::InsufficientRole(role)),
    }
}

async fn limit<P: Platform>(platform: &P, limit: Limit, key: &str) -> Result<(), AccessError> {
    if platform.within_limit(limit.binding(), key).await? {
        Ok(())
    } else {
        Err(AccessError::RateLimited(limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::memory::{block_on, MemoryPlatform, ADMIN_KEY, NOW, VIEWER_KEY};

    /// A key of our shape that KV does not know.
    const MADE_UP: &str = "cak_madeup0000000000000000000000000000000000000";

    fn check_with(
        platform: &MemoryPlatform,
        memory: &KeyMemory,
        ip: &str,
        key: Option<&str>,
    ) -> (Result<(), AccessError>, AccessFacts) {
        let header = key.map(|k| format!("Bearer {k}"));
        let caller = Caller {
            client_ip: Some(ip),
            authorization: header.as_deref(),
            path_key: None,
        };
        let mut facts = AccessFacts::default();
        let result = block_on(require(platform, memory, caller, Role::SuperAdmin, &mut facts));
        (result, facts)
    }

    /// Each check with an isolate memory of its own.
    fn check(platform: &MemoryPlatform, ip: &str, key: Option<&str>) -> (Result<(), AccessError>, AccessFacts) {
        check_with(platform, &KeyMemory::default(), ip, key)
    }

    fn counted(limit: Limit, key: &str) -> (String, String) {
        (limit.binding().to_owned(), key.to_owned())
    }

    #[test]
    fn admits_a_super_admin_within_its_limits() {
        let platform = MemoryPlatform::new();
        let (result, facts) = check(&platform, "203.0.113.1", Some(ADMIN_KEY));
        assert_eq!(result, Ok(()));
        assert_eq!(facts.kv_reads, 1);
        assert_eq!(facts.key.as_deref(), Some(platform.fingerprint(ADMIN_KEY).as_str()));
        assert_eq!(
            platform.counted(),
            vec![counted(Limit::ClientIp, "203.0.113.1"), counted(Limit::ApiKey, &platform.fingerprint(ADMIN_KEY))]
        );
    }

    #[test]
    fn decides_on_each_kind_of_record() {
        let mut platform = MemoryPlatform::new();
        let cases = [
            (r#"{"role":"super_admin","expires_at":"2026-11-01T00:00:00.001Z"}"#, Ok(())),
            (r#"{"role":"super_admin","expires_at":"2026-11-01T00:00:00Z"}"#, Err(AuthError::ExpiredKey)),
            (r#"{"role":"admin","revoked":true}"#, Err(AuthError::RevokedKey)),
            (r#"{"role":"admin"}"#, Err(AuthError::InsufficientRole(Role::SuperAdmin))),
            (r#"{"role":"super_admin","expires_at":"2027-01-01"}"#, Err(AuthError::UnreadableRecord(String::new()))),
        ];
        for (record, expected) in cases {
            platform.add_key(MADE_UP, record);
            let (result, _) = check(&platform, "192.0.2.1", Some(MADE_UP));
            let result = result.map_err(|e| match e {
                AccessError::Auth(AuthError::UnreadableRecord(_)) => AuthError::UnreadableRecord(String::new()),
                AccessError::Auth(auth) => auth,
                other => panic!("{other:?}"),
            });
            assert_eq!(result, expected, "{record}");
        }
        assert_eq!(NOW, 1_793_491_200_000.0, "the records above are about 2026-11-01T00:00:00Z");
    }

    #[test]
    fn a_token_that_cannot_be_ours_costs_no_hash_and_no_kv_read() {
        let platform = MemoryPlatform::new();
        for token in ["cak_not-a-real-key", "made-up", &format!("{}x", ADMIN_KEY), &ADMIN_KEY.replace("cak_", "cbk_")] {
            let (result, facts) = check(&platform, "192.0.2.2", Some(token));
            assert_eq!(result, Err(AccessError::Auth(AuthError::UnknownKey)), "{token}");
            assert_eq!((facts.kv_reads, facts.key), (0, None));
        }
        assert_eq!((platform.hashes(), platform.kv_reads()), (0, 0));
    }

    #[test]
    fn a_key_kv_does_not_know_is_remembered_for_a_while() {
        let mut platform = MemoryPlatform::new();
        let memory = KeyMemory::default();
        for _ in 0..5 {
            let (result, _) = check_with(&platform, &memory, "192.0.2.3", Some(MADE_UP));
            assert_eq!(result, Err(AccessError::Auth(AuthError::UnknownKey)));
        }
        assert_eq!(platform.kv_reads(), 1, "one KV read for five tries of the same unknown key");
        // "Unknown" is kept for the memory's TTL even if the key appears meanwhile; another isolate asks KV.
        platform.remove_key(ADMIN_KEY);
        let fresh = KeyMemory::default();
        assert_eq!(check_with(&platform, &fresh, "192.0.2.3", Some(ADMIN_KEY)).0, Err(AccessError::Auth(AuthError::UnknownKey)));
        platform.add_key(ADMIN_KEY, r#"{"role":"super_admin"}"#);
        assert_eq!(check_with(&platform, &fresh, "192.0.2.3", Some(ADMIN_KEY)).0, Err(AccessError::Auth(AuthError::UnknownKey)));
        assert_eq!(check_with(&platform, &KeyMemory::default(), "192.0.2.3", Some(ADMIN_KEY)).0, Ok(()));
    }

    #[test]
    fn an_address_over_its_limit_costs_no_hash_and_no_kv_read() {
        let platform = MemoryPlatform::new().with_limit(Limit::ClientIp.binding(), 2);
        for _ in 0..2 {
            assert_eq!(check(&platform, "198.51.100.7", Some(MADE_UP)).0, Err(AccessError::Auth(AuthError::UnknownKey)));
        }
        let (kv_before, hashes_before) = (platform.kv_reads(), platform.hashes());
        let (result, facts) = check(&platform, "198.51.100.7", Some(MADE_UP));
        assert_eq!(result, Err(AccessError::RateLimited(Limit::ClientIp)));
        assert_eq!((facts.kv_reads, facts.key), (0, None));
        assert_eq!((platform.kv_reads(), platform.hashes()), (kv_before, hashes_before));
        // Another address is counted on its own.
        assert_eq!(check(&platform, "198.51.100.8", Some(ADMIN_KEY)).0, Ok(()));
        // An IPv6 client is counted by its /64: another address in it is the same client.
        let platform = MemoryPlatform::new().with_limit(Limit::ClientIp.binding(), 1);
        assert!(check(&platform, "2001:db8:0:1::1", Some(ADMIN_KEY)).0.is_ok());
        assert_eq!(check(&platform, "2001:db8:0:1::2", Some(ADMIN_KEY)).0, Err(AccessError::RateLimited(Limit::ClientIp)));
        assert!(check(&platform, "2001:db8:0:2::1", Some(ADMIN_KEY)).0.is_ok());
    }

    #[test]
    fn a_key_over_its_limit_is_refused_after_authentication() {
        let platform = MemoryPlatform::new().with_limit(Limit::ApiKey.binding(), 1);
        assert_eq!(check(&platform, "192.0.2.1", Some(ADMIN_KEY)).0, Ok(()));
        let (result, facts) = check(&platform, "192.0.2.2", Some(ADMIN_KEY));
        assert_eq!(result, Err(AccessError::RateLimited(Limit::ApiKey)));
        assert_eq!(facts.key.as_deref(), Some(platform.fingerprint(ADMIN_KEY).as_str()));
        // Keys that fail authentication are never counted against a key limit.
        assert!(check(&platform, "192.0.2.3", Some(VIEWER_KEY)).0.is_err());
        assert!(!platform.counted().contains(&counted(Limit::ApiKey, &platform.fingerprint(VIEWER_KEY))));
    }

    #[test]
    fn every_request_counts_against_its_address_even_without_a_key() {
        let platform = MemoryPlatform::new();
        let mut facts = AccessFacts::default();
        let memory = KeyMemory::default();
        let result = block_on(require(&platform, &memory, Caller::default(), Role::SuperAdmin, &mut facts));
        assert_eq!(result, Err(AccessError::Auth(AuthError::MissingCredentials)));
        assert_eq!(platform.counted(), vec![counted(Limit::ClientIp, crate::access::limits::UNKNOWN_CLIENT)]);
        assert_eq!(
            check(&platform, "192.0.2.9", Some(VIEWER_KEY)).0,
            Err(AccessError::Auth(AuthError::InsufficientRole(Role::SuperAdmin)))
        );
    }

    #[test]
    fn an_ingest_key_writes_calls_only_and_a_super_admin_key_never_does() {
        let mut platform = MemoryPlatform::new();
        platform.add_key(MADE_UP, r#"{"role":"ingest"}"#);
        let check = |key: &str, role: Role, in_path: bool| {
            let header = format!("Bearer {key}");
            let caller = Caller {
                client_ip: Some("192.0.2.10"),
                authorization: (!in_path).then_some(header.as_str()),
                path_key: in_path.then_some(key),
            };
            block_on(require(&platform, &KeyMemory::default(), caller, role, &mut AccessFacts::default()))
        };
        assert_eq!(check(MADE_UP, Role::Ingest, true), Ok(()));
        assert_eq!(check(MADE_UP, Role::Ingest, false), Ok(()));
        assert_eq!(check(MADE_UP, Role::SuperAdmin, false), Err(AccessError::Auth(AuthError::InsufficientRole(Role::SuperAdmin))));
        assert_eq!(check(ADMIN_KEY, Role::Ingest, true), Err(AccessError::Auth(AuthError::InsufficientRole(Role::Ingest))));
        assert_eq!(check("not a key", Role::Ingest, true), Err(AccessError::Auth(AuthError::MalformedPathKey)));
        assert_eq!(AuthError::MalformedPathKey.to_string(), "Malformed key in the URL: expected /webhooks/end-call/<ingest key>");
        // The webhook is counted against its own limits.
        let counted: Vec<String> = platform.counted().into_iter().map(|(binding, _)| binding).collect();
        assert!(counted.contains(&Limit::WebhookIp.binding().to_owned()) && counted.contains(&Limit::WebhookKey.binding().to_owned()));
        assert_eq!(
            AuthError::InsufficientRole(Role::Ingest).to_string(),
            "This endpoint requires an ingest key (a super-admin key must never be put in a webhook URL)"
        );
    }

    #[test]
    fn maps_to_status_and_challenge() {
        assert_eq!(AuthError::MissingCredentials.status(), 401);
        assert_eq!(AuthError::MissingCredentials.challenge(), "Bearer");
        assert_eq!(AuthError::ExpiredKey.status(), 401);
        assert_eq!(AuthError::ExpiredKey.challenge(), "Bearer error=\"invalid_token\"");
        assert_eq!(AuthError::InsufficientRole(Role::SuperAdmin).status(), 403);
        assert_eq!(AuthError::UnreadableRecord("x".into()).to_string(), "Invalid API key");
    }
}
