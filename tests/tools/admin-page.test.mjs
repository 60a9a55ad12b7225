// The admin page's trust rule, as the build applies it (scripts/lib/admin-page.mjs) and the page imports it
// (public/admin/api-origin.js): which API origins config.json may hold, and the headers written from it. And
// the page's pure parts (public/admin/format.js, trend.js): period starts, sums of rounded values, the scales.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apiOriginProblem } from "../../public/admin/api-origin.js";
import { minutesText, roundedSum, splitStart, startLabel } from "../../public/admin/format.js";
import { offsetsOf, othersMinutes, tickLabels, trendLines, xTicks, yScale, yTicks } from "../../public/admin/trend.js";
import { checkConfig, headersFile, isApiOrigin, pageHeaders } from "../../scripts/lib/admin-page.mjs";

test("an API origin is https, or plain http on localhost and 127.0.0.1, and a bare origin", () => {
  for (const origin of ["https://analytics.example.com", "https://api.example.com:8443", "http://localhost:8787", "http://127.0.0.1:8787", "https://localhost"]) {
    assert.equal(apiOriginProblem(origin), null, origin);
    assert.ok(isApiOrigin(origin), origin);
  }
  for (const [text, problem] of [
    ["http://analytics.example.com", "must use https"],
    ["http://127.0.0.2:8787", "must use https"],
    ["http://localhost.evil.example", "must use https"],
    ["ftp://localhost", "must use https"],
    ["https://analytics.example.com/", "is not an origin"],
    ["https://analytics.example.com/api", "is not an origin"],
    ["HTTPS://Analytics.example.com", "is not an origin"],
    ["analytics.example.com", "is not a URL"],
    ["", "is not a URL"],
  ]) {
    assert.match(apiOriginProblem(text) ?? "", new RegExp(problem), text);
    assert.ok(!isApiOrigin(text), text);
  }
});

test("the build refuses a config the page would partly ignore, and pins connect-src to what it accepts", () => {
  assert.throws(() => checkConfig({ api_origins: ["https://ok.example", "http://evil.example"] }), /"http:\/\/evil\.example" must use https/);
  assert.throws(() => checkConfig({ origins: [] }), /expected \{"api_origins": \[\.\.\.\]\}/);
  const file = headersFile({ api_origins: ["https://ok.example", "http://localhost:8787"] });
  assert.match(file, /^\/admin\/\*$/m);
  assert.match(file, /^ {2}Content-Security-Policy: .*; connect-src 'self' https:\/\/ok\.example http:\/\/localhost:8787; /m);
  assert.match(file, /^ {2}X-Frame-Options: DENY$/m);
});

test("the page's CSP keeps styles to its own files: no inline styles, no eval", () => {
  const csp = pageHeaders({ api_origins: [] })["Content-Security-Policy"];
  assert.match(csp, /(^|; )style-src 'self'(;|$)/);
  assert.match(csp, /(^|; )script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|unsafe-hashes|data:|\*/);
});

test("a period start is shown as the API wrote it, with no zone data", () => {
  assert.deepEqual(splitStart("2026-11-01T00:00:00+05:30"), { date: "2026-11-01", month: "2026-11", time: "00:00", offset: "+05:30" });
  assert.deepEqual(splitStart("2025-04-07T00:00:00+12:45"), { date: "2025-04-07", month: "2025-04", time: "00:00", offset: "+12:45" });
  assert.deepEqual(splitStart("1890-01-01T00:00:30.250-03:30"), { date: "1890-01-01", month: "1890-01", time: "00:00:30.250", offset: "-03:30" });
  assert.equal(splitStart("2026-11-01T00:00:00Z").offset, "+00:00");
  for (const text of ["2026-11-01 00:00", "2026-11-01T00:00+05:30", "2026-11-01", "", null]) assert.equal(splitStart(text), null, String(text));
  assert.equal(startLabel("2026-11-01T00:00:00+05:45"), "2026-11-01 00:00 (UTC+05:45)");
  assert.equal(startLabel("2026-03-29T01:00:00+00:00"), "2026-03-29 01:00 (UTC)");
  assert.equal(startLabel("2026-11-01T00:00:00-03:00"), "2026-11-01 00:00 (UTC-03:00)");
  assert.equal(startLabel("not a date"), "not a date");
});

test("sums of rounded values are exact in hundredths and say how far they can be from the exact sum", () => {
  // 0.1 + 0.2 is 0.30000000000000004 in floating point; 10 + 20 hundredths are 30.
  assert.deepEqual(roundedSum([{ amount: 0.1, calls: 1 }, { amount: 0.2, calls: 1 }]), { hundredths: 30, terms: 2 });
  // A period without calls is exactly 0: no rounding in it.
  assert.deepEqual(roundedSum([{ amount: 0, calls: 0 }, { amount: 0.34, calls: 1 }]), { hundredths: 34, terms: 1 });
  assert.equal(minutesText({ hundredths: 102, terms: 3 }), "≈1.02 min (±0.015)");
  assert.equal(minutesText({ hundredths: 103500, terms: 6 }), "≈1,035.00 min (±0.03)");
  assert.equal(minutesText({ hundredths: 34, terms: 1 }), "0.34 min", "one value is the API's own rounding");
  assert.equal(minutesText({ hundredths: 20295, terms: 0 }), "202.95 min");
});

const row = (phone_number, calls, minutes, series = []) => ({ phone_number, total_calls: calls, total_duration_minutes: minutes, total_duration_hours: 0, series });

