// Differential test: a seeded random dataset (users, numbers with stray whitespace, web and unknown calls,
// fractional durations, starts clustered on and around local hour, day and month boundaries and DST changes
// in several zones), random ranges in random zones and date forms, with and without a random interval, then
// rounds of random updates, deletes, replaces and inserts made straight in D1 (as any other writer would).
// After each round the endpoint (rollups) and its raw aggregation must both equal an oracle computed here
// from the same records, with local time worked out independently of the worker's code: Node's own Intl,
// read every quarter-hour (every offset in use is a whole number of quarter-hours). DIFF_SEED=<n> replays a
// run.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { withBindings } from "../../scripts/lib/bindings.mjs";
import { generateCall, prng } from "../../scripts/lib/generate.mjs";
import { ENDPOINT, request, startLocalWorker } from "../../scripts/lib/local-worker.mjs";

const SEED = Number(process.env.DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CALLS = 3000;
const ROUNDS = 4;
const QUERIES_PER_ROUND = 30;
const Q = 900_000;
const H = 3_600_000;
const D = 24 * H;
// The data spans 2026-01-20 .. 2026-10-20: month boundaries and every DST change of these zones in 2026.
const BASE = Date.UTC(2026, 0, 20);
const SPAN = 273 * D;
const ZONES = ["Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "Australia/Lord_Howe", "America/New_York", "America/Santiago", "UTC"];
const MORE_ZONES = Intl.supportedValuesOf("timeZone");
const INTERVALS = [undefined, undefined, "hour", "day", "week", "month"];

const random = prng(SEED);
const { int, pick, chance } = random;

// ---- local time, the oracle's way: Node's Intl, one reading per quarter-hour ----
const formatters = new Map();
/** Local wall-clock fields and the offset (minutes) of `zone` at instant `t`. */
function local(zone, t) {
  if (!formatters.has(zone)) {
    formatters.set(
      zone,
      new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
        weekday: "short",
      }),
    );
  }
  const parts = Object.fromEntries(formatters.get(zone).formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) + (((t % 1000) + 1000) % 1000);
  return { ...parts, wall, offset: Math.round((wall - t) / 60_000) };
}

