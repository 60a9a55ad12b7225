// The OpenAPI document's parameter patterns are as tight as a pattern can be: what they call valid is refused
// only for reasons no pattern can express (a day that does not exist, an empty range, UTF-8 byte lengths).
// The email pattern is checked against the shared vectors, and the loader's rule (the endpoint's, by those
// same vectors) is the oracle for the rest.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { userEmail } from "../../scripts/lib/records.mjs";

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
