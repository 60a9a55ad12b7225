// The worker's D1 and KV bindings, opened from Node through wrangler's getPlatformProxy: the same binding
// API the worker uses (prepared statements, atomic batch()), against local state or the deployed resources.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const DEFAULT_PERSIST_TO = join(ROOT, ".wrangler", "state");

process.env.WRANGLER_SEND_METRICS ??= "false";
// wrangler logs its notices (such as which .dev.vars it read) on stdout, which carries the tools' output:
// only warnings and errors, unless someone is debugging.
if (process.env.WRANGLER_LOG !== "debug") process.env.WRANGLER_LOG = "warn";

/** wrangler.toml as wrangler reads it (the configuration a deploy uses). */
export async function shippedConfig() {
  const { unstable_readConfig } = await import("wrangler");
  return unstable_readConfig({ config: join(ROOT, "wrangler.toml") });
}

/**
 * Opens the bindings. Local (default): the state under `persistTo` (wrangler dev's `--persist-to`, default
 * .wrangler/state). Remote: the D1 database and KV namespace wrangler.toml names, through wrangler's remote
 * bindings (needs `npx wrangler login` and the real ids in wrangler.toml).
 * Returns { env, dispose }.
 */
export async function openBindings({ remote = false, persistTo = DEFAULT_PERSIST_TO } = {}) {
  const { getPlatformProxy } = await import("wrangler");
  if (!remote) {
    return getPlatformProxy({
      configPath: join(ROOT, "wrangler.toml"),
      persist: { path: join(resolve(persistTo), "v3") },
      remoteBindings: false,
      envFiles: [],
    });
  }
  const config = await shippedConfig();
  const dir = mkdtempSync(join(tmpdir(), "call-analytics-remote-"));
  const configPath = join(dir, "wrangler.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      name: config.name,
      compatibility_date: config.compatibility_date,
      d1_databases: config.d1_databases.map((db) => ({ ...db, remote: true })),
      kv_namespaces: config.kv_namespaces.map((kv) => ({ ...kv, remote: true })),
    }),
  );
  const proxy = await getPlatformProxy({ configPath, remoteBindings: true, envFiles: [] });
  return {
    env: proxy.env,
    dispose: async () => {
      await proxy.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn(env)` with the bindings open, and always closes them. */
export async function withBindings(options, fn) {
  const { env, dispose } = await openBindings(options);
  try {
    return await fn(env);
  } finally {
    await dispose();
  }
}
