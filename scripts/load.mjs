#!/usr/bin/env node
// Load call records (and their users) from CSV or NDJSON into D1: local by default, --remote for the
// deployed database. See scripts/lib/records.mjs for the fields and scripts/lib/loader.mjs for the rules.
//
//   node scripts/load.mjs calls.ndjson [--format csv|ndjson] [--remote | --persist-to DIR]
//                         [--skip-invalid] [--batch-rows N] [--quiet]
import { withBindings } from "./lib/bindings.mjs";
import { commandLine, WHERE } from "./lib/cli.mjs";
import { checkDatabase, checkFile, DEFAULT_BATCH_ROWS, loadFile } from "./lib/loader.mjs";
import { formatOf } from "./lib/records.mjs";

const USAGE = `usage: load <file.csv|file.ndjson> [--format csv|ndjson] [--remote | --persist-to DIR] [--skip-invalid] [--batch-rows N] [--quiet]

Fields (a CSV header row, or NDJSON objects): id, user_id, platform, started_at (required); user_email,
platform_number, duration_seconds (optional). Each record keeps the record rule: ids of 1 to 256 characters
without surrounding whitespace; a platform of 1 to 64 characters, not blank; a platform number of at most
64 characters once trimmed; a user_email that is an email address; started_at (epoch milliseconds or an
RFC 3339 instant) from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z; duration_seconds
from 0 to one week (604,800). The whole file is checked first, then against D1 (a user_email another user
holds there, a user without user_email that D1 does not have): any bad line, and nothing is loaded
(--skip-invalid loads the good lines; disagreements with D1 always refuse the file). Then it is written in
batches of --batch-rows records (default ${DEFAULT_BATCH_ROWS}), each one transaction: a load stopped mid-way
leaves whole batches only, and loading the same file again finishes it (records already there are skipped).`;
const SHOWN_ERRORS = 20;

const { opts, positionals, fail } = commandLine("load", USAGE, {
  format: { type: "string" },
  ...WHERE,
  "skip-invalid": { type: "boolean", default: false },
  "batch-rows": { type: "string", default: String(DEFAULT_BATCH_ROWS) },
  quiet: { type: "boolean", default: false },
});
if (positionals.length !== 1) fail(USAGE);
const [path] = positionals;
const format = opts.format ?? formatOf(path);
if (format !== "csv" && format !== "ndjson") fail(`cannot tell the format of ${path}; pass --format csv or --format ndjson`);
const batchRows = Number(opts["batch-rows"]);
if (!Number.isInteger(batchRows) || batchRows < 1) fail("--batch-rows must be a positive whole number");

let check;
try {
  check = await checkFile(path, format);
} catch (error) {
  fail(`cannot read ${path}: ${error.message}`);
}
for (const { line, reason } of check.errors.slice(0, SHOWN_ERRORS)) console.error(`${path}:${line}: ${reason}`);
if (check.errors.length > SHOWN_ERRORS) console.error(`... and ${check.errors.length - SHOWN_ERRORS} more bad lines`);
if (check.fatal || (check.errors.length && !opts["skip-invalid"])) {
  fail(`${check.errors.length} bad line(s); nothing was loaded${check.fatal ? "" : " (--skip-invalid loads the good ones)"}`, 1);
}

const started = Date.now();
let lastReport = 0;
const progress = ({ done, total }) => {
  const now = Date.now();
  if (opts.quiet || (now - lastReport < 2000 && done < total)) return;
  lastReport = now;
  const rate = Math.round(done / Math.max((now - started) / 1000, 0.001));
  console.error(`loaded ${done.toLocaleString("en")} / ${total.toLocaleString("en")} records (${Math.floor((100 * done) / Math.max(total, 1))}%), ${rate.toLocaleString("en")} records/s`);
};

try {
  const result = await withBindings({ remote: opts.remote, persistTo: opts["persist-to"] }, async (env) => {
    const conflicts = await checkDatabase(env.DB, check);
    for (const { line, reason } of conflicts.slice(0, SHOWN_ERRORS)) console.error(`${path}:${line}: ${reason}`);
    if (conflicts.length > SHOWN_ERRORS) console.error(`... and ${conflicts.length - SHOWN_ERRORS} more`);
    if (conflicts.length) throw new Error(`${conflicts.length} line(s) disagree with D1; nothing was loaded`);
    return loadFile(env.DB, path, { format, check, batchRows, onProgress: progress });
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const skipped = check.errors.length ? `, ${check.errors.length} bad line(s) skipped` : "";
  console.error(
    `${path}: ${result.total} records in ${result.batches} batch(es), ${seconds} s: ${result.written} written, ${result.unchanged} already up to date${skipped}`,
  );
} catch (error) {
  fail(error.message, 1);
}
