// The end-call webhook end to end: the built worker in wrangler dev with its real local queues (the calls
// queue and its dead-letter queue, both consumed by the same worker), D1 and KV. The platform's bodies go in
// as it sends them (the shared spec's end-call-webhook.md); what comes out is the report (rollups, and its raw
// aggregation with DIAGNOSTICS on), D1's rows and the dead letters, checked against answers worked out by
// hand (the comments show the arithmetic) or computed here from exact sums (fixtures.mjs: reportOf).
//
// Waiting: never a fixed sleep. Each consumer batch writes one log line ({"queue": ..., "messages",
// "retried", "dead_letters_kept"}) after its D1 transaction, and wrangler one of its own; the queues are idle
// when the messages they acknowledged (calls) or kept (dead letters) add up to those the worker was given:
// every 202, and every replayed dead letter (`waitIdle`). Every other wait polls a condition with a deadline
// (`until`).
// D1 failures are real: a trigger created in the worker's local D1 through the bindings (`fault`).
// WEBHOOK_SEED=<n> replays the differential test's sequence.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openBindings, ROOT, withBindings } from "../../scripts/lib/bindings.mjs";
import { ENDPOINT, load, localConfig, request, startLocalWorker } from "../../scripts/lib/local-worker.mjs";
import * as fx from "./fixtures.mjs";

