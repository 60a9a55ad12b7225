// scripts/load.mjs against real local D1: idempotent reloads, bad lines, atomic batches, CSV and NDJSON.
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, withBindings } from "../../scripts/lib/bindings.mjs";
import { ENDPOINT, migrate, newStateDir, request, runExit, startLocalWorker } from "../../scripts/lib/local-worker.mjs";

let state;
before(async () => {
  state = await newStateDir();
  await migrate(state);
});
after(() => rm(state, { recursive: true, force: true }));

const load = (file, ...args) => runExit("node", [join(ROOT, "scripts", "load.mjs"), file, "--persist-to", state, ...args]);
const sql = (query, ...params) =>
  withBindings({ persistTo: state }, async (env) => (await env.DB.prepare(query).bind(...params).all()).results);
const count = async (where = "1") => (await sql(`SELECT COUNT(*) AS n FROM calls WHERE ${where}`))[0].n;
async function file(name, lines) {
  const path = join(state, name);
  await writeFile(path, lines.join("\n") + "\n");
  return path;
}

test("a CSV file loads once; loading it again writes nothing", async () => {
  const csv = await file("calls.csv", [
    "id,user_id,user_email,platform,platform_number,started_at,duration_seconds",
    'csv-1,u-a,a@example.com,sip,"+1 555, ext ""9""",2026-01-01T00:00:00Z,60',
    "csv-2,u-a,a@example.com,web,,1767225600000,1.5",
    "",
    "csv-3,u-b,b@example.com,pstn,   ,2026-01-01T05:30:00+05:30,0",
  ]);
  const first = await load(csv);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /3 records in 1 batch\(es\).*: 3 written, 0 already up to date/);
  const rows = await sql("SELECT id, platform_number, started_at, duration_seconds, bucket FROM calls ORDER BY id");
  assert.deepEqual(rows, [
    { id: "csv-1", platform_number: '+1 555, ext "9"', started_at: 1767225600000, duration_seconds: 60, bucket: '+1 555, ext "9"' },
    { id: "csv-2", platform_number: null, started_at: 1767225600000, duration_seconds: 1.5, bucket: "WEB_CALL" },
    { id: "csv-3", platform_number: "   ", started_at: 1767225600000, duration_seconds: 0, bucket: "UNKNOWN_PLATFORM" },
  ]);
  const facts = await sql("SELECT COUNT(*) AS n, SUM(calls) AS calls FROM calls_by_day");
  const again = await load(csv);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /: 0 written, 3 already up to date/);
  assert.deepEqual(await sql("SELECT id, platform_number, started_at, duration_seconds, bucket FROM calls ORDER BY id"), rows);
  assert.deepEqual(await sql("SELECT COUNT(*) AS n, SUM(calls) AS calls FROM calls_by_day"), facts);
  // The file's two users, beside the one every database has for calls without an owner (migrations/0005).
  assert.deepEqual(await sql("SELECT id, email FROM users ORDER BY id"), [
    { id: "(no owner)", email: "(no owner)" },
    { id: "u-a", email: "a@example.com" },
    { id: "u-b", email: "b@example.com" },
  ]);
});

test("a changed record updates its call, and the rollups follow", async () => {
  const ndjson = await file("update.ndjson", [
    JSON.stringify({ id: "csv-2", user_id: "u-a", platform: "sip", platform_number: "+2", started_at: 1767225600000, duration_seconds: 30 }),
  ]);
  const result = await load(ndjson);
  assert.match(result.stderr, /1 written, 0 already up to date/);
  assert.deepEqual(await sql("SELECT bucket, calls, duration_ms FROM calls_by_day ORDER BY bucket"), [
    { bucket: '+1 555, ext "9"', calls: 1, duration_ms: 60000 },
    { bucket: "+2", calls: 1, duration_ms: 30000 },
    { bucket: "UNKNOWN_PLATFORM", calls: 1, duration_ms: 0 },
  ]);
});

