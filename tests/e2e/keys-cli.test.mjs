// scripts/keys.mjs against real local KV, checked through the running worker. The worker starts with the
// first test that needs it; the others run the tool on a state directory of their own.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { after, test } from "node:test";
import { ROOT, withBindings } from "../../scripts/lib/bindings.mjs";
import { ENDPOINT, newStateDir, request, runExit, startLocalWorker } from "../../scripts/lib/local-worker.mjs";
import { parseRfc3339 } from "../../scripts/lib/rfc3339.mjs";

let started;
/** The local worker (started once), whose state the tool writes to. */
const worker = () => (started ??= startLocalWorker());
after(async () => (await started?.catch(() => null))?.stop());

const tool = (state, ...args) => runExit("node", [join(ROOT, "scripts", "keys.mjs"), ...args, "--persist-to", state]);
const keys = async (...args) => tool((await worker()).state, ...args);
const status = async (key) => (await request((await worker()).base, ENDPOINT, { key })).status;
const list = async () => JSON.parse((await keys("list", "--json")).stdout);
const fingerprintOf = (key) => createHash("sha256").update(key).digest("hex").slice(0, 12);

/** The tool on a fresh state directory of its own, without the worker: `fn(keys, state)`, then the directory goes. */
async function ownState(fn) {
  const state = await newStateDir();
  try {
    return await fn((...args) => tool(state, ...args), state);
  } finally {
    await rm(state, { recursive: true, force: true });
  }
}

test("create prints a new key once; KV holds only its hash", async () => {
  const { code, stdout, stderr } = await keys("create", "--role", "super_admin", "--label", "ops laptop");
  assert.equal(code, 0, stderr);
  const key = stdout.trim();
  assert.match(key, /^cak_[A-Za-z0-9_-]{43}$/); // 256 random bits, base64url
  const hash = createHash("sha256").update(key).digest("hex");
  assert.match(stderr, new RegExp(`fingerprint ${hash.slice(0, 12)}`));
  assert.equal(await status(key), 200);

  const stored = await withBindings({ persistTo: (await worker()).state }, async (env) => {
    const { keys: names } = await env.API_KEYS.list();
    return Promise.all(names.map(async ({ name }) => ({ name, value: await env.API_KEYS.get(name) })));
  });
  const entry = stored.find((e) => e.name === `sha256:${hash}`);
  assert.ok(entry, "the entry is named by the key's SHA-256");
  const record = JSON.parse(entry.value);
  assert.equal(record.role, "super_admin");
  assert.equal(record.label, "ops laptop");
  assert.equal(record.revoked, false);
  assert.ok(parseRfc3339(record.created_at) <= Date.now());
  // Keys expire by default, 90 days after their creation.
  assert.equal(parseRfc3339(record.expires_at) - parseRfc3339(record.created_at), 90 * 86_400_000);
  assert.match(stderr, new RegExp(`it expires ${record.expires_at}`));
  assert.ok(!JSON.stringify(stored).includes(key), "the raw key is not stored");
  const { stdout: table } = await keys("list");
  assert.ok(!table.includes(key));
  assert.match(table, new RegExp(`${hash.slice(0, 12)}\\s+super_admin\\s+ops laptop\\s+\\S+\\s+${record.expires_at}\\s+active`));
});

