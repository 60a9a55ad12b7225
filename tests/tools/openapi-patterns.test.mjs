// The OpenAPI document's parameter patterns are as tight as a pattern can be: what they call valid is refused
// only for reasons no pattern can express (a day that does not exist, an empty range, UTF-8 byte lengths).
// The email pattern is checked against the shared vectors, and the loader's rule (the endpoint's, by those
// same vectors) is the oracle for the rest.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { generateKey } from "../../scripts/lib/apikeys.mjs";
import { normalize, userEmail } from "../../scripts/lib/records.mjs";
import { parseRfc3339 } from "../../scripts/lib/rfc3339.mjs";

const DOC = JSON.parse(readFileSync(new URL("../../public/openapi.json", import.meta.url), "utf8"));
const VECTORS = JSON.parse(readFileSync(new URL("../vectors/user-emails.json", import.meta.url), "utf8"));
const parameter = (name) => DOC.paths["/admin/analytics/calls/by-phone-number"].get.parameters.find((p) => p.name === name);
const DATE = new RegExp(DOC.components.schemas.DateParameter.pattern, "u");
const EMAIL = new RegExp(parameter("user_email").schema.pattern, "u");

test("dates: every accepted form, and no month 13, hour 24, minute 60 or offset minute 88", () => {
  for (const value of [
    "",
    "2026-11-01",
    " 2026-11-01\t",
    "2026-11-01T09:30",
    "2026-11-01t09:30:00z",
    "2026-11-01 09:30:00Z",
    "2026-11-01T09:30:00.250+0530",
    "2026-11-01T09:30:00,123456789-23:59",
    "2026-11-01T15:00:00 05:30",
    "2026-11-01T15:00:00+05",
    "0000-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59.999Z",
  ]) {
    assert.match(value, DATE, value);
  }
  for (const value of [
    "2026-13-01",
    "2026-57-01",
    "2026-00-01",
    "2026-11-32",
    "2026-11-00",
    "2026-11-01T24:00",
    "2026-11-01T69:00",
    "2026-11-01T09:60",
    "2026-11-01T09:30:60",
    "2026-11-01T09:30:00+24:00",
    "2026-11-01T09:30:00+05:88",
    "2026-11-01T09:30:00+5",
    "2026-11-01T09:30:00.1234567890Z",
    "2026-11-01T",
    "26-11-01",
    "yesterday",
  ]) {
    assert.doesNotMatch(value, DATE, value);
  }
});

test("user_email: the pattern admits no address the endpoint refuses, but for UTF-8 byte lengths", () => {
  const bytes = (s) => Buffer.byteLength(s);
  for (const input of VECTORS.refused) {
    if (input.trim() === "") continue; // blank means absent
    const email = input.trim();
    const local = email.slice(0, email.indexOf("@"));
    const onlyTooManyBytes = email.length <= 254 && local.length <= 64 && (bytes(email) > 254 || bytes(local) > 64);
    if (onlyTooManyBytes) continue;
    assert.doesNotMatch(input, EMAIL, JSON.stringify(input));
  }
  for (const { input, email } of VECTORS.accepted) {
    // Other spaces around the address (NBSP, NEL...): the server trims them, the pattern allows only ASCII ones.
    if (input.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, "") !== email) continue;
    assert.match(input, EMAIL, JSON.stringify(input));
  }
  // What the pattern admits, the endpoint's rule admits (a sample of what a generator would try).
  for (const candidate of ["a@b", "first..last@example.com", "x!#$%&'*+/=?^_`{|}~-@y", "ü@ö.de", " a@b ", "a@b.c\t"]) {
    assert.match(candidate, EMAIL, candidate);
    assert.notEqual(userEmail(candidate), null, candidate);
  }
});

test("timezone and interval: names only, no offsets; the four intervals in any case", () => {
  const ZONE = new RegExp(parameter("timezone").schema.pattern, "u");
  const INTERVAL = new RegExp(parameter("interval").schema.pattern, "u");
  for (const value of ["", "UTC", "Asia/Kolkata", "america/new_york", " Etc/GMT+5 ", "America/Argentina/Buenos_Aires", "EST5EDT"]) assert.match(value, ZONE, value);
  for (const value of ["+05:30", "GMT+5:30", "Asia/", "/UTC", "Asia//Kolkata", "5", "Asia/Kolkata\u0000"]) assert.doesNotMatch(value, ZONE, value);
  for (const value of ["", "hour", "Day", " WEEK ", "month"]) assert.match(value, INTERVAL, value);
  for (const value of ["minute", "days", "hourly", "1h"]) assert.doesNotMatch(value, INTERVAL, value);
});

test("a timezone name is at most 64 characters; blank is absent, however long", () => {
  const ZONE = new RegExp(parameter("timezone").schema.pattern, "u");
  assert.match("A".repeat(64), ZONE);
  assert.doesNotMatch("A".repeat(65), ZONE);
  assert.match(" ".repeat(65), ZONE);
});

