// API keys in Workers KV. A key is shown once, at creation; KV holds only its SHA-256:
//   name  sha256:<lowercase hex SHA-256 of the raw key>
//   value {"role", "label", "created_at", "expires_at", "revoked"}  (the same JSON is kept as the entry's
//         metadata, so listing needs no per-key read)
import { createHash, randomBytes } from "node:crypto";
import { parseRfc3339 } from "./rfc3339.mjs";

export const KEY_PREFIX = "cak_";
/** A key expires this long after its creation unless told otherwise (an explicit date, or none at all). */
export const DEFAULT_LIFETIME_DAYS = 90;
/** `list` marks keys that expire within this many days. */
export const EXPIRING_SOON_DAYS = 7;
const DAY_MS = 86_400_000;
export const FINGERPRINT_LENGTH = 12;
const NAME_PREFIX = "sha256:";

export function sha256Hex(text) {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** A new raw key: the prefix and 256 bits from the OS CSPRNG, base64url. */
export function generateKey() {
  return KEY_PREFIX + randomBytes(32).toString("base64url");
}

export function fingerprintOf(hashHex) {
  return hashHex.slice(0, FINGERPRINT_LENGTH);
}

function parseInstant(text, what) {
  const millis = parseRfc3339(text);
  if (Number.isNaN(millis)) {
    throw new Error(`${what} must be an RFC 3339 datetime with Z or an offset, such as 2027-01-01T00:00:00Z`);
  }
  return new Date(millis).toISOString();
}

async function put(kv, hashHex, record) {
  await kv.put(NAME_PREFIX + hashHex, JSON.stringify(record), { metadata: record });
}

/**
 * Creates a key; returns { key, fingerprint, record }. The raw key exists only in the return value.
 * `expiresAt`: an RFC 3339 datetime, `null` for a key that never expires, or left out for the default
 * lifetime ({@link DEFAULT_LIFETIME_DAYS} days).
 */
export async function createKey(kv, { role, label = "", expiresAt, revoked = false, now = new Date() }) {
  if (!role || !/^[a-z_]+$/.test(role)) throw new Error("role must be lowercase letters and underscores, e.g. super_admin");
  const key = generateKey();
  const hash = sha256Hex(key);
  const record = {
    role,
    label,
    created_at: now.toISOString(),
    expires_at:
      expiresAt === null
        ? null
        : expiresAt === undefined
          ? new Date(now.getTime() + DEFAULT_LIFETIME_DAYS * DAY_MS).toISOString()
          : parseInstant(expiresAt, "--expires-at"),
    revoked,
  };
  await put(kv, hash, record);
  return { key, fingerprint: fingerprintOf(hash), record };
}

/** Every key entry with its record: [{ fingerprint, hash, record }], oldest first. */
export async function listKeys(kv) {
  const entries = [];
  let cursor;
  do {
    const page = await kv.list({ prefix: NAME_PREFIX, cursor });
    for (const { name, metadata } of page.keys) {
      let record = metadata;
      if (!record || typeof record.role !== "string") {
        const text = await kv.get(name);
        try {
          record = JSON.parse(text);
        } catch {
          record = { role: "(unreadable record)" };
        }
      }
      const hash = name.slice(NAME_PREFIX.length);
      entries.push({ fingerprint: fingerprintOf(hash), hash, record });
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return entries.sort((a, b) => String(a.record.created_at).localeCompare(String(b.record.created_at)));
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

/** Marks a key revoked (its entry stays, for the record). Returns the entry. */
export async function revokeKey(kv, fingerprint) {
  const entry = findOne(await listKeys(kv), fingerprint);
  entry.record = { ...entry.record, revoked: true, revoked_at: new Date().toISOString() };
  await put(kv, entry.hash, entry.record);
  return entry;
}

/** Removes every key entry with this exact label; returns how many. */
export async function deleteKeysLabelled(kv, label) {
  const doomed = (await listKeys(kv)).filter((e) => e.record.label === label);
  for (const entry of doomed) await kv.delete(NAME_PREFIX + entry.hash);
  return doomed.length;
}

/** revoked, expired, expiring soon (within EXPIRING_SOON_DAYS days) or active. */
export function status(record, now = Date.now()) {
  if (record.revoked === true) return "revoked";
  const expiry = record.expires_at ? Date.parse(record.expires_at) : Infinity;
  if (expiry <= now) return "expired";
  if (expiry - now <= EXPIRING_SOON_DAYS * DAY_MS) return "expiring soon";
  return "active";
}
