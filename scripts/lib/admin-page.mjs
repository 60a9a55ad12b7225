// The admin page's trust boundary, in one place: which API origins the page may talk to
// (public/admin/config.json, deployed beside the page) and the response headers that pin it down
// (public/_headers, written from the same list by scripts/admin-headers.mjs, run by scripts/build.sh).
// The page itself (public/admin/app.js) reads config.json and applies the same origin rule in the browser.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./bindings.mjs";

export const CONFIG_PATH = join(ROOT, "public", "admin", "config.json");
export const HEADERS_PATH = join(ROOT, "public", "_headers");

/** An API origin the page may be configured with: https, or plain http on localhost / 127.0.0.1 only. */
export function checkApiOrigin(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL`);
  }
  if (url.origin !== text) throw new Error(`"${text}" is not an origin (scheme://host[:port], no path or slash)`);
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
    throw new Error(`"${text}" must use https (plain http only for localhost and 127.0.0.1)`);
  }
  return text;
}

/** Whether `text` is an API origin a config may hold. */
export function isApiOrigin(text) {
  try {
    return checkApiOrigin(text) === text;
  } catch {
    return false;
  }
}

/** Reads and checks a config object: { api_origins: [origin...] }. */
export function checkConfig(config) {
  if (!config || !Array.isArray(config.api_origins)) throw new Error("admin config: expected {\"api_origins\": [...]}");
  return { api_origins: config.api_origins.map(checkApiOrigin) };
}

export function readConfig(path = CONFIG_PATH) {
  return checkConfig(JSON.parse(readFileSync(path, "utf8")));
}

/** The headers of every file under /admin/, as name → value. */
export function pageHeaders(config) {
  const connect = ["'self'", ...checkConfig(config).api_origins].join(" ");
  return {
    "Content-Security-Policy": `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src ${connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  };
}

/** public/_headers for a config (Workers static assets' `_headers` format). */
export function headersFile(config) {
  const lines = Object.entries(pageHeaders(config)).map(([name, value]) => `  ${name}: ${value}`);
  return [
    "# Written by scripts/admin-headers.mjs from public/admin/config.json (scripts/build.sh runs it): edit that.",
    "/admin/*",
    ...lines,
    "",
  ].join("\n");
}

export function writeHeadersFile() {
  const text = headersFile(readConfig());
  writeFileSync(HEADERS_PATH, text);
  return text;
}