test("bad lines are reported with their numbers and reasons, and nothing is loaded", async () => {
  const before = await count();
  const start = Date.UTC(2026, 0, 1);
  const bad = await file("bad.ndjson", [
    JSON.stringify({ id: "ok-1", user_id: "u-a", user_email: "a@example.com", platform: "sip", started_at: start + 1 }),
    "{not json",
    JSON.stringify({ id: "ok-2", user_id: "u-a", platform: "sip", started_at: start + 2, duration_seconds: -5 }),
    JSON.stringify({ id: "ok-1", user_id: "u-a", platform: "sip", started_at: start + 3 }),
    JSON.stringify({ id: "ok-3", user_id: "u-b", user_email: "a@example.com", platform: "sip", started_at: start + 4 }),
    JSON.stringify({ id: "ok-4", user_id: "u-a", platform: "sip", started_at: "yesterday" }),
    // The record rule (tests/vectors/call-records.json has them all): each would have reached D1 before.
    JSON.stringify({ id: "rule-1", user_id: "u-a", platform: "sip", started_at: start, duration_seconds: 1e300 }),
    JSON.stringify({ id: "rule-2", user_id: "u-a", platform: "sip", started_at: start, duration_seconds: 8 * 86400 }),
    JSON.stringify({ id: "rule-3", user_id: "u-a", platform: "sip", started_at: Date.UTC(1999, 5, 1) }),
    JSON.stringify({ id: "rule-4", user_id: "u-a", platform: "sip", started_at: Date.UTC(10000, 0, 1) }),
    JSON.stringify({ id: "", user_id: "u-a", platform: "sip", started_at: start }),
    JSON.stringify({ id: " c1", user_id: "u-a", platform: "sip", started_at: start }),
    JSON.stringify({ id: "rule-7", user_id: "u-a ", platform: "sip", started_at: start }),
  ]);
  const result = await load(bad);
  assert.equal(result.code, 1);
  const reported = result.stderr.split("\n").filter((l) => l.startsWith(bad)).map((l) => l.slice(bad.length));
  assert.match(reported[0], /^:2: not JSON: /);
  assert.deepEqual(reported.slice(1), [
    ":3: duration_seconds must be from 0 to one week (604,800 seconds)",
    ':4: call id "ok-1" already on line 1',
    ':5: user_email belongs to user "u-a" earlier in the file',
    ":6: started_at must be epoch milliseconds or an RFC 3339 datetime with Z or an offset",
    ":7: duration_seconds must be from 0 to one week (604,800 seconds)",
    ":8: duration_seconds must be from 0 to one week (604,800 seconds)",
    ":9: started_at must be an instant from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z",
    ":10: started_at must be an instant from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z",
    ":11: id is required",
    ":12: id must be 1 to 256 characters without surrounding whitespace",
    ":13: user_id must be 1 to 256 characters without surrounding whitespace",
  ]);
  assert.match(result.stderr, /12 bad line\(s\); nothing was loaded \(--skip-invalid loads the good ones\)/);
  assert.equal(await count(), before);

  const skipping = await load(bad, "--skip-invalid");
  assert.equal(skipping.code, 0, skipping.stderr);
  assert.match(skipping.stderr, /1 records in 1 batch\(es\).*1 written.*12 bad line\(s\) skipped/);
  assert.equal(await count("id LIKE 'ok-%'"), 1);
});

test("a bad CSV header stops the load at line 1", async () => {
  const result = await load(await file("header.csv", ["id,user,platform,started_at", "a,b,c,1767225600000"]));
  assert.equal(result.code, 1);
  assert.match(result.stderr, /header\.csv:1: bad CSV header: unknown column\(s\) user/);
  assert.match(result.stderr, /nothing was loaded/);
});

test("before the first batch, D1 is asked what the file cannot know; a disagreement refuses the file whole", async () => {
  const start = Date.UTC(2026, 2, 1);
  const call = (i, user) => ({ id: `db-${i}`, platform: "sip", platform_number: "+9", started_at: start + i, duration_seconds: i, ...user });
  // u-a holds a@example.com in D1 (the first test loaded it); u-nobody is in neither D1 nor the file's emails.
  const lines = [
    call(1, { user_id: "u-b2", user_email: "b2@example.com" }),
    call(2, { user_id: "u-taker", user_email: "A@Example.com" }),
    call(3, { user_id: "u-a" }),
    call(4, { user_id: "u-nobody" }),
    call(5, { user_id: "u-later" }),
    call(6, { user_id: "u-later", user_email: "later@example.com" }),
  ].map((r) => JSON.stringify(r));
  const path = await file("db.ndjson", lines);
  const result = await load(path, "--batch-rows", "1");
  assert.equal(result.code, 1);
  const reported = result.stderr.split("\n").filter((l) => l.startsWith(path)).map((l) => l.slice(path.length));
  assert.deepEqual(reported, [
    ':2: user_email belongs to user "u-a" in D1',
    ':4: user "u-nobody" is not in D1, and the file gives no user_email for it',
  ]);
  assert.match(result.stderr, /load: 2 line\(s\) disagree with D1; nothing was loaded/);
  assert.equal(await count("id LIKE 'db-%'"), 0, "not even the first batch");
  // --skip-invalid skips bad lines, never disagreements with D1.
  assert.equal((await load(path, "--skip-invalid")).code, 1);
  assert.equal(await count("id LIKE 'db-%'"), 0);

  lines[1] = JSON.stringify(call(2, { user_id: "u-taker", user_email: "taker@example.com" }));
  lines[3] = JSON.stringify(call(4, { user_id: "u-nobody", user_email: "nobody@example.com" }));
  const fixed = await load(await file("db.ndjson", lines), "--batch-rows", "2");
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.match(fixed.stderr, /6 records in 3 batch\(es\).*6 written, 0 already up to date/);
  assert.deepEqual(await sql("SELECT calls, duration_ms FROM calls_by_month WHERE bucket = '+9' AND period_start = ?1", start), [{ calls: 6, duration_ms: 21000 }]);
});

