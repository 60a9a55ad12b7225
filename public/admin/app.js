// The admin page: filters in the URL's fragment, the key in session storage, the API's answer as a table, a
// chart and a CSV file. It talks only to APIs it was deployed to trust: its own origin, or an origin listed
// in config.json beside it (https only; plain http just for localhost and 127.0.0.1). The same list sets the
// page's Content-Security-Policy (public/_headers, written by scripts/admin-headers.mjs).
import { apiOriginProblem } from "./api-origin.js";
import { decimal, integer } from "./format.js";
import { clearTrend, showTrend } from "./trend.js";

const ENDPOINT = "/admin/analytics/calls/by-phone-number";
const KEY_STORAGE = "callAnalytics.apiKey";
const FILTERS = ["start_date", "end_date", "user_email", "timezone", "interval"];

const $ = (id) => document.getElementById(id);
let current = null; // the last successful answer's data
let configured = []; // API origins from config.json
let configReady = Promise.resolve(); // settles once config.json is read (loadConfig, from init)

/** config.json's api_origins that the page's origin rule admits (anything else in it is ignored). */
async function loadConfig() {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    const config = response.ok ? await response.json() : {};
    configured = Array.isArray(config.api_origins) ? config.api_origins.filter((o) => typeof o === "string" && apiOriginProblem(o) === null) : [];
  } catch {
    configured = [];
  }
  const list = $("api-origins");
  list.replaceChildren(...configured.map((origin) => Object.assign(document.createElement("option"), { value: origin })));
}

function apiBase() {
  const value = $("api").value.trim().replace(/\/+$/, "");
  return value || location.origin;
}

/** The origin the key would be sent to, or null when the API base is not a URL. */
function apiOrigin() {
  try {
    return new URL(`${apiBase()}/`).origin;
  } catch {
    return null;
  }
}

/** Why the page will not talk to the API field's value, or null when it may. */
function untrustedReason() {
  const origin = apiOrigin();
  if (origin === null) return `The API base URL "${apiBase()}" is not a URL.`;
  if (origin === location.origin || configured.includes(origin)) return null;
  return (
    `This page sends nothing to ${origin}: it talks only to its own origin (${location.origin})` +
    (configured.length ? ` and to ${configured.join(", ")}` : "") +
    ", the APIs it was deployed with (admin/config.json)."
  );
}

/**
 * The key is stored with the API origin it was entered for and only ever sent there: a shared link whose
 * `api` names another trusted host does not receive the key this tab holds (it gets an empty key field).
 */
function storedKey() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEY_STORAGE) ?? "null");
    return stored && typeof stored.key === "string" && stored.origin === apiOrigin() ? stored.key : "";
  } catch {
    return "";
  }
}

function showKeyTarget() {
  const origin = apiOrigin();
  $("key-target").textContent = origin && !untrustedReason() ? `The key is sent only to ${origin}.` : "";
}

/** The page's fragment carries the API base and the filters (never the key), so a view can be shared, and
 * none of it reaches a server's logs with the page request. */
function saveFiltersToUrl() {
  const params = new URLSearchParams();
  const api = $("api").value.trim();
  if (api) params.set("api", api);
  for (const name of FILTERS) {
    const value = $(name).value.trim();
    if (value) params.set(name, value);
  }
  const fragment = params.toString();
  history.replaceState(null, "", `${location.pathname}${fragment ? `#${fragment}` : ""}`);
}

/** Reads the fragment; a link in the older query-string form is moved into the fragment. Without a time zone,
 * the browser's own. */
function loadFiltersFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const legacy = new URLSearchParams(location.search);
  for (const name of ["api", ...FILTERS]) if (!params.has(name) && legacy.has(name)) params.set(name, legacy.get(name));
  $("api").value = params.get("api") ?? "";
  for (const name of FILTERS) $(name).value = params.get(name) ?? "";
  if (!$("timezone").value) $("timezone").value = browserZone();
  showZoneInLabels();
  if (location.search) saveFiltersToUrl();
}

function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC";
}

/**
 * Why the page cannot show dates in `zone`, or null when it can: the page reads the range in the zone with
 * this browser's Intl, which rejects a name it does not know (a typo, or a zone newer than its data).
 */
function zoneProblem(zone) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return null;
  } catch {
    return `This browser does not know the time zone "${zone}", so the page cannot show dates in it: pick one from the list (an IANA name such as Asia/Kolkata), or use a browser with newer time zone data.`;
  }
}

/** The zone the page asks the API for: the field's, or this browser's own. */
const chosenZone = () => $("timezone").value.trim() || browserZone();

/** The zone dates are read in, as the date fields' labels say. */
function showZoneInLabels() {
  const zone = $("timezone").value.trim() || browserZone();
  $("start-label").textContent = `From (${zone})`;
  $("end-label").textContent = `To (${zone})`;
}

