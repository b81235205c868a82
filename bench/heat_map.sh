#!/usr/bin/env bash
# Heat-map benchmark: builds the release service, starts it on a fresh PostgreSQL database,
# seeds 10,000 risks (with controls and valuations spread over the 5 × 5 map) in SQL, then
# calls GET /risks/heat-map (inherent and residual) from 16 keep-alive connections and prints
# throughput, p50 and p99.
#   bench/heat_map.sh                          10,000 risks, 16 connections, 15 s
#   bench/heat_map.sh --risks 1000 --connections 4 --seconds 5
#   BENCH_PG=postgres://user:pw@host:5432/postgres bench/heat_map.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mejora-target}"
scripts/ensure-postgres.sh >/dev/null
cargo build -q --release --bin mejora -p mejora
exec python3 bench/heat_map.py --binary "$CARGO_TARGET_DIR/release/mejora" "$@"
