// API keys in Workers KV. A key is shown once, at creation; KV holds only its SHA-256:
//   name  sha256:<lowercase hex SHA-256 of the raw key>
//   value {"role", "label", "created_at", "expires_at", "revoked"}  (the same JSON is kept as the entry's
//         metadata, so listing needs no per-key read; revoking adds "revoked_at")
// The contract with the worker, which reads these records, is tests/vectors/key-records.json.
import { createHash, randomBytes } from "node:crypto";
import { formatUtc, parseRfc3339 } from "./rfc3339.mjs";

export const KEY_PREFIX = "cak_";
/** A key expires this long after its creation unless told otherwise (an explicit date, or none at all). */
export const DEFAULT_LIFETIME_DAYS = 90;
/** `list` marks keys that expire within this many days. */
export const EXPIRING_SOON_DAYS = 7;
const DAY_MS = 86_400_000;
export const FINGERPRINT_LENGTH = 12;
const NAME_PREFIX = "sha256:";
/** Workers KV keeps at most this many bytes of metadata (its JSON) with an entry. */
export const METADATA_LIMIT_BYTES = 1024;
/** Roles are lowercase letters and underscores, at most this many. */
export const MAX_ROLE_LENGTH = 32;
/**
 * Labels are at most this many characters (Unicode code points), none of them a control character. The
 * largest record the tool writes is then a revoked one with a 32-letter role, three 24-character instants
 * and a label of 200 four-byte characters (no allowed character takes more in JSON: `"` and `\` take two):
 * 189 + 4 × 200 = 989 bytes, 35 under METADATA_LIMIT_BYTES (tests/tools/apikeys.test.mjs works it out).
 */
export const MAX_LABEL_LENGTH = 200;
const ROLE = new RegExp(`^[a-z_]{1,${MAX_ROLE_LENGTH}}$`);
const CONTROL = /\p{Cc}/u;

export function sha256Hex(text) {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** A new raw key: the prefix and 256 bits from the OS CSPRNG, base64url (43 characters). */
export function generateKey() {
  return KEY_PREFIX + randomBytes(32).toString("base64url");
}
/** Every key's length: the prefix and 43 base64url characters. */
export const KEY_LENGTH = KEY_PREFIX.length + 43;

/** The role of the keys the platform's end-call webhook takes (src/access/: `Role::Ingest`). */
export const INGEST_ROLE = "ingest";
/** The platform keeps at most this many characters of an assistant's `assistant_end_call_url`. */
export const MAX_WEBHOOK_URL_LENGTH = 200;
/** The webhook's path, before the key (src/http/routing.rs): the worker serves it at the root of its host. */
export const WEBHOOK_PATH = "/webhooks/end-call/";
/** What an ingest key's webhook URL starts with when no base URL is given. */
export const PLACEHOLDER_BASE_URL = "https://<your-worker-host>";
/** The most characters a base URL (scheme, host, port) may have for its webhook URL to fit. */
export const MAX_WEBHOOK_BASE_LENGTH = MAX_WEBHOOK_URL_LENGTH - WEBHOOK_PATH.length - KEY_LENGTH;

/**
 * The base of an ingest key's webhook URL: `baseUrl` (http or https, a host and maybe a port: no path, query,
 * fragment or credentials, since the worker serves the webhook at the root of its host) as its origin
 * (`https://Host.example/` is `https://host.example`), or the placeholder when it is undefined. Throws if it
 * is anything else, or too long for the webhook URL to fit the platform's {@link MAX_WEBHOOK_URL_LENGTH}
 * characters. Nothing about the key is needed: every key has the same length.
 */
export function webhookBase(baseUrl) {
  if (baseUrl === undefined) return PLACEHOLDER_BASE_URL;
  const rule = "--base-url must be the worker's origin, http(s)://host[:port] (such as https://call-analytics.example.workers.dev)";
  let url;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`${rule}; ${JSON.stringify(baseUrl)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`${rule}, not ${url.protocol}`);
  if (url.username || url.password) throw new Error(`${rule}, without credentials`);
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new Error(`${rule}, without a path, query or fragment: the worker serves the webhook at ${WEBHOOK_PATH}<key>`);
  }
  const base = url.origin;
  const length = base.length + WEBHOOK_PATH.length + KEY_LENGTH;
  if (length > MAX_WEBHOOK_URL_LENGTH) {
    throw new Error(
      `--base-url makes the webhook URL ${length} characters, over the ${MAX_WEBHOOK_URL_LENGTH} the platform's ` +
        `assistant_end_call_url holds: the path and the key take ${WEBHOOK_PATH.length + KEY_LENGTH}, so the origin ` +
        `(${base.length} characters) may have at most ${MAX_WEBHOOK_BASE_LENGTH}`,
    );
  }
  return base;
}

