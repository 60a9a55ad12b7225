//! Which handler a request goes to, from its method and path alone.

/// The resources this worker serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /admin/analytics/calls/by-phone-number`
    CallsByPhoneNumber,
    /// `GET /openapi.json`: the API's OpenAPI document, without authentication.
    OpenApi,
    /// `GET /__diagnostics/static` and `/__diagnostics/panic` (see `diagnostics`): exist only when the
    /// `DIAGNOSTICS` var is `on`.
    DiagnosticsStatic,
    DiagnosticsPanic,
}

impl Route {
    const ALL: [Route; 4] = [
        Route::CallsByPhoneNumber,
        Route::OpenApi,
        Route::DiagnosticsStatic,
        Route::DiagnosticsPanic,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Route::CallsByPhoneNumber => "/admin/analytics/calls/by-phone-number",
            Route::OpenApi => "/openapi.json",
            Route::DiagnosticsStatic => "/__diagnostics/static",
            Route::DiagnosticsPanic => "/__diagnostics/panic",
        }
    }

    fn diagnostic(self) -> bool {
        matches!(self, Route::DiagnosticsStatic | Route::DiagnosticsPanic)
    }

    /// Whether the route needs a super-admin key (and counts against the rate limits): all but the
    /// OpenAPI document.
    pub fn protected(self) -> bool {
        self != Route::OpenApi
    }

    /// The `Allow` header's value for this resource.
    pub fn allow(self) -> &'static str {
        "GET, OPTIONS"
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
    let found = Route::ALL
        .into_iter()
        .find(|route| route.path() == path && (diagnostics || !route.diagnostic()));
    let Some(route) = found else {
        return Dispatch::NotFound;
    };
    match method {
        "GET" => Dispatch::Handle(route),
        "OPTIONS" => Dispatch::Preflight(route),
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
