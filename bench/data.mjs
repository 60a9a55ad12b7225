#!/usr/bin/env node
// Benchmark call records as NDJSON: N calls over the D days before now, across 1,000 tenants and 50
// platform numbers, plus web sessions (10%) and calls without a number (5%). Deterministic for a seed; the
// profile is in scripts/lib/generate.mjs.
//
//   node bench/data.mjs --calls 1000000 [--days 90] [--seed 1] > calls.ndjson
import { parseArgs } from "node:util";
import { benchProfile, generateCalls, writeNdjson } from "../scripts/lib/generate.mjs";

const { values } = parseArgs({
  options: { calls: { type: "string" }, days: { type: "string", default: "90" }, seed: { type: "string", default: "1" } },
});
const count = Number(values.calls);
if (!Number.isInteger(count) || count < 1) throw new Error("--calls N is required");
const { random, profile } = benchProfile({ seed: Number(values.seed), days: Number(values.days), now: Date.now() });
writeNdjson(generateCalls(random, { count, prefix: "bench-", ...profile }));
