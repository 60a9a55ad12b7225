// The database's guard (migrations/0005) against the shared record-rule vectors, written straight into real
// local D1 (as `wrangler d1 execute` or another worker would, bypassing the loader): every accepted record is
// written; every refused one fails with a message naming its column, writes nothing, and leaves every rollup
// as it was. Updates are guarded the same way.
import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT, withBindings } from "../../scripts/lib/bindings.mjs";
import { migrate, newStateDir } from "../../scripts/lib/local-worker.mjs";

const vectors = JSON.parse(await readFile(join(ROOT, "tests", "vectors", "call-records.json"), "utf8"));
const emails = JSON.parse(await readFile(join(ROOT, "tests", "vectors", "user-emails.json"), "utf8"));
/** The column the guard names for each field of the vectors (a user's id is refused as its users row). */
const COLUMN = {
  id: "calls.id",
  user_id: "users.id",
  user_email: "users.email",
  platform: "calls.platform",
  platform_number: "calls.platform_number",
  started_at: "calls.started_at",
  duration_seconds: "calls.duration_seconds",
};
const ROLLUPS = ["call_facts", ...["quarter", "hour", "day", "month"].flatMap((p) => [`calls_by_${p}`, `user_calls_by_${p}`])];

let state;
before(async () => {
  state = await newStateDir();
  await migrate(state);
});
after(() => rm(state, { recursive: true, force: true }));

