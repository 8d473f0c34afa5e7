#!/usr/bin/env bash
# Benchmarks the platform against a hello-world yardstick measured in the same run.
#   bench/run.sh            # 10 s per case
#   BENCH_SECONDS=20 bench/run.sh
#   BENCH_REDIS=1 bench/run.sh   # the platform with Redis instead of the in-process cache
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

SECONDS_PER_CASE=${BENCH_SECONDS:-10}
command -v wrk >/dev/null 2>&1 || apt_install wrk
ensure_rust

log "building release binaries"
cargo build --release --locked -p mm-server -p mm-bench

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
GRPC_PORT=$(free_port); HTTP_PORT=$(free_port); HELLO_PORT=$(free_port)
TMP=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

export MINIMODULES_SERVER__GRPC_ADDR=127.0.0.1:$GRPC_PORT
export MINIMODULES_SERVER__HTTP_ADDR=127.0.0.1:$HTTP_PORT
export MINIMODULES_DATABASE__URL="sqlite://$TMP/mm.db?mode=rwc"
export MINIMODULES_LOG__FILTER=warn
export MINIMODULES_DEMO__SEED=true
cache="in-process"
if [ "${BENCH_REDIS:-0}" = 1 ]; then
  ensure_redis
  export MINIMODULES_CACHE__REDIS_URL=redis://127.0.0.1:6379
  export MINIMODULES_CACHE__NAMESPACE=bench-$$
  cache="redis"
fi
(cd "$TMP" && exec "$OLDPWD/target/release/minimodules" serve >"$TMP/server.log" 2>&1) &
pids+=($!)
target/release/yardstick --addr "127.0.0.1:$HELLO_PORT" &
pids+=($!)

BOOT="http://127.0.0.1:$HTTP_PORT/api/v1/app/config?appid=wx0123456789abcdef"
HELLO="http://127.0.0.1:$HELLO_PORT/hello"
for _ in $(seq 1 120); do
  curl -fsS "$BOOT" >/dev/null 2>&1 && curl -fsS "$HELLO" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "$BOOT" >/dev/null || { echo "the platform did not come up"; cat "$TMP/server.log"; exit 1; }

# wrk prints e.g. "Requests/sec:  123456.78" and, with --latency, "     99%    1.23ms".
run_wrk() {
  local out
  out=$(wrk -t2 -c64 -d"${SECONDS_PER_CASE}s" --latency "$1")
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rps $p99"
}

MENU="http://127.0.0.1:$HTTP_PORT/api/v1/menu?appid=wx0123456789abcdef"
# A demo customer (the dev login) and a basket of one unlimited item from the demo menu.
export BENCH_APPID=wx0123456789abcdef
export BENCH_TOKEN=$(curl -fsS -X POST -H "X-WeChat-Appid: $BENCH_APPID" -H 'content-type: application/json' \
  -d '{"openid": "bench-customer"}' "http://127.0.0.1:$HTTP_PORT/api/v1/auth/dev-login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens"]["access_token"])')
export BENCH_BODY=$(curl -fsS "$MENU" | python3 -c '
import json, sys
menu = json.load(sys.stdin)
p = next(p for s in menu["sections"] for p in s["products"] if any(k["available"] for k in p["skus"]) and p["name_zh"] == "扬州炒饭")
print(json.dumps({"items": [{"product_id": p["id"], "sku_id": p["skus"][0]["id"], "quantity": 1}], "fulfilment": {"mode": "takeaway"}}))')

# Orders are writes (one SQLite writer): 16 connections, like a busy lunch hour, not 64.
run_orders() {
  local out
  out=$(wrk -t2 -c16 -d"${SECONDS_PER_CASE}s" --latency -s bench/create_order.lua "http://127.0.0.1:$HTTP_PORT")
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rps $p99"
}

log "yardstick (1/2)"; read -r y1 y1p99 < <(run_wrk "$HELLO")
log "boot config (cached)"; read -r boot bootp99 < <(run_wrk "$BOOT")
log "menu (cached)"; read -r menu menup99 < <(run_wrk "$MENU")
log "create order"; read -r orders ordersp99 < <(run_orders)
log "yardstick (2/2)"; read -r y2 y2p99 < <(run_wrk "$HELLO")
log "gRPC GetAppConfig"
grpc_line=$(target/release/grpc-load --url "http://127.0.0.1:$GRPC_PORT" --connections 4 --concurrency 64 --duration "$SECONDS_PER_CASE" --json "$TMP/grpc.json")
echo "$grpc_line"
grpc_rps=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["rps"]))' "$TMP/grpc.json")
grpc_p99=$(python3 -c 'import json,sys; print("%.2fms" % json.load(open(sys.argv[1]))["p99_ms"])' "$TMP/grpc.json")

log "gRPC booking: availability and holds"
booking_line=$(target/release/booking-load --url "http://127.0.0.1:$GRPC_PORT" --connections 4 --concurrency 16 --duration "$SECONDS_PER_CASE" --json "$TMP/booking.json")
echo "$booking_line"
bk() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))[sys.argv[2]]; print(round(r["rps"]), "%.2fms" % r["p99_ms"])' "$TMP/booking.json" "$1"; }
read -r slots_rps slots_p99 < <(bk slots)
read -r holds_rps holds_p99 < <(bk holds)

yard=$(python3 -c "print(round(($y1 + $y2) / 2))")
ratio=$(python3 -c "print('%.2f' % ($boot / (($y1 + $y2) / 2)))")
verdict=$(python3 -c "print('met' if $boot >= ($y1 + $y2) / 4 else 'MISSED')")
menu_ratio=$(python3 -c "print('%.2f' % ($menu / (($y1 + $y2) / 2)))")

mkdir -p bench/results
report=$(cat <<MD
## MiniModules benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, cache: $cache)

| case | req/s | p99 |
|---|---|---|
| yardstick: axum hello JSON (mean of 2 runs: $y1, $y2) | $yard | $y1p99 / $y2p99 |
| BFF boot config GET /api/v1/app/config (cached) | $(printf '%.0f' "$boot") | $bootp99 |
| BFF menu GET /api/v1/menu (cached per menu version) | $(printf '%.0f' "$menu") | $menup99 |
| BFF create order POST /api/v1/orders (16 conns; priced, stock reserved, numbered) | $(printf '%.0f' "$orders") | $ordersp99 |
| gRPC TenantService.GetAppConfig (4 conns x 64 in flight) | $grpc_rps | $grpc_p99 |
| gRPC BookingService.ListAvailableSlots, 7 days (16 in flight) | $slots_rps | $slots_p99 |
| gRPC BookingService.HoldReservation (16 in flight; capacity taken in the database) | $holds_rps | $holds_p99 |

Boot config / yardstick = $ratio (target >= 0.50: $verdict); menu / yardstick = $menu_ratio. wrk -t2 -c64 -d${SECONDS_PER_CASE}s; everything on this machine.
MD
)
echo "$report" | tee bench/results/latest.md
