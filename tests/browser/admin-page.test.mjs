// The admin page in headless Chromium (Debian's package, driven by playwright-core), served from another
// origin than the worker's (with the headers and config.json the build gives it), against wrangler dev with
// known data. Screenshots go to test-artifacts/browser/.
import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { ROOT } from "../../scripts/lib/bindings.mjs";
import * as fx from "../e2e/fixtures.mjs";
import { ENDPOINT, request, run, startLocalWorker } from "../../scripts/lib/local-worker.mjs";
import { serveStatic } from "./static-server.mjs";

const ARTIFACTS = join(ROOT, "test-artifacts", "browser");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FIFTY_DAY = "start_date=2025-03-01&end_date=2025-03-01";

/** 2025-04-01: numbers a spreadsheet could read as formulas. */
const ODD = ["+1 (555) 0100", "=HYPERLINK(1)", "-1", "@SUM(1)", "+12025550100"].map((platform_number, i) => ({
  id: `odd-${i}`,
  user_id: "u-bob",
  user_email: "bob@example.com",
  platform: "sip",
  platform_number,
  started_at: Date.UTC(2025, 3, 1, 12) + i,
  duration_seconds: (10 - i) * 60,
}));
const ODD_DAY = "start_date=2025-04-01&end_date=2025-04-01";

/**
 * 2025-05-01 (UTC): eight numbers with one call of 20.55 s each, where the rounded rows do not add up to the
 * exact total (the API rounds half away from zero, to 2 decimals, from the exact milliseconds):
 *   a row:      20550 ms  = 0.3425 min -> 0.34;  0.005708 h -> 0.01
 *   all eight: 164400 ms  = 2.74 min   -> 2.74;  0.045667 h -> 0.05   (data.totals)
 *   the eight rounded rows added up:  8 x 0.34 = 2.72 min;  8 x 0.01 = 0.08 h  (what the page showed)
 * In a trend, the last three ("3 others", after the five lines drawn): 61650 ms = 1.0275 min exactly.
 */
const ROUNDING = Array.from({ length: 8 }, (_, i) => ({
  id: `rounding-${i}`,
  user_id: "u-bob",
  user_email: "bob@example.com",
  platform: "sip",
  platform_number: `+1555020000${i}`,
  started_at: Date.UTC(2025, 4, 1, 12) + i,
  duration_seconds: 20.55,
}));
const ROUNDING_DAY = "start_date=2025-05-01&end_date=2025-05-01&timezone=UTC&interval=day";

/**
 * Pacific/Chatham around the end of its daylight time (Sunday 2025-04-06 03:45 +13:45 became 02:45 +12:45): a
 * call at local noon on each of three days. Noon on the 5th is 2025-04-04T22:15Z (+13:45); on the 6th and 7th,
 * 23:15Z the day before (+12:45). The days start at 2025-04-05T00:00:00+13:45, 2025-04-06T00:00:00+13:45 and
 * 2025-04-07T00:00:00+12:45.
 */
const CHATHAM = [
  ["2025-04-04T22:15:00Z", 60],
  ["2025-04-05T23:15:00Z", 120],
  ["2025-04-06T23:15:00Z", 180],
].map(([at, duration_seconds], i) => ({
  id: `chatham-${i}`,
  user_id: "u-bob",
  user_email: "bob@example.com",
  platform: "sip",
  platform_number: "+6435550100",
  started_at: Date.parse(at),
  duration_seconds,
}));
const CHATHAM_QUERY = "start_date=2025-04-05&end_date=2025-04-07&timezone=Pacific/Chatham&interval=day";

/** 50 platform numbers on 2025-03-01, with durations 1..50 minutes. */
const FIFTY = Array.from({ length: 50 }, (_, i) => ({
  id: `fifty-${i}`,
  user_id: "u-bob",
  user_email: "bob@example.com",
  platform: "sip",
  platform_number: `+4420${String(7000000 + i * 1371).padStart(8, "0")}`,
  started_at: Date.UTC(2025, 2, 1, 12) + i,
  duration_seconds: (i + 1) * 60,
}));

let worker;
let pages; // the static server for the page (another origin)
let browser;
let keys;
let pageOrigin;
/** The API origins the page is deployed to trust (its config.json). */
let trusted = [];
/** Whether the page comes with its headers (its Content-Security-Policy among them). */
let pageHeaders = true;

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  const demo = await run("node", [join(ROOT, "scripts", "demo-data.mjs")]);
  // The demo's users share emails with the fixtures' (alice@example.com ...): give them their own domain.
  const demoRecords = demo.trim().split("\n").map((line) => JSON.parse(line));
  pages = await serveStatic({ config: () => ({ api_origins: trusted }), headers: () => pageHeaders });
  pageOrigin = `http://127.0.0.1:${pages.port}`;
  worker = await startLocalWorker({
    records: [...fx.DAY_RECORDS, ...FIFTY, ...ODD, ...ROUNDING, ...CHATHAM, ...demoRecords.map((r) => ({ ...r, user_email: r.user_email.replace("@example.com", "@demo.example") }))],
    keys: { admin: { role: "super_admin" }, viewer: { role: "admin" } },
    vars: { ALLOWED_ORIGINS: pageOrigin },
  });
  ({ keys } = worker);
  trusted = [worker.base];
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  await pages?.close();
  await worker?.stop();
});

