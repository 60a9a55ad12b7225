// Bulk loading of call records into D1: check the whole file first, then write it in atomic batches.
//
// - Idempotent on the call id: a record whose id exists updates that call, and only if something differs,
//   so loading the same file twice writes nothing the second time.
// - Within D1's limits: one bound parameter per statement (the rows, as a JSON array of at most 90 KB), and
//   each batch is one D1 `batch()`, which D1 runs as a single transaction: a failing batch leaves nothing.
// - A bad line is reported with its line number and reason; by default nothing is written if any line is
//   bad (`skipInvalid` loads the good ones).
// - Before the first batch, what the file cannot know is checked against D1 (checkDatabase): a user_email
//   that belongs to another user there, a user the file gives no email for that D1 does not have. Either
//   refuses the file as a whole, so a load does not stop half-way on what could be known before it began.
// - A load interrupted mid-way (a D1 error, a lost connection) leaves whole batches only, each consistent
//   with its rollups (one batch() is one transaction); loading the same file again finishes it.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { lineParser, RecordError } from "./records.mjs";

const CALL_COLUMNS = ["id", "user_id", "platform", "platform_number", "started_at", "duration_seconds"];
// Rows travel as one bound JSON array per statement (read back with json_each), so a statement has a single
// bound parameter and stays well under D1's 100 KB statement size.
const MAX_JSON_BYTES = 90_000;
export const DEFAULT_BATCH_ROWS = 2000;

const CALL_UPSERT = `INSERT INTO calls (${CALL_COLUMNS.join(", ")})
SELECT ${CALL_COLUMNS.map((c) => `value ->> '${c}'`).join(", ")} FROM json_each(?1) WHERE true
ON CONFLICT (id) DO UPDATE SET ${CALL_COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(", ")}
WHERE (${CALL_COLUMNS.slice(1).map((c) => `calls.${c}`).join(", ")}) IS NOT (${CALL_COLUMNS.slice(1).map((c) => `excluded.${c}`).join(", ")})
RETURNING id`;
// RETURNING lists the calls inserted or changed (an identical record is skipped): D1's meta.changes would
// also count the rollup rows the triggers write.

const USER_UPSERT = `INSERT INTO users (id, email)
SELECT value ->> 0, value ->> 1 FROM json_each(?1) WHERE true
ON CONFLICT (id) DO UPDATE SET email = excluded.email WHERE users.email IS NOT excluded.email`;

/** Splits items into JSON arrays of at most MAX_JSON_BYTES each. */
function jsonChunks(items) {
  const chunks = [];
  let chunk = [];
  let bytes = 2;
  for (const item of items) {
    const json = JSON.stringify(item);
    const size = Buffer.byteLength(json) + 1;
    if (chunk.length && bytes + size > MAX_JSON_BYTES) {
      chunks.push(`[${chunk.join(",")}]`);
      chunk = [];
      bytes = 2;
    }
    chunk.push(json);
    bytes += size;
  }
  if (chunk.length) chunks.push(`[${chunk.join(",")}]`);
  return chunks;
}

/** The statements that write one batch: its users first (calls reference them), then its calls. */
export function batchStatements(db, records) {
  const users = new Map();
  for (const r of records) if (r.user_email !== null) users.set(r.user_id, r.user_email);
  const userStatements = jsonChunks([...users]).map((json) => db.prepare(USER_UPSERT).bind(json));
  const calls = records.map((r) => Object.fromEntries(CALL_COLUMNS.map((c) => [c, r[c]])));
  const callStatements = jsonChunks(calls).map((json) => db.prepare(CALL_UPSERT).bind(json));
  return { statements: [...userStatements, ...callStatements], userStatements: userStatements.length };
}

async function* numberedLines(path) {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) yield [++number, line];
}

/**
 * Pass 1: every line checked, plus what only the whole file shows (a call id twice, a user with two
 * emails, an email on two users). Returns { valid, errors: [{ line, reason }], invalidLines: Set, fatal }
 * (`fatal`: the file could not be read past its first error, e.g. a bad CSV header).
 */
