#!/usr/bin/env bash
# From a fresh clone to a local server: install what is missing, build, apply the D1 migrations to local
# state, load the demo data, create a local super-admin key and a local ingest key, print them with ready
# curl lines (among them a sample end-call webhook, and the report it shows up in), and serve on
# http://127.0.0.1:8787. Safe to run again: the data is updated in place and the previous dev keys replaced.
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
base="http://127.0.0.1:8787"
# The end-call webhook's key (docs/live-data.md): the tool prints the key, then the URL that holds it.
ingest=$(node scripts/keys.mjs create --role ingest --label "local dev webhook (scripts/dev.sh)" --replace --base-url "$base" 2>/dev/null)
webhook_url=${ingest#*$'\n'}
# A sample of what the platform posts when a call ends: one that started a minute ago, on a number the demo
# data does not have, as the platform writes it (microseconds, its envelope); the day it started, in UTC.
sample=$(node -e '
  const started = new Date(Date.now() - 60_000).toISOString().replace("Z", "000Z");
  const room = `asst_devsh_${require("node:crypto").randomBytes(4).toString("hex")}`;
  const data = { room_name: room, started_at: started, call_duration_minutes: 2.5, created_by_email: "alice@example.com",
    call_type: "outbound", call_service: "exotel", platform_number: "08012345678", call_status: "completed" };
  console.log(JSON.stringify({ success: true, message: "Call completed", data }));')
day=$(node -e 'console.log(JSON.parse(process.argv[1]).data.started_at.slice(0, 10))' "$sample")

url="$base/admin/analytics/calls/by-phone-number"
cat <<BANNER

  Local super-admin API key (shown once; running scripts/dev.sh again replaces it):
    $key

  Try:
    curl -s "$url" -H "Authorization: Bearer $key"
    curl -s "$url?user_email=alice@example.com" -H "Authorization: Bearer $key"

  The end-call webhook's URL, with a local ingest key in it (replaced too; docs/live-data.md):
    $webhook_url

  Post a call as the voice platform does when one ends, then see it under 08012345678 in today's report
  (the queue writes it to D1 within a few seconds; posting it again still counts one call):
    curl -s -X POST "$webhook_url" -H "Content-Type: application/json" -d '$sample'
    curl -s "$url?start_date=$day" -H "Authorization: Bearer $key"

BANNER
exec npx wrangler dev
