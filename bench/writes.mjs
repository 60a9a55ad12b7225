#!/usr/bin/env node
// What a write costs in D1: rows written per inserted, updated and deleted call (from D1's result metadata,
// which counts the rollup rows the triggers write and index entries), and storage bytes per call. On a fresh
// local D1 with the migrations applied (all of them, or those before --before N, to measure an earlier
// schema). Not part of the test run.
//
//   node bench/writes.mjs [--calls 2000] [--stored 100000] [--before 0004]
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { withBindings, ROOT } from "../scripts/lib/bindings.mjs";
import { loadDataset, log, machine } from "./lib.mjs";
import { migrate, newStateDir } from "../scripts/lib/local-worker.mjs";

const { values } = parseArgs({
  options: { calls: { type: "string", default: "2000" }, stored: { type: "string", default: "100000" }, before: { type: "string" } },
});
const CALLS = Number(values.calls);
const STORED = Number(values.stored);

/** The migrations to apply: all of migrations/, or those numbered below `--before`. */
async function migrationFiles() {
  const files = (await readdir(join(ROOT, "migrations"))).filter((f) => f.endsWith(".sql") && (!values.before || f < values.before));
  return files.sort();
}

const state = await newStateDir();
try {
  const files = await migrationFiles();
  await migrate(state, { files });
  log(`migrations: ${files.join(", ")}`);
  const H = 3_600_000;
  const base = Date.UTC(2026, 0, 5, 3, 7);
  const results = await withBindings({ persistTo: state }, async ({ DB }) => {
    await DB.prepare("INSERT INTO users (id, email) VALUES ('w-u1', 'w1@example.com'), ('w-u2', 'w2@example.com')").run();
    const written = async (statements) => {
      let total = 0;
      for (const statement of statements) total += (await statement.run()).meta.rows_written;
      return total / statements.length;
    };
    const ids = Array.from({ length: CALLS }, (_, i) => `w-${i}`);
    const insert = await written(
      ids.map((id, i) =>
        DB.prepare("INSERT INTO calls (id, user_id, platform, platform_number, started_at, duration_seconds) VALUES (?1, ?2, 'sip', ?3, ?4, ?5)").bind(
          id, i % 2 ? "w-u1" : "w-u2", `+1555${i % 40}`, base + i * 97_000, 30 + (i % 600)),
      ),
    );
    const duration = await written(ids.map((id) => DB.prepare("UPDATE calls SET duration_seconds = duration_seconds + 1 WHERE id = ?1").bind(id)));
    const moved = await written(ids.map((id) => DB.prepare("UPDATE calls SET started_at = started_at + ?2 WHERE id = ?1").bind(id, 5 * 24 * H)));
    const deleted = await written(ids.map((id) => DB.prepare("DELETE FROM calls WHERE id = ?1").bind(id)));
    const size = async () => (await DB.prepare("SELECT 1").run()).meta.size_after;
    return { insert, duration, moved, deleted, emptySize: await size() };
  });
  log(`loading ${STORED.toLocaleString("en")} benchmark calls for the storage figure`);
  await loadDataset(state, STORED);
  const bytes = await withBindings({ persistTo: state }, async ({ DB }) => (await DB.prepare("SELECT 1").run()).meta.size_after);
  const perCall = (bytes - results.emptySize) / STORED;
  console.log(`schema: ${files.join(", ")}`);
  console.log(`rows written per call, mean of ${CALLS.toLocaleString("en")} single-row statements:`);
  console.log(`  insert: ${results.insert.toFixed(2)}`);
  console.log(`  update of duration_seconds: ${results.duration.toFixed(2)}`);
  console.log(`  update of started_at (moves it 5 days): ${results.moved.toFixed(2)}`);
  console.log(`  delete: ${results.deleted.toFixed(2)}`);
  console.log(`storage: ${(bytes / 2 ** 20).toFixed(1)} MiB for ${STORED.toLocaleString("en")} calls (bench/data.mjs), ${perCall.toFixed(0)} bytes per call`);
  console.log(`machine: ${machine()}`);
} finally {
  await rm(state, { recursive: true, force: true });
}