/**
 * A fresh tab on the page (`timezoneId`: the browser's zone, UTC unless a test says otherwise; `init`: a script
 * run in the page before its own). `console` collects its console lines, `errors` its uncaught exceptions.
 */
async function openPage(origin, query, { width = 1100, height = 900, timezoneId = "UTC", init } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true, timezoneId });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const console = [];
  const errors = [];
  page.on("console", (message) => console.push(message.text()));
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${origin}/admin/#api=${encodeURIComponent(worker.base)}${query ? `&${query}` : ""}`);
  return { page, context, console, errors };
}

async function submitWithKey(page, key) {
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Show calls" }).click();
}

async function tableRows(page) {
  // The first row, or the page's error: that one fails the test with what the page said.
  await page.locator("#table tbody tr").first().or(page.getByRole("alert")).waitFor();
  if (await page.getByRole("alert").isVisible()) assert.fail(`the page shows an error: ${await page.getByRole("alert").textContent()}`);
  return page.locator("#table tbody tr").evaluateAll((rows) =>
    rows.map((row) => [...row.children].map((cell) => cell.textContent)),
  );
}

const number = (text) => Number(text.replace(/,/g, ""));
const decimal = (n) => n.toLocaleString("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** A period start as the page must write it: the API's string as it is, its date, time and offset. */
function asSent(start) {
  const [, date, time, offset] = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):00([+-]\d{2}:\d{2})$/.exec(start);
  return `${date} ${time} (${offset === "+00:00" ? "UTC" : `UTC${offset}`})`;
}

/** What the page must say of a bucket's point `i` (the API's row), on hover or keyboard focus. */
const pointText = (row, i) => {
  const p = row.series[i];
  return `${row.phone_number}, ${asSent(p.start)}: ${p.total_calls} call${p.total_calls === 1 ? "" : "s"}, ${decimal(p.total_duration_minutes)} min`;
};

/** The trend's axes and lines as drawn: x ticks (the lines of each label), y ticks, the unit, the polylines. */
async function trendAxes(page) {
  await page.locator("#trend svg").waitFor();
  return page.locator("#trend svg").evaluate((svg) => ({
    x: [...svg.querySelectorAll(".x-tick text")].map((t) => [...t.querySelectorAll("tspan")].map((s) => s.textContent)),
    y: [...svg.querySelectorAll(".y-tick")].map((g) => ({ label: g.querySelector("text")?.textContent, y: Number(g.querySelector("line.grid")?.getAttribute("y1")) })),
    unit: svg.querySelector(".unit")?.textContent ?? null,
    lines: [...svg.querySelectorAll("polyline")].map((l) => ({ label: l.dataset.label, points: [...l.points].map((p) => [p.x, p.y]) })),
  }));
}

/** Checks the y scale: ticks from 0 up with gridlines, the unit, and each bucket's point where the scale says. */
function assertScale(axes, rows) {
  assert.equal(axes.unit, "min");
  const values = axes.y.map((t) => number(t.label));
  assert.ok(axes.y.length >= 2 && values[0] === 0, `y ticks: ${values}`);
  assert.ok(values.every((v, i) => i === 0 || v > values[i - 1]), `y ticks rise: ${values}`);
  assert.ok(axes.y.every((t) => Number.isFinite(t.y)), "each y tick has its gridline");
  const [zero, top] = [axes.y[0], axes.y.at(-1)];
  const max = Math.max(...rows.flatMap((r) => r.series.map((p) => p.total_duration_minutes)));
  assert.ok(number(top.label) >= max, `the scale (${top.label}) reaches the highest point (${max})`);
  const at = (v) => zero.y + (v / number(top.label)) * (top.y - zero.y);
  for (const [k, row] of rows.entries()) {
    row.series.forEach((p, i) => {
      const drawn = axes.lines[k].points[i][1];
      assert.ok(Math.abs(drawn - at(p.total_duration_minutes)) < 0.2, `${row.phone_number} at ${p.start}: drawn at y=${drawn}, the scale says ${at(p.total_duration_minutes)}`);
    });
  }
}

/** Tabs from the table (the tab stop before the chart) and says whether the chart has the focus. */
async function tabToChart(page) {
  await page.locator(".table-scroll").focus();
  await page.keyboard.press("Tab");
  return page.evaluate(() => document.activeElement === document.querySelector("#trend svg"));
}

