#!/usr/bin/env node
// Load and soak: 100k calls in a fresh local D1, the built worker in `wrangler dev`, and wrk runs of a fixed
// duration at increasing concurrency, rotating through four requests (30 days all tenants, 30 days one
// tenant, 365 days, 2 hours). Prints throughput, p50/p99 and errors per run, and memory before, between and
// after: the workerd processes' RSS, and the worker's own memory, i.e. its live V8 heap (after a forced
// garbage collection, through the inspector) and its wasm linear memory (from /__diagnostics/static). Not
// part of the test run.
//
//   node bench/soak.mjs [--calls 100000] [--seconds 60] [--concurrency 1,4,16,64,64]
//
// The last level runs twice: memory that only reflects peak concurrency (wasm linear memory never shrinks)
// stays put the second time; a leak would not.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { shippedConfig } from "../scripts/lib/bindings.mjs";
import { createKeys, ENDPOINT, migrate, newStateDir, request, startWorker } from "../scripts/lib/local-worker.mjs";
import { BENCH_LIMITS, fmt, inspector, loadDataset, log, machine, requireWrk, table, withWebSocket, workerdRssKiB, wrk } from "./lib.mjs";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "100000" },
    seconds: { type: "string", default: "60" },
    concurrency: { type: "string", default: "1,4,16,64,64" },
  },
});
requireWrk();
const DAY = 86_400_000;

withWebSocket();

async function memory(worker, devtools, key) {
  const { body } = await request(worker.base, "/__diagnostics/static", { key });
  return {
    rss: workerdRssKiB(worker.pid) / 1024,
    heap: (await devtools.liveHeap()) / 2 ** 20,
    wasm: body.data.wasm_memory_bytes / 2 ** 20,
  };
}
const mib = (n) => fmt(n, 1);

const levels = values.concurrency.split(",").map(Number);
const seconds = Number(values.seconds);
const scratch = await mkdtemp(join(tmpdir(), "call-analytics-soak-"));

/** The wrk runs of the soak against `worker`, rotating `paths`; returns table rows and the total requests. */
async function soak(worker, devtools, paths, key, probe) {
  const script = join(scratch, `rotate-${Math.random().toString(36).slice(2)}.lua`);
  await writeFile(
    script,
    `local paths = { ${paths.map((p) => JSON.stringify(p)).join(", ")} }\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n`,
  );
  const rows = [];
  let requests = 0;
  for (const connections of levels) {
    log(`${connections} connection(s) for ${seconds} s`);
    const result = await wrk(worker.base, { key, threads: Math.min(2, connections), connections, seconds, script });
    requests += result.requests;
    rows.push([connections, seconds, result.requests.toLocaleString("en"), fmt(result.rps, 0), fmt(result.p50, 2), fmt(result.p99, 2), result.errors, ...(await probe())]);
  }
  return { rows, requests };
}

const growth = (before, after, requests) => `${fmt(((after - before) * 1024 * 1024) / requests / 1024, 1)} KiB per request`;