/** The URL the platform posts an ingest key's end-call webhooks to (`base` from {@link webhookBase}). */
export function webhookUrl(base, key) {
  return base + WEBHOOK_PATH + key;
}

export function fingerprintOf(hashHex) {
  return hashHex.slice(0, FINGERPRINT_LENGTH);
}

/** The KV entry name of the key whose SHA-256 is `hashHex`. */
export function storageName(hashHex) {
  return NAME_PREFIX + hashHex;
}

function checkRole(role) {
  if (typeof role === "string" && ROLE.test(role)) return;
  const likely = typeof role === "string" ? role.trim().toLowerCase().replace(/[-\s]+/g, "_") : "";
  const hint = ROLE.test(likely) ? ` (did you mean ${likely}?)` : "";
  throw new Error(`role must be 1 to ${MAX_ROLE_LENGTH} lowercase letters and underscores, e.g. super_admin${hint}`);
}

function checkLabel(label) {
  const rule = `--label must be at most ${MAX_LABEL_LENGTH} characters, with no control characters`;
  if (typeof label !== "string") throw new Error(`${rule} (it is not text)`);
  const characters = [...label];
  if (characters.length > MAX_LABEL_LENGTH) throw new Error(`${rule}; it has ${characters.length} characters`);
  const control = characters.find((c) => CONTROL.test(c));
  if (control) throw new Error(`${rule}; it has U+${control.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`);
  // A lone surrogate (possible from code, not from a command line) would be written as \udXXX, which the worker refuses.
  if (!label.isWellFormed()) throw new Error(`${rule}, and must be Unicode text (it has a lone surrogate)`);
}

function expiry(expiresAt, now) {
  if (expiresAt === null) return null;
  if (expiresAt === undefined) return formatUtc(now.getTime() + DEFAULT_LIFETIME_DAYS * DAY_MS);
  const millis = parseRfc3339(expiresAt);
  if (Number.isNaN(millis)) {
    throw new Error("--expires-at must be an RFC 3339 datetime with Z or an offset, such as 2027-01-01T00:00:00Z");
  }
  try {
    return formatUtc(millis);
  } catch {
    throw new Error("--expires-at must fall in the years 0000 to 9999 in UTC");
  }
}

/**
 * The record `createKey(kv, options)` would write, checked; throws for any mistake in the options. Nothing
 * is written: the key tool calls it before it opens KV.
 */
export function newRecord({ role, label = "", expiresAt, replace = false, now = new Date() }) {
  checkRole(role);
  checkLabel(label);
  // --replace deletes the keys with this label: never all the unlabelled ones by accident.
  if (replace && label === "") throw new Error("--replace needs --label (it replaces the keys with that label)");
  return { role, label, created_at: formatUtc(now.getTime()), expires_at: expiry(expiresAt, now), revoked: false };
}

async function put(kv, hashHex, record) {
  const json = JSON.stringify(record);
  const bytes = Buffer.byteLength(json);
  if (bytes > METADATA_LIMIT_BYTES) {
    throw new Error(`the key record would take ${bytes} bytes, over the ${METADATA_LIMIT_BYTES} bytes Workers KV keeps as metadata`);
  }
  await kv.put(storageName(hashHex), json, { metadata: record });
}

/**
 * Creates a key; returns { key, fingerprint, record, replaced }. The raw key exists only in the return value.
 * `expiresAt`: an RFC 3339 datetime, `null` for a key that never expires, or left out for the default
 * lifetime ({@link DEFAULT_LIFETIME_DAYS} days). `replace`: then deletes the other keys with this label
 * (`replaced` counts them). Everything is checked before anything is written, and the new key is written
 * before the old ones go.
 */