// The end-call webhook's body is read leniently: whatever the worker accepts, the document must call valid
// (the contract test posts what the document calls invalid and expects a 4xx), so each pattern admits every
// value the reader takes, and refuses only what it refuses, but for what no pattern can express.
const RECORD = DOC.components.schemas.EndCallRecord.properties;
const CALLS = JSON.parse(readFileSync(new URL("../vectors/call-records.json", import.meta.url), "utf8"));
const INSTANTS = JSON.parse(readFileSync(new URL("../vectors/instants.json", import.meta.url), "utf8"));
/** Unicode White_Space, which the record rule refuses around an id and Rust's trim() removes. */
const WHITE_SPACE = ["\t", "\n", "\u000b", "\f", "\r", " ", "\u0085", "\u00a0", "\u1680", "\u2000", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"];
const branch = (schema, type) => schema.anyOf.find((s) => s.type === type);

test("webhook room_name: the schema admits exactly the ids the record rule takes", () => {
  const schema = RECORD.room_name;
  const ROOM = new RegExp(schema.pattern, "u");
  const valid = (id) => [...id].length >= schema.minLength && [...id].length <= schema.maxLength && ROOM.test(id);
  const takes = (id) => {
    try {
      normalize({ ...CALLS.base, id });
      return true;
    } catch {
      return false;
    }
  };
  const ids = ["c1", "asst_7f3c9a2e_1a2b3c4d", "a b", "x", "😀".repeat(256), "😀".repeat(257), "r".repeat(256), "r".repeat(257), "\u001cc1", "\ufeffc1", "c1\u0000", "é"];
  for (const space of WHITE_SPACE) ids.push(`${space}c1`, `c1${space}`, `c${space}1`, space);
  for (const id of ids) assert.equal(valid(id), takes(id), JSON.stringify(id));
});

test("webhook started_at: the pattern admits every instant the reader takes in the record rule's range", () => {
  const START = new RegExp(RECORD.started_at.pattern, "u");
  const inRange = (millis) => millis >= 946_684_800_000 && millis < 4_102_444_800_000;
  const samples = [
    ...INSTANTS.accepted.map((v) => v.input),
    ...INSTANTS.refused,
    "1999-12-31T23:00:00-02:00", // 2000-01-01T01:00Z: an offset brings 1999 into the range
    "1999-12-31T00:01:00-23:59",
    "2100-01-01T23:58:59.999+23:59", // 2099-12-31T23:59:59.999Z
    "2100-01-01T00:00:00Z",
    "1999-12-31T23:59:59.999Z",
    "2026-02-30T00:00:00Z",
    "2026-11-30T09:15:02.374000Z",
    "2026-11-30 09:15:02z",
  ];
  for (const text of samples) {
    const millis = parseRfc3339(text);
    if (!Number.isNaN(millis) && inRange(millis)) assert.match(text, START, text);
    if (START.test(text) && Number.isNaN(millis)) {
      // Refused by the reader yet admitted by the pattern: only a day its month does not have.
      const [year, month, day] = text.slice(0, 10).split("-").map(Number);
      assert.ok(day > new Date(Date.UTC(year, month, 0)).getUTCDate(), text);
    }
  }
  for (const text of ["1998-12-31T23:59:59-23:59", "2101-01-01T00:00:00Z", "2026-11-30T09:15:02", "2026-11-30T09:15Z", "2026-11-30T09:15:02.1234567890Z", "2026-11-30T09:15:02+0530", " 2026-11-30T09:15:02Z"]) {
    assert.doesNotMatch(text, START, text);
  }
});

test("webhook call_duration_minutes: a number in the reader's exact bounds, its text, or null", () => {
  const schema = RECORD.call_duration_minutes;
  const number = branch(schema, "number");
  const inBounds = (x) => x > number.exclusiveMinimum && x <= number.maximum;
  // The reader keeps a minute's first 14 decimals, and rounds half a millisecond up: these are what it takes.
  for (const x of [0, -0, -1e-15, -9.99e-15, 5.5, 10080, 10080.000008, 10080.00000833333]) assert.ok(inBounds(x), String(x));
  for (const x of [-1e-14, -0.0001, -1, 10080.00001, 1e300]) assert.ok(!inBounds(x), String(x));
  const TEXT = new RegExp(branch(schema, "string").pattern, "u");
  for (const text of ["5.5", " 2.25 ", "1e1", "1.5E-2", "-0", "007", "\u00852\u3000", "10080", "1e+2"]) assert.match(text, TEXT, JSON.stringify(text));
  for (const text of ["", "abc", "1.", ".5", "+1", "1e", "1,5", "5 min", "\ufeff1"]) assert.doesNotMatch(text, TEXT, JSON.stringify(text));
  assert.ok(branch(schema, "null"));
});

test("webhook platform_number: at most 64 characters once space, tab, CR and LF are trimmed, as the record rule", () => {
  const NUMBER = new RegExp(branch(RECORD.platform_number, "string").pattern, "u");
  const takes = (platform_number) => {
    try {
      normalize({ ...CALLS.base, platform_number });
      return true;
    } catch {
      return false;
    }
  };
  const sixtyFour = "+".padEnd(64, "9");
  for (const number of ["", "08012345678", " +14155550100 ", sixtyFour, `\t\r\n ${sixtyFour} \n`, `${sixtyFour}9`, `${sixtyFour}\u00a0`, `\u3000${sixtyFour}`, "😀".repeat(64), "😀".repeat(65)]) {
    assert.equal(NUMBER.test(number), takes(number), JSON.stringify(number));
  }
});

test("webhook key: the path parameter's pattern is the shape of the keys the tool makes", () => {
  const KEY = new RegExp(DOC.paths["/webhooks/end-call/{key}"].post.parameters[0].schema.pattern, "u");
  for (let i = 0; i < 20; i++) assert.match(generateKey(), KEY);
  for (const key of ["cak_short", `cbk_${"a".repeat(43)}`, `cak_${"a".repeat(42)}=`, `cak_${"a".repeat(44)}`]) assert.doesNotMatch(key, KEY, key);
});
