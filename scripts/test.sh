#!/usr/bin/env bash
# README's second command: every test. Host unit tests of the pure Rust modules, a dry-run deploy, unit tests
# of the tools, end-to-end tests of the built worker in wrangler dev with real local D1 and KV, and browser
# tests of the admin page in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false

bash scripts/toolchain.sh --test
# The browser tests use the Chromium toolchain.sh found (or CHROMIUM_PATH).
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
# The structure src/ must keep (no import circle, the layering table of src/lib.rs): cheap, so first.
node scripts/check-layers.mjs
cargo test --locked
bash scripts/build.sh
# The wasm's size budget (docs/design.md, Size).
bash scripts/size.sh --check
# What `wrangler deploy` would upload, checked and bundled offline: a configuration or bundle that could not
# deploy fails here. It prints the upload size (docs/design.md, Size).
npx wrangler deploy --dry-run --outdir target/deploy-dry-run
node --test --test-concurrency=1 tests/*/*.test.mjs