test("revoke by fingerprint takes the key out, within the worker's 10 s memory of it", async () => {
  const key = (await keys("create", "--role", "super_admin", "--label", "to revoke")).stdout.trim();
  assert.equal(await status(key), 200); // now remembered by the isolate (src/access/cache.rs)
  const { fingerprint } = (await list()).find((k) => k.label === "to revoke");
  const revoked = await keys("revoke", fingerprint);
  assert.equal(revoked.code, 0, revoked.stderr);
  const since = Date.now();
  while ((await status(key)) !== 401) {
    assert.ok(Date.now() - since < 12_000, "still accepted 12 s after the revocation");
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal((await list()).find((k) => k.fingerprint === fingerprint).status, "revoked");
});

test("roles and expiry are honoured", async () => {
  const viewer = (await keys("create", "--role", "admin", "--label", "viewer")).stdout.trim();
  assert.equal(await status(viewer), 403);
  const past = (await keys("create", "--role", "super_admin", "--label", "old", "--expires-at", "2020-01-01T00:00:00Z")).stdout.trim();
  assert.equal(await status(past), 401);
  const future = (await keys("create", "--role", "super_admin", "--label", "new", "--expires-at", "2099-01-01T00:00:00+01:00")).stdout.trim();
  assert.equal(await status(future), 200);
  const listed = await list();
  assert.equal(listed.find((k) => k.label === "old").status, "expired");
  assert.equal(listed.find((k) => k.label === "new").expires_at, "2098-12-31T23:00:00.000Z");
});

test("--no-expiry makes a key that never expires; list marks keys that expire within 7 days", async () => {
  const forever = await keys("create", "--role", "super_admin", "--label", "forever", "--no-expiry");
  assert.equal(forever.code, 0, forever.stderr);
  assert.match(forever.stderr, /it never expires\./);
  assert.equal(await status(forever.stdout.trim()), 200);
  const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const later = new Date(Date.now() + 8 * 86_400_000).toISOString();
  await keys("create", "--role", "super_admin", "--label", "soon", "--expires-at", soon);
  await keys("create", "--role", "super_admin", "--label", "later", "--expires-at", later);
  const listed = await list();
  const byLabel = (label) => listed.find((k) => k.label === label);
  assert.equal(byLabel("forever").expires_at, null);
  assert.equal(byLabel("forever").status, "active");
  assert.equal(byLabel("soon").status, "expiring soon");
  assert.equal(byLabel("later").status, "active");
  const { stdout: table } = await keys("list");
  assert.match(table, new RegExp(`forever\\s+\\S+\\s+never\\s+active`));
  assert.match(table, new RegExp(`soon\\s+\\S+\\s+${soon}\\s+expiring soon`));
  assert.match(table, /old\s+\S+\s+2020-01-01T00:00:00\.000Z\s+expired/);
});

test("--replace swaps the keys that share a label", async () => {
  const first = (await keys("create", "--role", "super_admin", "--label", "dev", "--replace")).stdout.trim();
  const second = (await keys("create", "--role", "super_admin", "--label", "dev", "--replace")).stdout.trim();
  assert.equal(await status(second), 200);
  // The replaced key is deleted from KV; the worker (another process on the same local KV) sees it go within
  // the revocation bound, as it would a revoked key (once seen in CI a moment after the delete).
  const since = Date.now();
  while ((await status(first)) !== 401) {
    assert.ok(Date.now() - since < 12_000, "the replaced key still works 12 s after --replace");
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal((await list()).filter((k) => k.label === "dev").length, 1);
});

test("mistakes are reported, not guessed", async () => {
  for (const args of [["revoke", "0123456789ab"], ["revoke", "xyz"], ["create"], ["create", "--role", "Super Admin"], ["create", "--role", "super_admin", "--expires-at", "soon"],
    // No offset: the machine's local time would be a guess.
    ["create", "--role", "super_admin", "--expires-at", "2027-01-01T00:00"], ["create", "--role", "super_admin", "--expires-at", "2027-01-01T00:00:00"],
    ["create", "--role", "super_admin", "--replace"], ["create", "--role", "super_admin", "--no-expiry", "--expires-at", "2099-01-01T00:00:00Z"], ["frobnicate"]]) {
    const { code, stderr } = await keys(...args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, /^keys: /);
  }
});

test("create --replace checks everything before it deletes anything", () =>
  ownState(async (keys) => {
    const first = await keys("create", "--role", "super_admin", "--label", "deploy bot");
    assert.equal(first.code, 0, first.stderr);
    const fingerprint = fingerprintOf(first.stdout.trim());
    for (const [args, reason] of [
      [["--role", "super-admin"], /^keys: role must be 1 to 32 lowercase letters and underscores, e\.g\. super_admin \(did you mean super_admin\?\)$/m],
      [["--role", "super_admin", "--expires-at", "2027-02-30T00:00:00Z"], /^keys: --expires-at must be an RFC 3339 datetime/m],
      [["--role", "super_admin", "--expires-at", "2099-01-01T00:00:00Z", "--no-expiry"], /^keys: give --expires-at or --no-expiry, not both$/m],
    ]) {
      const replaced = await keys("create", "--replace", "--label", "deploy bot", ...args);
      assert.equal(replaced.code, 2, `${args.join(" ")}: ${replaced.stderr}`);
      const listed = JSON.parse((await keys("list", "--json")).stdout);
      assert.deepEqual(listed.map((k) => [k.fingerprint, k.label, k.status]), [[fingerprint, "deploy bot", "active"]], args.join(" "));
      assert.match(replaced.stderr, reason);
      assert.equal(replaced.stdout, "", "no key printed");
    }
    // Spelt right, it replaces the key.
    const second = await keys("create", "--replace", "--label", "deploy bot", "--role", "super_admin");
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /^Deleted 1 earlier key\(s\) labelled "deploy bot"\.$/m);
    const listed = JSON.parse((await keys("list", "--json")).stdout);
    assert.deepEqual(listed.map((k) => [k.fingerprint, k.label]), [[fingerprintOf(second.stdout.trim()), "deploy bot"]]);
  }));

// The longest label in the widest characters (4 bytes each in UTF-8) with the longest role: the largest record
// the tool writes, 989 bytes once revoked (tests/tools/apikeys.test.mjs), under KV's 1,024 bytes of metadata.
const LONGEST_LABEL = "😀".repeat(200);
const LONGEST_ROLE = "z".repeat(32);

test("a label at the bound can be created, revoked and listed in local KV; one character more writes nothing", () =>
  ownState(async (keys, state) => {
    const created = await keys("create", "--role", LONGEST_ROLE, "--label", LONGEST_LABEL, "--expires-at", "2099-01-01T00:00:00Z");
    assert.equal(created.code, 0, created.stderr);
    const fingerprint = fingerprintOf(created.stdout.trim());
    const revoked = await keys("revoke", fingerprint);
    assert.equal(revoked.code, 0, revoked.stderr);
    const metadata = await withBindings({ persistTo: state }, async (env) => (await env.API_KEYS.list()).keys.map((k) => k.metadata));
    assert.deepEqual(metadata.map((m) => Buffer.byteLength(JSON.stringify(m))), [989]);
    const listed = JSON.parse((await keys("list", "--json")).stdout);
    assert.deepEqual(
      listed.map((k) => [k.fingerprint, k.role, k.label, k.expires_at, k.status]),
      [[fingerprint, LONGEST_ROLE, LONGEST_LABEL, "2099-01-01T00:00:00.000Z", "revoked"]],
    );
    const { stdout: table } = await keys("list");
    assert.match(table, new RegExp(`^${fingerprint}\\s+${LONGEST_ROLE}\\s+${LONGEST_LABEL}\\s.*\\srevoked$`, "mu"));

    for (const label of ["😀".repeat(201), "x".repeat(201), "bell\u0007"]) {
      const refused = await keys("create", "--role", "super_admin", "--label", label);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /^keys: --label must be at most 200 characters, with no control characters; it has (201 characters|U\+0007)$/m);
      assert.equal(refused.stdout, "", "no key printed");
    }
    assert.deepEqual(JSON.parse((await keys("list", "--json")).stdout).map((k) => k.fingerprint), [fingerprint]);
    const { stdout: usage } = await keys("--help");
    assert.match(usage, /a label is at most 200 characters, with no control characters/);
  }));

