// scripts/rollups.mjs (check and repair) against real local D1, next to a running worker: rollup rows and a
// ledger row damaged by hand, straight in the database the worker reads, then found by `check`, fixed by
// `repair`, and the worker's answers from the rollups equal to its raw aggregation (and to numbers worked
// out by hand) again.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, withBindings } from "../../scripts/lib/bindings.mjs";
import { generateCalls, prng } from "../../scripts/lib/generate.mjs";
import { ENDPOINT, ms, request, runExit, startLocalWorker } from "../../scripts/lib/local-worker.mjs";
import { run } from "../../scripts/lib/rollups.mjs";
import * as fx from "./fixtures.mjs";

const H = 3_600_000;
const DAY = 24 * H;
const T0 = ms("2025-01-10T00:00:00Z"); // fx.DAY_RECORDS' day
const JANUARY = ms("2025-01-01T00:00:00Z");

// Besides the hand-made records (January and February 2025, one call in 2020): 600 seeded calls over
// November and December 2024, so that the tool walks several months and month boundaries.
function generated() {
  const random = prng(20261127);
  const start = ms("2024-11-01T00:00:00Z");
  return [
    ...generateCalls(random, {
      count: 600,
      prefix: "g-",
      pad: 3,
      users: [1, 2, 3].map((i) => ({ id: `u-gen-${i}`, email: `gen${i}@example.com` })),
      numbers: [["+911111111111", 3], ["+14155550100", 2], ["+442000000000", 1]],
      web: 0.1,
      unknown: 0.05,
      webPlatforms: ["web", "Web"],
      webNumbers: [null],
      telephonyPlatforms: ["sip", "pstn"],
      unknownNumbers: [null, ""],
      startedAt: () => start + random.int(61 * DAY),
      duration: () => random.int(600_000) / 1000,
    }),
  ];
}

let worker;
let admin;

before(async () => {
  worker = await startLocalWorker({
    records: [...fx.DAY_RECORDS, ...fx.TIE_RECORDS, ...generated()],
    keys: { admin: { role: "super_admin" } },
    vars: { DIAGNOSTICS: "on" },
  });
  admin = worker.keys.admin.key;
});

after(() => worker?.stop());

const rollups = (...args) => runExit("node", [join(ROOT, "scripts", "rollups.mjs"), ...args, "--persist-to", worker.state]);
const lines = (text) => text.split("\n").filter(Boolean);
const sql = (...statements) =>
  withBindings({ persistTo: worker.state }, async (env) => {
    const results = [];
    for (const [text, ...params] of statements) results.push((await env.DB.prepare(text).bind(...params).all()).results);
    return results;
  });
/** Every row of the ledger and the eight rollups, to see that nothing was written. */
const everything = async () =>
  sql(
    ["SELECT * FROM call_facts ORDER BY id"],
    ...["quarter", "hour", "day", "month"].flatMap((level) => [
      [`SELECT * FROM calls_by_${level} ORDER BY period_start, bucket`],
      [`SELECT * FROM user_calls_by_${level} ORDER BY user_id, period_start, bucket`],
    ]),
  );

