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
    records: [...fx.DAY_RECORDS, ...FIFTY, ...ODD, ...demoRecords.map((r) => ({ ...r, user_email: r.user_email.replace("@example.com", "@demo.example") }))],
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

/** A fresh tab on the page (`timezoneId`: the browser's zone, UTC unless a test says otherwise). */
async function openPage(origin, query, { width = 1100, height = 900, timezoneId = "UTC" } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true, timezoneId });
  const page = await context.newPage();
  const console = [];
  page.on("console", (message) => console.push(message.text()));
  await page.goto(`${origin}/admin/#api=${encodeURIComponent(worker.base)}${query ? `&${query}` : ""}`);
  return { page, context, console };
}

async function submitWithKey(page, key) {
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Show calls" }).click();
}

async function tableRows(page) {
  await page.locator("#table tbody tr").first().waitFor();
  return page.locator("#table tbody tr").evaluateAll((rows) =>
    rows.map((row) => [...row.children].map((cell) => cell.textContent)),
  );
}

const number = (text) => Number(text.replace(/,/g, ""));

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
    const totals = await page.locator("#table tfoot td").allTextContents();
    const sum = (field) => Math.round(data.phone_numbers.reduce((s, r) => s + r[field], 0) * 100) / 100;
    assert.deepEqual(totals.map(number), [sum("total_calls"), sum("total_duration_minutes"), sum("total_duration_hours")]);
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
    assert.match(await page.locator("#trend svg").getAttribute("aria-label"), /^Minutes per day from 2025-01-10 00:00 to 2025-01-11 00:00 \(Asia\/Kolkata\)/);
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
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await page.locator("#trend").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, "trend-fifty-phone.png") });
    await context.close();
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
  // docs/admin-page.png is a copy of this screenshot.
  await page.screenshot({ path: join(ARTIFACTS, "admin-page-demo-kolkata-daily.png"), fullPage: true });
  await context.close();
});
