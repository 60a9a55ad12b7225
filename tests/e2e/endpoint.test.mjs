// The endpoint end to end: the built worker in wrangler dev, real local D1 (migrations applied) and KV.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as fx from "./fixtures.mjs";
import { ENDPOINT, ms, request, startLocalWorker } from "../../scripts/lib/local-worker.mjs";


let worker; // migrated, loaded, with keys
let broken; // keys but no migrations: D1 has no tables
let keys;
let brokenKeys;
let seededAt;

before(async () => {
  seededAt = Date.now();
  const vars = { ALLOWED_ORIGINS: `${fx.ADMIN_ORIGIN},http://127.0.0.1:5173` };
  [worker, broken] = await Promise.all([
    startLocalWorker({
      records: [...fx.DAY_RECORDS, ...fx.TIE_RECORDS, ...fx.recentRecords(seededAt)],
      keys: {
        admin: { role: "super_admin" },
        expiring: { role: "super_admin", expiresAt: new Date(seededAt + 86_400_000).toISOString() },
        viewer: { role: "admin" },
        revoked: { role: "super_admin", revoked: true },
        expired: { role: "super_admin", expiresAt: new Date(seededAt - 60_000).toISOString() },
      },
      vars,
      // The zone test asks once per zone the runtime knows (over 400 requests a minute with one key).
      limits: { clientIp: 10_000, apiKey: 10_000 },
    }),
    // No migrations: D1 has no tables.
    startLocalWorker({ migrations: false, keys: { admin: { role: "super_admin" } }, vars }),
  ]);
  ({ keys } = worker);
  brokenKeys = broken.keys;
});

after(async () => {
  await Promise.all([worker?.stop(), broken?.stop()]);
});

const get = (query, options = {}) =>
  request(worker.base, `${ENDPOINT}${query === undefined ? "" : `?${query}`}`, { key: keys.admin.key, ...options });

/** Asserts a 200 with exactly these rows. */
async function expectRows(query, rows) {
  const { status, body } = await get(query);
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body.data.phone_numbers, rows, `rows for ?${query}`);
  return body;
}

/** Asserts an error envelope with this status, and a message matching `pattern`. */
async function expectError(response, status, pattern) {
  const { status: actual, body } = await response;
  assert.equal(actual, status, JSON.stringify(body));
  assert.deepEqual(Object.keys(body), ["success", "message", "data"]);
  assert.equal(body.success, false);
  assert.equal(body.data, null);
  assert.match(body.message, pattern);
  return body;
}