test("--help prints the usage; a wrong command is a usage error", async () => {
  const help = await runExit("node", [join(ROOT, "scripts", "rollups.mjs"), "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: rollups <check\|repair> \[--remote \| --persist-to DIR\] \[--split-above N\] \[--show N\] \[--quiet\]\n/);
  for (const option of ["--remote", "--persist-to DIR", "--split-above N", "--show N", "--quiet", "-h, --help"]) assert.ok(help.stdout.includes(`\n  ${option}`), option);
  for (const args of [[], ["fix"], ["check", "extra"], ["check", "--show", "-1"], ["check", "--split-above", "x"], ["check", "--remote", "--persist-to", "/tmp"]]) {
    const { code, stderr } = await runExit("node", [join(ROOT, "scripts", "rollups.mjs"), ...args]);
    assert.equal(code, 2, args.join(" "));
    assert.match(stderr, /^rollups: /, args.join(" "));
  }
});

test("check on an undamaged database exits 0 and prints nothing but its summary; repair writes nothing", async () => {
  const before = await everything();
  for (const split of [[], ["--split-above", "300"]]) {
    // --split-above 300: November 2024's quarter-hour, hour and day tables a day at a time; the same verdict.
    // (No progress lines either: stderr is not a terminal.)
    const { code, stdout, stderr } = await rollups("check", ...split);
    assert.equal(code, 0, stdout + stderr);
    assert.equal(stderr, "");
    assert.equal(lines(stdout).length, 1, stdout);
    assert.match(stdout, /^rollups check: no differences: 619 calls; call_facts in 1 chunk of ids, the 8 rollups in \d+ ranges over 5 months with data from 2020-01 to 2025-02; local D1 read [\d,]+ rows and wrote 0 rows in /);
  }
  const { code, stdout, stderr } = await rollups("repair");
  assert.equal(code, 0, stdout + stderr);
  assert.equal(stderr, "");
  assert.equal(lines(stdout).length, 1, stdout);
  assert.match(stdout, /^rollups repair: nothing to repair: 619 calls; .* wrote 0 rows in /);
  assert.deepEqual(await everything(), before);
});

test("damaged rollups and ledger: check reports each, a report reading the REAL row is a 500 naming its table, repair fixes them", async () => {
  const month = `${ENDPOINT}?start_date=2025-01-01&end_date=2025-01-31`;
  const before = await request(worker.base, month, { key: admin });
  assert.equal(before.status, 200);

  await sql(
    // A changed sum: one call too many in a day.
    ["UPDATE calls_by_day SET calls = calls + 1 WHERE period_start = ? AND bucket = '+919876543210'", T0],
    // A missing row: bob's hour of b5.
    ["DELETE FROM user_calls_by_hour WHERE user_id = 'u-bob' AND period_start = ? AND bucket = '+918765432109'", T0 + 8 * H],
    // An extra row: a quarter-hour without calls.
    ["INSERT INTO calls_by_quarter VALUES (?, '+1999', 1, 5000)", T0 + 20 * H],
    // A REAL duration, as SQLite writes an integer sum that overflowed.
    ["UPDATE calls_by_month SET duration_ms = 9.22337203685478e18 WHERE period_start = ? AND bucket = '+919876543210'", JANUARY],
    // A ledger row that disagrees with its call (an UPDATE of call_facts fires no trigger: the rollups keep
    // j1's real 90 s, the ledger says 1 s).
    ["UPDATE call_facts SET duration_ms = 1000 WHERE id = 'j1'"],
    // A ledger row without a call (its insert trigger also adds it to the eight rollups).
    ["INSERT INTO call_facts (id, user_id, bucket, started_at, duration_ms) VALUES ('ghost', 'u-carol', '+1999', ?, 7000)", T0 + 30 * H],
  );

  // The report that reads calls_by_month's REAL row: a 500 with the request id; the log line names the table.
  const failing = await request(worker.base, month, { key: admin });
  assert.equal(failing.status, 500);
  const id = failing.headers.get("x-request-id");
  assert.match(id, fx.REQUEST_ID);
  assert.deepEqual(failing.body, { success: false, message: `Internal server error (request id ${id})`, data: null });
  const line = await worker.logLineFor(id);
  assert.equal(line.status, 500);
  assert.match(line.error, /calls_by_month/);
  assert.match(line.error, /9\.22337203685478e\+18/);

  const check = await rollups("check");
  assert.equal(check.code, 1, check.stdout + check.stderr);
  assert.equal(check.stderr, "");
  const reported = lines(check.stdout);
  for (const expected of [
    'calls_by_day 2025-01-10T00:00:00.000Z bucket "+919876543210": changed: expected 2 calls, 12177000 ms; found 3 calls, 12177000 ms',
    'user_calls_by_hour 2025-01-10T08:00:00.000Z user "u-bob" bucket "+918765432109": missing: expected 1 call, 8100000 ms; found none',
    'calls_by_quarter 2025-01-10T20:00:00.000Z bucket "+1999": extra: expected none; found 1 call, 5000 ms',
    'calls_by_month 2025-01-01T00:00:00.000Z bucket "+919876543210": not an integer: expected 2 calls, 12177000 ms; found 2 calls, 9.22337203685478e+18 ms',
    'call_facts id "j1": differs: call user "u-jose" bucket "+14155550100" started 2025-01-10T09:00:00.000Z 90000 ms; ledger user "u-jose" bucket "+14155550100" started 2025-01-10T09:00:00.000Z 1000 ms',
    'call_facts id "ghost": extra (no call has this id): call none; ledger user "u-carol" bucket "+1999" started 2025-01-11T06:00:00.000Z 7000 ms',
    // The ghost's contribution, in each rollup its trigger wrote to.
    'calls_by_quarter 2025-01-11T06:00:00.000Z bucket "+1999": extra: expected none; found 1 call, 7000 ms',
    'user_calls_by_month 2025-01-01T00:00:00.000Z user "u-carol" bucket "+1999": extra: expected none; found 1 call, 7000 ms',
  ]) {
    assert.ok(reported.includes(expected), `${expected}\nin:\n${check.stdout}`);
  }
  // 4 rollup rows damaged, 2 ledger rows, the ghost in 8 rollups: nothing else.
  assert.equal(reported.length, 4 + 2 + 8 + 1, check.stdout);
  assert.match(reported.at(-1), /^rollups check: 14 differences \(call_facts 2, calls_by_quarter 2, calls_by_hour 1, calls_by_day 2, calls_by_month 2, user_calls_by_quarter 1, user_calls_by_hour 2, user_calls_by_day 1, user_calls_by_month 1\): 619 calls; .*`node scripts\/rollups\.mjs repair` rebuilds them$/);
  // A day at a time (the months with more than 10 calls), the same differences.
  const split = await rollups("check", "--split-above", "10");
  assert.equal(split.code, 1, split.stderr);
  assert.deepEqual(lines(split.stdout).slice(0, -1).sort(), reported.slice(0, -1).sort());

  // --show 1: one difference per table and range, and the number of the others.
  const few = await rollups("check", "--show", "1");
  assert.equal(few.code, 1, few.stderr);
  assert.ok(lines(few.stdout).includes("calls_by_quarter [2025-01-01T00:00:00.000Z, 2025-02-01T00:00:00.000Z): 1 more difference not shown"), few.stdout);
  const withoutCost = (summary) => summary.replace(/; local D1 .*$/, "");
  assert.equal(withoutCost(lines(few.stdout).at(-1)), withoutCost(reported.at(-1)));
  // The ledger in chunks of at most 50 ids of each table (619 calls, 620 ledger rows), through the library:
  // the same differences.
  const chunked = [];
  const summary = await withBindings({ persistTo: worker.state }, (env) => run(env.DB, { ledgerChunk: 50, onLine: (l) => chunked.push(l) }));
  assert.ok(summary.chunks >= 13, summary.chunks);
  assert.deepEqual(chunked.sort(), reported.slice(0, -1).sort());

  const repair = await rollups("repair");
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  assert.equal(repair.stderr, "");
  const fixed = lines(repair.stdout);
  const fix = (prefix) => fixed.find((l) => l.startsWith(prefix)) ?? assert.fail(`no line starting ${prefix} in:\n${repair.stdout}`);
  // The ledger first: the ghost deleted (its triggers take it out of the rollups), j1 deleted and recorded
  // again from its call.
  assert.equal(fixed[0], "call_facts: 2 differences: deleted 2 ledger rows, wrote 1 ledger row (their triggers moved those calls' contributions in the rollups)");
  // Then the rollups, range by range: the month of January for each table that still differs.
  const january = "[2025-01-01T00:00:00.000Z, 2025-02-01T00:00:00.000Z)";
  assert.match(fix(`calls_by_quarter ${january}`), /: 1 difference: deleted 1 row, wrote 0 rows$/); // the extra row
  // The changed day, and j1's day (its ledger repair subtracted 1 s and added 90 s to a row that held 90 s).
  assert.match(fix(`calls_by_day ${january}`), /: 2 differences: deleted 0 rows, wrote 2 rows$/);
  assert.match(fix(`calls_by_month ${january}`), /: 2 differences: deleted 0 rows, wrote 2 rows$/); // the REAL, j1's month
  // j1 is jose's only call: the ledger's repair alone made his rows right (its hour's row went to 0 calls and
  // was dropped, then written again). Bob's missing hour is written from the calls.
  assert.match(fix(`user_calls_by_hour ${january}`), /: 1 difference: deleted 0 rows, wrote 1 row$/);
  assert.ok(!fixed.some((l) => l.startsWith("user_calls_by_month")), repair.stdout);
  assert.match(fixed.at(-1), /^rollups repair: fixed \d+ differences \(call_facts 2, .*\) in \d+ transactions: deleted 3 rows and wrote \d+ rows /);

  const again = await rollups("check");
  assert.equal(again.code, 0, again.stdout);
  assert.equal(lines(again.stdout).length, 1);
  assert.match(again.stdout, /^rollups check: no differences: /);

  // The report that failed answers again, with January as worked out by hand (every DAY_RECORDS call but
  // c1, which is in 2020; the ghost's +1999 is gone):
  const january2025 = await request(worker.base, month, { key: admin });
  assert.equal(january2025.status, 200);
  assert.deepEqual(january2025.body.data, before.body.data);
  const row = (phone_number, total_calls, total_duration_minutes, total_duration_hours) => ({ phone_number, total_calls, total_duration_minutes, total_duration_hours });
  assert.deepEqual(january2025.body.data.phone_numbers, [
    row("+919876543210", 2, 202.95, 3.38), // a1 + a2: 12150 + 27 = 12177 s
    row("+918765432109", 3, 150.12, 2.5), // b5 + b6 + e-before: 8100 + 900 + 7 = 9007 s: 150.1167 min, 2.5019 h
    row("+14155550100", 3, 52.25, 0.87), // j1 + e-start + e-end: 90 + 45 + 3000 = 3135 s: 0.8708 h
    row("WEB_CALL", 2, 15, 0.25), // a3 + b1: 600 + 300 s
    row("UNKNOWN_PLATFORM", 3, 1.51, 0.03), // b2 + b3 + b4: 60 + 30.5 + 0 s: 1.5083 min, 0.0251 h
  ]);
  const day = await request(worker.base, `${ENDPOINT}?${fx.DAY_QUERY}`, { key: admin });
  assert.deepEqual(day.body.data.phone_numbers, fx.DAY);
});

test("after the repair the rollups answer as the raw aggregation, in several zones, with and without a series", async () => {
  const queries = [];
  for (const [start, end] of [["2025-01-01", "2025-01-31"], ["2025-01-09", "2025-01-11"], ["2024-11-01", "2025-02-28"], ["2024-11-15", "2024-12-10"]]) {
    for (const timezone of ["UTC", "Asia/Kolkata", "Asia/Kathmandu"]) {
      for (const interval of ["", "&interval=day"]) queries.push(`start_date=${start}&end_date=${end}&timezone=${timezone}${interval}`);
    }
  }
  queries.push("start_date=2025-01-10&end_date=2025-01-10&timezone=Asia/Kathmandu&interval=hour");
  queries.push("start_date=2025-01-01&end_date=2025-01-31&timezone=Asia/Kolkata&interval=day&user_email=bob@example.com");
  queries.push("start_date=2025-01-01&end_date=2025-01-31&timezone=Asia/Kolkata&user_email=jos%C3%A9@example.com");
  queries.push("start_date=2024-11-01&end_date=2024-12-31&timezone=Asia/Kathmandu&interval=day&user_email=gen1@example.com");
  for (const query of queries) {
    const fromRollups = await request(worker.base, `${ENDPOINT}?${query}`, { key: admin });
    const raw = await request(worker.base, `${ENDPOINT}?${query}&strategy=raw`, { key: admin });
    assert.equal(fromRollups.status, 200, `${query}: ${fromRollups.text}`);
    assert.equal(raw.status, 200, `${query}: ${raw.text}`);
    assert.deepEqual(fromRollups.body.data, raw.body.data, query);
    assert.ok(fromRollups.body.data.phone_numbers.length > 0, query);
  }
});

test("the repaired ledger keeps later writes exact: a change to j1 through the triggers moves its real contribution", async () => {
  await sql(["UPDATE calls SET duration_seconds = 120 WHERE id = 'j1'"]);
  const check = await rollups("check");
  assert.equal(check.code, 0, check.stdout);
  const query = `${ENDPOINT}?start_date=2025-01-01&end_date=2025-01-31&timezone=Asia/Kolkata&interval=day`;
  const fromRollups = await request(worker.base, query, { key: admin });
  const raw = await request(worker.base, `${query}&strategy=raw`, { key: admin });
  assert.deepEqual(fromRollups.body.data, raw.body.data);
  const utc = await request(worker.base, `${ENDPOINT}?start_date=2025-01-01&end_date=2025-01-31`, { key: admin });
  // 120 + 45 + 3000 = 3165 s: 52.75 min, 0.879 h.
  assert.deepEqual(utc.body.data.phone_numbers.find((r) => r.phone_number === "+14155550100"), {
    phone_number: "+14155550100",
    total_calls: 3,
    total_duration_minutes: 52.75,
    total_duration_hours: 0.88,
  });
});
