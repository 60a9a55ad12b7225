// Upgrading a database that already holds calls: 0002 (rollups) and 0004 (quarter-hour rollups) must
// backfill them, applied with `wrangler d1 migrations apply` as a user would, and the worker must then answer
// from the rollups; 0003, then 0005 (the record rule), guard `calls` against writes the rollups could not account for.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { withBindings } from "../../scripts/lib/bindings.mjs";
import * as fx from "./fixtures.mjs";
import { createKeys, ENDPOINT, load, migrate, newStateDir, request, startWorker } from "../../scripts/lib/local-worker.mjs";

let worker;
let keys;
const MIGRATIONS = ["0001_users_and_calls.sql", "0002_rollups.sql", "0003_calls_guard.sql", "0004_quarter_hour_rollups.sql", "0005_record_rule.sql"];

/** Applies the first `count` migrations to `state` (the same local database each time, as it grows). */
const upTo = (state, count) => migrate(state, { files: MIGRATIONS.slice(0, count) });

before(async () => {
  const state = await newStateDir();
  await upTo(state, 1);
  await load(state, [...fx.DAY_RECORDS, ...fx.TIE_RECORDS]);
  const tables = await withBindings({ persistTo: state }, async (env) =>
    (await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%calls_by%'").all()).results,
  );
  assert.deepEqual(tables, [], "no rollups before 0002");

  const output = await upTo(state, 2);
  assert.match(output, /0002_rollups\.sql\s*│\s*✅/);
  assert.match(await upTo(state, 3), /0003_calls_guard\.sql\s*│\s*✅/);
  assert.match(await upTo(state, 4), /0004_quarter_hour_rollups\.sql\s*│\s*✅/);
  assert.match(await upTo(state, 5), /0005_record_rule\.sql\s*│\s*✅/);
  keys = await createKeys(state, { admin: { role: "super_admin" } });
  worker = await startWorker(state, { vars: { DIAGNOSTICS: "on" } });
});

after(() => worker?.stop());

test("0002 to 0005 create every trigger whole", async () => {
  const triggers = await withBindings({ persistTo: worker.state }, async (env) =>
    (await env.DB.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all()).results,
  );
  assert.deepEqual(triggers.map((t) => t.name), [
    "call_facts_added",
    "call_facts_removed",
    "calls_deleted",
    "calls_guard_insert",
    "calls_guard_update",
    "calls_inserted",
    "calls_updated",
    "users_guard_insert",
    "users_guard_update",
  ]);
  for (const { name, sql } of triggers) assert.match(sql, /\bEND$/, `${name} ends with its END`);
  const added = triggers.find((t) => t.name === "call_facts_added").sql;
  for (const table of ["calls_by_quarter", "calls_by_hour", "calls_by_day", "calls_by_month", "user_calls_by_quarter", "user_calls_by_hour", "user_calls_by_day", "user_calls_by_month"]) {
    assert.match(added, new RegExp(`INSERT INTO ${table} VALUES`), table);
  }
});

test("0004 files the calls that were there into quarter-hours, and local days read from them", async () => {
  const quarter = "started_at - ((started_at % 900000) + 900000) % 900000";
  const [direct, quarters, perUser, userQuarters] = await withBindings({ persistTo: worker.state }, async (env) => [
    (await env.DB.prepare(`SELECT ${quarter} AS q, bucket, COUNT(*) AS n, SUM(duration_ms) AS ms FROM calls GROUP BY 1, 2 ORDER BY 1, 2`).all()).results,
    (await env.DB.prepare("SELECT period_start AS q, bucket, calls AS n, duration_ms AS ms FROM calls_by_quarter ORDER BY 1, 2").all()).results,
    (await env.DB.prepare(`SELECT user_id AS u, ${quarter} AS q, bucket, COUNT(*) AS n, SUM(duration_ms) AS ms FROM calls GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`).all()).results,
    (await env.DB.prepare("SELECT user_id AS u, period_start AS q, bucket, calls AS n, duration_ms AS ms FROM user_calls_by_quarter ORDER BY 1, 2, 3").all()).results,
  ]);
  assert.ok(direct.length > 10);
  assert.deepEqual(quarters, direct);
  assert.deepEqual(userQuarters, perUser);
  // 2025-01-10 in Kathmandu (+05:45) starts and ends on quarter-hours: its plan reads rollups only (src/report/plan.rs
  // tests), which agree with the raw query.
  const query = `${ENDPOINT}?start_date=2025-01-10&end_date=2025-01-10&timezone=Asia/Kathmandu&interval=hour`;
  const rollups = await request(worker.base, query, { key: keys.admin.key });
  const raw = await request(worker.base, `${query}&strategy=raw`, { key: keys.admin.key });
  assert.equal(rollups.status, 200);
  assert.deepEqual(rollups.body.data, raw.body.data);
  assert.equal(rollups.body.data.phone_numbers[0].series.length, 24);
  // And per user, from user_calls_by_quarter.
  const alice = `${query}&user_email=alice@example.com`;
  const aliceRollups = await request(worker.base, alice, { key: keys.admin.key });
  const aliceRaw = await request(worker.base, `${alice}&strategy=raw`, { key: keys.admin.key });
  assert.deepEqual(aliceRollups.body.data, aliceRaw.body.data);
  assert.ok(aliceRollups.body.data.phone_numbers.length > 0);
});

test("calls that were there before 0002 are in the rollups", async () => {
  for (const [query, rows] of [
    ["start_date=2025-01-10&end_date=2025-01-10", fx.DAY],
    ["start_date=2025-01-10&end_date=2025-01-11", fx.DAY_AND_NEXT],
    ["start_date=2025-01-10T00:00:00.001Z&end_date=2025-01-11T00:00:00Z", fx.DAY_WITHOUT_START],
    ["start_date=2025-01-09T23:59:59.999Z&end_date=2025-01-11T00:00:00Z", fx.DAY_WITH_BEFORE],
    ["start_date=2025-01-10&end_date=2025-01-10&user_email=alice@example.com", fx.DAY_ALICE],
    ["start_date=2025-02-01&end_date=2025-02-01", fx.TIES],
  ]) {
    for (const strategy of ["rollups", "raw"]) {
      const { status, body } = await request(worker.base, `${ENDPOINT}?${query}&strategy=${strategy}`, { key: keys.admin.key });
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(body.data.phone_numbers, rows, `${strategy}: ?${query}`);
    }
  }
  // Over the whole year the month rollups answer, and agree with the raw query.
  const year = "start_date=2025-01-01&end_date=2025-12-31";
  const rollups = await request(worker.base, `${ENDPOINT}?${year}`, { key: keys.admin.key });
  const raw = await request(worker.base, `${ENDPOINT}?${year}&strategy=raw`, { key: keys.admin.key });
  assert.deepEqual(rollups.body.data, raw.body.data);
  assert.equal(rollups.body.data.phone_numbers.reduce((n, r) => n + r.total_calls, 0), fx.DAY_RECORDS.length - 1 + fx.TIE_RECORDS.length);
});

test("writes the rollups could not account for are refused, and change nothing", async () => {
  const year = `${ENDPOINT}?start_date=2025-01-01&end_date=2025-12-31`;
  const before = (await request(worker.base, year, { key: keys.admin.key })).body.data;
  const insert = "INSERT INTO calls (id, user_id, platform, platform_number, started_at, duration_seconds) VALUES (?, 'u-alice', 'sip', '+15550001111', ?, ?)";
  const start = Date.UTC(2025, 0, 10, 12);
  const refusals = await withBindings({ persistTo: worker.state }, async (env) => {
    const attempt = (sql, ...values) =>
      env.DB.prepare(sql).bind(...values).run().then(() => "accepted", (error) => String(error.message));
    return {
      nullId: await attempt(insert, null, start, 60),
      isoStart: await attempt(insert, "guard-1", "2025-01-10T12:00:00Z", 60),
      fractionalStart: await attempt(insert, "guard-2", start + 0.5, 60),
      textDuration: await attempt(insert, "guard-3", start, "abc"),
      updateStart: await attempt("UPDATE calls SET started_at = '2025-01-10' WHERE id = ?", fx.DAY_RECORDS[0].id),
      updateDuration: await attempt("UPDATE calls SET duration_seconds = 'long' WHERE id = ?", fx.DAY_RECORDS[0].id),
      // What the contract allows still works: numeric text is converted by the columns' affinity.
      numericText: await attempt(insert, "guard-4", String(start), "60"),
    };
  });
  // 0005's guard (the record rule) replaced 0003's and kept what it refused (tests/e2e/guard.test.mjs: the rest).
  assert.match(refusals.nullId, /calls\.id must be 1 to 256 characters without surrounding whitespace/);
  assert.match(refusals.isoStart, /calls\.started_at must be an integer of epoch milliseconds from 2000-01-01T00:00:00Z/);
  assert.match(refusals.fractionalStart, /calls\.started_at must be an integer/);
  assert.match(refusals.textDuration, /calls\.duration_seconds must be a number from 0 to one week/);
  assert.match(refusals.updateStart, /calls\.started_at must be an integer/);
  assert.match(refusals.updateDuration, /calls\.duration_seconds must be a number from 0 to one week/);
  assert.equal(refusals.numericText, "accepted");

  // Only the accepted call was added (+1 call, +1 minute on its number), in the rollups and in the raw query.
  const after = (await request(worker.base, year, { key: keys.admin.key })).body.data;
  const raw = (await request(worker.base, `${year}&strategy=raw`, { key: keys.admin.key })).body.data;
  assert.deepEqual(after, raw);
  const row = (data) => data.phone_numbers.find((r) => r.phone_number === "+15550001111") ?? { total_calls: 0, total_duration_minutes: 0 };
  assert.equal(row(after).total_calls, row(before).total_calls + 1);
  assert.equal(Math.round((row(after).total_duration_minutes - row(before).total_duration_minutes) * 100), 100);
  const others = (data) => data.phone_numbers.filter((r) => r.phone_number !== "+15550001111");
  assert.deepEqual(others(after), others(before));
});
