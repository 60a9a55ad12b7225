#!/usr/bin/env node
// The structure src/ must keep, checked (by scripts/test.sh, before the Rust tests):
// - no import circle among the Rust modules (`crate::`, `super::` and `self::` paths in code that is not
//   test-only; a folder and its own direct children count as one, as they share a module);
// - every use between folders allowed by the layering table in src/lib.rs's top comment (the one home of
//   the rule: `| \`folder\` | holds | may use |`), and only `entry` using `platform::cloudflare`;
// - the table, the folders under src/ and README's layout section naming the same folders.
//
//   node scripts/check-layers.mjs [--root DIR]     (exit 1 and one line per finding when the rule is broken)
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const { values } = parseArgs({ options: { root: { type: "string" } } });
const root = resolve(values.root ?? join(fileURLToPath(new URL(".", import.meta.url)), ".."));
const src = join(root, "src");
const findings = [];

/** Every .rs file under src/, by module path (["report", "plan"]; lib.rs and mod.rs name their folder). */
function modules() {
  const found = new Map();
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".rs")) {
        const parts = relative(src, path).slice(0, -3).split(sep);
        if (["mod", "lib", "main"].includes(parts.at(-1))) parts.pop();
        found.set(parts.join("::"), { path, folder: /(^|\/)(mod|lib|main)\.rs$/.test(path.split(sep).join("/")) });
      }
    }
  };
  walk(src);
  return found;
}

const all = modules();
/** A file's code that is not test-only: everything before its first #[cfg(test)]. */
const code = (path) => readFileSync(path, "utf8").split("#[cfg(test)]")[0];

// Modules declared only in test-only code (platform::memory, http::openapi...) are left out, with their
// children.
const declared = new Set([""]);
for (const [name, { path }] of all) {
  for (const [, child] of code(path).matchAll(/^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;/gm)) {
    declared.add(name ? `${name}::${child}` : child);
  }
}
const live = new Map([...all].filter(([name]) => {
  const parts = name ? name.split("::") : [];
  return parts.every((_, i) => declared.has(parts.slice(0, i + 1).join("::")));
}));

/** The module a path names: the longest prefix that is a module. */
function target(from, isFolder, path) {
  const parts = path.split("::");
  let base;
  if (parts[0] === "crate") base = [];
  else {
    base = from ? from.split("::") : [];
    if (parts[0] === "self") {
      if (!isFolder) base = base.slice(0, -1);
    } else {
      base = base.slice(0, -1); // super, from this module's parent
      while (parts[1] === "super") {
        base = base.slice(0, -1);
        parts.shift();
      }
    }
  }
  const rest = parts.slice(1);
  for (let i = rest.length; i >= 0; i--) {
    const candidate = [...base, ...rest.slice(0, i)].join("::");
    if (live.has(candidate)) return candidate;
  }
  return null;
}

const edges = new Map();
for (const [name, { path, folder }] of live) {
  const uses = new Set();
  for (const [path_] of code(path).matchAll(/\b(?:crate|super|self)(?:::\w+)+/g)) {
    const to = target(name, folder, path_);
    if (to === null || to === name) continue;
    const parent = (m) => m.split("::").slice(0, -1).join("::");
    // A folder's module and its own direct children share one module: not an edge.
    if (name.includes("::") || to.includes("::")) {
      if (parent(to) === name || parent(name) === to) continue;
    }
    uses.add(to);
  }
  edges.set(name, uses);
}

// 1. Import circles.
const state = new Map();
const circles = [];
const visit = (node, stack) => {
  state.set(node, 1);
  stack.push(node);
  for (const next of [...(edges.get(node) ?? [])].sort()) {
    if (state.get(next) === 1) circles.push([...stack.slice(stack.indexOf(next)), next].map((m) => m || "crate").join(" -> "));
    else if (!state.get(next)) visit(next, stack);
  }
  stack.pop();
  state.set(node, 2);
};
for (const node of [...edges.keys()].sort()) if (!state.get(node)) visit(node, []);
for (const circle of circles) findings.push(`import circle: ${circle}`);

// 2. The layering table, from src/lib.rs.
const lib = readFileSync(join(src, "lib.rs"), "utf8");
const rule = new Map();
for (const [, name, rest] of lib.matchAll(/^\/\/! \|\s*`(\w+)`\s*\|(.*)$/gm)) {
  const cells = rest.split("|").map((c) => c.trim());
  rule.set(name, new Set([...(cells[1] ?? "").matchAll(/`(\w+)`/g)].map((m) => m[1])));
}
if (!rule.size) findings.push("src/lib.rs has no layering table (rows like | `folder` | holds | may use |)");

const unit = (module) => module.split("::")[0];
const folders = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory());
const rootFiles = readdirSync(src).filter((n) => n.endsWith(".rs") && n !== "lib.rs").map((n) => n.slice(0, -3));
for (const name of [...folders, ...rootFiles]) if (!rule.has(name)) findings.push(`src/${name} is not in src/lib.rs's layering table`);
for (const name of rule.keys()) if (!folders.includes(name) && !rootFiles.includes(name)) findings.push(`src/lib.rs's layering table names ${name}, which src/ does not have`);
for (const [name, uses] of rule) {
  for (const used of uses) if (!rule.has(used)) findings.push(`src/lib.rs: ${name} may use ${used}, which is not in the table`);
}

for (const [from, uses] of edges) {
  if (!from) continue; // the crate root declares the folders
  for (const to of uses) {
    if (to === "platform::cloudflare" || to.startsWith("platform::cloudflare::")) {
      if (unit(from) !== "entry" && unit(from) !== "platform") findings.push(`${from} uses platform::cloudflare: only entry may (everything else uses the Platform trait)`);
    }
    const [a, b] = [unit(from), unit(to)];
    if (a === b || !b) continue;
    if (rule.has(a) && !rule.get(a).has(b)) findings.push(`${from} uses ${to}: ${a} may not use ${b} (src/lib.rs's layering table)`);
  }
}

// 3. README's layout section names every folder.
const readme = join(root, "README.md");
if (existsSync(readme)) {
  const layout = readFileSync(readme, "utf8").split(/^## Layout\s*$/m)[1]?.split(/^## /m)[0] ?? "";
  if (!layout) findings.push("README.md has no ## Layout section");
  for (const folder of folders) if (!layout.includes(`src/${folder}/`) && !layout.includes(`\`${folder}/\``)) findings.push(`README.md's layout does not name src/${folder}/`);
}

if (findings.length) {
  for (const finding of findings) console.error(`check-layers: ${finding}`);
  process.exit(1);
}
console.log(`check-layers: ${live.size} modules in ${folders.length} folders, no circle, every use within src/lib.rs's layering table`);