const db = (fn) => withBindings({ persistTo: state }, (env) => fn(env.DB));
const insertUser = (d1, id, email) => d1.prepare("INSERT INTO users (id, email) VALUES (?1, ?2)").bind(id, email);
const insertCall = (d1, r) =>
  d1
    .prepare("INSERT INTO calls (id, user_id, platform, platform_number, started_at, duration_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
    .bind(r.id, r.user_id, r.platform, r.platform_number, r.started_at, r.duration_seconds);
/** Every row of every rollup and of the ledger, as one comparable text. */
const snapshot = (d1) =>
  Promise.all(ROLLUPS.map(async (table) => JSON.stringify((await d1.prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3`).all()).results))).then((all) =>
    all.join("\n"),
  );
/** Writes a record as one batch (its user, if it has an email, then the call); the error's message, or null. */
async function write(d1, record) {
  const statements = record.user_email === null ? [] : [insertUser(d1, record.user_id, record.user_email)];
  statements.push(insertCall(d1, record));
  try {
    await d1.batch(statements);
    return null;
  } catch (error) {
    return `${error.message} ${error.cause?.message ?? ""}`;
  }
}

test("the guard writes every accepted record of the shared vectors", async () => {
  await db(async (d1) => {
    // Records without an email belong to a user that exists.
    await insertUser(d1, vectors.base.user_id, "existing@example.com").run();
    for (const [i, { name, record }] of vectors.accepted.entries()) {
      const distinct = { ...record, id: record.id === vectors.base.id ? `accepted-${i}` : record.id, user_id: record.user_email === null ? vectors.base.user_id : record.user_id === vectors.base.user_id ? `user-${i}` : record.user_id };
      const email = record.user_email === null ? null : record.user_email === vectors.base.user_email ? `user-${i}@example.com` : record.user_email;
      assert.equal(await write(d1, { ...distinct, user_email: email }), null, name);
      const stored = (await d1.prepare("SELECT id, started_at, duration_seconds FROM calls WHERE id = ?1").bind(distinct.id).all()).results;
      assert.deepEqual(stored, [{ id: distinct.id, started_at: record.started_at, duration_seconds: record.duration_seconds }], name);
    }
  });
});

test("the guard refuses every refused record, naming its column, and nothing changes", async () => {
  await db(async (d1) => {
    for (const [i, { name, record, field }] of vectors.refused.entries()) {
      const before = await snapshot(d1);
      const counts = (await d1.prepare("SELECT (SELECT COUNT(*) FROM calls) AS calls, (SELECT COUNT(*) FROM users) AS users").all()).results[0];
      // Where the vector keeps the base's ids and email, ones of its own, so that only its own fault can refuse it.
      const own = (value, base, mine) => (value === base ? mine : value);
      const error = await write(d1, {
        ...record,
        id: own(record.id, vectors.base.id, `refused-${i}`),
        user_id: own(record.user_id, vectors.base.user_id, `refused-user-${i}`),
        user_email: own(record.user_email, vectors.base.user_email, `refused-${i}@example.com`),
      });
      assert.ok(error?.includes(`${COLUMN[field]} must be`), `${name}: ${error}`);
      assert.deepEqual((await d1.prepare("SELECT (SELECT COUNT(*) FROM calls) AS calls, (SELECT COUNT(*) FROM users) AS users").all()).results[0], counts, name);
      assert.equal(await snapshot(d1), before, `${name}: the rollups are as they were`);
    }
  });
});

test("an update that breaks the rule is refused too, and the call and its rollups stay as they were", async () => {
  await db(async (d1) => {
    await insertUser(d1, "u-upd", "upd@example.com").run();
    await insertCall(d1, { id: "upd-1", user_id: "u-upd", platform: "sip", platform_number: "+91", started_at: Date.UTC(2026, 0, 1), duration_seconds: 60 }).run();
    const before = await snapshot(d1);
    for (const [set, column] of [
      ["duration_seconds = 1e300", "calls.duration_seconds"],
      ["duration_seconds = -1", "calls.duration_seconds"],
      ["duration_seconds = 691200", "calls.duration_seconds"],
      ["started_at = 936144000000", "calls.started_at"],
      ["started_at = 253402300800000", "calls.started_at"],
      ["started_at = '2026-01-01T00:00:00Z'", "calls.started_at"],
      ["id = ''", "calls.id"],
      ["id = ' upd-1'", "calls.id"],
      ["platform_number = '+' || printf('%065d', 0)", "calls.platform_number"],
    ]) {
      await assert.rejects(d1.prepare(`UPDATE calls SET ${set} WHERE id = 'upd-1'`).run(), (e) => `${e.message} ${e.cause?.message ?? ""}`.includes(`${column} must be`), set);
      assert.equal(await snapshot(d1), before, set);
    }
    await assert.rejects(d1.prepare("UPDATE users SET email = 'not an email' WHERE id = 'u-upd'").run(), /users\.email must be/);
    assert.deepEqual((await d1.prepare("SELECT duration_seconds, started_at FROM calls WHERE id = 'upd-1'").all()).results, [{ duration_seconds: 60, started_at: Date.UTC(2026, 0, 1) }]);
  });
});

test("the guard's email rule is the endpoint's (tests/vectors/user-emails.json)", async () => {
  await db(async (d1) => {
    for (const [i, { email }] of emails.accepted.entries()) {
      await d1.batch([insertUser(d1, `e-${i}`, email), d1.prepare("DELETE FROM users WHERE id = ?1").bind(`e-${i}`)]);
    }
    for (const input of emails.refused) {
      await assert.rejects(insertUser(d1, "e-refused", input).run(), (e) => `${e.message} ${e.cause?.message ?? ""}`.includes("users.email must be"), JSON.stringify(input));
    }
  });
});

test("the reserved users: '(no owner)' is never written again nor changed, and an @ id is its email's", async () => {
  await db(async (d1) => {
    const refused = (statement, pattern) => assert.rejects(statement.run(), (e) => pattern.test(`${e.message} ${e.cause?.message ?? ""}`), statement);
    await refused(d1.prepare("UPDATE users SET email = 'taken@example.com' WHERE id = '(no owner)'"), /users\.id \(no owner\) is the user of calls without an owner/);
    await refused(d1.prepare("INSERT INTO users (id, email) VALUES ('(no owner)', 'b@example.com') ON CONFLICT (id) DO UPDATE SET email = excluded.email"), /users\.id \(no owner\)/);
    await refused(insertUser(d1, "@alice@example.com", "bob@example.com"), /users\.id that starts with @ must be @ and the email/);
    await insertUser(d1, "@carol@example.com", "Carol@Example.com").run();
    assert.deepEqual((await d1.prepare("SELECT id, email FROM users WHERE id IN ('(no owner)', '@carol@example.com') ORDER BY id").all()).results, [
      { id: "(no owner)", email: "(no owner)" },
      { id: "@carol@example.com", email: "Carol@Example.com" },
    ]);
  });
});
