#!/usr/bin/env node
// The benchmark: for each dataset size, load the calls into a fresh local D1, serve the built worker with
// `wrangler dev` (DIAGNOSTICS=on, for strategy=raw and the static route), and for each scenario measure the
// D1 rows one request reads (from the worker's log line) and p50/p99 latency under concurrent load (wrk).
// Local time (issue #12): 30 whole local days in Asia/Kolkata, as a total and as a daily series, and local
// hours in Asia/Kathmandu (+05:45, bounds on quarter-hours), also measured at one connection against the
// plain 30-day UTC request. Prints a table, the targets, and the wasm size. Not part of the test run.
//
//   node bench/run.mjs [--sizes 10000,100000,1000000] [--duration 10] [--connections 16] [--threads 2]
//
// Needs wrk (apt-get install wrk) and a built worker (scripts/build.sh).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../scripts/lib/bindings.mjs";
import { createKeys, ENDPOINT, migrate, newStateDir, request, startWorker } from "../scripts/lib/local-worker.mjs";
import { BENCH_LIMITS, fmt, loadDataset, log, machine, requireWrk, table, wrk } from "./lib.mjs";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "10000,100000,1000000" },
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "16" },
    threads: { type: "string", default: "2" },
  },
});
const SIZES = values.sizes.split(",").map(Number);
const DAY = 86_400_000;
const load = { threads: values.threads, connections: values.connections, seconds: values.duration };
requireWrk();

