// Differential test: a seeded random dataset (users, numbers with stray whitespace, web and unknown calls,
// fractional durations, starts on and around hour, day and month boundaries), random ranges written in every
// accepted form, then rounds of random updates, deletes, replaces and inserts made straight in D1 (as any
// other writer would). After each round the endpoint (rollups) and its raw GROUP BY must both equal an
// independent oracle computed here from the same records. DIFF_SEED=<n> replays a run.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { withBindings } from "../../scripts/lib/bindings.mjs";
import { generateCall, prng } from "../../scripts/lib/generate.mjs";
import { ENDPOINT, request, startLocalWorker } from "../../scripts/lib/local-worker.mjs";

const SEED = Number(process.env.DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CALLS = 2500;
const ROUNDS = 4;
const QUERIES_PER_ROUND = 30;
const H = 3_600_000;
const D = 24 * H;
const BASE = Date.UTC(2025, 10, 20); // the data spans 2025-11-20 .. 2026-03-20: month and year boundaries

const random = prng(SEED);
const { int, pick, chance } = random;

const USERS = Array.from({ length: 12 }, (_, i) => ({ id: `d-user-${i}`, email: `user${i}@diff.example` }));
const NUMBERS = ["+911111111111", "+912222222222", "+14155550100", "+442000000000", "+61300000000", "+8100000000"];
const WEB = ["web", "WEB", " Web ", "web\t"];
const TELEPHONY = ["sip", "pstn", "whatsapp", "SIP", "webhook", "web-sip"];
const MISSING = [null, "", "   ", "\t", "\r\n"];

// Boundaries around which starts cluster: hours, days and months (UTC) in the data's span.
function boundary() {
  const kind = int(3);
  if (kind === 0) return BASE + int(120 * 24) * H;
  if (kind === 1) return BASE + int(120) * D;
  const month = new Date(BASE);
  return Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1 + int(4), 1);
}

function startedAt() {
  if (chance(0.35)) return boundary() + pick([0, 0, 1, -1, 999, -999, 1000, -1000, 59_999]);
  return BASE + int(120 * D);
}

/** A number as other services write them: sometimes with stray whitespace around it. */
const spell = (n) => (chance(0.2) ? pick([` ${n}`, `${n} `, `\t${n}\n`]) : n);
const number = () => (chance(0.15) ? pick(MISSING) : spell(pick(NUMBERS)));

function duration() {
  const ms = chance(0.1) ? 0 : chance(0.3) ? int(3600) * 1000 : int(7_200_000);
  return ms / 1000; // whole milliseconds, so the oracle's sum is exact
}

const PROFILE = {
  users: USERS,
  numbers: NUMBERS.map((n) => [n, 1]),
  numberSpelling: spell,
  web: 0.15,
  unknown: 0.85 * 0.15,
  webPlatforms: WEB,
  webNumbers: [...NUMBERS, null], // a web session's number does not matter
  telephonyPlatforms: TELEPHONY,
  unknownNumbers: MISSING,
  startedAt,
  duration,
};

let serial = 0;
const newCall = () => generateCall(random, `d-call-${serial++}`, PROFILE);

// ---- the oracle: the endpoint's rules, written again from the spec ----
const WS = /^[ \t\r\n]+|[ \t\r\n]+$/g;
function bucket(call) {
  if (call.platform.replace(WS, "").toLowerCase() === "web") return "WEB_CALL";
  const n = (call.platform_number ?? "").replace(WS, "");
  return n === "" ? "UNKNOWN_PLATFORM" : n;
}
const hundredths = (ms, unit) => Math.floor((ms + unit / 200) / (unit / 100)) / 100;
function oracle(calls, start, end, userId) {
  const totals = new Map();
  for (const call of calls.values()) {
    if (call.started_at < start || call.started_at >= end || (userId !== undefined && call.user_id !== userId)) continue;
    const label = bucket(call);
    const t = totals.get(label) ?? { calls: 0, ms: 0 };
    t.calls += 1;
    t.ms += Math.round(call.duration_seconds * 1000);
    totals.set(label, t);
  }
  return [...totals]
    .sort(([a, x], [b, y]) => y.ms - x.ms || y.calls - x.calls || (a < b ? -1 : a > b ? 1 : 0))
    .map(([label, t]) => ({
      phone_number: label,
      total_calls: t.calls,
      total_duration_minutes: hundredths(t.ms, 60_000),
      total_duration_hours: hundredths(t.ms, 3_600_000),
    }));
}