test("a batch D1 refuses all the same is rolled back whole; earlier batches stay; loading again completes", async () => {
  // The file's own checks and D1's agree on everything here; D1's guard refuses one line anyway (as a
  // database changed by another writer between the check and the load would).
  const start = Date.UTC(2026, 3, 1);
  const lines = [1, 2, 3, 4, 5, 6].map((i) =>
    JSON.stringify({ id: `fk-${i}`, user_id: "u-a", platform: "sip", platform_number: "+8", started_at: start + i, duration_seconds: i }),
  );
  const path = await file("fk.ndjson", lines);
  await sql("CREATE TRIGGER refuse_fk_4 BEFORE INSERT ON calls WHEN NEW.id = 'fk-4' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END");
  const result = await load(path, "--batch-rows", "2");
  assert.equal(result.code, 1);
  assert.match(result.stderr, /lines 3-4: D1 refused the batch \(.*refused for the test.*\); it was rolled back, 2 records before it are loaded, and loading the file again is safe/);
  assert.deepEqual((await sql("SELECT id FROM calls WHERE id LIKE 'fk-%' ORDER BY id")).map((r) => r.id), ["fk-1", "fk-2"]);
  assert.deepEqual(await sql("SELECT calls FROM calls_by_hour WHERE bucket = '+8'"), [{ calls: 2 }], "rollups hold no trace of the refused batch");

  await sql("DROP TRIGGER refuse_fk_4");
  const again = await load(path, "--batch-rows", "2");
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /6 records in 3 batch\(es\).*4 written, 2 already up to date/);
  assert.deepEqual(await sql("SELECT calls, duration_ms FROM calls_by_hour WHERE bucket = '+8'"), [{ calls: 6, duration_ms: 21000 }]);
});

test("long loads report progress", async () => {
  const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: `p-${i}`, user_id: "u-a", platform: "pstn", started_at: Date.UTC(2026, 4, 1) + i * 1000 }));
  const result = await load(await file("progress.ndjson", lines), "--batch-rows", "500");
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^loaded 3,000 \/ 3,000 records \(100%\), [\d,]+ records\/s$/m);
  assert.match(result.stderr, /3000 records in 6 batch\(es\)/);
  assert.equal(await count("id LIKE 'p-%'"), 3000);
});

test("every email the loader accepts finds its user at the endpoint", async () => {
  const vectors = JSON.parse(await readFile(join(ROOT, "tests", "vectors", "user-emails.json"), "utf8"));
  // One user per address (users.email is unique case-insensitively for ASCII letters), each with one call.
  const users = new Map();
  for (const { input, email } of vectors.accepted) {
    const key = email.replace(/[A-Z]/g, (c) => c.toLowerCase());
    if (!users.has(key)) users.set(key, { input, email, id: `vector-${users.size}` });
  }
  const records = [...users.values()].map((user, i) => ({
    id: `vector-call-${i}`,
    user_id: user.id,
    user_email: user.input, // as another service would hand it over: untrimmed, odd spaces and all
    platform: "sip",
    platform_number: `+1555000${String(i).padStart(4, "0")}`,
    started_at: Date.UTC(2025, 0, 1) + i,
    duration_seconds: 60,
  }));
  const worker = await startLocalWorker({ records, keys: { admin: { role: "super_admin" } } });
  try {
    for (const { input, email } of vectors.accepted) {
      const user = users.get(email.replace(/[A-Z]/g, (c) => c.toLowerCase()));
      const query = `start_date=2025-01-01&end_date=2025-01-01&user_email=${encodeURIComponent(input)}`;
      const { status, body } = await request(worker.base, `${ENDPOINT}?${query}`, { key: worker.keys.admin.key });
      assert.equal(status, 200, `${JSON.stringify(input)}: ${JSON.stringify(body)}`);
      assert.equal(body.data.user_email, email);
      const index = [...users.values()].indexOf(user);
      assert.deepEqual(body.data.phone_numbers.map((r) => [r.phone_number, r.total_calls]), [[`+1555000${String(index).padStart(4, "0")}`, 1]], JSON.stringify(input));
    }
  } finally {
    await worker.stop();
  }
});
