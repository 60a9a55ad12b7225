#!/usr/bin/env node
// The end-call webhook's dead letters: the deliveries that failed every retry of the calls queue, kept in the
// DEAD_LETTERS KV namespace by the dead-letter queue's consumer (src/ingest/dead_letters.rs).
//
//   node scripts/dead-letters.mjs list   [--remote | --persist-to DIR] [--json]
//   CALL_ANALYTICS_KEY=<super-admin key> node scripts/dead-letters.mjs replay [--url URL] [--json]
//
// `list` reads the namespace itself (through the bindings, as scripts/keys.mjs does): each dead letter's call
// id, when the webhook received it and its KV name, never its body (it holds the owner's email); then the
// unreadable entries (queue messages that were not deliveries), which are never replayed. `replay` asks the
// worker (POST /admin/dead-letters/replay, a page of up to 100 at a time, until none is left) to send them
// back to the calls queue, where the later-received delivery of a call still wins: a replayed delivery keeps
// the instant it was first received, so it never overwrites a newer one. The key comes from the environment,
// never from the command line, which shells record.
import { withBindings } from "./lib/bindings.mjs";
import { commandLine, WHERE } from "./lib/cli.mjs";

const DEFAULT_URL = "http://127.0.0.1:8787";
const KEY_VARIABLE = "CALL_ANALYTICS_KEY";
const ROUTE = "/admin/dead-letters/replay";
/** Names the worker writes: a delivery, and a message that was not one (src/ingest/dead_letters.rs). */
const DELIVERY = /^call:(\d{15}):(.+)$/s;
const UNREADABLE = "unreadable:";
/** A page that replays nothing yet says more are left (KV's listing lags its deletes, up to a minute). */
const STALLED_PAGE_WAIT_MS = 5_000;
const STALLED_PAGES = 12;

const USAGE = `usage:
  dead-letters list [--remote | --persist-to DIR] [--json]
      each dead letter's call id, when the webhook received it, and its KV name (never its body); then the
      unreadable entries, which are never replayed
  dead-letters replay [--url URL] [--json]
      POST ${ROUTE} on the worker at URL (default ${DEFAULT_URL}) until none is
      left, with the super-admin key in the environment variable ${KEY_VARIABLE}; prints how many
      were replayed (a replayed delivery keeps when it was received: it never overwrites a newer one)
options:
  --remote          the deployed KV namespace that wrangler.toml names (needs npx wrangler login)
  --persist-to DIR  local state directory (wrangler dev's --persist-to; default .wrangler/state)
  --json            machine-readable output
  -h, --help        this text
exit 0: done; 1: the worker or KV failed (replay: what was replayed before stays replayed); 2: a usage error`;

const { opts, positionals, fail } = commandLine("dead-letters", USAGE, {
  ...WHERE,
  url: { type: "string" },
  json: { type: "boolean", default: false },
});
const [command, ...rest] = positionals;
if (!command) fail(USAGE);
// Never echoed: a key pasted as an argument would land in the terminal's scrollback too.
if (rest.length) fail(`${command} takes no argument besides its options (a key is read from ${KEY_VARIABLE} only)\n${USAGE}`);

/** Text for a terminal: an id with spaces or control characters is quoted as JSON. */
const shown = (text) => (/[\p{Cc}\p{Zs}\u2028\u2029]/u.test(text) || text === "" ? JSON.stringify(text) : text);

