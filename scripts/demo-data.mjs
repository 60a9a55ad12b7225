#!/usr/bin/env node
// Deterministic demo call records as NDJSON on stdout: 6 tenants, 5 platform numbers, web sessions and
// calls without a platform number, spread over the 60 days before today (UTC), so the default 30-day
// window shows data. The same day always gives the same records; later days shift them forward, and
// loading again updates them in place (ids are fixed).
//
//   node scripts/demo-data.mjs [--calls N] [--days D] > demo.ndjson
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { calls: { type: "string", default: "1500" }, days: { type: "string", default: "60" } } });
const CALLS = Number(values.calls);
const DAYS = Number(values.days);
const DAY = 86_400_000;

/** mulberry32: a small seeded PRNG, so the data is the same on every machine. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(20261126);
const pick = (items) => items[Math.floor(random() * items.length)];
const weighted = (pairs) => {
  let r = random() * pairs.reduce((s, [, w]) => s + w, 0);
  for (const [item, w] of pairs) if ((r -= w) < 0) return item;
  return pairs[pairs.length - 1][0];
};

const users = ["alice", "bob", "carol", "dave", "erin", "frank"].map((name, i) => ({
  id: `demo-user-${i + 1}`,
  email: `${name}@example.com`,
  weight: 6 - i,
}));
const numbers = [
  ["+919876543210", 8],
  ["+918765432109", 6],
  ["+14155550100", 4],
  ["+442071838750", 2],
  ["+61291234567", 1],
];
const today = Math.floor(Date.now() / DAY) * DAY;

for (let i = 1; i <= CALLS; i++) {
  const user = weighted(users.map((u) => [u, u.weight]));
  const kind = weighted([["telephony", 78], ["web", 15], ["unknown", 7]]);
  let platform;
  let platform_number;
  if (kind === "web") {
    platform = pick(["web", "web", "Web", " WEB "]);
    platform_number = pick([null, null, "+919876543210"]); // a web session's number does not matter
  } else {
    platform = pick(["sip", "pstn", "whatsapp"]);
    platform_number = kind === "unknown" ? pick([null, "", "   "]) : weighted(numbers);
  }
  const started_at = today - Math.floor(random() * DAYS * DAY);
  const duration_seconds = Math.round(Math.min(3600, 5 + -Math.log(1 - random()) * 240) * 1000) / 1000;
  const record = { id: `demo-call-${String(i).padStart(5, "0")}`, user_id: user.id, user_email: user.email, platform, platform_number, started_at, duration_seconds };
  process.stdout.write(JSON.stringify(record) + "\n");
}
