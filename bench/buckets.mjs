#!/usr/bin/env node
// One range holding many distinct platform numbers (the spec returns every bucket): how long the answer
// takes, how big it is, how many D1 rows it reads, and the wasm instance's memory before and after.
// Not part of the test run (tests/e2e/abuse.test.mjs checks the answer itself).
//
//   node bench/buckets.mjs [--buckets 20000] [--repeat 5]
import { parseArgs } from "node:util";
import { distinctNumberCalls } from "../scripts/lib/generate.mjs";
import { ENDPOINT, request, startLocalWorker } from "../scripts/lib/local-worker.mjs";
import { BENCH_LIMITS, fmt, log, machine } from "./lib.mjs";

const { values } = parseArgs({ options: { buckets: { type: "string", default: "20000" }, repeat: { type: "string", default: "5" } } });
const buckets = Number(values.buckets);
const records = distinctNumberCalls(buckets, Date.UTC(2025, 5, 1));

log(`loading ${buckets.toLocaleString("en")} calls, one per number`);
const worker = await startLocalWorker({ records, keys: { admin: { role: "super_admin" } }, vars: { DIAGNOSTICS: "on" }, limits: BENCH_LIMITS });
try {
  const key = worker.keys.admin.key;
  const memory = async () => (await request(worker.base, "/__diagnostics/static", { key })).body.data.wasm_memory_bytes / 2 ** 20;
  const before = await memory();
  const runs = [];
  for (let i = 0; i < Number(values.repeat); i++) {
    const started = performance.now();
    const response = await request(worker.base, `${ENDPOINT}?start_date=2025-06-01&end_date=2025-06-01`, { key });
    const clientMs = performance.now() - started;
    if (response.status !== 200 || response.body.data.phone_numbers.length !== buckets) throw new Error(`unexpected answer: ${response.status}`);
    const line = await worker.logLineFor(response.headers.get("x-request-id"));
    runs.push({ clientMs, workerMs: line.duration_ms, rows: line.d1_rows_read, bytes: Buffer.byteLength(response.text) });
  }
  const after = await memory();
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${buckets.toLocaleString("en")} buckets in one day, ${runs.length} requests:`);
  console.log(`  time: median ${fmt(median(runs.map((r) => r.workerMs)), 0)} ms in the worker (its log line), ${fmt(median(runs.map((r) => r.clientMs)), 0)} ms at the client`);
  console.log(`  answer: ${(runs[0].bytes / 1024).toFixed(0)} KiB of JSON; D1 rows read: ${runs[0].rows.toLocaleString("en")}`);
  console.log(`  wasm memory: ${fmt(before, 1)} MiB before, ${fmt(after, 1)} MiB after`);
  console.log(`  machine: ${machine()}`);
} finally {
  await worker.stop();
}
