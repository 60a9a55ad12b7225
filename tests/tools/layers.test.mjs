// scripts/check-layers.mjs against copies of src/ (and README.md) with one rule broken each: it must fail,
// naming what broke, where today's tree passes.
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ROOT } from "../../scripts/lib/bindings.mjs";
import { runExit } from "../../scripts/lib/local-worker.mjs";

const copies = [];
after(() => Promise.all(copies.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A copy of src/ and README.md, changed by `change(dir)`, checked; returns { code, stderr, stdout }. */
async function check(change = async () => {}) {
  const dir = await mkdtemp(join(tmpdir(), "check-layers-"));
  copies.push(dir);
  await cp(join(ROOT, "src"), join(dir, "src"), { recursive: true });
  await cp(join(ROOT, "README.md"), join(dir, "README.md"));
  await change(dir);
  return runExit("node", [join(ROOT, "scripts", "check-layers.mjs"), "--root", dir]);
}

/** Adds a `use` line after a file's leading comment. */
async function addUse(dir, file, line) {
  const path = join(dir, "src", file);
  const text = await readFile(path, "utf8");
  const at = text.search(/^use /m);
  await writeFile(path, `${text.slice(0, at)}${line}\n${text.slice(at)}`);
}

test("today's tree keeps every rule", async () => {
  const { code, stdout, stderr } = await check();
  assert.equal(code, 0, stderr);
  assert.match(stdout, /no circle/);
});

test("the circle of the last round, put back, fails: periods -> selection -> periods", async () => {
  const { code, stderr } = await check((dir) => addUse(dir, "report/periods.rs", "use crate::report::selection::Selection;"));
  assert.equal(code, 1);
  assert.match(stderr, /import circle: report::periods -> report::selection -> report::periods/);
});

test("a use the layering table does not allow fails, with the circle it makes", async () => {
  const { code, stderr } = await check((dir) => addUse(dir, "time/zone.rs", "use crate::report::plan::Source;"));
  assert.equal(code, 1);
  assert.match(stderr, /time::zone uses report::plan: time may not use report/);
  assert.match(stderr, /import circle: .*report::plan -> time::zone -> report::plan|import circle: .*time::zone -> report::plan -> time::zone/);
});

test("report may not use http, nor http the Cloudflare platform", async () => {
  const { code, stderr } = await check(async (dir) => {
    await addUse(dir, "report/buckets.rs", "use crate::http::response::Reply;");
    await addUse(dir, "http/log.rs", "use crate::platform::cloudflare::Cloudflare;");
  });
  assert.equal(code, 1);
  assert.match(stderr, /report::buckets uses http::response: report may not use http/);
  assert.match(stderr, /http::log uses platform::cloudflare: only entry may/);
});

test("test-only code may use anything", async () => {
  const { code, stderr } = await check((dir) =>
    appendFile(join(dir, "src", "time", "zone.rs"), "\n#[cfg(test)]\nmod more {\n    use crate::report::plan::Source;\n}\n"),
  );
  assert.equal(code, 0, stderr);
});

test("a folder the table or README's layout does not name fails", async () => {
  const { code, stderr } = await check(async (dir) => {
    await cp(join(dir, "src", "call"), join(dir, "src", "extra"), { recursive: true });
  });
  assert.equal(code, 1);
  assert.match(stderr, /src\/extra is not in src\/lib.rs's layering table/);
  assert.match(stderr, /README.md's layout does not name src\/extra\//);
});
