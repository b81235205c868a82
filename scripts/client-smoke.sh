#!/usr/bin/env bash
# The contract as its users meet it: validates openapi/openapi.json with two independent
# validators, generates the TypeScript (openapi-typescript) and Python (openapi-python-client)
# clients, type-checks the TypeScript one, and runs both smoke programs and the README's two
# Python upload scripts against a freshly started service (SQLite temp file). Every tool's
# output is printed; any error or generator warning fails the run.
#   scripts/client-smoke.sh
# Node and Python packages (pinned in clients/typescript/package-lock.json and
# clients/python/requirements.txt) are installed under $HOME/.cache, outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mejora-target}"
CACHE="${MEJORA_CLIENTS_CACHE:-$HOME/.cache/mejora-clients}"
PORT="${PORT:-18090}"
SPEC=openapi/openapi.json
ts=clients/typescript
py=clients/python

section() { printf '\n--- %s\n' "$1"; }
hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

section "install pinned Node and Python packages (cache: $CACHE)"
node_dir="$CACHE/node-$(hash_of $ts/package.json $ts/package-lock.json)"
if [ ! -d "$node_dir/node_modules" ]; then
  mkdir -p "$node_dir"
  cp $ts/package.json $ts/package-lock.json "$node_dir/"
  (cd "$node_dir" && npm ci --no-audit --no-fund)
fi
ln -sfn "$node_dir/node_modules" $ts/node_modules
venv="$CACHE/venv-$(hash_of $py/requirements.txt)"
if [ ! -x "$venv/bin/openapi-python-client" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r $py/requirements.txt
fi
export PATH="$venv/bin:$root/$ts/node_modules/.bin:$PATH"
node --version; python3 --version
echo "openapi-typescript $(openapi-typescript --version 2>/dev/null | tail -1), tsc $(tsc --version), $(openapi-python-client --version), redocly $(redocly --version 2>/dev/null | tail -1)"

warnings=0
count() { # count NAME FILE PATTERN: prints and adds the number of lines matching PATTERN
  local n; n=$(grep -c -E "$3" "$2" || true); echo "$1: $n warning(s)"; warnings=$((warnings + n))
}
log="$(mktemp -d)"

section "validate $SPEC: openapi-spec-validator (OpenAPI 3.1)"
openapi-spec-validator $SPEC

section "validate $SPEC: Redocly lint (recommended rules; accepted exceptions in .redocly.lint-ignore.yaml)"
redocly lint $SPEC 2>&1 | grep -v '[║╔╚]' | tee "$log/redocly.txt"
count "redocly lint" "$log/redocly.txt" '^warning|Warning was generated'

section "generate TypeScript types: openapi-typescript"
(cd $ts && openapi-typescript ../../$SPEC --output src/api.d.ts) 2>&1 | tee "$log/ots.txt"
count "openapi-typescript" "$log/ots.txt" '⚠|[Ww]arn'

section "type-check: tsc --strict --noEmit"
(cd $ts && tsc -p . --strict --noEmit)
echo "tsc: 0 errors"

section "generate Python client: openapi-python-client"
openapi-python-client generate --path $SPEC --config $py/generator.yaml --custom-template-path $py/templates \
  --meta none --output-path $py/mejora_client --overwrite 2>&1 | tee "$log/opc.txt"
count "openapi-python-client" "$log/opc.txt" 'WARNING|ERROR|Warning\(s\)|Unable to'
operations=$(python3 -c "import json,sys; s=json.load(open('$SPEC')); print(sum(m in ('get','post','put','patch','delete') for p in s['paths'].values() for m in p))")
functions=$(grep -rl '^def sync_detailed' $py/mejora_client/api | wc -l)
echo "operations in the spec: $operations; generated Python functions: $functions"
[ "$operations" -eq "$functions" ] || { echo "some operations have no Python function"; exit 1; }
[ "$warnings" -eq 0 ] || { echo "validators and generators gave $warnings warning(s)"; exit 1; }

section "start the service"
cargo build -q --bin mejora
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work" "$log"' EXIT
password="client smoke password 2026"
(
  cd "$work"
  DATABASE_URL="sqlite://$work/clients.db?mode=rwc" MEJORA_BIND="127.0.0.1:$PORT" \
  MEJORA_BOOTSTRAP_EMAIL="admin@mejora.local" MEJORA_BOOTSTRAP_PASSWORD="$password" \
  MEJORA_STORAGE_URL="file://$work/files" RUST_LOG=warn exec "$CARGO_TARGET_DIR/debug/mejora" serve
) > "$work/service.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.2; done
export MEJORA_URL="http://127.0.0.1:$PORT" MEJORA_API="http://127.0.0.1:$PORT/api/v1"
export MEJORA_EMAIL="admin@mejora.local" MEJORA_PASSWORD="$password"

section "TypeScript smoke program (openapi-fetch)"
(cd $ts && tsx src/smoke.ts)

section "Python smoke program (generated client)"
(cd $py && python3 smoke.py)

section "README upload scripts, as printed"
python3 scripts/readme-upload.py README.md "$work/readme"
grep -E "handler panicked|request failed" "$work/service.log" && { echo "the service logged failures"; exit 1; }
section "client smoke: passed"
