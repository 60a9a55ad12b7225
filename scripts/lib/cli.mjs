// The command-line tools' common frame (scripts/keys.mjs, load.mjs, rollups.mjs, dead-letters.mjs): their
// options, -h/--help, and how they fail.
import { parseArgs } from "node:util";

/** Where a tool's data is: local state (the default, or --persist-to DIR) or the deployed resources. */
export const WHERE = { remote: { type: "boolean", default: false }, "persist-to": { type: "string" } };

/**
 * The command line of the tool `name`: `options` (as node:util's parseArgs takes them) and -h/--help, which
 * prints `usage` and exits 0; a bad option prints why and `usage`, and exits 2. Returns { opts, positionals,
 * fail }; fail(message, code = 2) prints `<name>: <message>` on stderr and exits with `code`.
 */
export function commandLine(name, usage, options) {
  const fail = (message, code = 2) => {
    console.error(`${name}: ${message}`);
    process.exit(code);
  };
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { ...options, help: { type: "boolean", short: "h", default: false } } });
  } catch (error) {
    fail(`${error.message}\n${usage}`);
  }
  if (parsed.values.help) {
    console.log(usage);
    process.exit(0);
  }
  return { opts: parsed.values, positionals: parsed.positionals, fail };
}
