// The shipped queue configuration, as wrangler reads it (the dry-run deploy of the test command checks that it
// deploys; this checks that it says what src/ingest/ relies on): the webhook's producer, a consumer of the calls
// queue that dead-letters into a queue this worker also consumes (src/ingest/mod.rs DEAD_LETTER_QUEUE), and the
// KV namespace the dead letters are kept in.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, shippedConfig } from "../../scripts/lib/bindings.mjs";

test("the calls queue is produced, consumed in batches, and dead-lettered into a consumed queue", async () => {
  const config = await shippedConfig();
  const ingest = await readFile(join(ROOT, "src", "ingest", "mod.rs"), "utf8");
  const constant = (name) => new RegExp(`pub const ${name}: &str = "([^"]+)"`).exec(ingest)[1];
  const [producer] = config.queues.producers;
  assert.equal(producer.binding, constant("QUEUE"));
  const calls = config.queues.consumers.find((c) => c.queue === producer.queue);
  assert.ok(calls, "the worker consumes the queue it sends to");
  assert.equal(calls.dead_letter_queue, constant("DEAD_LETTER_QUEUE"));
  assert.ok(calls.max_batch_size <= 100, "a batch's calls fit one D1 batch() of statements under 100 KB each");
  assert.ok(calls.max_batch_timeout <= 1, "a call reaches D1 within a second of the batch's first");
  assert.ok(calls.max_retries >= 5, "a D1 outage of minutes does not dead-letter calls");
  const dead = config.queues.consumers.find((c) => c.queue === calls.dead_letter_queue);
  assert.ok(dead && !dead.dead_letter_queue, "the dead letters are consumed (into KV) and go nowhere else");
  // KV failing for hours loses no dead letter: its retries (delays doubling to 5 minutes) last about 8 hours.
  assert.ok(dead.max_retries >= 100, `the dead letters' consumer retries ${dead.max_retries} times`);
  assert.ok(config.kv_namespaces.some((n) => n.binding === "DEAD_LETTERS"));
  assert.equal(new Set(config.kv_namespaces.map((n) => n.id)).size, config.kv_namespaces.length, "each namespace its own id");
});
