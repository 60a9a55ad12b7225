#!/usr/bin/env node
// Check the rollups (and their ledger, call_facts) against the raw calls, and repair them: local D1 by
// default, --remote for the deployed database. See scripts/lib/rollups.mjs for what is compared and how a
// repair stays exact while the worker and loaders keep writing.
//
//   node scripts/rollups.mjs check  [--remote | --persist-to DIR] [--split-above N] [--show N] [--quiet]
//   node scripts/rollups.mjs repair [--remote | --persist-to DIR] [--split-above N] [--show N] [--quiet]
import { withBindings } from "./lib/bindings.mjs";
import { commandLine, WHERE } from "./lib/cli.mjs";
import { DEFAULT_LEDGER_CHUNK, DEFAULT_SHOW, DEFAULT_SPLIT_ABOVE, monthText, ROLLUPS, run } from "./lib/rollups.mjs";

const USAGE = `usage: rollups <check|repair> [--remote | --persist-to DIR] [--split-above N] [--show N] [--quiet]
  check   compare call_facts (id by id) and the eight rollups (a UTC month at a time) with the raw calls;
          print each difference, then a summary; exit 0 if there is none, 1 if there is any
  repair  rebuild what differs: the ledger first, then each range and table that differs, each in one
          transaction that recomputes it from calls; print each fix, then a summary; exit 0 when all is
          fixed (check passes after), 1 if a range still differs (written meanwhile around the triggers)
options:
  --remote          the deployed database that wrangler.toml names (needs npx wrangler login)
  --persist-to DIR  local state directory (wrangler dev's --persist-to; default .wrangler/state)
  --split-above N   a month holding more than N calls has its quarter-hour, hour and day tables compared a
                    day at a time (default ${DEFAULT_SPLIT_ABOVE.toLocaleString("en")})
  --show N          print at most N differences per table and range, and count the rest (default ${DEFAULT_SHOW})
  --quiet           no progress lines on stderr (there are some only when stderr is a terminal)
  -h, --help        this text
exit 2: a usage error; 3: D1 failed or the schema is not what the tool knows (a repair keeps the
transactions it committed: run it again)`;

const { opts, positionals, fail } = commandLine("rollups", USAGE, {
  ...WHERE,
  "split-above": { type: "string", default: String(DEFAULT_SPLIT_ABOVE) },
  show: { type: "string", default: String(DEFAULT_SHOW) },
  quiet: { type: "boolean", default: false },
});
const [mode, ...rest] = positionals;
if ((mode !== "check" && mode !== "repair") || rest.length) fail(USAGE);
if (opts.remote && opts["persist-to"] !== undefined) fail("--remote and --persist-to exclude each other");
const whole = (name, min) => {
  const text = opts[name];
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) fail(`--${name} must be a whole number of at least ${min}`);
  return n;
};
const splitAbove = whole("split-above", 0);
const show = whole("show", 0);

const started = Date.now();
let lastProgress;
const onProgress = (text) => {
  const now = Date.now();
  if (opts.quiet || !process.stderr.isTTY || now - lastProgress < 2000) return;
  lastProgress = now;
  console.error(text);
};

let summary;
try {
  summary = await withBindings({ remote: opts.remote, persistTo: opts["persist-to"] }, (env) => {
    lastProgress = Date.now(); // a progress line after 2 s of work, not counting wrangler's start
    return run(env.DB, { mode, show, splitAbove, ledgerChunk: DEFAULT_LEDGER_CHUNK, onLine: (line) => console.log(line), onProgress });
  });
} catch (error) {
  fail(error.message, 3);
}

const n = (x, one, many = `${one}s`) => `${x.toLocaleString("en")} ${x === 1 ? one : many}`;
const where = opts.remote ? "remote D1" : "local D1";
const span = summary.span ? ` from ${monthText(summary.span[0])} to ${monthText(summary.span[1] - 1)}` : "";
const scope = `${n(summary.calls, "call")}; call_facts in ${n(summary.chunks, "chunk")} of ids, the ${ROLLUPS.length} rollups in ${n(summary.ranges, "range")} over ${n(summary.months, "month")} with data${span}`;
const cost = `${where} read ${n(summary.d1.rowsRead, "row")} and wrote ${n(summary.d1.rowsWritten, "row")} in ${n(summary.d1.statements, "statement")} (the longest ${(summary.d1.longestMs / 1000).toFixed(1)} s), ${((Date.now() - started) / 1000).toFixed(1)} s`;
const order = ["call_facts", ...ROLLUPS.map((t) => t.name)];
const tables = Object.entries(summary.differences).sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
const total = tables.reduce((sum, [, count]) => sum + count, 0);
const byTable = tables.map(([table, count]) => `${table} ${count.toLocaleString("en")}`).join(", ");

if (mode === "check") {
  if (!total) {
    console.log(`rollups check: no differences: ${scope}; ${cost}`);
  } else {
    console.log(`rollups check: ${n(total, "difference")} (${byTable}): ${scope}; ${cost}; \`node scripts/rollups.mjs repair\` rebuilds them`);
    process.exit(1);
  }
} else if (!summary.fixes.length) {
  console.log(`rollups repair: nothing to repair: ${scope}; ${cost}`);
} else {
  const remaining = summary.remaining ? `; ${n(summary.remaining, "difference")} remain: run repair again` : "";
  console.log(
    `rollups repair: fixed ${n(total, "difference")} (${byTable}) in ${n(summary.fixes.length, "transaction")}: ` +
      `deleted ${n(summary.deleted, "row")} and wrote ${n(summary.written, "row")} (besides the rollup rows the ledger's triggers wrote: D1 counts them below)${remaining}: ${scope}; ${cost}`,
  );
  if (summary.remaining) process.exit(1);
}