const WEBHOOK = "/webhooks/end-call";
const REPLAY = "/admin/dead-letters/replay";
const CALLS_QUEUE = "call-analytics-calls";
const DEAD_QUEUE = "call-analytics-calls-dead";
const MiB = 1024 * 1024;
const MINUTE = 60_000;
const H = 3_600_000;
const D = 24 * H;
const SEED = Number(process.env.WEBHOOK_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** The 400s' messages, as the contract words them (src/ingest/webhook.rs). */
const REFUSED = {
  body: `Invalid body: expected the platform's end-call envelope as JSON, {"data": {"room_name": ..., "started_at": ...}}`,
  data: "Invalid data: expected an object holding the call record",
  "data.room_name": "Invalid data.room_name: expected the call's id, a string of 1 to 256 characters without surrounding whitespace",
  "data.started_at":
    "Invalid data.started_at: expected an RFC 3339 instant with Z or an offset (2026-11-30T09:15:02.374000Z), from 2000-01-01 up to 2100-01-01",
  "data.call_duration_minutes": "Invalid data.call_duration_minutes: expected a number of minutes from 0 to one week (10080), or null",
  "data.platform_number": "Invalid data.platform_number: expected at most 64 characters once trimmed, or null",
};

let worker; // the queues consumed with max_retries 2 (3 attempts, then the dead-letter queue), DIAGNOSTICS on
let queueless; // a configuration without the queues (a deployment that lost them), with low webhook limits
let queuelessConfig;
let bindings; // the worker's local D1 and KV, open through the bindings for the whole file
let db;
let deadLetters;
/** Messages each worker's calls queue was given: its 202s and the dead letters it replayed. */
const given = new Map();

/** The shipped configuration without its queues, with webhook limits of 3 a minute per address and 4 per key. */
async function configWithoutQueues() {
  const path = await localConfig({ limits: { webhookIp: 3, webhookKey: 4 } });
  const config = JSON.parse(await readFile(path, "utf8"));
  delete config.queues;
  await writeFile(path, JSON.stringify(config));
  return path;
}

before(async () => {
  queuelessConfig = await configWithoutQueues();
  [worker, queueless] = await Promise.all([
    startLocalWorker({
      keys: { ingest: { role: "ingest" }, admin: { role: "super_admin" }, revoked: { role: "ingest", revoked: true } },
      consumers: { max_retries: 2, max_batch_timeout: 1 },
      vars: { DIAGNOSTICS: "on" },
      // The tests poll the report: more than the shipped 600 a minute from one address.
      limits: { clientIp: 100_000, apiKey: 100_000 },
    }),
    startLocalWorker({
      keys: { ingest: { role: "ingest" }, byAddress: { role: "ingest" }, byKey: { role: "ingest" }, admin: { role: "super_admin" } },
      config: queuelessConfig,
    }),
  ]);
  bindings = await openBindings({ persistTo: worker.state });
  ({ DB: db, DEAD_LETTERS: deadLetters } = bindings.env);
});

after(async () => {
  await bindings?.dispose();
  await Promise.all([worker?.stop(), queueless?.stop()]);
  if (queuelessConfig) await rm(dirname(queuelessConfig), { recursive: true, force: true });
});

// ---- helpers ----

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` (sync or async) until it returns something truthy, which it returns; fails at the deadline. */
async function until(condition, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * POSTs `body` to a worker's webhook (an object goes as JSON; a string, bytes or a stream as they are), with
 * the key in the path (`auth: "path"`, the platform's way), as a bearer token ("bearer") or none ("none").
 */
async function post(w, body, { key = w.keys.ingest.key, auth = "path", method = "POST", ip, headers = {}, path } = {}) {
  const url = w.base + (path ?? (auth === "path" ? `${WEBHOOK}/${key}` : WEBHOOK));
  const stream = body instanceof ReadableStream;
  const raw = typeof body === "string" || body instanceof Uint8Array || stream || body === undefined;
  const response = await fetch(url, {
    method,
    headers: {
      "Content-Type": "application/json",
      ...(auth === "bearer" ? { Authorization: `Bearer ${key}` } : {}),
      ...(ip ? { "CF-Connecting-IP": ip } : {}),
      ...headers,
    },
    body: raw ? body : JSON.stringify(body),
    ...(stream ? { duplex: "half" } : {}),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  if (response.status === 202) given.set(w, (given.get(w) ?? 0) + 1);
  return { status: response.status, headers: response.headers, body: json, text, requestId: response.headers.get("x-request-id") };
}

/**
 * POSTs `chunks` (Buffers) on a connection of its own, closed after: with a Content-Length (`declared`) or
 * chunked. For bodies the worker refuses before reading them all: fetch would keep the half-sent connection
 * in its pool, and a later request could wait on it.
 */
function postOwnConnection(w, chunks, { declared }) {
  return new Promise((resolve, reject) => {
    const length = chunks.reduce((n, c) => n + c.length, 0);
    const req = httpRequest(`${w.base}${WEBHOOK}/${w.keys.ingest.key}`, {
      method: "POST",
      agent: false,
      headers: { "Content-Type": "application/json", Connection: "close", ...(declared ? { "Content-Length": length } : {}) },
    });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        req.destroy();
        let body = null;
        try {
          body = JSON.parse(text);
        } catch {}
        const headers = { get: (name) => res.headers[name.toLowerCase()] ?? null };
        resolve({ status: res.statusCode, headers, body, text, requestId: headers.get("x-request-id") });
      });
    });
    req.on("error", (error) => (answered ? undefined : reject(error))); // the worker may close while we still write
    (async () => {
      for (const chunk of chunks) {
        if (answered || req.destroyed) return;
        if (!req.write(chunk)) await new Promise((r) => req.once("drain", r).once("close", r));
      }
      req.end();
    })();
  });
}

/** Posts a call record as the platform does and asserts the 202; returns { data, receivedMs, requestId }. */
async function accept(data, options = {}) {
  const r = await post(options.worker ?? worker, fx.endCall(data), options);
  assert.equal(r.status, 202, `${data.room_name}: ${r.text}`);
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.match(r.requestId, fx.REQUEST_ID);
  const receivedAt = r.body?.data?.received_at;
  assert.match(receivedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(r.body, { success: true, message: "Call accepted", data: { room_name: data.room_name, received_at: receivedAt } });
  return { data, receivedMs: Date.parse(receivedAt), requestId: r.requestId };
}

/** Asserts an error envelope with this status and exactly this message (or matching a RegExp). */
function expectError(response, status, message, context = "") {
  assert.equal(response.status, status, `${context}: ${response.text}`);
  assert.equal(response.headers.get("content-type"), "application/json", context);
  assert.equal(response.body?.success, false, context);
  assert.equal(response.body.data, null, context);
  if (message instanceof RegExp) assert.match(response.body.message, message, context);
  else assert.equal(response.body.message, message, context);
}

/** The worker's own log lines (requests' and queue batches'), parsed, in order. */
function logJson(w = worker) {
  const lines = [];
  for (const raw of w.logs().replace(/\x1b\[[0-9;]*m/g, "").split("\n")) {
    const at = raw.indexOf('{"level"');
    if (at < 0) continue;
    try {
      lines.push(JSON.parse(raw.slice(at)));
    } catch {} // a line still being written
  }
  return lines;
}
/** The consumers' log lines (one per batch), in order. */
const queueLines = (w = worker) => logJson(w).filter((line) => line.queue);

/**
 * Waits until every message the worker's queue was given is acknowledged or kept as a dead letter, as told
 * twice for each batch: by the consumer's own log line, and by wrangler's ("QUEUE <queue> <acked>/<size>").
 * Either count reaching the messages given will do (a line the two output streams happened to garble would
 * leave one short).
 */
async function waitIdle(w = worker, what = "the queues to be idle") {
  let ours = 0;
  let wranglers = 0;
  const expected = () => given.get(w) ?? 0;
  try {
    await until(() => {
      ours = 0;
      for (const line of queueLines(w)) {
        if (line.queue === CALLS_QUEUE) ours += line.messages - line.retried;
        else if (line.queue === DEAD_QUEUE) ours += line.dead_letters_kept;
      }
      wranglers = 0;
      for (const [, acked] of w.logs().matchAll(/QUEUE call-analytics-calls(?:-dead)? (\d+)\/\d+/g)) wranglers += Number(acked);
      for (const done of [ours, wranglers]) assert.ok(done <= expected(), `the queues consumed ${done} messages, more than the ${expected()} the worker was given`);
      return ours === expected() || wranglers === expected();
    }, what, 60_000);
  } catch (error) {
    const lines = w.logs().split("\n");
    error.message += ` (${ours} (${wranglers} by wrangler) of ${expected()} messages consumed; last lines:\n${lines.slice(-40).join("\n")})`;
    throw error;
  }
}

const all = async (sql, ...params) => {
  const statement = db.prepare(sql);
  return (await (params.length ? statement.bind(...params) : statement).all()).results;
};
const one = async (sql, ...params) => (await all(sql, ...params))[0] ?? null;
const counts = () => one("SELECT (SELECT count(*) FROM calls) AS calls, (SELECT count(*) FROM users) AS users");
/** A call as D1 holds it, with its owner's email. */
const stored = (id) =>
  one(
    `SELECT c.id, c.user_id, u.email, c.platform, c.platform_number, c.started_at, c.duration_ms, c.received_at, c.delivery
     FROM calls AS c JOIN users AS u ON u.id = c.user_id WHERE c.id = ?1`,
    id,
  );
/** Every value of every table D1 holds, as one text (to show what was never stored). */
async function everythingStored() {
  const tables = await all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'");
  let text = "";
  for (const { name } of tables) text += JSON.stringify(await all(`SELECT * FROM "${name}"`));
  return text;
}

/** Makes D1 refuse inserts into calls `when` (SQL on NEW) for real, until `unfault(name)`. */
const fault = (name, when, message = "test fault") =>
  db.prepare(`CREATE TRIGGER ${name} BEFORE INSERT ON calls WHEN ${when} BEGIN SELECT RAISE(ABORT, '${message}'); END`).run();
const unfault = (name) => db.prepare(`DROP TRIGGER IF EXISTS ${name}`).run();

async function report(query, strategy = "rollups") {
  const r = await request(worker.base, `${ENDPOINT}?${query}&strategy=${strategy}`, { key: worker.keys.admin.key });
  assert.equal(r.status, 200, `?${query}: ${r.text}`);
  return r.body.data;
}
/** Asserts the report, from the rollups and from the raw calls, holds exactly these rows and totals. */
async function expectReport(query, { rows, totals }, context = "") {
  for (const strategy of ["rollups", "raw"]) {
    const data = await report(query, strategy);
    assert.deepEqual(data.phone_numbers, rows, `${context} (${strategy}: ?${query})`);
    assert.deepEqual(data.totals, totals, `${context} totals (${strategy}: ?${query})`);
  }
}
const day = (date) => `start_date=${date}&end_date=${date}`;
/** fx.decimalMillis of a JSON number (or of its text, as sent). */
const decimal = (value, unit) => fx.decimalMillis(typeof value === "string" ? value : JSON.stringify(value), unit);
const row = (phone_number, total_calls, total_duration_minutes, total_duration_hours) => ({
  phone_number,
  total_calls,
  total_duration_minutes,
  total_duration_hours,
});
const totals = (total_calls, total_duration_minutes, total_duration_hours) => ({ total_calls, total_duration_minutes, total_duration_hours });
const NOTHING = { rows: [], totals: totals(0, 0, 0) };

/** scripts/dead-letters.mjs with `args`, and only these variables besides PATH and HOME. */
function deadLettersTool(args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn("node", [join(ROOT, "scripts", "dead-letters.mjs"), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, WRANGLER_SEND_METRICS: "false", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `fns` (returning promises) at most `width` at a time; resolves their results in order. */
async function inParallel(fns, width = 8) {
  const results = new Array(fns.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < fns.length) {
        const i = next++;
        results[i] = await fns[i]();
      }
    }),
  );
  return results;
}

// ---- the platform's shapes ----

describe("the platform's bodies, as it sends them", () => {
  const CALLER = "+919876500001"; // an inbound call's to_number: the caller, never stored
  const PRIVATE = "my card number is 4111 1111"; // a transcript's words, never stored
  const RECORDING = "https://recordings.example/private/asst_0ld0000_1a2b3c4d.ogg";
  // All on 2026-03-02 (UTC).
  const SHAPES = {
    // An older platform version: no call_service, no is_passthrough, queue_id or billable minutes, no usage.
    old: {
      room_name: "asst_0ld0000_1a2b3c4d",
      started_at: "2026-03-02T09:15:02Z",
      ended_at: "2026-03-02T09:18:17Z",
      answered_at: "2026-03-02T09:15:05Z",
      agent_ready_at: null,
      call_duration_minutes: 3.25,
      created_by_email: "old@shapes.example",
      call_type: "outbound",
      platform_number: "08012345678",
      to_number: "+919812345678",
      call_status: "completed",
      call_status_reason: null,
      sip_status_code: 200,
      sip_status_text: "OK",
      call_end_reason: "caller_hangup",
      assistant_id: "asst_0ld0000",
      assistant_name: "Old assistant",
      recording_path: RECORDING,
      recording_egress_id: "EG_0ld",
      transcripts: [{ speaker: "agent", text: `Hello. ${PRIVATE}`, timestamp: "2026-03-02T09:15:06Z" }],
    },
    // The current version: call_service, billable minutes, is_passthrough, queue_id, usage, microseconds.
    current: {
      room_name: "asst_n3w0000_9f8e7d6c",
      started_at: "2026-03-02T10:00:00.374000Z",
      ended_at: "2026-03-02T10:05:30.374000Z",
      answered_at: "2026-03-02T10:00:03.100000Z",
      agent_ready_at: "2026-03-02T10:00:03.500000Z",
      call_duration_minutes: 5.5,
      billable_duration_minutes: 6,
      created_by_email: "new@shapes.example",
      call_type: "outbound",
      call_service: "twilio",
      platform_number: "+14155550100",
      to_number: "+14155550123",
      call_status: "completed",
      call_status_reason: "completed",
      sip_status_code: 200,
      sip_status_text: "OK",
      call_end_reason: "agent_hangup",
      assistant_id: "asst_n3w0000",
      assistant_name: "New assistant",
      queue_id: "queue_42",
      is_passthrough: false,
      recording_path: null,
      recording_egress_id: null,
      transcripts: [{ speaker: "user", text: PRIVATE, timestamp: "2026-03-02T10:00:04Z" }],
      usage: { llm_total_tokens: 1200, tts_characters_count: 800, tts_audio_duration: 12.5, mode: "pipeline", llm_model: "m", stt_audio_duration: 330 },
    },
    // The docs' quick test: most fields missing (no owner, no call_type or call_service, no number, no status).
    quick: { room_name: "test-room-quick", started_at: "2026-03-02T11:00:00.000Z", ended_at: "2026-03-02T11:02:00.000Z", call_duration_minutes: 2, to_number: "+15551234567" },
    // A web call: call_type web, no number, to_number "Web Call".
    web: {
      room_name: "asst_web0000_00000001",
      started_at: "2026-03-02T12:00:00Z",
      call_duration_minutes: 4,
      created_by_email: "new@shapes.example",
      call_type: "web",
      call_service: null,
      platform_number: null,
      to_number: "Web Call",
      call_status: "completed",
    },
    // call_service web, with a number: still a web call.
    webWithNumber: {
      room_name: "asst_web0000_00000002",
      started_at: "2026-03-02T12:30:00Z",
      call_duration_minutes: 1,
      created_by_email: "new@shapes.example",
      call_type: null,
      call_service: "web",
      platform_number: "+14155550100",
      to_number: "Web Call",
    },
    // Inbound: to_number is the caller.
    inbound: {
      room_name: "asst_in00000_00000001",
      started_at: "2026-03-02T13:00:00Z",
      call_duration_minutes: 10,
      created_by_email: "old@shapes.example",
      call_type: "inbound",
      call_service: "exotel",
      platform_number: "08012345678",
      to_number: CALLER,
      call_status: "completed",
    },
    // No owner (an older record).
    noOwner: {
      room_name: "asst_own0000_00000001",
      started_at: "2026-03-02T14:00:00Z",
      call_duration_minutes: 2,
      created_by_email: null,
      call_type: "outbound",
      call_service: "exotel",
      platform_number: "08012345678",
      to_number: "+919812345600",
    },
    // No duration yet: 0 minutes, one call.
    noDuration: {
      room_name: "asst_dur0000_00000001",
      started_at: "2026-03-02T15:00:00Z",
      call_duration_minutes: null,
      created_by_email: "old@shapes.example",
      call_type: "outbound",
      call_service: "twilio",
      platform_number: "+14155550199",
      to_number: "+14155550124",
      call_status: "no_answer",
    },
    // A long call's transcript, 2 MiB of it; the owner's email in another case, with spaces around.
    bigTranscript: {
      room_name: "asst_big0000_00000001",
      started_at: "2026-03-02T16:00:00Z",
      call_duration_minutes: 0.75,
      created_by_email: " NEW@Shapes.Example ",
      call_type: "outbound",
      call_service: "twilio",
      platform_number: "+14155550100",
      to_number: "+14155550125",
      transcripts: [
        { speaker: "agent", text: "q".repeat(2 * MiB), timestamp: "2026-03-02T16:00:01Z" },
        { speaker: "user", text: PRIVATE, timestamp: "2026-03-02T16:00:02Z" },
      ],
    },
  };
  const accepted = {};

  before(async () => {
    await waitIdle();
    const names = Object.keys(SHAPES);
    // At once, half with the key in the path (the platform's way), half as a bearer token.
    const results = await Promise.all(names.map((name, i) => accept(SHAPES[name], { auth: i % 2 ? "bearer" : "path" })));
    names.forEach((name, i) => (accepted[name] = results[i]));
    await waitIdle();
  });

  test("each appears in the report exactly as worked out by hand, from the rollups and the raw calls", async () => {
    await expectReport(
      day("2026-03-02"),
      {
        rows: [
          row("08012345678", 3, 15.25, 0.25), // old 195 s + inbound 600 s + no owner 120 s = 915 s: 0.2542 h
          row("+14155550100", 2, 6.25, 0.1), // current 330 s + big transcript 45 s = 375 s: 0.1042 h
          row("WEB_CALL", 2, 5, 0.08), // web 240 s + web with a number 60 s = 300 s: 0.0833 h
          row("UNKNOWN_PLATFORM", 1, 2, 0.03), // the quick test, 120 s: 0.0333 h
          row("+14155550199", 1, 0, 0), // no duration: 0, one call
        ],
        totals: totals(9, 28.5, 0.48), // 1710 s = 28.5 min, 0.475 h: the exact half rounds up
      },
      "2026-03-02",
    );
  });

  test("each owner's calls, whatever the case and spaces of the email; no filter finds a call without an owner", async () => {
    const newOwner = {
      rows: [row("+14155550100", 2, 6.25, 0.1), row("WEB_CALL", 2, 5, 0.08)],
      totals: totals(4, 11.25, 0.19), // 675 s: 0.1875 h
    };
    await expectReport(`${day("2026-03-02")}&user_email=new@shapes.example`, newOwner, "new@");
    await expectReport(`${day("2026-03-02")}&user_email=NEW@SHAPES.EXAMPLE`, newOwner, "NEW@");
    await expectReport(
      `${day("2026-03-02")}&user_email=old@shapes.example`,
      { rows: [row("08012345678", 2, 13.25, 0.22), row("+14155550199", 1, 0, 0)], totals: totals(3, 13.25, 0.22) }, // 795 s: 0.2208 h
      "old@",
    );
    // 9 calls in all, 4 + 3 with an owner: the quick test and the null owner's belong to nobody.
    for (const name of ["quick", "noOwner"]) assert.equal((await stored(SHAPES[name].room_name)).user_id, "(no owner)", name);
    const noOwner = await request(worker.base, `${ENDPOINT}?${day("2026-03-02")}&user_email=${encodeURIComponent("(no owner)")}`, { key: worker.keys.admin.key });
    assert.equal(noOwner.status, 400, "the no-owner user's email is no address: no filter can name it");
  });

  test("D1 holds what the report needs, as sent, and nothing else", async () => {
    const current = await stored(SHAPES.current.room_name);
    assert.deepEqual(current, {
      id: "asst_n3w0000_9f8e7d6c",
      user_id: current.user_id,
      email: "new@shapes.example",
      platform: "twilio",
      platform_number: "+14155550100",
      started_at: Date.UTC(2026, 2, 2, 10, 0, 0, 374), // microseconds dropped
      duration_ms: 330_000,
      received_at: accepted.current.receivedMs,
      delivery: accepted.current.requestId,
    });
    // No call_service: the platform is the call_type. Web calls keep their number, bucketed as WEB_CALL.
    assert.equal((await stored(SHAPES.old.room_name)).platform, "outbound");
    assert.deepEqual(
      [await stored(SHAPES.web.room_name), await stored(SHAPES.webWithNumber.room_name)].map((c) => [c.platform, c.platform_number]),
      [["web", null], ["web", "+14155550100"]],
    );
    assert.equal((await stored(SHAPES.quick.room_name)).platform, "unknown");
    const bigOwner = await stored(SHAPES.bigTranscript.room_name);
    assert.equal(bigOwner.user_id, current.user_id, "one user for new@shapes.example in any case");
    // The caller's number, the transcripts, the recording: in no table, no column.
    const everything = await everythingStored();
    for (const secret of [CALLER, CALLER.slice(3), PRIVATE, RECORDING, "Web Call", "+14155550123", "qqqqqqqqqqqqqqqq"]) {
      assert.ok(!everything.includes(secret), `D1 holds ${secret}`);
    }
    const columns = (await all("SELECT name FROM pragma_table_xinfo('calls')")).map((c) => c.name);
    assert.deepEqual(columns, ["id", "user_id", "platform", "platform_number", "started_at", "duration_seconds", "bucket", "duration_ms", "received_at", "delivery"]);
  });

  test("the log line's path shows {key}, never the key", async () => {
    const inPath = await worker.logLineFor(accepted.old.requestId);
    assert.equal(inPath.path, "/webhooks/end-call/{key}");
    assert.equal(inPath.status, 202);
    assert.equal((await worker.logLineFor(accepted.current.requestId)).path, "/webhooks/end-call");
  });
});

// ---- owners ----

describe("owners", () => {
  test("an email no filter could match leaves the call without an owner: it counts across tenants, in no user's", async () => {
    await waitIdle();
    const users = (await counts()).users;
    const notEmails = ["not an email", "a@b@example.com", "", "  "];
    await Promise.all(
      notEmails.map((email, i) =>
        accept({ room_name: `owner-not-email-${i}`, started_at: `2026-03-03T0${i}:00:00Z`, call_duration_minutes: 1, created_by_email: email, call_service: "exotel", platform_number: "+15550000301" }),
      ),
    );
    await waitIdle();
    for (let i = 0; i < notEmails.length; i++) assert.equal((await stored(`owner-not-email-${i}`)).user_id, "(no owner)");
    assert.equal((await counts()).users, users, "no user for an address no filter could match");
    await expectReport(day("2026-03-03"), { rows: [row("+15550000301", 4, 4, 0.07)], totals: totals(4, 4, 0.07) }, "no owner"); // 240 s: 0.0667 h
    const filtered = await request(worker.base, `${ENDPOINT}?${day("2026-03-03")}&user_email=${encodeURIComponent("not an email")}`, { key: worker.keys.admin.key });
    expectError(filtered, 400, /^Invalid user_email/);
  });

  test("first deliveries for a new email, at once, make one user", async () => {
    await waitIdle();
    const users = (await counts()).users;
    const spellings = ["fresh@owners.example", "FRESH@owners.example", " Fresh@Owners.Example ", "fresh@OWNERS.example", "fresh@owners.example", "fResh@owners.example"];
    await Promise.all(
      spellings.map((email, i) =>
        accept({ room_name: `owner-fresh-${i}`, started_at: `2026-03-03T1${i}:00:00Z`, call_duration_minutes: 1, created_by_email: email, call_service: "exotel", platform_number: "+15550000302" }),
      ),
    );
    await waitIdle();
    assert.equal((await counts()).users, users + 1, "one new user");
    const made = await all("SELECT id, email FROM users WHERE email = 'fresh@owners.example' COLLATE NOCASE");
    assert.equal(made.length, 1, JSON.stringify(made));
    for (let i = 0; i < spellings.length; i++) assert.equal((await stored(`owner-fresh-${i}`)).user_id, made[0].id);
    await expectReport(
      `${day("2026-03-03")}&user_email=Fresh@Owners.Example`,
      { rows: [row("+15550000302", 6, 6, 0.1)], totals: totals(6, 6, 0.1) },
      "the new user",
    );
    await expectReport(
      day("2026-03-03"),
      { rows: [row("+15550000302", 6, 6, 0.1), row("+15550000301", 4, 4, 0.07)], totals: totals(10, 10, 0.17) }, // 600 s: 0.1667 h
      "2026-03-03",
    );
  });
});

// ---- redeliveries and order ----

describe("redeliveries and the order of deliveries", () => {
  /** The delivery the worker keeps of these: the later-received, ties broken by request id. */
  const latest = (deliveries) =>
    deliveries.reduce((a, b) => (b.receivedMs > a.receivedMs || (b.receivedMs === a.receivedMs && b.requestId > a.requestId) ? b : a));

  test("the same body again, once or several at once, is one call: totals unchanged", async () => {
    const call = {
      room_name: "asst_redo0000_00000001",
      started_at: "2026-03-04T08:00:00Z",
      call_duration_minutes: 2.5,
      created_by_email: "redo@order.example",
      call_type: "outbound",
      call_service: "exotel",
      platform_number: "+15550000401",
      to_number: "+919812340000",
    };
    const expected = { rows: [row("+15550000401", 1, 2.5, 0.04)], totals: totals(1, 2.5, 0.04) }; // 150 s: 0.0417 h
    await waitIdle();
    const first = await accept(call);
    await waitIdle();
    await expectReport(day("2026-03-04"), expected, "first delivery");
    const before = await counts();
    const again = [await accept(call), ...(await Promise.all([accept(call), accept(call), accept(call)]))];
    await waitIdle();
    await expectReport(day("2026-03-04"), expected, "after redeliveries");
    assert.deepEqual(await counts(), before);
    const kept = latest([first, ...again]);
    const row1 = await stored(call.room_name);
    assert.deepEqual([row1.received_at, row1.delivery], [kept.receivedMs, kept.requestId], "the later-received delivery is the one kept");
  });

  test("A then B at once: B, received later, is stored", async () => {
    await waitIdle();
    const a = { room_name: "asst_quick000_00000001", started_at: "2026-03-05T08:00:00Z", call_duration_minutes: 1, created_by_email: "a@order.example", call_service: "exotel", platform_number: "+15550000501" };
    const b = { ...a, call_duration_minutes: 7, created_by_email: "b@order.example", platform_number: "+15550000502" };
    const sentA = await accept(a);
    await until(() => Date.now() > sentA.receivedMs, "the clock to move on", 5_000);
    const sentB = await accept(b);
    await waitIdle();
    assert.equal(latest([sentA, sentB]), sentB, "B was received later");
    const kept = await stored(a.room_name);
    assert.deepEqual([kept.email, kept.platform_number, kept.duration_ms, kept.received_at, kept.delivery], ["b@order.example", "+15550000502", 420_000, sentB.receivedMs, sentB.requestId]);
    await expectReport(`${day("2026-03-05")}&user_email=a@order.example`, NOTHING, "A's owner");
  });

  test("a delivery replaces a call the loader wrote, which has no receipt; its owner is the loader's user", async () => {
    const id = "asst_load0000_00000001";
    await load(worker.state, [
      { id, user_id: "u-loaded", user_email: "loaded@order.example", platform: "sip", platform_number: "+15550001101", started_at: Date.UTC(2026, 2, 11, 10), duration_seconds: 30 },
    ]);
    const loaded = await stored(id);
    assert.deepEqual([loaded.received_at, loaded.delivery, loaded.duration_ms], [null, null, 30_000]);
    await waitIdle();
    const sent = await accept({ room_name: id, started_at: "2026-03-11T10:00:00Z", call_duration_minutes: 3, created_by_email: "LOADED@order.example", call_service: "exotel", platform_number: "+15550001102" });
    await waitIdle();
    const kept = await stored(id);
    assert.deepEqual(
      [kept.user_id, kept.platform, kept.platform_number, kept.duration_ms, kept.received_at, kept.delivery],
      ["u-loaded", "exotel", "+15550001102", 180_000, sent.receivedMs, sent.requestId],
    );
    await expectReport(`${day("2026-03-11")}&user_email=loaded@order.example`, { rows: [row("+15550001102", 1, 3, 0.05)], totals: totals(1, 3, 0.05) }, "the loader's user");
  });

  test("an older delivery handed over after a newer one is stored changes nothing", async () => {
    await waitIdle();
    const id = "asst_order000_00000002";
    const older = { room_name: id, started_at: "2026-03-05T09:00:00Z", call_duration_minutes: 2, created_by_email: "a@order.example", call_service: "exotel", platform_number: "+15550000503" };
    const newer = { ...older, call_duration_minutes: 6, created_by_email: "b@order.example", platform_number: "+15550000504" };
    // D1 refuses the older version (2 minutes) as long as the newer one (6 minutes) is not stored: the queue
    // can only get the older one written after the newer.
    await fault(
      "hold_older",
      `NEW.id = '${id}' AND NEW.duration_seconds = 120 AND NOT EXISTS (SELECT 1 FROM calls WHERE id = '${id}' AND duration_seconds = 360)`,
      "test fault: the older waits for the newer",
    );
    try {
      const from = queueLines().length;
      const sentOlder = await accept(older);
      // The queue hands the older over first: refused (and retried in 1 s, then 2 s).
      await until(
        () => queueLines().slice(from).some((l) => l.queue === CALLS_QUEUE && l.retried === 1 && /the older waits/.test(l.error ?? "")),
        "the older delivery's first attempt to fail",
      );
      const sentNewer = await accept(newer);
      assert.equal(latest([sentOlder, sentNewer]), sentNewer);
      // The older one is handed over again after the newer was received: alone once the newer is stored (then
      // it writes nothing), or in the newer's batch (where the newer is the one written).
      await waitIdle();
      const kept = await stored(id);
      assert.deepEqual([kept.platform_number, kept.duration_ms, kept.received_at, kept.delivery], ["+15550000504", 360_000, sentNewer.receivedMs, sentNewer.requestId]);
      await expectReport(
        day("2026-03-05"),
        { rows: [row("+15550000502", 1, 7, 0.12), row("+15550000504", 1, 6, 0.1)], totals: totals(2, 13, 0.22) }, // 420 s: 0.1167 h; 780 s: 0.2167 h
        "2026-03-05",
      );
    } finally {
      await unfault("hold_older");
    }
  });
});

// ---- answers ----

describe("answers", () => {
  const good = (room) => fx.endCall({ room_name: room, started_at: "2026-03-09T10:00:00Z", call_duration_minutes: 1, call_service: "exotel", platform_number: "+15550000901" });
  const data = (members) => ({ room_name: "refused-1", started_at: "2026-03-09T10:00:00Z", ...members });

  /** Runs `refuse` (which must get no 202), then checks that nothing was written: calls, users, the report. */
  async function nothingWritten(refuse) {
    await waitIdle();
    const before = await counts();
    const accepted = given.get(worker);
    await refuse();
    assert.equal(given.get(worker), accepted, "no refused request was accepted");
    await waitIdle();
    assert.deepEqual(await counts(), before, "calls and users as before");
    await expectReport(day("2026-03-09"), NOTHING, "the refused bodies' day");
  }

  test("a body that can never be counted is a 400 naming the field; nothing is written", async () => {
    const cases = [
      ["", "body"],
      ["not json", "body"],
      ["[]", "body"],
      ['{"data":{"room_name":"refused-1","started_at":"2026-03-09T10:00:00Z"}', "body"],
      ['{"data":{"room_name":"refused-1","started_at":"2026-03-09T10:00:00Z"}} trailing', "body"],
      [{ success: true, message: "Call completed" }, "data"],
      [{ success: true, data: "refused-1" }, "data"],
      [{ success: true, data: null }, "data"],
      [fx.endCall({ started_at: "2026-03-09T10:00:00Z" }), "data.room_name"],
      [fx.endCall(data({ room_name: null })), "data.room_name"],
      [fx.endCall(data({ room_name: 7 })), "data.room_name"],
      [fx.endCall(data({ room_name: " refused-1" })), "data.room_name"],
      [fx.endCall(data({ room_name: "r".repeat(257) })), "data.room_name"],
      [fx.endCall({ room_name: "refused-1" }), "data.started_at"],
      [fx.endCall(data({ started_at: null })), "data.started_at"],
      [fx.endCall(data({ started_at: "2026-03-09" })), "data.started_at"],
      [fx.endCall(data({ started_at: "2026-03-09T10:00:00" })), "data.started_at"],
      [fx.endCall(data({ started_at: "1999-12-31T23:59:59.999Z" })), "data.started_at"],
      [fx.endCall(data({ started_at: "2100-01-01T00:00:00Z" })), "data.started_at"],
      [fx.endCall(data({ started_at: Date.UTC(2026, 2, 9, 10) })), "data.started_at"],
      [fx.endCall(data({ call_duration_minutes: -1 })), "data.call_duration_minutes"],
      [fx.endCall(data({ call_duration_minutes: 10080.00001 })), "data.call_duration_minutes"], // a week and 0.6 ms
      [fx.endCall(data({ call_duration_minutes: "long" })), "data.call_duration_minutes"],
      [fx.endCall(data({ call_duration_minutes: true })), "data.call_duration_minutes"],
      [fx.endCall(data({ call_duration_minutes: { minutes: 1 } })), "data.call_duration_minutes"],
      [fx.endCall(data({ platform_number: `+${"9".repeat(64)}` })), "data.platform_number"],
    ];
    await nothingWritten(async () => {
      for (const [body, field] of cases) {
        const r = await post(worker, body);
        expectError(r, 400, REFUSED[field], `${field}: ${JSON.stringify(body).slice(0, 120)}`);
      }
      const notText = await post(worker, new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
      expectError(notText, 400, "Invalid body: expected UTF-8 text", "not UTF-8");
    });
  });

  test("a call_service or call_type no platform can be (over 64 characters, blank) is passed over, not refused", async () => {
    const long = (kind) => kind.repeat(65);
    const calls = [
      [{ call_service: long("s"), call_type: "inbound" }, "inbound"],
      [{ call_service: "  ", call_type: long("t") }, "unknown"],
      [{ call_service: long("s"), call_type: long("t") }, "unknown"],
      [{ call_service: long("s"), call_type: " Web " }, "web"],
    ].map(([fields, platform], i) => [{ room_name: `asst_long0000_0000000${i}`, started_at: "2026-03-13T10:00:00Z", call_duration_minutes: 1, ...fields }, platform]);
    await waitIdle();
    for (const [data] of calls) await accept(data);
    await waitIdle();
    for (const [data, platform] of calls) assert.equal((await stored(data.room_name))?.platform, platform, JSON.stringify(data).slice(0, 120));
  });

  test("401 and 403: no key, a key that is not one, a revoked key, a super-admin key; an ingest key reads nothing", async () => {
    const { ingest, admin, revoked } = worker.keys;
    const body = good("refused-auth");
    await nothingWritten(async () => {
      const missing = await post(worker, body, { auth: "none" });
      expectError(missing, 401, 'Missing API key: send the header "Authorization: Bearer <API key>"');
      assert.equal(missing.headers.get("www-authenticate"), "Bearer");
      expectError(await post(worker, body, { key: fx.unknownKey() }), 401, "Invalid API key", "unknown key in the path");
      expectError(await post(worker, body, { key: fx.unknownKey(), auth: "bearer" }), 401, "Invalid API key", "unknown bearer key");
      expectError(await post(worker, body, { key: "not-a-key!" }), 401, "Malformed key in the URL: expected /webhooks/end-call/<ingest key>", "a malformed path key");
      expectError(await post(worker, body, { auth: "none", headers: { Authorization: `Basic ${ingest.key}` } }), 401, 'Unsupported Authorization scheme: expected "Bearer <API key>"');
      expectError(await post(worker, body, { key: revoked.key }), 401, "This API key has been revoked");
      const superAdmin = "This endpoint requires an ingest key (a super-admin key must never be put in a webhook URL)";
      for (const auth of ["path", "bearer"]) {
        const r = await post(worker, body, { key: admin.key, auth });
        expectError(r, 403, superAdmin, `super-admin key (${auth})`);
        assert.equal(r.headers.get("www-authenticate"), 'Bearer error="insufficient_scope"');
      }
      expectError(await request(worker.base, `${ENDPOINT}?${day("2026-03-09")}`, { key: ingest.key }), 403, "This endpoint requires a super-admin API key");
      const replay = await request(worker.base, REPLAY, { key: ingest.key, method: "POST" });
      expectError(replay, 403, "This endpoint requires a super-admin API key", "replay with an ingest key");
    });
  });

  test("405 with Allow: POST for any other method", async () => {
    const { ingest } = worker.keys;
    await nothingWritten(async () => {
      for (const path of [WEBHOOK, `${WEBHOOK}/${ingest.key}`, REPLAY]) {
        for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
          const body = method === "GET" ? undefined : JSON.stringify(good("refused-method"));
          const r = await post(worker, body, { path, method, auth: "bearer" });
          expectError(r, 405, "Method not allowed; use POST", `${method} ${path.replace(ingest.key, "{key}")}`);
          assert.equal(r.headers.get("allow"), "POST");
        }
        const head = await post(worker, undefined, { path, method: "HEAD", auth: "bearer" });
        assert.equal(head.status, 405);
        assert.equal(head.headers.get("allow"), "POST");
      }
    });
  });

  test("413 for a body over 10 MiB, declared or streamed; nothing is written", async () => {
    const over = Buffer.from(JSON.stringify(fx.endCall({ ...good("refused-big").data, transcripts: [{ text: "a".repeat(10 * MiB) }] })));
    assert.ok(over.length > 10 * MiB);
    const message = "Request body too large: a webhook may send at most 10 MiB";
    const chunks = (buffer) => Array.from({ length: Math.ceil(buffer.length / MiB) }, (_, i) => buffer.subarray(i * MiB, (i + 1) * MiB));
    await nothingWritten(async () => {
      expectError(await postOwnConnection(worker, chunks(over), { declared: true }), 413, message, "Content-Length over 10 MiB");
      const exactlyOver = Buffer.alloc(10 * MiB + 1, 0x20);
      expectError(await postOwnConnection(worker, chunks(exactlyOver), { declared: true }), 413, message, "10 MiB and a byte");
      // No Content-Length (chunked): the worker stops reading past 10 MiB (and cancels the rest).
      expectError(await postOwnConnection(worker, chunks(over), { declared: false }), 413, message, "a chunked body over 10 MiB");
      // wrangler dev then holds the next request it forwards until its client gives up (the local stack's
      // doing: the worker cancels the body it stops reading): a throwaway request takes that place.
      await fetch(`${worker.base}/openapi.json`, { signal: AbortSignal.timeout(3_000) }).then((r) => r.arrayBuffer()).catch(() => null);
    });
  });

  test("a body of exactly 10 MiB, a long transcript, is accepted", async () => {
    await waitIdle();
    const call = { room_name: "asst_ten00000_00000001", started_at: "2026-03-10T10:00:00Z", call_duration_minutes: 1, call_service: "exotel", platform_number: "+15550001001" };
    const frame = JSON.stringify(fx.endCall({ ...call, transcripts: [{ text: "" }] }));
    const body = JSON.stringify(fx.endCall({ ...call, transcripts: [{ text: "a".repeat(10 * MiB - Buffer.byteLength(frame)) }] }));
    assert.equal(Buffer.byteLength(body), 10 * MiB);
    const r = await post(worker, body);
    assert.equal(r.status, 202, r.text);
    await waitIdle();
    await expectReport(day("2026-03-10"), { rows: [row("+15550001001", 1, 1, 0.02)], totals: totals(1, 1, 0.02) }, "10 MiB");
  });

  test("a repeated member counts as JSON.parse reads the body: the last one, data itself included", async () => {
    await waitIdle();
    const first = { room_name: "asst_dup00000_00000001", started_at: "2026-03-12T10:00:00Z", call_duration_minutes: 1, created_by_email: "first@dup.example", call_service: "exotel", platform_number: "+15550001201" };
    const last = { room_name: "asst_dup00000_00000001", started_at: "2026-03-12T10:00:00Z", call_duration_minutes: 2, call_service: "exotel", platform_number: "+15550001202" };
    const inner = '{"room_name":"asst_dup00000_00000002","started_at":"2026-03-12T11:00:00Z","call_duration_minutes":5,"call_duration_minutes":3,"platform_number":"+15550001203","platform_number":"+15550001204"}';
    const bodies = [
      `{"success":true,"data":${JSON.stringify(first)},"data":${JSON.stringify(last)}}`, // JSON.parse: the second data, whole
      `{"success":true,"data":${inner}}`, // the last of each member
      `{"success":true,"data":${JSON.stringify({ ...first, room_name: "asst_dup00000_00000003" })},"data":null}`, // JSON.parse: data is null
    ];
    const answers = [];
    for (const body of bodies) answers.push((await post(worker, body)).status);
    await waitIdle();
    const summary = async (id) => {
      const call = await stored(id);
      return call && [call.user_id === "(no owner)" ? null : call.email, call.duration_ms, call.platform_number];
    };
    assert.deepEqual(
      [answers, await summary("asst_dup00000_00000001"), await summary("asst_dup00000_00000002"), await summary("asst_dup00000_00000003")],
      [[202, 202, 400], [null, 120_000, "+15550001202"], [null, 180_000, "+15550001204"], null],
      "each body as JSON.parse reads it",
    );
  });

  test("503 when the queue does not take the call, with Retry-After; nothing is lost silently", async () => {
    const r = await post(queueless, good("unqueued-1"), { ip: "198.51.100.10" });
    expectError(r, 503, `The call was not accepted (request id ${r.requestId}): send it again`);
    assert.equal(r.headers.get("retry-after"), "1");
    const line = await queueless.logLineFor(r.requestId);
    assert.equal(line.status, 503);
    assert.equal(line.level, "error");
    assert.equal(line.path, "/webhooks/end-call/{key}");
    assert.ok(line.error, "the queue's failure is logged");
    // Refused before the queue, a body that can never be counted is still a 400 there.
    expectError(await post(queueless, fx.endCall({ room_name: "x" }), { ip: "198.51.100.11" }), 400, REFUSED["data.started_at"]);
  });

  test("429 with Retry-After past the webhook's limit per address, then per key", async () => {
    // wrangler dev counts in fixed windows: a burst straddling two of them is split, yet one of the two then
    // holds more than the limit. The first `limit` requests are within it whatever the split.
    const burst = async (count, keyName, ip) => {
      const answers = [];
      for (let i = 0; i < count; i++) answers.push(await post(queueless, good(`limited-${i}`), { key: queueless.keys[keyName].key, ip: ip(i) }));
      return answers;
    };
    const byAddress = await burst(8, "byAddress", () => "198.51.100.20");
    const byKey = await burst(10, "byKey", (i) => `198.51.100.${30 + i}`);
    for (const [answers, limit, name, message] of [
      [byAddress, 3, "webhook_ip", "Too many requests from this address: slow down and retry after 60 seconds"],
      [byKey, 4, "webhook_key", "Too many requests with this API key: slow down and retry after 60 seconds"],
    ]) {
      assert.deepEqual(answers.slice(0, limit).map((a) => a.status), Array(limit).fill(503), `${name}: within the limit, the queue (absent) answers`);
      const limited = answers.filter((a) => a.status === 429);
      assert.ok(limited.length >= 1, `${name}: ${answers.map((a) => a.status)}`);
      for (const answer of limited) {
        expectError(answer, 429, message, name);
        assert.equal(answer.headers.get("retry-after"), "60");
        assert.equal((await queueless.logLineFor(answer.requestId)).rate_limited, name);
      }
    }
  });
});

// ---- the record rule's vectors, through the webhook ----

test("the record rule's vectors through the webhook: each refused one a 400 naming its data.* field, each accepted one a 202, stored exactly", async () => {
  const vectors = JSON.parse(readFileSync(join(ROOT, "tests", "vectors", "call-records.json"), "utf8"));
  // A vector's record (the loader's fields) as the webhook's data:
  //   id → room_name; started_at (epoch ms) → its RFC 3339 text (toISOString: a year past 9999 comes out as
  //   "+010000-...", no RFC 3339 instant, so still refused; a fraction of a millisecond is written as more
  //   digits, which an instant may carry and the webhook drops: accepted, unlike the loader's integer field);
  //   duration_seconds → call_duration_minutes = seconds / 60, kept only where the exact milliseconds of the
  //   minutes' JSON text mean what the seconds mean (both valid with the same milliseconds, or both refused);
  //   platform → call_service (one the record rule refuses, blank or too long, is passed over there: the
//   call's platform becomes `unknown`, a 202);
  //   platform_number → platform_number; user_email → created_by_email (an address no filter could match
  //   is no owner there: a 202 without an owner). user_id has no webhook equivalent: its vectors are left out.
  const WEBHOOK_FIELD = { id: "data.room_name", started_at: "data.started_at", duration_seconds: "data.call_duration_minutes", platform_number: "data.platform_number" };
  const cases = [];
  for (const [outcome, list] of [["accepted", vectors.accepted], ["refused", vectors.refused]]) {
    list.forEach((vector, i) => {
      const record = vector.record;
      if (vector.field === "user_id") return;
      const seconds = decimal(record.duration_seconds, 1000);
      const minutesText = JSON.stringify(record.duration_seconds / 60);
      const minutes = decimal(minutesText, MINUTE);
      const durationVector = outcome === "refused" && vector.field === "duration_seconds";
      assert.equal(seconds.valid, !durationVector, `the oracle agrees with the vector ${vector.name}`);
      if (seconds.valid !== minutes.valid || seconds.millis !== minutes.millis) return; // the meaning did not survive
      const room = record.id !== vectors.base.id || vector.field === "id" ? record.id : `vector-${outcome}-${i}`;
      const fractional = !Number.isInteger(record.started_at);
      const iso = fractional ? new Date(Math.floor(record.started_at)).toISOString().replace("Z", "5Z") : new Date(record.started_at).toISOString();
      const body = { room_name: room, started_at: iso, call_duration_minutes: JSON.parse(minutesText), call_service: record.platform, platform_number: record.platform_number, created_by_email: record.user_email };
      const platformPassedOver = outcome === "refused" && vector.field === "platform";
      const expectAccepted = outcome === "accepted" || vector.field === "user_email" || platformPassedOver || (vector.field === "started_at" && fractional);
      cases.push({ name: `${outcome}: ${vector.name}`, record, body, field: expectAccepted ? null : WEBHOOK_FIELD[vector.field], minutes, fractional, noOwner: vector.field === "user_email" || record.user_email === null, platformPassedOver });
    });
  }
  const refusedFields = new Set(cases.filter((c) => c.field).map((c) => c.field));
  assert.deepEqual([...refusedFields].sort(), Object.values(WEBHOOK_FIELD).sort(), "every field the webhook refuses has vectors");
  assert.ok(cases.length >= 50, `${cases.length} vectors mapped`);

  await waitIdle();
  const before = await counts();
  const answers = await inParallel(cases.map((c) => () => post(worker, fx.endCall(c.body))));
  cases.forEach((c, i) => {
    if (c.field) expectError(answers[i], 400, REFUSED[c.field], c.name);
    else assert.equal(answers[i].status, 202, `${c.name}: ${answers[i].text}`);
  });
  await waitIdle();
  const accepted = cases.filter((c) => !c.field);
  const newUsers = new Set(accepted.filter((c) => !c.noOwner).map((c) => c.body.created_by_email.trim().toLowerCase()));
  const after = await counts();
  assert.equal(after.calls - before.calls, accepted.length, "one call per accepted vector, none for a refused one");
  assert.equal(after.users - before.users, newUsers.size, "one user per new address");
  const sums = new Map();
  for (const c of accepted) {
    const call = await stored(c.body.room_name);
    assert.ok(call, `${c.name}: stored`);
    const number = c.record.platform_number;
    assert.deepEqual(
      [call.started_at, call.duration_ms, call.platform, call.platform_number, c.noOwner ? call.user_id : call.email.toLowerCase()],
      [
        Math.floor(c.record.started_at),
        c.minutes.millis,
        c.platformPassedOver ? "unknown" : c.record.platform.trim().toLowerCase() === "web" ? "web" : c.record.platform,
        number === null || number.replace(/[ \t\r\n]/g, "") === "" ? null : number,
        c.noOwner ? "(no owner)" : c.record.user_email.trim().toLowerCase(),
      ],
      c.name,
    );
    if (call.started_at >= Date.UTC(2026, 10, 1) && call.started_at < Date.UTC(2026, 10, 2)) fx.addCall(sums, fx.bucketOf(c.body), c.minutes.millis);
  }
  await expectReport(day("2026-11-01"), fx.reportOf(sums), "the vectors' day");
});

// ---- failures while consuming ----

describe("a D1 that fails while the queue is consumed", () => {
  test("a call whose first write fails is retried, and written", async () => {
    await waitIdle();
    await fault("fail_retried", "NEW.id = 'asst_retry000_00000001'");
    const from = queueLines().length;
    let sent;
    let failed;
    try {
      sent = await accept({ room_name: "asst_retry000_00000001", started_at: "2026-03-08T08:00:00Z", call_duration_minutes: 4, call_service: "twilio", platform_number: "+15550000801" });
      failed = await until(
        () => queueLines().slice(from).find((l) => l.queue === CALLS_QUEUE && l.retried === 1 && /test fault/.test(l.error ?? "")),
        "the consumer's log line of the failed first attempt",
      );
      assert.deepEqual([failed.level, failed.messages, failed.calls_written, failed.dead_letters_kept], ["error", 1, 0, 0]);
      assert.equal(await stored("asst_retry000_00000001"), null, "nothing of the failed transaction");
    } finally {
      await unfault("fail_retried");
    }
    await waitIdle();
    const lines = queueLines().slice(from);
    const wrote = lines.findIndex((l) => l.queue === CALLS_QUEUE && l.calls_written === 1 && l.retried === 0);
    assert.ok(wrote > lines.indexOf(failed), `the retry wrote it: ${JSON.stringify(lines)}`);
    assert.ok(!lines.some((l) => l.queue === DEAD_QUEUE), "no dead letter");
    const call = await stored("asst_retry000_00000001");
    assert.deepEqual([call.duration_ms, call.received_at, call.delivery], [240_000, sent.receivedMs, sent.requestId]);
    await expectReport(day("2026-03-08"), { rows: [row("+15550000801", 1, 4, 0.07)], totals: totals(1, 4, 0.07) }, "retried");
  });

  test("dead letters: kept after every attempt fails, listed by the tool, replayed by it; an older one never overwrites a newer delivery", async () => {
    await waitIdle();
    const [march6, march8] = [Date.UTC(2026, 2, 6), Date.UTC(2026, 2, 8)];
    const admin = { CALL_ANALYTICS_KEY: worker.keys.admin.key };
    const state = ["--persist-to", worker.state];
    const owner = "dead@letters.example";
    const caller = "+919876500002";
    await fault("fail_dead", `NEW.started_at >= ${march6} AND NEW.started_at < ${march8}`);
    let older;
    let second;
    let mass;
    try {
      older = await accept({
        room_name: "asst_dead0000_00000001",
        started_at: "2026-03-06T09:00:00Z",
        call_duration_minutes: 2,
        created_by_email: owner,
        call_type: "inbound",
        call_service: "exotel",
        platform_number: "+15550000601",
        to_number: caller,
        transcripts: [{ speaker: "user", text: "private words" }],
      });
      second = await accept({ room_name: "asst_dead0000_00000002", started_at: "2026-03-06T10:00:00Z", call_duration_minutes: 3, created_by_email: owner, call_service: "exotel", platform_number: "+15550000602" });
      // More than a replay's page of 100, at once.
      const massCalls = Array.from({ length: 105 }, (_, i) => ({
        room_name: `asst_mass0000_${String(i).padStart(8, "0")}`,
        started_at: new Date(Date.UTC(2026, 2, 7) + i * 10 * MINUTE).toISOString(),
        call_duration_minutes: (i % 7) + 0.5,
        call_service: "twilio",
        platform_number: `+1555000070${i % 3}`,
      }));
      mass = await inParallel(massCalls.map((call) => () => accept(call)));
      // (Through another process's KV, a listing may fail now and then while the worker writes: asked again.)
      const kept = async () => (await deadLetters.list({ prefix: "call:" }).catch(() => ({ keys: [] }))).keys.length;
      await until(async () => (await kept()) === 107, "107 dead letters in KV", 90_000);
      await waitIdle();
    } finally {
      await unfault("fail_dead");
    }
    assert.equal((await one("SELECT count(*) AS n FROM calls WHERE started_at >= ?1 AND started_at < ?2", march6, march8)).n, 0, "none written");
    const pad = (ms) => String(ms).padStart(15, "0");
    const name = (sent) => `call:${pad(sent.receivedMs)}:${sent.requestId}`;
    const kept = await deadLetters.getWithMetadata(name(older));
    assert.equal(kept.metadata, "asst_dead0000_00000001", "the call id as the entry's metadata");
    for (const secret of [caller, "private words"]) assert.ok(!kept.value.includes(secret), `the dead letter holds ${secret}`);
    // The attempts: each message 3 times (max_retries 2), then the dead-letter queue.
    const attempts = queueLines().filter((l) => l.queue === CALLS_QUEUE && /test fault/.test(l.error ?? "")).reduce((n, l) => n + l.retried, 0);
    assert.ok(attempts >= 3 * 107, `${attempts} failed attempts`);

    // A newer delivery of the first call, once D1 works again.
    const newer = await accept({ room_name: "asst_dead0000_00000001", started_at: "2026-03-06T09:00:00Z", call_duration_minutes: 9, created_by_email: owner, call_service: "exotel", platform_number: "+15550000603" });
    await waitIdle();
    // What the dead-letter queue's consumer keeps of a message that is no delivery (only another producer
    // could send one): written here as it would be, to be listed and never replayed.
    await deadLetters.put("unreadable:test-junk", JSON.stringify({ owner: "junk@letters.example" }), { metadata: {} });

    const listed = await deadLettersTool(["list", ...state]);
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.trimEnd().split("\n");
    assert.match(lines[0], /^CALL ID\s+RECEIVED\s+NAME$/);
    assert.equal(lines.length, 1 + 107 + 1, listed.stdout);
    for (const sent of [older, second, ...mass]) {
      const line = `${sent.data.room_name}  ${new Date(sent.receivedMs).toISOString()}  ${name(sent)}`;
      assert.ok(lines.some((l) => l.replace(/\s+/g, " ") === line.replace(/\s+/g, " ")), `listed: ${line}`);
    }
    assert.match(lines.at(-1), /^UNREADABLE\s+unreadable:test-junk\s+/);
    assert.match(listed.stderr, /107 dead letters in local KV/);
    assert.match(listed.stderr, /1 unreadable entry: never replayed/);
    for (const secret of [owner, "junk@letters.example", caller]) assert.ok(!(listed.stdout + listed.stderr).includes(secret), `the list shows ${secret}`);
    const json = await deadLettersTool(["list", ...state, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.dead_letters.length, 107);
    assert.deepEqual(
      parsed.dead_letters.find((l) => l.call_id === "asst_dead0000_00000001"),
      { call_id: "asst_dead0000_00000001", received_at: new Date(older.receivedMs).toISOString(), request_id: older.requestId, name: name(older) },
    );
    assert.deepEqual(parsed.unreadable.map((u) => u.name), ["unreadable:test-junk"]);

    const replayRequests = () => logJson().filter((l) => l.path === REPLAY && l.status === 200).length;
    const requestsBefore = replayRequests();
    const replayed = await deadLettersTool(["replay", "--url", worker.base], admin);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.equal(replayed.stdout.trim(), `Replayed 107 dead letters into the calls queue (2 requests to ${worker.base}).`);
    given.set(worker, given.get(worker) + 107);
    await until(() => replayRequests() === requestsBefore + 2, "the replay's two requests in the log", 5_000);
    await waitIdle();

    // The older dead letter did not overwrite the newer delivery; the other one is back, as first received.
    const first = await stored("asst_dead0000_00000001");
    assert.deepEqual([first.platform_number, first.duration_ms, first.received_at, first.delivery], ["+15550000603", 540_000, newer.receivedMs, newer.requestId]);
    const back = await stored("asst_dead0000_00000002");
    assert.deepEqual([back.duration_ms, back.received_at, back.delivery, back.email], [180_000, second.receivedMs, second.requestId, owner]);
    await expectReport(
      day("2026-03-06"),
      { rows: [row("+15550000603", 1, 9, 0.15), row("+15550000602", 1, 3, 0.05)], totals: totals(2, 12, 0.2) },
      "replayed, 2026-03-06",
    );
    const sums = new Map();
    for (const sent of mass) fx.addCall(sums, fx.bucketOf(sent.data), decimal(sent.data.call_duration_minutes, MINUTE).millis);
    await expectReport(day("2026-03-07"), fx.reportOf(sums), "replayed, 2026-03-07");

    // Nothing left but the unreadable entry; a second replay has nothing to do.
    const left = JSON.parse((await deadLettersTool(["list", ...state, "--json"])).stdout);
    assert.deepEqual([left.dead_letters, left.unreadable.map((u) => u.name)], [[], ["unreadable:test-junk"]]);
    const again = await deadLettersTool(["replay", "--url", worker.base], admin);
    assert.equal(again.stdout.trim(), `Replayed 0 dead letters into the calls queue (1 request to ${worker.base}).`);
    await deadLetters.delete("unreadable:test-junk");
  });

  test("the tool: usage, and each failure with its exit code", async () => {
    const help = await deadLettersTool(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage:\n  dead-letters list \[--remote \| --persist-to DIR\] \[--json\]/);
    assert.match(help.stdout, /CALL_ANALYTICS_KEY/);
    for (const args of [[], ["purge"], ["replay", "--key", "cak_x"], ["replay", worker.keys.admin.key], ["list", "--url", worker.base], ["list", "--remote", "--persist-to", "x"], ["replay", "--persist-to", "x"]]) {
      const r = await deadLettersTool(args, { CALL_ANALYTICS_KEY: worker.keys.admin.key });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(!r.stderr.includes(worker.keys.admin.key), "a key given as an argument is not echoed");
    }
    const noKey = await deadLettersTool(["replay", "--url", worker.base]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /set the environment variable CALL_ANALYTICS_KEY/);
    assert.equal((await deadLettersTool(["replay", "--url", "ftp://127.0.0.1/"], { CALL_ANALYTICS_KEY: "x" })).code, 2);
    // HTTP errors: the envelope's message, exit 1.
    const ingest = await deadLettersTool(["replay", "--url", worker.base], { CALL_ANALYTICS_KEY: worker.keys.ingest.key });
    assert.equal(ingest.code, 1);
    assert.match(ingest.stderr, /HTTP 403: This endpoint requires a super-admin API key/);
    const unknown = await deadLettersTool(["replay", "--url", worker.base], { CALL_ANALYTICS_KEY: fx.unknownKey() });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /HTTP 401: Invalid API key/);
    // A worker whose queue is gone: the replay fails (500) and keeps the dead letter for the next one.
    const stranded = "call:001772791200000:stranded";
    await withBindings({ persistTo: queueless.state }, (env) => env.DEAD_LETTERS.put(stranded, "{}", { metadata: "stranded" }));
    const failed = await deadLettersTool(["replay", "--url", queueless.base], { CALL_ANALYTICS_KEY: queueless.keys.admin.key });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /replay failed after 0 replayed: HTTP 500: Internal server error \(request id [0-9a-f-]{36}\)/);
    const still = JSON.parse((await deadLettersTool(["list", "--persist-to", queueless.state, "--json"])).stdout);
    assert.deepEqual(still.dead_letters.map((l) => l.name), [stranded], "a failed replay forgets nothing");
    // No worker there.
    const away = await deadLettersTool(["replay", "--url", "http://127.0.0.1:9"], { CALL_ANALYTICS_KEY: "x" });
    assert.equal(away.code, 1);
    assert.match(away.stderr, /did not answer/);
  });
});

// ---- differential ----

/** A seeded PRNG (mulberry32). */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (list) => list[Math.floor(next() * list.length)], chance: (p) => next() < p };
}

test(`differential: a random sequence of deliveries, redeliveries, updates and refusals, several at once; the report is the latest-received version of each call (seed ${SEED})`, async () => {
  const { int, pick, chance } = prng(SEED);
  const START = Date.UTC(2026, 3, 1);
  const SPAN = 3 * D; // 2026-04-01 .. 2026-04-04
  const IDS = Array.from({ length: 30 }, (_, i) => (i === 7 ? "diff call 7" : `asst_diff0000_${String(i).padStart(8, "0")}`));
  const OWNERS = ["d0@diff.example", "D0@Diff.Example", " d1@diff.example ", "d2@diff.example", "josé@diff.example", null, "not an email", undefined];
  const NUMBERS = ["+911111111111", " +912222222222 ", "08012345678", "+14155550100", "\t+14155550100", null, "", undefined];
  const KINDS = [
    { call_type: "outbound", call_service: "exotel" },
    { call_type: "outbound", call_service: "twilio" },
    { call_type: "inbound", call_service: "twilio" },
    { call_type: "web", call_service: "web" },
    { call_type: "web" },
    { call_type: "outbound", call_service: " WEB " },
    { call_type: "outbound" },
    {},
  ];
  const instant = (ms) => {
    const form = int(4);
    const iso = new Date(ms).toISOString();
    if (form === 0) return iso; // milliseconds
    if (form === 1) return iso.replace("Z", `${pick(["000", "999", "374"])}Z`); // microseconds, dropped
    if (form === 2) return new Date(ms + 330 * MINUTE).toISOString().replace("Z", "+05:30"); // an offset
    return ms % 1000 === 0 ? iso.replace(".000Z", "Z") : iso;
  };
  const duration = () => pick([null, undefined, 0, int(120), int(60_000) / 100, int(10_000) / 1000, `${int(100)}.${int(100)}`, ` ${int(30)} `]);
  const started = () => (chance(0.15) ? START + int(3) * D + pick([0, -1, 1]) + (chance(0.5) ? D : 0) : START + int(SPAN));
  const fresh = (id) => {
    const startMs = Math.min(Math.max(started(), START), START + SPAN - 1);
    const data = { room_name: id, startMs, started_at: instant(startMs), call_duration_minutes: duration(), created_by_email: pick(OWNERS), platform_number: pick(NUMBERS), ...pick(KINDS), to_number: "+919800000000" };
    for (const key of Object.keys(data)) if (data[key] === undefined) delete data[key];
    return data;
  };
  const update = (previous) => {
    const data = { ...previous };
    for (let n = 1 + int(3); n > 0; n--) {
      const what = int(5);
      if (what === 0) data.call_duration_minutes = duration();
      else if (what === 1) data.platform_number = pick(NUMBERS);
      else if (what === 2) data.created_by_email = pick(OWNERS);
      else if (what === 3) Object.assign(data, { call_type: undefined, call_service: undefined }, pick(KINDS));
      else {
        data.startMs = START + int(SPAN);
        data.started_at = instant(data.startMs);
      }
    }
    for (const key of Object.keys(data)) if (data[key] === undefined) delete data[key];
    return data;
  };
  const body = (data) => {
    const { startMs, ...sent } = data;
    return fx.endCall(sent);
  };

  await waitIdle();
  const last = new Map(); // id → the last version sent (accepted or not)
  const deliveries = []; // accepted: { id, data, receivedMs, requestId }
  let refused = 0;
  for (let wave = 0; wave < 24; wave++) {
    const shuffled = [...IDS];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const ids = shuffled.slice(0, 1 + int(9));
    const batch = ids.map((id) => {
      const previous = last.get(id);
      const roll = int(10);
      if (previous && roll < 2) return { id, data: previous }; // the same body again
      if (previous && roll === 2) return { id, data: { ...previous, call_duration_minutes: -1 }, refuse: true }; // never counted
      const data = previous && roll < 9 ? update(previous) : fresh(id);
      last.set(id, data);
      return { id, data };
    });
    // One delivery per call in a wave, all of them at once; the next wave only once the clock has moved past
    // this one's last receipt, so that no two deliveries of a call share a millisecond.
    const answers = await Promise.all(batch.map((d) => post(worker, body(d.data), { auth: chance(0.5) ? "path" : "bearer" })));
    let latestMs = 0;
    batch.forEach((d, i) => {
      const a = answers[i];
      if (d.refuse) {
        expectError(a, 400, REFUSED["data.call_duration_minutes"], `seed ${SEED}, wave ${wave}`);
        refused++;
        return;
      }
      assert.equal(a.status, 202, `seed ${SEED}, wave ${wave}: ${a.text}`);
      const receivedMs = Date.parse(a.body.data.received_at);
      latestMs = Math.max(latestMs, receivedMs);
      deliveries.push({ id: d.id, data: d.data, receivedMs, requestId: a.requestId });
    });
    await until(() => Date.now() > latestMs + 1, "the clock to move on", 5_000);
  }
  // The oracle: the latest-received delivery of each call.
  const latest = new Map();
  for (const d of deliveries) {
    const kept = latest.get(d.id);
    assert.ok(!kept || kept.receivedMs !== d.receivedMs, `seed ${SEED}: two deliveries of ${d.id} in one millisecond`);
    if (!kept || d.receivedMs > kept.receivedMs) latest.set(d.id, d);
  }
  await waitIdle();

  const ownerOf = (data) => {
    const email = typeof data.created_by_email === "string" ? data.created_by_email.trim() : "";
    return /^[^\s@]+@[^\s@]+$/.test(email) ? email.toLowerCase() : null;
  };
  const millisOf = (data) => (data.call_duration_minutes === null || data.call_duration_minutes === undefined ? 0 : decimal(data.call_duration_minutes, MINUTE).millis);
  const oracle = (start, end, owner) => {
    const sums = new Map();
    for (const { data } of latest.values()) {
      if (data.startMs < start || data.startMs >= end) continue;
      if (owner !== undefined && ownerOf(data) !== owner) continue;
      fx.addCall(sums, fx.bucketOf(data), millisOf(data));
    }
    return fx.reportOf(sums);
  };
  const context = `seed ${SEED} (WEBHOOK_SEED=${SEED} replays it): ${deliveries.length} deliveries of ${latest.size} calls, ${refused} refused`;
  const ranges = [
    ["start_date=2026-04-01&end_date=2026-04-03", START, START + SPAN],
    ["start_date=2026-04-02T06:00:00Z&end_date=2026-04-03T18:00:00.001Z", START + D + 6 * H, START + 2 * D + 18 * H + 1],
    ["start_date=2026-04-02&end_date=2026-04-03&timezone=Asia/Kolkata", START + D - 330 * MINUTE, START + 3 * D - 330 * MINUTE],
  ];
  for (const [query, start, end] of ranges) await expectReport(query, oracle(start, end), `${context}, ?${query}`);
  for (const owner of ["d0@diff.example", "d1@diff.example", "d2@diff.example", "josé@diff.example"]) {
    const query = `start_date=2026-04-01&end_date=2026-04-03&user_email=${encodeURIComponent(owner.toUpperCase() === owner ? owner : owner.replace("d", "D"))}`;
    await expectReport(query, oracle(START, START + SPAN, owner), `${context}, ${owner}`);
  }
  // D1: each call as its latest-received delivery left it; no row for a call only ever refused.
  for (const id of IDS) {
    const call = await stored(id);
    const kept = latest.get(id);
    if (!kept) {
      assert.equal(call, null, `${context}: ${id}`);
      continue;
    }
    assert.deepEqual(
      [call.received_at, call.delivery, call.started_at, call.duration_ms, ownerOf(kept.data) ?? "(no owner)"],
      [kept.receivedMs, kept.requestId, kept.data.startMs, millisOf(kept.data), call.user_id === "(no owner)" ? "(no owner)" : call.email.toLowerCase()],
      `${context}: ${id}`,
    );
  }
});

// ---- last: what wrangler printed ----

/** The lines of `text` that hold any of the workers' keys (or their random part), the keys masked. */
function linesWithKeys(text) {
  const keys = [worker, queueless].flatMap((w) => Object.values(w.keys).map(({ key }) => key));
  return text
    .split("\n")
    .filter((line) => keys.some((key) => line.includes(key.slice(4))))
    .map((line) => keys.reduce((masked, key) => masked.replaceAll(key.slice(4), "<KEY>"), line));
}

test("the worker's own log lines never hold a key, whatever the path it came in", async () => {
  // A key in a path the webhook does not serve (a trailing slash, a path under it): a platform misconfigured.
  for (const path of [`${WEBHOOK}/${worker.keys.ingest.key}/`, `${WEBHOOK}/${worker.keys.ingest.key}/extra`, `${WEBHOOK}//${worker.keys.ingest.key}`]) {
    const r = await post(worker, fx.endCall({ room_name: "x", started_at: "2026-03-09T10:00:00Z" }), { path });
    assert.equal(r.status, 404, path.replace(worker.keys.ingest.key, "{key}"));
    await worker.logLineFor(r.requestId);
  }
  const own = [worker, queueless].flatMap((w) => logJson(w).map((line) => JSON.stringify(line)));
  assert.deepEqual(linesWithKeys(own.join("\n")), [], "the worker's log lines that hold a key");
});

test("nothing else in wrangler's output holds a key: only wrangler dev's own line for each request", () => {
  // wrangler dev prints every request's path ("[wrangler:info] POST /webhooks/end-call/cak_... 202 Accepted"),
  // as Cloudflare's request logs keep every URL (docs/live-data.md, "The key in the URL"): no worker can hide
  // it. Every other line (the worker's own, checked above; errors, warnings, the queues' lines) must not.
  const requestLine = /^\[wrangler:info\] [A-Z]+ \/webhooks\/end-call\/\S*<KEY>\S* \d{3} /;
  const lines = [worker, queueless].flatMap((w) => linesWithKeys(w.logs()));
  assert.deepEqual(lines.filter((line) => !requestLine.test(line) && !line.includes('{"level"')), []);
});
