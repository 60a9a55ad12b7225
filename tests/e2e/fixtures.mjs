// A small dataset whose answers were worked out by hand (the comments show the arithmetic).
import { randomBytes } from "node:crypto";
import { ms } from "../../scripts/lib/local-worker.mjs";

const T0 = ms("2025-01-10T00:00:00Z");
const T1 = ms("2025-02-01T00:00:00Z");
const H = 3_600_000;
const D = 24 * H;

const alice = { user_id: "u-alice", user_email: "Alice@Example.com" };
const bob = { user_id: "u-bob", user_email: "bob@example.com" };
const carol = { user_id: "u-carol", user_email: "carol@example.com" };
const jose = { user_id: "u-jose", user_email: "josé@example.com" };

const call = (id, user, platform, platform_number, started_at, duration_seconds) => ({
  id,
  ...user,
  platform,
  platform_number,
  started_at,
  duration_seconds,
});

/** The query of the whole UTC day DAY_RECORDS are about (its answer: DAY). */
export const DAY_QUERY = "start_date=2025-01-10&end_date=2025-01-10";
/** An admin page's origin, allowed by the workers that test CORS. */
export const ADMIN_ORIGIN = "https://admin.example.com";
/** An X-Request-Id as the worker makes them (crypto.randomUUID). */
export const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The shape of our API keys: "cak_" and 43 base64url characters (256 bits). */
export const KEY_SHAPE = /^cak_[A-Za-z0-9_-]{43}$/;

/**
 * A made-up key shaped exactly like ours, that no KV holds: the worker must look it up to refuse it (a token
 * of another shape may be refused before any KV read). Fresh random bytes each time, encoded here rather
 * than by scripts/lib/apikeys.mjs, so the shape does not follow the generator if that changes.
 */
export function unknownKey() {
  const key = `cak_${randomBytes(32).toString("base64url")}`;
  if (!KEY_SHAPE.test(key)) throw new Error("unknownKey() made a key of the wrong shape");
  return key;
}

/** 2025-01-10 (UTC), its edges, and a few calls elsewhere. */
export const DAY_RECORDS = [
  call("a1", alice, "sip", "+919876543210", T0 + 1 * H, 12150),
  call("a2", alice, "pstn", " +919876543210 ", T0 + 2 * H, 27), // same bucket once trimmed
  call("a3", alice, "Web", "+919876543210", T0 + 3 * H, 600), // web: the number does not matter
  call("b1", bob, " WEB ", null, T0 + 4 * H, 300),
  call("b2", bob, "sip", null, T0 + 5 * H, 60), // unknown: no number
  call("b3", bob, "whatsapp", "", T0 + 6 * H, 30.5), // unknown: empty number
  call("b4", bob, "pstn", "   ", T0 + 7 * H, 0), // unknown: blank number
  call("b5", bob, "sip", "+918765432109", T0 + 8 * H, 8100),
  call("b6", bob, "sip", "\t+918765432109\r\n", T0 + 10 * H, 900), // tabs and line ends trimmed too
  call("j1", jose, "sip", "+14155550100", T0 + 9 * H, 90),
  call("e-start", alice, "sip", "+14155550100", T0, 45), // exactly at the start: in
  call("e-end", alice, "sip", "+14155550100", T0 + D, 3000), // exactly at the end: out
  call("e-before", bob, "sip", "+918765432109", T0 - 1, 7), // a millisecond before the start: out
  call("c1", carol, "sip", "+1999", ms("2020-01-01T00:00:00Z"), 5),
];

/** 2025-02-01: equal durations, to check the tie-breaks. */
export const TIE_RECORDS = [
  call("t1", bob, "sip", "+1000", T1 + 1 * H, 60),
  call("t2", bob, "sip", "+1000", T1 + 2 * H, 60),
  call("t3", bob, "sip", "+2000", T1 + 3 * H, 120),
  call("t4", bob, "sip", "+0500", T1 + 4 * H, 120),
  call("t5", bob, "sip", "+3000", T1 + 5 * H, 119.999), // also 2.00 min once rounded, but shorter
];