describe("the answer", () => {
  test("the spec's example request returns the spec's shape", async () => {
    const { status, headers, body } = await get("user_email=alice@example.com");
    assert.equal(status, 200);
    assert.equal(headers.get("content-type"), "application/json");
    assert.deepEqual(Object.keys(body), ["success", "message", "data"]);
    assert.equal(body.success, true);
    assert.equal(body.message, "Calls by phone number fetched successfully");
    assert.deepEqual(Object.keys(body.data), ["phone_numbers", "totals", "start_date", "end_date", "user_email", "timezone"]);
    assert.deepEqual(Object.keys(body.data.totals), ["total_calls", "total_duration_minutes", "total_duration_hours"]);
    assert.equal(body.data.timezone, "UTC");
    assert.equal(body.data.user_email, "alice@example.com");
    for (const row of body.data.phone_numbers) {
      assert.deepEqual(Object.keys(row), ["phone_number", "total_calls", "total_duration_minutes", "total_duration_hours"]);
      assert.equal(typeof row.phone_number, "string");
      assert.ok(Number.isInteger(row.total_calls));
      assert.equal(typeof row.total_duration_minutes, "number");
      assert.equal(typeof row.total_duration_hours, "number");
    }
  });

  test("groups a day into buckets, sorted by duration, with rounded totals", async () => {
    const body = await expectRows(fx.DAY_QUERY, fx.DAY);
    assert.deepEqual(body.data.totals, fx.DAY_TOTALS);
    assert.equal(body.data.start_date, "2025-01-10T00:00:00.000Z");
    assert.equal(body.data.end_date, "2025-01-11T00:00:00.000Z");
    assert.equal(body.data.user_email, null);
  });

  test("breaks ties by call count, then by label, on exact totals", async () => {
    const body = await expectRows("start_date=2025-02-01&end_date=2025-02-01", fx.TIES);
    // The totals come from the exact sums: 0.13 h, where the rows' rounded hours add up to 0.12.
    assert.deepEqual(body.data.totals, fx.TIES_TOTALS);
    assert.equal(fx.TIES.reduce((sum, r) => sum + r.total_duration_hours, 0).toFixed(2), "0.12");
  });

  test("every date form names the same range", async () => {
    for (const query of [
      "start_date=2025-01-10T00:00:00Z&end_date=2025-01-11T00:00:00Z",
      "start_date=2025-01-10T00:00:00.000Z&end_date=2025-01-11T00:00:00.000000Z",
      "start_date=2025-01-10T00:00:00&end_date=2025-01-11T00:00",
      "start_date=2025-01-10 00:00:00Z&end_date=2025-01-11t00:00:00z",
      "start_date=2025-01-10T05:30:00%2B05:30&end_date=2025-01-11T05:30:00%2B05:30",
      "start_date=2025-01-10T05:30:00+05:30&end_date=2025-01-11T05:30:00+05:30", // unencoded +
      "start_date=2025-01-10T05:30:00+0530&end_date=2025-01-11T05:30:00%2B0530",
      "start_date=2025-01-09T16:00:00-08:00&end_date=2025-01-10T16:00:00-08:00",
      "start_date=2025-01-10T01:00:00%2B01&end_date=2025-01-10T23:00:00-01",
      "start_date=2025-01-10&end_date=2025-01-10",
    ]) {
      const body = await expectRows(query, fx.DAY);
      assert.equal(body.data.start_date, "2025-01-10T00:00:00.000Z", query);
      assert.equal(body.data.end_date, "2025-01-11T00:00:00.000Z", query);
    }
  });

  test("a date-only end_date covers that whole day", async () => {
    const body = await expectRows("start_date=2025-01-10&end_date=2025-01-11", fx.DAY_AND_NEXT);
    assert.equal(body.data.end_date, "2025-01-12T00:00:00.000Z");
  });

  test("the range is half-open: a call at the start is in, a call at the end is out", async () => {
    await expectRows("start_date=2025-01-10T00:00:00Z&end_date=2025-01-11T00:00:00Z", fx.DAY);
    await expectRows("start_date=2025-01-10T00:00:00.001Z&end_date=2025-01-11T00:00:00Z", fx.DAY_WITHOUT_START);
    await expectRows("start_date=2025-01-09T23:59:59.999Z&end_date=2025-01-11T00:00:00Z", fx.DAY_WITH_BEFORE);
    await expectRows("start_date=2025-01-10T00:00:00Z&end_date=2025-01-11T00:00:00.001Z", fx.DAY_AND_NEXT);
  });

  test("by default, the 30 days before now", async () => {
    const before = Date.now();
    const body = await expectRows(undefined, fx.RECENT);
    const after = Date.now();
    const end = ms(body.data.end_date);
    assert.ok(end >= before - 1000 && end <= after + 1000, `end_date ${body.data.end_date} is now`);
    assert.equal(end - ms(body.data.start_date), 30 * 86_400_000);
    await expectRows("start_date=&end_date=&user_email=", fx.RECENT);
  });

  test("a lone start_date runs until now; a lone end_date starts 30 days before it", async () => {
    await expectRows(`start_date=${new Date(seededAt - 2 * 86_400_000).toISOString()}`, [fx.RECENT[0]]);
    const end = new Date(seededAt - 5 * 86_400_000).toISOString();
    const body = await expectRows(`end_date=${end}`, [
      { phone_number: "+15550002", total_calls: 1, total_duration_minutes: 1, total_duration_hours: 0.02 },
      { phone_number: "+15550004", total_calls: 1, total_duration_minutes: 1, total_duration_hours: 0.02 },
    ]);
    assert.equal(body.data.end_date, end);
    assert.equal(ms(body.data.end_date) - ms(body.data.start_date), 30 * 86_400_000);
  });

  test("user_email narrows to one user, trimmed and case-insensitive", async () => {
    for (const email of ["alice@example.com", "ALICE@EXAMPLE.COM", "%20Alice@Example.com%20", "+alice@example.com+"]) {
      const body = await expectRows(`${fx.DAY_QUERY}&user_email=${email}`, fx.DAY_ALICE);
      assert.equal(body.data.user_email.toLowerCase(), "alice@example.com");
    }
    await expectRows(`${fx.DAY_QUERY}&user_email=bob%40example.com`, fx.DAY_BOB);
    await expectRows(`${fx.DAY_QUERY}&user_email=jos%C3%A9@example.com`, fx.DAY_JOSE);
  });

  test("an email with no user, or a user without calls in range, gives an empty list", async () => {
    const body = await expectRows(`${fx.DAY_QUERY}&user_email=nobody@example.com`, []);
    assert.equal(body.data.user_email, "nobody@example.com");
    await expectRows(`${fx.DAY_QUERY}&user_email=carol@example.com`, []);
    await expectRows("start_date=2030-01-01&end_date=2030-12-31", []);
  });
});

