//! The HTTP surface: one request, start to finish, on any [`Platform`]: route it (`routing`), check access
//! for protected routes (`access`), decode its query string (`query_string`) or read its body, run its
//! handler (the resources: `report`, `ingest`; `diagnostics`), turn every failure into its status (`error`),
//! wrap the answer in the envelope with the headers every response carries (`response`, `cors`), and write
//! its log line (`log`). Uses `time`, `call`, `platform` (its trait), `access`, `report` and `ingest`.

use crate::access::{self, Caller, KeyMemory};
use crate::http::cors::AllowedOrigins;
use crate::http::error::ApiError;
use crate::http::log::{LogFacts, RequestLog};
use crate::http::query_string::decode_pairs;
use crate::http::response::Reply;
use crate::http::routing::{dispatch, loggable_path, path_and_query, path_key, Dispatch, Route};
use crate::ingest::{self, dead_letters};
use crate::platform::Platform;
use crate::report;

pub mod cors;
pub mod diagnostics;
pub mod error;
pub mod log;
pub mod query_string;
pub mod response;
pub mod routing;

/// The settings (`[vars]`) a request needs, read once per request.
#[derive(Debug, Clone)]
pub struct Settings {
    pub allowed_origins: AllowedOrigins,
    /// Diagnostics routes and parameters exist only when the `DIAGNOSTICS` var is `on`.
    pub diagnostics: bool,
}

impl Settings {
    /// From the vars' values (`None` when unset).
    pub fn from_vars(allowed_origins: Option<&str>, diagnostics: Option<&str>) -> Self {
        Self {
            allowed_origins: AllowedOrigins::parse(allowed_origins),
            diagnostics: diagnostics == Some("on"),
        }
    }
}

/// What the worker reads of a request (its body apart: see [`Body`]).
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The raw method: workers-rs maps methods it does not know (QUERY, PROPFIND...) to GET.
    pub method: &'a str,
    /// The absolute URL as the runtime serializes it.
    pub url: &'a str,
    pub origin: Option<&'a str>,
    pub caller: Caller<'a>,
    /// The `Content-Length` header's value, when there is one.
    pub content_length: Option<&'a str>,
}

/// A request's body, read only by the routes that take one, and only once access is granted.
#[allow(async_fn_in_trait)]
pub trait Body {
    /// The whole body, or `TooLarge` as soon as it is longer than `max` bytes (read no further).
    async fn read(&mut self, max: usize) -> Result<Vec<u8>, BodyRead>;
}

/// A body that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRead {
    TooLarge,
    /// The client went away, or the runtime failed: the detail is for the log.
    Failed(String),
}

/// A body already in memory (the host tests').
impl Body for &[u8] {
    async fn read(&mut self, max: usize) -> Result<Vec<u8>, BodyRead> {
        if self.len() > max {
            Err(BodyRead::TooLarge)
        } else {
            Ok(self.to_vec())
        }
    }
}

/// A finished request: the reply to send and the log line to write (`error`: at error level).
#[derive(Debug)]
pub struct Served {
    pub reply: Reply,
    pub log_line: String,
    pub error: bool,
}

/// One request as its handler sees it.
struct Request<'a, B> {
    settings: &'a Settings,
    incoming: Incoming<'a>,
    path: &'a str,
    query: &'a str,
    body: B,
    request_id: &'a str,
}

/// Serves one request. `memory`: what this isolate remembers of keys, shared by its requests.
pub async fn serve<P: Platform, B: Body>(
    platform: &P,
    memory: &KeyMemory,
    settings: &Settings,
    incoming: Incoming<'_>,
    body: B,
    request_id: &str,
    started_millis: f64,
) -> Served {
    let (path, query) = path_and_query(incoming.url);
    let mut facts = LogFacts::default();
    let request = Request { settings, incoming, path, query, body, request_id };
    let outcome = match dispatch(incoming.method, path, settings.diagnostics) {
        Dispatch::Handle(route) => handle(platform, memory, route, request, &mut facts).await,
        Dispatch::Preflight(_) => Ok(Reply::preflight()),
        Dispatch::MethodNotAllowed(route) => Err(ApiError::MethodNotAllowed(route)),
        Dispatch::NotFound => Err(ApiError::NotFound),
    };
    let (reply, error) = match outcome {
        Ok(reply) => (reply, None),
        Err(error) => (Reply::error(&error, request_id), Some(error)),
    };
    let reply = finish(reply, settings, incoming, request_id);
    let line = RequestLog {
        level: RequestLog::level_for(reply.status),
        request_id,
        method: incoming.method,
        path: &loggable_path(path),
        status: reply.status,
        duration_ms: platform.now_millis() - started_millis,
        d1_rows_read: facts.d1_rows_read,
        kv_reads: facts.access.kv_reads,
        key: facts.access.key.as_deref(),
        rate_limited: match &error {
            Some(ApiError::RateLimited(limit)) => Some(limit.name()),
            _ => None,
        },
        error: error.as_ref().and_then(ApiError::log_detail),
    };
    Served {
        log_line: line.to_line(),
        error: line.is_error(),
        reply,
    }
}

