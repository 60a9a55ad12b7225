// A plain static file server for public/, to serve the admin page from an origin other than the worker's,
// with the headers public/_headers would give it and a config.json naming the API origins it trusts (both
// from scripts/lib/admin-page.mjs, as the build writes them).
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { isApiOrigin, pageHeaders } from "../../scripts/lib/admin-page.mjs";
import { ROOT } from "../../scripts/lib/bindings.mjs";

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png", ".json": "application/json" };
const PUBLIC = join(ROOT, "public");

/**
 * Serves public/ on 127.0.0.1 (any free port, also reachable as localhost); resolves { port, close }.
 * `config()` gives the page's config ({ api_origins }) at the time of each request; `headers()` whether to
 * send the page's headers (false: to test what the page itself does, without its CSP behind it).
 */
export function serveStatic({ config = () => ({ api_origins: [] }), headers: withHeaders = () => true } = {}) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    // A test may put an origin in config.json that the build would refuse (and the page must ignore); the
    // headers are those of the origins the build would accept.
    const headers = path.startsWith("/admin/") && withHeaders() ? pageHeaders({ api_origins: config().api_origins.filter(isApiOrigin) }) : {};
    if (path === "/admin/config.json") {
      res.writeHead(200, { ...headers, "Content-Type": TYPES[".json"], "Cache-Control": "no-store" });
      res.end(JSON.stringify(config()));
      return;
    }
    let file = join(PUBLIC, path);
    try {
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      await stat(file);
    } catch {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { ...headers, "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ port: server.address().port, close: () => new Promise((r) => server.close(r)) }));
  });
}
