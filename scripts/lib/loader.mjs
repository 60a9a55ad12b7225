// Bulk loading of call records into D1: check the whole file first, then write it in atomic batches.
//
// - Idempotent on the call id: a record whose id exists updates that call, and only if something differs,
//   so loading the same file twice writes nothing the second time.
// - Within D1's limits: at most 100 bound parameters per statement (16 calls × 6 columns), and each
//   batch is one D1 `batch()`, which D1 runs as a single transaction: a failing batch leaves nothing behind.
// - A bad line is reported with its line number and reason; by default nothing is written if any line is
//   bad (`skipInvalid` loads the good ones).
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { lineParser, RecordError } from "./records.mjs";

const CALL_COLUMNS = ["id", "user_id", "platform", "platform_number", "started_at", "duration_seconds"];
const CALLS_PER_STATEMENT = Math.floor(100 / CALL_COLUMNS.length); // 16
const USERS_PER_STATEMENT = 50; // 2 parameters each
export const DEFAULT_BATCH_ROWS = 800;

function placeholders(rows, width) {
  return Array.from({ length: rows }, () => `(${Array(width).fill("?").join(", ")})`).join(", ");
}

function callUpsert(rows) {
  const set = CALL_COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(", ");
  const mine = CALL_COLUMNS.slice(1).map((c) => `calls.${c}`).join(", ");
  const theirs = CALL_COLUMNS.slice(1).map((c) => `excluded.${c}`).join(", ");
  // RETURNING lists the calls inserted or changed (an identical record is skipped): D1's meta.changes would
  // also count the rollup rows the triggers write.
  return `INSERT INTO calls (${CALL_COLUMNS.join(", ")}) VALUES ${placeholders(rows, CALL_COLUMNS.length)}
ON CONFLICT (id) DO UPDATE SET ${set} WHERE (${mine}) IS NOT (${theirs})
RETURNING id`;
}

function userUpsert(rows) {
  return `INSERT INTO users (id, email) VALUES ${placeholders(rows, 2)}
ON CONFLICT (id) DO UPDATE SET email = excluded.email WHERE users.email IS NOT excluded.email`;
}

function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The statements that write one batch: its users first (calls reference them), then its calls. */
export function batchStatements(db, records) {
  const users = new Map();
  for (const r of records) if (r.user_email !== null) users.set(r.user_id, r.user_email);
  const statements = chunks([...users], USERS_PER_STATEMENT).map((group) =>
    db.prepare(userUpsert(group.length)).bind(...group.flat()),
  );
  for (const group of chunks(records, CALLS_PER_STATEMENT)) {
    statements.push(db.prepare(callUpsert(group.length)).bind(...group.flatMap((r) => CALL_COLUMNS.map((c) => r[c]))));
  }
  return { statements, userStatements: chunks([...users], USERS_PER_STATEMENT).length };
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
    }
    firstLineOfId.set(record.id, line);
    valid++;
  }
  return { valid, errors, invalidLines, fatal: false };
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
