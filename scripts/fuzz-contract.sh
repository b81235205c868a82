#!/usr/bin/env bash
# Contract fuzzing: starts the service on a fresh SQLite file (or DATABASE_URL), signs in as the
# bootstrap administrator and runs schemathesis over every operation of the served OpenAPI
# document with all checks. Fails on any 5xx, schema violation or undocumented status.
#   scripts/fuzz-contract.sh            # bounded run (CI)
#   MAX_EXAMPLES=200 scripts/fuzz-contract.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mejora-target}"
VENV="${MEJORA_VENV:-$HOME/.cache/mejora-venv}"
MAX_EXAMPLES="${MAX_EXAMPLES:-25}"
PORT="${PORT:-18089}"

if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==4.32.5"
fi
cargo build -q --bin mejora
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
password="contract fuzzing password 2026"
(
  cd "$work"
  DATABASE_URL="${FUZZ_DATABASE_URL:-sqlite://$work/fuzz.db?mode=rwc}" \
  MEJORA_BIND="127.0.0.1:$PORT" MEJORA_BOOTSTRAP_PASSWORD="$password" MEJORA_BOOTSTRAP_EMAIL="admin@fuzz.gov.co" \
  MEJORA_JWT_SECRET="fuzzing-secret-fuzzing-secret-fuzzing-secret" MEJORA_ACCESS_TOKEN_TTL=3600 \
  MEJORA_LOGIN_MAX_FAILURES=1000000 MEJORA_STORAGE_URL="file://$work/files" RUST_LOG=warn \
  exec "$CARGO_TARGET_DIR/debug/mejora" serve
) > "$work/service.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.2; done
token="$(curl -sf "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"admin@fuzz.gov.co\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
status=0
"$VENV/bin/st" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $token" \
  --max-examples "$MAX_EXAMPLES" \
  --exclude-path "/api/v1/me/password" \
  --seed 20261123 \
  --no-color || status=$?
if grep -q "handler panicked\|request failed" "$work/service.log"; then
  echo "the service logged failures:"; grep "handler panicked\|request failed" "$work/service.log" | head -20
  status=1
fi
exit $status
