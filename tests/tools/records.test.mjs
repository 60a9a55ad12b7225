// The loader's line parsing and checks (scripts/lib/records.mjs), without D1.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { csvHeader, lineParser, normalize, RecordError, splitCsvLine } from "../../scripts/lib/records.mjs";

const VECTORS = JSON.parse(readFileSync(new URL("../vectors/user-emails.json", import.meta.url), "utf8"));
const CALLS = JSON.parse(readFileSync(new URL("../vectors/call-records.json", import.meta.url), "utf8"));

test("splits CSV lines with RFC 4180 quoting", () => {
  assert.deepEqual(splitCsvLine("a,b,,d"), ["a", "b", "", "d"]);
  assert.deepEqual(splitCsvLine('"a,1","say ""hi""",""'), ["a,1", 'say "hi"', ""]);
  assert.deepEqual(splitCsvLine(""), [""]);
  assert.deepEqual(splitCsvLine("x,"), ["x", ""]);
  assert.throws(() => splitCsvLine('"open'), /unterminated quoted field/);
  assert.throws(() => splitCsvLine('"a"b,c'), /text after a closing quote/);
  assert.throws(() => splitCsvLine('a"b'), /a quote inside an unquoted field/);
});

test("the CSV header names known columns, each once, with the required ones", () => {
  assert.deepEqual(csvHeader("\uFEFFid, user_id,platform,started_at"), ["id", "user_id", "platform", "started_at"]);
  for (const [line, reason] of [
    ["id,user_id,platform", /missing column\(s\) started_at/],
    ["id,user_id,platform,started_at,duration", /unknown column\(s\) duration/],
    ["id,id,user_id,platform,started_at", /column id appears twice/],
  ]) {
    assert.throws(() => csvHeader(line), (error) => error instanceof RecordError && error.fatal && reason.test(error.message));
  }
});

test("normalizes a record and explains what is wrong with a bad one", () => {
  const base = { id: "c1", user_id: "u1", platform: "sip", started_at: "1700000000000" };
  assert.deepEqual(normalize(base), {
    id: "c1",
    user_id: "u1",
    user_email: null,
    platform: "sip",
    platform_number: null,
    started_at: 1_700_000_000_000,
    duration_seconds: 0,
  });
  assert.equal(normalize({ ...base, started_at: "2026-11-01T05:30:00+05:30" }).started_at, Date.UTC(2026, 10, 1));
  assert.equal(normalize({ ...base, started_at: "2026-11-01 00:00:00.250Z" }).started_at, Date.UTC(2026, 10, 1) + 250);
  assert.equal(normalize({ ...base, duration_seconds: "12.5" }).duration_seconds, 12.5);
  assert.equal(normalize({ ...base, duration_seconds: " 1e2 " }).duration_seconds, 100);
  // The webhook's users, and the one of calls without an owner, may be loaded as they are.
  assert.equal(normalize({ ...base, user_id: "@alice@example.com", user_email: "Alice@Example.com" }).user_id, "@alice@example.com");
  assert.equal(normalize({ ...base, user_id: "(no owner)" }).user_email, null);
  assert.equal(normalize({ ...base, platform_number: "  " }).platform_number, "  ", "kept as is: blank means missing");
  assert.equal(normalize({ ...base, user_email: " A@x.io " }).user_email, "A@x.io");
  for (const [change, reason] of [
    [{ id: "" }, /^id is required$/],
    [{ id: "   " }, /^id must be 1 to 256 characters without surrounding whitespace$/],
    [{ id: 7 }, /^id must be a string$/],
    [{ user_id: undefined }, /^user_id is required$/],
    [{ platform: null }, /^platform is required$/],
    [{ started_at: "2026-11-01" }, /^started_at must be epoch milliseconds or an RFC 3339 datetime/],
    [{ started_at: "2026-11-01T00:00:00" }, /^started_at must be/],
    // The one RFC 3339 reader (tests/tools/rfc3339.test.mjs): a day or hour that does not exist is refused, not rolled over.
    [{ started_at: "2027-02-30T00:00:00Z" }, /^started_at must be/],
    [{ started_at: "2026-11-01T24:00:00Z" }, /^started_at must be/],
    [{ started_at: "1.5" }, /^started_at must be/],
    [{ started_at: "99999999999999999999" }, /whole number of milliseconds/],
    [{ duration_seconds: "-1" }, /^duration_seconds must be from 0 to one week \(604,800 seconds\)$/],
    [{ duration_seconds: "NaN" }, /duration_seconds/],
    [{ duration_seconds: "ten" }, /duration_seconds/],
    [{ duration_seconds: "0x1F" }, /^duration_seconds must be/],
    [{ duration_seconds: "1_000" }, /^duration_seconds must be/],
    [{ user_id: "(no owner)", user_email: "a@x.io" }, /^user_id \(no owner\) is the user of calls without an owner/],
    [{ user_id: "@a@x.io", user_email: "b@x.io" }, /^user_id that starts with @ must be @ and the user_email/],
    [{ user_email: "nope" }, /^user_email is not an email address$/],
    [{ platform_number: "x".repeat(1025) }, /^platform_number must be at most 64 characters once trimmed$/],
    [{ started_at: "2100-01-01T00:00:00Z" }, /^started_at must be an instant from 2000-01-01T00:00:00Z up to \(not including\) 2100-01-01T00:00:00Z$/],
  ]) {
    assert.throws(() => normalize({ ...base, ...change }), (error) => error instanceof RecordError && reason.test(error.message), JSON.stringify(change));
  }
});

