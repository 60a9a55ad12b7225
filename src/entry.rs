//! The fetch event: route, run the one handler, finish the response, log one line.

use worker::{event, Context, Env, Headers, Request, Response};

use crate::auth;
use crate::cors::AllowedOrigins;
use crate::database;
use crate::error::ApiError;
use crate::keystore;
use crate::log::RequestLog;
use crate::openapi;
use crate::params::ReportRequest;
use crate::query;
use crate::report;
use crate::response::{Reply, ReportData};
use crate::routing::{dispatch, path_and_query, Dispatch, Route};

/// The settings (`[vars]`) a request needs, read once.
struct Settings {
    allowed_origins: AllowedOrigins,
    /// Benchmark and fault-injection routes and parameters: never on unless `DIAGNOSTICS` is `on`.
    diagnostics: bool,
}

impl Settings {
    fn from_env(env: &Env) -> Self {
        let var = |name| env.var(name).ok().map(|v| v.to_string());
        Self {
            allowed_origins: AllowedOrigins::parse(var("ALLOWED_ORIGINS").as_deref()),
            diagnostics: var("DIAGNOSTICS").as_deref() == Some("on"),
        }
    }
}

/// What a request leaves behind for its log line.
#[derive(Default)]
struct Trace {
    key_fingerprint: Option<String>,
    d1_rows_read: u64,
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// Defined by src/worker.mjs: answers the requests a panic leaves without a response.
    #[wasm_bindgen(js_namespace = globalThis, js_name = __callAnalyticsPanicked, catch)]
    fn report_panic(message: &str) -> Result<(), wasm_bindgen::JsValue>;
}

#[event(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        // Without the JS wrapper there is nobody to tell; the shim still resets the instance.
        let _ = report_panic(&info.to_string());
    }));
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let started = js_sys::Date::now();
    let request_id = keystore::random_uuid();
    // The raw method: workers-rs maps methods it does not know (QUERY, PROPFIND...) to GET.
    let method = req.inner().method();
    let url = req.inner().url();
    let (path, query) = path_and_query(&url);
    let settings = Settings::from_env(&env);
    let diagnostics = settings.diagnostics;
    let mut trace = Trace::default();

    let outcome = match dispatch(&method, path, diagnostics) {
        Dispatch::Handle(Route::CallsByPhoneNumber) => {
            calls_by_phone_number(&req, query, diagnostics, &env, &mut trace).await
        }
        Dispatch::Handle(Route::OpenApi) => Ok(Reply::document(openapi::DOCUMENT)),
        Dispatch::Handle(Route::DiagnosticsStatic) => {
            let pages = core::arch::wasm32::memory_size::<0>() as u64;
            Ok(Reply::diagnostic(pages * 65_536))
        }
        Dispatch::Handle(Route::DiagnosticsPanic) => diagnostics_panic().await,
        Dispatch::Preflight(_) => Ok(Reply::preflight()),
        Dispatch::MethodNotAllowed(route) => Err(ApiError::MethodNotAllowed(route)),
        Dispatch::NotFound => Err(ApiError::NotFound),
    };
    let (reply, error) = match outcome {
        Ok(reply) => (reply, None),
        Err(error) => (Reply::error(&error, &request_id), Some(error)),
    };

    let origin = req.headers().get("Origin").ok().flatten();
    let reply = reply.finish(
        &request_id,
        settings.allowed_origins.allow_origin(origin.as_deref()),
    );

    let line = RequestLog {
        level: RequestLog::level_for(reply.status),
        request_id: &request_id,
        method: &method,
        path,
        status: reply.status,
        duration_ms: js_sys::Date::now() - started,
        d1_rows_read: trace.d1_rows_read,
        key: trace.key_fingerprint.as_deref(),
        error: error.as_ref().and_then(ApiError::log_detail),
    }
    .to_line();
    if reply.status >= 500 {
        worker::console_error!("{line}");
    } else {
        worker::console_log!("{line}");
    }
    into_response(reply)
}

/// `GET /admin/analytics/calls/by-phone-number`: auth, then parameters, then the query.
async fn calls_by_phone_number(
    req: &Request,
    query: &str,
    diagnostics: bool,
    env: &Env,
    trace: &mut Trace,
) -> Result<Reply, ApiError> {
    let now_millis = js_sys::Date::now() as i64;

    let header = req.headers().get("Authorization").ok().flatten();
    let token = auth::bearer_token(header.as_deref())?;
    let hash = keystore::sha256(token).await?;
    trace.key_fingerprint = Some(auth::fingerprint(&hash));
    let keys = env
        .kv("API_KEYS")
        .map_err(|e| ApiError::internal("KV binding API_KEYS", e))?;
    let record = keystore::record(&keys, &auth::storage_name(&hash)).await?;
    auth::authorize(record.as_deref(), now_millis)?;

    let request = if diagnostics {
        ReportRequest::from_query_with_diagnostics(query, now_millis)?
    } else {
        ReportRequest::from_query(query, now_millis)?
    };

    let db = env
        .d1("DB")
        .map_err(|e| ApiError::internal("D1 binding DB", e))?;
    let (totals, rows_read) = database::bucket_totals(&db, &query::statement(&request)).await?;
    trace.d1_rows_read += rows_read;
    Ok(Reply::report(&ReportData::new(
        &request,
        report::rows(totals),
    )))
}

/// `GET /__diagnostics/panic` (DIAGNOSTICS=on only): a handler bug, after an await as in real handlers.
async fn diagnostics_panic() -> Result<Reply, ApiError> {
    keystore::sha256("diagnostics").await?;
    panic!("deliberate panic from /__diagnostics/panic");
}

fn into_response(reply: Reply) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in &reply.headers {
        headers.append(name, value)?;
    }
    let response = match reply.body {
        Some(body) => Response::ok(body)?,
        None => Response::empty()?,
    };
    Ok(response.with_status(reply.status).with_headers(headers))
}