/** Around now, for the default window: recent and mid are in the last 30 days; old and future are not. */
export function recentRecords(now) {
  return [
    call("r-recent", alice, "sip", "+15550001", now - D, 60),
    call("r-mid", alice, "sip", "+15550004", now - 10 * D - H, 60),
    call("r-old", alice, "sip", "+15550002", now - 31 * D, 60),
    call("r-future", alice, "sip", "+15550003", now + D, 60),
  ];
}

const row = (phone_number, total_calls, total_duration_minutes, total_duration_hours) => ({
  phone_number,
  total_calls,
  total_duration_minutes,
  total_duration_hours,
});

/** [2025-01-10, 2025-01-11): every call of DAY_RECORDS but e-end, e-before and c1. */
export const DAY = [
  row("+919876543210", 2, 202.95, 3.38), // 12150 + 27 = 12177 s: 202.95 min, 3.3825 h
  row("+918765432109", 2, 150, 2.5), // 8100 + 900 = 9000 s
  row("WEB_CALL", 2, 15, 0.25), // 600 + 300 = 900 s
  row("+14155550100", 2, 2.25, 0.04), // 45 + 90 = 135 s: 0.0375 h
  row("UNKNOWN_PLATFORM", 3, 1.51, 0.03), // 60 + 30.5 + 0 = 90.5 s: 1.5083 min, 0.02514 h
];

/** end_date=2025-01-11 as a date: the whole of the 11th too, so e-end (T0 + 24 h) is in. */
export const DAY_AND_NEXT = [
  row("+919876543210", 2, 202.95, 3.38),
  row("+918765432109", 2, 150, 2.5),
  row("+14155550100", 3, 52.25, 0.87), // 45 + 90 + 3000 = 3135 s: 0.87083 h
  row("WEB_CALL", 2, 15, 0.25),
  row("UNKNOWN_PLATFORM", 3, 1.51, 0.03),
];

/** start one millisecond later: e-start is out. */
export const DAY_WITHOUT_START = [
  row("+919876543210", 2, 202.95, 3.38),
  row("+918765432109", 2, 150, 2.5),
  row("WEB_CALL", 2, 15, 0.25),
  row("UNKNOWN_PLATFORM", 3, 1.51, 0.03), // 90.5 s
  row("+14155550100", 1, 1.5, 0.03), // 90 s: 0.025 h rounds half away from zero
];

/** start one millisecond earlier: e-before is in. */
export const DAY_WITH_BEFORE = [
  row("+919876543210", 2, 202.95, 3.38),
  row("+918765432109", 3, 150.12, 2.5), // 9007 s: 150.1167 min, 2.5019 h
  row("WEB_CALL", 2, 15, 0.25),
  row("+14155550100", 2, 2.25, 0.04),
  row("UNKNOWN_PLATFORM", 3, 1.51, 0.03),
];

export const DAY_ALICE = [
  row("+919876543210", 2, 202.95, 3.38),
  row("WEB_CALL", 1, 10, 0.17), // 600 s: 0.1667 h
  row("+14155550100", 1, 0.75, 0.01), // 45 s: 0.0125 h
];

export const DAY_BOB = [
  row("+918765432109", 2, 150, 2.5),
  row("WEB_CALL", 1, 5, 0.08), // 300 s: 0.0833 h
  row("UNKNOWN_PLATFORM", 3, 1.51, 0.03),
];

export const DAY_JOSE = [row("+14155550100", 1, 1.5, 0.03)];

/** 2025-02-01: 120 s each for +1000 (2 calls), +0500 and +2000; +3000 has 119.999 s. */
export const TIES = [
  row("+1000", 2, 2, 0.03), // more calls first
  row("+0500", 1, 2, 0.03), // then by label
  row("+2000", 1, 2, 0.03),
  row("+3000", 1, 2, 0.03), // 119.999 s: the exact total decides
];

/** data.totals of DAY: 11 calls; 12177 + 9000 + 900 + 135 + 90.5 = 22302.5 s = 371.7083 min, 6.1951 h. */
export const DAY_TOTALS = { total_calls: 11, total_duration_minutes: 371.71, total_duration_hours: 6.2 };

