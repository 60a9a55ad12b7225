#!/usr/bin/env bash
# Installs what building, running and testing the worker need, skipping whatever is already there:
# a C toolchain (cargo links with cc; ring compiles C), the wasm32 target, worker-build and wasm-bindgen-cli at
# the versions Cargo.lock names (worker-build builds against OpenSSL), and the npm packages package-lock.json
# pins (wrangler with workerd, binaryen's wasm-opt, esbuild, playwright-core). With --test, also what only the
# tests need: Debian's Chromium and schemathesis (in a Python virtualenv). System packages come from apt-get,
# as root or through sudo; elsewhere the script names what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

need() { command -v "$1" >/dev/null || { echo "toolchain: '$1' is missing: $2" >&2; exit 1; }; }
need cargo "install Rust with rustup (https://rustup.rs)"
need rustup "install Rust with rustup (https://rustup.rs)"
need node "install Node.js 20.18.1 or later"
need npm "install Node.js 20.18.1 or later"
# wrangler's undici needs 20.18.1; wrangler 4.86 (pinned) is the last release that runs on Node 20.
node -e 'const [a, b, c] = process.versions.node.split(".").map(Number);
  process.exit(a > 20 || (a === 20 && (b > 18 || (b === 18 && c >= 1))) ? 0 : 1)' ||
  { echo "toolchain: Node.js 20.18.1 or later is needed; this is $(node --version)" >&2; exit 1; }

# Debian packages, installed when something is missing.
apt_install() {
  local sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  if ! command -v apt-get >/dev/null || { [[ -n "$sudo" ]] && ! command -v sudo >/dev/null; }; then
    echo "toolchain: please install (Debian package names): $*" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q "$@" || { $sudo apt-get update -q && $sudo apt-get install -y -q "$@"; }
}

command -v cc >/dev/null || apt_install build-essential

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
if [[ "$(worker-build --version 2>/dev/null)" != "$worker" ]]; then
  { command -v pkg-config >/dev/null && pkg-config --exists openssl; } || apt_install pkg-config libssl-dev
  install_crate worker-build "$worker"
fi

# With --test: Debian's Chromium for the browser tests (playwright-core drives it; nothing downloads a
# browser), and Python with venv for schemathesis.
if [[ "${1:-}" == "--test" ]]; then
  [[ -n "${CHROMIUM_PATH:-}" ]] || command -v chromium >/dev/null || apt_install chromium
  python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3 python3-venv
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    { echo "toolchain: schemathesis's pytest needs Python 3.10 or later; this is $(python3 --version)" >&2; exit 1; }
  # schemathesis, pinned in tests/contract/requirements.txt, in a virtualenv under target/.
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
