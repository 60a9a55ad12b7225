// The built worker, run the way a user runs it: `wrangler dev` (workerd) on a fresh state directory with the
// D1 migrations applied through `wrangler d1 migrations apply`, data loaded with scripts/load.mjs, and API
// keys written to the real local KV. The one harness of the tests, the benchmarks and the scripts: they talk
// HTTP to it and read what it logs.
//
//   const worker = await startLocalWorker({ records, keys: { admin: { role: "super_admin" } }, vars });
//   await request(worker.base, ENDPOINT, { key: worker.keys.admin.key });
//   await worker.stop();
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, shippedConfig, withBindings } from "./bindings.mjs";
import { createKey, revokeKey } from "./apikeys.mjs";

export const ENDPOINT = "/admin/analytics/calls/by-phone-number";
export const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
// wrangler at its default log level ("log"; the tools lower their own, see bindings.mjs): the worker's
// console lines and the migrations' report come through it.
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "log", NO_COLOR: "1", FORCE_COLOR: "0" };

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

/** Runs a command to completion; resolves { code, stdout, stderr } whatever its exit code. */
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

export function freePort() {
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
  return mkdtemp(join(tmpdir(), "call-analytics-local-"));
}

/**
 * Applies the D1 migrations to `state` with `wrangler d1 migrations apply`, as a user would: all of
 * migrations/, or only `files` (names in it), through a copy of the project that holds just those (to
 * upgrade a database step by step, or measure an earlier schema). Returns wrangler's report.
 */
export async function migrate(state, { files } = {}) {
  const apply = ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state];
  if (!files) return run(WRANGLER, apply);
  await mkdir(join(ROOT, "target"), { recursive: true });
  const project = await mkdtemp(join(ROOT, "target", "migrations-project-"));
  try {
    await mkdir(join(project, "migrations"));
    for (const file of files) await copyFile(join(ROOT, "migrations", file), join(project, "migrations", file));
    await copyFile(join(ROOT, "wrangler.toml"), join(project, "wrangler.toml"));
    return await run(WRANGLER, [...apply, "--config", join(project, "wrangler.toml")]);
  } finally {
    await rm(project, { recursive: true, force: true });
  }
}

