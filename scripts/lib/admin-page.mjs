// The admin page's trust boundary, in one place: which API origins the page may talk to
// (public/admin/config.json, deployed beside the page) and the response headers that pin it down
// (public/_headers, written from the same list by scripts/admin-headers.mjs, run by scripts/build.sh).
// The origin rule itself is public/admin/api-origin.js, which the page (public/admin/app.js) imports too.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apiOriginProblem } from "../../public/admin/api-origin.js";
import { ROOT } from "./bindings.mjs";

export const CONFIG_PATH = join(ROOT, "public", "admin", "config.json");
export const HEADERS_PATH = join(ROOT, "public", "_headers");

/** An API origin the page may be configured with (public/admin/api-origin.js); throws why not. */
export function checkApiOrigin(text) {
  const problem = apiOriginProblem(text);
  if (problem) throw new Error(problem);
  return text;
}

/** Whether `text` is an API origin a config may hold. */
export const isApiOrigin = (text) => apiOriginProblem(text) === null;

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
