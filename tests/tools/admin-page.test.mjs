// The admin page's trust rule, as the build applies it (scripts/lib/admin-page.mjs) and the page imports it
// (public/admin/api-origin.js): which API origins config.json may hold, and the headers written from it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apiOriginProblem } from "../../public/admin/api-origin.js";
import { checkConfig, headersFile, isApiOrigin } from "../../scripts/lib/admin-page.mjs";

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
