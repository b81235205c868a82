#!/usr/bin/env bash
# Runs the README's walk-through exactly as printed: every ```sh block that follows a
# `<!-- walkthrough -->` line, in order, in one shell with `set -euo pipefail`, against the
# service started on a fresh database. A block that fails (curl --fail-with-body, jq -e) stops it.
#
#   scripts/walkthrough.sh            # SQLite (a new file in a temporary folder)
#   scripts/walkthrough.sh postgres   # a new database on the server at $TEST_DATABASE_URL
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
backend="${1:-sqlite}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mejora-target}"
(cd "$root" && cargo build -q --bin mejora)
bin="$CARGO_TARGET_DIR/debug/mejora"

work="$(mktemp -d)"
server=""
dropdb=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "$dropdb" ] && psql -q "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $dropdb" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

case "$backend" in
  sqlite) database_url="sqlite://$work/mejora.db?mode=rwc" ;;
  postgres)
    : "${TEST_DATABASE_URL:?set TEST_DATABASE_URL to a PostgreSQL server}"
    dropdb="mejora_walk_$(date +%s)_$$"
    psql -q "$TEST_DATABASE_URL" -c "CREATE DATABASE $dropdb" >/dev/null
    base="${TEST_DATABASE_URL%%\?*}"
    database_url="${base%/*}/$dropdb"
    ;;
  *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;;
esac

# The blocks, in README order.
awk '/^<!-- walkthrough -->$/ { want = 1; next }
     want && /^```sh$/ { inside = 1; want = 0; next }
     inside && /^```$/ { inside = 0; print ""; next }
     inside { print }' "$root/README.md" > "$work/walkthrough.sh"
blocks="$(grep -c '^<!-- walkthrough -->$' "$root/README.md")"
[ "$blocks" -ge 4 ] || { echo "expected at least 4 walk-through blocks in README.md, found $blocks" >&2; exit 1; }

password="walk-through password $(date +%s)"
(cd "$work" && env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$database_url" MEJORA_BIND=127.0.0.1:0 \
  MEJORA_BOOTSTRAP_PASSWORD="$password" MEJORA_STORAGE_URL="file://$work/files" MEJORA_WORKERS=2 \
  "$bin" > "$work/server.out" 2> "$work/server.err") &
server=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/^mejora listening on port \([0-9]*\).*/\1/p' "$work/server.out")"
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.err" >&2; exit 1; }
  sleep 0.2
done
[ -n "$port" ] || { echo "the service did not start" >&2; cat "$work/server.err" >&2; exit 1; }

# The README's relative paths (tests/fixtures/…) resolve from a scratch copy of the layout.
mkdir -p "$work/run" && ln -s "$root/tests" "$work/run/tests"
echo "walk-through ($backend): $blocks blocks from README.md against port $port"
(cd "$work/run" && API="http://127.0.0.1:$port/api/v1" ADMIN_PASSWORD="$password" \
  bash -euo pipefail "$work/walkthrough.sh") > "$work/walk.out" 2>&1 || {
  echo "walk-through FAILED ($backend); its output:" >&2
  cat "$work/walk.out" >&2
  exit 1
}
[ -n "${WALK_VERBOSE:-}" ] && cat "$work/walk.out"
echo "walk-through ($backend): ok"
