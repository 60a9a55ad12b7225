#!/usr/bin/env node
// Writes public/_headers (the admin page's Content-Security-Policy and framing headers) from
// public/admin/config.json. scripts/build.sh runs it on every build; see scripts/lib/admin-page.mjs.
import { writeHeadersFile } from "./lib/admin-page.mjs";

try {
  writeHeadersFile();
} catch (error) {
  console.error(`admin-headers: public/admin/config.json: ${error.message}`);
  process.exit(1);
}