export async function checkFile(path, format) {
  const parse = lineParser(format);
  const errors = [];
  const invalidLines = new Set();
  const firstLineOfId = new Map();
  const emailOfUser = new Map();
  const userOfEmail = new Map();
  /** For the database check: each user's email and first line, and the first line of users without one. */
  const emailed = new Map();
  const unemailed = new Map();
  let valid = 0;
  const bad = (line, reason) => {
    errors.push({ line, reason });
    invalidLines.add(line);
  };
  for await (const [line, text] of numberedLines(path)) {
    let record;
    try {
      record = parse(text);
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      bad(line, error.message);
      if (error.fatal) return { valid: 0, errors, invalidLines, fatal: true };
      continue;
    }
    if (record === null) continue;
    const seen = firstLineOfId.get(record.id);
    if (seen !== undefined) {
      bad(line, `call id ${JSON.stringify(record.id)} already on line ${seen}`);
      continue;
    }
    if (record.user_email !== null) {
      const email = record.user_email.toLowerCase();
      const known = emailOfUser.get(record.user_id);
      const owner = userOfEmail.get(email);
      if (known !== undefined && known !== email) {
        bad(line, `user ${JSON.stringify(record.user_id)} has another user_email earlier in the file`);
        continue;
      }
      if (owner !== undefined && owner !== record.user_id) {
        bad(line, `user_email belongs to user ${JSON.stringify(owner)} earlier in the file`);
        continue;
      }
      emailOfUser.set(record.user_id, email);
      userOfEmail.set(email, record.user_id);
      if (!emailed.has(record.user_id)) emailed.set(record.user_id, { email: record.user_email, line });
    } else if (!unemailed.has(record.user_id)) {
      unemailed.set(record.user_id, line);
    }
    firstLineOfId.set(record.id, line);
    valid++;
  }
  for (const userId of emailed.keys()) unemailed.delete(userId);
  return { valid, errors, invalidLines, fatal: false, users: { emailed, unemailed } };
}

const OWNERS_OF = "SELECT id, email FROM users WHERE email IN (SELECT value FROM json_each(?1))";
const KNOWN_USERS = "SELECT id FROM users WHERE id IN (SELECT value FROM json_each(?1))";

/**
 * Pass 2, before anything is written: what only D1 knows. Returns [{ line, reason }]: a user_email that D1
 * holds for another user (emails are unique, case-insensitively), and a user the file gives no user_email
 * for that D1 does not have (its calls could not be written).
 */
export async function checkDatabase(db, check) {
  const errors = [];
  const { emailed, unemailed } = check.users;
  const userOfEmail = new Map([...emailed].map(([id, { email }]) => [email.toLowerCase(), id]));
  for (const json of jsonChunks([...emailed.values()].map(({ email }) => email))) {
    for (const owner of (await db.prepare(OWNERS_OF).bind(json).all()).results) {
      const userId = userOfEmail.get(owner.email.toLowerCase());
      if (userId !== undefined && userId !== owner.id) {
        errors.push({ line: emailed.get(userId).line, reason: `user_email belongs to user ${JSON.stringify(owner.id)} in D1` });
      }
    }
  }
  const known = new Set();
  for (const json of jsonChunks([...unemailed.keys()])) {
    for (const { id } of (await db.prepare(KNOWN_USERS).bind(json).all()).results) known.add(id);
  }
  for (const [userId, line] of unemailed) {
    if (!known.has(userId)) errors.push({ line, reason: `user ${JSON.stringify(userId)} is not in D1, and the file gives no user_email for it` });
  }
  return errors.sort((a, b) => a.line - b.line);
}

/**
 * Loads a checked file. `onProgress({ done, total })` is called after each batch. Returns
 * { total, written, unchanged, batches }. A batch that D1 refuses (say, a user_id with no user) is rolled
 * back and the error names its lines; earlier batches stay loaded, and rerunning the load is safe.
 */
export async function loadFile(db, path, { format, check, batchRows = DEFAULT_BATCH_ROWS, onProgress = () => {} }) {
  const parse = lineParser(format);
  let batch = [];
  let firstLine = 0;
  let lastLine = 0;
  const totals = { total: check.valid, written: 0, unchanged: 0, batches: 0, done: 0 };
  const flush = async () => {
    if (!batch.length) return;
    const { statements, userStatements } = batchStatements(db, batch);
    let results;
    try {
      results = await db.batch(statements);
    } catch (error) {
      throw new Error(
        `lines ${firstLine}-${lastLine}: D1 refused the batch (${error.message}); it was rolled back, ` +
          `${totals.done} records before it are loaded, and loading the file again is safe`,
      );
    }
    const written = results.slice(userStatements).reduce((sum, r) => sum + r.results.length, 0);
    totals.written += written;
    totals.unchanged += batch.length - written;
    totals.done += batch.length;
    totals.batches++;
    onProgress({ done: totals.done, total: totals.total });
    batch = [];
  };
  for await (const [line, text] of numberedLines(path)) {
    if (check.invalidLines.has(line)) continue;
    const record = parse(text);
    if (record === null) continue;
    if (!batch.length) firstLine = line;
    lastLine = line;
    batch.push(record);
    if (batch.length >= batchRows) await flush();
  }
  await flush();
  const { done, ...result } = totals;
  return result;
}
