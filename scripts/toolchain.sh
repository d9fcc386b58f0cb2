# shellcheck shell=bash
# Installs what building and testing Orders ↔ Sync needs, skipping whatever is already there.
# Sourced by scripts/serve.sh and scripts/test.sh from the repository root; every tool comes from a
# package registry (Rust's, npm's, Debian's), never from a download at build time.

# The versions that work together (see the README's "Decisions").
CARGO_LEPTOS_VERSION="0.3.10"
# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
WASM_BINDGEN_VERSION="${WASM_BINDGEN_VERSION:-0.2.130}"

SCRIPT_STARTED=$SECONDS

# Prints a section header with the time since the script started.
section() {
  local t=$((SECONDS - SCRIPT_STARTED))
  printf '\n==== [%02d:%02d] %s ====\n' $((t / 60)) $((t % 60)) "$*"
}

# Runs a command as root (directly, or through sudo when there is one).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "error: '$*' needs root" >&2
    return 1
  fi
}

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_wasm_target() {
  if [[ $'\n'"$(rustup target list --installed)"$'\n' == *$'\n'wasm32-unknown-unknown$'\n'* ]]; then
    echo "wasm32-unknown-unknown: present"
  else
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_leptos() {
  if [ "$(cargo leptos --version 2>/dev/null || true)" = "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    echo "cargo-leptos $CARGO_LEPTOS_VERSION: present"
  else
    # 15-26 minutes on 2 cores, once; newer releases need a newer rustc.
    echo "installing cargo-leptos $CARGO_LEPTOS_VERSION (once; about 20 minutes)"
    cargo install cargo-leptos@"$CARGO_LEPTOS_VERSION" --locked
  fi
}

ensure_wasm_bindgen() {
  if [ "$(wasm-bindgen --version 2>/dev/null || true)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    echo "wasm-bindgen $WASM_BINDGEN_VERSION: present"
  else
    # Without --locked: the crate's own lockfile names a webpki-roots release the registry lacks.
    echo "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (once; about 9 minutes)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
}

# Tailwind, wasm-opt (npm binaryen) and Playwright, exactly as package-lock.json pins them.
ensure_node_modules() {
  if ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  local want have
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  have="$(cat node_modules/.lock-sha256 2>/dev/null || true)"
  if [ -d node_modules ] && [ "$want" = "$have" ]; then
    echo "node_modules: up to date"
  else
    npm ci --no-audit --no-fund
    echo "$want" >node_modules/.lock-sha256
  fi
  ensure_fonts
}

# The fonts the stylesheet names (style/tailwind.css: Polaris's Inter, the variable font's latin
# subsets) into public/fonts, which cargo-leptos copies to the site: Tailwind inlines the npm
# package's CSS but not its font files. Without them the page falls back to system fonts.
ensure_fonts() {
  local from=node_modules/@fontsource-variable/inter/files file
  mkdir -p public/fonts
  for file in inter-latin-wght-normal.woff2 inter-latin-ext-wght-normal.woff2; do
    cmp -s "$from/$file" "public/fonts/$file" || cp "$from/$file" "public/fonts/$file"
  done
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
  else
    apt_install chromium
  fi
}

# Answers when something listens on host:port.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

ensure_psql() {
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
}

# Starts the local PostgreSQL when nothing answers on 127.0.0.1:5432, installing it if needed.
ensure_local_postgres() {
  if port_open 127.0.0.1 5432; then
    echo "postgresql: answering on 127.0.0.1:5432"
    return
  fi
  local installed_now=0
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
    installed_now=1
  fi
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  if [ "$installed_now" -eq 1 ]; then
    # A cluster this script just installed: let the local tests connect as postgres without a password.
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+$/\1trust/' \
      "/etc/postgresql/$version/main/pg_hba.conf"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  for _ in $(seq 1 60); do
    port_open 127.0.0.1 5432 && return
    sleep 0.5
  done
  echo "error: PostgreSQL did not start on 127.0.0.1:5432" >&2
  return 1
}

# A free TCP port on the loopback interface.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    port_open 127.0.0.1 "$port" || {
      echo "$port"
      return
    }
  done
  echo "error: no free port found" >&2
  return 1
}

# Waits until url answers 2xx, or fails after the given seconds.
wait_for_http() {
  local url=$1 seconds=$2
  for _ in $(seq 1 $((seconds * 4))); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return
    sleep 0.25
  done
  echo "error: $url did not answer within ${seconds}s" >&2
  return 1
}

# Stops with a hint unless the release build (server and site) is there.
require_release_build() {
  [ -x target/release/orders-sync ] && [ -f target/site/pkg/orders-sync.wasm ] || {
    echo "error: build first: cargo leptos build --release" >&2
    exit 1
  }
}

# Reads numbers, one a line, and prints their median and p95 ("12.345 15.678"); nothing for none.
median_p95() {
  sort -n | awk '{ t[NR] = $1 } END { if (NR) printf "%.3f %.3f\n", t[int((NR + 1) / 2)], t[int(NR * 0.95 + 0.5)] }'
}

# Time to first byte of a GET of URL, in ms: "median p95" over RUNS requests after five warm-up
# ones. Answers other than 200 are counted on stderr under LABEL.
ttfb_median_p95() { # label url runs
  local samples
  for _ in 1 2 3 4 5; do curl -s -o /dev/null "$2"; done
  samples="$(for _ in $(seq 1 "$3"); do
    curl -s -o /dev/null -w '%{http_code} %{time_starttransfer}\n' "$2"
  done)"
  if grep -qv '^200 ' <<<"$samples"; then
    echo "$1: some answers were not 200:" >&2
    grep -v '^200 ' <<<"$samples" | sort | uniq -c >&2
  fi
  awk '{ printf "%.3f\n", $2 * 1000 }' <<<"$samples" | median_p95
}

# Starts the release server on a free port with the current DATABASE_URL, quietly; sets
# LEPTOS_SITE_ADDR and SERVER_PID, stops it when the script exits, and waits until it answers.
start_release_server() {
  LEPTOS_SITE_ADDR="127.0.0.1:$(free_port)"
  export LEPTOS_SITE_ADDR RUST_LOG=warn
  "${BIN:-target/release/orders-sync}" serve >/dev/null 2>&1 &
  SERVER_PID=$!
  trap 'kill $SERVER_PID 2>/dev/null || true' EXIT
  wait_for_http "http://$LEPTOS_SITE_ADDR/healthz" 30
}
