// Shared by the benchmark (run.mjs), the soak run (soak.mjs) and the many-buckets run (buckets.mjs): wrk,
// datasets, machine facts, and an inspector client to read the worker's V8 heap.
import { execFileSync, spawn, spawnSync } from "node:child_process";
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

/** Node 20 has WebSocket (for the inspector) behind a flag: reruns this script with it, if it is missing. */
export function withWebSocket() {
  if (typeof WebSocket !== "undefined") return;
  const { status } = spawnSync(process.execPath, ["--experimental-websocket", "--no-warnings", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(status ?? 1);
}

/**
 * A DevTools-protocol client on wrangler's inspector proxy (the worker's isolate), kept open for the whole
 * run; needs {@link withWebSocket}. Without a client, the proxy buffers every message the runtime sends (a
 * console line and network events per request) until one connects, so its workerd grows without bound; with
 * this one attached the buffer drains (to here, where it is dropped), and RSS figures measure the runtime
 * rather than that buffer.
 */
export async function inspector(worker) {
  const socket = new WebSocket(`ws://127.0.0.1:${worker.inspectorPort}/ws`, { headers: { Origin: "http://127.0.0.1" } });
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve);
    socket.addEventListener("error", reject);
  });
  const replies = new Map();
  let next = 1;
  socket.addEventListener("message", (event) => {
    if (!event.data.startsWith('{"id":')) return; // events: dropped
    const message = JSON.parse(event.data);
    replies.get(message.id)?.(message);
    replies.delete(message.id);
  });
  const call = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = next++;
      replies.set(id, (message) => (message.error ? reject(new Error(`${method}: ${message.error.message}`)) : resolve(message)));
      socket.send(JSON.stringify({ id, method, params }));
    });
  /** Runtime.getHeapUsage: { usedSize, totalSize } in bytes (and what else this V8 reports). */
  const heapUsage = async () => (await call("Runtime.getHeapUsage")).result;
  return {
    call,
    heapUsage,
    /** The isolate's live V8 heap in bytes: a heap snapshot first forces a full garbage collection. */
    async liveHeap() {
      await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
      return (await heapUsage()).usedSize;
    },
    /**
     * Samples the heap back to back (one call in flight) until `stop()`, which resolves the samples:
     * { sent, received } (performance.now() at this end) and the heap usage. A sample is answered only when
     * the isolate lets the inspector in, so `received` says when it was taken, give or take the round trip.
     */
    sampler() {
      const samples = [];
      let stopped = false;
      const loop = (async () => {
        while (!stopped) {
          const sent = performance.now();
          const usage = await heapUsage();
          samples.push({ sent, received: performance.now(), ...usage });
        }
      })();
      return {
        stop: async () => {
          stopped = true;
          await loop;
          return samples;
        },
      };
    },
    close: () => socket.close(),
  };
}