export async function createKey(kv, options = {}) {
  const record = newRecord(options);
  const doomed = options.replace ? (await listKeys(kv)).filter((e) => e.record?.label === record.label) : [];
  const key = generateKey();
  const hash = sha256Hex(key);
  await put(kv, hash, record);
  for (const entry of doomed) await kv.delete(storageName(entry.hash));
  return { key, fingerprint: fingerprintOf(hash), record, replaced: doomed.length };
}

/**
 * Reads a key record's JSON text by the worker's rules (tests/vectors/key-records.json): a JSON object whose
 * role is a string (required), expires_at null, absent or an RFC 3339 instant, revoked a boolean, null or
 * absent; other fields are kept but never decide. Returns { record, role, expiresAt (epoch ms or null),
 * revoked } or, for anything else, { malformed: the reason }.
 */
export function readRecord(text) {
  let record;
  try {
    record = JSON.parse(text);
  } catch {
    return { malformed: "not JSON" };
  }
  if (record === null || typeof record !== "object" || Array.isArray(record)) return { malformed: "not a JSON object" };
  const field = (name) => (Object.hasOwn(record, name) ? record[name] : undefined);
  const [role, expiresAt, revoked] = [field("role"), field("expires_at"), field("revoked")];
  if (role === undefined) return { malformed: "no role" };
  if (typeof role !== "string") return { malformed: "role is not a string" };
  const expiryMillis = expiresAt === undefined || expiresAt === null ? null : parseRfc3339(expiresAt);
  if (Number.isNaN(expiryMillis)) return { malformed: "expires_at is not an RFC 3339 instant" };
  if (revoked !== undefined && revoked !== null && typeof revoked !== "boolean") return { malformed: "revoked is not a boolean" };
  return { record, role, expiresAt: expiryMillis, revoked: revoked === true };
}

/**
 * Every key entry: [{ fingerprint, hash, read, record }], oldest first. `read` is {@link readRecord}'s
 * answer; `record` the record's fields (null when unreadable). The metadata is read, and the value when the
 * metadata is missing or unreadable (an entry written by hand, say).
 */
export async function listKeys(kv) {
  const entries = [];
  let cursor;
  do {
    const page = await kv.list({ prefix: NAME_PREFIX, cursor });
    for (const { name, metadata } of page.keys) {
      let read = metadata == null ? { malformed: "no metadata" } : readRecord(JSON.stringify(metadata));
      if (read.malformed) read = readRecord(await kv.get(name));
      const hash = name.slice(NAME_PREFIX.length);
      entries.push({ fingerprint: fingerprintOf(hash), hash, read, record: read.record ?? null });
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return entries.sort((a, b) => String(a.record?.created_at ?? "").localeCompare(String(b.record?.created_at ?? "")));
}

function findOne(entries, fingerprint) {
  const wanted = String(fingerprint).toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(wanted)) throw new Error("a fingerprint is 8 to 64 hex characters (see `list`)");
  const matches = entries.filter((e) => e.hash.startsWith(wanted));
  if (matches.length !== 1) {
    throw new Error(matches.length ? `fingerprint ${wanted} matches ${matches.length} keys; give more characters` : `no key with fingerprint ${wanted}`);
  }
  return matches[0];
}

/** Marks a key revoked (its entry stays, for the record). Returns the entry, with the record written. */
export async function revokeKey(kv, fingerprint, now = new Date()) {
  const entry = findOne(await listKeys(kv), fingerprint);
  if (entry.read.malformed) {
    throw new Error(`the record of key ${entry.fingerprint} is unreadable (${entry.read.malformed}); the worker refuses the key already`);
  }
  const record = { ...entry.record, revoked: true, revoked_at: formatUtc(now.getTime()) };
  await put(kv, entry.hash, record);
  return { ...entry, record, read: readRecord(JSON.stringify(record)) };
}

/** What `list` says of a key, from {@link readRecord}'s answer: unreadable, revoked, expired, expiring soon
 * (within EXPIRING_SOON_DAYS days) or active. */
export function status(read, now = Date.now()) {
  if (read.malformed) return "unreadable";
  if (read.revoked) return "revoked";
  const expiry = read.expiresAt ?? Infinity;
  if (now >= expiry) return "expired";
  if (expiry - now <= EXPIRING_SOON_DAYS * DAY_MS) return "expiring soon";
  return "active";
}
