// Checking the rollups against the raw calls, and repairing them: the library of scripts/rollups.mjs.
//
// What is compared:
// - the ledger `call_facts` with `calls`, id by id (a ledger row per call, with the call's user, bucket,
//   start and duration, integers where the schema says so), in chunks of ids read through both primary keys;
// - each of the eight rollups with the aggregation of `calls` over a range of UTC time (one month; for the
//   quarter-hour, hour and day tables of a month with very many calls, one day at a time), computed with the
//   same definitions as the triggers: `calls.bucket` and `calls.duration_ms` (generated columns) and the
//   ledger's period expressions (PERIODS, copied from migrations 0002 and 0004 and checked against the
//   ledger's generated columns on every row the check reads).
// Each comparison is one statement, so it sees one consistent state even while the worker and loaders write.
//
// What a repair does, in this order:
// 1. the ledger, for the ids that differ: one D1 batch() (one transaction) per chunk deletes the ledger rows
//    that disagree with their call (or have none) and records the contribution of every call of the chunk
//    that has no ledger row, read from `calls` inside that transaction. The ledger's own triggers fire: they
//    take the wrong contributions out of the rollups and put the right ones in.
// 2. then the rollups, for the ranges and tables that still differ: one batch() per range and table deletes
//    the range's rows that no call accounts for and writes, from `calls` inside that transaction, the rows
//    whose calls or duration differ (or are missing). The end state is the raw aggregation, and a write that
//    lands meanwhile is either before the batch (and counted by it) or after (and added by its triggers).
//
// Statements bind at most 3 parameters and are a few KB: well inside D1's 100 parameters and 100 KB. D1
// stops a statement after 30 s: a month's statement reads its calls a few times (see the operator docs for
// the measured cost), and the quarter-hour, hour and day tables of a month of very many calls go a day at a
// time.

/** The periods' starts, as the ledger's generated columns define them (migrations 0002 and 0004). */
export const PERIODS = {
  quarter: (t) => `${t} - ((${t} % 900000) + 900000) % 900000`,
  hour: (t) => `${t} - ((${t} % 3600000) + 3600000) % 3600000`,
  day: (t) => `${t} - ((${t} % 86400000) + 86400000) % 86400000`,
  month: (t) => monthOfDay(PERIODS.day(t)),
};
/** month_start, of day_start `d`. */
export const monthOfDay = (d) => `CAST(strftime('%s', (${d}) / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000`;

/** The eight rollups, in the order the triggers write them. */
export const ROLLUPS = [false, true].flatMap((perUser) =>
  ["quarter", "hour", "day", "month"].map((level) => ({ name: `${perUser ? "user_" : ""}calls_by_${level}`, level, perUser })),
);

/** Default number of calls in a month above which its quarter-hour, hour and day tables go a day at a time. */
export const DEFAULT_SPLIT_ABOVE = 250_000;
/** Default number of call ids per ledger statement. */
export const DEFAULT_LEDGER_CHUNK = 50_000;
/** Default number of differences printed per table and range (or ledger chunk); the rest are counted. */
export const DEFAULT_SHOW = 100;

// Period starts beyond ±8.6e15 ms (about ±272,000 years: within what JavaScript dates hold, with room for
// the month after; SQLite's date functions stop at years -4713 and 9999, so no call can be rolled up out
// there), or that are not numbers (text sorts after every number), are read by no range: they are checked
// once per table, as strays.
const SPAN_START = -8.6e15;
const SPAN_END = 8.6e15;
const DAY_MS = 86_400_000;

