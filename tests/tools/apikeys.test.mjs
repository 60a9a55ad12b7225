// The key tool's side of the key-record contract (tests/vectors/key-records.json, which the worker's tests
// read too): names, key shape, the records it writes and how it reads them. KV is an in-memory stand-in.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  createKey,
  fingerprintOf,
  generateKey,
  listKeys,
  MAX_LABEL_LENGTH,
  MAX_ROLE_LENGTH,
  newRecord,
  readRecord,
  revokeKey,
  sha256Hex,
  status,
  storageName,
} from "../../scripts/lib/apikeys.mjs";
import { parseRfc3339 } from "../../scripts/lib/rfc3339.mjs";

const VECTORS = JSON.parse(readFileSync(new URL("../vectors/key-records.json", import.meta.url), "utf8"));
const NOW = parseRfc3339(VECTORS.now);
const vector = (name) => {
  const found = VECTORS.records.find((r) => r.name === name);
  assert.ok(found, `no vector named "${name}"`);
  return found.record;
};

/** Workers KV as the tool uses it: put (metadata kept as JSON, at most 1,024 bytes of it, refused as local
 * KV refuses it), get, delete, and list in pages of two. */
function memoryKv() {
  const entries = new Map();
  return {
    entries,
    async put(name, value, { metadata } = {}) {
      const json = metadata === undefined ? undefined : JSON.stringify(metadata);
      const bytes = json === undefined ? 0 : Buffer.byteLength(json);
      if (bytes > 1024) throw new Error(`KV PUT failed: 413 Metadata length of ${bytes} exceeds limit of 1024.`);
      entries.set(name, { value: String(value), metadata: json });
    },
    async get(name) {
      return entries.get(name)?.value ?? null;
    },
    async delete(name) {
      entries.delete(name);
    },
    async list({ prefix = "", cursor } = {}) {
      const names = [...entries.keys()].filter((n) => n.startsWith(prefix)).sort();
      const start = cursor === undefined ? 0 : Number(cursor);
      const keys = names.slice(start, start + 2).map((name) => {
        const { metadata } = entries.get(name);
        return metadata === undefined ? { name } : { name, metadata: JSON.parse(metadata) };
      });
      const complete = start + 2 >= names.length;
      return complete ? { keys, list_complete: true } : { keys, list_complete: false, cursor: String(start + 2) };
    },
  };
}

/** The one entry of a KV that holds one: { name, value, metadata } (metadata as its JSON text). */
async function onlyEntry(kv) {
  assert.equal(kv.entries.size, 1);
  const [[name, { value, metadata }]] = kv.entries;
  return { name, value, metadata };
}

test("the known key's hash, entry name and fingerprint", () => {
  const { key, sha256, storage_name, fingerprint } = VECTORS.known_key;
  assert.equal(sha256Hex(key), sha256);
  assert.equal(storageName(sha256), storage_name);
  assert.equal(fingerprintOf(sha256), fingerprint);
});

test("every generated key has the shape the worker looks for: the prefix and 43 base64url characters", () => {
  const { prefix, length, alphabet } = VECTORS.key_shape;
  const shaped = (token) => token.startsWith(prefix) && token.length === length && [...token.slice(prefix.length)].every((c) => alphabet.includes(c));
  // The vector's own token lists agree with its shape.
  for (const token of VECTORS.tokens.ours) assert.ok(shaped(token), token);
  for (const token of VECTORS.tokens.not_ours) assert.ok(!shaped(token), token);
  assert.equal(prefix.length + 43, length);
  const seen = new Set();
  for (let i = 0; i < 2000; i++) {
    const key = generateKey();
    assert.ok(shaped(key), key.length); // (not the key itself in a failure message)
    const body = key.slice(prefix.length);
    assert.equal(Buffer.from(body, "base64url").length, 32);
    assert.equal(Buffer.from(body, "base64url").toString("base64url"), body);
    for (const c of body.slice(0, -1)) seen.add(c);
  }
  // All 64 characters turn up in the first 42 places (a shortfall is odds of about 64·(63/64)^84000).
  assert.equal(seen.size, 64);
});

