#!/usr/bin/env bash
# The one-command scripts' own promises, checked without running them in full:
# - building and running needs cargo alone (rustup is for the tests' lints only);
# - the Node.js version check takes 20.19 and newer, and refuses anything older.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ln -s "$(command -v cargo)" "$bin/cargo"
# A PATH with cargo and the basic tools, and no rustup.
PATH="$bin:/usr/bin:/bin" bash -c '. scripts/lib.sh; ! command -v rustup >/dev/null && ensure_rust' ||
  { echo "ensure_rust needs more than cargo" >&2; exit 1; }

# node_recent against a node that reports the given version.
for case in "20.19.0 yes" "22.1.0 yes" "20.18.3 no" "18.19.1 no"; do
  set -- $case
  cat >"$bin/node" <<SHIM
#!/bin/sh
exec "$(command -v node)" -e "Object.defineProperty(process.versions, 'node', { value: '$1' }); \$2"
SHIM
  chmod +x "$bin/node"
  if PATH="$bin:$PATH" bash -c '. scripts/lib.sh; node_recent'; then got=yes; else got=no; fi
  [ "$got" = "$2" ] || { echo "node_recent for Node.js $1: $got, expected $2" >&2; exit 1; }
done
echo "scripts: run.sh needs cargo only; Node.js older than 20.19 is caught"