describe("time zones and series", () => {
  // 2025-01-10 in Asia/Kolkata (+05:30) is [2025-01-09T18:30Z, 2025-01-10T18:30Z): every call of DAY_RECORDS
  // on the UTC day, e-before (a millisecond before it) too, and not e-end (2025-01-11T00:00Z, 05:30 there).
  test("a date is a whole local day", async () => {
    const body = await expectRows("start_date=2025-01-10&end_date=2025-01-10&timezone=Asia/Kolkata", fx.DAY_WITH_BEFORE);
    assert.equal(body.data.start_date, "2025-01-09T18:30:00.000Z");
    assert.equal(body.data.end_date, "2025-01-10T18:30:00.000Z");
    assert.equal(body.data.timezone, "Asia/Kolkata");
    assert.equal(body.data.interval, undefined);
  });

  test("a datetime without an offset is local time; an explicit offset wins", async () => {
    const local = await expectRows("start_date=2025-01-10T05:30:00&end_date=2025-01-11T05:30:00&timezone=asia/kolkata", fx.DAY);
    assert.equal(local.data.start_date, "2025-01-10T00:00:00.000Z");
    assert.equal(local.data.timezone, "Asia/Kolkata", "IANA's spelling, whatever the case asked");
    const explicit = await expectRows("start_date=2025-01-10T00:00:00Z&end_date=2025-01-11T00:00:00%2B00:00&timezone=Asia/Kolkata", fx.DAY);
    assert.equal(explicit.data.end_date, "2025-01-11T00:00:00.000Z");
  });

  test("a daily series: one point per local day, dense, adding up to the totals", async () => {
    const { body } = await get("start_date=2025-01-10&end_date=2025-01-11&timezone=Asia/Calcutta&interval=day");
    assert.equal(body.data.interval, "day");
    assert.equal(body.data.timezone, "Asia/Kolkata");
    const row = (label) => body.data.phone_numbers.find((r) => r.phone_number === label);
    // +14155550100: e-start and j1 on the 10th (45 + 90 s), e-end (3000 s) on the 11th, 05:30 local.
    assert.deepEqual(row("+14155550100"), {
      phone_number: "+14155550100",
      total_calls: 3,
      total_duration_minutes: 52.25,
      total_duration_hours: 0.87,
      series: [
        { start: "2025-01-10T00:00:00+05:30", total_calls: 2, total_duration_minutes: 2.25, total_duration_hours: 0.04 },
        { start: "2025-01-11T00:00:00+05:30", total_calls: 1, total_duration_minutes: 50, total_duration_hours: 0.83 },
      ],
    });
    // WEB_CALL had nothing on the 11th: a point of zeros.
    assert.deepEqual(row("WEB_CALL").series[1], { start: "2025-01-11T00:00:00+05:30", total_calls: 0, total_duration_minutes: 0, total_duration_hours: 0 });
    for (const r of body.data.phone_numbers) assert.equal(r.series.reduce((n, p) => n + p.total_calls, 0), r.total_calls, r.phone_number);
  });

  test("the first and last periods are clipped to the range; week periods start on Monday", async () => {
    // 2025-01-10 was a Friday: the weeks are [Fri 10, Mon 13) and [Mon 13, Tue 14).
    const { body } = await get("start_date=2025-01-10&end_date=2025-01-13&interval=week");
    assert.deepEqual(body.data.phone_numbers[0].series.map((p) => p.start), ["2025-01-10T00:00:00+00:00", "2025-01-13T00:00:00+00:00"]);
  });

  test("every zone the runtime knows is accepted, and echoed in IANA's current spelling", async () => {
    const renamed = {
      "Asia/Calcutta": "Asia/Kolkata",
      "Asia/Katmandu": "Asia/Kathmandu",
      "Asia/Saigon": "Asia/Ho_Chi_Minh",
      "Asia/Rangoon": "Asia/Yangon",
      "Europe/Kiev": "Europe/Kyiv",
      "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
      "America/Godthab": "America/Nuuk",
      "Atlantic/Faeroe": "Atlantic/Faroe",
      "Pacific/Enderbury": "Pacific/Kanton",
      "Etc/UTC": "UTC",
      "UTC": "UTC",
    };
    const same = (a, b) => new Intl.DateTimeFormat("en", { timeZone: a }).resolvedOptions().timeZone === new Intl.DateTimeFormat("en", { timeZone: b }).resolvedOptions().timeZone;
    const zones = [...new Set([...Intl.supportedValuesOf("timeZone"), ...Object.keys(renamed), ...Object.values(renamed)])];
    assert.ok(zones.length > 400);
    for (const zone of zones) {
      const { status, body } = await get(`start_date=2025-01-10&end_date=2025-01-10&timezone=${encodeURIComponent(zone)}`);
      assert.equal(status, 200, `${zone}: ${JSON.stringify(body)}`);
      const echoed = body.data.timezone;
      if (renamed[zone]) assert.equal(echoed, renamed[zone], zone);
      assert.ok(same(echoed, zone), `${zone} echoed as ${echoed}, another zone`);
      assert.ok(!(echoed in renamed) || renamed[echoed] === echoed, `${zone} echoed by a legacy name, ${echoed}`);
    }
    for (const spelling of ["asia/kolkata", "ASIA/KOLKATA", "Asia/Kolkata", "asia/calcutta", " Asia/Kolkata "]) {
      const { body } = await get(`timezone=${encodeURIComponent(spelling)}`);
      assert.equal(body.data.timezone, "Asia/Kolkata", spelling);
    }
  });

  test("unknown zones and intervals, and too many periods, are 400s naming the parameter", async () => {
    const zone = /^Invalid timezone: expected an IANA time zone name such as Asia\/Kolkata/;
    for (const value of ["Mars/Olympus", "%2B05:30", "GMT%2B5:30", "Asia", "asia/kolkata/x", "Asia%2FKolkata%00", "EST%20EDT", "x".repeat(65)]) {
      await expectError(get(`timezone=${value}`), 400, zone);
    }
    await expectError(get("interval=fortnight"), 400, /^Invalid interval: expected hour, day, week \(ISO weeks, from Monday\) or month$/);
    await expectError(get("start_date=2025-01-01&end_date=2025-03-01&interval=hour"), 400, /^Too many periods: interval=hour splits this range into more than 1000 periods/);
    await expectError(get("timezone=UTC&timezone=UTC"), 400, /^Parameter timezone was given more than once$/);
  });
});

