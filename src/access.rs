//! Who may call a protected route, and how often: the per-IP limit first (so a flood of made-up keys costs
//! neither a hash nor a KV read once its address is over the limit), then the bearer key and its record
//! (`auth`), then the per-key limit.

use crate::auth;
use crate::error::ApiError;
use crate::limits::{client_key, Limit};
use crate::log::LogFacts;
use crate::platform::Platform;

/// The caller as the request presents it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caller<'a> {
    /// `CF-Connecting-IP`, set by Cloudflare's edge (and by `wrangler dev`).
    pub client_ip: Option<&'a str>,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
}

/// Admits a caller with a live super-admin key that is within both rate limits.
pub async fn require_super_admin<P: Platform>(
    platform: &P,
    caller: Caller<'_>,
    facts: &mut LogFacts,
) -> Result<(), ApiError> {
    limit(platform, Limit::ClientIp, &client_key(caller.client_ip)).await?;

    let token = auth::bearer_token(caller.authorization)?;
    let hash = platform.sha256(token).await?;
    let fingerprint = auth::fingerprint(&hash);
    facts.key = Some(fingerprint.clone());
    let lookup = platform.key_record(&auth::storage_name(&hash)).await?;
    facts.kv_reads += u32::from(lookup.from_kv);
    auth::authorize(lookup.record.as_deref(), platform.now_millis() as i64)?;

    limit(platform, Limit::ApiKey, &fingerprint).await
}

async fn limit<P: Platform>(platform: &P, limit: Limit, key: &str) -> Result<(), ApiError> {
    if platform.within_limit(limit, key).await? {
        Ok(())
    } else {
        Err(ApiError::RateLimited(limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthError;
    use crate::testing::{block_on, FakePlatform, ADMIN_KEY, VIEWER_KEY};

    fn check(platform: &FakePlatform, ip: &str, key: Option<&str>) -> (Result<(), ApiError>, LogFacts) {
        let header = key.map(|k| format!("Bearer {k}"));
        let caller = Caller {
            client_ip: Some(ip),
            authorization: header.as_deref(),
        };
        let mut facts = LogFacts::default();
        let result = block_on(require_super_admin(platform, caller, &mut facts));
        (result, facts)
    }

    #[test]
    fn admits_a_super_admin_within_its_limits() {
        let platform = FakePlatform::new();
        let (result, facts) = check(&platform, "203.0.113.1", Some(ADMIN_KEY));
        assert_eq!(result, Ok(()));
        assert_eq!(facts.kv_reads, 1);
        assert_eq!(facts.key.as_deref(), Some(platform.fingerprint(ADMIN_KEY).as_str()));
        assert_eq!(
            platform.counted(),
            vec![
                (Limit::ClientIp, "203.0.113.1".to_owned()),
                (Limit::ApiKey, platform.fingerprint(ADMIN_KEY))
            ]
        );
    }

    #[test]
    fn an_address_over_its_limit_costs_no_hash_and_no_kv_read() {
        let platform = FakePlatform::new().with_ip_limit(2);
        for _ in 0..2 {
            assert!(matches!(
                check(&platform, "198.51.100.7", Some("made-up")).0,
                Err(ApiError::Auth(AuthError::UnknownKey))
            ));
        }
        let (kv_before, hashes_before) = (platform.kv_reads(), platform.hashes());
        let (result, facts) = check(&platform, "198.51.100.7", Some("made-up"));
        assert_eq!(result, Err(ApiError::RateLimited(Limit::ClientIp)));
        assert_eq!((facts.kv_reads, facts.key), (0, None));
        assert_eq!((platform.kv_reads(), platform.hashes()), (kv_before, hashes_before));
        // Another address is counted on its own.
        assert_eq!(check(&platform, "198.51.100.8", Some(ADMIN_KEY)).0, Ok(()));
        // An IPv6 client is counted by its /64: another address in it is the same client.
        let platform = FakePlatform::new().with_ip_limit(1);
        assert!(check(&platform, "2001:db8:0:1::1", Some(ADMIN_KEY)).0.is_ok());
        assert_eq!(check(&platform, "2001:db8:0:1::2", Some(ADMIN_KEY)).0, Err(ApiError::RateLimited(Limit::ClientIp)));
        assert!(check(&platform, "2001:db8:0:2::1", Some(ADMIN_KEY)).0.is_ok());
    }

    #[test]
    fn a_key_over_its_limit_is_refused_after_authentication() {
        let platform = FakePlatform::new().with_key_limit(1);
        assert_eq!(check(&platform, "192.0.2.1", Some(ADMIN_KEY)).0, Ok(()));
        let (result, facts) = check(&platform, "192.0.2.2", Some(ADMIN_KEY));
        assert_eq!(result, Err(ApiError::RateLimited(Limit::ApiKey)));
        assert_eq!(facts.key.as_deref(), Some(platform.fingerprint(ADMIN_KEY).as_str()));
        // Keys that fail authentication are never counted against a key limit.
        assert!(check(&platform, "192.0.2.3", Some(VIEWER_KEY)).0.is_err());
        assert!(!platform
            .counted()
            .contains(&(Limit::ApiKey, platform.fingerprint(VIEWER_KEY))));
    }

    #[test]
    fn every_request_counts_against_its_address_even_without_a_key() {
        let platform = FakePlatform::new();
        let header = Caller::default();
        let mut facts = LogFacts::default();
        let result = block_on(require_super_admin(&platform, header, &mut facts));
        assert_eq!(result, Err(ApiError::Auth(AuthError::MissingCredentials)));
        assert_eq!(
            platform.counted(),
            vec![(Limit::ClientIp, crate::limits::UNKNOWN_CLIENT.to_owned())]
        );
        assert_eq!(
            check(&platform, "192.0.2.9", Some(VIEWER_KEY)).0,
            Err(ApiError::Auth(AuthError::InsufficientRole))
        );
    }
}
