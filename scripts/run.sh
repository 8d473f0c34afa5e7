#!/usr/bin/env bash
# Builds and starts the whole platform on the embedded default: SQLite under ./data, the
# in-process cache, the demo restaurant seeded, the admin dashboard at http://localhost:8080/admin/.
# Extra arguments go to `minimodules serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
build_web_admin
log "building (release)"
cargo build --release --locked -p mm-server
exec target/release/minimodules serve "$@"
