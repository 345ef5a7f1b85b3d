#!/usr/bin/env bash
# Starts a fresh anvil, deploys the contracts with the forge script, and drives a job through its whole
# lifecycle (and a second one through a dispute), printing each step. Installs what it needs first.
# Extra arguments go to `jsjob demo` (for example --keep-running).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
echo "==> cargo build (the jsjob agent; the same build the tests use)"
cargo build --locked -p jsjob
exec target/debug/jsjob demo "$@"