async function rowsRead(worker, path, key) {
  const response = await request(worker.base, path, { key });
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${response.text}`);
  const line = await worker.logLineFor(response.headers.get("x-request-id"));
  return { rows: line.d1_rows_read, body: response.body };
}

const results = [];
/** The one-connection runs. */
const single = [];
const KOLKATA_DAYS = "30 local days, Kolkata (dates)";
const KOLKATA_SERIES = "30 local days, Kolkata, daily";
const ONE_CONNECTION = ["30 days, all tenants", KOLKATA_DAYS, KOLKATA_SERIES];

for (const size of SIZES) {
  const state = await newStateDir();
  await migrate(state);
  log(`${size.toLocaleString("en")} calls: generating and loading`);
  const loadSeconds = await loadDataset(state, size);
  log(`loaded in ${loadSeconds.toFixed(1)} s (${Math.round(size / loadSeconds).toLocaleString("en")} calls/s)`);
  const { admin } = await createKeys(state, { admin: { role: "super_admin" } });
  // wrk sends thousands of requests a second from one address with one key: far over production's limits.
  const worker = await startWorker(state, { vars: { DIAGNOSTICS: "on" }, limits: BENCH_LIMITS });
  try {
    // Explicit ranges ending now (not the default window, which moves with each request), so that rollups and
    // raw answers can be compared.
    const now = Date.now();
    const until = (millis) => `start_date=${new Date(now - millis).toISOString()}&end_date=${new Date(now).toISOString()}`;
    // Local dates: the 30 whole days before today in Kolkata; twelve local hours three days ago in Kathmandu.
    const kolkataToday = new Date(now + 5.5 * 3_600_000).toISOString().slice(0, 10);
    const localDay = (days) => new Date(Date.parse(kolkataToday) - days * DAY).toISOString().slice(0, 10);
    const kolkata = `start_date=${localDay(30)}&end_date=${localDay(1)}&timezone=Asia/Kolkata`;
    const kathmanduDay = new Date(now + 5.75 * 3_600_000 - 3 * DAY).toISOString().slice(0, 10);
    const scenarios = [
      ["30 days, all tenants", until(30 * DAY)],
      ["30 days, one tenant", `${until(30 * DAY)}&user_email=tenant7@bench.example`],
      ["365 days, all tenants", until(365 * DAY)],
      ["2 hours, all tenants", until(2 * 3_600_000)],
      [KOLKATA_DAYS, kolkata],
      [KOLKATA_SERIES, `${kolkata}&interval=day`],
      ["12 local hours, Kathmandu, hourly", `start_date=${kathmanduDay}T08:00:00&end_date=${kathmanduDay}T20:00:00&timezone=Asia/Kathmandu&interval=hour`],
    ];
    const staticPath = "/__diagnostics/static";
    await request(worker.base, staticPath, { key: admin.key }); // warm up
    results.push({ size, scenario: "static route (no D1)", strategy: "-", rows: 0, loadSeconds, ...(await wrk(worker.base + staticPath, { ...load, key: admin.key })) });
    log(`${size}: static done`);
    for (const [scenario, query] of scenarios) {
      const answers = {};
      for (const strategy of ["rollups", "raw"]) {
        const path = `${ENDPOINT}?${query}&strategy=${strategy}`;
        const { rows, body } = await rowsRead(worker, path, admin.key);
        answers[strategy] = JSON.stringify(body.data.phone_numbers);
        results.push({ size, scenario, strategy, rows, loadSeconds, ...(await wrk(worker.base + path, { ...load, key: admin.key })) });
        log(`${size}: ${scenario}, ${strategy} done`);
      }
      if (answers.rollups !== answers.raw) throw new Error(`${size}, ${scenario}: rollups and raw disagree`);
    }
    // One connection: latency without queueing, for the local-time targets.
    for (const [scenario, query] of scenarios.filter(([name]) => ONE_CONNECTION.includes(name))) {
      const path = `${ENDPOINT}?${query}`;
      single.push({ size, scenario, ...(await wrk(worker.base + path, { ...load, threads: 1, connections: 1, key: admin.key })) });
      log(`${size}: ${scenario}, one connection done`);
    }
  } finally {
    await worker.stop();
  }
}

// ---- report ----
const header = ["calls", "scenario", "strategy", "D1 rows read", "p50 ms", "p99 ms", "req/s", "errors"];
console.log(
  table(
    header,
    results.map((r) => [r.size.toLocaleString("en"), r.scenario, r.strategy, r.rows.toLocaleString("en"), fmt(r.p50, 2), fmt(r.p99, 2), fmt(r.rps, 0), String(r.errors)]),
  ),
);

console.log("");
console.log("One connection (wrk -t1 -c1):");
console.log(
  table(
    ["calls", "scenario", "p50 ms", "p99 ms", "req/s", "errors"],
    single.map((r) => [r.size.toLocaleString("en"), r.scenario, fmt(r.p50, 2), fmt(r.p99, 2), fmt(r.rps, 0), String(r.errors)]),
  ),
);

const find = (size, scenario, strategy) => results.find((r) => r.size === size && r.scenario === scenario && r.strategy === strategy);
const largest = Math.max(...SIZES);
const smallest = Math.min(...SIZES);
const month = "30 days, all tenants";
const big = find(largest, month, "rollups");
const small = find(smallest, month, "rollups");
const raw = find(largest, month, "raw");
const floor = find(largest, "static route (no D1)", "-");
console.log("");
const check = (ok, text) => console.log(`${ok ? "MET    " : "NOT MET"}  ${text}`);
check(big.rows <= 10_000, `rows read, 30 days at ${largest.toLocaleString("en")} calls: ${big.rows.toLocaleString("en")} (target <= 10,000; raw reads ${raw.rows.toLocaleString("en")})`);
check(big.p50 <= 2 * small.p50, `p50, 30 days: ${fmt(big.p50, 2)} ms at ${largest.toLocaleString("en")} calls vs ${fmt(small.p50, 2)} ms at ${smallest.toLocaleString("en")} (target <= 2x: ${fmt(big.p50 / small.p50, 2)}x)`);
check(raw.p50 >= 10 * big.p50, `p50, 30 days at ${largest.toLocaleString("en")} calls: raw GROUP BY ${fmt(raw.p50, 2)} ms vs rollups ${fmt(big.p50, 2)} ms (target >= 10x: ${fmt(raw.p50 / big.p50, 1)}x)`);
check(big.p50 <= 3 * floor.p50, `p50, 30 days at ${largest.toLocaleString("en")} calls vs the static route: ${fmt(big.p50, 2)} ms vs ${fmt(floor.p50, 2)} ms (target <= 3x: ${fmt(big.p50 / floor.p50, 2)}x)`);
const days = find(largest, KOLKATA_DAYS, "rollups");
const series = find(largest, KOLKATA_SERIES, "rollups");
check(days.rows <= 10_000, `rows read, ${KOLKATA_DAYS} at ${largest.toLocaleString("en")} calls: ${days.rows.toLocaleString("en")} (target <= 10,000; raw reads ${find(largest, KOLKATA_DAYS, "raw").rows.toLocaleString("en")})`);
check(series.rows <= 30_000, `rows read, ${KOLKATA_SERIES} at ${largest.toLocaleString("en")} calls: ${series.rows.toLocaleString("en")} (target <= 30,000)`);
const one = (scenario) => single.find((r) => r.size === largest && r.scenario === scenario);
for (const scenario of [KOLKATA_DAYS, KOLKATA_SERIES]) {
  const ratio = one(scenario).p50 / one(month).p50;
  check(ratio <= 2, `p50 at one connection, ${scenario} vs 30 days UTC at ${largest.toLocaleString("en")} calls: ${fmt(one(scenario).p50, 2)} ms vs ${fmt(one(month).p50, 2)} ms (target <= 2x: ${fmt(ratio, 2)}x)`);
}
const hours = "12 local hours, Kathmandu, hourly";
console.log(`rows read, ${hours} (quarter-hour bounds, rollups only): ${SIZES.map((s) => `${find(s, hours, "rollups").rows.toLocaleString("en")} at ${s.toLocaleString("en")} calls`).join(", ")}`);
console.log("");
console.log(execFileSync("bash", [join(ROOT, "scripts", "size.sh")], { encoding: "utf8" }).trim());
console.log(`machine: ${machine()}; wrk -t${values.threads} -c${values.connections} -d${values.duration}s on the same machine`);
console.log(`load (scripts/load.mjs): ${[...new Set(results.map((r) => r.size))].map((s) => `${s.toLocaleString("en")} calls in ${fmt(results.find((r) => r.size === s).loadSeconds)} s`).join(", ")}`);