const cspViolations = (console) => console.filter((line) => /Content Security Policy/i.test(line));

async function apiAnswer(query) {
  const { status, body } = await request(worker.base, `${ENDPOINT}?${query}`, { key: keys.admin.key });
  assert.equal(status, 200);
  return body.data;
}

describe("the admin page, cross-origin", () => {
  test("shows the API's rows in its order, with totals and the range used", async () => {
    const { page, context } = await openPage(pageOrigin, fx.DAY_QUERY);
    await submitWithKey(page, keys.admin.key);
    const rows = await tableRows(page);
    const data = await apiAnswer(fx.DAY_QUERY);
    assert.deepEqual(data.phone_numbers, fx.DAY);
    assert.deepEqual(
      rows.map(([label, calls, minutes, hours]) => ({
        phone_number: label,
        total_calls: number(calls),
        total_duration_minutes: number(minutes),
        total_duration_hours: number(hours),
      })),
      data.phone_numbers,
    );
    // The total row is the API's own totals (exact sums, rounded once), not the rounded rows added up.
    const totals = await page.locator("#table tfoot td").allTextContents();
    assert.deepEqual(totals.map(number), [data.totals.total_calls, data.totals.total_duration_minutes, data.totals.total_duration_hours]);
    assert.equal(await page.locator("#range").textContent(), "Range used: 2025-01-10 00:00 to 2025-01-11 00:00 in UTC (UTC; end excluded), all users.");
    assert.equal(await page.locator(".bars li").count(), data.phone_numbers.length);

    // The filters are in the URL's fragment (which no server sees), the key only in session storage.
    const url = new URL(page.url());
    const fragment = new URLSearchParams(url.hash.slice(1));
    assert.equal(fragment.get("start_date"), "2025-01-10");
    assert.equal(fragment.get("api"), worker.base);
    assert.equal(url.search, "");
    assert.ok(!page.url().includes(keys.admin.key));
    const stored = JSON.parse(await page.evaluate(() => sessionStorage.getItem("callAnalytics.apiKey")));
    assert.deepEqual(stored, { origin: worker.base, key: keys.admin.key }, "the key is stored with the API it is for");
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    await page.screenshot({ path: join(ARTIFACTS, "table.png"), fullPage: true });

    // Reloading (or opening a shared link to the same API in this tab) shows the same view without asking again.
    await page.reload();
    assert.deepEqual(await tableRows(page), rows);
    await context.close();
  });

  /** A permissive fake API on another port that records every request it gets. */
  async function decoyApi() {
    const seen = [];
    const server = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization ?? null });
      // Answers like a permissive API would, so only the page itself can keep the key from it.
      res.writeHead(req.method === "OPTIONS" ? 204 : 200, {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": "Authorization",
        "Content-Type": "application/json",
      });
      res.end(req.method === "OPTIONS" ? undefined : '{"success":true,"message":"ok","data":{"phone_numbers":[]}}');
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { base: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

  test("a link naming an API the page was not deployed with is refused, and nothing is sent there", async () => {
    const decoy = await decoyApi();
    // Without the page's CSP, whose connect-src would stop the browser anyway: this is the page's own refusal.
    pageHeaders = false;
    try {
      const refusal = new RegExp(`^This page sends nothing to ${escape(decoy.base)}: it talks only to its own origin \\(${escape(pageOrigin)}\\) and to ${escape(worker.base)}`);
      for (const link of [`#api=${encodeURIComponent(decoy.base)}&${fx.DAY_QUERY}`, `?api=${encodeURIComponent(decoy.base)}&${fx.DAY_QUERY}`]) {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${pageOrigin}/admin/${link}`);
        assert.match(await page.getByRole("alert").textContent(), refusal);
        assert.equal(await page.getByLabel("API key").inputValue(), "");
        // Whatever the user does: a key and the button, then Enter.
        await submitWithKey(page, keys.admin.key);
        assert.match(await page.getByRole("alert").textContent(), refusal);
        await page.getByLabel("API key").press("Enter");
        await page.waitForLoadState("networkidle");
        assert.match(await page.getByRole("alert").textContent(), refusal);
        assert.equal(await page.locator("#results").isHidden(), true);
        assert.equal(await page.evaluate(() => sessionStorage.length), 0, "the key was not kept for that host");
        await context.close();
      }
      // Typed into the API field of a page that was showing the real API: refused too.
      const { page, context } = await openPage(pageOrigin, fx.DAY_QUERY);
      await submitWithKey(page, keys.admin.key);
      await tableRows(page);
      await page.getByLabel("API base URL").fill(`${decoy.base}/`);
      await page.getByLabel("API base URL").press("Tab");
      await submitWithKey(page, keys.admin.key);
      assert.match(await page.getByRole("alert").textContent(), refusal);
      await context.close();
      assert.deepEqual(decoy.seen, [], "the other host received no request at all");
    } finally {
      pageHeaders = true;
      await decoy.close();
    }
  });

  test("the key stays with the API it was entered for, among the trusted ones", async () => {
    const other = await decoyApi();
    trusted = [worker.base, other.base, "http://api.example.com"];
    try {
      const { page, context } = await openPage(pageOrigin, fx.DAY_QUERY);
      await submitWithKey(page, keys.admin.key);
      await tableRows(page);
      // Same tab, a link (only the fragment changes) that points the page at the other trusted API.
      await page.goto(`${pageOrigin}/admin/#api=${encodeURIComponent(other.base)}&${fx.DAY_QUERY}`);
      await page.waitForLoadState("networkidle");
      assert.equal(await page.getByLabel("API key").inputValue(), "", "the key field is empty for another API");
      assert.match(await page.locator("#key-target").textContent(), new RegExp(`sent only to ${escape(other.base)}`));
      assert.equal(await page.locator("#results").isHidden(), true);
      // Editing the API field in place does not carry the key along either.
      await page.goto(`${pageOrigin}/admin/#api=${encodeURIComponent(worker.base)}&${fx.DAY_QUERY}`);
      await page.reload();
      assert.equal(await page.getByLabel("API key").inputValue(), keys.admin.key, "the key comes back for its own API");
      await page.getByLabel("API base URL").fill(other.base);
      await page.getByLabel("API base URL").press("Tab");
      assert.equal(await page.getByLabel("API key").inputValue(), "");
      await page.getByRole("button", { name: "Show calls" }).click();
      assert.match(await page.getByRole("alert").textContent(), /^Enter an API key first\.$/);
      // Plain http is for localhost and 127.0.0.1 only, even for an origin on the list.
      await page.getByLabel("API base URL").fill("http://api.example.com");
      await page.getByLabel("API base URL").press("Tab");
      await submitWithKey(page, keys.admin.key);
      assert.match(await page.getByRole("alert").textContent(), /^This page sends nothing to http:\/\/api\.example\.com/);
      assert.deepEqual(other.seen, [], "the other host received no request at all");
      await context.close();
    } finally {
      trusted = [worker.base];
      await other.close();
    }
  });

  /** Shows `query` with the admin key and downloads its CSV: { lines, filename }. */
  async function csvOf(query, options) {
    const { page, context } = await openPage(pageOrigin, query, options);
    await submitWithKey(page, keys.admin.key);
    await tableRows(page);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    const lines = (await readFile(await download.path(), "utf8")).trimEnd().split("\r\n");
    const filename = download.suggestedFilename();
    await context.close();
    return { lines, filename };
  }

  test("the CSV download holds the table", async () => {
    const { lines, filename } = await csvOf(fx.DAY_QUERY);
    const expected = [
      "phone_number,total_calls,total_duration_minutes,total_duration_hours",
      ...fx.DAY.map((r) => [r.phone_number, r.total_calls, r.total_duration_minutes, r.total_duration_hours].join(",")),
    ];
    assert.deepEqual(lines, expected);
    assert.match(filename, /^calls-by-phone-number_2025-01-10T00-00-00\.000Z_2025-01-11T00-00-00\.000Z\.csv$/);
  });

  test("the CSV keeps a spreadsheet from reading a cell as a formula; a + and digits stay a number", async () => {
    const { lines } = await csvOf(ODD_DAY);
    const labels = lines.slice(1).map((line) => line.split(",")[0]);
    assert.deepEqual(labels, ["'+1 (555) 0100", "'=HYPERLINK(1)", "'-1", "'@SUM(1)", "+12025550100"]);
  });

  test("a wrong key shows the server's 401 message", async () => {
    const { page, context } = await openPage(pageOrigin, fx.DAY_QUERY);
    await submitWithKey(page, "cak_wrong");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.textContent(), /^401: Invalid API key \(request id [0-9a-f-]{36}\)$/);
    await page.screenshot({ path: join(ARTIFACTS, "401.png") });
    await context.close();
  });

  test("a key without the role shows the server's 403 message", async () => {
    const { page, context } = await openPage(pageOrigin, fx.DAY_QUERY);
    await submitWithKey(page, keys.viewer.key);
    await page.getByRole("alert").waitFor();
    assert.match(await page.getByRole("alert").textContent(), /^403: This endpoint requires a super-admin API key/);
    await context.close();
  });

  test("a bad date shows the server's 400 message", async () => {
    const { page, context } = await openPage(pageOrigin, "start_date=yesterday");
    assert.equal(await page.getByLabel("From (UTC)").inputValue(), "yesterday");
    await submitWithKey(page, keys.admin.key);
    await page.getByRole("alert").waitFor();
    assert.match(await page.getByRole("alert").textContent(), /^400: Invalid start_date: expected an ISO 8601 date/);
    await page.screenshot({ path: join(ARTIFACTS, "400.png") });
    await context.close();
  });

  test("a page on an origin the API does not allow is blocked by CORS", async () => {
    const other = `http://localhost:${pages.port}`; // same files, another origin
    const { page, context, console } = await openPage(other, fx.DAY_QUERY);
    await submitWithKey(page, keys.admin.key);
    await page.getByRole("alert").waitFor();
    assert.match(await page.getByRole("alert").textContent(), /^Could not reach the API at .*does not allow this page's origin \(http:\/\/localhost:\d+\)/);
    assert.ok(console.some((line) => /CORS policy/.test(line)), `console: ${console.join(" | ")}`);
    assert.equal(await page.locator("#table tbody tr").count(), 0);
    await page.screenshot({ path: join(ARTIFACTS, "cors-blocked.png") });
    await context.close();
  });

  test("50 buckets stay readable, on a phone too", async () => {
    const { page, context } = await openPage(pageOrigin, FIFTY_DAY, { width: 375, height: 800 });
    await submitWithKey(page, keys.admin.key);
    const rows = await tableRows(page);
    assert.equal(rows.length, 50);
    assert.equal(rows[0][0], FIFTY[49].platform_number, "longest first");
    assert.equal(await page.locator(".bars li").count(), 50);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    const heights = await page.locator(".bars li").evaluateAll((items) => items.map((li) => li.getBoundingClientRect().height));
    assert.ok(Math.min(...heights) >= 14, "each bar line keeps a readable height");
    await page.screenshot({ path: join(ARTIFACTS, "fifty-buckets-phone.png"), fullPage: true });
    await page.locator("#chart").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, "fifty-buckets-phone-chart.png") });
    await context.close();
  });

  /** The table as the page shows it, as the API's rows (series left out). */
  async function shownRows(page) {
    return (await tableRows(page)).map(([label, calls, minutes, hours]) => ({
      phone_number: label,
      total_calls: number(calls),
      total_duration_minutes: number(minutes),
      total_duration_hours: number(hours),
    }));
  }
  const withoutSeries = (rows) => rows.map(({ series, ...row }) => row);

  test("in Asia/Kolkata, the page reads dates there, and shows and downloads the API's daily series", async () => {
    const range = "start_date=2025-01-10&end_date=2025-01-11&interval=day";
    const { page, context } = await openPage(pageOrigin, range, { timezoneId: "Asia/Kolkata" });
    // The browser's zone by default (Chromium calls it by ICU's legacy name); the API's spelling once answered.
    assert.match(await page.getByLabel("Time zone").inputValue(), /^Asia\/(Kolkata|Calcutta)$/);
    await submitWithKey(page, keys.admin.key);
    const rows = await shownRows(page);
    assert.equal(await page.getByLabel("Time zone").inputValue(), "Asia/Kolkata");
    assert.equal(await page.getByLabel("From (Asia/Kolkata)").inputValue(), "2025-01-10");
    const data = await apiAnswer(`${range}&timezone=Asia/Kolkata`);
    assert.equal(data.start_date, "2025-01-09T18:30:00.000Z");
    assert.deepEqual(rows, withoutSeries(data.phone_numbers));
    assert.equal(
      await page.locator("#range").textContent(),
      "Range used: 2025-01-10 00:00 to 2025-01-12 00:00 in Asia/Kolkata (UTC+05:30; end excluded), all users.",
    );
    // The trend: a line per bucket (five here: fewer than the cut-off), each the API's minutes per day.
    const lines = await page.locator("#trend polyline").evaluateAll((ls) => ls.map((l) => l.dataset.label));
    assert.deepEqual(lines, data.phone_numbers.map((r) => r.phone_number));
    assert.match(await page.locator("#trend svg").getAttribute("aria-label"), /^Minutes per day from 2025-01-10 00:00 \(UTC\+05:30\) to 2025-01-11 00:00 \(UTC\+05:30\) in Asia\/Kolkata, 2 days;/);
    assert.equal(new URLSearchParams(new URL(page.url()).hash.slice(1)).get("timezone"), "Asia/Kolkata");
    await page.screenshot({ path: join(ARTIFACTS, "kolkata-daily.png"), fullPage: true });
    await context.close();
    // The CSV: a line per bucket and day, as the API's series.
    const { lines: csv } = await csvOf(`${range}&timezone=Asia/Kolkata`, { timezoneId: "Asia/Kolkata" });
    assert.deepEqual(csv, [
      "phone_number,period_start,total_calls,total_duration_minutes,total_duration_hours",
      ...data.phone_numbers.flatMap((r) => r.series.map((p) => [r.phone_number, p.start, p.total_calls, p.total_duration_minutes, p.total_duration_hours].join(","))),
    ]);
    assert.ok(csv.includes("+14155550100,2025-01-11T00:00:00+05:30,1,50,0.83"), "e-end: 05:30 on the 11th in Kolkata");
  });

  test("in America/New_York, a date is a New York day, and the range is shown there", async () => {
    const { page, context } = await openPage(pageOrigin, fx.DAY_QUERY, { timezoneId: "America/New_York" });
    assert.equal(await page.getByLabel("Time zone").inputValue(), "America/New_York");
    await submitWithKey(page, keys.admin.key);
    const rows = await shownRows(page);
    const data = await apiAnswer(`${fx.DAY_QUERY}&timezone=America/New_York`);
    assert.equal(data.start_date, "2025-01-10T05:00:00.000Z");
    assert.deepEqual(rows, data.phone_numbers);
    assert.equal(
      await page.locator("#range").textContent(),
      "Range used: 2025-01-10 00:00 to 2025-01-11 00:00 in America/New_York (UTC-05:00; end excluded), all users.",
    );
    assert.equal(await page.locator("#trend-section").isHidden(), true, "no interval, no trend");
    await context.close();
  });

  test("the trend stays readable with 50 buckets: the top five and the rest as one line", async () => {
    const query = `${FIFTY_DAY}&interval=hour&timezone=UTC`;
    const { page, context } = await openPage(pageOrigin, query, { width: 375, height: 800 });
    await submitWithKey(page, keys.admin.key);
    await tableRows(page);
    const data = await apiAnswer(query);
    const labels = await page.locator("#trend polyline").evaluateAll((ls) => ls.map((l) => l.dataset.label));
    assert.deepEqual(labels, [...data.phone_numbers.slice(0, 5).map((r) => r.phone_number), "45 others"]);
    assert.equal(await page.locator(".legend li").count(), 6);
    // The rest: 45 calls, exact; minutes 1 + ... + 45 = 1035 exactly, which the page may only estimate from
    // rounded values: it says so, and its bound holds. The API's total less the five drawn (6 rounded values,
    // within 0.03) is tighter than adding the 45 rows (within 0.225).
    const others = await page.locator(".legend li").last().locator(".value").textContent();
    const [, calls, minutes, bound] = /^(\d+) calls, ≈([\d,.]+) min \(±([\d.]+)\)$/.exec(others) ?? [];
    assert.equal(Number(calls), 45, others);
    assert.ok(Math.abs(number(minutes) - 1035) <= Number(bound) && Number(bound) <= 0.03, others);
    // Dated x ticks, from the API's starts: each tick an hour of the series, the first with its date.
    const axes = await trendAxes(page);
    const starts = data.phone_numbers[0].series.map((p) => p.start);
    assert.ok(axes.x.length >= 2 && axes.x[0][1] === "2025-03-01", JSON.stringify(axes.x));
    let [date, last] = [null, -1];
    for (const [time, day] of axes.x) {
      date = day ?? date;
      const index = starts.indexOf(`${date}T${time}:00+00:00`);
      assert.ok(index > last, `tick ${date} ${time} is a later start of the series`);
      last = index;
    }
    assertScale(axes, data.phone_numbers.slice(0, 5));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await page.locator("#trend").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, "trend-fifty-phone.png") });
    await context.close();
  });

  test("the total row is the API's exact totals, where the rounded rows added up would differ", async () => {
    const { page, context, errors } = await openPage(pageOrigin, ROUNDING_DAY);
    await submitWithKey(page, keys.admin.key);
    const rows = await shownRows(page);
    const data = await apiAnswer(ROUNDING_DAY);
    // The dataset does what it is for (the arithmetic is by ROUNDING).
    assert.deepEqual(rows, withoutSeries(data.phone_numbers));
    assert.deepEqual(rows.map((r) => [r.total_calls, r.total_duration_minutes, r.total_duration_hours]), Array(8).fill([1, 0.34, 0.01]));
    const totals = (await page.locator("#table tfoot td").allTextContents()).map(number);
    assert.deepEqual(totals, [8, 2.74, 0.05], "not 2.72 and 0.08, the rounded rows added up");
    assert.deepEqual(data.totals, { total_calls: 8, total_duration_minutes: 2.74, total_duration_hours: 0.05 });
    // The trend's "3 others": 3 calls, exact; 1.0275 min exactly, which the page can only estimate from the
    // rows' rounded values (3 of them, so within 0.015; the API's total less the five drawn: within 0.03).
    const legend = page.locator(".legend li").last();
    assert.equal(await legend.locator("span").nth(1).textContent(), "3 others");
    const others = await legend.locator(".value").textContent();
    const [, calls, minutes, bound] = /^(\d+) calls, ≈([\d.]+) min \(±([\d.]+)\)$/.exec(others) ?? [];
    assert.equal(Number(calls), 3, others);
    assert.ok(Math.abs(Number(minutes) - 1.0275) <= Number(bound) && Number(bound) <= 0.015, others);
    // Its one point, from the keyboard: the sixth line.
    assert.ok(await tabToChart(page), "the chart takes the focus");
    for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowDown");
    const point = await page.locator("#trend-readout").textContent();
    const [, pointMinutes, pointBound] = /^3 others, 2025-05-01 00:00 \(UTC\): 3 calls, ≈([\d.]+) min \(±([\d.]+)\)$/.exec(point) ?? [];
    assert.ok(Math.abs(Number(pointMinutes) - 1.0275) <= Number(pointBound), point);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("series starts are shown as the API sent them: an Asia/Kathmandu report in a browser in Los Angeles", async () => {
    const query = "start_date=2025-01-10&end_date=2025-01-11&timezone=Asia/Kathmandu&interval=day";
    const { page, context, console, errors } = await openPage(pageOrigin, query, { timezoneId: "America/Los_Angeles" });
    await submitWithKey(page, keys.admin.key);
    await tableRows(page);
    const data = await apiAnswer(query);
    const rows = data.phone_numbers;
    assert.deepEqual(rows[0].series.map((p) => p.start), ["2025-01-10T00:00:00+05:45", "2025-01-11T00:00:00+05:45"]);
    const axes = await trendAxes(page);
    assert.deepEqual(axes.x, [["2025-01-10"], ["2025-01-11"]], "a dated tick per day, Kathmandu's dates");
    assertScale(axes, rows);
    // A point's value on keyboard focus: Tab reaches the chart; the arrow keys move between days and lines.
    assert.ok(await tabToChart(page), "the chart takes the focus");
    const readout = page.locator("#trend-readout");
    assert.equal(await readout.getAttribute("role"), "status");
    assert.equal(await readout.textContent(), pointText(rows[0], 0));
    await page.keyboard.press("ArrowRight");
    assert.equal(await readout.textContent(), pointText(rows[0], 1));
    await page.keyboard.press("ArrowDown");
    assert.equal(await readout.textContent(), pointText(rows[1], 1));
    await page.keyboard.press("Home");
    assert.equal(await readout.textContent(), pointText(rows[1], 0));
    // And on hover: the pointer on the third line's second point (50 min, far from the other lines there).
    const [x, y] = await page.locator("#trend polyline").nth(2).evaluate((line) => {
      const point = line.points[1];
      const m = line.getScreenCTM();
      return [point.x * m.a + m.e, point.y * m.d + m.f];
    });
    await page.mouse.move(x, y);
    assert.equal(await readout.textContent(), pointText(rows[2], 1));
    assert.match(await page.locator("#trend svg").getAttribute("aria-label"), /^Minutes per day from 2025-01-10 00:00 \(UTC\+05:45\) to 2025-01-11 00:00 \(UTC\+05:45\) in Asia\/Kathmandu/);
    assert.deepEqual(errors, []);
    assert.deepEqual(cspViolations(console), [], "the chart needs nothing the page's CSP refuses");
    await page.locator("#trend-section").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, "trend-kathmandu-focus.png") });
    await context.close();
  });

  test("across a change of offset (Pacific/Chatham's daylight time ends), each start keeps the API's offset", async () => {
    const { page, context, errors } = await openPage(pageOrigin, CHATHAM_QUERY);
    await submitWithKey(page, keys.admin.key);
    await tableRows(page);
    const data = await apiAnswer(CHATHAM_QUERY);
    const [row] = data.phone_numbers;
    assert.equal(data.phone_numbers.length, 1);
    assert.deepEqual(row.series.map((p) => [p.start, p.total_calls, p.total_duration_minutes]), [
      ["2025-04-05T00:00:00+13:45", 1, 1],
      ["2025-04-06T00:00:00+13:45", 1, 2],
      ["2025-04-07T00:00:00+12:45", 1, 3],
    ]);
    assert.deepEqual((await trendAxes(page)).x, [["2025-04-05"], ["2025-04-06"], ["2025-04-07"]]);
    assert.match(await page.locator("#trend .hint").textContent(), /Pacific\/Chatham \(UTC\+13:45 \/ UTC\+12:45\)/);
    assert.ok(await tabToChart(page), "the chart takes the focus");
    for (let i = 0; i < 3; i++) {
      if (i) await page.keyboard.press("ArrowRight");
      assert.equal(await page.locator("#trend-readout").textContent(), pointText(row, i));
    }
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("a time zone name no one knows, from a link, is an error the page shows, and nothing is asked", async () => {
    const { page, context, errors } = await openPage(pageOrigin, `${fx.DAY_QUERY}&timezone=Mars/Olympus`);
    const asked = [];
    page.on("request", (r) => r.url().includes(ENDPOINT) && asked.push(r.url()));
    await submitWithKey(page, keys.admin.key);
    await page.getByRole("alert").waitFor();
    assert.match(await page.getByRole("alert").textContent(), /^This browser does not know the time zone "Mars\/Olympus"/);
    assert.equal(await page.locator("#results").isHidden(), true);
    assert.deepEqual(asked, []);
    // Corrected, the report comes.
    await page.getByLabel("Time zone").fill("UTC");
    await page.getByRole("button", { name: "Show calls" }).click();
    assert.equal((await tableRows(page)).length, fx.DAY.length);
    assert.equal(await page.getByRole("alert").isHidden(), true);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("a zone the API knows but this browser does not is an error the page shows, not an exception", async () => {
    // Older time zone data in the browser, simulated: its Intl rejects Asia/Kathmandu, as it rejects any name
    // it does not know. Typed as is, or as Asia/Katmandu (which the browser knows, and the API answers as
    // Asia/Kathmandu).
    const init = () => {
      const Real = Intl.DateTimeFormat;
      const unknown = (zone) => typeof zone === "string" && zone.toLowerCase() === "asia/kathmandu";
      function DateTimeFormat(locales, options) {
        if (unknown(options?.timeZone)) throw new RangeError(`Invalid time zone specified: ${options.timeZone}`);
        return new Real(locales, options);
      }
      DateTimeFormat.prototype = Real.prototype;
      DateTimeFormat.supportedLocalesOf = Real.supportedLocalesOf;
      Intl.DateTimeFormat = DateTimeFormat;
      const values = Intl.supportedValuesOf;
      Intl.supportedValuesOf = (key) => values(key).filter((v) => !unknown(v));
    };
    for (const typed of ["Asia/Kathmandu", "Asia/Katmandu"]) {
      const { page, context, errors } = await openPage(pageOrigin, `${fx.DAY_QUERY}&interval=day`, { init });
      await page.getByLabel("Time zone").fill(typed);
      await submitWithKey(page, keys.admin.key);
      // Done with it once the button is back (the page disables it while it asks the API).
      await page.locator("#submit:enabled").waitFor();
      assert.deepEqual(errors, [], typed);
      assert.match(await page.getByRole("alert").textContent(), /this browser does not know the time zone "Asia\/Kathmandu"/i, typed);
      assert.equal(await page.locator("#results").isHidden(), true, typed);
      await context.close();
    }
  });

  test("works from the keyboard, with labelled inputs", async () => {
    const { page, context } = await openPage(pageOrigin, fx.DAY_QUERY);
    for (const label of ["API base URL", "API key", "Time zone", "Trend", "From (UTC)", "To (UTC)", "User email"]) {
      assert.equal(await page.getByLabel(label).count(), 1, label);
    }
    await page.getByLabel("API key").focus();
    await page.keyboard.type(keys.admin.key);
    await page.keyboard.press("Enter");
    assert.equal((await tableRows(page)).length, fx.DAY.length);
    assert.equal(await page.locator("th[scope=col]").count(), 4);
    await context.close();
  });
});

test("the worker serves the page itself, and it shows the demo data by default", async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${worker.base}/admin/`);
  await submitWithKey(page, keys.admin.key);
  const rows = await tableRows(page);
  const data = await apiAnswer("");
  // Compared as sets: the default window moves between the two requests.
  assert.deepEqual(rows.map((r) => r[0]).sort(), data.phone_numbers.map((r) => r.phone_number).sort());
  assert.ok(rows.length >= 6, "demo data: five numbers, web and unknown");
  await page.screenshot({ path: join(ARTIFACTS, "admin-page-demo.png"), fullPage: true });
  await context.close();
});

test("the demo data as README shows it: Asia/Kolkata, the last 30 days, daily", async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, timezoneId: "Asia/Kolkata" });
  const page = await context.newPage();
  await page.goto(`${worker.base}/admin/#interval=day`);
  await submitWithKey(page, keys.admin.key);
  await tableRows(page);
  assert.equal(await page.locator("#trend polyline").count(), 6, "five numbers and the rest (web and unknown)");
  // A point read from the keyboard, as README's picture shows it: the first line, a week before the end.
  assert.ok(await tabToChart(page), "the chart takes the focus");
  await page.keyboard.press("End");
  for (let i = 0; i < 7; i++) await page.keyboard.press("ArrowLeft");
  const first = await page.locator(".legend li").first().locator("span").nth(1).textContent();
  assert.ok((await page.locator("#trend-readout").textContent()).startsWith(`${first}, `));
  // docs/admin-page.png is a copy of this screenshot.
  await page.screenshot({ path: join(ARTIFACTS, "admin-page-demo-kolkata-daily.png"), fullPage: true });
  await context.close();
});