/** Loads records (objects with the loader's fields) through scripts/load.mjs. */
export async function load(state, records) {
  const file = join(state, `records-${Date.now()}-${Math.random().toString(36).slice(2)}.ndjson`);
  await writeFile(file, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return run("node", [join(ROOT, "scripts", "load.mjs"), file, "--persist-to", state, "--quiet"]);
}

/**
 * Creates keys in the state's KV: `specs` maps a name to { role, expiresAt?, revoked? } (no expiry unless
 * `expiresAt` says so). Returns { name: { key, fingerprint } }.
 */
export async function createKeys(state, specs) {
  return withBindings({ persistTo: state }, async (env) => {
    const keys = {};
    for (const [name, spec] of Object.entries(specs)) {
      const created = await createKey(env.API_KEYS, { role: spec.role, label: `local ${name}`, expiresAt: spec.expiresAt ?? null });
      if (spec.revoked) await revokeKey(env.API_KEYS, created.fingerprint);
      keys[name] = { key: created.key, fingerprint: created.fingerprint };
    }
    return keys;
  });
}

/**
 * A Wrangler configuration for a local worker: wrangler.toml as shipped (read by wrangler itself), with the
 * rate limits' `limit` replaced where `limits` says ({ clientIp, apiKey, webhookIp, webhookKey }: requests
 * per period), the queue consumers' settings where `consumers` says ({ max_retries, max_batch_timeout...},
 * for every consumer), and without the KV binding if `kv` is false (a deployment that lost it). Its build
 * step is left out: the worker is built once, by scripts/build.sh. Returns the path of the written
 * wrangler.json.
 */
export async function localConfig({ limits = {}, kv = true, vars = {}, consumers = {} } = {}) {
  const config = await shippedConfig();
  const limit = {
    CLIENT_IP_LIMIT: limits.clientIp,
    API_KEY_LIMIT: limits.apiKey,
    WEBHOOK_IP_LIMIT: limits.webhookIp,
    WEBHOOK_KEY_LIMIT: limits.webhookKey,
  };
  const dir = await mkdtemp(join(ROOT, "target", "local-worker-config-"));
  const path = join(dir, "wrangler.json");
  await writeFile(
    path,
    JSON.stringify({
      name: config.name,
      main: join(ROOT, "src", "worker.mjs"),
      compatibility_date: config.compatibility_date,
      assets: { ...config.assets, directory: join(ROOT, "public") },
      d1_databases: config.d1_databases.map((db) => ({ ...db, migrations_dir: join(ROOT, "migrations") })),
      kv_namespaces: kv ? config.kv_namespaces : config.kv_namespaces.filter((n) => n.binding !== "API_KEYS"),
      ratelimits: config.ratelimits.map((r) => ({ ...r, simple: { ...r.simple, limit: limit[r.name] ?? r.simple.limit } })),
      queues: { producers: config.queues.producers, consumers: config.queues.consumers.map((c) => ({ ...c, ...consumers })) },
      vars: { ...config.vars, ...vars },
    }),
  );
  return path;
}

/**
 * Starts `wrangler dev` on `state` with the shipped configuration (see {@link localConfig}; `config`: another
 * configuration file instead). `vars` overrides [vars] (e.g. ALLOWED_ORIGINS). Resolves once the worker
 * answers; returns { base, state, pid, inspectorPort, logs(), logLines(), logLineFor(requestId), stop() }.
 */
export async function startWorker(state, { vars = {}, limits, kv = true, consumers, config } = {}) {
  await mkdir(join(ROOT, "target"), { recursive: true });
  const configPath = config ?? (await localConfig({ limits, kv, vars, consumers }));
  // With a generated configuration, an empty env file: a developer's .dev.vars never leaks into its settings.
  const envFile = config ? [] : ["--env-file", join(configPath, "..", "empty.env")];
  if (!config) await writeFile(envFile[1], "");
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = [
    "dev",
    "--config", configPath,
    "--persist-to", state,
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--show-interactive-dev-session=false",
    ...envFile,
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
    if (Date.now() > deadline) {
      // Never leave it running behind a failed start.
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      throw new Error(`wrangler dev did not answer within 90 s:\n${output}`);
    }
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
      if (!config) await rm(join(configPath, ".."), { recursive: true, force: true });
    },
  };
}

/**
 * Stores `records` as a database held them before `migration` (a name in migrations/): the migrations before
 * it applied, the records written with the loader's own statements but none of its checks (so rows a later
 * rule refuses, such as platform numbers of 1,024 characters before 0005_record_rule.sql, exist as they did).
 */
export async function storeBefore(state, migration, records) {
  const { readdir } = await import("node:fs/promises");
  const { batchStatements } = await import("./loader.mjs");
  const files = (await readdir(join(ROOT, "migrations"))).filter((f) => f.endsWith(".sql") && f < migration).sort();
  await migrate(state, { files });
  await withBindings({ persistTo: state }, async (env) => {
    for (let i = 0; i < records.length; i += 2000) await env.DB.batch(batchStatements(env.DB, records.slice(i, i + 2000)).statements);
  });
}

/**
 * The one way to start a worker for a test or a benchmark: a fresh state directory, `before` stored (as
 * {@link storeBefore}: `{ migration, records }`), the migrations applied (unless `migrations` is false),
 * `records` loaded, `keys` created (as {@link createKeys}), then {@link startWorker} with `vars`, `limits`,
 * `consumers` and `kv`. Returns the worker with `.keys`.
 */
export async function startLocalWorker({ records = [], keys = {}, migrations = true, before, ...options } = {}) {
  const state = await newStateDir();
  if (before) await storeBefore(state, before.migration, before.records);
  if (migrations) await migrate(state);
  if (records.length) await load(state, records);
  const created = Object.keys(keys).length ? await createKeys(state, keys) : {};
  const worker = await startWorker(state, options);
  return Object.assign(worker, { keys: created });
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
