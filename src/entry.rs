//! The wasm events, on Cloudflare: fetch (read the request, serve it with `http`, write its log line, turn
//! the reply into a Response) and queue (hand a batch to `ingest::consumer`, then acknowledge or retry each
//! message as it says). Uses `platform` (its Cloudflare implementation), `access` (this isolate's memory of
//! keys), `ingest` and `http`.
//!
//! A Rust panic aborts the wasm instance (panic=abort) and every request in flight on it. So before a request
//! runs, its 500 answer is prepared here and handed to `src/worker.mjs`, which sends it if the instance dies;
//! the panic hook, still running Rust, writes the log line of each request it leaves unanswered.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{futures::JsFuture, Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use worker::{event, web_sys, Env};

use crate::access::{Caller, KeyMemory};
use crate::http::response::Reply;
use crate::http::{self, Body, BodyRead, Incoming, Settings};
use crate::ingest::consumer::{self, Message, Outcome};
use crate::ingest::DEAD_LETTER_QUEUE;
use crate::platform::cloudflare::{js_string, random_uuid, Cloudflare};

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
                web_sys::console::error_1(&JsValue::from_str(&line));
            }
        });
        // Without the JS wrapper there is nobody to tell; worker-build's shim still resets the instance.
        let _ = report_panic();
    }));
}

/// The fetch event (exported as `fetch`: worker-build's shim calls it for each request). Without workers-rs's
/// `#[event(fetch)]`, whose glue converts requests and responses through its own types and formats its
/// errors: everything a response is, is decided in `http`.
#[wasm_bindgen(wasm_bindgen_futures = ::worker::wasm_bindgen_futures)]
pub async fn fetch(req: web_sys::Request, env: Env, _ctx: JsValue) -> Result<JsValue, JsValue> {
    let started = js_sys::Date::now();
    let request_id = random_uuid();
    let method = req.method();
    let url = req.url();
    let headers = req.headers();
    let header = |name| headers.get(name).ok().flatten();
    let (origin, client_ip, authorization, content_length) = (
        header("Origin"),
        header("CF-Connecting-IP"),
        header("Authorization"),
        header("Content-Length"),
    );
    let var = |name: &str| Reflect::get(&env, &name.into()).ok().and_then(|v| v.as_string());
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
            path_key: None,
        },
        content_length: content_length.as_deref(),
    };

    let panic_reply = http::panic_reply(&settings, incoming, &request_id);
    // Outside the wrapper (no such global) nothing keeps it; the request then fails as workerd decides.
    let _ = prepare_panic_answer(&req, &panic_reply.to_json());
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
    let declared = content_length.as_deref().and_then(|length| length.trim().parse().ok());
    let body = StreamBody { request: &req, declared };
    let served = http::serve(&Cloudflare::new(env), &memory, &settings, incoming, body, &request_id, started).await;
    let line = JsValue::from_str(&served.log_line);
    if served.error {
        web_sys::console::error_1(&line);
    } else {
        web_sys::console::log_1(&line);
    }
    into_response(served.reply).map(JsValue::from)
}

fn into_response(reply: Reply) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &reply.headers {
        headers.append(name, value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(reply.status);
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_str_and_init(reply.body.as_deref(), &init)
}

/// A request's body, read chunk by chunk from its stream, never past the most a route takes.
struct StreamBody<'a> {
    request: &'a web_sys::Request,
    /// The declared `Content-Length`, to size the buffer once (never past the most a route takes, nor
    /// [`PRESIZE_MAX_BYTES`]: a header costs a caller nothing, and linear memory never shrinks).
    declared: Option<usize>,
}

/// The most memory a declared length alone makes us set aside: a long call's record is a few hundred KB.
const PRESIZE_MAX_BYTES: usize = 1 << 20;

