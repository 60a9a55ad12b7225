// Call records from CSV or NDJSON, one per line, checked before anything is written.
//
// Fields (CSV: a header row naming them, in any order; NDJSON: one JSON object per line):
//   id                required  the call's id (the load is idempotent on it)
//   user_id           required  the tenant's user id
//   user_email        optional  creates or updates that user (needed when the user is not in D1 yet)
//   platform          required  "web" (any case, spaces around ignored) or a telephony platform
//   platform_number   optional  empty/blank/null means missing
//   started_at        required  Unix epoch milliseconds, or an RFC 3339 instant (Z or an offset; see rfc3339.mjs)
//   duration_seconds  optional  a number of seconds (default 0)
// Blank lines are skipped. Every record keeps the record rule (RULES below; src/call/record.rs and the
// database's guard, migrations/0005, keep the same, held together by tests/vectors/call-records.json).
import { parseRfc3339 } from "./rfc3339.mjs";

export const FIELDS = ["id", "user_id", "user_email", "platform", "platform_number", "started_at", "duration_seconds"];
const REQUIRED = ["id", "user_id", "platform", "started_at"];
/** The user of calls without an owner (migrations/0005). */
export const NO_OWNER = "(no owner)";

/** The record rule's bounds, and what each field must be (the same words as src/call/record.rs). */
export const BOUNDS = {
  idChars: 256,
  platformChars: 64,
  platformNumberChars: 64,
  earliestStart: Date.UTC(2000, 0, 1),
  endOfStarts: Date.UTC(2100, 0, 1),
  durationMillis: 604_800_000,
};
export const RULES = {
  id: "1 to 256 characters without surrounding whitespace",
  user_id: "1 to 256 characters without surrounding whitespace",
  platform: "1 to 64 characters, not blank",
  platform_number: "at most 64 characters once trimmed",
  started_at: "an instant from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z",
  duration_seconds: "from 0 to one week (604,800 seconds)",
};
const broken = (field) => new RecordError(`${field} must be ${RULES[field]}`);
/** Characters as the rule counts them (Unicode code points, as Rust and SQLite do; not UTF-16 units). */
const chars = (text) => [...text].length;
/** What the bucket rule trims (migrations/0001): space, tab, LF, CR. */
const bucketTrim = (text) => text.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, "");

export class RecordError extends Error {
  /** `fatal`: the file cannot be read past this line (a bad CSV header). */
  constructor(message, { fatal = false } = {}) {
    super(message);
    this.fatal = fatal;
  }
}

