//! How often a caller may ask: two Workers Rate Limiting bindings (`[[ratelimits]]` in wrangler.toml, where
//! the numbers live). Per client IP, counted before a key is hashed or KV is read, so a flood of made-up keys
//! costs no KV read once its address is over the limit; per API key (its fingerprint), counted once the key
//! is known to be good.

/// The period of both limits, in seconds, as `[[ratelimits]]` in wrangler.toml sets it (Cloudflare allows 10
/// or 60). A limited caller is told to retry after this long: by then its window has passed, whichever way
/// the platform counts. `tests/e2e/abuse.test.mjs` checks that the configuration agrees.
pub const PERIOD_SECONDS: u32 = 60;

/// The key under which requests without a `CF-Connecting-IP` header (only outside Cloudflare, e.g. under
/// `wrangler dev` behind another proxy) share one count.
pub const UNKNOWN_CLIENT: &str = "unknown-client";

/// The key a client's address is counted under: an IPv4 address as it is; an IPv6 address by its /64, the
/// block one subscriber usually holds (so rotating through it does not reset the count); no address, one
/// shared key.
pub fn client_key(client_ip: Option<&str>) -> String {
    let Some(ip) = client_ip.map(str::trim) else {
        return UNKNOWN_CLIENT.to_owned();
    };
    match ip.parse::<std::net::Ipv6Addr>() {
        Ok(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => ip.to_owned(),
    }
}

/// The limits: per address and per key, for the report and the admin routes, and the webhook's own (a
/// platform sends every call's record from a few addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    ClientIp,
    ApiKey,
    WebhookIp,
    WebhookKey,
}

impl Limit {
    /// The binding that counts this limit.
    pub fn binding(self) -> &'static str {
        match self {
            Limit::ClientIp => "CLIENT_IP_LIMIT",
            Limit::ApiKey => "API_KEY_LIMIT",
            Limit::WebhookIp => "WEBHOOK_IP_LIMIT",
            Limit::WebhookKey => "WEBHOOK_KEY_LIMIT",
        }
    }

    /// Which limit, as the log line names it.
    pub fn name(self) -> &'static str {
        match self {
            Limit::ClientIp => "client_ip",
            Limit::ApiKey => "api_key",
            Limit::WebhookIp => "webhook_ip",
            Limit::WebhookKey => "webhook_key",
        }
    }

    /// The 429's message: what was exceeded and when to try again.
    pub fn message(self) -> String {
        let who = match self {
            Limit::ClientIp | Limit::WebhookIp => "from this address",
            Limit::ApiKey | Limit::WebhookKey => "with this API key",
        };
        format!("Too many requests {who}: slow down and retry after {PERIOD_SECONDS} seconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_an_ipv6_client_by_its_64() {
        assert_eq!(client_key(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_key(Some("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(client_key(Some(" 2001:DB8:1:2:ffff:ffff:ffff:ffff ")), "2001:db8:1:2::/64");
        assert_eq!(client_key(Some("::ffff:198.51.100.4")), "198.51.100.4");
        assert_eq!(client_key(None), UNKNOWN_CLIENT);
        assert_eq!(client_key(Some("not an address")), "not an address");
    }

    #[test]
    fn says_which_limit_and_when_to_retry() {
        assert_eq!(
            Limit::ClientIp.message(),
            "Too many requests from this address: slow down and retry after 60 seconds"
        );
        assert_eq!(
            Limit::ApiKey.message(),
            "Too many requests with this API key: slow down and retry after 60 seconds"
        );
        assert_eq!(Limit::ApiKey.name(), "api_key");
        assert_eq!(Limit::ClientIp.name(), "client_ip");
    }

    #[test]
    fn asks_for_bindings_wrangler_toml_declares_with_this_period() {
        // Each [[ratelimits]] block of the shipped configuration, as (name, its `simple = {...}` line).
        let config = include_str!("../../wrangler.toml");
        let blocks: Vec<(&str, &str)> = config
            .split("[[ratelimits]]")
            .skip(1)
            .map(|block| {
                let line = |key: &str| block.lines().find(|l| l.trim_start().starts_with(key)).unwrap_or("");
                (line("name").split('"').nth(1).unwrap_or(""), line("simple"))
            })
            .collect();
        for limit in [Limit::ClientIp, Limit::ApiKey, Limit::WebhookIp, Limit::WebhookKey] {
            let (_, simple) = blocks.iter().find(|(name, _)| *name == limit.binding()).unwrap_or_else(|| panic!("{} in wrangler.toml", limit.binding()));
            assert!(simple.contains(&format!("period = {PERIOD_SECONDS} ")), "{simple}");
        }
        assert_eq!(blocks.len(), 4);
    }
}
