#!/usr/bin/env bash
# Event throughput: events written and delivered per second to a local webhook receiver, and the
# delay from commit to delivery (p50/p99). Builds the release service (or pass BENCH_BINARY).
#   bench/events.sh                         2,000 POSTs (8 clients), then a 20,000-row upload
#   bench/events.sh --findings 500 --rows 5000
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mejora-target}"
scripts/ensure-postgres.sh >/dev/null
if [ -z "${BENCH_BINARY:-}" ]; then
  cargo build -q --release --bin mejora -p mejora
  BENCH_BINARY="$CARGO_TARGET_DIR/release/mejora"
fi
exec python3 bench/events.py --binary "$BENCH_BINARY" "$@"
