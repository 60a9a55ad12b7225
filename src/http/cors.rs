//! Cross-origin access for browser admin pages, from the `ALLOWED_ORIGINS` setting.
//!
//! `ALLOWED_ORIGINS` is `*` or a comma-separated list of origins (`https://admin.example.com`). A request
//! from an allowed origin gets `Access-Control-Allow-Origin` naming that one origin (or `*`), on every
//! response, errors included; every response also carries `Vary: Origin`. Preflights allow `GET` with the
//! `Authorization` header.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigins {
    Any,
    List(Vec<String>),
}

pub const ALLOW_METHODS: &str = "GET, OPTIONS";
pub const ALLOW_HEADERS: &str = "Authorization";
/// Response headers a page's script may read.
pub const EXPOSE_HEADERS: &str = "X-Request-Id, Retry-After";
/// How long a browser may reuse a preflight answer, in seconds.
pub const MAX_AGE_SECONDS: &str = "600";

impl AllowedOrigins {
    /// Reads the setting; a missing or empty setting allows no cross-origin caller. Entries are trimmed,
    /// compared case-insensitively and without a trailing `/`.
    pub fn parse(setting: Option<&str>) -> Self {
        let setting = setting.unwrap_or("").trim();
        if setting == "*" {
            return AllowedOrigins::Any;
        }
        AllowedOrigins::List(
            setting
                .split(',')
                .map(normalize)
                .filter(|origin| !origin.is_empty())
                .collect(),
        )
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if that origin is allowed.
    pub fn allow_origin(&self, origin: Option<&str>) -> Option<String> {
        let origin = origin?.trim();
        match self {
            AllowedOrigins::Any => Some("*".to_owned()),
            AllowedOrigins::List(allowed) => {
                let origin_normalized = normalize(origin);
                allowed
                    .iter()
                    .any(|a| *a == origin_normalized)
                    .then(|| origin.to_owned())
            }
        }
    }
}

fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflects_a_listed_origin_only() {
        let origins =
            AllowedOrigins::parse(Some(" https://admin.example.com/, http://127.0.0.1:8788 ,"));
        assert_eq!(
            origins,
            AllowedOrigins::List(vec![
                "https://admin.example.com".into(),
                "http://127.0.0.1:8788".into()
            ])
        );
        assert_eq!(
            origins.allow_origin(Some("https://admin.example.com")),
            Some("https://admin.example.com".into())
        );
        assert_eq!(
            origins.allow_origin(Some("HTTPS://Admin.Example.com")),
            Some("HTTPS://Admin.Example.com".into())
        );
        assert_eq!(
            origins.allow_origin(Some("http://127.0.0.1:8788")),
            Some("http://127.0.0.1:8788".into())
        );
        for other in [
            "https://evil.example.com",
            "https://admin.example.com.evil.io",
            "http://127.0.0.1:8787",
            "null",
            "",
        ] {
            assert_eq!(origins.allow_origin(Some(other)), None, "{other}");
        }
        assert_eq!(origins.allow_origin(None), None);
    }

    #[test]
    fn star_allows_every_origin_and_nothing_allows_none() {
        assert_eq!(
            AllowedOrigins::parse(Some("*")).allow_origin(Some("https://x.io")),
            Some("*".into())
        );
        assert_eq!(AllowedOrigins::parse(Some("*")).allow_origin(None), None);
        for setting in [None, Some(""), Some(" , ")] {
            assert_eq!(
                AllowedOrigins::parse(setting).allow_origin(Some("https://x.io")),
                None
            );
        }
    }
}