test("the worker takes a key with the longest label, and refuses it once revoked", async () => {
  const live = await keys("create", "--role", "super_admin", "--label", LONGEST_LABEL, "--no-expiry");
  const gone = await keys("create", "--role", "super_admin", "--label", LONGEST_LABEL, "--no-expiry");
  assert.equal((await keys("revoke", fingerprintOf(gone.stdout.trim()))).code, 0);
  assert.equal(await status(live.stdout.trim()), 200);
  assert.equal(await status(gone.stdout.trim()), 401); // never asked before its revocation: nothing remembered
});

test("list shows every record the worker refuses (the malformed vectors, written by hand) as unreadable", () =>
  ownState(async (keys, state) => {
    const vectors = JSON.parse(readFileSync(new URL("../vectors/key-records.json", import.meta.url), "utf8"));
    const malformed = vectors.records.filter((r) => r.status === "malformed");
    const names = malformed.map((_, i) => createHash("sha256").update(`hand-written ${i}`).digest("hex"));
    await withBindings({ persistTo: state }, async (env) => {
      for (const [i, { record }] of malformed.entries()) await env.API_KEYS.put(`sha256:${names[i]}`, record); // no metadata
    });
    const listed = JSON.parse((await keys("list", "--json")).stdout);
    assert.deepEqual(listed.map((k) => k.fingerprint).sort(), names.map((n) => n.slice(0, 12)).sort());
    for (const entry of listed) assert.equal(entry.status, "unreadable", JSON.stringify(entry));
    const { stdout: table, stderr } = await keys("list");
    for (const name of names) {
      assert.match(table, new RegExp(`^${name.slice(0, 12)}\\s+unreadable$`, "m"));
      assert.match(stderr, new RegExp(`^Key ${name.slice(0, 12)} has an unreadable record \\(.+\\): the worker refuses it\\.$`, "m"));
    }
  }));

