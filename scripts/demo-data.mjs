#!/usr/bin/env node
// Deterministic demo call records as NDJSON on stdout: 6 tenants, 5 platform numbers, web sessions and
// calls without a platform number, spread over the 60 days before today (UTC), so the default 30-day
// window shows data. The same day always gives the same records; later days shift them forward, and
// loading again updates them in place (ids are fixed). The profile is in scripts/lib/generate.mjs.
//
//   node scripts/demo-data.mjs [--calls N] [--days D] > demo.ndjson
import { parseArgs } from "node:util";
import { demoProfile, generateCalls, writeNdjson } from "./lib/generate.mjs";

const { values } = parseArgs({ options: { calls: { type: "string", default: "1500" }, days: { type: "string", default: "60" } } });
const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
const { random, profile } = demoProfile({ days: Number(values.days), today });
writeNdjson(generateCalls(random, { count: Number(values.calls), prefix: "demo-call-", pad: 5, ...profile }));