/** The key of the period of `interval` holding local time `l` (keys of later periods sort after). */
function periodKey(interval, l) {
  const date = `${l.year}-${l.month}-${l.day}`;
  if (interval === "hour") return `${date} ${l.hour}`;
  if (interval === "day") return date;
  if (interval === "month") return `${l.year}-${l.month}`;
  // ISO week: the Monday of the week, as a date.
  const mondayOffset = (["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(l.weekday)) * D;
  return new Date(Date.UTC(+l.year, +l.month - 1, +l.day) - mondayOffset).toISOString().slice(0, 10);
}

/**
 * The periods of `interval` overlapping [start, end), clipped: a period starts at the first instant of each
 * new local period (a local hour, also when the clock turns back to a whole hour; a day, week or month the
 * first time it is seen). Scanned every quarter-hour.
 */
function oraclePeriods(zone, interval, start, end) {
  if (!interval) return [[start, end]];
  const starts = [start];
  let last = periodKey(interval, local(zone, start));
  for (let q = Math.floor(start / Q) * Q + Q; q < end; q += Q) {
    const l = local(zone, q);
    const key = periodKey(interval, l);
    const turnedBack = interval === "hour" && l.minute === "00" && l.second === "00" && key <= last;
    if (key > last || turnedBack) starts.push(q);
    if (key > last) last = key;
  }
  return starts.map((s, i) => [s, starts[i + 1] ?? end]);
}

/** The instants at which `zone`'s clock reads `wall` (ms, as if UTC), scanning the offsets of two days. */
function instantsOf(zone, wall) {
  const offsets = new Set();
  for (let t = wall - 2 * D; t <= wall + 2 * D; t += Q) offsets.add(local(zone, t).offset);
  return [...offsets].map((o) => wall - o * 60_000).filter((t) => local(zone, t).wall === wall).sort((a, b) => a - b);
}

/** A local wall time as the API reads it: the earlier instant if it is repeated; in a gap, pushed forward. */
function resolve(zone, wall) {
  const found = instantsOf(zone, wall);
  if (found.length) return found[0];
  // In a gap: with the offset before it (the smaller one here), the time lands past the gap by as much.
  return wall - local(zone, wall - D).offset * 60_000;
}

/** The first instant the clock shows `wall` or later (a local day's start): when a gap skips it, the gap's end. */
function firstInstant(zone, wall) {
  const found = instantsOf(zone, wall);
  if (found.length) return found[0];
  for (let t = Math.floor((wall - 15 * H) / Q) * Q; ; t += Q) if (local(zone, t).wall >= wall) return t;
}

const pad = (n, w = 2) => String(n).padStart(w, "0");
/** RFC 3339 local time with the offset at `t`, milliseconds only when there are some (as the API writes it). */
function withOffset(zone, t) {
  const l = local(zone, t);
  const ms = ((t % 1000) + 1000) % 1000;
  const abs = Math.abs(l.offset);
  return `${l.year}-${l.month}-${l.day}T${l.hour}:${l.minute}:${l.second}${ms ? `.${pad(ms, 3)}` : ""}${l.offset < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

// ---- data: starts near local boundaries and DST changes ----
const USERS = Array.from({ length: 12 }, (_, i) => ({ id: `d-user-${i}`, email: `user${i}@diff.example` }));
const NUMBERS = ["+911111111111", "+912222222222", "+14155550100", "+442000000000", "+61300000000", "+8100000000"];
const WEB = ["web", "WEB", " Web ", "web\t"];
const TELEPHONY = ["sip", "pstn", "whatsapp", "SIP", "webhook", "web-sip"];
const MISSING = [null, "", "   ", "\t", "\r\n"];

/** The first instant after `t` (within 200 days) at which `zone` changes its offset, or null. */
function dstChange(zone, t) {
  for (let probe = t; probe < t + 200 * D; probe += 6 * H) {
    if (local(zone, probe).offset !== local(zone, probe + 6 * H).offset) {
      let q = probe;
      while (local(zone, q).offset === local(zone, probe).offset) q += Q;
      return q;
    }
  }
  return null;
}

/** Instants where something happens: DST changes of the zones, and local hour, day and month starts. */
function boundary() {
  const zone = pick(ZONES);
  const t = BASE + int(SPAN / Q) * Q;
  const kind = int(4);
  if (kind === 0) return resolve(zone, Math.floor(local(zone, t).wall / H) * H); // a local hour
  if (kind === 1) return resolve(zone, Math.floor(local(zone, t).wall / D) * D); // a local midnight
  if (kind === 2) {
    const l = local(zone, t);
    return resolve(zone, Date.UTC(+l.year, +l.month - 1, 1)); // a local month
  }
  return dstChange(zone, t) ?? t;
}

function startedAt() {
  if (chance(0.4)) return boundary() + pick([0, 0, 1, -1, 999, -999, 1000, -1000, 59_999, -Q, Q, 7 * 60_000]);
  return BASE + int(SPAN);
}

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
const amounts = (calls, ms) => ({ total_calls: calls, total_duration_minutes: hundredths(ms, 60_000), total_duration_hours: hundredths(ms, 3_600_000) });

function oracle(calls, periods, userId, labels) {
  const [start, end] = [periods[0][0], periods.at(-1)[1]];
  const totals = new Map();
  for (const call of calls.values()) {
    if (call.started_at < start || call.started_at >= end || (userId !== undefined && call.user_id !== userId)) continue;
    const label = bucket(call);
    const t = totals.get(label) ?? { calls: 0, ms: 0, points: periods.map(() => [0, 0]) };
    const ms = Math.round(call.duration_seconds * 1000);
    t.calls += 1;
    t.ms += ms;
    const p = periods.findIndex(([a, b]) => call.started_at >= a && call.started_at < b);
    t.points[p][0] += 1;
    t.points[p][1] += ms;
    totals.set(label, t);
  }
  return [...totals]
    .sort(([a, x], [b, y]) => y.ms - x.ms || y.calls - x.calls || (a < b ? -1 : a > b ? 1 : 0))
    .map(([label, t]) => ({
      phone_number: label,
      ...amounts(t.calls, t.ms),
      ...(labels ? { series: t.points.map(([c, ms], i) => ({ start: labels[i], ...amounts(c, ms) })) } : {}),
    }));
}

// ---- ranges, written in the accepted forms ----
function isoWithOffset(ms, offsetMinutes, { millis, compact, plus }) {
  const l = new Date(ms + offsetMinutes * 60_000);
  const date = `${l.getUTCFullYear()}-${pad(l.getUTCMonth() + 1)}-${pad(l.getUTCDate())}`;
  const time = `${pad(l.getUTCHours())}:${pad(l.getUTCMinutes())}:${pad(l.getUTCSeconds())}`;
  const frac = millis ? `.${pad(l.getUTCMilliseconds(), 3)}` : "";
  const sign = offsetMinutes < 0 ? "-" : plus;
  const abs = Math.abs(offsetMinutes);
  return `${date}T${time}${frac}${sign}${pad(Math.floor(abs / 60))}${compact ? "" : ":"}${pad(abs % 60)}`;
}

/**
 * A bound in `zone`, in a random form, and the instant it names: a local date (the whole local day: its first
 * instant, or the next day's as an end), a local datetime without an offset, or an instant with Z or an offset.
 */
function randomBound(zone, asEnd) {
  const t = chance(0.5) ? boundary() : BASE - 5 * D + int(SPAN + 10 * D);
  const form = int(5);
  if (form === 0) {
    const l = local(zone, t);
    const day = Date.UTC(+l.year, +l.month - 1, +l.day);
    return [`${l.year}-${l.month}-${l.day}`, firstInstant(zone, asEnd ? day + D : day)];
  }
  if (form === 1) {
    // Often a wall time next to a DST change: repeated (ambiguous) or skipped (in the gap).
    const change = chance(0.4) ? dstChange(zone, t - 100 * D) : null;
    const wall = change === null ? local(zone, t).wall : local(zone, change + pick([-50, -20, -5, 5, 20]) * 60_000).wall + pick([0, 10, 20]) * 60_000;
    const seconds = chance(0.5);
    const text = new Date(wall).toISOString().slice(0, seconds ? 23 : 16).replace(/\.000$/, "");
    const named = seconds ? wall : Math.floor(wall / 60_000) * 60_000;
    return [text, resolve(zone, named)];
  }
  if (form === 2) return [new Date(t).toISOString(), t];
  const offset = pick([330, 345, -480, -300, 540, 600, -210, 0, 60, 765, 825]);
  const plus = pick(["%2B", "+"]); // "+" unencoded reaches the worker as a space
  return [isoWithOffset(t, offset, { millis: t % 1000 !== 0, compact: form === 3, plus }), t];
}

/** A random query: zone, range, interval, user. Null when the range is empty or holds too many periods. */
function randomQuery() {
  const zone = chance(0.85) ? pick(ZONES) : pick(MORE_ZONES);
  const [startText, start] = randomBound(zone, false);
  let [endText, end] = randomBound(zone, true);
  if (chance(0.6)) {
    end = start + pick([int(2 * H), int(3 * D), int(40 * D), int(130 * D), 30 * D, D, H]) + 1;
    endText = new Date(end).toISOString();
  }
  if (start >= end) return null;
  const interval = pick(INTERVALS);
  const periods = oraclePeriods(zone, interval, start, end);
  if (periods.length > 1000) return null;
  const user = chance(0.35) ? pick(USERS) : undefined;
  const email = user && (chance(0.5) ? user.email.toUpperCase() : ` ${user.email} `.replace(/ /g, "%20"));
  const zoneText = zone === "UTC" && chance(0.5) ? null : chance(0.3) ? zone.toLowerCase() : zone;
  const query = [
    `start_date=${startText}`,
    `end_date=${endText}`,
    zoneText ? `timezone=${encodeURIComponent(zoneText)}` : null,
    interval ? `interval=${interval}` : null,
    email ? `user_email=${email}` : null,
  ].filter(Boolean).join("&");
  return { zone, start, end, interval, periods, user, query };
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
  let asked = 0;
  while (asked < QUERIES_PER_ROUND) {
    const q = randomQuery();
    if (!q) continue;
    asked++;
    const labels = q.interval ? q.periods.map(([s]) => withOffset(q.zone, s)) : null;
    const expected = oracle(calls, q.periods, q.user?.id, labels);
    for (const strategy of ["rollups", "raw"]) {
      const { status, body } = await request(worker.base, `${ENDPOINT}?${q.query}&strategy=${strategy}`, { key });
      const context = `seed ${SEED}, round ${round}, ${strategy}: ?${q.query} ([${q.start}, ${q.end}) in ${q.zone})`;
      assert.equal(status, 200, `${context}: ${JSON.stringify(body)}`);
      assert.equal(body.data.start_date, new Date(q.start).toISOString(), context);
      assert.equal(body.data.end_date, new Date(q.end).toISOString(), context);
      assert.equal(body.data.interval, q.interval, context);
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
  // A bulk update touching many rows at once (across quarter-hours, by a quarter, an hour or a day), and a few
  // no-op updates.
  const shift = pick([Q, H, -H, D, 1]);
  const from = BASE + int(SPAN / D) * D;
  for (const call of calls.values()) if (call.started_at >= from && call.started_at < from + 6 * H) call.started_at += shift;
  statements.push(db.prepare("UPDATE calls SET started_at = started_at + ?1 WHERE started_at >= ?2 AND started_at < ?3").bind(shift, from, from + 6 * H));
  statements.push(db.prepare("UPDATE calls SET platform = platform WHERE rowid % 7 = 0"));
  return statements;
}

test(`rollups equal the raw aggregation and the oracle in every zone, through updates and deletes (seed ${SEED})`, async () => {
  for (let round = 0; round <= ROUNDS; round++) {
    await checkQueries(round);
    if (round === ROUNDS) break;
    await withBindings({ persistTo: worker.state }, async (env) => {
      // One statement at a time, in order, as independent writers would.
      for (const statement of mutations(env.DB)) await statement.run();
    });
  }
});

test("the oracle's local time agrees with hand-worked cases", () => {
  const at = (iso) => Date.parse(iso);
  // New York: 2026-11-01 lasts 25 hours; its 01:00 hour comes twice.
  assert.deepEqual(oraclePeriods("America/New_York", "day", at("2026-11-01T04:00:00Z"), at("2026-11-02T05:00:00Z")), [[at("2026-11-01T04:00:00Z"), at("2026-11-02T05:00:00Z")]]);
  const hours = oraclePeriods("America/New_York", "hour", at("2026-11-01T04:00:00Z"), at("2026-11-01T08:00:00Z")).map(([s]) => withOffset("America/New_York", s));
  assert.deepEqual(hours, ["2026-11-01T00:00:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"]);
  // Santiago skips midnight on 2026-09-06; Lord Howe's 2026-10-04 02:00 hour starts at 02:30; Chatham's 03
  // hour on 2026-09-27 starts at 03:45 (a datetime of 03:00 is 04:00).
  assert.equal(firstInstant("America/Santiago", Date.UTC(2026, 8, 6)), at("2026-09-06T04:00:00Z"));
  assert.equal(firstInstant("Pacific/Chatham", Date.UTC(2026, 8, 27, 3)), at("2026-09-26T14:00:00Z"));
  assert.equal(resolve("Pacific/Chatham", Date.UTC(2026, 8, 27, 3)), at("2026-09-26T14:15:00Z"));
  assert.deepEqual(
    oraclePeriods("Australia/Lord_Howe", "hour", at("2026-10-03T14:30:00Z"), at("2026-10-03T17:00:00Z")).map(([s]) => withOffset("Australia/Lord_Howe", s)),
    ["2026-10-04T01:00:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-04T03:00:00+11:00"],
  );
  // Kathmandu's day, Chatham's offsets.
  assert.equal(resolve("Asia/Kathmandu", Date.UTC(2026, 10, 1)), at("2026-10-31T18:15:00Z"));
  assert.equal(withOffset("Pacific/Chatham", at("2026-01-01T00:00:00Z")), "2026-01-01T13:45:00+13:45");
});
