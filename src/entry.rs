//! The fetch event (wasm only): read the request, serve it on Cloudflare (`http`), write its log line, turn
//! the reply into a Response. Uses `platform` (its Cloudflare implementation), `access` (this isolate's
//! memory of keys) and `http`.
//!
//! A Rust panic aborts the wasm instance (panic=abort) and every request in flight on it. So before a request
//! runs, its 500 answer is prepared here and handed to `src/worker.mjs`, which sends it if the instance dies;
//! the panic hook, still running Rust, writes the log line of each request it leaves unanswered.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use worker::{event, Context, Env, Headers, Request, Response};

use crate::access::{Caller, KeyMemory};
use crate::http::response::Reply;
use crate::http::{self, Incoming, Settings};
use crate::platform::cloudflare::{random_uuid, Cloudflare};

#[wasm_bindgen]
extern "C" {
    /// Defined by src/worker.mjs: keeps a request's prepared panic answer (as `Reply::to_json`).
    #[wasm_bindgen(js_namespace = globalThis, js_name = __callAnalyticsPrepared, catch)]
    fn prepare_panic_answer(request: &JsValue, reply_json: &str) -> Result<(), JsValue>;

    /// Defined by src/worker.mjs: the instance is dead; answer the requests in flight on it.
    #[wasm_bindgen(js_namespace = globalThis, js_name = __callAnalyticsPanicked, catch)]
    fn report_panic() -> Result<(), JsValue>;
}

/// A request in flight on this instance, for the log line the panic hook writes if the instance dies.
struct InFlight {
    request_id: String,
    method: String,
    url: String,
    started: f64,
}

thread_local! {
    static IN_FLIGHT: RefCell<Vec<InFlight>> = const { RefCell::new(Vec::new()) };
    /// What this isolate remembers of API keys, across its requests.
    static KEYS: Rc<KeyMemory> = Rc::new(KeyMemory::default());
}

/// Removes a request from `IN_FLIGHT` when it finishes (or is dropped, e.g. when the client goes away).
struct Landed<'a>(&'a str);

impl Drop for Landed<'_> {
    fn drop(&mut self) {
        IN_FLIGHT.with(|all| all.borrow_mut().retain(|r| r.request_id != self.0));
    }
}

#[event(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        let now = js_sys::Date::now();
        let panic = info.to_string();
        IN_FLIGHT.with(|all| {
            let Ok(mut all) = all.try_borrow_mut() else {
                return;
            };
            for request in all.drain(..) {
                let line = http::panic_log_line(
                    &request.request_id,
                    &request.method,
                    &request.url,
                    now - request.started,
                    &panic,
                );
                worker::console_error!("{line}");
            }
        });
        // Without the JS wrapper there is nobody to tell; worker-build's shim still resets the instance.
        let _ = report_panic();
    }));
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let started = js_sys::Date::now();
    let request_id = random_uuid();
    let method = req.inner().method();
    let url = req.inner().url();
    let header = |name| req.headers().get(name).ok().flatten();
    let (origin, client_ip, authorization) = (
        header("Origin"),
        header("CF-Connecting-IP"),
        header("Authorization"),
    );
    let var = |name| env.var(name).ok().map(|v| v.to_string());
    let settings = Settings::from_vars(
        var("ALLOWED_ORIGINS").as_deref(),
        var("DIAGNOSTICS").as_deref(),
    );
    let incoming = Incoming {
        method: &method,
        url: &url,
        origin: origin.as_deref(),
        caller: Caller {
            client_ip: client_ip.as_deref(),
            authorization: authorization.as_deref(),
        },
    };

    let panic_reply = http::panic_reply(&settings, incoming, &request_id);
    // Outside the wrapper (no such global) nothing keeps it; the request then fails as workerd decides.
    let _ = prepare_panic_answer(req.inner(), &panic_reply.to_json());
    IN_FLIGHT.with(|all| {
        all.borrow_mut().push(InFlight {
            request_id: request_id.clone(),
            method: method.clone(),
            url: url.clone(),
            started,
        })
    });
    let _landed = Landed(&request_id);

    let memory = KEYS.with(Rc::clone);
    let served = http::serve(&Cloudflare::new(env), &memory, &settings, incoming, &request_id, started).await;
    if served.error {
        worker::console_error!("{}", served.log_line);
    } else {
        worker::console_log!("{}", served.log_line);
    }
    into_response(served.reply)
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
