// The module workerd loads (wrangler.toml `main`): the Rust worker that worker-build makes in build/, plus
// the one thing Rust cannot do for itself. A Rust panic aborts the wasm instance (panic=abort): the request
// it was serving (and any other in flight on that instance) never answers, and worker-build's shim resets
// the instance for the next request. Here, such requests still get the JSON 500 envelope, with a request id,
// logged. Rust reports a panic through `globalThis.__callAnalyticsPanicked` (src/entry.rs, panic hook); a
// panic before the handler's first await also surfaces as a thrown error.
import { WorkerEntrypoint } from "cloudflare:workers";
import RustWorker from "../build/index.js";

/** Panics so far in this isolate, and the last one's message (Rust reports them from its panic hook). */
let panics = 0;
let lastPanic = "";
/** How often a request in flight checks whether a panic took its instance down. */
const WATCH_MS = 20;

globalThis.__callAnalyticsPanicked = (message) => {
  panics += 1;
  lastPanic = message;
  // Mark the instance dead at once, so that a request arriving before the trap reaches worker-build's own
  // error handler is served by a fresh instance (its shim resets the instance on the next construction).
  if (globalThis.__worker_init_state) globalThis.__worker_init_state.criticalError = true;
};

export default class extends WorkerEntrypoint {
  async fetch(request) {
    const started = Date.now();
    const seen = panics;
    // Each request watches from its own context: workerd does not let one request settle another's
    // promises, and a request whose instance died would otherwise hang until the runtime cancels it.
    let timer;
    const panicked = new Promise((_, reject) => {
      const check = () => (panics !== seen ? reject(new Error(lastPanic)) : (timer = setTimeout(check, WATCH_MS)));
      timer = setTimeout(check, WATCH_MS);
    });
    try {
      return await Promise.race([new RustWorker(this.ctx, this.env).fetch(request), panicked]);
    } catch (error) {
      const what = panics !== seen ? "worker panicked" : "worker threw";
      return panicResponse(request, this.env, `${what}: ${error?.message ?? error}`, Date.now() - started);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The 500 envelope for a request the Rust worker could not answer; `detail` goes to the log only. */
function panicResponse(request, env, detail, durationMs) {
  const requestId = crypto.randomUUID();
  const url = new URL(request.url);
  console.error(
    JSON.stringify({
      level: "error",
      request_id: requestId,
      method: request.method,
      path: url.pathname,
      status: 500,
      duration_ms: durationMs,
      d1_rows_read: 0,
      key: null,
      error: detail,
    }),
  );
  const headers = new Headers({
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Request-Id": requestId,
    Vary: "Origin",
  });
  const origin = allowOrigin(env.ALLOWED_ORIGINS, request.headers.get("Origin"));
  if (origin) {
    headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Expose-Headers", "X-Request-Id");
  }
  const body = { success: false, message: `Internal server error (request id ${requestId})`, data: null };
  return new Response(JSON.stringify(body), { status: 500, headers });
}

/** The same rule as src/cors.rs (which cannot run once the instance has aborted). */
function allowOrigin(setting, origin) {
  if (!origin) return null;
  const normalize = (value) => value.trim().replace(/\/+$/, "").toLowerCase();
  if ((setting ?? "").trim() === "*") return "*";
  const allowed = (setting ?? "").split(",").map(normalize).filter(Boolean);
  return allowed.includes(normalize(origin)) ? origin.trim() : null;
}
