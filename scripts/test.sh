#!/usr/bin/env bash
# README's second command: every test. Host unit tests of the pure Rust modules, unit tests of the
# tools, end-to-end tests of the built worker in wrangler dev with real local D1 and KV, and browser tests
# of the admin page in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false

bash scripts/toolchain.sh --test
# The browser tests use the Chromium toolchain.sh found (or CHROMIUM_PATH).
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium)}"
cargo test --locked
bash scripts/build.sh
node --test --test-concurrency=1 tests/*/*.test.mjs
