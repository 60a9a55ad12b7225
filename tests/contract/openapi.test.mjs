// The published contract: /openapi.json is served (without a key) and the behaviour conforms to it,
// checked by schemathesis (PyPI; scripts/toolchain.sh --test installs it in target/venv): generated valid
// and invalid requests, with and without the key, and undeclared methods; every response must match its
// documented status, content type, headers and schema, and none may be a 500. The report and the replay get
// a super-admin key; the end-call webhook an ingest key, in its path and as its bearer token (schemathesis's
// configuration file: the key in the path is a fixed parameter, the bearer form's header an operation's own),
// with generated bodies, which the worker must answer as documented (202 for what the document calls valid,
// and a 4xx for what it calls invalid).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ROOT } from "../../scripts/lib/bindings.mjs";
import * as fx from "../e2e/fixtures.mjs";
import { request, startLocalWorker } from "../../scripts/lib/local-worker.mjs";

const SCHEMATHESIS = join(ROOT, "target", "venv", "bin", "schemathesis");
const MAX_EXAMPLES = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? "300";
const SEED = process.env.SCHEMATHESIS_SEED ?? "20261126";
const ORIGIN = "https://admin.example.com";

let worker;
let keys;

before(async () => {
  worker = await startLocalWorker({
    records: [...fx.DAY_RECORDS, ...fx.TIE_RECORDS, ...fx.recentRecords(Date.now())],
    keys: { admin: { role: "super_admin" }, ingest: { role: "ingest" } },
    vars: { ALLOWED_ORIGINS: ORIGIN },
    // Hundreds of generated requests a minute from one address with one key.
    limits: { clientIp: 100_000, apiKey: 100_000, webhookIp: 100_000, webhookKey: 100_000 },
  });
  ({ keys } = worker);
});
after(() => worker?.stop());

/** schemathesis's configuration: the webhook's ingest key, in its path and in its bearer form's header. */
async function configFile(dir) {
  const path = join(dir, "schemathesis.toml");
  await writeFile(
    path,
    [
      "[parameters]",
      `"path.key" = "${keys.ingest.key}"`,
      "",
      "[[operations]]",
      'include-operation-id = "postEndCall"',
      `headers = { Authorization = "Bearer ${keys.ingest.key}" }`,
      "",
    ].join("\n"),
  );
  return path;
}

test("the worker serves the document kept in the repo, without a key", async () => {
  const { status, headers, text, body } = await request(worker.base, "/openapi.json", { headers: { Origin: ORIGIN } });
  assert.equal(status, 200);
  assert.equal(headers.get("content-type"), "application/json");
  assert.equal(headers.get("access-control-allow-origin"), ORIGIN);
  assert.equal(text, await readFile(join(ROOT, "public", "openapi.json"), "utf8"));
  assert.equal(body.openapi, "3.1.0");
});

test("schemathesis finds no response that disagrees with the document, and no 500", async () => {
  const dir = await mkdtemp(join(tmpdir(), "call-analytics-schemathesis-"));
  const args = [
    "--config-file", await configFile(dir),
    "run",
    `${worker.base}/openapi.json`,
    "--header", `Authorization: Bearer ${keys.admin.key}`,
    "--checks", "all",
    // Schema-valid dates can still name no day (2025-02-30) or an empty range (start after end): a 400
    // is right for them, and the document says so in words, which JSON Schema cannot express.
    "--exclude-checks", "positive_data_acceptance",
    "--max-examples", MAX_EXAMPLES,
    "--seed", SEED,
    "--workers", "2",
  ];
  const { code, output } = await new Promise((resolve) => {
    const child = spawn(SCHEMATHESIS, args, { env: { ...process.env, NO_COLOR: "1", SCHEMATHESIS_TELEMETRY: "false" } });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ code, output }));
  });
  await rm(dir, { recursive: true, force: true });
  assert.equal(code, 0, output);
  assert.match(output, /No issues found/);
  const generated = Number(output.match(/(\d+) generated/)?.[1]);
  assert.ok(generated >= 100, `schemathesis generated ${generated} test cases`);
  assert.ok(!output.includes(keys.admin.key), "schemathesis output filters the key");
  const lines = worker.logLines();
  const served = lines.filter((line) => line.status >= 500);
  assert.deepEqual(served, [], "no 500 in the worker's log");
  // Every operation was reached with its key: calls accepted in both forms, dead letters replayed.
  const answered = (path, status) => lines.some((line) => line.method === "POST" && line.path === path && line.status === status);
  assert.ok(answered("/webhooks/end-call/{key}", 202), "the webhook accepted calls with the key in its path");
  assert.ok(answered("/webhooks/end-call", 202), "the webhook accepted calls with the key as a bearer token");
  assert.ok(answered("/webhooks/end-call/{key}", 400), "and refused bodies it cannot count");
  assert.ok(answered("/admin/dead-letters/replay", 200), "the replay ran");
  assert.ok(!JSON.stringify(lines).includes(keys.ingest.key), "the worker never logs the key in the path");
});
