#!/usr/bin/env bash
# Proves that a business module plugs in by its own new files and its registration lines alone
# (issue 16): copies this checkout into a scratch git repository, adds the example module from
# scripts/example-module/ (a contract, a crate with its migration, gRPC service, JSON route with
# its OpenAPI path, demo data, and an admin routes file), adds the registration lines, and checks
#   1. `git diff --stat`: nothing changed but new files, the server's one module line and its
#      one dependency line (and Cargo.lock, which cargo writes);
#   2. the server builds, starts on SQLite with the demo shop, and serves the module end to end:
#      the migration ran, the demo data is there, the BFF route answers through the module's
#      gRPC service, and /api/openapi.json documents the route.
# Shares this checkout's target directory, so only our own crates are compiled again; the
# server binary it leaves there is this checkout's again when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
root=$PWD
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
scratch=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$scratch"
  # The scratch build wrote its binary (with the example module) where this checkout's goes:
  # put this checkout's back (nothing is compiled when it is up to date).
  (cd "$root" && cargo build -q --locked -p mm-server --bin minimodules) || true
}
trap cleanup EXIT

tree=$scratch/tree
mkdir -p "$tree"
# The checkout as it is (tracked files, uncommitted edits included), as the base commit.
git ls-files -z | xargs -0 cp --parents -t "$tree"
cd "$tree"
git init -q
git add -A
git -c user.name=check -c user.email=check@localhost commit -qm base

cp -r "$root/scripts/example-module/." .
# The registration: one line in the module list, the crate as the server's dependency.
python3 - <<'PY'
import re
p = "crates/server/src/modules.rs"
s = open(p).read()
s, n = re.subn(r"(pub fn all\(\) -> Vec<ModuleDef> \{\n    vec!\[\n(?:        .*\n)*?)(    \])", r"\1        mm_example::module(),\n\2", s)
assert n == 1, "the module list in modules.rs has changed shape"
open(p, "w").write(s)
p = "crates/server/Cargo.toml"
s = open(p).read()
s = s.replace("[dependencies]\n", '[dependencies]\nmm-example = { path = "../modules/example" }\n', 1)
open(p, "w").write(s)
PY

log "building the server with the example module"
CARGO_TARGET_DIR=$target_dir cargo build -q -p mm-server --bin minimodules

git add -A
git diff --cached --stat
git diff --cached --numstat --diff-filter=MDR | python3 -c '
import sys
allowed = {"crates/server/src/modules.rs", "crates/server/Cargo.toml"}
bad = []
for line in sys.stdin:
    added, deleted, path = line.rstrip("\n").split("\t")
    if path == "Cargo.lock":
        continue  # written by cargo
    if path not in allowed or added != "1" or deleted != "0":
        bad.append(f"{path}: +{added} -{deleted}")
if bad:
    print("adding the example module changed existing files beyond its registration lines:\n  " + "\n  ".join(bad))
    sys.exit(1)
print("module plug-in: only new files and the registration lines changed")
'

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
http_port=$(port)
grpc_port=$(port)
mkdir -p "$scratch/run"
(cd "$scratch/run" && exec env MINIMODULES_DATABASE__URL="sqlite://$scratch/run/mm.db?mode=rwc" \
  MINIMODULES_SERVER__HTTP_ADDR="127.0.0.1:$http_port" MINIMODULES_SERVER__GRPC_ADDR="127.0.0.1:$grpc_port" \
  MINIMODULES_DEMO__SEED=true MINIMODULES_LOG__FILTER=warn \
  "$target_dir/debug/minimodules" serve >"$scratch/run/server.log" 2>&1) &
server=$!
base=http://127.0.0.1:$http_port
for _ in $(seq 240); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
curl -fsS "$base/readyz" >/dev/null || {
  cat "$scratch/run/server.log" >&2
  echo "the server with the example module did not become ready" >&2
  exit 1
}
greeting=$(curl -fsS -H 'X-WeChat-Appid: wx0123456789abcdef' "$base/api/v1/example/greeting")
[ "$greeting" = '{"text":"欢迎光临"}' ] || {
  echo "the example route answered $greeting" >&2
  exit 1
}
curl -fsS "$base/api/openapi.json" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
assert "/api/v1/example/greeting" in doc["paths"], "the example route is not in the OpenAPI document"
assert "GreetingDto" in doc["components"]["schemas"], "the example schema is not in the OpenAPI document"
'
echo "module plug-in: the example module serves its route, migration, demo data and OpenAPI path"