// An ingest key: the platform's end-call webhook, with the URL to paste into the assistant's
// assistant_end_call_url, which the platform caps at 200 characters.
const WEBHOOK_URL = /^(.+)\/webhooks\/end-call\/(cak_[A-Za-z0-9_-]{43})$/;

test("an ingest key comes with its webhook URL, which must fit the platform's 200 characters", () =>
  ownState(async (keys) => {
    const placeholder = await keys("create", "--role", "ingest", "--label", "voice platform");
    assert.equal(placeholder.code, 0, placeholder.stderr);
    const [key, url, ...more] = placeholder.stdout.trim().split("\n");
    assert.deepEqual(more, [], "stdout: the key, then its URL");
    assert.match(key, /^cak_[A-Za-z0-9_-]{43}$/);
    assert.equal(url, `https://<your-worker-host>/webhooks/end-call/${key}`);
    assert.match(placeholder.stderr, /^Created an ingest key in local KV, fingerprint [0-9a-f]{12}; it expires \S+\.$/m);
    assert.match(placeholder.stderr, /^Replace https:\/\/<your-worker-host> with the worker's origin \(at most 134 characters/m);

    const json = await keys("create", "--role", "ingest", "--label", "voice platform 2", "--base-url", "https://Call-Analytics.Example.workers.dev/", "--json");
    assert.equal(json.code, 0, json.stderr);
    const created = JSON.parse(json.stdout);
    assert.equal(created.webhook_url, `https://call-analytics.example.workers.dev/webhooks/end-call/${created.key}`, "the origin, as a browser writes it");
    assert.equal(created.role, "ingest");
    assert.equal(parseRfc3339(created.expires_at) - parseRfc3339(created.created_at), 90 * 86_400_000, "the same default expiry");
    const superAdmin = JSON.parse((await keys("create", "--role", "super_admin", "--label", "ops", "--json")).stdout);
    assert.equal(superAdmin.webhook_url, undefined, "only an ingest key has a webhook URL");

    // The path and the key take 66 characters: an origin of 134 (a host of 126) fits exactly.
    const host = `${"a".repeat(63)}.${"b".repeat(62)}`;
    const longest = await keys("create", "--role", "ingest", "--label", "longest", "--base-url", `https://${host}`);
    assert.equal(longest.code, 0, longest.stderr);
    const longestUrl = longest.stdout.trim().split("\n")[1];
    assert.equal(longestUrl.length, 200);
    assert.match(longest.stderr, /\(it holds the key; 200 of the platform's 200 characters\):$/m);
    const before = JSON.parse((await keys("list", "--json")).stdout).length;
    const tooLong = await keys("create", "--role", "ingest", "--label", "too long", "--base-url", `https://${host}b`);
    assert.equal(tooLong.code, 2, tooLong.stderr);
    assert.match(
      tooLong.stderr,
      /^keys: --base-url makes the webhook URL 201 characters, over the 200 the platform's assistant_end_call_url holds: the path and the key take 66, so the origin \(135 characters\) may have at most 134$/m,
    );
    assert.equal(tooLong.stdout, "", "no key printed");
    for (const [args, reason] of [
      [["--base-url", "https://calls.example.com/api"], /without a path, query or fragment/],
      [["--base-url", "https://calls.example.com/?token=1"], /without a path, query or fragment/],
      [["--base-url", "ftp://calls.example.com"], /not ftp:/],
      [["--base-url", "calls.example.com"], /is not a URL/],
      [["--base-url", "https://user:secret@calls.example.com"], /without credentials/],
    ]) {
      const refused = await keys("create", "--role", "ingest", "--label", "bad base", ...args);
      assert.equal(refused.code, 2, `${args.join(" ")}: ${refused.stderr}`);
      assert.match(refused.stderr, /^keys: --base-url must be the worker's origin, http\(s\):\/\/host\[:port\]/m);
      assert.match(refused.stderr, reason);
    }
    const notIngest = await keys("create", "--role", "super_admin", "--label", "admin in a URL", "--base-url", "https://calls.example.com");
    assert.equal(notIngest.code, 2);
    assert.match(notIngest.stderr, /^keys: --base-url is for --role ingest only/m);
    assert.equal(JSON.parse((await keys("list", "--json")).stdout).length, before, "a refused key writes nothing");

    // Listed and revoked like any key.
    const { stdout: table } = await keys("list");
    assert.match(table, new RegExp(`^${fingerprintOf(key)}\\s+ingest\\s+voice platform\\s+\\S+\\s+\\S+\\s+active$`, "m"));
    assert.equal((await keys("revoke", fingerprintOf(key))).code, 0);
    const listed = JSON.parse((await keys("list", "--json")).stdout);
    assert.equal(listed.find((k) => k.fingerprint === fingerprintOf(key)).status, "revoked");
  }));

/** POSTs a webhook body to `url`, with `headers`; returns { status, body, requestId }. */
async function post(url, body, headers = {}) {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json(), requestId: response.headers.get("x-request-id") };
}

test("an ingest key posts the end-call webhook (its URL, or as a bearer token) and nothing else; a super-admin key cannot", async () => {
  const { base } = await worker();
  const created = await keys("create", "--role", "ingest", "--label", "voice platform", "--base-url", base, "--json");
  assert.equal(created.code, 0, created.stderr);
  const { key, webhook_url: url } = JSON.parse(created.stdout);
  assert.equal(url.match(WEBHOOK_URL)?.[1], base);
  const number = `0801${String(Date.now() % 10_000_000).padStart(7, "0")}`;
  const call = (room) => ({
    success: true,
    message: "Call completed",
    data: { room_name: room, started_at: new Date(Date.now() - 60_000).toISOString(), call_duration_minutes: 2.5, created_by_email: "alice@example.com", call_type: "outbound", call_service: "exotel", platform_number: number, to_number: "+919999999999", transcripts: [] },
  });

  const inPath = await post(url, call("keys-cli-path"));
  assert.equal(inPath.status, 202, JSON.stringify(inPath.body));
  assert.equal(inPath.body.message, "Call accepted");
  assert.equal(inPath.body.data.room_name, "keys-cli-path");
  assert.match(inPath.body.data.received_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const line = await (await worker()).logLineFor(inPath.requestId);
  assert.equal(line.path, "/webhooks/end-call/{key}", "the key never reaches the worker's log line");
  assert.equal(line.key, fingerprintOf(key));
  const bearer = await post(`${base}/webhooks/end-call`, call("keys-cli-bearer"), { Authorization: `Bearer ${key}` });
  assert.equal(bearer.status, 202, JSON.stringify(bearer.body));

  const report = await request(base, ENDPOINT, { key });
  assert.equal(report.status, 403);
  assert.equal(report.body.message, "This endpoint requires a super-admin API key");
  const admin = (await keys("create", "--role", "super_admin", "--label", "reads the webhook's calls")).stdout.trim();
  const misused = await post(`${base}/webhooks/end-call/${admin}`, call("keys-cli-admin"));
  assert.equal(misused.status, 403);
  assert.equal(misused.body.message, "This endpoint requires an ingest key (a super-admin key must never be put in a webhook URL)");

  // The queue writes both calls to D1; the report counts them under the platform number.
  const since = Date.now();
  for (;;) {
    const { body } = await request(base, ENDPOINT, { key: admin });
    const row = body.data.phone_numbers.find((r) => r.phone_number === number);
    if (row?.total_calls === 2) {
      assert.equal(row.total_duration_minutes, 5);
      break;
    }
    assert.ok(Date.now() - since < 20_000, `the calls are not in the report 20 s later: ${JSON.stringify(body.data)}`);
    await new Promise((r) => setTimeout(r, 250));
  }

  // Rotation: once revoked, the old URL stops working (within the worker's 10 s memory of the key).
  assert.equal((await keys("revoke", fingerprintOf(key))).code, 0);
  const revokedAt = Date.now();
  while ((await post(url, call("keys-cli-revoked"))).status !== 401) {
    assert.ok(Date.now() - revokedAt < 12_000, "still accepted 12 s after the revocation");
    await new Promise((r) => setTimeout(r, 250));
  }
});