describe("bad input is a 400 naming the parameter", () => {
  const cases = [
    ["start_date=yesterday", /^Invalid start_date: expected an ISO 8601 date \(2026-11-01/],
    ["end_date=2025-02-30", /^Invalid end_date/],
    ["end_date=2025-01-10T10:00:00%2B24:00", /^Invalid end_date/],
    ["start_date=1736467200000", /^Invalid start_date/],
    ["start_date=2025-01-11&end_date=2025-01-10", /^start_date must be before end_date/],
    ["start_date=2025-01-10T00:00:00Z&end_date=2025-01-10T00:00:00Z", /^start_date must be before end_date/],
    [`start_date=${new Date(Date.now() + 86_400_000).toISOString()}`, /^start_date must be before end_date/],
    ["start_date=2025-01-10&start_date=2025-01-11", /^Parameter start_date was given more than once$/],
    ["user_email=a@x.io&user_email=b@x.io", /^Parameter user_email was given more than once$/],
    ["user_email=not-an-email", /^Invalid user_email: expected an email address/],
    ["user_email=alice+tag@example.com", /^Invalid user_email: .*write a \+ in the address as %2B/],
    ["user_email=%27%20OR%201%3D1%20--", /^Invalid user_email/],
    ["startdate=2025-01-10", /^Unknown parameter "startdate"; accepted parameters are start_date, end_date, user_email, timezone, interval$/],
    ["user_email=%E0%A4", /^The query string is malformed/],
    ["user_email=%zz", /^The query string is malformed/],
  ];
  for (const [query, pattern] of cases) {
    test(`?${query}`, async () => {
      const response = get(query);
      await expectError(response, 400, pattern);
      assert.equal((await response).headers.get("cache-control"), "no-store");
    });
  }

  test("authentication comes before the parameters", async () => {
    await expectError(get("start_date=yesterday", { key: null }), 401, /^Missing API key/);
    await expectError(get("start_date=yesterday", { key: keys.viewer.key }), 403, /super-admin/);
  });
});

describe("authentication and authorization", () => {
  const challenge = async (response, status, pattern, wwwAuthenticate) => {
    const { headers } = await response;
    await expectError(response, status, pattern);
    assert.equal(headers.get("www-authenticate"), wwwAuthenticate);
  };
  const invalid = 'Bearer error="invalid_token"';

  test("no Authorization header: 401", () => challenge(get(fx.DAY_QUERY, { key: null }), 401, /^Missing API key/, "Bearer"));
  test("another scheme: 401, a challenge without an error code (RFC 6750 3.1)", () =>
    challenge(get(fx.DAY_QUERY, { key: null, headers: { Authorization: "Basic YWxhZGRpbjpvcGVuc2VzYW1l" } }), 401, /^Unsupported Authorization scheme: expected "Bearer <API key>"$/, "Bearer"));
  test("Bearer without a token: 401", () =>
    challenge(get(fx.DAY_QUERY, { key: null, headers: { Authorization: "Bearer" } }), 401, /^Malformed Authorization header/, invalid));
  test("an unknown key: 401", () => challenge(get(fx.DAY_QUERY, { key: "cak_not-a-real-key" }), 401, /^Invalid API key$/, invalid));
  test("a revoked key: 401", () => challenge(get(fx.DAY_QUERY, { key: keys.revoked.key }), 401, /revoked/, invalid));
  test("an expired key: 401", () => challenge(get(fx.DAY_QUERY, { key: keys.expired.key }), 401, /expired/, invalid));
  test("a valid key of another role: 403", () =>
    challenge(get(fx.DAY_QUERY, { key: keys.viewer.key }), 403, /^This endpoint requires a super-admin API key$/, 'Bearer error="insufficient_scope"'));
  test("the scheme is case-insensitive, and a key not yet expired works", async () => {
    const { status } = await get(fx.DAY_QUERY, { key: null, headers: { Authorization: `bearer ${keys.admin.key}` } });
    assert.equal(status, 200);
    assert.equal((await get(fx.DAY_QUERY, { key: keys.expiring.key })).status, 200);
  });
});

describe("routing", () => {
  test("an unknown path: 404 envelope, no auth needed", async () => {
    await expectError(request(worker.base, "/admin/analytics/calls"), 404, /^Not found$/);
    await expectError(request(worker.base, `${ENDPOINT}/`), 404, /^Not found$/);
  });

  test("another method: 405 with Allow", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const response = request(worker.base, ENDPOINT, { method, key: keys.admin.key });
      const { headers } = await response;
      await expectError(response, 405, /^Method not allowed; use GET, OPTIONS$/);
      assert.equal(headers.get("allow"), "GET, OPTIONS");
    }
  });

  test("D1 failing: 500 envelope with a request id, nothing internal shown, details logged", async () => {
    const { status, headers, body, text } = await request(broken.base, `${ENDPOINT}?${fx.DAY_QUERY}`, { key: brokenKeys.admin.key });
    assert.equal(status, 500);
    const id = headers.get("x-request-id");
    assert.match(id, fx.REQUEST_ID);
    assert.deepEqual(body, { success: false, message: `Internal server error (request id ${id})`, data: null });
    // (The random request id is hex: "d1" may well appear in it.)
    assert.doesNotMatch(text.replace(id, ""), /calls|table|D1|SQL/i);
    const line = await broken.logLineFor(id);
    assert.equal(line.level, "error");
    assert.equal(line.status, 500);
    assert.match(line.error, /D1 query failed.*no such table/);
  });
});