impl Body for StreamBody<'_> {
    async fn read(&mut self, max: usize) -> Result<Vec<u8>, BodyRead> {
        let Some(stream) = self.request.body() else {
            return Ok(Vec::new());
        };
        let failed = |error: JsValue| BodyRead::Failed(format!("reading the body failed: {}", js_string(&error)));
        let method = |target: &JsValue, name: &str| -> Result<Function, BodyRead> {
            Reflect::get(target, &name.into()).ok().and_then(|f| f.dyn_into().ok()).ok_or_else(|| BodyRead::Failed(format!("no {name} on the body")))
        };
        let reader = method(&stream, "getReader")?.call0(&stream).map_err(failed)?;
        let read = method(&reader, "read")?;
        let mut body = Vec::with_capacity(self.declared.unwrap_or(0).min(max).min(PRESIZE_MAX_BYTES));
        loop {
            let promise: Promise = read.call0(&reader).map_err(failed)?.unchecked_into();
            let chunk = JsFuture::from(promise).await.map_err(failed)?;
            if Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()) == Some(true) {
                return Ok(body);
            }
            let bytes: Uint8Array = Reflect::get(&chunk, &"value".into()).map_err(failed)?.unchecked_into();
            if body.len() + bytes.length() as usize > max {
                if let Ok(cancel) = method(&reader, "cancel") {
                    let _ = cancel.call0(&reader);
                }
                return Err(BodyRead::TooLarge);
            }
            let start = body.len();
            body.resize(start + bytes.length() as usize, 0);
            bytes.copy_to(&mut body[start..]);
        }
    }
}

/// The queue event (exported as `queue`: worker-build's shim calls it for each batch). Without workers-rs's
/// `queue` feature, whose glue turns an error into a panic and whose retry options bring serde's
/// serializer for one number.
#[wasm_bindgen(wasm_bindgen_futures = ::worker::wasm_bindgen_futures)]
pub async fn queue(batch: JsValue, env: Env, _ctx: JsValue) -> Result<JsValue, JsValue> {
    let started = js_sys::Date::now();
    let get = |target: &JsValue, name: &str| Reflect::get(target, &name.into()).unwrap_or(JsValue::UNDEFINED);
    let name = get(&batch, "queue").as_string().unwrap_or_default();
    let messages: Array = get(&batch, "messages").dyn_into().unwrap_or_default();
    let handed: Vec<Message> = messages
        .iter()
        .map(|message| Message {
            id: get(&message, "id").as_string().unwrap_or_default(),
            body: get(&message, "body").as_string(),
            attempts: get(&message, "attempts").as_f64().unwrap_or(1.0) as u32,
        })
        .collect();
    let platform = Cloudflare::new(env);
    let consumed = if name == DEAD_LETTER_QUEUE {
        consumer::dead_letters(&platform, &handed).await
    } else {
        consumer::calls(&platform, &handed).await
    };
    // Whether every message was told what to do: if one was not, the batch fails as a whole, so the runtime
    // delivers again the messages it was not told to retry (it would otherwise acknowledge them).
    let mut told = true;
    for (message, outcome) in messages.iter().zip(&consumed.outcomes) {
        let mut call = |name: &str, argument: &JsValue| {
            let method = get(&message, name).dyn_into::<Function>();
            told &= method.is_ok_and(|method| method.call1(&message, argument).is_ok());
        };
        match outcome {
            Outcome::Ack => call("ack", &JsValue::UNDEFINED),
            Outcome::Retry(delay) => {
                let options = Object::new();
                let _ = Reflect::set(&options, &"delaySeconds".into(), &(*delay).into());
                call("retry", &options);
            }
        }
    }
    let line = JsValue::from_str(&consumed.log_line(&name, js_sys::Date::now() - started));
    if consumed.retried > 0 {
        web_sys::console::error_1(&line);
    } else {
        web_sys::console::log_1(&line);
    }
    if told {
        Ok(JsValue::UNDEFINED)
    } else {
        Err(JsValue::from_str("a queue message could not be acknowledged or retried"))
    }
}
