#!/usr/bin/env node
// Benchmark call records as NDJSON: N calls over the D days before now, across 1,000 tenants and 50
// platform numbers, plus web sessions (10%) and calls without a number (5%). Deterministic for a seed.
//
//   node bench/data.mjs --calls 1000000 [--days 90] [--seed 1] > calls.ndjson
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { calls: { type: "string" }, days: { type: "string", default: "90" }, seed: { type: "string", default: "1" } },
});
const CALLS = Number(values.calls);
const DAYS = Number(values.days);
if (!Number.isInteger(CALLS) || CALLS < 1) throw new Error("--calls N is required");
export const TENANTS = 1000;
const NUMBERS = Array.from({ length: 50 }, (_, i) => `+1555${String(1_000_000 + i * 7919).padStart(7, "0")}`);

let seed = Number(values.seed) >>> 0;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const now = Date.now();
const span = DAYS * 86_400_000;
const out = [];
const flush = () => {
  process.stdout.write(out.join(""));
  out.length = 0;
};
for (let i = 0; i < CALLS; i++) {
  const tenant = Math.floor(random() * TENANTS);
  const kind = random();
  const web = kind < 0.1;
  const unknown = !web && kind < 0.15;
  const record = {
    id: `bench-${i}`,
    user_id: `tenant-${tenant}`,
    user_email: `tenant${tenant}@bench.example`,
    platform: web ? "web" : kind < 0.6 ? "sip" : "pstn",
    platform_number: unknown ? null : NUMBERS[Math.floor(random() * NUMBERS.length)],
    started_at: now - 1 - Math.floor(random() * span),
    duration_seconds: Math.round(random() * 600_000) / 1000,
  };
  out.push(JSON.stringify(record), "\n");
  if (out.length >= 20_000) flush();
}
flush();