const state = await newStateDir();
await migrate(state);
log(`loading ${Number(values.calls).toLocaleString("en")} calls`);
await loadDataset(state, Number(values.calls));
const { admin } = await createKeys(state, { admin: { role: "super_admin" } });
const worker = await startWorker(state, { vars: { DIAGNOSTICS: "on" }, limits: BENCH_LIMITS });
const devtools = await inspector(worker);
try {
  const now = Date.now();
  const range = (millis) => `start_date=${new Date(now - millis).toISOString()}&end_date=${new Date(now).toISOString()}`;
  const paths = [
    `${ENDPOINT}?${range(30 * DAY)}`,
    `${ENDPOINT}?${range(30 * DAY)}&user_email=tenant7@bench.example`,
    `${ENDPOINT}?${range(365 * DAY)}`,
    `${ENDPOINT}?${range(2 * 3_600_000)}`,
  ];
  for (const path of paths) {
    const { status } = await request(worker.base, path, { key: admin.key });
    if (status !== 200) throw new Error(`${path}: ${status}`);
  }
  const before = await memory(worker, devtools, admin.key);
  log(`before: ${JSON.stringify(before)}`);
  const { rows, requests } = await soak(worker, devtools, paths, admin.key, async () => {
    const m = await memory(worker, devtools, admin.key);
    return [mib(m.heap), mib(m.wasm), mib(m.rss)];
  });
  await new Promise((r) => setTimeout(r, 5000));
  const after = await memory(worker, devtools, admin.key);
  const failures = worker.logLines().filter((line) => line.status >= 500).length;
  console.log(
    table(["connections", "seconds", "requests", "req/s", "p50 ms", "p99 ms", "errors", "V8 heap MiB", "wasm memory MiB", "workerd RSS MiB"], rows),
  );
  console.log("");
  console.log(`before: V8 heap ${mib(before.heap)} MiB, wasm memory ${mib(before.wasm)} MiB, workerd RSS ${mib(before.rss)} MiB`);
  console.log(`after (5 s idle): V8 heap ${mib(after.heap)} MiB, wasm memory ${mib(after.wasm)} MiB, workerd RSS ${mib(after.rss)} MiB (${growth(before.rss, after.rss, requests)})`);
  console.log(`5xx in the worker's log: ${failures}`);
  devtools.close();
  await worker.stop();

  // The control: the same runs against a few lines of JS that do the same kind of runtime work per request
  // (one log line, one D1 query through a session) and nothing else, to tell the dev runtime's own memory
  // growth from the worker's.
  log("control: a minimal JS worker under the same load");
  const controlDir = join(scratch, "control");
  await mkdir(controlDir);
  await writeFile(
    join(controlDir, "worker.mjs"),
    `export default {
  async fetch(request, env) {
    const { results } = await env.DB.withSession("first-unconstrained").prepare("SELECT 1 AS one").all();
    console.log(JSON.stringify({ level: "info", request_id: crypto.randomUUID(), path: new URL(request.url).pathname, status: 200 }));
    return new Response(JSON.stringify({ success: true, data: results }), { headers: { "content-type": "application/json" } });
  },
};
`,
  );
  const config = await shippedConfig();
  await writeFile(
    join(controlDir, "wrangler.json"),
    JSON.stringify({ name: "soak-control", main: "worker.mjs", compatibility_date: config.compatibility_date, d1_databases: config.d1_databases }),
  );
  const control = await startWorker(await newStateDir(), { config: join(controlDir, "wrangler.json") });
  const controlDevtools = await inspector(control);
  try {
    const controlBefore = workerdRssKiB(control.pid) / 1024;
    const { rows: controlRows, requests: controlRequests } = await soak(control, controlDevtools, paths, undefined, async () => [mib(workerdRssKiB(control.pid) / 1024)]);
    await new Promise((r) => setTimeout(r, 5000));
    const controlAfter = workerdRssKiB(control.pid) / 1024;
    console.log("");
    console.log("control (a minimal JS worker: one log line and one D1 query per request):");
    console.log(table(["connections", "seconds", "requests", "req/s", "p50 ms", "p99 ms", "errors", "workerd RSS MiB"], controlRows));
    console.log(`control workerd RSS: ${mib(controlBefore)} MiB before, ${mib(controlAfter)} MiB after (${growth(controlBefore, controlAfter, controlRequests)})`);
  } finally {
    controlDevtools.close();
    await control.stop();
  }
  console.log("");
  console.log(`machine: ${machine()}; wrk on the same machine, rotating 4 requests (30 d all, 30 d one tenant, 365 d, 2 h) over ${Number(values.calls).toLocaleString("en")} calls`);
} finally {
  devtools.close();
  await worker.stop();
  await rm(scratch, { recursive: true, force: true });
}
