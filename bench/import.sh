#!/usr/bin/env bash
# Bulk-import benchmark: builds the release service, starts it on a fresh PostgreSQL database,
# uploads generated CSV files of findings with curl and prints rows/s (end to end, as the client
# sees it) and the service's peak RSS (VmHWM) for each size.
#   bench/import.sh                     100,000 then 1,000,000 rows
#   bench/import.sh 20000               one quick run
#   BENCH_PG=postgres://user:pw@host:5432/postgres bench/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mejora-target}"
command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }
scripts/ensure-postgres.sh >/dev/null
cargo build -q --release --bin mejora -p mejora
exec python3 bench/import.py --binary "$CARGO_TARGET_DIR/release/mejora" "$@"
