#!/usr/bin/env bash
# The market on this machine, watched as it works: installs what it needs first (the pinned npm tools,
# the Python venv), builds the agent and its QuickJS sandbox, then runs `jsjob devnet`: anvil, the
# contracts, the content store, three workers and a verifier, the example applications on both engines in
# a live table, then a summary. Extra arguments go to `jsjob devnet` (for example --with-cheater,
# --keep-running, --fresh, --headless; `target/debug/jsjob devnet --help` lists them).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
echo "==> cargo build (the jsjob agent and its QuickJS sandbox; the same build the tests use)"
cargo build --locked -p jsjob -p jsjob-exec --bins
exec target/debug/jsjob devnet "$@"