describe("CORS", () => {
  const preflight = (origin) =>
    request(worker.base, ENDPOINT, {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
    });

  test("a preflight from an allowed origin: 204, GET and Authorization allowed, no auth needed", async () => {
    const { status, headers, text } = await preflight(fx.ADMIN_ORIGIN);
    assert.equal(status, 204);
    assert.equal(text, "");
    assert.equal(headers.get("access-control-allow-origin"), fx.ADMIN_ORIGIN);
    assert.match(headers.get("access-control-allow-methods"), /\bGET\b/);
    assert.match(headers.get("access-control-allow-headers"), /\bAuthorization\b/i);
    assert.match(headers.get("vary"), /Origin/);
    assert.match(headers.get("x-request-id"), fx.REQUEST_ID);
  });

  test("a preflight from another origin gets no CORS grant", async () => {
    const { status, headers } = await preflight("https://evil.example.com");
    assert.equal(status, 204);
    assert.equal(headers.get("access-control-allow-origin"), null);
  });

  test("every response to an allowed origin carries Access-Control-Allow-Origin and Vary: Origin", async () => {
    const origin = { Origin: "http://127.0.0.1:5173" };
    for (const [query, key, status] of [
      [fx.DAY_QUERY, keys.admin.key, 200],
      ["start_date=nope", keys.admin.key, 400],
      [fx.DAY_QUERY, null, 401],
      [fx.DAY_QUERY, keys.viewer.key, 403],
    ]) {
      const { status: actual, headers } = await get(query, { key, headers: origin });
      assert.equal(actual, status);
      assert.equal(headers.get("access-control-allow-origin"), "http://127.0.0.1:5173");
      assert.match(headers.get("vary"), /Origin/);
      assert.match(headers.get("access-control-expose-headers"), /X-Request-Id/i);
    }
    const notFound = await request(worker.base, "/nope", { headers: origin });
    assert.equal(notFound.status, 404);
    assert.equal(notFound.headers.get("access-control-allow-origin"), "http://127.0.0.1:5173");
    const failed = await request(broken.base, ENDPOINT, { key: brokenKeys.admin.key, headers: origin });
    assert.equal(failed.status, 500);
    assert.equal(failed.headers.get("access-control-allow-origin"), "http://127.0.0.1:5173");
  });

  test("a response to another origin has no grant", async () => {
    const { status, headers } = await get(fx.DAY_QUERY, { headers: { Origin: "https://evil.example.com" } });
    assert.equal(status, 200);
    assert.equal(headers.get("access-control-allow-origin"), null);
    assert.match(headers.get("vary"), /Origin/);
  });
});