test("createKey writes the vectors' records byte for byte, as the value and as the metadata", async () => {
  const created = new Date("2026-08-03T00:00:00.000Z");
  for (const [options, name] of [
    [{ role: "super_admin", label: "ops", expiresAt: "2026-11-01T00:00:00.001Z" }, "as the tool writes a super-admin key"],
    [{ role: "super_admin", label: "ops", expiresAt: "2026-11-01T01:00:00.001+01:00" }, "as the tool writes a super-admin key"],
    [{ role: "super_admin", expiresAt: null }, "as the tool writes a key without expiry"],
    [{ role: "super_admin", label: "ops" }, "expires exactly now"], // the default lifetime: 90 days after 2026-08-03
    [{ role: "admin", label: "viewer", expiresAt: null }, "another role"],
    [{ role: "ingest", label: "platform webhook", expiresAt: null }, "an ingest key"],
  ]) {
    const kv = memoryKv();
    const result = await createKey(kv, { ...options, now: created });
    const { name: entryName, value, metadata } = await onlyEntry(kv);
    assert.equal(value, vector(name), name);
    assert.equal(metadata, vector(name), name);
    assert.equal(entryName, storageName(sha256Hex(result.key)));
    assert.equal(result.fingerprint, fingerprintOf(sha256Hex(result.key)));
    assert.ok(!value.includes(result.key.slice(4)) && !entryName.includes(result.key.slice(4)), "the raw key is not stored");
  }
});

test("revoking writes the vector's revoked record, and keeps the entry", async () => {
  const kv = memoryKv();
  const { fingerprint } = await createKey(kv, { role: "super_admin", label: "ops", expiresAt: null, now: new Date("2026-08-03T00:00:00Z") });
  const entry = await revokeKey(kv, fingerprint, new Date("2026-10-01T00:00:00Z"));
  const { value, metadata } = await onlyEntry(kv);
  assert.equal(value, vector("as the tool revokes a key"));
  assert.equal(metadata, value);
  assert.equal(status(entry.read, NOW), "revoked");
  const [listed] = await listKeys(kv);
  assert.equal(listed.fingerprint, fingerprint);
  assert.equal(status(listed.read, NOW), "revoked");
});

test("every record vector reads as the vector says", async () => {
  const counts = {};
  for (const { name, record, status: expected, role } of VECTORS.records) {
    counts[expected] = (counts[expected] ?? 0) + 1;
    const read = readRecord(record);
    const said = status(read, NOW);
    if (expected === "malformed") {
      assert.ok(read.malformed, `${name}: read as ${JSON.stringify(read)}`);
      assert.equal(said, "unreadable", name);
      continue;
    }
    assert.equal(read.malformed, undefined, `${name}: ${read.malformed}`);
    assert.equal(read.role, role, name);
    if (expected === "live") assert.ok(["active", "expiring soon"].includes(said), `${name}: ${said}`);
    else assert.equal(said, expected, name);
  }
  assert.ok(counts.live >= 9 && counts.expired >= 3 && counts.revoked >= 2 && counts.malformed >= 19, JSON.stringify(counts));
});

test("listKeys reads every record vector the same way, from the metadata or (without it) from the value", async () => {
  for (const withMetadata of [false, true]) {
    const kv = memoryKv();
    const expected = new Map();
    for (const [i, { record, status: said }] of VECTORS.records.entries()) {
      const hash = sha256Hex(`vector ${i}`);
      const readable = said !== "malformed";
      // KV metadata is JSON: an unreadable record can only be a value (an entry written by hand).
      await kv.put(storageName(hash), record, withMetadata && readable ? { metadata: JSON.parse(record) } : {});
      expected.set(fingerprintOf(hash), { live: ["active", "expiring soon"], malformed: ["unreadable"] }[said] ?? [said]);
    }
    const listed = await listKeys(kv);
    assert.equal(listed.length, VECTORS.records.length);
    for (const { fingerprint, read } of listed) assert.ok(expected.get(fingerprint).includes(status(read, NOW)), `${fingerprint}: ${status(read, NOW)}`);
  }
});

test("status: a week before expiry is 'expiring soon', a moment more is 'active'", () => {
  const read = readRecord(JSON.stringify({ role: "super_admin", expires_at: "2026-11-08T00:00:00Z" }));
  assert.equal(status(read, NOW), "expiring soon");
  assert.equal(status(read, NOW - 1), "active");
  assert.equal(status(read, parseRfc3339("2026-11-08T00:00:00Z")), "expired");
});