// ---- ranges, written in the accepted forms ----
const pad = (n, w = 2) => String(n).padStart(w, "0");
function isoWithOffset(ms, offsetMinutes, { millis, compact, plus }) {
  const local = new Date(ms + offsetMinutes * 60_000);
  const date = `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  const frac = millis ? `.${pad(local.getUTCMilliseconds(), 3)}` : "";
  const sign = offsetMinutes < 0 ? "-" : plus;
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${pad(Math.floor(abs / 60))}${compact ? "" : ":"}${pad(abs % 60)}`;
  return `${date}T${time}${frac}${offset}`;
}

/** A bound in a random form; `dateOnly` needs a UTC midnight (`asEnd`: the form names the day before). */
function formatBound(ms, asEnd) {
  if (ms % D === 0 && chance(0.4)) return new Date(asEnd ? ms - D : ms).toISOString().slice(0, 10);
  const form = int(4);
  if (form === 0) return new Date(ms).toISOString();
  if (form === 1) return new Date(ms).toISOString().replace("Z", ""); // no offset: UTC
  const offset = pick([330, 345, -480, -300, 540, 600, -210, 0, 60]);
  const plus = pick(["%2B", "+"]); // "+" unencoded reaches the worker as a space
  return isoWithOffset(ms, offset, { millis: ms % 1000 !== 0, compact: form === 3, plus });
}

function randomBound() {
  const kind = int(4);
  if (kind === 0) return BASE - 5 * D + int(130) * D; // midnight
  if (kind === 1) return boundary();
  if (kind === 2) return BASE + int(130 * 24) * H - 5 * D;
  return BASE - 5 * D + int(130 * D);
}

function randomRange() {
  for (;;) {
    const start = randomBound();
    const length = pick([int(2 * H), int(3 * D), int(40 * D), int(130 * D), 30 * D, D, H]) + 1;
    const end = chance(0.5) ? start + length : randomBound();
    if (start < end) return [start, end];
  }
}

let worker;
let key;
const calls = new Map();

before(async () => {
  for (let i = 0; i < CALLS; i++) {
    const call = newCall();
    calls.set(call.id, call);
  }
  worker = await startLocalWorker({
    records: [...calls.values()],
    keys: { admin: { role: "super_admin" } },
    vars: { DIAGNOSTICS: "on" },
    // Hundreds of queries a minute from one address with one key: more than production allows.
    limits: { clientIp: 100_000, apiKey: 100_000 },
  });
  key = worker.keys.admin.key;
});

after(() => worker?.stop());

async function checkQueries(round) {
  for (let q = 0; q < QUERIES_PER_ROUND; q++) {
    const [start, end] = randomRange();
    const user = chance(0.35) ? pick(USERS) : undefined;
    const email = user && (chance(0.5) ? user.email.toUpperCase() : ` ${user.email} `.replace(/ /g, "%20"));
    const query = `start_date=${formatBound(start, false)}&end_date=${formatBound(end, true)}${email ? `&user_email=${email}` : ""}`;
    const expected = oracle(calls, start, end, user?.id);
    for (const strategy of ["rollups", "raw"]) {
      const { status, body } = await request(worker.base, `${ENDPOINT}?${query}&strategy=${strategy}`, { key });
      const context = `seed ${SEED}, round ${round}, ${strategy}: ?${query} ([${start}, ${end}))`;
      assert.equal(status, 200, `${context}: ${JSON.stringify(body)}`);
      assert.equal(body.data.start_date, new Date(start).toISOString(), context);
      assert.equal(body.data.end_date, new Date(end).toISOString(), context);
      assert.deepEqual(body.data.phone_numbers, expected, context);
    }
  }
}