describe("every response", () => {
  test("is JSON, not cached, and has a request id", async () => {
    const responses = [
      await get(fx.DAY_QUERY),
      await get("start_date=x"),
      await get(fx.DAY_QUERY, { key: null }),
      await get(fx.DAY_QUERY, { key: keys.viewer.key }),
      await request(worker.base, "/nope"),
      await request(worker.base, ENDPOINT, { method: "POST" }),
      await request(worker.base, ENDPOINT, { method: "OPTIONS", headers: { Origin: fx.ADMIN_ORIGIN } }),
    ];
    const ids = new Set();
    for (const { headers } of responses) {
      assert.equal(headers.get("content-type"), "application/json");
      assert.equal(headers.get("cache-control"), "no-store");
      assert.match(headers.get("x-request-id"), fx.REQUEST_ID);
      ids.add(headers.get("x-request-id"));
    }
    assert.equal(ids.size, responses.length, "request ids are unique");
  });
});

describe("the log", () => {
  test("one structured line per request, with the key's fingerprint and D1 rows read", async () => {
    const { headers } = await get(fx.DAY_QUERY);
    const id = headers.get("x-request-id");
    const line = await worker.logLineFor(id);
    assert.equal(worker.logLines().filter((l) => l.request_id === id).length, 1, "one line per request");
    assert.deepEqual(Object.keys(line), ["level", "request_id", "method", "path", "status", "duration_ms", "d1_rows_read", "kv_reads", "key"]);
    assert.equal(line.method, "GET");
    assert.equal(line.path, ENDPOINT);
    assert.equal(line.status, 200);
    assert.equal(line.key, keys.admin.fingerprint);
    assert.ok(Number.isInteger(line.d1_rows_read) && line.d1_rows_read > 0, `read ${line.d1_rows_read} rows`);
    assert.ok(line.duration_ms >= 0);
  });

  test("never holds a key, an Authorization header or the query", async () => {
    await get(fx.DAY_QUERY, { key: null, headers: { Authorization: "Bearer cak_this-is-an-unknown-key-0123456789" } });
    await new Promise((r) => setTimeout(r, 300));
    const logs = worker.logs() + broken.logs();
    for (const { key } of [...Object.values(keys), ...Object.values(brokenKeys)]) assert.ok(!logs.includes(key), "a key reached the log");
    assert.ok(!logs.includes("cak_this-is-an-unknown-key"), "a presented key reached the log");
    assert.doesNotMatch(logs, /Bearer |authorization:/i);
    const ours = JSON.stringify([...worker.logLines(), ...broken.logLines()]);
    assert.doesNotMatch(ours, /start_date|user_email|example\.com/);
  });
});
