#!/usr/bin/env node
// One range holding many distinct platform numbers (the spec returns every bucket): how long the answer
// takes, how big it is, how many D1 rows it reads, and the worker's memory: the wasm instance's linear
// memory before and after, and its isolate's V8 heap, sampled through the inspector while the requests run.
// Not part of the test run (tests/e2e/abuse.test.mjs checks the answer itself).
//
//   node bench/buckets.mjs [--buckets 20000] [--repeat 5] [--label-length L [--label-padding TEXT]] [--timeline]
//
// --label-length: platform numbers of exactly L characters ("+91", 10 digits, then digits up to L; see
// below for L over 64), instead of "+4470" and 8 digits (13). --label-padding: pad with TEXT instead of
// digits ("U+XXXX" for a character by its code point: U+20AC, 3 bytes in UTF-8; U+0001, 6 bytes in JSON). The worker is fresh and the first request is
// the first answer it builds, so the wasm memory after it (linear memory keeps its high-water mark) is that
// answer's peak; the V8 heap is sampled back to back while each request runs, and read again after a forced
// garbage collection. A sample is answered only when the isolate lets the inspector in (between tasks, not
// inside the wasm's synchronous work): under `wrangler dev` none is answered between the request's start and
// the end of the worker's work (D1's simulator runs on the same thread), so the maximum is the heap as the
// request leaves it, garbage included, and can miss a peak inside. The first request also runs under V8's
// sampling heap profiler, whose total (every byte put on the V8 heap, collected or not) bounds that peak
// from above. --timeline prints the first request's samples (when each was answered, and the heap then).
//
// Since migrations/0005 (the record rule) a platform number is at most 64 characters once trimmed, in the
// loader and in the database; rows stored before it are kept as they are, and the loader allowed 1,024
// characters then. Labels longer than 64 are therefore stored as such a database holds them: the migrations
// before 0005, the calls written with the loader's own statements (its batches, without its record check),
// then the remaining migrations. Labels of 64 or fewer go through scripts/load.mjs.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../scripts/lib/bindings.mjs";
import { distinctNumberCalls } from "../scripts/lib/generate.mjs";
import { ENDPOINT, request, startLocalWorker } from "../scripts/lib/local-worker.mjs";
import { BENCH_LIMITS, fmt, inspector, log, machine, withWebSocket } from "./lib.mjs";

