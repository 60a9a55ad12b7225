// Shared by the benchmark (run.mjs) and the soak run (soak.mjs): wrk, datasets, machine facts.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { ROOT } from "../scripts/lib/bindings.mjs";
import { run } from "../scripts/lib/local-worker.mjs";

export const log = (message) => console.error(`[bench] ${message}`);

/** Rate limits for benchmark workers: wrk's thousands of requests a minute are not what production allows. */
export const BENCH_LIMITS = { clientIp: 100_000_000, apiKey: 100_000_000 };

export function requireWrk() {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
  } catch (error) {
    if (error.code === "ENOENT") {
      console.error("bench: wrk is missing (apt-get install wrk)");
      process.exit(2);
    }
  }
}

/**
 * Runs wrk; returns { p50, p99 } in ms, requests/s, requests and errors (non-2xx answers and socket
 * errors). `script`: a wrk Lua script path (e.g. to rotate through several paths).
 */
export function wrk(url, { key, threads = 2, connections = 16, seconds = 10, script } = {}) {
  return new Promise((resolve, reject) => {
    const args = ["-t", String(threads), "-c", String(connections), "-d", `${seconds}s`, "--latency", "--timeout", "30s"];
    if (key) args.push("-H", `Authorization: Bearer ${key}`);
    if (script) args.push("-s", script);
    const child = spawn("wrk", [...args, url]);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`wrk failed:\n${out}`));
      const toMs = (value, unit) => Number(value) * { us: 0.001, ms: 1, s: 1000, m: 60000 }[unit];
      const percentile = (p) => {
        const match = out.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m"));
        return match ? toMs(match[1], match[2]) : NaN;
      };
      const socket = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
      const errors =
        Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0) +
        (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
      resolve({
        p50: percentile(50),
        p99: percentile(99),
        rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]),
        requests: Number(out.match(/(\d+) requests in/)?.[1]),
        errors,
      });
    });
    child.on("error", reject);
  });
}

/** Generates `size` benchmark calls (bench/data.mjs) into `state` and loads them; returns the seconds taken to load. */
export async function loadDataset(state, size) {
  const file = join(state, "calls.ndjson");
  await run("bash", ["-c", `node "${join(ROOT, "bench", "data.mjs")}" --calls ${size} > "${file}"`]);
  const started = Date.now();
  await run("node", [join(ROOT, "scripts", "load.mjs"), file, "--persist-to", state, "--quiet"]);
  return (Date.now() - started) / 1000;
}

export function machine() {
  const env = { ...process.env, WRANGLER_LOG: "log" }; // scripts/lib/bindings.mjs quiets wrangler's notices
  const wrangler = execFileSync(join(ROOT, "node_modules", ".bin", "wrangler"), ["--version"], { encoding: "utf8", env }).trim();
  return `${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; wrangler ${wrangler}`;
}

/** Resident memory (KiB) of the workerd processes under a process id. */
export function workerdRssKiB(rootPid) {
  const children = (pid) => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  let total = 0;
  const walk = (pid) => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (/^Name:\s+workerd/m.test(status)) total += Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0);
    } catch {}
    for (const child of children(pid)) walk(child);
  };
  walk(rootPid);
  return total;
}

export const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