test("an unreadable record is listed but not revoked", async () => {
  const kv = memoryKv();
  const hash = sha256Hex("hand-written");
  await kv.put(storageName(hash), '{"role":"super_admin","expires_at":"2027-02-30T00:00:00Z"}');
  const [entry] = await listKeys(kv);
  assert.deepEqual(entry.read, { malformed: "expires_at is not an RFC 3339 instant" });
  await assert.rejects(revokeKey(kv, fingerprintOf(hash)), /unreadable \(expires_at is not an RFC 3339 instant\); the worker refuses the key already/);
  assert.equal(await kv.get(storageName(hash)), '{"role":"super_admin","expires_at":"2027-02-30T00:00:00Z"}');
});

test("createKey with replace: a mistake, or a write that fails, deletes nothing", async () => {
  const kv = memoryKv();
  const old = await createKey(kv, { role: "super_admin", label: "ci" });
  const other = await createKey(kv, { role: "super_admin", label: "other" });
  for (const [options, reason] of [
    [{ role: "super-admin", label: "ci" }, /^Error: role must be 1 to 32 lowercase letters and underscores, e\.g\. super_admin \(did you mean super_admin\?\)$/],
    [{ role: "a".repeat(33), label: "ci" }, /^Error: role must be 1 to 32/],
    [{ role: "super_admin", label: "ci", expiresAt: "2027-02-30T00:00:00Z" }, /^Error: --expires-at must be an RFC 3339 datetime/],
    [{ role: "super_admin", label: "ci", expiresAt: "9999-12-31T23:59:59-01:00" }, /^Error: --expires-at must fall in the years 0000 to 9999 in UTC$/],
    [{ role: "super_admin", label: "" }, /^Error: --replace needs --label/],
  ]) {
    await assert.rejects(createKey(kv, { ...options, replace: true }), reason, JSON.stringify(options));
  }
  const failing = { ...kv, put: async () => Promise.reject(new Error("KV PUT failed: 500")) };
  await assert.rejects(createKey(failing, { role: "super_admin", label: "ci", replace: true }), /KV PUT failed: 500/);
  const fingerprints = async () => (await listKeys(kv)).map((e) => e.fingerprint).sort();
  assert.deepEqual(await fingerprints(), [old.fingerprint, other.fingerprint].sort());
  const fresh = await createKey(kv, { role: "super_admin", label: "ci", replace: true });
  assert.equal(fresh.replaced, 1);
  assert.deepEqual(await fingerprints(), [other.fingerprint, fresh.fingerprint].sort());
});

/** Bytes a label's character takes in the record's JSON (JSON.stringify, as the tool and KV write it). */
const width = (character) => Buffer.byteLength(JSON.stringify(character)) - 2;
const labelRefused = (label) => {
  try {
    newRecord({ role: "super_admin", label });
    return false;
  } catch (error) {
    return /^--label must be at most 200 characters, with no control characters/.test(error.message);
  }
};

test("no character a label may hold takes more than 4 bytes in the record's JSON", () => {
  // Every code point, and every lone surrogate: the ones JSON.stringify writes as \uXXXX (6 bytes) are refused.
  let widest = 0;
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    const character = String.fromCodePoint(cp);
    if (width(character) > 4) assert.ok(labelRefused(`a${character}b`), `U+${cp.toString(16)} takes ${width(character)} bytes`);
    else widest = Math.max(widest, width(character));
  }
  assert.equal(widest, 4);
  assert.equal(width("😀"), 4);
  assert.equal(width('"'), 2);
  assert.equal(width("\\"), 2);
  for (const c of ["\u0000", "\u001f", "\u007f", "\u0085", "\u009f"]) assert.ok(labelRefused(`a${c}b`), JSON.stringify(c)); // all of Unicode's Cc
});