/** data.totals of TIES: 5 calls, 479.999 s = 7.99998 min, 0.13333 h: 0.13, where the rows' hours add up to 0.12. */
export const TIES_TOTALS = { total_calls: 5, total_duration_minutes: 8, total_duration_hours: 0.13 };

/** The default window (last 30 days) over recentRecords(). */
export const RECENT = [row("+15550001", 1, 1, 0.02), row("+15550004", 1, 1, 0.02)];

// ---- The end-call webhook (tests/e2e/webhook.test.mjs): the platform's envelope, and an oracle of the report
// worked out here from exact sums, independently of the worker's code. ----

/** The envelope the platform POSTs around a call record (of it, only `data` matters). */
export const endCall = (data) => ({ success: true, message: "Call completed", data });

/**
 * A JSON number's text in units of `unitMs` (1,000 for seconds, 60,000 for minutes) as whole milliseconds,
 * exactly (BigInt over its decimal digits, never a float), rounded half away from zero. `valid`: at least 0
 * (a negative value is refused even when it rounds to 0; "-0" is 0) and at most one week.
 */
export function decimalMillis(text, unitMs) {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(String(text).trim());
  if (!m) return { valid: false, millis: null };
  const digits = BigInt(m[2] + (m[3] ?? ""));
  const exponent = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  let numerator = digits * BigInt(unitMs);
  let denominator = 1n;
  if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
  else denominator = 10n ** BigInt(-exponent);
  let millis = numerator / denominator;
  if (2n * (numerator % denominator) >= denominator) millis += 1n;
  const negative = m[1] === "-" && digits !== 0n;
  const valid = !negative && millis <= 604_800_000n;
  return { valid, millis: valid ? Number(millis) : null };
}

/** What the bucket rule trims from a number (space, tab, CR, LF: migrations/0001). */
const trimBucket = (text) => text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");

/**
 * The platform's own bucket rule (the spec's "How the platform's own by-phone-number report buckets a call")
 * for a webhook's `data`: WEB_CALL if call_type or call_service is web, else UNKNOWN_PLATFORM without a
 * number, else the number (trimmed, as this project's bucket rule does).
 */
export function bucketOf(data) {
  const web = (value) => typeof value === "string" && value.trim().toLowerCase() === "web";
  if (web(data.call_type) || web(data.call_service)) return "WEB_CALL";
  const number = typeof data.platform_number === "string" ? trimBucket(data.platform_number) : "";
  return number === "" ? "UNKNOWN_PLATFORM" : number;
}

/** `millis / per` in hundredths, rounded half away from zero (totals are never negative). */
const hundredths = (millis, per) => (Math.floor(millis / per) + (millis % per >= per / 2 ? 1 : 0)) / 100;

/** A row (or the totals) from a bucket's exact sum: minutes and hours to two decimals. */
export function rounded(calls, millis) {
  return { total_calls: calls, total_duration_minutes: hundredths(millis, 600), total_duration_hours: hundredths(millis, 36_000) };
}

/**
 * The report's rows from exact sums (`sums`: Map of bucket label → { calls, millis }), in its order: by exact
 * duration, then calls, descending, then label (bytes) ascending. With the totals: { rows, totals }.
 */
export function reportOf(sums) {
  const buckets = [...sums].filter(([, s]) => s.calls > 0);
  buckets.sort(([a, x], [b, y]) => y.millis - x.millis || y.calls - x.calls || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const all = buckets.reduce((t, [, s]) => ({ calls: t.calls + s.calls, millis: t.millis + s.millis }), { calls: 0, millis: 0 });
  return {
    rows: buckets.map(([label, s]) => ({ phone_number: label, ...rounded(s.calls, s.millis) })),
    totals: rounded(all.calls, all.millis),
  };
}

/** Adds one call to `sums` (see {@link reportOf}). */
export function addCall(sums, bucket, millis) {
  const sum = sums.get(bucket) ?? { calls: 0, millis: 0 };
  sums.set(bucket, { calls: sum.calls + 1, millis: sum.millis + millis });
  return sums;
}
