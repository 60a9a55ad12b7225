//! Which handler a request goes to, from its method and path alone, and what of its path may be logged.

use std::borrow::Cow;

use crate::access::key::KEY_PREFIX;
use crate::access::Role;

/// The resources this worker serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /admin/analytics/calls/by-phone-number`
    CallsByPhoneNumber,
    /// `POST /webhooks/end-call/<ingest key>`, or `POST /webhooks/end-call` with the key as a bearer token.
    EndCall,
    /// `POST /admin/dead-letters/replay`: sends the deliveries that failed every retry to the calls queue
    /// again.
    DeadLettersReplay,
    /// `GET /openapi.json`: the API's OpenAPI document, without authentication.
    OpenApi,
    /// `GET /__diagnostics/static` and `/__diagnostics/panic` (see `diagnostics`): exist only when the
    /// `DIAGNOSTICS` var is `on`.
    DiagnosticsStatic,
    DiagnosticsPanic,
}

/// The end-call webhook's path; with the key, `/webhooks/end-call/<key>`.
const END_CALL: &str = "/webhooks/end-call";
/// What the log line shows for a path that carries a key.
const END_CALL_WITH_KEY: &str = "/webhooks/end-call/{key}";

impl Route {
    const ALL: [Route; 6] = [
        Route::CallsByPhoneNumber,
        Route::EndCall,
        Route::DeadLettersReplay,
        Route::OpenApi,
        Route::DiagnosticsStatic,
        Route::DiagnosticsPanic,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Route::CallsByPhoneNumber => "/admin/analytics/calls/by-phone-number",
            Route::EndCall => END_CALL,
            Route::DeadLettersReplay => "/admin/dead-letters/replay",
            Route::OpenApi => "/openapi.json",
            Route::DiagnosticsStatic => "/__diagnostics/static",
            Route::DiagnosticsPanic => "/__diagnostics/panic",
        }
    }

    fn diagnostic(self) -> bool {
        matches!(self, Route::DiagnosticsStatic | Route::DiagnosticsPanic)
    }

    /// The role of key the route needs (and counts against the rate limits), if any: an ingest key for
    /// the webhook, a super-admin key for the rest but the OpenAPI document.
    pub fn role(self) -> Option<Role> {
        match self {
            Route::OpenApi => None,
            Route::EndCall => Some(Role::Ingest),
            _ => Some(Role::SuperAdmin),
        }
    }

    /// Whether the route writes (answers POST) rather than reads (GET, and CORS preflights).
    fn writes(self) -> bool {
        matches!(self, Route::EndCall | Route::DeadLettersReplay)
    }

    /// The `Allow` header's value for this resource.
    pub fn allow(self) -> &'static str {
        if self.writes() {
            "POST"
        } else {
            "GET, OPTIONS"
        }
    }
}

/// The key in a webhook's path (`/webhooks/end-call/<key>`), if there is one.
pub fn path_key(path: &str) -> Option<&str> {
    path.strip_prefix(END_CALL)?.strip_prefix('/').filter(|key| !key.is_empty() && !key.contains('/'))
}

/// The path as the log may show it: never a key. Whatever follows the webhook's path, served or not, is
/// `{key}`; so is, anywhere in any path, whatever follows our keys' prefix (a near miss: `//webhooks/...`,
/// `/webhooks/end-call<key>`, an encoded slash).
pub fn loggable_path(path: &str) -> Cow<'_, str> {
    if path.strip_prefix(END_CALL).is_some_and(|rest| rest.starts_with('/')) {
        return Cow::Borrowed(END_CALL_WITH_KEY);
    }
    match path.find(KEY_PREFIX) {
        Some(at) => Cow::Owned(format!("{}{{key}}", &path[..at])),
        None => Cow::Borrowed(path),
    }
}

/// What to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    Handle(Route),
    /// A CORS preflight (`OPTIONS`): answered without authentication.
    Preflight(Route),
    MethodNotAllowed(Route),
    NotFound,
}

