#!/usr/bin/env bash
# Runs every test: contracts (unit, fuzz, invariant, gas snapshot), the ABI and README checks, and the
# agent's tests against a real anvil. Installs what it needs first. FOUNDRY_PROFILE defaults to `ci`
# (the deep fuzz and invariant runs); FOUNDRY_PROFILE=default is quicker.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
export FOUNDRY_PROFILE="${FOUNDRY_PROFILE:-ci}"
step() { printf '\n==> %s\n' "$*"; }
start=$SECONDS

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

step "example applications on V8 (Deno) and QuickJS-ng, with their functional checks"
node examples/run.mjs

step "agent: cargo test"
cargo test --locked --workspace

printf '\nall tests passed in %ss\n' "$((SECONDS - start))"
