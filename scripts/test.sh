#!/usr/bin/env bash
# Runs every test: contracts (unit, fuzz, invariant, gas snapshot), the ABI and README checks, and the
# agent's tests against a real anvil. Installs what it needs first. FOUNDRY_PROFILE defaults to `ci`
# (the deep fuzz and invariant runs); FOUNDRY_PROFILE=default is quicker.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
export FOUNDRY_PROFILE="${FOUNDRY_PROFILE:-ci}"
step() { printf '\n==> %s\n' "$*"; }
start=$SECONDS

# forge's via-IR build runs solc-js on one core for minutes: build the Rust tests on the other meanwhile.
build_log="$(mktemp)"
cargo test --locked --workspace --no-run >"$build_log" 2>&1 &
cargo_build=$!
trap 'kill "$cargo_build" 2>/dev/null || true; rm -f "$build_log"' EXIT

step "forge build (solc-js 0.8.30, via-IR)"
forge build

step "committed ABI artifacts match the contracts"
node tools/abi.mjs --check

step "forge test: unit, fuzz, invariant ($FOUNDRY_PROFILE profile)"
forge test --no-match-contract Gas

step "gas per operation as real transactions, against the committed snapshot"
forge test --isolate --match-contract Gas --gas-snapshot-check true

step "README gas table matches the snapshot"
node tools/gastable.mjs --check

if ! wait "$cargo_build"; then
  cat "$build_log" >&2
  echo "error: building the Rust tests failed (output above)" >&2
  exit 1
fi

# Through the product: `jsjob run` and `jsjob-sandbox`, built with the tests above.
step "example applications through jsjob run on V8 (Deno) and QuickJS-ng, with their functional checks"
node examples/run.mjs

step "Rust workspace: cargo test (content store, sandboxes, the agent against a real anvil, the devnet end to end)"
cargo test --locked --workspace

printf '\nall tests passed in %ss\n' "$((SECONDS - start))"