/// The path and the raw (still percent-encoded) query of an absolute URL as the runtime serializes it
/// (`https://host/path?query#fragment`). Splitting the serialized URL avoids a URL parser (and its
/// IDNA tables) in the wasm bundle.
pub fn path_and_query(url: &str) -> (&str, &str) {
    let after_scheme = url.as_bytes().windows(3).position(|w| w == b"://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let rest = &rest[rest.find('/').unwrap_or(rest.len())..];
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    (if path.is_empty() { "/" } else { path }, query)
}

/// `diagnostics`: whether the diagnostics-only routes exist (the `DIAGNOSTICS` var is `on`).
pub fn dispatch(method: &str, path: &str, diagnostics: bool) -> Dispatch {
    let path = if path_key(path).is_some() { END_CALL } else { path };
    let found = Route::ALL
        .into_iter()
        .find(|route| route.path() == path && (diagnostics || !route.diagnostic()));
    let Some(route) = found else {
        return Dispatch::NotFound;
    };
    match (method, route.writes()) {
        ("GET", false) | ("POST", true) => Dispatch::Handle(route),
        ("OPTIONS", false) => Dispatch::Preflight(route),
        _ => Dispatch::MethodNotAllowed(route),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/admin/analytics/calls/by-phone-number";

    #[test]
    fn splits_path_and_query() {
        assert_eq!(
            path_and_query("https://a.io/x/y?b=1&c=%2B#f"),
            ("/x/y", "b=1&c=%2B")
        );
        assert_eq!(
            path_and_query("http://127.0.0.1:8787/admin?"),
            ("/admin", "")
        );
        assert_eq!(path_and_query("http://127.0.0.1:8787/"), ("/", ""));
        assert_eq!(path_and_query("http://127.0.0.1:8787"), ("/", ""));
        assert_eq!(path_and_query("https://a.io/p?q=a?b#c?d"), ("/p", "q=a?b"));
        assert_eq!(path_and_query("https://a.io/p#c?d"), ("/p", ""));
    }

    #[test]
    fn dispatches_by_method_and_exact_path() {
        assert_eq!(
            dispatch("GET", PATH, false),
            Dispatch::Handle(Route::CallsByPhoneNumber)
        );
        assert_eq!(
            dispatch("OPTIONS", PATH, false),
            Dispatch::Preflight(Route::CallsByPhoneNumber)
        );
        for method in ["POST", "PUT", "DELETE", "PATCH", "HEAD", "get"] {
            assert_eq!(
                dispatch(method, PATH, false),
                Dispatch::MethodNotAllowed(Route::CallsByPhoneNumber)
            );
        }
        for path in [
            "/",
            "/admin/analytics/calls/by-phone-number/",
            "/admin/analytics/calls",
            "/ADMIN/analytics/calls/by-phone-number",
        ] {
            assert_eq!(dispatch("GET", path, false), Dispatch::NotFound, "{path}");
            assert_eq!(
                dispatch("OPTIONS", path, false),
                Dispatch::NotFound,
                "{path}"
            );
        }
        assert_eq!(Route::CallsByPhoneNumber.allow(), "GET, OPTIONS");
    }

    #[test]
    fn the_webhook_takes_post_with_its_key_in_the_path_or_not() {
        for path in ["/webhooks/end-call", "/webhooks/end-call/cak_x"] {
            assert_eq!(dispatch("POST", path, false), Dispatch::Handle(Route::EndCall), "{path}");
            for method in ["GET", "OPTIONS", "PUT"] {
                assert_eq!(dispatch(method, path, false), Dispatch::MethodNotAllowed(Route::EndCall), "{method} {path}");
            }
        }
        for path in ["/webhooks/end-call/", "/webhooks/end-call/a/b", "/webhooks/end-callx", "/webhooks"] {
            assert_eq!(dispatch("POST", path, false), Dispatch::NotFound, "{path}");
        }
        assert_eq!(path_key("/webhooks/end-call/cak_x"), Some("cak_x"));
        assert_eq!(path_key("/webhooks/end-call"), None);
        assert_eq!(loggable_path("/webhooks/end-call/cak_secret"), "/webhooks/end-call/{key}");
        assert_eq!(loggable_path("/webhooks/end-call"), "/webhooks/end-call");
        for unserved in ["/webhooks/end-call/cak_secret/", "/webhooks/end-call/cak_secret/extra", "/webhooks/end-call//cak_secret"] {
            assert_eq!(loggable_path(unserved), "/webhooks/end-call/{key}", "{unserved}");
        }
        for near in ["//webhooks/end-call/cak_secret", "/webhooks/end-callcak_secret", "/webhooks/end-call%2Fcak_secret", "/Webhooks/end-call/cak_secret"] {
            let logged = loggable_path(near);
            assert!(!logged.contains("secret") && logged.ends_with("{key}"), "{near}: {logged}");
        }
        assert_eq!(loggable_path("/admin/analytics/calls/by-phone-number"), "/admin/analytics/calls/by-phone-number");
        assert_eq!(Route::EndCall.allow(), "POST");
        assert_eq!(Route::EndCall.role(), Some(Role::Ingest));
        assert_eq!(Route::CallsByPhoneNumber.role(), Some(Role::SuperAdmin));
        assert_eq!(Route::OpenApi.role(), None);
        assert_eq!(dispatch("POST", "/admin/dead-letters/replay", false), Dispatch::Handle(Route::DeadLettersReplay));
        assert_eq!(dispatch("GET", "/admin/dead-letters/replay", false), Dispatch::MethodNotAllowed(Route::DeadLettersReplay));
    }

    #[test]
    fn diagnostics_routes_exist_only_when_switched_on() {
        assert_eq!(
            dispatch("GET", "/__diagnostics/static", false),
            Dispatch::NotFound
        );
        assert_eq!(
            dispatch("GET", "/__diagnostics/static", true),
            Dispatch::Handle(Route::DiagnosticsStatic)
        );
        assert_eq!(
            dispatch("GET", "/__diagnostics/panic", false),
            Dispatch::NotFound
        );
        assert_eq!(
            dispatch("GET", "/__diagnostics/panic", true),
            Dispatch::Handle(Route::DiagnosticsPanic)
        );
        assert_eq!(
            dispatch("GET", PATH, true),
            Dispatch::Handle(Route::CallsByPhoneNumber)
        );
    }
}