test("the trend's other buckets: exact calls, and the tighter of two estimates of their minutes", () => {
  // Eight rows of 20.55 s (0.34 min each; 2.74 min in all, exactly): the three others are 1.0275 min.
  // Their own rows: 1.02, three rounded values (within 0.015); the total less the five drawn: 2.74 - 1.70 =
  // 1.04, six rounded values (within 0.03). The first is tighter.
  const eight = Array.from({ length: 8 }, (_, i) => row(`+${i}`, 1, 0.34));
  const totals = { total_calls: 8, total_duration_minutes: 2.74, total_duration_hours: 0.05 };
  assert.deepEqual(othersMinutes(totals, eight.slice(0, 5), eight.slice(5)), { hundredths: 102, terms: 3 });
  // Fifty rows of 1..50 min (1275 in all): the 45 others are 1035 min. Their rows: 45 rounded values; the
  // total less the five drawn (50 + 49 + 48 + 47 + 46 = 240): 1035, from six.
  const fifty = Array.from({ length: 50 }, (_, i) => row(`+${i}`, 1, 50 - i));
  assert.deepEqual(othersMinutes({ total_calls: 50, total_duration_minutes: 1275, total_duration_hours: 21.25 }, fifty.slice(0, 5), fifty.slice(5)), { hundredths: 103500, terms: 6 });
  // An API without totals: the rows it is.
  assert.deepEqual(othersMinutes(undefined, fifty.slice(0, 5), fifty.slice(5)), { hundredths: 103500, terms: 45 });

  const point = (start, calls, minutes) => ({ start, total_calls: calls, total_duration_minutes: minutes, total_duration_hours: 0 });
  const starts = ["2025-05-01T00:00:00+00:00", "2025-05-02T00:00:00+00:00"];
  const rows = Array.from({ length: 7 }, (_, i) => row(`+${i}`, 2, 0.68, [point(starts[0], 1, 0.34), point(starts[1], 1, 0.34)]));
  rows.push(row("+7", 1, 0.34, [point(starts[0], 0, 0), point(starts[1], 1, 0.34)]));
  const lines = trendLines({ phone_numbers: rows, totals: { total_calls: 15, total_duration_minutes: 5.13, total_duration_hours: 0.09 } });
  assert.deepEqual(lines.map((l) => l.label), ["+0", "+1", "+2", "+3", "+4", "3 others"]);
  const others = lines.at(-1);
  assert.equal(others.calls, 5);
  assert.deepEqual(others.points.map((p) => [p.start, p.calls, p.minutes]), [
    [starts[0], 2, { hundredths: 68, terms: 2 }],
    [starts[1], 3, { hundredths: 102, terms: 3 }],
  ]);
  assert.deepEqual(lines[0].points[0].minutes, { hundredths: 34, terms: 0 }, "a bucket's own point is the API's value");
});

test("the y scale: 0 to a round top in at most five steps of 1, 2, 2.5 or 5 times a power of ten", () => {
  assert.deepEqual(yScale(202.95), { top: 250, step: 50 });
  assert.deepEqual(yTicks(yScale(202.95)), [0, 50, 100, 150, 200, 250]);
  assert.deepEqual(yScale(1035), { top: 1250, step: 250 });
  assert.deepEqual(yScale(100), { top: 100, step: 20 });
  assert.deepEqual(yTicks(yScale(1.02)), [0, 0.25, 0.5, 0.75, 1, 1.25]);
  assert.deepEqual(yTicks(yScale(0.34)), [0, 0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual(yScale(0), { top: 1, step: 0.5 });
});

test("x ticks: round steps of periods, dated from the start strings alone", () => {
  const hours = (day, from, count, offset = "+00:00") =>
    Array.from({ length: count }, (_, i) => `${day}T${String(from + i).padStart(2, "0")}:00:00${offset}`);
  const day = hours("2025-03-01", 0, 24);
  assert.deepEqual(xTicks(day, "hour", 4), [0, 6, 12, 18]);
  assert.deepEqual(tickLabels(day, [0, 6, 12, 18], "hour"), [["00:00", "2025-03-01"], ["06:00"], ["12:00"], ["18:00"]]);
  // From 09:00 over two days, room for two ticks: a day apart, at midnight.
  const two = [...hours("2025-03-01", 9, 15), ...hours("2025-03-02", 0, 24), ...hours("2025-03-03", 0, 9)];
  assert.deepEqual(xTicks(two, "hour", 2), [15, 39]);
  assert.deepEqual(tickLabels(two, [15, 39], "hour"), [["00:00", "2025-03-02"], ["00:00", "2025-03-03"]]);
  const days = Array.from({ length: 30 }, (_, i) => `2025-04-${String(i + 1).padStart(2, "0")}T00:00:00+13:45`);
  assert.deepEqual(xTicks(days, "day", 7), [0, 7, 14, 21, 28]);
  assert.deepEqual(tickLabels(days, [0, 28], "day"), [["2025-04-01"], ["2025-04-29"]]);
  // A first day that starts later than midnight (a range from 09:30) says so.
  assert.deepEqual(tickLabels(["2025-04-01T09:30:00+05:30"], [0], "day"), [["2025-04-01", "09:30"]]);
  // Months from November over 14: room for three, so every six months, from January.
  const months = Array.from({ length: 14 }, (_, i) => {
    const m = 10 + i;
    return `${2025 + Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, "0")}-01T00:00:00+05:30`;
  });
  assert.deepEqual(xTicks(months, "month", 3), [2, 8]);
  assert.deepEqual(tickLabels(months, [2, 8], "month"), [["2026-01"], ["2026-07"]]);
  assert.equal(offsetsOf(["2025-04-05T00:00:00+13:45", "2025-04-06T00:00:00+13:45", "2025-04-07T00:00:00+12:45"]), "UTC+13:45 / UTC+12:45");
});