test("NDJSON lines are objects with known fields", () => {
  const parse = lineParser("ndjson");
  assert.equal(parse("   "), null);
  assert.equal(parse('{"id":"c","user_id":"u","platform":"web","started_at":1700000000000}').platform, "web");
  assert.throws(() => parse("[1]"), /not a JSON object/);
  assert.throws(() => parse("{"), /not JSON/);
  assert.throws(() => parse('{"id":"c","user_id":"u","platform":"web","started_at":1700000000000,"extra":1}'), /unknown field\(s\) extra/);
});

test("CSV lines follow their header", () => {
  const parse = lineParser("csv");
  assert.equal(parse("id,user_id,platform,platform_number,started_at"), null);
  assert.equal(parse('c1,u1,sip,"+1 555",1700000000000').platform_number, "+1 555");
  assert.throws(() => parse("c1,u1,sip,1700000000000"), /4 fields where the header has 5/);
});

test("user_email: the loader accepts exactly what the endpoint can match (the shared vectors)", () => {
  const base = { id: "c1", user_id: "u1", platform: "sip", started_at: "1700000000000" };
  assert.ok(VECTORS.accepted.length >= 15 && VECTORS.refused.length >= 30);
  for (const { input, email } of VECTORS.accepted) {
    assert.equal(normalize({ ...base, user_email: input }).user_email, email, JSON.stringify(input));
  }
  for (const input of VECTORS.refused) {
    if (input.trim() === "") {
      assert.equal(normalize({ ...base, user_email: input }).user_email, null, "blank: no email, as at the endpoint");
      continue;
    }
    assert.throws(() => normalize({ ...base, user_email: input }), (e) => e instanceof RecordError && e.message === "user_email is not an email address", JSON.stringify(input));
  }
});

test("the record rule: the loader accepts and refuses exactly what the shared vectors say", () => {
  assert.ok(CALLS.accepted.length >= 20 && CALLS.refused.length >= 30);
  for (const { name, record } of CALLS.accepted) {
    assert.doesNotThrow(() => normalize(record), name);
  }
  for (const { name, record, field } of CALLS.refused) {
    assert.throws(
      () => normalize(record),
      (e) => e instanceof RecordError && e.message.startsWith(`${field} `),
      `${name}: refused for ${field}`,
    );
  }
});