/** `iso` as local time in `zone`: 2026-11-01 00:00 (or with seconds and milliseconds when it has them). */
function inZone(iso, zone) {
  const date = new Date(iso);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const seconds = date.getUTCSeconds() || date.getUTCMilliseconds() ? `:${parts.second}${date.getUTCMilliseconds() ? `.${String(date.getUTCMilliseconds()).padStart(3, "0")}` : ""}` : "";
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}${seconds}`;
}

/** The zone's offset at `iso`, as `UTC+05:30`. */
function offsetAt(iso, zone) {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" }).formatToParts(new Date(iso)).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  return name === "GMT" || name === "GMT+00:00" ? "UTC" : name.replace("GMT", "UTC");
}

function setBusy(busy) {
  $("submit").disabled = busy;
  $("results").setAttribute("aria-busy", String(busy));
  $("status").textContent = busy ? "Loading…" : "";
}

function showError(message) {
  const error = $("error");
  error.textContent = message;
  error.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function cell(tag, text, className) {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

/** The rows as the API sent them, and under them the API's totals (exact sums, rounded once, like a row:
 * adding the rounded rows could be off by a hundredth per row). */
function renderTable(rows, totals) {
  const body = $("table").tBodies[0];
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
      const th = cell("th", row.phone_number);
      th.scope = "row";
      tr.append(th, cell("td", integer(row.total_calls), "num"), cell("td", decimal(row.total_duration_minutes), "num"), cell("td", decimal(row.total_duration_hours), "num"));
      return tr;
    }),
  );
  const foot = $("table").tFoot;
  const show = (name, value, format) => {
    // An API without totals (older than the page): the page does not make them up.
    foot.querySelector(`[data-total="${name}"]`).textContent = typeof value === "number" ? format(value) : "–";
  };
  show("calls", totals?.total_calls, integer);
  show("minutes", totals?.total_duration_minutes, decimal);
  show("hours", totals?.total_duration_hours, decimal);
}

/** Horizontal bars, one line per bucket in the API's order: readable with 50 buckets and on a phone. */
function renderChart(rows) {
  const max = Math.max(0, ...rows.map((row) => row.total_duration_minutes));
  const list = document.createElement("ol");
  list.className = "bars";
  for (const row of rows) {
    const item = document.createElement("li");
    const bar = cell("span", "", "bar");
    bar.style.width = `${max > 0 ? (100 * row.total_duration_minutes) / max : 0}%`;
    const track = cell("span", "", "track");
    track.append(bar);
    track.setAttribute("aria-hidden", "true");
    item.append(cell("span", row.phone_number, "label"), track, cell("span", `${decimal(row.total_duration_minutes)} min`, "value"));
    list.append(item);
  }
  $("chart").replaceChildren(rows.length ? list : cell("p", "No calls in this range.", "hint"));
}

/** The trend, with an interval and buckets (trend.js). */
function renderTrend(data) {
  const section = $("trend-section");
  if (!data.interval || !data.phone_numbers.length) {
    section.hidden = true;
    clearTrend($("trend"), $("trend-readout"));
    return;
  }
  // Shown before it is drawn: the chart is drawn at the width it gets.
  section.hidden = false;
  showTrend($("trend"), $("trend-readout"), data);
}

function render(data) {
  const who = data.user_email ? `user ${data.user_email}` : "all users";
  const zone = data.timezone;
  // The API's name for the zone asked for, which this browser may still not know (Asia/Katmandu, answered
  // as Asia/Kathmandu, in a browser with older data).
  const problem = zoneProblem(zone);
  if (problem) {
    $("results").hidden = true;
    $("download").disabled = true;
    current = null;
    showError(`The API answered in the time zone "${zone}". ${problem}`);
    return;
  }
  current = data;
  // The API's spelling of the zone (Asia/Kolkata for asia/calcutta) from now on.
  if ($("timezone").value.trim() !== zone) {
    $("timezone").value = zone;
    showZoneInLabels();
    saveFiltersToUrl();
  }
  $("range").textContent =
    `Range used: ${inZone(data.start_date, zone)} to ${inZone(data.end_date, zone)} in ${zone} ` +
    `(${offsetAt(data.start_date, zone)}; end excluded), ${who}.`;
  renderTable(data.phone_numbers, data.totals);
  renderChart(data.phone_numbers);
  $("results").hidden = false;
  renderTrend(data);
  $("download").disabled = false;
}

/** A CSV cell: quoted when needed, and kept from being read as a spreadsheet formula. */
function csvCell(value) {
  let text = String(value);
  // A leading = + - @ tab or CR makes a spreadsheet read a formula; a + followed by digits only is a phone
  // number and stays as it is.
  if (/^[=@\t\r+-]/.test(text) && !/^\+\d+$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV: a line per bucket, or with a trend, a line per bucket and period (`period_start` with its offset). */
function downloadCsv() {
  if (!current) return;
  const amounts = ["total_calls", "total_duration_minutes", "total_duration_hours"];
  const table = current.interval
    ? [["phone_number", "period_start", ...amounts], ...current.phone_numbers.flatMap((row) => row.series.map((p) => [row.phone_number, p.start, ...amounts.map((f) => p[f])]))]
    : [["phone_number", ...amounts], ...current.phone_numbers.map((row) => [row.phone_number, ...amounts.map((f) => row[f])])];
  const lines = table.map((cells) => cells.map(csvCell).join(","));
  const blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `calls-by-phone-number_${current.start_date}_${current.end_date}.csv`.replace(/:/g, "-");
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function fetchReport() {
  clearError();
  const refusal = untrustedReason();
  if (refusal) {
    showError(refusal);
    return;
  }
  const key = $("key").value.trim();
  if (!key) {
    showError("Enter an API key first.");
    $("key").focus();
    return;
  }
  const zoneRefusal = zoneProblem(chosenZone());
  if (zoneRefusal) {
    showError(zoneRefusal);
    $("timezone").focus();
    return;
  }
  const base = apiBase();
  let url;
  try {
    url = new URL(ENDPOINT, `${base}/`);
  } catch {
    showError(`The API base URL "${base}" is not a URL.`);
    return;
  }
  for (const name of FILTERS) {
    const value = $(name).value.trim();
    if (value) url.searchParams.set(name, value);
  }
  if (!url.searchParams.has("timezone")) url.searchParams.set("timezone", chosenZone());
  setBusy(true);
  try {
    let response;
    try {
      response = await fetch(url, { headers: { Authorization: `Bearer ${key}` }, cache: "no-store", referrerPolicy: "no-referrer" });
    } catch {
      showError(
        `Could not reach the API at ${base}: the network failed, or the API does not allow this page's origin ` +
          `(${location.origin}); its ALLOWED_ORIGINS setting must list it.`,
      );
      return;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok || !body || body.success !== true) {
      const id = response.headers.get("X-Request-Id");
      const retry = response.status === 429 ? response.headers.get("Retry-After") : null;
      const message = body && typeof body.message === "string" ? body.message : response.statusText || "Unexpected answer";
      showError(`${response.status}: ${message}${id ? ` (request id ${id})` : ""}${retry ? `; the page can ask again in ${retry} s` : ""}`);
      return;
    }
    try {
      render(body.data);
    } catch (error) {
      // Whatever the answer held, the page says what went wrong rather than failing silently.
      $("results").hidden = true;
      current = null;
      $("download").disabled = true;
      showError(`The page could not show the API's answer: ${error.message}`);
    }
  } finally {
    setBusy(false);
  }
}

