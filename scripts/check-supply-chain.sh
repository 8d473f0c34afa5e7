#!/usr/bin/env bash
# Supply chain: cargo deny checks licenses, bans (wildcards; duplicate versions reported) and
# sources against deny.toml, and advisories against RustSec's database; npm audit checks the
# dashboard's and the mini-program's packages for high or critical advisories.
#
# Advisory databases live on the network. RustSec's is a git repository on GitHub: it is fetched
# when reachable, else the copy cargo-deny keeps in $CARGO_HOME/advisory-dbs is used, or one given
# as MM_ADVISORY_DB (a clone of github.com/rustsec/advisory-db). npm's is the registry's audit
# endpoint. A check whose database cannot be had says so loudly and is not counted as passed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_rust
ensure_cargo_deny

cargo deny --locked check --hide-inclusion-graph bans licenses sources

db_root="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
# cargo-deny's own directory for the default database URL.
db_dir="$db_root/advisory-db-3157b0e258782691"
if [ -n "${MM_ADVISORY_DB:-}" ] && [ ! -d "$db_dir" ]; then
  mkdir -p "$db_root"
  git clone -q "$MM_ADVISORY_DB" "$db_dir"
fi
db_date() { git -C "$db_dir" log -1 --format=%cs 2>/dev/null || echo "?"; }
if timeout 60 cargo deny --locked check advisories 2>/tmp/mm-deny-advisories.log; then
  echo "Rust advisories ok (RustSec database of $(db_date))"
elif [ -d "$db_dir" ]; then
  # Not reachable: the kept copy, as of its last commit.
  echo "advisory database not reachable; checking against the kept copy of $(db_date)"
  cargo deny --offline check advisories
else
  cat /tmp/mm-deny-advisories.log >&2
  if grep -q "vulnerability\|unmaintained\|yanked" /tmp/mm-deny-advisories.log; then exit 1; fi
  echo "WARNING: Rust advisories NOT checked: RustSec's database is not reachable and no copy is kept (set MM_ADVISORY_DB)" >&2
fi

for app in web-admin weapp; do
  if out=$(cd "$app" && npm audit --audit-level=high --omit=dev 2>&1); then
    echo "npm audit ($app): no high or critical advisories"
  elif grep -q "audit endpoint returned an error\|ENOTFOUND\|ECONNREFUSED\|EAI_AGAIN" <<<"$out"; then
    echo "WARNING: npm audit ($app) NOT checked: the registry's audit endpoint is not reachable" >&2
  else
    echo "$out" >&2
    exit 1
  fi
done
