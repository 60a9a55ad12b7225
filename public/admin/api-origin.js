// The rule for an API origin the admin page may be deployed to trust: https, or plain http on localhost and
// 127.0.0.1 only, written as a bare origin (scheme://host[:port]). One home for the page (app.js, which
// ignores any other entry of config.json) and the build (scripts/lib/admin-page.mjs, which refuses a
// config.json holding one).

/** Why `text` cannot be a trusted API origin, or null when it can. */
export function apiOriginProblem(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL`;
  }
  if (url.origin !== text) return `"${text}" is not an origin (scheme://host[:port], no path or slash)`;
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) {
    return `"${text}" must use https (plain http only for localhost and 127.0.0.1)`;
  }
  return null;
}
