// scripts/size.sh --check, the wasm's size budget in the test command: it passes today's build and fails, with
// the sizes, under a budget the build is over.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runExit } from "../../scripts/lib/local-worker.mjs";

test("the size check fails over its budget and passes within it", async () => {
  const within = await runExit("bash", ["scripts/size.sh", "--check"]);
  assert.equal(within.code, 0, within.stderr);
  const gz = Number(within.stdout.match(/(\d+) bytes gzip -9/)?.[1]);
  assert.ok(gz > 0, within.stdout);
  const over = await runExit("bash", ["scripts/size.sh", "--check", "--budget", String(gz - 1)]);
  assert.equal(over.code, 1);
  assert.match(over.stderr, new RegExp(`the wasm is ${gz} bytes gzipped, over its budget of ${gz - 1}`));
  const exact = await runExit("bash", ["scripts/size.sh", "--check", "--budget", String(gz)]);
  assert.equal(exact.code, 0, "a wasm of exactly its budget is within it");
});
