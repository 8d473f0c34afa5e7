# Shared by scripts/run.sh and scripts/test.sh: installs what the project needs from its own
# files and the machine's package registries, and starts local services the tests use.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

# Building and running needs cargo only (rustup or Debian's cargo alike).
ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is not installed: install Rust (https://rustup.rs, or Debian's cargo) and retry" >&2
    exit 1
  fi
}

# The tests also lint: clippy and rustfmt, added with rustup when it manages the toolchain.
ensure_rust_lints() {
  ensure_rust
  for c in clippy fmt; do
    if ! cargo "$c" --version >/dev/null 2>&1; then
      if command -v rustup >/dev/null 2>&1; then
        log "installing rust component $c"
        rustup component add "$([ "$c" = fmt ] && echo rustfmt || echo clippy)"
      else
        echo "cargo $c is missing: install it (Debian: apt install rust-clippy rustfmt) and retry" >&2
        exit 1
      fi
    fi
  done
}

# cargo-deny, for the supply-chain checks, built once into cargo's bin directory.
ensure_cargo_deny() {
  if ! cargo deny --version >/dev/null 2>&1; then
    log "installing cargo-deny"
    cargo install cargo-deny --locked
  fi
}

ensure_node_tools() {
  if [ ! -x tools/node_modules/.bin/buf ]; then
    ensure_npm
    log "installing command-line tools from tools/package-lock.json"
    # Not `npm ci`: the registry this machine reaches lacks buf's macOS/Windows builds, so the
    # lockfile holds only the Linux ones and `npm ci` calls it out of sync. `npm install` follows
    # the lockfile and leaves it unchanged.
    npm install --prefix tools --no-audit --no-fund
  fi
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing PostgreSQL"
    apt_install postgresql
  fi
  log "starting PostgreSQL"
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return
    sleep 1
  done
  echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2
  exit 1
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing Redis"
    apt_install redis-server
  fi
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return
    sleep 1
  done
  echo "Redis did not come up on 127.0.0.1:6379" >&2
  exit 1
}

# Node.js 20.19 or newer, which Vite and Vitest need. Debian's packages give a node and npm where
# there is none; where the node is older, Node.js 22 comes from the npm registry (the
# node-linux-<arch> package) into .cache/node and goes first on PATH for this script.
node_recent() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}
ensure_npm() {
  if ! command -v npm >/dev/null 2>&1; then
    log "installing Node.js and npm"
    apt_install nodejs npm
  fi
  if ! node_recent; then
    local arch dir=.cache/node
    case "$(uname -m)" in aarch64 | arm64) arch=arm64 ;; *) arch=x64 ;; esac
    if [ ! -x "$dir/node_modules/node-linux-$arch/bin/node" ]; then
      log "Node.js $(node --version 2>/dev/null || echo '(none)') is older than 20.19: installing Node.js 22"
      npm install --prefix "$dir" --no-save --no-audit --no-fund "node-linux-$arch@22"
    fi
    export PATH="$PWD/$dir/node_modules/node-linux-$arch/bin:$PATH"
  fi
}

# The dashboard's packages, from web-admin/package-lock.json, when missing or out of date.
ensure_web_admin() {
  ensure_npm
  if [ ! -f web-admin/node_modules/.package-lock.json ] ||
    [ web-admin/package-lock.json -nt web-admin/node_modules/.package-lock.json ]; then
    log "installing the dashboard's packages (npm ci in web-admin)"
    npm ci --prefix web-admin --no-audit --no-fund
  fi
}

# Builds web-admin/dist unless it is newer than everything it is built from.
build_web_admin() {
  ensure_web_admin
  if [ -f web-admin/dist/index.html ] && [ -z "$(find web-admin/src web-admin/index.html \
    web-admin/package-lock.json web-admin/vite.config.ts web-admin/buf.gen.yaml proto \
    -newer web-admin/dist/index.html -print -quit)" ]; then
    return
  fi
  log "building the admin dashboard (web-admin/dist)"
  npm --prefix web-admin run build
}

# Debian's Chromium, which the dashboard's end-to-end tests drive with playwright-core.
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Chromium"
    apt_install chromium
  fi
  # Screenshots for the docs need CJK glyphs (the tests pass without them).
  if [ -n "${MM_SCREENSHOTS:-}" ] && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
    log "installing CJK fonts for the screenshots"
    apt_install fonts-noto-cjk
  fi
}

# The mini-program's tools, from weapp/package-lock.json, when missing or out of date.
ensure_weapp() {
  ensure_npm
  if [ ! -x weapp/node_modules/.bin/vitest ] || [ weapp/package-lock.json -nt weapp/node_modules/.package-lock.json ]; then
    log "installing the mini-program's tools from weapp/package-lock.json"
    # `npm ci` also runs `prepare`, which generates the client's types from weapp/openapi.json.
    npm ci --prefix weapp --no-audit --no-fund
  fi
}
