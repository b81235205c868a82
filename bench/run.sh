#!/usr/bin/env bash
# Benchmark harness (not part of CI's test suite): builds the release service and the ceiling
# program, seeds a fresh PostgreSQL database through the service's own bulk import, runs wrk at
# 16 and 64 connections, times imports against COPY, samples RSS, and writes bench/RESULTS.md.
#   bench/run.sh            full run (1,000,000 findings; about 15 minutes on 2 cores)
#   bench/run.sh --quick    seconds-scale smoke run (small data, short load)
#   bench/run.sh --findings 200000 --duration 10
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mejora-target}"
command -v wrk >/dev/null || { echo "installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
scripts/ensure-postgres.sh >/dev/null
cargo build -q --release -p mejora -p mejora-ceiling
# Copy the binaries at once: another checkout sharing the target directory may replace them.
bin="$(mktemp -d)"
cp "$CARGO_TARGET_DIR/release/mejora" "$CARGO_TARGET_DIR/release/mejora-ceiling" "$bin/"
exec python3 bench/bench.py --bin-dir "$bin" "$@"
