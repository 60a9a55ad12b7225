#!/usr/bin/env bash
# Prints the size of the built worker's wasm, raw and gzipped (gzip -9), after building if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
raw=$(wc -c < build/index_bg.wasm)
gz=$(gzip -9 -c build/index_bg.wasm | wc -c)
js=$(wc -c < build/index.js)
awk -v raw="$raw" -v gz="$gz" -v js="$js" 'BEGIN {
  printf "wasm: %d bytes raw (%.1f KiB), %d bytes gzip -9 (%.1f KiB); JS shim: %d bytes\n", raw, raw / 1024, gz, gz / 1024, js
}'
