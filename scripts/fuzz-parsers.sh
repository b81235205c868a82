#!/usr/bin/env bash
# Coverage-guided fuzzing of the import parsers (not in CI). Needs cargo-fuzz
# (`cargo install cargo-fuzz --locked`); the stable toolchain is told to accept the nightly
# flags libFuzzer needs with RUSTC_BOOTSTRAP=1.
#   scripts/fuzz-parsers.sh            every target, 60 s each
#   SECONDS_PER_TARGET=600 scripts/fuzz-parsers.sh plan_matrix
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/mejora-fuzz-target}"
seconds="${SECONDS_PER_TARGET:-60}"
# Hostile workbook shapes (far cell, huge counts, deep nesting, zip bombs) as seeds.
python3 scripts/fuzz-seeds-xlsx.py
targets=("$@")
[ ${#targets[@]} -eq 0 ] && mapfile -t targets < <(cargo fuzz list)
for t in "${targets[@]}"; do
  echo "=== $t ($seconds s)"
  cargo fuzz run "$t" -- -max_total_time="$seconds" -rss_limit_mb=2048
done