/// The 500 this request gets if the instance dies under it (a panic): prepared before it runs, because
/// nothing of this code can run after. `src/worker.mjs` sends it; the panic hook writes its log line.
pub fn panic_reply(settings: &Settings, incoming: Incoming<'_>, request_id: &str) -> Reply {
    let error = ApiError::Internal("worker panicked".into());
    finish(Reply::error(&error, request_id), settings, incoming, request_id)
}

/// The log line of a request whose instance died under it.
pub fn panic_log_line(
    request_id: &str,
    method: &str,
    url: &str,
    duration_ms: f64,
    panic: &str,
) -> String {
    let detail = format!("worker panicked: {panic}");
    RequestLog {
        level: RequestLog::level_for(500),
        request_id,
        method,
        path: &loggable_path(path_and_query(url).0),
        status: 500,
        duration_ms,
        d1_rows_read: 0,
        kv_reads: 0,
        key: None,
        rate_limited: None,
        error: Some(&detail),
    }
    .to_line()
}

fn finish(reply: Reply, settings: &Settings, incoming: Incoming<'_>, request_id: &str) -> Reply {
    reply.finish(
        request_id,
        settings.allowed_origins.allow_origin(incoming.origin),
    )
}

async fn handle<P: Platform, B: Body>(
    platform: &P,
    memory: &KeyMemory,
    route: Route,
    mut request: Request<'_, B>,
    facts: &mut LogFacts,
) -> Result<Reply, ApiError> {
    if route == Route::EndCall && declared_too_large(request.incoming.content_length) {
        return Err(ApiError::PayloadTooLarge);
    }
    if let Some(role) = route.role() {
        let caller = Caller {
            path_key: path_key(request.path),
            ..request.incoming.caller
        };
        access::require(platform, memory, caller, role, &mut facts.access).await?;
    }
    match route {
        Route::CallsByPhoneNumber => {
            let pairs = decode_pairs(request.query).map_err(|_| ApiError::MalformedQuery)?;
            let diagnostics = request.settings.diagnostics;
            let data = report::answer(platform, pairs, diagnostics, &mut facts.d1_rows_read).await?;
            Ok(Reply::success(report::SUCCESS_MESSAGE, &data))
        }
        Route::EndCall => {
            // A body the runtime could not read is ours to fail (503: the platform sends it again); a body
            // that is not text can never be counted (400).
            let body = request.body.read(ingest::MAX_BODY_BYTES).await.map_err(|read| match read {
                BodyRead::TooLarge => ApiError::PayloadTooLarge,
                BodyRead::Failed(detail) => ApiError::Unavailable(detail),
            })?;
            let body = String::from_utf8(body).map_err(|_| ApiError::NotUtf8)?;
            let now = platform.now_millis() as i64;
            let accepted = ingest::accept(platform, &body, now, request.request_id).await?;
            Ok(Reply::accepted(ingest::ACCEPTED_MESSAGE, &accepted))
        }
        Route::DeadLettersReplay => Ok(Reply::success(DEAD_LETTERS_REPLAYED, &dead_letters::replay(platform).await?)),
        Route::OpenApi => Ok(Reply::document(platform.asset(Route::OpenApi.path()).await?)),
        Route::DiagnosticsStatic => Ok(diagnostics::memory(platform)),
        Route::DiagnosticsPanic => diagnostics::panic(platform).await,
    }
}

pub const DEAD_LETTERS_REPLAYED: &str = "Dead letters replayed";

/// Whether a declared `Content-Length` is beyond what a webhook may send (so nothing of it is read).
fn declared_too_large(content_length: Option<&str>) -> bool {
    content_length
        .and_then(|length| length.trim().parse::<u64>().ok())
        .is_some_and(|length| length > ingest::MAX_BODY_BYTES as u64)
}

