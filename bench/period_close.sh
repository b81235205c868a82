#!/usr/bin/env bash
# Reporting-period closing benchmark: builds the release service, starts it on a fresh
# PostgreSQL database, seeds 50 running plans with 20,000 actions (each with accepted evidence
# and a comptroller finding) in SQL, then closes a SIRECI period over all of them through the
# API and prints the time of the close call and the service's peak RSS during it.
#   bench/period_close.sh                       50 plans, 20,000 actions
#   bench/period_close.sh --plans 5 --actions 2000
#   BENCH_PG=postgres://user:pw@host:5432/postgres bench/period_close.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mejora-target}"
scripts/ensure-postgres.sh >/dev/null
cargo build -q --release --bin mejora -p mejora
exec python3 bench/period_close.py --binary "$CARGO_TARGET_DIR/release/mejora" "$@"