/** Random writes, made in D1 with plain SQL and mirrored in `calls`. */
function mutations(db) {
  const statements = [];
  const ids = () => [...calls.keys()];
  for (let i = 0; i < 60; i++) {
    const id = pick(ids());
    const call = calls.get(id);
    const kind = int(9);
    if (kind === 0) {
      call.duration_seconds = duration();
      statements.push(db.prepare("UPDATE calls SET duration_seconds = ?1 WHERE id = ?2").bind(call.duration_seconds, id));
    } else if (kind === 1) {
      call.platform_number = number();
      statements.push(db.prepare("UPDATE calls SET platform_number = ?1 WHERE id = ?2").bind(call.platform_number, id));
    } else if (kind === 2) {
      call.platform = chance(0.5) ? pick(WEB) : pick(TELEPHONY);
      statements.push(db.prepare("UPDATE calls SET platform = ?1 WHERE id = ?2").bind(call.platform, id));
    } else if (kind === 3) {
      call.user_id = pick(USERS).id;
      statements.push(db.prepare("UPDATE calls SET user_id = ?1 WHERE id = ?2").bind(call.user_id, id));
    } else if (kind === 4) {
      call.started_at = startedAt();
      statements.push(db.prepare("UPDATE calls SET started_at = ?1 WHERE id = ?2").bind(call.started_at, id));
    } else if (kind === 5) {
      calls.delete(id);
      statements.push(db.prepare("DELETE FROM calls WHERE id = ?1").bind(id));
    } else if (kind === 6) {
      // INSERT OR REPLACE over an existing call: its old contribution must go.
      const replacement = { ...newCall(), id };
      calls.set(id, replacement);
      statements.push(
        db
          .prepare("INSERT OR REPLACE INTO calls (id, user_id, platform, platform_number, started_at, duration_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
          .bind(id, replacement.user_id, replacement.platform, replacement.platform_number, replacement.started_at, replacement.duration_seconds),
      );
    } else if (kind === 7) {
      // A new id for a call, sometimes onto another call's id (UPDATE OR REPLACE removes that one).
      const target = chance(0.3) ? pick(ids().filter((other) => other !== id)) : `d-call-${serial++}`;
      calls.delete(id);
      calls.set(target, { ...call, id: target });
      statements.push(db.prepare("UPDATE OR REPLACE calls SET id = ?1 WHERE id = ?2").bind(target, id));
    } else {
      const fresh = newCall();
      calls.set(fresh.id, fresh);
      statements.push(
        db
          .prepare("INSERT INTO calls (id, user_id, platform, platform_number, started_at, duration_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
          .bind(fresh.id, fresh.user_id, fresh.platform, fresh.platform_number, fresh.started_at, fresh.duration_seconds),
      );
    }
  }
  // A bulk update touching many rows at once, and a few no-op updates.
  const shift = pick([H, -H, D, 1]);
  const from = BASE + int(120) * D;
  for (const call of calls.values()) if (call.started_at >= from && call.started_at < from + 6 * H) call.started_at += shift;
  statements.push(db.prepare("UPDATE calls SET started_at = started_at + ?1 WHERE started_at >= ?2 AND started_at < ?3").bind(shift, from, from + 6 * H));
  statements.push(db.prepare("UPDATE calls SET platform = platform WHERE rowid % 7 = 0"));
  return statements;
}

test(`rollups equal the raw aggregation and the oracle, through updates and deletes (seed ${SEED})`, async () => {
  for (let round = 0; round <= ROUNDS; round++) {
    await checkQueries(round);
    if (round === ROUNDS) break;
    await withBindings({ persistTo: worker.state }, async (env) => {
      // One statement at a time, in order, as independent writers would.
      for (const statement of mutations(env.DB)) await statement.run();
    });
  }
});
