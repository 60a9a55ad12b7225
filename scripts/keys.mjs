#!/usr/bin/env node
// Manage API keys (local KV by default, the deployed namespace with --remote).
//
//   node scripts/keys.mjs create --role super_admin --label "ops laptop" [--expires-at 2027-01-01T00:00:00Z | --no-expiry]
//   node scripts/keys.mjs create --role ingest --label "voice platform" [--base-url https://<worker host>]
//   node scripts/keys.mjs list
//   node scripts/keys.mjs revoke <fingerprint>
//
// Options: --remote (the deployed KV namespace), --persist-to DIR (local state, default .wrangler/state),
// --json (machine-readable output), --replace (create: then delete the other keys with the same label; every
// option is checked first, so a mistake deletes nothing).
// A key expires 90 days after its creation unless --expires-at or --no-expiry says otherwise; `list` marks
// keys that have expired or expire within 7 days. A label is at most 200 characters, none a control
// character: the record is also kept as the entry's metadata, which Workers KV caps at 1,024 bytes.
// An ingest key (the platform's end-call webhook; docs/live-data.md) also gets the webhook URL to paste into
// the assistant's assistant_end_call_url, <base-url>/webhooks/end-call/<key> (a placeholder host without
// --base-url), checked to fit the platform's 200 characters before anything is written. stdout carries only
// what is secret (the key, then for an ingest key its URL; with --json, one object with `webhook_url`), stderr
// the rest.
import { withBindings } from "./lib/bindings.mjs";
import { commandLine, WHERE } from "./lib/cli.mjs";
import {
  createKey,
  DEFAULT_LIFETIME_DAYS,
  INGEST_ROLE,
  listKeys,
  MAX_LABEL_LENGTH,
  MAX_WEBHOOK_BASE_LENGTH,
  MAX_WEBHOOK_URL_LENGTH,
  newRecord,
  PLACEHOLDER_BASE_URL,
  revokeKey,
  status,
  webhookBase,
  webhookUrl,
} from "./lib/apikeys.mjs";

const USAGE = `usage:
  keys create --role <role> [--label <text>] [--expires-at <RFC 3339> | --no-expiry] [--replace] [--base-url <origin>]
      (a key expires ${DEFAULT_LIFETIME_DAYS} days after creation unless --expires-at or --no-expiry says otherwise;
      a label is at most ${MAX_LABEL_LENGTH} characters, with no control characters)
      (--role super_admin reads the reports; --role ${INGEST_ROLE} posts the platform's end-call webhook, and is
      printed with its webhook URL, <base-url>/webhooks/end-call/<key>, at most ${MAX_WEBHOOK_URL_LENGTH} characters:
      --base-url is the worker's origin, such as https://call-analytics.example.workers.dev; without it the URL
      starts with ${PLACEHOLDER_BASE_URL})
  keys list
  keys revoke <fingerprint>
options: --remote | --persist-to <dir>, --json`;

const { opts, positionals, fail } = commandLine("keys", USAGE, {
  role: { type: "string" },
  label: { type: "string", default: "" },
  "expires-at": { type: "string" },
  "no-expiry": { type: "boolean", default: false },
  "base-url": { type: "string" },
  replace: { type: "boolean", default: false },
  ...WHERE,
  json: { type: "boolean", default: false },
});
const [command, ...rest] = positionals;
if (!command) {
  console.log(USAGE);
  process.exit(2);
}
const target = { remote: opts.remote, persistTo: opts["persist-to"] };
const where = opts.remote ? "remote KV" : "local KV";

/** create's options, every one checked (by newRecord) before KV is opened: a mistake writes nothing. */
function creation() {
  if (!opts.role) throw new Error("create needs --role (e.g. --role super_admin)");
  if (opts["no-expiry"] && opts["expires-at"] !== undefined) throw new Error("give --expires-at or --no-expiry, not both");
  const expiresAt = opts["no-expiry"] ? null : opts["expires-at"]; // undefined: the default lifetime
  const options = { role: opts.role, label: opts.label, expiresAt, replace: opts.replace };
  newRecord(options);
  if (opts["base-url"] !== undefined && opts.role !== INGEST_ROLE) {
    throw new Error(`--base-url is for --role ${INGEST_ROLE} only: a webhook URL holds its key, and only an ingest key may be put in one`);
  }
  // The webhook URL's base, checked (it must fit the platform's 200 characters) before anything is written.
  const base = opts.role === INGEST_ROLE ? webhookBase(opts["base-url"]) : undefined;
  return { options, base };
}