/** Every entry of the namespace: { name, metadata }. */
async function entries(kv) {
  const all = [];
  let cursor;
  do {
    const page = await kv.list({ cursor, limit: 1000 });
    all.push(...page.keys);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return all;
}

/** An entry as `list` shows it: a dead letter, or why it cannot be replayed. */
function classify({ name, metadata }) {
  const delivery = DELIVERY.exec(name);
  if (delivery) {
    if (typeof metadata !== "string") return { unreadable: { name, reason: "a dead letter without its call id in the metadata" } };
    const millis = Number(delivery[1]);
    const received = new Date(millis);
    const receivedAt = Number.isNaN(received.getTime()) ? `${millis} ms` : received.toISOString();
    return { letter: { call_id: metadata, received_at: receivedAt, request_id: delivery[2], name } };
  }
  if (name.startsWith(UNREADABLE)) {
    return { unreadable: { name, reason: "a queue message that was not a delivery (kept as it came; never replayed)" } };
  }
  return { unreadable: { name, reason: "not a name the worker writes" } };
}

async function list() {
  if (opts.url !== undefined) fail("list reads KV itself: --url is for replay");
  if (opts.remote && opts["persist-to"] !== undefined) fail("--remote and --persist-to exclude each other");
  const where = opts.remote ? "remote KV" : "local KV";
  let found;
  try {
    found = await withBindings({ remote: opts.remote, persistTo: opts["persist-to"] }, async (env) => {
      if (!env.DEAD_LETTERS) throw new Error("no DEAD_LETTERS binding in wrangler.toml");
      return entries(env.DEAD_LETTERS);
    });
  } catch (error) {
    fail(`could not list DEAD_LETTERS in ${where}: ${error.message}`, 1);
  }
  const letters = [];
  const unreadable = [];
  for (const entry of found) {
    const { letter, unreadable: bad } = classify(entry);
    if (letter) letters.push(letter);
    else unreadable.push(bad);
  }
  if (opts.json) {
    console.log(JSON.stringify({ dead_letters: letters, unreadable }));
    return;
  }
  if (letters.length) {
    const rows = letters.map((l) => [shown(l.call_id), l.received_at, shown(l.name)]);
    const header = ["CALL ID", "RECEIVED", "NAME"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  }
  for (const bad of unreadable) console.log(`UNREADABLE  ${shown(bad.name)}  ${bad.reason}`);
  const s = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const next = letters.length ? `; replay with: ${KEY_VARIABLE}=<super-admin key> node scripts/dead-letters.mjs replay --url <worker>` : "";
  console.error(`${s(letters.length, "dead letter")} in ${where}${next}`);
  if (unreadable.length) {
    const flags = opts.remote ? "--remote" : `--local${opts["persist-to"] ? ` --persist-to ${opts["persist-to"]}` : ""}`;
    console.error(
      `${unreadable.length} unreadable entr${unreadable.length === 1 ? "y" : "ies"}: never replayed; read one with ` +
        `npx wrangler kv key get --binding DEAD_LETTERS ${flags} <name> (it may hold personal data), then delete it`,
    );
  }
}

async function replay() {
  if (opts.remote || opts["persist-to"] !== undefined) fail("replay asks the worker: give its --url, not --remote or --persist-to");
  let url;
  try {
    url = new URL(ROUTE, opts.url ?? DEFAULT_URL);
  } catch {
    fail(`--url must be the worker's URL, such as ${DEFAULT_URL} (got "${opts.url}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(`--url must be an http or https URL (got "${opts.url}")`);
  const key = (process.env[KEY_VARIABLE] ?? "").trim();
  if (!key) fail(`set the environment variable ${KEY_VARIABLE} to a super-admin key (never pass the key on the command line)`);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol === "http:" && !loopback) console.error(`dead-letters: warning: sending the key to ${url.origin} over plain HTTP`);

  let replayed = 0;
  let requests = 0;
  let stalled = 0;
  const failed = (why) => fail(`replay failed after ${replayed} replayed: ${why}`, 1);
  for (;;) {
    let response;
    let text;
    try {
      response = await fetch(url, { method: "POST", headers: { Authorization: `Bearer ${key}` } });
      text = await response.text();
    } catch (error) {
      failed(`${url.origin} did not answer (${error.cause?.message ?? error.message})`);
    }
    requests += 1;
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {}
    if (!response.ok) failed(`HTTP ${response.status}: ${typeof body?.message === "string" ? body.message : text.slice(0, 200)}`);
    const page = body?.data;
    if (!Number.isSafeInteger(page?.replayed) || typeof page?.more !== "boolean") failed(`HTTP ${response.status} without the replay's data: ${text.slice(0, 200)}`);
    replayed += page.replayed;
    if (!page.more) break;
    if (page.replayed > 0) {
      stalled = 0;
      continue;
    }
    // Names listed whose entries are already gone: KV's listing catches up within a minute.
    if (++stalled >= STALLED_PAGES) failed("the worker keeps listing dead letters it cannot read; run replay again later");
    await new Promise((resolve) => setTimeout(resolve, STALLED_PAGE_WAIT_MS));
  }
  if (opts.json) console.log(JSON.stringify({ replayed, requests }));
  else console.log(`Replayed ${replayed} dead letter${replayed === 1 ? "" : "s"} into the calls queue (${requests} request${requests === 1 ? "" : "s"} to ${url.origin}).`);
}

switch (command) {
  case "list":
    await list();
    break;
  case "replay":
    await replay();
    break;
  default:
    fail(`unknown command "${command}"\n${USAGE}`);
}
