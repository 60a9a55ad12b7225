// Abuse limits and the trust boundary, end to end in wrangler dev: the two rate limits (with the Rate
// Limiting binding wrangler dev simulates), what a limited caller gets and what it costs (and what a bad
// token costs under the limit), the headers of the
// admin page and of API responses, the shipped configuration's origins, and a range with 20,000 buckets.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ROOT, shippedConfig, withBindings } from "../../scripts/lib/bindings.mjs";
import { distinctNumberCalls } from "../../scripts/lib/generate.mjs";
import { ENDPOINT, newStateDir, request, startLocalWorker, startWorker } from "../../scripts/lib/local-worker.mjs";
import * as fx from "./fixtures.mjs";

/** This test's own limits (the shipped ones are 600 and 300 a minute). */
const LIMITS = { clientIp: 6, apiKey: 4 };

let worker;
let keys;
let shipped; // wrangler.toml as wrangler reads it

before(async () => {
  shipped = await shippedConfig();
  worker = await startLocalWorker({
    records: fx.DAY_RECORDS,
    keys: { admin: { role: "super_admin" }, other: { role: "super_admin" } },
    vars: { ALLOWED_ORIGINS: fx.ADMIN_ORIGIN },
    limits: LIMITS,
  });
  ({ keys } = worker);
});
after(() => worker?.stop());

/**
 * wrangler dev counts in fixed windows aligned to the period: a burst that straddles the boundary would be
 * counted in two windows. Start bursts early in a window.
 */
async function freshWindow() {
  const period = shipped.ratelimits[0].simple.period * 1000;
  const left = period - (Date.now() % period);
  if (left < 20_000) await new Promise((r) => setTimeout(r, left + 100));
}

const get = (ip, key, headers = {}) =>
  request(worker.base, `${ENDPOINT}?${fx.DAY_QUERY}`, { key, headers: { "CF-Connecting-IP": ip, Origin: fx.ADMIN_ORIGIN, ...headers } });
/** A key of the right shape that KV does not hold (so the worker reads KV to refuse it). */
const madeUp = fx.unknownKey;

/**
 * What the worker told limited callers, by limit ("client_ip", "api_key"): the Retry-After header and the
 * seconds its message names, as the 429s of the rate-limit tests carried them.
 */
const toldToWait = {};

/** Asserts a 429 envelope with every header it should carry; keeps what it says to wait; returns its log line. */
async function tooMany(response, message) {
  const { status, headers, body } = response;
  assert.equal(status, 429);
  assert.deepEqual(body, { success: false, message, data: null });
  assert.match(headers.get("retry-after"), /^[1-9][0-9]*$/, "Retry-After in whole seconds");
  assert.equal(headers.get("content-type"), "application/json");
  assert.equal(headers.get("cache-control"), "no-store");
  assert.equal(headers.get("access-control-allow-origin"), fx.ADMIN_ORIGIN);
  assert.match(headers.get("access-control-expose-headers"), /Retry-After/);
  assert.match(headers.get("x-request-id"), fx.REQUEST_ID);
  const line = await worker.logLineFor(headers.get("x-request-id"));
  (toldToWait[line.rate_limited] ??= new Set()).add(
    JSON.stringify({ retryAfter: Number(headers.get("retry-after")), inMessage: Number(/retry after (\d+) seconds$/.exec(body.message)[1]) }),
  );
  return line;
}

