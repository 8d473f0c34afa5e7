#!/usr/bin/env bash
# Runs every test of the project: contract lint, formatting, clippy, compose.yaml and the
# Kubernetes manifests (rendered, then checked against the API's schemas and the deployment's
# rules), the architecture rule, unit tests, the integration suite twice — on the embedded default
# (SQLite + in-process cache) and on PostgreSQL + Redis — the admin dashboard's unit tests
# (Vitest) and end-to-end tests (headless Chromium against the real server), the mini-program's
# type-check, unit, page and contract tests (once against the all-in-one binary, once through the
# service mesh: a process per module, two ordering replicas, a BFF-only process), and two
# bounded fuzzes: the gRPC request decoders
# and the WeChat Pay notification parser (property-based, inside the workspace tests) and the BFF
# from its OpenAPI document (schemathesis against the real binary, FUZZ_BFF_SECONDS, 90 by
# default). Installs and starts what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust_lints
ensure_cargo_deny
ensure_node_tools
ensure_weapp
ensure_postgres
ensure_redis
ensure_web_admin
ensure_chromium

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
for profile in all-in-one mesh; do
  MINIMODULES_AUTH__JWT_SECRET=validate-only MINIMODULES_SECRETS__KEY=validate-only \
    MINIMODULES_SERVER__PUBLIC_URL=https://validate.example \
    "${compose[@]}" --profile "$profile" -f compose.yaml config -q
done

log "Kubernetes manifests"
scripts/check-k8s.sh

log "architecture rules"
scripts/check-architecture.sh

log "the one-command scripts: cargo alone runs, an old Node.js is caught"
scripts/check-scripts.sh

log "supply chain: cargo deny (advisories, licenses, duplicates, sources), npm audit"
scripts/check-supply-chain.sh

log "admin dashboard: type check, build and unit tests (Vitest)"
npm --prefix web-admin run build
npm --prefix web-admin test

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

log "admin dashboard end-to-end tests (headless Chromium, real server)"
cargo build --locked -p mm-server --bin minimodules
npm --prefix web-admin run e2e

log "BFF fuzz from its OpenAPI document (schemathesis, real server, bounded)"
scripts/fuzz-bff.sh

log "mini-program contract test against the real server binary"
(cd weapp && npm run test:contract)

log "mesh: each module its own process, two ordering replicas, a BFF-only process (PostgreSQL + Redis)"
# The contract tests again, through the mesh; then orders under connection recycling. See
# crates/testkit/src/bin/mesh.rs.
cargo build --locked -p mm-testkit --bin mesh
target_dir=${CARGO_TARGET_DIR:-target}
"$target_dir/debug/mesh" "$target_dir/debug/minimodules" -- \
  npm --prefix weapp run test:contract -- --no-file-parallelism

log "module plug-in: an example module added by new files and its registration lines alone"
scripts/check-module-plugin.sh
