// The tools' one RFC 3339 reader (scripts/lib/rfc3339.mjs) against the shared vectors, which the Rust side
// reads too, and against Date.UTC as an independent calendar.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { formatUtc, parseRfc3339 } from "../../scripts/lib/rfc3339.mjs";

const VECTORS = JSON.parse(readFileSync(new URL("../vectors/instants.json", import.meta.url), "utf8"));

test("every accepted vector reads as its epoch milliseconds, and writes back as its UTC text", () => {
  assert.ok(VECTORS.accepted.length >= 16);
  for (const { input, millis, utc } of VECTORS.accepted) {
    assert.equal(parseRfc3339(input), millis, JSON.stringify(input));
    assert.equal(formatUtc(millis), utc, JSON.stringify(input));
    assert.equal(parseRfc3339(utc), millis, `${utc} reads back`);
  }
});

test("every refused vector is refused", () => {
  assert.ok(VECTORS.refused.length >= 34);
  for (const input of VECTORS.refused) assert.ok(Number.isNaN(parseRfc3339(input)), JSON.stringify(input));
});

test("not text: refused", () => {
  for (const value of [undefined, null, 1793491200000, new Date(0), ["2026-11-01T00:00:00Z"]]) assert.ok(Number.isNaN(parseRfc3339(value)));
});

test("every day of 1896-2404 is read as Date.UTC reads it, and the day after each month's last is refused", () => {
  // Date.UTC is exact for these years; the leap rules of 1900, 2000, 2100 and 2400 are in the range.
  let days = 0;
  for (let year = 1896; year <= 2404; year++) {
    for (let month = 1; month <= 12; month++) {
      const pad = (n, width = 2) => String(n).padStart(width, "0");
      const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
      for (let day = 1; day <= last; day++, days++) {
        const text = `${year}-${pad(month)}-${pad(day)}T13:07:59.5-03:30`;
        assert.equal(parseRfc3339(text), Date.UTC(year, month - 1, day, 16, 37, 59, 500), text);
      }
      const next = `${year}-${pad(month)}-${pad(last + 1)}T00:00:00Z`;
      assert.ok(Number.isNaN(parseRfc3339(next)), next);
    }
  }
  assert.equal(days, 185_909); // 509 years of 365 days, and 124 leap days (not 1900, 2100, 2200, 2300)
});

test("formatUtc refuses an instant whose UTC text would not read back", () => {
  assert.equal(formatUtc(parseRfc3339("0000-01-01T00:00:00Z")), "0000-01-01T00:00:00.000Z");
  assert.throws(() => formatUtc(parseRfc3339("0000-01-01T00:00:00+00:01")), RangeError); // 0000 minus a minute
  assert.throws(() => formatUtc(parseRfc3339("9999-12-31T23:59:59-00:01")), RangeError); // into 10000
  assert.throws(() => formatUtc(NaN), RangeError);
});
