// Seeded call records, the same on every machine: one random generator and one record generator for the
// demo data (scripts/demo-data.mjs), the benchmark datasets (bench/data.mjs) and the tests' random data
// (tests/e2e/differential.test.mjs). Each gives its own profile: who calls, through which numbers, when, and
// for how long.

/** mulberry32: a small seeded PRNG, with the helpers the generators need. */
export function prng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random = {
    /** In [0, 1). */
    next,
    /** An integer in [0, n). */
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
    /** One of `[item, weight]` pairs, in proportion to the weights. */
    weighted: (pairs) => {
      let r = next() * pairs.reduce((sum, [, w]) => sum + w, 0);
      for (const [item, w] of pairs) if ((r -= w) < 0) return item;
      return pairs[pairs.length - 1][0];
    },
  };
  return random;
}

/**
 * One call record (the loader's fields) from a profile:
 * - `users`: [{ id, email, weight? }]; `numbers`: [[platform_number, weight]];
 * - `web`, `unknown`: the shares of web sessions and of other calls without a number;
 * - `webPlatforms`, `telephonyPlatforms`: the `platform` values to pick from; `webNumbers`, `unknownNumbers`:
 *   the `platform_number` values of those calls; `numberSpelling(number)`: how a number is written (e.g.
 *   with stray whitespace), the number itself by default;
 * - `startedAt()`: epoch milliseconds; `duration()`: seconds.
 */
export function generateCall(random, id, profile) {
  const user = random.weighted(profile.users.map((u) => [u, u.weight ?? 1]));
  const kind = random.next();
  const web = kind < profile.web;
  const unknown = !web && kind < profile.web + profile.unknown;
  const spell = profile.numberSpelling ?? ((n) => n);
  return {
    id,
    user_id: user.id,
    user_email: user.email,
    platform: random.pick(web ? profile.webPlatforms : profile.telephonyPlatforms),
    platform_number: web ? random.pick(profile.webNumbers) : unknown ? random.pick(profile.unknownNumbers) : spell(random.weighted(profile.numbers)),
    started_at: profile.startedAt(),
    duration_seconds: profile.duration(),
  };
}

/** `count` records with ids `${prefix}${i}` (i from 1, zero-padded to `pad` digits). */
export function* generateCalls(random, { count, prefix, pad = 0, ...profile }) {
  for (let i = 1; i <= count; i++) yield generateCall(random, `${prefix}${String(i).padStart(pad, "0")}`, profile);
}

/** Writes records as NDJSON to stdout, in large chunks. */
export function writeNdjson(records) {
  const out = [];
  for (const record of records) {
    out.push(JSON.stringify(record), "\n");
    if (out.length >= 20_000) process.stdout.write(out.splice(0).join(""));
  }
  process.stdout.write(out.join(""));
}

const DAY = 86_400_000;

/** The demo: 6 tenants, 5 platform numbers, web sessions and calls without a number over `days` days. */
export function demoProfile({ days, today }) {
  const random = prng(20261126);
  return {
    random,
    profile: {
      users: ["alice", "bob", "carol", "dave", "erin", "frank"].map((name, i) => ({ id: `demo-user-${i + 1}`, email: `${name}@example.com`, weight: 6 - i })),
      numbers: [["+919876543210", 8], ["+918765432109", 6], ["+14155550100", 4], ["+442071838750", 2], ["+61291234567", 1]],
      web: 0.15,
      unknown: 0.07,
      webPlatforms: ["web", "web", "Web", " WEB "],
      webNumbers: [null, null, "+919876543210"], // a web session's number does not matter
      telephonyPlatforms: ["sip", "pstn", "whatsapp"],
      unknownNumbers: [null, "", "   "],
      startedAt: () => today - Math.floor(random.next() * days * DAY),
      duration: () => Math.round(Math.min(3600, 5 + -Math.log(1 - random.next()) * 240) * 1000) / 1000,
    },
  };
}

/** The benchmark: 1,000 tenants, 50 numbers, 10% web sessions, 5% without a number, over `days` days. */
export function benchProfile({ seed, days, now }) {
  const random = prng(seed);
  return {
    random,
    profile: {
      users: Array.from({ length: 1000 }, (_, t) => ({ id: `tenant-${t}`, email: `tenant${t}@bench.example` })),
      numbers: Array.from({ length: 50 }, (_, i) => [`+1555${String(1_000_000 + i * 7919).padStart(7, "0")}`, 1]),
      web: 0.1,
      unknown: 0.05,
      webPlatforms: ["web"],
      webNumbers: [null],
      telephonyPlatforms: ["sip", "pstn"],
      unknownNumbers: [null],
      startedAt: () => now - 1 - Math.floor(random.next() * days * DAY),
      duration: () => Math.round(random.next() * 600_000) / 1000,
    },
  };
}

/**
 * A platform number of exactly `length` characters (UTF-16 code units, as the loader counts), one for each
 * `i`: "+91", `i` in 10 digits (fewer if `length` is under 13), then `padding` over and over up to `length`
 * (the digits 0 to 9 unless told). The record rule allows 64; before migrations/0005 the loader allowed 1,024.
 */
export function paddedNumber(i, length, padding = "0123456789") {
  const digits = Math.min(10, length - 3);
  if (!Number.isSafeInteger(i) || i < 0 || String(i).length > digits) throw new Error(`no platform number of ${length} characters for ${i}`);
  return `+91${String(i).padStart(digits, "0")}`.padEnd(length, padding);
}

/** `count` calls on the UTC day starting at `day`, each through its own platform number (+4470 and 8 digits,
 * or {@link paddedNumber}s of `labelLength` characters, padded with `labelPadding`), lasting 1 to 600 s: a range with as many buckets as
 * calls. */
export function distinctNumberCalls(count, day, { labelLength, labelPadding } = {}) {
  return Array.from({ length: count }, (_, i) => ({
    id: `many-${i}`,
    user_id: "u-many",
    user_email: "many@example.com",
    platform: "sip",
    platform_number: labelLength === undefined ? `+4470${String(i).padStart(8, "0")}` : paddedNumber(i, labelLength, labelPadding),
    started_at: day + Math.floor((i * DAY) / count),
    duration_seconds: 1 + (i % 600),
  }));
}
