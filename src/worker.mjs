// The module workerd loads (wrangler.toml `main`): the Rust worker that worker-build makes in build/, plus
// the one thing Rust cannot do for itself. A Rust panic aborts the wasm instance (panic=abort): the request
// it was serving, and any other in flight on that instance, would never answer (worker-build's shim resets
// the instance for the next request). So before each request runs, Rust hands over the 500 answer it
// should get if that happens (src/entry.rs: status, headers, body, all decided in Rust); here it is sent.
// A queue batch whose instance dies fails as a whole, so the queue delivers it again (nothing of it was
// acknowledged: Rust acknowledges a batch's messages only once it has written them).
// Rust's panic hook writes the log lines; this file holds no rule of its own.
import { WorkerEntrypoint } from "cloudflare:workers";
import RustWorker from "../build/index.js";

/** Each request's prepared panic answer, as JSON {status, headers, body}. */
const prepared = new WeakMap();
/** Panics so far in this isolate (Rust reports them from its panic hook). */
let panics = 0;
/** How often work in flight checks whether a panic took its instance down. */
const WATCH_MS = 20;

globalThis.__callAnalyticsPrepared = (request, json) => prepared.set(request, json);

globalThis.__callAnalyticsPanicked = () => {
  panics += 1;
  // Mark the instance dead at once, so that a request arriving before the trap reaches worker-build's own
  // error handler is served by a fresh instance (its shim resets the instance on the next construction).
  if (globalThis.__worker_init_state) globalThis.__worker_init_state.criticalError = true;
};

/**
 * `work`'s result, or a rejection as soon as a panic kills the instance under it. Each piece of work watches
 * from its own context: workerd does not let one request settle another's promises, and work whose instance
 * died would otherwise hang until the runtime cancels it.
 */
async function watched(work) {
  const seen = panics;
  let timer;
  const panicked = new Promise((_, reject) => {
    const check = () => (panics !== seen ? reject(new Error("panic")) : (timer = setTimeout(check, WATCH_MS)));
    timer = setTimeout(check, WATCH_MS);
  });
  try {
    return await Promise.race([work(), panicked]);
  } finally {
    clearTimeout(timer);
  }
}

export default class extends WorkerEntrypoint {
  async fetch(request) {
    try {
      return await watched(() => new RustWorker(this.ctx, this.env).fetch(request));
    } catch (error) {
      const answer = prepared.get(request);
      if (answer === undefined) throw error; // Rust never saw the request: workerd answers for it
      const { status, headers, body } = JSON.parse(answer);
      return new Response(body, { status, headers });
    }
  }

  async queue(batch) {
    return watched(() => new RustWorker(this.ctx, this.env).queue(batch));
  }
}