/** Shows the filters and key the URL names, and the answer when the key for that API is at hand. */
async function showView() {
  clearError();
  // A new view: what was shown belonged to the previous one.
  current = null;
  $("results").hidden = true;
  $("download").disabled = true;
  loadFiltersFromUrl();
  const stored = storedKey();
  $("key").value = stored;
  // Which APIs are trusted is in config.json: the fields are filled before, what is sent waits for it.
  await configReady;
  showKeyTarget();
  const refusal = untrustedReason();
  const zoneRefusal = zoneProblem(chosenZone());
  if (refusal) {
    $("key").value = "";
    showError(refusal);
  } else if (zoneRefusal) {
    showError(zoneRefusal); // a link's zone this browser cannot show
  } else if (stored) {
    fetchReport(); // a reloaded view (same API) shows itself, with the key stored for it
  }
}

function init() {
  $("download").disabled = true;
  // Every zone this browser knows, for the picker.
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  $("timezones").replaceChildren(...["UTC", ...zones].map((zone) => Object.assign(document.createElement("option"), { value: zone })));
  $("timezone").addEventListener("input", showZoneInLabels);
  // The handlers are there from the start (a form sent before them would be sent by the browser, which the
  // CSP's form-action refuses, and nothing would happen); each waits for config.json where it needs it.
  configReady = loadConfig();
  // Pointing the page at another API clears a key that was entered for a different one.
  $("api").addEventListener("change", async () => {
    await configReady;
    $("key").value = storedKey();
    showKeyTarget();
    const refusal = untrustedReason();
    if (refusal) showError(refusal);
    else clearError();
  });
  $("filters").addEventListener("submit", async (event) => {
    event.preventDefault();
    await configReady;
    const key = $("key").value.trim();
    const origin = apiOrigin();
    saveFiltersToUrl();
    if (key && origin && !untrustedReason()) sessionStorage.setItem(KEY_STORAGE, JSON.stringify({ origin, key }));
    fetchReport();
  });
  $("forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    $("key").value = "";
    $("key").focus();
  });
  $("download").addEventListener("click", downloadCsv);
  // A link to another view in the same tab (only the fragment changes) is a new view too.
  window.addEventListener("hashchange", showView);
  showView();
}

init();
