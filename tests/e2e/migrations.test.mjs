// Upgrading a database that already holds calls: 0002 (rollups) must backfill them, applied with
// `wrangler d1 migrations apply` as a user would, and the worker must then answer from the rollups.
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, withBindings } from "../../scripts/lib/bindings.mjs";
import * as fx from "./fixtures.mjs";
import { createKeys, ENDPOINT, load, newStateDir, request, run, startWorker } from "./harness.mjs";

let worker;
let keys;
let project;

/** Applies the migrations present in the temporary project's migrations/ to `state`. */
const apply = (state) =>
  run(join(ROOT, "node_modules", ".bin", "wrangler"), ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state, "--config", join(project, "wrangler.toml")]);

before(async () => {
  const state = await newStateDir();
  // The same configuration (so the same local database), with a migrations folder that grows.
  project = await mkdtemp(join(tmpdir(), "call-analytics-migrations-"));
  await mkdir(join(project, "migrations"));
  await writeFile(join(project, "wrangler.toml"), await readFile(join(ROOT, "wrangler.toml"), "utf8"));
  await copyFile(join(ROOT, "migrations", "0001_users_and_calls.sql"), join(project, "migrations", "0001_users_and_calls.sql"));
  await apply(state);
  await load(state, [...fx.DAY_RECORDS, ...fx.TIE_RECORDS]);
  const tables = await withBindings({ persistTo: state }, async (env) =>
    (await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%calls_by%'").all()).results,
  );
  assert.deepEqual(tables, [], "no rollups before 0002");

  await copyFile(join(ROOT, "migrations", "0002_rollups.sql"), join(project, "migrations", "0002_rollups.sql"));
  const output = await apply(state);
  assert.match(output, /0002_rollups\.sql\s*│\s*✅/);
  keys = await createKeys(state, { admin: { role: "super_admin" } });
  worker = await startWorker(state, { vars: { DIAGNOSTICS: "on" } });
});

after(async () => {
  await worker?.stop();
  await rm(project, { recursive: true, force: true });
});

test("0002 creates every trigger whole", async () => {
  const triggers = await withBindings({ persistTo: worker.state }, async (env) =>
    (await env.DB.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all()).results,
  );
  assert.deepEqual(triggers.map((t) => t.name), ["call_facts_added", "call_facts_removed", "calls_deleted", "calls_inserted", "calls_updated"]);
  for (const { name, sql } of triggers) assert.match(sql, /\bEND$/, `${name} ends with its END`);
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