describe("rate limits", () => {
  test("per address, with made-up keys: a 429 once over, and no KV read for it", async () => {
    await freshWindow();
    const ip = "203.0.113.10";
    for (let i = 0; i < LIMITS.clientIp; i++) {
      const response = await get(ip, madeUp());
      assert.equal(response.status, 401);
      assert.equal((await worker.logLineFor(response.headers.get("x-request-id"))).kv_reads, 1, "an unknown key is looked up in KV");
    }
    const flood = [];
    for (let i = 0; i < 20; i++) flood.push(await get(ip, madeUp()));
    for (const response of flood) {
      const line = await tooMany(response, "Too many requests from this address: slow down and retry after 60 seconds");
      assert.equal(line.rate_limited, "client_ip");
      assert.equal(line.kv_reads, 0, "no KV read once the address is over its limit");
      assert.equal(line.key, null, "not even hashed");
      assert.equal(line.status, 429);
    }
    // Without a key at all, the same address is limited too; another address is not.
    assert.equal((await get(ip, null)).status, 429);
    assert.equal((await get("203.0.113.11", madeUp())).status, 401);
    assert.equal((await get("203.0.113.11", keys.admin.key)).status, 200);
  });

  test("under the address's limit, a token that cannot be a key costs no KV read, nor does the same unknown key again", async () => {
    await freshWindow();
    // Not of our keys' shape (cak_ and 43 base64url characters): refused before it is hashed.
    for (const [i, token] of ["cak_not-a-real-key", "made-up", `${fx.unknownKey()}x`, fx.unknownKey().replace("cak_", "kac_")].entries()) {
      const response = await get(`203.0.113.${20 + i}`, token);
      assert.equal(response.status, 401);
      assert.equal(response.body.message, "Invalid API key");
      const line = await worker.logLineFor(response.headers.get("x-request-id"));
      assert.deepEqual([line.kv_reads, line.key], [0, null], token);
    }
    // Of the shape but unknown: KV is asked once, then the isolate remembers that it does not know it (10 s).
    const unknown = fx.unknownKey();
    const reads = [];
    for (let i = 0; i < 4; i++) {
      const response = await get(`203.0.113.30`, unknown);
      assert.equal(response.status, 401);
      reads.push((await worker.logLineFor(response.headers.get("x-request-id"))).kv_reads);
    }
    assert.deepEqual(reads, [1, 0, 0, 0]);
  });

  test("per key, with a good key: a 429 after authentication, naming the key's limit", async () => {
    await freshWindow();
    for (let i = 0; i < LIMITS.apiKey; i++) {
      const response = await get(`198.51.100.${i}`, keys.other.key);
      assert.equal(response.status, 200);
      assert.deepEqual(response.body.data.phone_numbers, fx.DAY);
    }
    const limited = await get("198.51.100.50", keys.other.key);
    const line = await tooMany(limited, "Too many requests with this API key: slow down and retry after 60 seconds");
    assert.equal(line.rate_limited, "api_key");
    assert.equal(line.key, keys.other.fingerprint, "the key's fingerprint, never the key");
    assert.doesNotMatch(worker.logs(), new RegExp(keys.other.key));
    // The address was within its own limit, and another key is counted apart.
    assert.equal((await get("198.51.100.50", keys.admin.key)).status, 200);
  });

  test("the shipped limits: 600 a minute per address, 300 per key, counted over 60 s, the wait a limited caller is told", () => {
    const byName = Object.fromEntries(shipped.ratelimits.map((r) => [r.name, r.simple]));
    // The webhook's own (a platform posts every ended call, 50 a second at its peak, from a few addresses).
    assert.deepEqual(byName, {
      CLIENT_IP_LIMIT: { limit: 600, period: 60 },
      API_KEY_LIMIT: { limit: 300, period: 60 },
      WEBHOOK_IP_LIMIT: { limit: 6000, period: 60 },
      WEBHOOK_KEY_LIMIT: { limit: 6000, period: 60 },
    });
    const namespaces = shipped.ratelimits.map((r) => r.namespace_id);
    assert.equal(new Set(namespaces).size, namespaces.length, "each limit counts in its own namespace");
    // A limited caller is told to wait exactly the configured period. The worker's Retry-After and message
    // come from its own constant, the windows from wrangler.toml: if they disagree, callers retry too early
    // (and are limited again) or wait longer than needed. The 429s are the ones the two tests above provoked
    // (this worker has wrangler.toml's periods; only the limits are its own, see LIMITS).
    for (const [name, limit] of [["CLIENT_IP_LIMIT", "client_ip"], ["API_KEY_LIMIT", "api_key"]]) {
      const { period } = shipped.ratelimits.find((r) => r.name === name).simple;
      assert.ok(toldToWait[limit], `no 429 for ${limit} was seen: run this file whole`);
      assert.deepEqual([...toldToWait[limit]].map((t) => JSON.parse(t)), [{ retryAfter: period, inMessage: period }], limit);
    }
  });
});

describe("headers", () => {
  test("the admin page comes with its Content-Security-Policy and framing headers", async () => {
    for (const path of ["/admin/", "/admin/app.js", "/admin/api-origin.js", "/admin/style.css", "/admin/config.json"]) {
      const response = await fetch(worker.base + path);
      assert.equal(response.status, 200, path);
      assert.equal(
        response.headers.get("content-security-policy"),
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        path,
      );
      assert.equal(response.headers.get("x-frame-options"), "DENY", path);
      assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
      assert.equal(response.headers.get("referrer-policy"), "no-referrer", path);
    }
  });

  test("API responses forbid running or framing them, errors included", async () => {
    for (const [path, key] of [[`${ENDPOINT}?${fx.DAY_QUERY}`, keys.admin.key], [ENDPOINT, null], ["/nope", null], ["/openapi.json", null]]) {
      const { headers } = await request(worker.base, path, { key, headers: { "CF-Connecting-IP": "192.0.2.77" } });
      assert.equal(headers.get("content-security-policy"), "default-src 'none'; frame-ancestors 'none'", path);
    }
  });
});

