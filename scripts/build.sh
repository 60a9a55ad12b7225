#!/usr/bin/env bash
# Writes public/_headers from public/admin/config.json, then builds the worker into build/ (index.js + index_bg.wasm) with worker-build, then optimizes the wasm for size
# with wasm-opt, using only local tools: wasm-bindgen-cli from `cargo install` and wasm-opt/esbuild from
# node_modules (scripts/toolchain.sh installs them). Skips the build when src/, Cargo.toml and Cargo.lock are
# unchanged since the last one.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen || echo wasm-bindgen-is-missing)}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/.bin/esbuild}"
for tool in worker-build "$WASM_BINDGEN_BIN" "$WASM_OPT_BIN" "$ESBUILD_BIN"; do
  command -v "$tool" >/dev/null || { echo "build: $tool is missing; run scripts/toolchain.sh" >&2; exit 1; }
done

# The admin page's headers follow its config (cheap, so always).
node scripts/admin-headers.mjs

stamp=target/worker-build.inputs
inputs=$( { find src Cargo.toml Cargo.lock -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; sha256sum "$0"; } | sha256sum)
if [[ -f build/index.js && -f build/index_bg.wasm && -f $stamp && "$(cat "$stamp")" == "$inputs" ]]; then
  echo "build: up to date (build/index_bg.wasm)"
  exit 0
fi
worker-build --release
# The features workerd supports (those worker-build enables); -Oz for size; no names or producers section.
"$WASM_OPT_BIN" build/index_bg.wasm -o build/index_bg.wasm -Oz --strip-debug --strip-producers \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
  --enable-multivalue --enable-reference-types --enable-exception-handling
mkdir -p target
echo "$inputs" > "$stamp"
