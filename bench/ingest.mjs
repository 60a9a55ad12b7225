#!/usr/bin/env node
// The end-call webhook under load: a fresh local D1 preloaded with benchmark calls (bench/data.mjs), the
// built worker in `wrangler dev` with the shipped queue consumer (max_batch_size 100, max_batch_timeout 1 s)
// and rate limits raised in its own configuration, and realistic webhook bodies (the platform's envelope as
// /work/shared/spec/end-call-webhook.md describes it: a transcript of 2 to 6 KB, usage, recording...), each
// a distinct call. It measures, in one run:
//   1. webhooks accepted per second at --connections (wrk, with a Lua script that gives each request its
//      own room_name), p50/p99 of the 202; beside it, at the same concurrency, the same stack's floors: an
//      unknown path (a 404: the worker and its log line, no binding), the static diagnostics route (the
//      access check, no body, no D1) and the webhook with a body that is read whole and refused (400)
//      before the queue, so what the 202 costs over them is the queue send (and the consumer's writes);
//   2. the time from the 202 to the call being in the report: at a steady --rate webhooks/s, every
//      --probe-every-th call is a probe with its own platform number (of one probe user), and one poller
//      asks the report for that user back to back (a poll every few tens of ms) until each probe's bucket is
//      there; the consumer's log lines give a second estimate for every call of the phase (a batch's line is
//      read as soon as wrangler prints it; its calls are the next `messages` 202s in the order answered);
//   3. D1 rows written per ingested call, from the consumer's log lines (d1_rows_written / calls_written):
//      calls of existing users, and first calls of new users, each in batches (sent at --rate) and one call
//      a batch; then the same calls written by direct INSERTs (as bench/writes.mjs does) into a copy of the
//      database taken before the worker started;
//   4. the plain 30-day report's p50 (a GET with no parameters: the last 30 days, all tenants), back to back
//      at one connection, in windows that alternate idle and --rate webhooks/s.
// Webhooks at a rate come from a thread of their own (open loop: each on its schedule). Prints the numbers,
// a MET / NOT MET line per target, the CPU time each phase took in workerd, wrangler's node, this client and
// every other process on the machine (it is shared), and the machine. A phase during which wrangler dev
// reloaded the worker (build/ changed under it, which also empties the local queue) makes the run INVALID.
// Not part of the test run.
//
//   node bench/ingest.mjs [--calls 100000] [--seconds 30] [--connections 16] [--rate 50] [--rows-calls 500]
//                         [--singles 10] [--probe-every 5] [--floor-seconds 10] [--rounds 3] [--worker-log FILE]
//
// Needs wrk (apt-get install wrk) and a built worker (scripts/build.sh).
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { prng } from "../scripts/lib/generate.mjs";

/** Absolute time in ms (sub-millisecond), the same clock in every thread. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// ---- calls and webhook bodies (both threads) ----

const SENTENCES = [
  "Hello, this is Priya calling from the clinic about your appointment tomorrow.",
  "Yes, hi, I was expecting your call. Can we move it to the afternoon?",
  "Of course. I have slots at 2:30 PM and at 4:15 PM, which one works better for you?",
  "The 4:15 one, please. Will the doctor be the same as last time?",
  "Yes, Dr. Mehta will see you. Please bring your previous reports and your insurance card.",
  "Okay. Is there any parking near the building? Last time it was very difficult to find a spot.",
  "There is a paid parking lot right behind the building, the entrance is from the side street.",
  "Great, thank you. Also, do I need to come early to fill in any forms?",
  "Please arrive ten minutes early so that the front desk can update your details.",
  "नमस्ते, क्या मैं आपकी किसी और चीज़ में मदद कर सकती हूँ?",
  "No, that's all for now. Thanks a lot for calling, have a good day.",
  "You're welcome! You will get an SMS confirmation shortly. Goodbye.",
  "Sorry, could you repeat that? The line was breaking up for a second.",
  "I said the appointment is confirmed for Thursday at 4:15 PM with Dr. Mehta.",
];
const SERVICES = [
  ["twilio", "inbound", 0.35],
  ["twilio", "outbound", 0.25],
  ["exotel", "outbound", 0.15],
  ["exotel", "inbound", 0.1],
  ["web", "web", 0.1],
  [null, "outbound", 0.05], // a record from before service tracking: bucketed by its number
];
/** The benchmark dataset's numbers (scripts/lib/generate.mjs benchProfile): E.164, as Twilio's are. */
const BENCH_NUMBERS = Array.from({ length: 50 }, (_, i) => `+1555${String(1_000_000 + i * 7919).padStart(7, "0")}`);
/** Exotel numbers in local form, as the platform stores them. */
const EXOTEL_NUMBERS = ["08012345678", "08047112233", "02261234567", "04439876543", "01140556677"];
const hex = (random, n) => Array.from({ length: n }, () => "0123456789abcdef"[random.int(16)]).join("");
const ASSISTANTS = (() => {
  const random = prng(7);
  return Array.from({ length: 12 }, (_, i) => ({ id: `${hex(random, 8)}-${hex(random, 4)}-${hex(random, 4)}-${hex(random, 12)}`, name: `Assistant ${i + 1}` }));
})();

/**
 * A call as the platform would report it: `owner` is { email, userId } (userId: the id a direct writer
 * would use), or null; `number` may be null. `seed` picks the rest of the body (transcript...).
 */