const { values } = parseArgs({
  options: {
    buckets: { type: "string", default: "20000" },
    repeat: { type: "string", default: "5" },
    "label-length": { type: "string" },
    "label-padding": { type: "string" },
    timeline: { type: "boolean", default: false },
  },
});
withWebSocket();
const buckets = Number(values.buckets);
const labelLength = values["label-length"] === undefined ? undefined : Number(values["label-length"]);
// "U+20AC" names a character by its code point (one of the Basic Multilingual Plane: one code unit).
const labelPadding = values["label-padding"]?.replace(/U\+([0-9A-F]{4})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
if (labelPadding !== undefined && (labelLength === undefined || labelPadding === "")) throw new Error("--label-padding needs --label-length, and some text");
const records = distinctNumberCalls(buckets, Date.UTC(2025, 5, 1), { labelLength, labelPadding });
const labels = labelLength === undefined ? 13 : labelLength;
const labelBytes = Buffer.byteLength(records[0]?.platform_number ?? "");
const MiB = 2 ** 20;

/** The built worker this run measures (wrangler dev reloads it if build/ changes, as a rebuild does). */
async function builtWorker() {
  const path = join(ROOT, "build", "index_bg.wasm");
  const [wasm, bytes] = await Promise.all([stat(path), readFile(path)]);
  const digest = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  return `build/index_bg.wasm, ${wasm.size.toLocaleString("en")} bytes, sha256 ${digest}, built ${wasm.mtime.toISOString()}`;
}
const builtAtStart = await builtWorker();

const RECORD_RULE = "0005_record_rule.sql";
const RULE_MAX_LABEL = 64;

const options = { records, keys: { admin: { role: "super_admin" } }, vars: { DIAGNOSTICS: "on" }, limits: BENCH_LIMITS };
let worker;
if (labels > RULE_MAX_LABEL) {
  log(`storing ${buckets.toLocaleString("en")} calls, one per number of ${labels} characters, as rows from before ${RECORD_RULE}`);
  worker = await startLocalWorker({ ...options, records: [], before: { migration: RECORD_RULE, records } });
} else {
  log(`loading ${buckets.toLocaleString("en")} calls, one per number of ${labels} characters`);
  worker = await startLocalWorker(options);
}
const devtools = await inspector(worker);

/** The three functions that allocated the most in a sampling heap profile: "name (where): MiB". */
function allocationSites(profile) {
  const bytes = new Map();
  const visit = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || "(anonymous)"}${url ? ` (${url.split("/").pop()}:${lineNumber + 1})` : ""}`;
    if (node.selfSize) bytes.set(site, (bytes.get(site) ?? 0) + node.selfSize);
    node.children.forEach(visit);
  };
  visit(profile.head);
  return [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([site, n]) => `${site}: ${fmt(n / MiB, 1)} MiB`).join(", ");
}
try {
  const key = worker.keys.admin.key;
  const memory = async () => (await request(worker.base, "/__diagnostics/static", { key })).body.data.wasm_memory_bytes / MiB;
  /** The V8 heap's used bytes after a full garbage collection (workerd never answers HeapProfiler.collectGarbage). */
  const collectedHeap = async () => (await devtools.liveHeap()) / MiB;
  const before = await memory();
  const heapBefore = await collectedHeap();
  const runs = [];
  let first;
  await devtools.call("HeapProfiler.enable");
  for (let i = 0; i < Number(values.repeat); i++) {
    // The first request also runs under V8's sampling heap profiler, counting what is collected too: every
    // byte it puts on the V8 heap, an upper bound of its live peak there whatever the collections did.
    // (The body is handed to the Response as a JS string, so the answer is among them; workerd's own copy
    // of it, outside V8, is not.)
    if (i === 0) {
      await devtools.call("HeapProfiler.startSampling", { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    }
    const sampler = devtools.sampler();
    const started = performance.now();
    const response = await request(worker.base, `${ENDPOINT}?start_date=2025-06-01&end_date=2025-06-01`, { key });
    const ended = performance.now();
    const clientMs = ended - started;
    // A few samples more: the garbage of the request is still on the heap until the next collection.
    await new Promise((r) => setTimeout(r, 100));
    const samples = (await sampler.stop()).filter((s) => s.received >= started);
    if (response.status !== 200 || response.body.data.phone_numbers.length !== buckets) throw new Error(`unexpected answer: ${response.status}`);
    if (labelLength !== undefined && response.body.data.phone_numbers.some((row) => row.phone_number.length !== labelLength)) throw new Error("a label of another length");
    const line = await worker.logLineFor(response.headers.get("x-request-id"));
    const max = (field) => Math.max(...samples.map((s) => s[field] ?? NaN)) / MiB;
    const run = {
      clientMs,
      workerMs: line.duration_ms,
      rows: line.d1_rows_read,
      bytes: Buffer.byteLength(response.text),
      samples: samples.length,
      during: samples.filter((s) => s.received <= ended).length,
      heapUsed: max("usedSize"),
      heapTotal: max("totalSize"),
      backing: max("backingStorageSize"),
    };
    if (i === 0) {
      const { profile } = (await devtools.call("HeapProfiler.stopSampling")).result;
      first = {
        ...run,
        allocated: profile.samples.reduce((sum, sample) => sum + sample.size, 0) / MiB,
        sites: allocationSites(profile),
        wasm: await memory(),
        heapCollected: await collectedHeap(),
        timeline: samples.map((s) => [s.received - started, s.usedSize / MiB, (s.backingStorageSize ?? NaN) / MiB]),
      };
    }
    runs.push(run);
  }
  const after = await memory();
  const heapAfter = await collectedHeap();
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const peak = (field) => Math.max(...runs.map((r) => r[field]));
  console.log(`${buckets.toLocaleString("en")} buckets in one day, ${runs.length} requests:`);
  console.log(`  time: median ${fmt(median(runs.map((r) => r.workerMs)), 0)} ms in the worker (its log line), ${fmt(median(runs.map((r) => r.clientMs)), 0)} ms at the client`);
  console.log(`  answer: ${(runs[0].bytes / 1024).toFixed(0)} KiB of JSON; D1 rows read: ${runs[0].rows.toLocaleString("en")}`);
  console.log(`  wasm memory: ${fmt(before, 1)} MiB before, ${fmt(after, 1)} MiB after`);
  console.log(`  labels: ${labels} characters${labelPadding === undefined ? "" : ` padded with ${JSON.stringify(labelPadding)}`} (${labelBytes.toLocaleString("en")} bytes in UTF-8); answer: ${runs[0].bytes.toLocaleString("en")} bytes`);
  console.log(
    `  first request (a fresh worker): ${first.workerMs} ms in the worker; wasm memory ${fmt(first.wasm, 1)} MiB after it (its high-water mark); ` +
      `V8 heap used at most ${fmt(first.heapUsed, 1)} MiB (allocated ${fmt(first.heapTotal, 1)} MiB; array buffers, off the heap, ${fmt(first.backing, 1)} MiB) ` +
      `over ${first.samples} samples (${first.during} before the answer arrived), ${fmt(first.heapCollected, 1)} MiB after a forced GC`,
  );
  console.log(`  first request's V8 heap allocations (sampled, collected ones included): ${fmt(first.allocated, 1)} MiB in all; most by ${first.sites}`);
  console.log(
    `  V8 heap over all ${runs.length} requests: used at most ${fmt(peak("heapUsed"), 1)} MiB (allocated ${fmt(peak("heapTotal"), 1)} MiB, array buffers ${fmt(peak("backing"), 1)} MiB), ` +
      `${fmt(heapBefore, 1)} MiB before and ${fmt(heapAfter, 1)} MiB after (forced GC); samples per request ${runs.map((r) => `${r.during}/${r.samples}`).join(", ")} (before the answer arrived/all)`,
  );
  if (values.timeline) {
    // Runs of samples that read the same (to 0.1 MiB) are shown as one: "from-to ms (count): used/buffers".
    const runsOf = [];
    for (const [ms, used, backing] of first.timeline) {
      const value = `${fmt(used, 1)}/${fmt(backing, 1)}`;
      const last = runsOf[runsOf.length - 1];
      if (last?.value === value) Object.assign(last, { to: ms, count: last.count + 1 });
      else runsOf.push({ from: ms, to: ms, count: 1, value });
    }
    const points = runsOf.map((r) => `${fmt(r.from, 0)}${r.count > 1 ? `-${fmt(r.to, 0)} (${r.count})` : ""}: ${r.value}`).join(", ");
    console.log(`  first request's samples (ms after it was sent: V8 heap used/array buffers MiB; the answer arrived at ${fmt(first.clientMs, 0)} ms): ${points}`);
  }
  const built = await builtWorker();
  if (built !== builtAtStart) throw new Error(`build/ changed during the run (${builtAtStart} at the start): the figures may mix two builds; rerun`);
  console.log(`  worker: ${built}`);
  console.log(`  machine: ${machine()}`);
} catch (error) {
  console.error(`[bench] failed; the end of wrangler dev's output:\n${worker.logs().slice(-4000)}`);
  throw error;
} finally {
  devtools.close();
  await worker.stop();
}
