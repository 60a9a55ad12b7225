#!/usr/bin/env bash
# README's second command: every test. Host unit tests of the pure Rust modules, unit tests of the
# tools, then end-to-end tests of the built worker in wrangler dev with real local D1 and KV.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false

bash scripts/toolchain.sh
cargo test --locked
bash scripts/build.sh
node --test --test-concurrency=1 tests/*/*.test.mjs
