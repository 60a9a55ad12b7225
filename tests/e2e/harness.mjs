// Runs the built worker the way a user does: `wrangler dev` (workerd) on a fresh state directory with the
// D1 migrations applied through `wrangler d1 migrations apply`, data loaded with scripts/load.mjs, and API
// keys written to the real local KV. Tests talk HTTP to it and read what it logs.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, withBindings } from "../../scripts/lib/bindings.mjs";
import { createKey, revokeKey } from "../../scripts/lib/apikeys.mjs";

export const ENDPOINT = "/admin/analytics/calls/by-phone-number";
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" };

/** Runs a command to completion; rejects with its output when it fails. */
export function run(command, args, { input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: ENV, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.stdin.end(input ?? "");
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output}`))));
  });
}

export function runExit(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: ENV });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function newStateDir() {
  return mkdtemp(join(tmpdir(), "call-analytics-e2e-"));
}

export async function migrate(state) {
  await run(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state]);
}

/** Loads records (objects with the loader's fields) through scripts/load.mjs. */
export async function load(state, records) {
  const file = join(state, `records-${Date.now()}-${Math.random().toString(36).slice(2)}.ndjson`);
  await writeFile(file, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return run("node", [join(ROOT, "scripts", "load.mjs"), file, "--persist-to", state, "--quiet"]);
}

/**
 * Creates keys in the state's KV: `specs` maps a name to { role, expiresAt?, revoked? }.
 * Returns { name: { key, fingerprint } }.
 */
export async function createKeys(state, specs) {
  return withBindings({ persistTo: state }, async (env) => {
    const keys = {};
    for (const [name, spec] of Object.entries(specs)) {
      const created = await createKey(env.API_KEYS, { role: spec.role, label: `e2e ${name}`, expiresAt: spec.expiresAt ?? null });
      if (spec.revoked) await revokeKey(env.API_KEYS, created.fingerprint);
      keys[name] = { key: created.key, fingerprint: created.fingerprint };
    }
    return keys;
  });
}

/**
 * Starts `wrangler dev` on `state`. `vars` overrides [vars] (e.g. ALLOWED_ORIGINS); `config` replaces
 * wrangler.toml. Resolves once the worker answers; returns { base, state, pid, inspectorPort, logs(),
 * logLines(), logLineFor(requestId), stop() }.
 */
export async function startWorker(state, { vars = {}, config } = {}) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = [
    "dev",
    "--persist-to", state,
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--show-interactive-dev-session=false",
    ...(config ? ["--config", config] : []),
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  const child = spawn(WRANGLER, args, { cwd: ROOT, env: ENV, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  let exited = null;
  child.on("exit", (code) => (exited = code));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited !== null) throw new Error(`wrangler dev exited (${exited}):\n${output}`);
    if (Date.now() > deadline) throw new Error(`wrangler dev did not answer within 90 s:\n${output}`);
    try {
      await fetch(`${base}/`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  /** The structured log lines our worker wrote, parsed. */
  const logLines = () =>
    output
      .replace(/\x1b\[[0-9;]*m/g, "")
      .split("\n")
      .map((line) => line.slice(line.indexOf("{")))
      .filter((line) => line.startsWith('{"level"'))
      .map((line) => JSON.parse(line));
  return {
    base,
    state,
    pid: child.pid,
    inspectorPort,
    logs: () => output,
    logLines,
    /** The log line of one request (they reach wrangler's output a little after the response). */
    logLineFor: async (requestId) => {
      for (let attempt = 0; attempt < 60; attempt++) {
        const line = logLines().find((l) => l.request_id === requestId);
        if (line) return line;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no log line for request ${requestId}`);
    },
    stop: async () => {
      if (exited === null) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {}
        await new Promise((r) => (exited !== null ? r() : child.on("exit", r)));
      }
      await rm(state, { recursive: true, force: true });
    },
  };
}

/** GET (or another method) on the worker; returns { status, headers, body (parsed JSON or null), text }. */
export async function request(base, path, { key, method = "GET", headers = {} } = {}) {
  const response = await fetch(base + path, {
    method,
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...headers },
  });
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, headers: response.headers, body, text };
}

/** Epoch milliseconds of an ISO datetime. */
export const ms = (iso) => Date.parse(iso);