describe("origins", () => {
  test("the shipped configuration allows no localhost origin; .dev.vars gives wrangler dev its own", async () => {
    assert.equal(shipped.vars.ALLOWED_ORIGINS, "");
    // A developer's plain `wrangler dev` (the repository's wrangler.toml, which reads .dev.vars).
    const local = await startWorker(await newStateDir(), { config: join(ROOT, "wrangler.toml") });
    try {
      for (const origin of ["http://localhost:8787", "http://127.0.0.1:8787"]) {
        const { status, headers } = await request(local.base, "/openapi.json", { headers: { Origin: origin } });
        assert.equal(status, 200);
        assert.equal(headers.get("access-control-allow-origin"), origin);
      }
    } finally {
      await local.stop();
    }
    const { headers } = await request(worker.base, "/openapi.json", { headers: { Origin: "http://localhost:8787" } });
    assert.equal(headers.get("access-control-allow-origin"), null, "a worker with the shipped settings does not");
  });
});

describe("many buckets", () => {
  test("a range holding 20,000 distinct numbers answers every one of them", async () => {
    const count = 20_000;
    const records = distinctNumberCalls(count, Date.UTC(2025, 5, 1));
    const big = await startLocalWorker({ records, keys: { admin: { role: "super_admin" } } });
    try {
      const response = await request(big.base, `${ENDPOINT}?start_date=2025-06-01&end_date=2025-06-01`, { key: big.keys.admin.key });
      assert.equal(response.status, 200);
      const rows = response.body.data.phone_numbers;
      assert.equal(rows.length, count);
      assert.equal(new Set(rows.map((r) => r.phone_number)).size, count);
      assert.equal(rows.reduce((n, r) => n + r.total_calls, 0), count);
      // Longest first: 600 s (10 min) for i % 600 = 599, then ties by label.
      assert.deepEqual(rows[0], { phone_number: "+447000000599", total_calls: 1, total_duration_minutes: 10, total_duration_hours: 0.17 });
      assert.deepEqual(rows.at(-1), { phone_number: "+447000019800", total_calls: 1, total_duration_minutes: 0.02, total_duration_hours: 0 });
      const line = await big.logLineFor(response.headers.get("x-request-id"));
      assert.equal(line.status, 200);
      // One more is too many: D1 is asked for 20,001 and the answer refuses them.
      await withBindings({ persistTo: big.state }, (env) =>
        env.DB.prepare("INSERT INTO calls (id, user_id, platform, platform_number, started_at, duration_seconds) VALUES ('many-more', 'u-many', 'sip', '+449999999999', ?1, 1)")
          .bind(Date.UTC(2025, 5, 1, 12))
          .run(),
      );
      const over = await request(big.base, `${ENDPOINT}?start_date=2025-06-01&end_date=2025-06-01`, { key: big.keys.admin.key });
      assert.equal(over.status, 400);
      assert.equal(over.body.message, "Too many phone numbers: this range has more than 20000, the most one answer holds; choose a shorter range or one user_email");
    } finally {
      await big.stop();
    }
  });

  test("numbers of 1,024 characters stored before the record rule: an answer holds at most 2,000,000 bytes of them", async () => {
    // 2,000 calls on one day, each its own number of 1,024 characters: 2,048,000 bytes; their first 1,000 (the
    // day's first half: 1,024,000 bytes) fit. Written as a database held them before migrations/0005.
    const records = distinctNumberCalls(2_000, Date.UTC(2025, 5, 1), { labelLength: 1024 });
    const old = await startLocalWorker({ before: { migration: "0005_record_rule.sql", records }, keys: { admin: { role: "super_admin" } } });
    try {
      const day = await request(old.base, `${ENDPOINT}?start_date=2025-06-01&end_date=2025-06-01`, { key: old.keys.admin.key });
      assert.equal(day.status, 400);
      assert.equal(day.body.message, "Too many phone numbers: the phone numbers of this range are longer together than the 2000000 bytes one answer holds; choose a shorter range or one user_email");
      const half = await request(old.base, `${ENDPOINT}?start_date=2025-06-01T00:00:00Z&end_date=2025-06-01T12:00:00Z`, { key: old.keys.admin.key });
      assert.equal(half.status, 200);
      assert.equal(half.body.data.phone_numbers.length, 1_000);
      assert.ok(half.body.data.phone_numbers.every((r) => r.phone_number.length === 1024));
    } finally {
      await old.stop();
    }
  });
});
