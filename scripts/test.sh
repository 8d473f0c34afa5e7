#!/usr/bin/env bash
# Runs every test of the project: contract lint, formatting, clippy, the architecture rule, unit
# tests, the integration suite twice — on the embedded default (SQLite + in-process cache) and
# on PostgreSQL + Redis — and the mini-program's type-check, unit, page and contract tests.
# Installs and starts what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust
ensure_node_tools
ensure_weapp
ensure_postgres
ensure_redis

log "buf lint (contracts)"
tools/node_modules/.bin/buf lint

log "rustfmt"
cargo fmt --all --check

log "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "compose.yaml"
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else
  command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
  compose=(docker-compose)
fi
MINIMODULES_AUTH__JWT_SECRET=validate-only MINIMODULES_SECRETS__KEY=validate-only \
  "${compose[@]}" -f compose.yaml config -q

log "architecture rules"
scripts/check-architecture.sh

log "mini-program: generated types, module registry, strict type-check, lint, unit and page tests"
(cd weapp && npm run gen:api && npm run modules:check && npm run typecheck && npm run lint && npm run test:unit)

if cargo nextest --version >/dev/null 2>&1; then
  run_tests() { cargo nextest run --locked --no-fail-fast "$@"; }
else
  run_tests() { cargo test --locked --no-fail-fast "$@"; }
fi

log "unit and integration tests on SQLite + in-process cache"
MM_TEST_BACKEND=sqlite run_tests --workspace

log "integration tests on PostgreSQL + Redis"
MM_TEST_BACKEND=postgres run_tests -p mm-server

log "mini-program contract test against the real server binary"
# The integration tests above built target/debug/minimodules; build it only when they did not.
[ -x target/debug/minimodules ] || cargo build --locked -p mm-server --bin minimodules
(cd weapp && npm run test:contract)
