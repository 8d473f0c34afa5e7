#!/usr/bin/env bash
# Property-based fuzz of the BFF from its own OpenAPI document (schemathesis): the real server
# binary in dev mode on a fresh SQLite, logged in as a demo customer, every operation called with
# generated valid and invalid input for a bounded time. Fails on any 5xx and on any answer the
# document does not describe (status code, content type, body schema).
#
#   scripts/fuzz-bff.sh              # build first: cargo build -p mm-server --bin minimodules
#   FUZZ_BFF_SECONDS=300 scripts/fuzz-bff.sh
#
# Logout is left out: it would end the fuzz customer's session and leave every later call a 401.
# One worker: with two threads, Hypothesis's description of its own filters (ast.parse) now and
# then dies inside CPython 3.11 with "AST constructor recursion depth mismatch", a runtime error
# of the tool that failed CI runs whose every generated case had passed.
# Installs schemathesis (pinned) into tools/.venv on first use. The report (with a pytest file
# reproducing each failure) is left in $FUZZ_BFF_REPORT_DIR, target/fuzz-bff by default.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SCHEMATHESIS_VERSION=4.32.5
seconds=${FUZZ_BFF_SECONDS:-90}
bin=${MM_SERVER_BIN:-${CARGO_TARGET_DIR:-target}/debug/minimodules}
report=${FUZZ_BFF_REPORT_DIR:-${CARGO_TARGET_DIR:-target}/fuzz-bff}
appid=wx0123456789abcdef

[ -x "$bin" ] || { echo "no server binary at $bin: cargo build -p mm-server --bin minimodules" >&2; exit 1; }
bin=$(realpath "$bin")
if [ "$(tools/.venv/bin/schemathesis --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into tools/.venv"
  python3 -m venv tools/.venv
  tools/.venv/bin/pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

dir=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

# Dev mode: the demo restaurant and the WeChat fake are there; ports chosen by the OS. exec: $!
# is then the server itself, which cleanup stops (killing a subshell would leave it running).
(
  cd "$dir"
  exec env -u RUST_LOG $(env | grep -o '^MINIMODULES_[A-Z0-9_]*' | sed 's/^/-u /') \
    MINIMODULES_ENVIRONMENT=dev \
    MINIMODULES_DATABASE__URL="sqlite://$dir/mm.db?mode=rwc" \
    MINIMODULES_SERVER__GRPC_ADDR=127.0.0.1:0 \
    MINIMODULES_SERVER__HTTP_ADDR=127.0.0.1:0 \
    MINIMODULES_LOG__FORMAT=json \
    MINIMODULES_LOG__FILTER=warn \
    "$bin" serve >"$dir/stdout" 2>"$dir/stderr"
) &
server=$!
http=
for _ in $(seq 1 600); do
  http=$(sed -n 's/.*HTTP (BFF)[[:space:]]*:[[:space:]]*\(http[^[:space:]]*\).*/\1/p' "$dir/stdout" 2>/dev/null | head -1 || true)
  [ -n "$http" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$dir/stderr" >&2; echo "the server did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$http" ] || { cat "$dir/stderr" >&2; echo "the server did not start in 60 s" >&2; exit 1; }

token=$(curl -fsS -X POST "$http/api/v1/auth/dev-login" \
  -H "X-WeChat-Appid: $appid" -H 'content-type: application/json' -d '{"openid": "fuzz"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["tokens"]["access_token"])')

log "fuzzing the BFF from its OpenAPI document for ${seconds}s ($http)"
mkdir -p "$report"
status=0
tools/.venv/bin/schemathesis run "$http/api/openapi.json" \
  --url "$http" \
  --header "Authorization: Bearer $token" \
  --header "X-WeChat-Appid: $appid" \
  --exclude-path /api/v1/auth/logout \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-time "$seconds" \
  --workers 1 \
  --request-timeout 10 \
  --generation-database none \
  --suppress-health-check all \
  --report junit,pytest --report-dir "$report" \
  --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "server log (last 50 lines):" >&2
  tail -n 50 "$dir/stderr" >&2
fi
exit "$status"
