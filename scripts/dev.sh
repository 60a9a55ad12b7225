#!/usr/bin/env bash
# From a fresh clone to a local server: install what is missing, build, apply the D1 migrations to local
# state, load the demo data, create a local super-admin key, print it with a ready curl line, and serve on
# http://127.0.0.1:8787. Safe to run again: the data is updated in place and the previous dev key replaced.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false

bash scripts/toolchain.sh
bash scripts/build.sh
npx wrangler d1 migrations apply DB --local
mkdir -p target
node scripts/demo-data.mjs > target/demo-calls.ndjson
node scripts/load.mjs target/demo-calls.ndjson
key=$(node scripts/keys.mjs create --role super_admin --label "local dev (scripts/dev.sh)" --replace 2>/dev/null)

url="http://127.0.0.1:8787/admin/analytics/calls/by-phone-number"
cat <<BANNER

  Local super-admin API key (shown once; running scripts/dev.sh again replaces it):
    $key

  Try:
    curl -s "$url" -H "Authorization: Bearer $key"
    curl -s "$url?user_email=alice@example.com" -H "Authorization: Bearer $key"

BANNER
exec npx wrangler dev