function makeCall(random, { room, owner, startedAt, number }) {
  const [service, type] = random.weighted(SERVICES.map((s) => [s, s[2]]));
  const web = service === "web" || type === "web";
  const minutes = Math.round((5 + random.int(900)) / 60 * 100) / 100; // 2-decimal minutes: whole ms
  return {
    room,
    owner,
    service,
    type,
    number: number !== undefined ? number : web ? null : service === "exotel" ? random.pick(EXOTEL_NUMBERS) : random.chance(0.03) ? null : random.pick(BENCH_NUMBERS),
    startedAt,
    minutes,
    seed: random.int(2 ** 31),
  };
}

/** The platform that call's record makes (src/ingest/webhook.rs): what a direct INSERT would store. */
function platformOf(call) {
  if (call.service === "web" || call.type === "web") return "web";
  return call.service ?? call.type ?? "unknown";
}

/** RFC 3339 with microseconds, as the platform writes started_at. */
const micros = (ms) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");

/** The webhook body of `call` (the platform's whole record, plus usage): 2 to 6 KB of transcript. */
function webhookBody(call, { room = call.room, withStart = true } = {}) {
  const random = prng(call.seed);
  const assistant = ASSISTANTS[random.int(ASSISTANTS.length)];
  const durationMs = Math.round(call.minutes * 60_000);
  const endedAt = call.startedAt + durationMs;
  const target = 2000 + random.int(4000);
  const transcripts = [];
  let size = 0;
  for (let turn = 0; size < target; turn++) {
    const text = random.pick(SENTENCES);
    const timestamp = micros(call.startedAt + Math.floor((durationMs * size) / target));
    transcripts.push({ speaker: turn % 2 ? "user" : "agent", text, timestamp });
    size += text.length + 70;
  }
  const data = {
    room_name: room,
    assistant_id: assistant.id,
    assistant_name: assistant.name,
    ...(withStart ? { started_at: micros(call.startedAt) } : {}),
    answered_at: micros(call.startedAt + 2_100),
    agent_ready_at: micros(call.startedAt + 2_600),
    ended_at: micros(endedAt),
    call_duration_minutes: call.minutes,
    billable_duration_minutes: Math.ceil(call.minutes),
    created_by_email: call.owner?.email ?? null,
    call_type: call.type,
    call_service: call.service,
    platform_number: call.number,
    to_number: call.type === "web" ? "Web Call" : `+9198${String(random.int(1e8)).padStart(8, "0")}`,
    call_status: "completed",
    call_status_reason: null,
    sip_status_code: call.type === "web" ? null : 200,
    sip_status_text: call.type === "web" ? null : "OK",
    call_end_reason: random.pick(["caller_hangup", "agent_hangup", "silence_timeout"]),
    queue_id: call.type === "outbound" ? `q_${hex(random, 8)}` : null,
    is_passthrough: false,
    recording_path: `https://recordings.example.com/${assistant.id}/${hex(random, 8)}.ogg`,
    recording_egress_id: `EG_${hex(random, 12)}`,
    transcripts,
    usage: {
      llm_prompt_tokens: 800 + random.int(3000),
      llm_completion_tokens: 100 + random.int(900),
      llm_total_tokens: 1200 + random.int(4000),
      llm_model: "gpt-4o-mini",
      tts_characters_count: 500 + random.int(3000),
      tts_audio_duration: Math.round(random.next() * 2000) / 10,
      stt_audio_duration: Math.round(random.next() * 3000) / 10,
      mode: "pipeline",
    },
  };
  return JSON.stringify({ success: true, message: "Call completed", data });
}

// ---- the sender thread: webhooks at a fixed rate ----

/**
 * Sends `calls` at `rate` a second, open loop (each on its schedule, whatever the answers before it). Posts
 * each probe's answer at once ({ probe }) and all answers at the end ({ done }).
 */
async function sender({ base, path, rate, calls }) {
  const results = [];
  const t0 = now() + 50;
  parentPort.postMessage({ started: t0, until: t0 + (calls.length * 1000) / rate });
  const pending = calls.map(async (call, i) => {
    await sleep(t0 + (i * 1000) / rate - now());
    const body = webhookBody(call);
    const sent = now();
    let status = 0;
    let requestId = null;
    try {
      const response = await fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body });
      await response.arrayBuffer();
      status = response.status;
      requestId = response.headers.get("x-request-id");
    } catch {}
    const result = { i, sent, received: now(), status, requestId, number: call.number, probe: Boolean(call.probe) };
    results.push(result);
    if (call.probe) parentPort.postMessage({ probe: result });
  });
  await Promise.all(pending);
  parentPort.postMessage({ done: results.sort((a, b) => a.i - b.i), seconds: (now() - t0) / 1000 });
}

if (!isMainThread) {
  await sender(workerData);
} else {
  await main();
}

// ---- the main thread ----