/** The first instant of the UTC month holding `t` (epoch milliseconds), and of the next one. */
export function monthOf(t) {
  const date = new Date(t);
  const start = new Date(0);
  start.setUTCFullYear(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const end = new Date(0);
  end.setUTCFullYear(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  return [start.getTime(), end.getTime()];
}

/** An instant as ISO 8601 (UTC), or the raw value when it is not one. */
export function iso(value) {
  const n = Number(value);
  if (value === null || value === undefined || value === "" || !Number.isFinite(n) || Math.abs(n) > SPAN_END) return JSON.stringify(value);
  const text = new Date(n).toISOString();
  return Number.isInteger(n) ? text : `${text} (${value})`;
}

/** "[2025-01-01T00:00:00.000Z, 2025-02-01T00:00:00.000Z)" */
export const rangeText = ([a, b]) => `[${iso(a)}, ${iso(b)})`;
/** "2025-01" */
export const monthText = (t) => iso(t).slice(0, 7);

// ---------------------------------------------------------------------------------------------------------
// SQL

/**
 * A recursive CTE `name(id)`: the distinct user ids of `source` (a table, or calls through an index that
 * starts with user_id), one index seek each, a skip scan: reading each user's rows of a range through the
 * primary key costs a few rows per user instead of a scan of the whole table.
 */
const distinctUsers = (name, source) => `${name}(id) AS (
    SELECT (SELECT user_id FROM ${source} ORDER BY user_id LIMIT 1)
    UNION ALL
    SELECT (SELECT user_id FROM ${source} WHERE user_id > ${name}.id ORDER BY user_id LIMIT 1) FROM ${name} WHERE ${name}.id IS NOT NULL
  )`;
/** The users who made calls: the CTE `callers`, through calls_by_user_start. */
const CALLERS = distinctUsers("callers", "calls INDEXED BY calls_by_user_start");
/** How many users made calls (3 rows read per user). */
export const CALLERS_SQL = `WITH RECURSIVE ${CALLERS} SELECT COUNT(id) AS n FROM callers`;

/**
 * What the rollup's rows in [?1, ?2) must be: the calls started in it, grouped by the rollup's key (u for
 * per-user tables, p, b; n calls and ms milliseconds). Returns { ctes, sql }. The month is taken of each
 * day's start, as the ledger's month_start is. Per user and `byCaller`, each caller's calls are read through
 * the covering index calls_by_user_start (about 4 times faster than calls_by_start, which has no user_id,
 * but 3 rows read per user: worth it when the range holds more calls than that).
 */
function expected({ level, perUser }, byCaller = false) {
  const from = perUser && byCaller
    ? "callers CROSS JOIN calls AS c INDEXED BY calls_by_user_start WHERE c.user_id = callers.id AND"
    : "calls AS c INDEXED BY calls_by_start WHERE";
  const u = perUser ? "c.user_id AS u, " : "";
  const g = perUser ? "u, " : "";
  const grouped = (period) =>
    `SELECT ${u}${period} AS p, c.bucket AS b, COUNT(*) AS n, SUM(c.duration_ms) AS ms
    FROM ${from} c.started_at >= ?1 AND c.started_at < ?2 GROUP BY ${g}p, b`;
  const sql = level === "month"
    ? `SELECT ${g}${monthOfDay("d.p")} AS p, d.b AS b, SUM(d.n) AS n, SUM(d.ms) AS ms FROM (${grouped(PERIODS.day("c.started_at"))}) AS d GROUP BY ${perUser ? "1, 2, 3" : "1, 2"}`
    : grouped(PERIODS[level]("c.started_at"));
  return { ctes: perUser && byCaller ? [CALLERS] : [], sql };
}

/** The rollup's rows whose period starts in [?1, ?2) (per user: through the primary key, user by user). */
function foundSql({ name, perUser }, where = "r.period_start >= ?1 AND r.period_start < ?2") {
  return perUser
    ? `SELECT r.user_id AS u, r.period_start AS p, r.bucket AS b, r.calls AS n, r.duration_ms AS ms
        FROM users CROSS JOIN ${name} AS r WHERE r.user_id = users.id AND ${where}`
    : `SELECT r.period_start AS p, r.bucket AS b, r.calls AS n, r.duration_ms AS ms FROM ${name} AS r WHERE ${where}`;
}
const usersOf = ({ name, perUser }) => (perUser ? [distinctUsers("users", name)] : []);
const withClause = (ctes) => (ctes.length ? `WITH RECURSIVE ${ctes.join(",\n  ")}\n` : "");

/**
 * The differences between a rollup and the calls over [?1, ?2): at most ?3 of them, in key order, each with
 * the number of all of them (`total`). Numbers come back as text, exact (an integer past 2^53, a REAL as
 * SQLite writes it: 9.22337203685478e+18).
 */
export function diffSql(table, byCaller = false) {
  const u = table.perUser ? "u, " : "";
  const e = expected(table, byCaller);
  return `${withClause([...e.ctes, ...usersOf(table), `e AS (${e.sql})`, `f AS (${foundSql(table)})`])}SELECT ${u}CAST(p AS TEXT) AS p, b,
  CAST(en AS TEXT) AS en, CAST(ems AS TEXT) AS ems, CAST(fn AS TEXT) AS fn, CAST(fms AS TEXT) AS fms, tn, tms, found,
  COUNT(*) OVER () AS total
FROM (
  SELECT ${u}p, b, MAX(en) AS en, MAX(ems) AS ems, MAX(fn) AS fn, MAX(fms) AS fms, MAX(tn) AS tn, MAX(tms) AS tms, SUM(side) AS found
  FROM (
    SELECT ${u}p, b, n AS en, ms AS ems, NULL AS fn, NULL AS fms, NULL AS tn, NULL AS tms, 0 AS side FROM e
    UNION ALL
    SELECT ${u}p, b, NULL, NULL, n, ms, typeof(n), typeof(ms), 1 FROM f
  )
  GROUP BY ${u}p, b
)
WHERE found = 0 OR en IS NULL OR tn IS NOT 'integer' OR tms IS NOT 'integer' OR fn IS NOT en OR fms IS NOT ems
ORDER BY ${u}p, b
LIMIT ?3`;
}

/**
 * The rows of a rollup no range reads: a period start before ?1 or from ?2 on (not a number, or out of
 * dates' reach). Two range seeks (per user: two per user), not a scan: SQLite uses no index for an OR here.
 */
export function straysSql(table) {
  const u = table.perUser ? "u, " : "";
  const found = `${foundSql(table, "r.period_start < ?1")} UNION ALL ${foundSql(table, "r.period_start >= ?2")}`;
  return `${withClause([...usersOf(table), `f AS (${found})`])}SELECT ${u}CAST(p AS TEXT) AS p, b, CAST(n AS TEXT) AS fn, CAST(ms AS TEXT) AS fms,
  typeof(n) AS tn, typeof(ms) AS tms, NULL AS en, NULL AS ems, 1 AS found, COUNT(*) OVER () AS total
FROM f ORDER BY ${u}p, b LIMIT ?3`;
}

/** Deletes the strays (see straysSql): the statements for those before SPAN_START, and from SPAN_END on. */
export function deleteStraysSql(table) {
  const users = table.perUser ? "user_id IN (SELECT id FROM users) AND " : "";
  return ["period_start < ?1", "period_start >= ?1"].map((where) => `${withClause(usersOf(table))}DELETE FROM ${table.name} WHERE ${users}${where}`);
}

/** Repair of a rollup over [?1, ?2), part 1: delete the rows no call of the range accounts for. */
export function deleteExtrasSql(table, byCaller = false) {
  const { name, perUser } = table;
  const e = expected(table, byCaller);
  return `${withClause([...e.ctes, ...usersOf(table), `e AS (${e.sql})`])}DELETE FROM ${name}
WHERE ${perUser ? "user_id IN (SELECT id FROM users) AND " : ""}period_start >= ?1 AND period_start < ?2
  AND (${perUser ? "user_id, " : ""}period_start, bucket) NOT IN (SELECT ${perUser ? "u, " : ""}p, b FROM e)`;
}

/**
 * Repair of a rollup over [?1, ?2), part 2: write the rows whose calls or duration differ from the calls'
 * (or are not integers), and the missing ones; a row that is right is not written.
 */
export function upsertSql(table, byCaller = false) {
  const { name, perUser } = table;
  const e = expected(table, byCaller);
  return `${withClause(e.ctes)}INSERT INTO ${name} (${perUser ? "user_id, " : ""}period_start, bucket, calls, duration_ms)
${e.sql}
ON CONFLICT DO UPDATE SET calls = excluded.calls, duration_ms = excluded.duration_ms
WHERE (calls, duration_ms, typeof(calls), typeof(duration_ms)) IS NOT (excluded.calls, excluded.duration_ms, 'integer', 'integer')`;
}

/**
 * The next period start at or after ?1 (and before ?2) in the calls or any rollup: where the next range is
 * (?2 when there is none). Scalar subqueries under one min(): D1 allows at most 5 terms in a compound SELECT.
 */
export function nextStartSql() {
  const parts = ["(SELECT MIN(started_at) FROM calls WHERE started_at >= ?1 AND started_at < ?2)"];
  const ctes = [];
  for (const { name, perUser } of ROLLUPS) {
    if (!perUser) {
      parts.push(`(SELECT MIN(period_start) FROM ${name} WHERE period_start >= ?1 AND period_start < ?2)`);
      continue;
    }
    const users = `u_${name}`;
    ctes.push(distinctUsers(users, name));
    parts.push(`(SELECT MIN((SELECT MIN(period_start) FROM ${name} WHERE user_id = ${users}.id AND period_start >= ?1 AND period_start < ?2)) FROM ${users})`);
  }
  return `WITH RECURSIVE ${ctes.join(",\n  ")}\nSELECT CAST(min(${parts.map((p) => `coalesce(${p}, ?2)`).join(",\n  ")}) AS TEXT) AS t`;
}

/** The calls started in [?1, ?2), counted from the covering index calls_by_start alone. */
export const COUNT_SQL = "SELECT COUNT(*) AS n FROM calls INDEXED BY calls_by_start WHERE started_at >= ?1 AND started_at < ?2";

/** The ?2-th id at or after ?1 in calls or in the ledger, whichever comes first: the end of a ledger chunk. */
export const CHUNK_END_SQL = `SELECT MIN(x) AS hi FROM (
  SELECT (SELECT id FROM calls WHERE id >= ?1 ORDER BY id LIMIT 1 OFFSET ?2) AS x
  UNION ALL
  SELECT (SELECT id FROM call_facts WHERE id >= ?1 ORDER BY id LIMIT 1 OFFSET ?2)
)`;

const LEDGER_COLUMNS = ["user_id", "bucket", "started_at", "duration_ms"];
const same = (a, b) => `(${LEDGER_COLUMNS.map((c) => `${a}.${c}`).join(", ")}) IS (${LEDGER_COLUMNS.map((c) => `${b}.${c}`).join(", ")})
      AND typeof(${b}.started_at) = 'integer' AND typeof(${b}.duration_ms) = 'integer'`;
const idRange = (t, bounded) => `${t}.id >= ?1${bounded ? ` AND ${t}.id < ?2` : ""}`;

/**
 * The ledger's differences for the ids in [?1, ?2) (or from ?1 on, unbounded): a call without a ledger row
 * ("missing"), a ledger row without a call ("extra"), one that disagrees with its call ("differs", or "not an
 * integer" when its start or duration is not an INTEGER), and a ledger row whose generated period columns
 * differ from PERIODS ("definition": this tool no longer matches the schema). At most ?3, with `total`.
 */
export function ledgerDiffSql(bounded) {
  const cols = (t) => LEDGER_COLUMNS.map((c) => (c === "started_at" || c === "duration_ms" ? `CAST(${t}.${c} AS TEXT)` : `${t}.${c}`));
  const call = cols("c").map((c, i) => `${c} AS c_${LEDGER_COLUMNS[i]}`).join(", ");
  const fact = cols("f").map((c, i) => `${c} AS f_${LEDGER_COLUMNS[i]}`).join(", ");
  const periods = ["quarter", "hour", "day", "month"];
  return `SELECT *, COUNT(*) OVER () AS total FROM (
  SELECT c.id AS id, CASE
      WHEN f.id IS NULL THEN 'missing'
      WHEN typeof(f.started_at) <> 'integer' OR typeof(f.duration_ms) <> 'integer' THEN 'not an integer'
      ELSE 'differs' END AS kind,
    ${call}, ${fact}
  FROM calls AS c LEFT JOIN call_facts AS f ON f.id = c.id
  WHERE ${idRange("c", bounded)} AND (f.id IS NULL OR NOT (${same("c", "f")}))
  UNION ALL
  SELECT f.id, CASE WHEN c.id IS NULL THEN 'extra' ELSE 'definition' END,
    NULL, NULL, NULL, NULL, ${fact}
  FROM call_facts AS f LEFT JOIN calls AS c ON c.id = f.id
  WHERE ${idRange("f", bounded)} AND (c.id IS NULL
    OR (${periods.map((p) => `f.${p}_start`).join(", ")}) IS NOT (${periods.map((p) => PERIODS[p]("f.started_at")).join(", ")}))
)
ORDER BY kind = 'definition' DESC, id, kind
LIMIT ?3`;
}

/** Repair of the ledger for the ids in [?1, ?2), part 1: delete the rows that are wrong or have no call. */
export function ledgerDeleteSql(bounded) {
  return `DELETE FROM call_facts AS f WHERE ${idRange("f", bounded)}
  AND NOT EXISTS (SELECT 1 FROM calls AS c WHERE c.id = f.id AND ${same("c", "f")})
RETURNING id`;
}

/** Repair of the ledger for the ids in [?1, ?2), part 2: record every call of the chunk without a ledger row. */
export function ledgerInsertSql(bounded) {
  return `INSERT INTO call_facts (id, user_id, bucket, started_at, duration_ms)
SELECT c.id, c.user_id, c.bucket, c.started_at, c.duration_ms FROM calls AS c
WHERE ${idRange("c", bounded)} AND NOT EXISTS (SELECT 1 FROM call_facts AS f WHERE f.id = c.id)
RETURNING id`;
}

// ---------------------------------------------------------------------------------------------------------
// Running it

/** A D1 database whose statements' meta (rows read and written) is added up. */
function metered(db) {
  const totals = { statements: 0, rowsRead: 0, rowsWritten: 0, batches: 0, longestMs: 0 };
  const add = (meta) => {
    totals.statements++;
    totals.longestMs = Math.max(totals.longestMs, meta?.duration ?? 0);
    totals.rowsRead += meta?.rows_read ?? 0;
    totals.rowsWritten += meta?.rows_written ?? 0;
  };
  return {
    totals,
    async all(sql, ...params) {
      const result = await db.prepare(sql).bind(...params).all();
      add(result.meta);
      return result.results;
    },
    async batch(statements) {
      const results = await db.batch(statements.map(([sql, ...params]) => db.prepare(sql).bind(...params)));
      totals.batches++;
      for (const r of results) add(r.meta);
      return results;
    },
  };
}

const plural = (n, one, many = `${one}s`) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
const amount = (n, ms) => (n === null ? "none" : `${plural(Number(n), "call")}, ${ms} ms`);

/** One rollup difference as a line: table, period, user (per-user tables), bucket, what was expected and found. */
export function rollupLine(table, row) {
  const kind = Number(row.found) === 0 ? "missing" : row.en === null ? "extra" : row.tn !== "integer" || row.tms !== "integer" ? "not an integer" : "changed";
  const user = table.perUser ? ` user ${JSON.stringify(row.u)}` : "";
  return {
    kind,
    text: `${table.name} ${iso(row.p)}${user} bucket ${JSON.stringify(row.b)}: ${kind}: expected ${amount(row.en, row.ems)}; found ${row.fn === null ? "none" : `${plural(Number(row.fn), "call")}, ${row.fms} ms`}`,
  };
}

const contribution = (row, side) =>
  row[`${side}_user_id`] === null
    ? "none"
    : `user ${JSON.stringify(row[`${side}_user_id`])} bucket ${JSON.stringify(row[`${side}_bucket`])} started ${iso(row[`${side}_started_at`])} ${row[`${side}_duration_ms`]} ms`;

/** One ledger difference as a line. */
export function ledgerLine(row) {
  const what = { missing: "missing (the call has no ledger row)", extra: "extra (no call has this id)" }[row.kind] ?? row.kind;
  return { kind: row.kind, text: `call_facts id ${JSON.stringify(row.id)}: ${what}: call ${contribution(row, "c")}; ledger ${contribution(row, "f")}` };
}

/**
 * Checks (mode "check") or repairs (mode "repair") the ledger and the rollups of `d1` (a D1 binding).
 * `onLine(text)` gets each difference (check: at most `show` per table and range, then a count of the rest)
 * or each fix (repair); `onProgress(text)` a line per month. Returns a summary: { differences: { table:
 * count }, fixes: [{ table, range, differed, deleted, written }], remaining, users, months, ranges, chunks,
 * calls, span, deleted, written, d1: { statements, batches, rowsRead, rowsWritten, longestMs } } (longestMs:
 * the longest statement as D1 timed it, against its 30 s limit).
 */
export async function run(d1, { mode = "check", show = DEFAULT_SHOW, splitAbove = DEFAULT_SPLIT_ABOVE, ledgerChunk = DEFAULT_LEDGER_CHUNK, onLine = () => {}, onProgress = () => {} } = {}) {
  const db = metered(d1);
  const repair = mode === "repair";
  const limit = Math.max(show, 1); // one row at least: it carries the number of all of them
  const summary = { differences: {}, fixes: [], remaining: 0, users: 0, months: 0, ranges: 0, chunks: 0, calls: 0, span: null, deleted: 0, written: 0, d1: db.totals };
  /** Counts (and, checking, prints) a statement's differences; returns how many there are. */
  const found = (table, label, rows, line) => {
    const total = rows.length ? Number(rows[0].total) : 0;
    if (!total) return 0;
    summary.differences[table] = (summary.differences[table] ?? 0) + total;
    if (!repair) {
      for (const row of rows.slice(0, show)) onLine(line(row).text);
      if (total > show) onLine(`${label}: ${plural(total - Math.min(show, rows.length), "more difference")} not shown`);
    }
    return total;
  };
  const fixed = (fix, text) => {
    summary.fixes.push(fix);
    summary.deleted += fix.deleted;
    summary.written += fix.written;
    onLine(text);
  };

  // 1. The ledger, chunk by chunk of ids (both tables' primary keys), before the rollups: repairing it
  // moves contributions in the rollups, which step 3 then checks.
  for (let lo = "", last = false; !last; ) {
    const [{ hi }] = await db.all(CHUNK_END_SQL, lo, ledgerChunk);
    last = hi === null;
    const params = last ? [lo] : [lo, hi];
    const label = lo === "" && last ? "call_facts" : `call_facts ids ${lo === "" ? "" : `from ${JSON.stringify(lo)} `}${last ? "on" : `up to ${JSON.stringify(hi)} (excluded)`}`;
    const rows = await db.all(ledgerDiffSql(!last), lo, last ? null : hi, limit);
    summary.chunks++;
    if (rows[0]?.kind === "definition") {
      throw new Error(
        `call_facts id ${JSON.stringify(rows[0].id)}: its generated period columns differ from this tool's (PERIODS in scripts/lib/rollups.mjs): ` +
          "a migration changed how periods are defined; update the tool before checking or repairing",
      );
    }
    const total = found("call_facts", label, rows, ledgerLine);
    if (total && repair) {
      const [deleted, inserted] = await db.batch([[ledgerDeleteSql(!last), ...params], [ledgerInsertSql(!last), ...params]]);
      const fix = { table: "call_facts", range: params, differed: total, deleted: deleted.results.length, written: inserted.results.length };
      fixed(fix, `${label}: ${plural(total, "difference")}: deleted ${plural(fix.deleted, "ledger row")}, wrote ${plural(fix.written, "ledger row")} (their triggers moved those calls' contributions in the rollups)`);
    }
    if (!last) lo = hi;
  }

  // 2. Rows of a rollup that no range reads.
  for (const table of ROLLUPS) {
    const rows = await db.all(straysSql(table), SPAN_START, SPAN_END, limit);
    const total = found(table.name, `${table.name} (period starts that are not dates)`, rows, (row) => rollupLine(table, row));
    if (total && repair) {
      const [below, above] = deleteStraysSql(table);
      const deleted = await db.batch([[below, SPAN_START], [above, SPAN_END]]);
      const fix = { table: table.name, range: null, differed: total, deleted: deleted[0].meta.changes + deleted[1].meta.changes, written: 0 };
      fixed(fix, `${table.name} (period starts that are not dates): ${plural(total, "difference")}: deleted ${plural(fix.deleted, "row")}`);
    }
  }

  // 3. Range by range, from the earliest period start in the calls or any rollup to the latest, skipping
  // the months that hold nothing.
  const next = nextStartSql();
  const [{ n: callers }] = await db.all(CALLERS_SQL);
  summary.users = callers;
  const started = Date.now();
  for (let cursor = SPAN_START; ; ) {
    const [{ t }] = await db.all(next, cursor, SPAN_END);
    if (Number(t) >= SPAN_END) break;
    const month = monthOf(Number(t));
    summary.span = [summary.span?.[0] ?? month[0], month[1]];
    summary.months++;
    const [{ n }] = await db.all(COUNT_SQL, ...month);
    summary.calls += n;
    const days = [];
    if (n > splitAbove) for (let a = month[0]; a < month[1]; a += DAY_MS) days.push([a, a + DAY_MS]);
    const units = ROLLUPS.flatMap((table) => (table.level === "month" || !days.length ? [[table, month]] : days.map((day) => [table, day])));
    for (const [table, range] of units) {
      summary.ranges++;
      // Per user, each caller's calls through calls_by_user_start when the range holds more calls than the
      // 3 rows that reading a caller costs (the calls of a day of a split month estimated as an average).
      const byCaller = 4 * callers < (range === month ? n : n / days.length);
      const label = `${table.name} ${rangeText(range)}`;
      const total = found(table.name, label, await db.all(diffSql(table, byCaller), ...range, limit), (row) => rollupLine(table, row));
      if (!total || !repair) continue;
      const [deleted, written] = await db.batch([[deleteExtrasSql(table, byCaller), ...range], [upsertSql(table, byCaller), ...range]]);
      const fix = { table: table.name, range, differed: total, deleted: deleted.meta.changes, written: written.meta.changes };
      const still = await db.all(diffSql(table, byCaller), ...range, 1);
      const remaining = still.length ? Number(still[0].total) : 0;
      summary.remaining += remaining;
      fixed(fix, `${label}: ${plural(total, "difference")}: deleted ${plural(fix.deleted, "row")}, wrote ${plural(fix.written, "row")}` +
        (remaining ? `; ${plural(remaining, "difference")} remain (written meanwhile around the triggers?): repair again` : ""));
    }
    onProgress(`${mode}: ${monthText(month[0])} done (${plural(n, "call")}${days.length ? ", a day at a time" : ""}), ${((Date.now() - started) / 1000).toFixed(0)} s`);
    cursor = month[1];
  }
  return summary;
}