test("the largest record the tool can write, revoked, is 989 bytes: 35 under KV's 1,024-byte metadata limit", async () => {
  assert.equal(MAX_LABEL_LENGTH, 200);
  assert.equal(MAX_ROLE_LENGTH, 32);
  const kv = memoryKv();
  // Every field at its longest: a 32-letter role, 200 four-byte characters, three 24-character instants.
  const { fingerprint } = await createKey(kv, {
    role: "z".repeat(32),
    label: "😀".repeat(200),
    expiresAt: "9999-12-31T23:59:59.999Z",
    now: new Date("9999-12-31T23:59:59.999Z"),
  });
  await revokeKey(kv, fingerprint, new Date("9999-12-31T23:59:59.999Z"));
  const { value, metadata } = await onlyEntry(kv);
  assert.equal(metadata, value);
  // By hand: {"role":" 9 + 32, ","label":" 11 + the label, ","created_at":" 16 + 24, ","expires_at":" 16 + 24,
  // ","revoked":true 16, ,"revoked_at":" 15 + 24, "} 2: 189 bytes, and 4 × 200 for the label.
  assert.equal(Buffer.byteLength(value), 189 + 4 * 200);
  assert.equal(1024 - Buffer.byteLength(value), 35);
  assert.equal(status(readRecord(value), NOW), "revoked");
  // The vector the worker reads too: the same fields, at the vectors' dates.
  const dated = memoryKv();
  const at = (text) => new Date(text);
  const again = await createKey(dated, { role: "z".repeat(32), label: "😀".repeat(200), expiresAt: "2026-11-01T00:00:00.001Z", now: at("2026-08-03T00:00:00Z") });
  await revokeKey(dated, again.fingerprint, at("2026-10-01T00:00:00Z"));
  assert.equal((await onlyEntry(dated)).value, vector("the largest record the tool writes: revoked, a 32-letter role, 200 four-byte characters"));
  // The same with quotes and backslashes, JSON's only escapes in an allowed label: smaller.
  const escaped = await createKey(memoryKv(), { role: "z".repeat(32), label: '"\\'.repeat(100), expiresAt: null });
  // {"role":" 9 + 32, ","label":" 11 + 400, ","created_at":" 16 + 24, ","expires_at": 15 + 4, ,"revoked": 11 + 5, } 1
  assert.equal(Buffer.byteLength(JSON.stringify(escaped.record)), 128 + 400);
});

test("a label one character past the bound, or with a control character, is refused before anything is written", async () => {
  const kv = memoryKv();
  const other = await createKey(kv, { role: "super_admin", label: "keep" });
  for (const [label, reason] of [
    ["😀".repeat(201), /^Error: --label must be at most 200 characters, with no control characters; it has 201 characters$/],
    ["x".repeat(201), /; it has 201 characters$/],
    ["tab\there", /; it has U\+0009$/],
    ["line\nbreak", /; it has U\+000A$/],
    ["a\u0085b", /; it has U\+0085$/],
    ["lone \ud83d", /must be Unicode text \(it has a lone surrogate\)$/],
  ]) {
    await assert.rejects(createKey(kv, { role: "super_admin", label }), reason, JSON.stringify(label));
    await assert.rejects(createKey(kv, { role: "super_admin", label, replace: true }), reason, JSON.stringify(label));
  }
  assert.deepEqual((await listKeys(kv)).map((e) => e.fingerprint), [other.fingerprint]);
  // At the bound, in any characters: accepted.
  for (const label of ["😀".repeat(200), "x".repeat(200), "é".repeat(200), '"'.repeat(200)]) assert.equal(newRecord({ role: "super_admin", label }).label, label);
});

test("a record too big for KV's metadata is refused by the tool, and left as it was", async () => {
  const kv = memoryKv();
  const hash = sha256Hex("hand-written, with a note");
  const record = { role: "super_admin", note: "n".repeat(968) }; // {"role":"super_admin","note":""} is 32 bytes
  await kv.put(storageName(hash), JSON.stringify(record), { metadata: record });
  assert.equal(Buffer.byteLength(JSON.stringify(record)), 1000);
  // Revoking adds ,"revoked":true (15 bytes) and ,"revoked_at":"…" (15 + 24 + 1).
  await assert.rejects(revokeKey(kv, fingerprintOf(hash)), /^Error: the key record would take 1055 bytes, over the 1024 bytes Workers KV keeps as metadata$/);
  assert.equal(await kv.get(storageName(hash)), JSON.stringify(record));
});