/** Splits one CSV line (RFC 4180 quoting; a record may not span lines). */
export function splitCsvLine(line) {
  const fields = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        if (quote < 0) throw new RecordError("unterminated quoted field");
        field += line.slice(i, quote);
        i = quote + 1;
        if (line[i] === '"') {
          field += '"';
          i++;
        } else break;
      }
      if (i < line.length && line[i] !== ",") throw new RecordError("text after a closing quote");
    } else {
      const comma = line.indexOf(",", i);
      const end = comma < 0 ? line.length : comma;
      field = line.slice(i, end);
      if (field.includes('"')) throw new RecordError("a quote inside an unquoted field");
      i = end;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

/** Reads the CSV header: the field name of each column. */
export function csvHeader(line) {
  try {
    return headerNames(line);
  } catch (error) {
    throw new RecordError(`bad CSV header: ${error.message}`, { fatal: true });
  }
}

function headerNames(line) {
  const names = splitCsvLine(line.replace(/^\uFEFF/, "")).map((n) => n.trim());
  const unknown = names.filter((n) => !FIELDS.includes(n));
  if (unknown.length) throw new RecordError(`unknown column(s) ${unknown.join(", ")}; expected ${FIELDS.join(", ")}`);
  const missing = REQUIRED.filter((n) => !names.includes(n));
  if (missing.length) throw new RecordError(`missing column(s) ${missing.join(", ")}`);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new RecordError(`column ${duplicate} appears twice`);
  return names;
}

/** A text field's value: a string, or null when absent or empty (then an error if it is required). */
function text(raw, name, { required }) {
  if (raw === undefined || raw === null || raw === "") {
    if (required) throw new RecordError(`${name} is required`);
    return null;
  }
  if (typeof raw !== "string") throw new RecordError(`${name} must be a string`);
  return raw;
}

/** A call's or a user's id: refused, never trimmed, with surrounding White_Space (" c1" is not "c1"). */
function id(raw, name) {
  const value = text(raw, name, { required: true });
  if (SURROUNDED.test(value) || chars(value) > BOUNDS.idChars) throw broken(name);
  return value;
}

// user_email: the endpoint's rule (src/call/email.rs), so that every user the loader stores can be filtered by.
// Both are checked against tests/vectors/user-emails.json.
const WHITE_SPACE = "\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"; // Unicode White_Space
const TRIM = new RegExp(`^[${WHITE_SPACE}]+|[${WHITE_SPACE}]+$`, "gu");
const SURROUNDED = new RegExp(`^[${WHITE_SPACE}]|[${WHITE_SPACE}]$`, "u");
const FORBIDDEN = new RegExp(
  `[${WHITE_SPACE}\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff"(),:;<>@[\\\\\\]]`,
  "u",
);

/**
 * The address a user_email value names: surrounding White_Space trimmed; exactly one @ with text on both sides;
 * at most 64 bytes before it and 254 in all (UTF-8); no White_Space, control, invisible formatting or quoting
 * (`"(),:;<>[\]`) character. `""` for a blank value (no email); null for text the endpoint could never match.
 */
export function userEmail(text) {
  const email = text.replace(TRIM, "");
  if (email === "") return "";
  const at = email.indexOf("@");
  const [local, domain] = [email.slice(0, at), email.slice(at + 1)];
  const valid =
    at > 0 &&
    domain !== "" &&
    Buffer.byteLength(local) <= 64 &&
    Buffer.byteLength(email) <= 254 &&
    !FORBIDDEN.test(local) &&
    !FORBIDDEN.test(domain);
  return valid ? email : null;
}

function startedAt(raw) {
  let millis = NaN;
  if (typeof raw === "number" || (typeof raw === "string" && /^-?\d+$/.test(raw.trim()))) {
    millis = Number(raw);
    if (!Number.isSafeInteger(millis)) throw new RecordError("started_at is not a whole number of milliseconds");
  } else if (typeof raw === "string") {
    millis = parseRfc3339(raw.trim());
  }
  if (Number.isNaN(millis)) throw new RecordError("started_at must be epoch milliseconds or an RFC 3339 datetime with Z or an offset");
  if (millis < BOUNDS.earliestStart || millis >= BOUNDS.endOfStarts) throw broken("started_at");
  return millis;
}

/** Seconds, at least 0, whose milliseconds (rounded half away from zero, as D1 rounds them) are at most a week. */
function duration(raw) {
  if (raw === undefined || raw === null || raw === "") return 0;
  // A decimal number only (Number() would also read 0x1F, 0b11 or 1_000 as numbers).
  const decimal = typeof raw === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(raw);
  const value = typeof raw === "number" ? raw : decimal ? Number(raw) : NaN;
  if (!(value >= 0) || Math.round(value * 1000) > BOUNDS.durationMillis) throw broken("duration_seconds");
  return value;
}

/** Checks one record (an object of field values) and returns it normalized. */
export function normalize(fields) {
  const raw = text(fields.user_email, "user_email", { required: false });
  const email = raw === null ? "" : userEmail(raw);
  if (email === null) throw new RecordError("user_email is not an email address");
  const platform = text(fields.platform, "platform", { required: true });
  if (bucketTrim(platform) === "" || chars(platform) > BOUNDS.platformChars) throw broken("platform");
  const number = text(fields.platform_number, "platform_number", { required: false });
  if (number !== null && chars(bucketTrim(number)) > BOUNDS.platformNumberChars) throw broken("platform_number");
  const userId = id(fields.user_id, "user_id");
  // The users migrations/0005 reserves (its guard refuses the same): the one of calls without an owner, which
  // no email may name, and the webhook's, `@` and their email in lower case (ASCII letters).
  if (userId === NO_OWNER && email !== "") throw new RecordError(`user_id ${NO_OWNER} is the user of calls without an owner: give it no user_email`);
  if (userId.startsWith("@") && email !== "" && userId !== `@${email.replace(/[A-Z]/g, (c) => c.toLowerCase())}`) {
    throw new RecordError("user_id that starts with @ must be @ and the user_email, its ASCII letters in lower case");
  }
  return {
    id: id(fields.id, "id"),
    user_id: userId,
    user_email: email === "" ? null : email,
    platform,
    platform_number: number,
    started_at: startedAt(fields.started_at),
    duration_seconds: duration(fields.duration_seconds),
  };
}

/**
 * A line parser for a format: `parse(line)` returns a normalized record, or null for a line that carries
 * none (blank, or the CSV header); it throws RecordError for a bad line.
 */
export function lineParser(format) {
  if (format === "ndjson") {
    return (line) => {
      if (line.trim() === "") return null;
      let value;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new RecordError(`not JSON: ${error.message}`);
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new RecordError("not a JSON object");
      const unknown = Object.keys(value).filter((k) => !FIELDS.includes(k));
      if (unknown.length) throw new RecordError(`unknown field(s) ${unknown.join(", ")}`);
      return normalize(value);
    };
  }
  if (format === "csv") {
    let header = null;
    return (line) => {
      if (line.trim() === "") return null;
      if (header === null) {
        header = csvHeader(line);
        return null;
      }
      const values = splitCsvLine(line);
      if (values.length !== header.length) throw new RecordError(`${values.length} fields where the header has ${header.length}`);
      return normalize(Object.fromEntries(header.map((name, i) => [name, values[i]])));
    };
  }
  throw new Error(`unknown format "${format}" (csv or ndjson)`);
}

export function formatOf(path) {
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.(ndjson|jsonl)$/i.test(path)) return "ndjson";
  return null;
}
