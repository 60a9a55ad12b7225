#!/usr/bin/env bash
# Installs what building, running and testing the worker need, skipping whatever is already there:
# the wasm32 target, worker-build and wasm-bindgen-cli at the versions Cargo.lock names, and the npm
# packages package-lock.json pins (wrangler with workerd, binaryen's wasm-opt, esbuild, playwright-core).
# With --test, also what only the tests need: Debian's Chromium and schemathesis.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

need() { command -v "$1" >/dev/null || { echo "toolchain: '$1' is missing: $2" >&2; exit 1; }; }
need cargo "install Rust with rustup (https://rustup.rs)"
need rustup "install Rust with rustup (https://rustup.rs)"
need node "install Node.js 20 or later"
need npm "install Node.js 20 or later"

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# The version of a package in Cargo.lock.
locked() { awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock; }

# cargo install, with the tool's own lockfile when the registry has every version it names (a mirror can
# lag behind crates.io; then cargo resolves the newest compatible versions instead).
install_crate() {
  cargo install "$1" --version "$2" --locked || cargo install "$1" --version "$2"
}

bindgen=$(locked wasm-bindgen)
[[ "$(wasm-bindgen --version 2>/dev/null)" == "wasm-bindgen $bindgen" ]] || install_crate wasm-bindgen-cli "$bindgen"
worker=$(locked worker)
[[ "$(worker-build --version 2>/dev/null)" == "$worker" ]] || install_crate worker-build "$worker"

# With --test: Debian's Chromium for the browser tests (playwright-core drives it; nothing downloads a
# browser).
if [[ "${1:-}" == "--test" && -z "${CHROMIUM_PATH:-}" ]] && ! command -v chromium >/dev/null; then
  sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  if [[ -n "$sudo" ]] && ! command -v sudo >/dev/null; then
    echo "toolchain: the browser tests need Chromium: apt-get install chromium (or set CHROMIUM_PATH)" >&2
    exit 1
  fi
  $sudo apt-get install -y -q chromium || { $sudo apt-get update -q && $sudo apt-get install -y -q chromium; }
fi

# With --test also schemathesis, pinned in tests/contract/requirements.txt, in a
# virtualenv under target/.
if [[ "${1:-}" == "--test" ]]; then
  need python3 "install Python 3.9 or later"
  venv_stamp=target/venv/.requirements.sha256
  if [[ "$(cat "$venv_stamp" 2>/dev/null)" != "$(sha256sum tests/contract/requirements.txt)" ]]; then
    python3 -m venv target/venv
    target/venv/bin/pip install -q --disable-pip-version-check -r tests/contract/requirements.txt
    sha256sum tests/contract/requirements.txt > "$venv_stamp"
  fi
fi

stamp=node_modules/.package-lock.sha256
if [[ "$(cat "$stamp" 2>/dev/null)" != "$(sha256sum package-lock.json)" ]]; then
  npm ci --no-audit --no-fund
  sha256sum package-lock.json > "$stamp"
fi
