// Faults: a panic inside a handler, KV unavailable, D1 failing mid-life. Each is a 500 in the JSON envelope,
// with a request id that the log line also carries, and the worker keeps serving.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { withBindings } from "../../scripts/lib/bindings.mjs";
import { ENDPOINT, request, startLocalWorker } from "../../scripts/lib/local-worker.mjs";
import * as fx from "./fixtures.mjs";


let worker; // DIAGNOSTICS on: the panic route
let kvless; // a configuration without the KV binding, as a deployment that lost it would be
let keys;
/** The request ids of the panics the tests below provoke on purpose, as each response names it. */
const deliberatePanics = [];

before(async () => {
  [worker, kvless] = await Promise.all([
    startLocalWorker({
      records: fx.DAY_RECORDS,
      keys: { admin: { role: "super_admin" } },
      vars: { DIAGNOSTICS: "on", ALLOWED_ORIGINS: fx.ADMIN_ORIGIN },
    }),
    startLocalWorker({ kv: false, vars: { ALLOWED_ORIGINS: fx.ADMIN_ORIGIN } }),
  ]);
  ({ keys } = worker);
});

after(async () => {
  await Promise.all([worker?.stop(), kvless?.stop()]);
});

/** Asserts the 500 envelope; returns its request id. */
function internalError({ status, headers, body }) {
  assert.equal(status, 500);
  assert.equal(headers.get("content-type"), "application/json");
  assert.equal(headers.get("cache-control"), "no-store");
  const id = headers.get("x-request-id");
  assert.match(id, fx.REQUEST_ID);
  assert.deepEqual(body, { success: false, message: `Internal server error (request id ${id})`, data: null });
  return id;
}

describe("a panic inside a handler", () => {
  test("is a 500 envelope with a request id, logged, and the very next request succeeds", async () => {
    const panicked = await request(worker.base, "/__diagnostics/panic", { key: keys.admin.key, headers: { Origin: fx.ADMIN_ORIGIN } });
    deliberatePanics.push(panicked.headers.get("x-request-id"));
    const id = internalError(panicked);
    assert.equal(panicked.headers.get("access-control-allow-origin"), fx.ADMIN_ORIGIN);
    const line = await worker.logLineFor(id);
    assert.equal(line.level, "error");
    assert.equal(line.status, 500);
    assert.match(line.error, /^worker panicked: panicked at src\/http\/diagnostics\.rs:\d+:\d+:\ndeliberate panic/);

    const next = await request(worker.base, `${ENDPOINT}?${fx.DAY_QUERY}`, { key: keys.admin.key });
    assert.equal(next.status, 200);
    assert.deepEqual(next.body.data.phone_numbers, fx.DAY);
  });

  test("fails only the requests in flight on that instance; none hangs; then all is well", async () => {
    const inFlight = Array.from({ length: 6 }, () => request(worker.base, `${ENDPOINT}?${fx.DAY_QUERY}`, { key: keys.admin.key }));
    const panic = request(worker.base, "/__diagnostics/panic", { key: keys.admin.key });
    const settled = await Promise.all([...inFlight, panic]);
    deliberatePanics.push(settled.at(-1).headers.get("x-request-id"));
    for (const response of settled) {
      if (response.status === 500) internalError(response);
      else assert.deepEqual(response.body.data.phone_numbers, fx.DAY);
    }
    assert.equal(settled.at(-1).status, 500);
    for (let i = 0; i < 5; i++) {
      const { status, body } = await request(worker.base, `${ENDPOINT}?${fx.DAY_QUERY}`, { key: keys.admin.key });
      assert.equal(status, 200);
      assert.deepEqual(body.data.phone_numbers, fx.DAY);
    }
  });

  test("the panic route exists only with DIAGNOSTICS on", async () => {
    const { status } = await request(kvless.base, "/__diagnostics/panic");
    assert.equal(status, 404);
  });

  test("and only for a super-admin key: without one it is a 401, and nothing panics", async () => {
    const refused = [];
    for (const route of ["/__diagnostics/panic", "/__diagnostics/static"]) {
      const { status, headers } = await request(worker.base, route);
      assert.equal(status, 401, route);
      assert.equal(headers.get("www-authenticate"), "Bearer");
      refused.push([route, headers.get("x-request-id")]);
    }
    // A key of the right shape that KV does not hold: looked up, and refused.
    const unknown = await request(worker.base, "/__diagnostics/panic", { key: fx.unknownKey() });
    assert.equal(unknown.status, 401);
    refused.push(["/__diagnostics/panic", unknown.headers.get("x-request-id")]);
    for (const [route, id] of refused) {
      const line = await worker.logLineFor(id);
      assert.deepEqual([line.path, line.status], [route, 401], id);
    }
    const next = await request(worker.base, `${ENDPOINT}?${fx.DAY_QUERY}`, { key: keys.admin.key });
    assert.equal(next.status, 200);
    // Whichever of the tests above ran: the panic route logged a 500 for exactly the requests that asked
    // for one with a super-admin key, and for no other.
    for (const id of deliberatePanics) await worker.logLineFor(id);
    const panics = worker.logLines().filter((line) => line.status === 500 && line.path === "/__diagnostics/panic");
    assert.deepEqual(panics.map((line) => line.request_id).sort(), [...deliberatePanics].sort());
  });
});

describe("KV unavailable", () => {
  test("is a 500 envelope with a request id, and the log says why", async () => {
    const response = await request(kvless.base, `${ENDPOINT}?${fx.DAY_QUERY}`, { key: fx.unknownKey(), headers: { Origin: fx.ADMIN_ORIGIN } });
    const id = internalError(response);
    assert.equal(response.headers.get("access-control-allow-origin"), fx.ADMIN_ORIGIN);
    const line = await kvless.logLineFor(id);
    assert.equal(line.level, "error");
    assert.match(line.error, /^KV binding API_KEYS: /);
    assert.doesNotMatch(response.text.replace(id, ""), /KV|API_KEYS|binding/);
  });

  test("requests that need no KV still work", async () => {
    assert.equal((await request(kvless.base, `${ENDPOINT}?${fx.DAY_QUERY}`)).status, 401);
    assert.equal((await request(kvless.base, "/openapi.json")).status, 200);
  });
});

describe("D1 failing", () => {
  test("a missing rollup table is a 500 for the ranges that need it, and only those", async () => {
    await withBindings({ persistTo: worker.state }, (env) => env.DB.prepare("DROP TABLE calls_by_day").run());
    const failing = await request(worker.base, `${ENDPOINT}?${fx.DAY_QUERY}`, { key: keys.admin.key });
    const id = internalError(failing);
    const line = await worker.logLineFor(id);
    assert.match(line.error, /^D1 query failed: .*no such table: calls_by_day/);
    assert.equal(line.key, keys.admin.fingerprint);

    // Two hours inside one day read hourly rollups and raw calls only.
    const hours = await request(worker.base, `${ENDPOINT}?start_date=2025-01-10T00:30:00Z&end_date=2025-01-10T02:30:00Z`, { key: keys.admin.key });
    assert.equal(hours.status, 200);
    assert.deepEqual(hours.body.data.phone_numbers, [
      { phone_number: "+919876543210", total_calls: 2, total_duration_minutes: 202.95, total_duration_hours: 3.38 }, // a1, a2
    ]);
  });
});