#[cfg(test)]
mod openapi;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::limits::Limit;
    use crate::platform::memory::{block_on, MemoryPlatform, ADMIN_KEY, NOW};

    const ENDPOINT: &str = "https://api.example.com/admin/analytics/calls/by-phone-number";

    fn settings(diagnostics: bool) -> Settings {
        Settings::from_vars(
            Some("https://admin.example.com"),
            diagnostics.then_some("on"),
        )
    }

    fn serve_get(platform: &MemoryPlatform, url: &str, key: Option<&str>, diagnostics: bool) -> Served {
        let header = key.map(|k| format!("Bearer {k}"));
        let incoming = Incoming {
            method: "GET",
            url,
            origin: Some("https://admin.example.com"),
            caller: Caller {
                client_ip: Some("203.0.113.5"),
                authorization: header.as_deref(),
                path_key: None,
            },
            content_length: None,
        };
        block_on(serve(platform, &KeyMemory::default(), &settings(diagnostics), incoming, &b""[..], "req-1", NOW - 3.0))
    }

    fn log(served: &Served) -> serde_json::Value {
        serde_json::from_str(&served.log_line).unwrap()
    }

    #[test]
    fn a_good_request_runs_the_whole_sequence_and_logs_it() {
        let platform = MemoryPlatform::new().with_rows(&[&["+1", "0:2:90000"]], 7);
        let served = serve_get(&platform, &format!("{ENDPOINT}?user_email=a@x.io"), Some(ADMIN_KEY), false);
        assert_eq!(served.reply.status, 200);
        assert_eq!(served.reply.header("x-request-id"), Some("req-1"));
        assert_eq!(
            served.reply.header("access-control-allow-origin"),
            Some("https://admin.example.com")
        );
        assert_eq!(platform.statements().len(), 1);
        let body: serde_json::Value = serde_json::from_str(served.reply.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["message"], report::SUCCESS_MESSAGE);
        assert_eq!(body["data"]["phone_numbers"][0]["total_duration_minutes"], 1.5);
        let line = log(&served);
        assert_eq!(line["status"], 200);
        assert_eq!(line["path"], "/admin/analytics/calls/by-phone-number");
        assert_eq!(line["duration_ms"], 3.0);
        assert_eq!(line["d1_rows_read"], 7);
        assert_eq!(line["kv_reads"], 1);
        assert_eq!(line["key"], platform.fingerprint(ADMIN_KEY));
        assert!(!served.log_line.contains("a@x.io"), "no query in the log");
        assert!(!served.error);
    }

    #[test]
    fn a_malformed_query_string_is_a_400_after_access() {
        let platform = MemoryPlatform::new();
        let served = serve_get(&platform, &format!("{ENDPOINT}?user_email=%FF"), Some(ADMIN_KEY), false);
        assert_eq!(served.reply.status, 400);
        assert!(served.reply.body.unwrap().contains("The query string is malformed"));
        assert!(platform.statements().is_empty());
        assert_eq!(serve_get(&platform, &format!("{ENDPOINT}?user_email=%FF"), None, false).reply.status, 401);
    }

    #[test]
    fn access_is_checked_before_parameters() {
        let platform = MemoryPlatform::new();
        let served = serve_get(&platform, &format!("{ENDPOINT}?start_date=bad"), None, false);
        assert_eq!(served.reply.status, 401);
        assert!(platform.statements().is_empty());
    }

    #[test]
    fn a_rate_limited_request_says_which_limit_in_the_log_only() {
        let platform = MemoryPlatform::new().with_limit(Limit::ClientIp.binding(), 0);
        let served = serve_get(&platform, ENDPOINT, Some(ADMIN_KEY), false);
        assert_eq!(served.reply.status, 429);
        assert_eq!(served.reply.header("retry-after"), Some("60"));
        assert_eq!(
            served.reply.header("access-control-expose-headers"),
            Some("X-Request-Id, Retry-After")
        );
        let line = log(&served);
        assert_eq!(line["rate_limited"], "client_ip");
        assert_eq!(line["kv_reads"], 0);
        assert_eq!(platform.kv_reads(), 0);
    }

    #[test]
    fn diagnostics_need_the_switch_and_a_key() {
        let platform = MemoryPlatform::new();
        let url = "https://api.example.com/__diagnostics/static";
        assert_eq!(serve_get(&platform, url, Some(ADMIN_KEY), false).reply.status, 404);
        assert_eq!(serve_get(&platform, url, None, true).reply.status, 401);
        let served = serve_get(&platform, url, Some(ADMIN_KEY), true);
        assert_eq!(served.reply.status, 200);
        assert_eq!(
            served.reply.body.as_deref(),
            Some(r#"{"success":true,"message":"static","data":{"wasm_memory_bytes":0}}"#)
        );
    }

    #[test]
    fn internal_errors_are_logged_at_error_level_with_their_detail() {
        let platform = MemoryPlatform::new().with_failing_database();
        let served = serve_get(&platform, ENDPOINT, Some(ADMIN_KEY), false);
        assert_eq!(served.reply.status, 500);
        assert!(served.error);
        assert_eq!(log(&served)["error"], "D1 query failed: no such table: calls_by_day");
        assert!(!served.reply.body.unwrap().contains("calls_by_day"));
    }

    #[test]
    fn the_prepared_panic_answer_is_the_500_envelope_with_the_usual_headers() {
        let incoming = Incoming {
            method: "GET",
            url: ENDPOINT,
            origin: Some("https://admin.example.com"),
            caller: Caller::default(),
            content_length: None,
        };
        let reply = panic_reply(&settings(false), incoming, "req-9");
        assert_eq!(reply.status, 500);
        assert_eq!(
            reply.body.as_deref(),
            Some(r#"{"success":false,"message":"Internal server error (request id req-9)","data":null}"#)
        );
        assert_eq!(reply.header("x-request-id"), Some("req-9"));
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("https://admin.example.com")
        );
        let line: serde_json::Value =
            serde_json::from_str(&panic_log_line("req-9", "GET", ENDPOINT, 4.0, "boom")).unwrap();
        assert_eq!(line["status"], 500);
        assert_eq!(line["level"], "error");
        assert_eq!(line["error"], "worker panicked: boom");
        assert_eq!(line["path"], "/admin/analytics/calls/by-phone-number");
    }
}