/** Whether an http:// base is a local one (elsewhere the key would cross the network in clear text). */
function isLocal(base) {
  const { hostname } = new URL(base);
  return hostname === "localhost" || hostname === "[::1]" || hostname.startsWith("127.");
}

try {
  const { options, base } = command === "create" ? creation() : {};
  await withBindings(target, async (env) => {
    const kv = env.API_KEYS;
    switch (command) {
      case "create": {
        const created = await createKey(kv, options);
        const url = base === undefined ? undefined : webhookUrl(base, created.key);
        if (opts.json) {
          const webhook = url === undefined ? {} : { webhook_url: url };
          console.log(JSON.stringify({ key: created.key, fingerprint: created.fingerprint, ...created.record, ...webhook }));
        } else {
          if (created.replaced) console.error(`Deleted ${created.replaced} earlier key(s) labelled "${opts.label}".`);
          const expiry = created.record.expires_at ? `expires ${created.record.expires_at}` : "never expires";
          const article = /^[aeiou]/.test(created.record.role) ? "an" : "a";
          console.error(`Created ${article} ${created.record.role} key in ${where}, fingerprint ${created.fingerprint}; it ${expiry}.`);
          console.error("This is the only time the key is shown; store it now:");
          console.log(created.key);
          if (url !== undefined) {
            const fits = base === PLACEHOLDER_BASE_URL ? "" : `; ${url.length} of the platform's ${MAX_WEBHOOK_URL_LENGTH} characters`;
            console.error(`Its webhook URL, for the assistant's assistant_end_call_url (it holds the key${fits}):`);
            console.log(url);
            if (base === PLACEHOLDER_BASE_URL) {
              console.error(
                `Replace ${PLACEHOLDER_BASE_URL} with the worker's origin (at most ${MAX_WEBHOOK_BASE_LENGTH} characters, ` +
                  `such as https://call-analytics.example.workers.dev), or create the key with --base-url to have it checked.`,
              );
            } else if (base.startsWith("http:") && !isLocal(base)) {
              console.error("Warning: with http:// the key crosses the network in clear text; use https:// for a deployed worker.");
            }
          }
        }
        break;
      }
      case "list": {
        const entries = await listKeys(kv);
        if (opts.json) {
          const listed = entries.map(({ fingerprint, read }) =>
            read.malformed ? { fingerprint, status: status(read), reason: read.malformed } : { fingerprint, ...read.record, status: status(read) },
          );
          console.log(JSON.stringify(listed));
          break;
        }
        const rows = entries.map(({ fingerprint, read, record }) => [
          fingerprint,
          record?.role ?? "",
          record?.label ?? "",
          record?.created_at ?? "",
          read.malformed ? "" : (record.expires_at ?? "never"),
          status(read),
        ]);
        const header = ["FINGERPRINT", "ROLE", "LABEL", "CREATED", "EXPIRES", "STATUS"];
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
        for (const row of [header, ...rows]) console.log(row.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd());
        if (!rows.length) console.error(`(no keys in ${where})`);
        for (const { fingerprint, read } of entries) {
          if (read.malformed) console.error(`Key ${fingerprint} has an unreadable record (${read.malformed}): the worker refuses it.`);
        }
        break;
      }
      case "revoke": {
        if (rest.length !== 1) throw new Error("revoke needs exactly one fingerprint (see `keys list`)");
        const entry = await revokeKey(kv, rest[0]);
        if (opts.json) console.log(JSON.stringify({ fingerprint: entry.fingerprint, ...entry.record }));
        else console.error(`Revoked key ${entry.fingerprint} (${entry.record.role}, "${entry.record.label}") in ${where}.`);
        break;
      }
      default:
        throw new Error(`unknown command "${command}"\n${USAGE}`);
    }
  });
} catch (error) {
  fail(error.message);
}