async function main() {
  const { ROOT, withBindings } = await import("../scripts/lib/bindings.mjs");
  const { createKeys, ENDPOINT, migrate, newStateDir, request, startWorker } = await import("../scripts/lib/local-worker.mjs");
  const { BENCH_LIMITS, fmt, inspector, loadDataset, log, machine, requireWrk, table, withWebSocket, wrk } = await import("./lib.mjs");
  withWebSocket();

  const { values } = parseArgs({
    options: {
      calls: { type: "string", default: "100000" },
      seconds: { type: "string", default: "30" },
      connections: { type: "string", default: "16" },
      threads: { type: "string", default: "2" },
      rate: { type: "string", default: "50" },
      "rows-calls": { type: "string", default: "500" },
      singles: { type: "string", default: "10" },
      "probe-every": { type: "string", default: "5" },
      "floor-seconds": { type: "string", default: "10" },
      rounds: { type: "string", default: "3" },
      // Where to write the worker's whole output (wrangler dev's), for a look at what happened.
      "worker-log": { type: "string" },
    },
  });
  const CALLS = Number(values.calls);
  const SECONDS = Number(values.seconds);
  const CONNECTIONS = Number(values.connections);
  const RATE = Number(values.rate);
  const ROWS_CALLS = Number(values["rows-calls"]);
  const SINGLES = Number(values.singles);
  const PROBE_EVERY = Number(values["probe-every"]);
  const FLOOR_SECONDS = Number(values["floor-seconds"]);
  const ROUNDS = Number(values.rounds);
  requireWrk();
  const QUEUE = "call-analytics-calls";
  const WEBHOOK_LOG_PATH = "/webhooks/end-call/{key}";
  // Far over production's limits, as the other benchmarks' (thousands of requests a minute from one address
  // with one key); the webhook's own two as well.
  const LIMITS = { ...BENCH_LIMITS, webhookIp: 100_000_000, webhookKey: 100_000_000 };

  const percentile = (values, p) => {
    if (!values.length) return NaN;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  };
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  /** What the answers other than 202 were (0: no answer, the client's connection failed). */
  const notAccepted = (answers) => {
    const counts = new Map();
    for (const { status } of answers) if (status !== 202) counts.set(status, (counts.get(status) ?? 0) + 1);
    return [...counts].map(([status, count]) => `${count} x ${status || "no answer (connection error)"}`).join(", ");
  };

  // ---- CPU time by process, to tell what else ran on the machine during a phase ----
  const TICKS = 100; // USER_HZ on Linux
  async function cpuSnapshot() {
    const processes = new Map();
    for (const name of await readdir("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = await readFile(`/proc/${name}/stat`, "utf8");
        const close = stat.lastIndexOf(")");
        const fields = stat.slice(close + 2).split(" ");
        const comm = stat.slice(stat.indexOf("(") + 1, close);
        // workerd's threads too: its event loop runs every isolate of the process on one of them.
        const threads = new Map();
        if (comm.startsWith("workerd")) {
          for (const tid of await readdir(`/proc/${name}/task`)) {
            const task = await readFile(`/proc/${name}/task/${tid}/stat`, "utf8").catch(() => null);
            const taskFields = task?.slice(task.lastIndexOf(")") + 2).split(" ");
            if (taskFields) threads.set(tid, Number(taskFields[11]) + Number(taskFields[12]));
          }
        }
        processes.set(Number(name), { comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), threads });
      } catch {}
    }
    return { at: now(), processes };
  }
  async function commandLine(pid) {
    try {
      return (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter(Boolean).join(" ");
    } catch {
      return "";
    }
  }
  const shortCommand = (line) =>
    line
      .replace(/\/usr\/bin\/|\/work\/main\/|node_modules\/@cloudflare\/workerd-linux-64\/bin\/|node_modules\/wrangler\/wrangler-dist\//g, "")
      .replace(/ --(no-warnings|experimental-[\w-]+|test-concurrency=\d+)/g, "")
      .slice(0, 60);
  /** CPU seconds between two snapshots: ours (workerd, wrangler, this client and wrk) and everyone else's. */
  async function cpuBetween(before, after) {
    const ours = new Set([process.pid]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, p] of after.processes) if (!ours.has(pid) && ours.has(p.ppid)) (ours.add(pid), (grew = true));
    }
    const used = (pid, p) => (p.ticks - (before.processes.get(pid)?.ticks ?? 0)) / TICKS;
    const mine = { workerd: 0, workerdThread: 0, wrangler: 0, client: 0 };
    const others = [];
    for (const [pid, p] of after.processes) {
      const seconds = used(pid, p);
      if (seconds <= 0) continue;
      if (ours.has(pid)) {
        if (p.comm.startsWith("workerd")) {
          mine.workerd += seconds;
          for (const [tid, ticks] of p.threads) {
            mine.workerdThread = Math.max(mine.workerdThread, (ticks - (before.processes.get(pid)?.threads.get(tid) ?? 0)) / TICKS);
          }
        }
        else if (pid === process.pid || p.comm === "wrk") mine.client += seconds;
        else mine.wrangler += seconds;
      } else others.push({ pid, comm: p.comm, seconds });
    }
    others.sort((a, b) => b.seconds - a.seconds);
    const top = [];
    for (const o of others.slice(0, 3)) if (o.seconds >= 0.5) top.push(`${shortCommand(await commandLine(o.pid)) || o.comm} ${fmt(o.seconds)} s`);
    return { wall: (after.at - before.at) / 1000, ...mine, others: sum(others.map((o) => o.seconds)), top };
  }
  const phases = [];
  let worker;
  /** How often wrangler dev has reloaded the worker (a change to build/ or src/worker.mjs): it loses the local queue's messages. */
  const reloads = () => (worker?.logs().match(/Reloading local server/g) ?? []).length;
  async function phase(name, fn) {
    log(name);
    const before = await cpuSnapshot();
    const reloadsBefore = reloads();
    const result = await fn();
    const reloaded = reloads() > reloadsBefore;
    if (reloaded) log(`  wrangler dev reloaded the worker during "${name}": its numbers do not count`);
    phases.push({ name, reloaded, ...(await cpuBetween(before, await cpuSnapshot())) });
    if (tail) log(`  ${name}: done; ${accepted} accepted, ${written()} written so far`);
    return result;
  }

  // ---- the worker's log, read as it grows ----
  function logTail(worker) {
    let offset = 0;
    let partial = "";
    const consumer = [];
    const requests = [];
    const queueLines = [];
    const read = () => {
      const out = worker.logs();
      if (out.length === offset) return;
      const chunk = partial + out.slice(offset);
      offset = out.length;
      const lines = chunk.split("\n");
      partial = lines.pop();
      const t = now();
      for (const raw of lines) {
        const line = raw.replace(/\x1b\[[0-9;]*m/g, "");
        const dispatched = line.match(/QUEUE (\S+) (\d+)\/(\d+) \((\d+)ms\)/);
        if (dispatched) queueLines.push({ t, queue: dispatched[1], acked: Number(dispatched[2]), total: Number(dispatched[3]), ms: Number(dispatched[4]) });
        const at = line.indexOf('{"level"');
        if (at < 0) continue;
        let parsed;
        try {
          parsed = JSON.parse(line.slice(at));
        } catch {
          if (line.includes('"queue"')) log(`  an unreadable consumer line: ${line.slice(0, 300)}`);
          continue;
        }
        if (parsed.queue !== undefined) consumer.push({ t, ...parsed });
        else if (parsed.request_id !== undefined) requests.push({ t, ...parsed });
      }
    };
    return { read, consumer, requests, queueLines, calls: () => consumer.filter((l) => l.queue === QUEUE) };
  }

  // ---- set up ----
  const startedAt = Date.now();
  const random = prng(20261202);
  const state = await newStateDir();
  const scratch = await mkdtemp(join(tmpdir(), "call-analytics-ingest-"));
  const copy = join(scratch, "before-webhooks");
  await migrate(state);
  log(`${CALLS.toLocaleString("en")} calls: generating and loading`);
  const loadSeconds = await loadDataset(state, CALLS);
  log(`loaded in ${fmt(loadSeconds)} s`);
  const { ingest, admin } = await createKeys(state, { ingest: { role: "ingest" }, admin: { role: "super_admin" } });
  // The database as the webhooks find it, for the direct INSERTs of the same calls.
  await cp(state, copy, { recursive: true });
  worker = await startWorker(state, { vars: { DIAGNOSTICS: "on" }, limits: LIMITS });
  // Drains wrangler's inspector proxy, which otherwise keeps every console line and network event of the run.
  const devtools = await inspector(worker);
  const tail = logTail(worker);
  const hook = `/webhooks/end-call/${ingest.key}`;
  /** Deliveries answered 202 so far (what the consumer must have written once drained). */
  let accepted = 0;
  const written = () => (tail.read(), sum(tail.calls().map((l) => l.messages - l.retried)));

  /** Waits until the consumer has written every accepted delivery and has been quiet for `quietMs`. */
  async function drain({ quietMs = 0, timeoutMs = 60_000 } = {}) {
    const started = now();
    for (;;) {
      const done = written() >= accepted;
      const last = tail.calls().at(-1)?.t ?? 0;
      if (done && now() - last >= quietMs) return (last - started) / 1000;
      if (now() - Math.max(started, last) > timeoutMs) {
        const file = join(tmpdir(), `call-analytics-ingest-stuck-${Date.now()}.log`);
        await writeFile(file, worker.logs());
        throw new Error(`the consumer wrote ${written()} of ${accepted} accepted deliveries, none more for ${timeoutMs / 1000} s (wrangler dev's output: ${file})`);
      }
      await sleep(20);
    }
  }

  /** One webhook; throws unless it is a 202. */
  async function post(call) {
    const response = await fetch(worker.base + hook, { method: "POST", headers: { "content-type": "application/json" }, body: webhookBody(call) });
    const text = await response.text();
    if (response.status !== 202) throw new Error(`webhook: ${response.status} ${text}`);
    accepted += 1;
    return response;
  }

  /**
   * Sends `calls` at `rate` a second from a thread of its own (probes to `onProbe` as they are answered):
   * { started (resolves { started, until }: the first and the last send's times), done (its answers) }.
   */
  function send(calls, rate, onProbe = () => {}) {
    let started;
    const starting = new Promise((resolve) => (started = resolve));
    const done = new Promise((resolve, reject) => {
      const thread = new Worker(new URL(import.meta.url), { workerData: { base: worker.base, path: hook, rate, calls } });
      thread.on("message", (message) => {
        if (message.started) started(message);
        if (message.probe) onProbe(message.probe);
        if (message.done) {
          accepted += message.done.filter((r) => r.status === 202).length;
          resolve(message);
        }
      });
      thread.on("error", reject);
    });
    return { started: starting, done };
  }

  /** Consumer log lines of the calls queue from index `from` on: rows and calls written, batches. */
  const consumed = (from) => {
    const lines = tail.calls().slice(from);
    return {
      batches: lines.length,
      messages: sum(lines.map((l) => l.messages)),
      written: sum(lines.map((l) => l.calls_written)),
      rows: sum(lines.map((l) => l.d1_rows_written)),
      retried: sum(lines.map((l) => l.retried)),
      durations: lines.map((l) => l.duration_ms),
    };
  };

  const H = 3_600_000;
  let n = 0;
  const tenant = () => {
    const t = random.int(1000);
    return { email: `tenant${t}@bench.example`, userId: `tenant-${t}` };
  };
  const recent = () => Date.now() - 15 * 60_000 - random.int(2 * H);
  const callOf = (prefix, owner, extra = {}) => makeCall(random, { room: `${ASSISTANTS[n % ASSISTANTS.length].id}_${prefix}${String(++n).padStart(6, "0")}`, owner, startedAt: recent(), ...extra });

  const results = {};
  const windowSeconds = SECONDS / ROUNDS;
  try {
    // Warm up (calls in 2021, whose rollup rows no later call shares, so the copy stays comparable).
    await phase("warm-up", async () => {
      for (let i = 0; i < 20; i++) await post(callOf("warm", null, { startedAt: Date.UTC(2021, 0, 5) + i * 60_000, number: "+10000000000" }));
      for (let i = 0; i < 20; i++) await request(worker.base, ENDPOINT, { key: admin.key });
      await drain();
    });

    // ---- 3. rows written per call ----
    const rowsRuns = [];
    await phase("rows written per call", async () => {
      for (const [kind, owner] of [
        ["existing users", tenant],
        ["new users' first calls", () => ({ email: `new${n + 1}@users.bench.example`, userId: `@new${n + 1}@users.bench.example` })],
      ]) {
        const batched = Array.from({ length: ROWS_CALLS }, () => callOf("rows", owner()));
        let from = tail.calls().length;
        await send(batched, RATE).done;
        await drain();
        rowsRuns.push({ kind, shape: `batches (${RATE}/s)`, calls: batched, ...consumed(from) });
        const singles = Array.from({ length: SINGLES }, () => callOf("single", owner()));
        from = tail.calls().length;
        for (const call of singles) {
          await post(call);
          await drain();
        }
        rowsRuns.push({ kind, shape: "one call a batch", calls: singles, ...consumed(from) });
      }
    });
    results.rows = rowsRuns;

    // ---- 1. throughput at CONNECTIONS ----
    const script = join(scratch, "webhooks.lua");
    const templates = Array.from({ length: 64 }, () => callOf("tmpl", random.chance(0.05) ? null : tenant()));
    const lua = (withStart) =>
      [
        "-- Each request a distinct call: one of 64 realistic bodies, with its own room_name.",
        "local bodies = {",
        ...templates.map((call) => {
          const [before, after] = webhookBody(call, { room: "@@ROOM@@", withStart }).split("@@ROOM@@");
          if (after === undefined) throw new Error("no room_name placeholder in the body");
          return `  { [=====[${before}]=====], [=====[${after}]=====] },`;
        }),
        "}",
        `local path = ${JSON.stringify(hook)}`,
        `local prefix = "${ASSISTANTS[0].id}_w${withStart ? "" : "bad"}${Date.now().toString(36)}"`,
        'local headers = { ["Content-Type"] = "application/json" }',
        "local threads = 0",
        "function setup(thread) threads = threads + 1; thread:set(\"id\", threads) end",
        "local count = 0",
        "request = function()",
        "  count = count + 1",
        "  local body = bodies[(count % #bodies) + 1]",
        '  return wrk.format("POST", path, headers, body[1] .. prefix .. "t" .. id .. "n" .. count .. body[2])',
        "end",
      ].join("\n");
    const load = { threads: values.threads, connections: CONNECTIONS };
    const throughput = {};
    await phase(`unknown path (404), ${CONNECTIONS} connections`, async () => {
      throughput.unknown = await wrk(worker.base + "/bench/no-such-route", { ...load, seconds: FLOOR_SECONDS });
    });
    throughput.unknown.cpu = phases.at(-1);
    await phase(`static route, ${CONNECTIONS} connections`, async () => {
      throughput.floor = await wrk(worker.base + "/__diagnostics/static", { ...load, seconds: FLOOR_SECONDS, key: admin.key });
    });
    throughput.floor.cpu = phases.at(-1);
    await phase(`webhook refused before the queue (400), ${CONNECTIONS} connections`, async () => {
      await writeFile(script, lua(false));
      const from = tail.requests.length;
      throughput.refused = await wrk(worker.base, { ...load, seconds: FLOOR_SECONDS, script });
      tail.read();
      throughput.refusedStatuses = [...new Set(tail.requests.slice(from).filter((l) => l.path === WEBHOOK_LOG_PATH).map((l) => l.status))];
    });
    throughput.refused.cpu = phases.at(-1);
    await phase(`webhooks, ${CONNECTIONS} connections, ${SECONDS} s`, async () => {
      await writeFile(script, lua(true));
      await sleep(500); // the last 400s' lines
      tail.read();
      const fromRequests = tail.requests.length;
      const fromConsumer = tail.calls().length;
      const writtenBefore = written();
      const result = await wrk(worker.base, { ...load, seconds: SECONDS, script });
      const ended = now();
      const writtenAtEnd = written() - writtenBefore;
      // Every 202 the worker logged, counted and timed inside the worker (wrk leaves a few in flight, and
      // their lines reach wrangler's output a little later): counted again once the consumer is quiet.
      const webhookLines = () => (tail.read(), tail.requests.slice(fromRequests).filter((l) => l.path === WEBHOOK_LOG_PATH));
      await sleep(300);
      const early = webhookLines().filter((l) => l.status === 202).length;
      accepted += early;
      let drainSeconds = await drain({ quietMs: 2500 });
      const lines = webhookLines();
      const ok = lines.filter((l) => l.status === 202);
      accepted += ok.length - early;
      if (ok.length > early) drainSeconds = await drain({ quietMs: 2500 });
      const lastWrite = tail.calls().at(-1).t;
      throughput.webhooks = {
        ...result,
        logged202: ok.length,
        statuses: [...new Set(lines.map((l) => l.status))],
        workerP50: percentile(ok.map((l) => l.duration_ms), 50),
        workerP99: percentile(ok.map((l) => l.duration_ms), 99),
        kvReads: sum(lines.map((l) => l.kv_reads)),
        backlog: ok.length - writtenAtEnd,
        drainSeconds: Number.isFinite(drainSeconds) ? (lastWrite - ended) / 1000 : NaN,
        ...consumed(fromConsumer),
      };
    });
    throughput.webhooks.cpu = phases.at(-1);
    results.throughput = throughput;

    // ---- 4. the 30-day report, idle and while webhooks arrive ----
    const report = { idle: [], loaded: [], windows: [] };
    const reportLoop = async (until, into) => {
      while (now() < until) {
        const t = now();
        const response = await fetch(worker.base + ENDPOINT, { headers: { Authorization: `Bearer ${admin.key}` } });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`report: ${response.status}`);
        into.push(now() - t);
      }
    };
    await phase(`30-day report, idle and at ${RATE} webhooks/s, ${ROUNDS} x ${fmt(windowSeconds)} s each`, async () => {
      for (let i = 0; i < 30; i++) await request(worker.base, ENDPOINT, { key: admin.key });
      for (let round = 0; round < ROUNDS; round++) {
        const idle = [];
        await reportLoop(now() + windowSeconds * 1000, idle);
        const calls = Array.from({ length: Math.round(windowSeconds * RATE) }, () => callOf("steady", random.chance(0.05) ? null : tenant()));
        const loaded = [];
        const sending = send(calls, RATE);
        const { started, until } = await sending.started;
        await sleep(started - now());
        await reportLoop(until, loaded);
        const sent = await sending.done;
        await drain();
        report.idle.push(...idle);
        report.loaded.push(...loaded);
        report.windows.push({ idle: percentile(idle, 50), loaded: percentile(loaded, 50), rate: calls.length / sent.seconds, refused: notAccepted(sent.done) });
      }
    });
    results.report = report;

    // ---- 2. from the 202 to the report ----
    const visibility = await phase(`time to the report, ${RATE} webhooks/s for ${SECONDS} s, a probe every ${PROBE_EVERY}`, async () => {
      const probeUser = { email: "probe@bench.example", userId: "@probe@bench.example" };
      const base = Date.now() - 10 * 60_000;
      const total = Math.round(SECONDS * RATE);
      const calls = Array.from({ length: total }, (_, i) =>
        i % PROBE_EVERY === PROBE_EVERY - 1
          ? { ...callOf("probe", probeUser, { startedAt: base + i, number: `+1999${String(i).padStart(7, "0")}` }), probe: true }
          : callOf("steady", random.chance(0.05) ? null : tenant()),
      );
      // Probes are telephony calls with their number, whatever makeCall picked.
      for (const call of calls.filter((c) => c.probe)) Object.assign(call, { service: "twilio", type: "inbound" });
      const query = `${ENDPOINT}?start_date=${new Date(base - H).toISOString()}&end_date=${new Date(base + 60_000).toISOString()}&user_email=${encodeURIComponent(probeUser.email)}`;
      const firstSeen = new Map();
      const probes = [];
      const polls = [];
      let sending = true;
      const tailTimer = setInterval(tail.read, 10);
      const fromConsumer = tail.calls().length;
      const poller = (async () => {
        const deadline = () => (sending ? Infinity : lastProbeAt + 30_000);
        let lastProbeAt = 0;
        for (;;) {
          const t = now();
          const { status, body } = await request(worker.base, query, { key: admin.key });
          const received = now();
          if (status !== 200) throw new Error(`probe report: ${status}`);
          polls.push(received - t);
          for (const row of body.data.phone_numbers) if (!firstSeen.has(row.phone_number)) firstSeen.set(row.phone_number, { sent: t, received });
          lastProbeAt = Math.max(lastProbeAt, ...probes.map((p) => p.received));
          if (!sending && probes.every((p) => firstSeen.has(p.number))) break;
          if (now() > deadline()) break;
          await sleep(20);
        }
      })();
      const sent = await send(calls, RATE, (probe) => probes.push(probe)).done;
      sending = false;
      await poller;
      await drain();
      clearInterval(tailTimer);
      tail.read();
      const ok = sent.done.filter((r) => r.status === 202);
      // The consumer's lines: the calls of each batch are the next `messages` 202s, in the order answered.
      const order = [...ok].sort((a, b) => a.received - b.received);
      const fromLog = [];
      let k = 0;
      for (const line of tail.calls().slice(fromConsumer)) {
        for (let m = 0; m < line.messages - line.retried && k < order.length; m++, k++) fromLog.push(line.t - order[k].received);
      }
      const unseen = probes.filter((p) => !firstSeen.has(p.number));
      if (unseen.length) log(`probes never seen: ${JSON.stringify(unseen)}; seen ${firstSeen.size} labels`);
      const probeTimes = probes.filter((p) => p.status === 202).map((p) => (firstSeen.has(p.number) ? firstSeen.get(p.number).received - p.received : Infinity));
      const latencies = ok.map((r) => r.received - r.sent);
      return {
        sent: sent.done.length,
        ok: ok.length,
        rate: sent.done.length / sent.seconds,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        probes: probeTimes,
        missing: probeTimes.filter((t) => !Number.isFinite(t)).length,
        refused: notAccepted(sent.done),
        pollMs: percentile(polls, 50),
        fromLog,
        ...consumed(fromConsumer),
      };
    });
    results.visibility = visibility;
    tail.read();
    results.failures = tail.requests.filter((l) => l.status >= 500).length;
    results.consumerErrors = tail.calls().filter((l) => l.retried > 0 || l.error).length;
  } finally {
    if (values["worker-log"]) await writeFile(values["worker-log"], worker.logs());
    devtools.close();
    await worker.stop();
  }

  // ---- 3, continued: the same calls by direct INSERT, into the database as the webhooks found it ----
  const direct = await phase("the same calls by direct INSERT", () =>
    withBindings({ persistTo: copy }, async ({ DB }) => {
      const out = [];
      for (const run of results.rows) {
        let callRows = 0;
        let userRows = 0;
        for (const call of run.calls) {
          if (call.owner && run.kind.startsWith("new")) {
            userRows += (await DB.prepare("INSERT INTO users (id, email) VALUES (?1, ?2)").bind(call.owner.userId, call.owner.email).run()).meta.rows_written;
          }
          callRows += (
            await DB.prepare("INSERT INTO calls (id, user_id, platform, platform_number, started_at, duration_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
              .bind(call.room, call.owner?.userId ?? "(no owner)", platformOf(call), call.number, call.startedAt, Math.round(call.minutes * 60_000) / 1000)
              .run()
          ).meta.rows_written;
        }
        out.push({ callRows: callRows / run.calls.length, userRows: userRows / run.calls.length });
      }
      return out;
    }),
  );
  await rm(scratch, { recursive: true, force: true });

  // ---- report ----
  console.log(`node bench/ingest.mjs ${process.argv.slice(2).join(" ")}`.trim());
  console.log(
    `${CALLS.toLocaleString("en")} calls preloaded (bench/data.mjs, loaded in ${fmt(loadSeconds)} s); the shipped queue consumer (max_batch_size 100, max_batch_timeout 1 s); webhook bodies of ${fmt(
      percentile(Array.from({ length: 64 }, (_, i) => webhookBody(makeCall(prng(i), { room: "x", owner: null, startedAt: Date.now() })).length), 50) / 1024,
    )} KiB median (transcripts of 2 to 6 KB)`,
  );
  console.log("");
  const t = results.throughput;
  const acceptedRate = t.webhooks.rps * (1 - t.webhooks.errors / t.webhooks.requests);
  console.log(`1. Throughput at ${CONNECTIONS} connections (wrk -t${values.threads} -c${CONNECTIONS}, the same machine):`);
  console.log(
    table(
      ["request", "seconds", "requests", "req/s", "p50 ms", "p99 ms", "non-2xx/errors", "CPU ms/request: workerd", "wrangler", "others' CPU s"],
      [
        ["unknown path, 404 (the worker and its log line, no binding)", FLOOR_SECONDS, t.unknown],
        ["static route (access check: 2 rate limits, the key's KV record cached; no D1)", FLOOR_SECONDS, t.floor],
        [`webhook read whole, refused before the queue (${t.refusedStatuses.join(",")})`, FLOOR_SECONDS, t.refused],
        ["webhook, 202 (queue send; the consumer's batches too)", SECONDS, t.webhooks],
      ].map(([name, seconds, r]) => [
        name,
        seconds,
        r.requests.toLocaleString("en"),
        fmt(r.rps, 0),
        fmt(r.p50, 2),
        fmt(r.p99, 2),
        r.errors,
        fmt((r.cpu.workerd * 1000) / r.requests, 2),
        fmt((r.cpu.wrangler * 1000) / r.requests, 2),
        fmt(r.cpu.others),
      ]),
    ),
  );
  console.log(
    `   202s logged by the worker: ${t.webhooks.logged202.toLocaleString("en")} (statuses ${t.webhooks.statuses.join(",")}); inside the worker (its log line's duration_ms) p50 ${fmt(t.webhooks.workerP50, 2)} ms, p99 ${fmt(t.webhooks.workerP99, 2)} ms; KV reads ${t.webhooks.kvReads}`,
  );
  console.log(
    `   consumer meanwhile: ${t.webhooks.batches} batches, ${fmt(t.webhooks.messages / t.webhooks.batches)} messages each, duration_ms p50 ${fmt(percentile(t.webhooks.durations, 50))}, p99 ${fmt(percentile(t.webhooks.durations, 99))}; backlog when wrk stopped ${t.webhooks.backlog.toLocaleString("en")}, written ${fmt(t.webhooks.drainSeconds)} s later`,
  );
  console.log("");
  const v = results.visibility;
  console.log(
    `2. From the 202 to the report, at ${fmt(v.rate)} webhooks/s for ${SECONDS} s (${v.ok.toLocaleString("en")} of ${v.sent.toLocaleString("en")} answered 202${v.refused ? ` (${v.refused})` : ""}; the 202s' p50 ${fmt(v.p50, 2)} ms, p99 ${fmt(v.p99, 2)} ms):`,
  );
  console.log(
    table(
      ["method", "calls", "p50 s", "p99 s", "max s"],
      [
        [`probes polled in the report (a poll every ~${fmt(v.pollMs + 20, 0)} ms)`, `${v.probes.length - v.missing} of ${v.probes.length}`, fmt(percentile(v.probes, 50) / 1000, 2), fmt(percentile(v.probes, 99) / 1000, 2), fmt(Math.max(...v.probes) / 1000, 2)],
        ["every call, from the consumer's log lines", v.fromLog.length, fmt(percentile(v.fromLog, 50) / 1000, 2), fmt(percentile(v.fromLog, 99) / 1000, 2), fmt(Math.max(...v.fromLog) / 1000, 2)],
      ],
    ),
  );
  console.log(`   consumer: ${v.batches} batches, ${fmt(v.messages / v.batches)} messages each, duration_ms p50 ${fmt(percentile(v.durations, 50))}, p99 ${fmt(percentile(v.durations, 99))}`);
  console.log("");
  console.log("3. D1 rows written per ingested call (consumer log lines: d1_rows_written / calls_written), and the same calls by direct INSERT:");
  console.log(
    table(
      ["calls", "sent as", "calls", "batches", "rows written", "rows per call", "direct INSERT: call", "+ user", "difference"],
      results.rows.map((r, i) => {
        const d = direct[i];
        return [r.kind, r.shape, r.calls.length, r.batches, r.rows.toLocaleString("en"), fmt(r.rows / r.written, 2), fmt(d.callRows, 2), fmt(d.userRows, 2), fmt(r.rows / r.written - d.callRows - d.userRows, 2)];
      }),
    ),
  );
  console.log("");
  const rep = results.report;
  const idleP50 = percentile(rep.idle, 50);
  const loadedP50 = percentile(rep.loaded, 50);
  console.log(`4. The plain 30-day report (GET ${ENDPOINT}, no parameters), back to back at one connection, ${ROUNDS} rounds of ${fmt(windowSeconds)} s idle then ${fmt(windowSeconds)} s at ${RATE} webhooks/s:`);
  console.log(
    table(
      ["", "requests", "p50 ms", "p99 ms", "p50 ms per window"],
      [
        ["idle", rep.idle.length, fmt(idleP50, 2), fmt(percentile(rep.idle, 99), 2), rep.windows.map((w) => fmt(w.idle, 2)).join(", ")],
        [`${RATE} webhooks/s (${rep.windows.map((w) => fmt(w.rate, 1)).join(", ")} sent)`, rep.loaded.length, fmt(loadedP50, 2), fmt(percentile(rep.loaded, 99), 2), rep.windows.map((w) => fmt(w.loaded, 2)).join(", ")],
      ],
    ),
  );
  const refusedWindows = rep.windows.filter((w) => w.refused).map((w) => w.refused);
  if (refusedWindows.length) console.log(`   webhooks not answered 202 in the loaded windows: ${refusedWindows.join("; ")}`);
  console.log("");
  console.log("CPU seconds by phase (ours: workerd's processes and the busiest of their threads, wrangler's node, this client with wrk; others: every other process on the machine):");
  console.log(
    table(
      ["phase", "wall s", "workerd", "its busiest thread", "wrangler", "client", "others", "busiest others"],
      phases.map((p) => [p.name, fmt(p.wall), fmt(p.workerd), fmt(p.workerdThread), fmt(p.wrangler), fmt(p.client), fmt(p.others), p.top.join("; ") || "-"]),
    ),
  );
  console.log(`5xx answers in the worker's log: ${results.failures}; consumer batches with a retry or an error: ${results.consumerErrors}`);
  console.log("");
  const invalid = phases.filter((p) => p.reloaded).map((p) => p.name);
  if (invalid.length) console.log(`INVALID: wrangler dev reloaded the worker (build/ changed) during: ${invalid.join("; ")}. Rerun.`);
  const check = (ok, text) => console.log(`${ok ? "MET    " : "NOT MET"}  ${text}`);
  check(acceptedRate >= 300, `webhooks accepted per second at ${CONNECTIONS} connections: ${fmt(acceptedRate, 0)} (target >= 300)`);
  check(t.webhooks.p99 <= 100, `p99 of the 202 at ${CONNECTIONS} connections: ${fmt(t.webhooks.p99, 2)} ms (target <= 100 ms; p50 ${fmt(t.webhooks.p50, 2)} ms)`);
  const p99Visible = percentile(v.probes, 99);
  check(p99Visible <= 5000 && v.missing === 0, `p99 from the 202 to the call in the report at ${RATE}/s: ${fmt(p99Visible / 1000, 2)} s (target <= 5 s; p50 ${fmt(percentile(v.probes, 50) / 1000, 2)} s; ${v.missing} probes never seen)`);
  for (const kind of ["existing users", "new users' first calls"]) {
    const runs = results.rows.map((r, i) => ({ ...r, direct: direct[i] })).filter((r) => r.kind === kind);
    const worst = Math.max(...runs.map((r) => r.rows / r.written));
    const { callRows, userRows } = runs[0].direct;
    const same = callRows + userRows;
    const shapes = runs.map((r) => `${fmt(r.rows / r.written, 2)} (${r.shape})`).join(", ");
    const detail = userRows
      ? `${fmt(same, 2)} (the user ${fmt(userRows, 2)}: its row and indexes; the call ${fmt(callRows, 2)}) + 2; over the call's own INSERT alone: +${fmt(worst - callRows, 2)}`
      : `${fmt(callRows, 2)} + 2`;
    check(worst <= same + 2, `rows written per call, ${kind}: ${shapes} (target <= direct INSERTs of the same call + 2: ${detail})`);
  }
  check(loadedP50 <= 1.5 * idleP50, `30-day report p50 at ${RATE} webhooks/s vs idle: ${fmt(loadedP50, 2)} ms vs ${fmt(idleP50, 2)} ms (target <= 1.5x: ${fmt(loadedP50 / idleP50, 2)}x)`);
  console.log("");
  console.log(`machine: ${machine()}; wrk and this client on the same machine; run took ${fmt((Date.now() - startedAt) / 60_000)} min`);
}
