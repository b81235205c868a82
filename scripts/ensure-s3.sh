#!/usr/bin/env bash
# Installs the S3-protocol server the evidence-store tests run against (tests/api/s3.rs starts
# it on the loopback): `s3s-fs`, a small S3 implementation over a directory, from crates.io.
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail
VERSION="0.14.1"
BIN="${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "$VERSION"; then
    echo "s3s-fs $VERSION already installed at $BIN"
    exit 0
fi
# Its own target directory: the project's build cache is not touched.
CARGO_TARGET_DIR="${S3S_TARGET_DIR:-$HOME/.cache/s3s-fs-target}" \
    cargo install s3s-fs --version "$VERSION" --features binary --locked --quiet
"$BIN" --version
