#!/usr/bin/env bash
# The one test command (README): installs what is missing, then runs, in order, the format check,
# clippy on the server and on the WASM frontend, the Rust unit and integration tests (against the
# local PostgreSQL, among them the crash tests that SIGKILL and SIGTERM the real binary under load),
# the release build of the whole site, the browser tests against that build running on a fresh
# database, and Schemathesis against the Sync API's OpenAPI document (scripts/schemathesis.sh).
# Stops at the first failure with a non-zero exit.
#
# Environment: TEST_DATABASE_URL (or DATABASE_URL), the admin connection the tests create their
# databases through; default postgres://postgres@127.0.0.1:5432/postgres.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

ADMIN_URL="${TEST_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
E2E_SHOP="e2e.myshopify.com"
E2E_ORDERS=300
E2E_ACTIONS_SHOP="e2e-actions.myshopify.com"

section "Tools"
ensure_wasm_target
ensure_cargo_leptos
ensure_wasm_bindgen
ensure_node_modules
ensure_chromium
command -v curl >/dev/null 2>&1 || apt_install curl
case "$ADMIN_URL" in
  *@127.0.0.1:5432/* | *@localhost:5432/*) ensure_local_postgres ;;
esac
ensure_psql

section "cargo fmt --check"
cargo fmt --all -- --check

section "clippy: core and server (all targets)"
cargo clippy -p orders-core -p app -p server --all-targets -- -D warnings

section "clippy: frontend (wasm32)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

# Each integration test creates its own database (orders_test_*); drop them afterwards, and any an
# interrupted run left behind.
drop_test_databases() {
  psql "$ADMIN_URL" -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'orders\_test\_%' OR datname LIKE 'orders\_e2e\_%'" |
    while read -r db; do
      if [ -n "$db" ]; then psql "$ADMIN_URL" -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null; fi
    done
}

section "Rust tests: unit and integration (on PostgreSQL)"
drop_test_databases
TEST_DATABASE_URL="$ADMIN_URL" DATABASE_URL="$ADMIN_URL" \
  cargo test --workspace --exclude frontend
drop_test_databases

section "cargo leptos build --release"
cargo leptos build --release

section "Browser tests"
SERVER_PID=""
E2E_DB="orders_e2e_$(date +%s)_$RANDOM"
SERVER_LOG="$(mktemp -t orders-sync-e2e.XXXXXX.log)"
cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $E2E_DB WITH (FORCE)" >/dev/null 2>&1 || true
  if [ "$status" -ne 0 ] && [ -s "$SERVER_LOG" ]; then
    echo "---- last lines of the server's log ----"
    tail -n 40 "$SERVER_LOG"
  fi
  rm -f "$SERVER_LOG"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $E2E_DB"
export DATABASE_URL="${ADMIN_URL%/*}/$E2E_DB"
PORT="$(free_port)"
export LEPTOS_SITE_ADDR="127.0.0.1:$PORT"
unset USE_MOCK_DATA DASHBOARD_SHOP

target/release/orders-sync migrate
target/release/orders-sync seed --shop "$E2E_SHOP" --orders "$E2E_ORDERS"
target/release/orders-sync seed --shop "$E2E_ACTIONS_SHOP" --orders 200
target/release/orders-sync seed --shop e2e-live.myshopify.com --orders 120
target/release/orders-sync serve >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  kill -0 "$SERVER_PID" 2>/dev/null || {
    echo "error: the server exited while starting" >&2
    exit 1
  }
  curl -fsS -o /dev/null "http://$LEPTOS_SITE_ADDR/healthz" 2>/dev/null && break
  sleep 0.25
done
echo "server: http://$LEPTOS_SITE_ADDR (database $E2E_DB)"

(cd end2end && BASE_URL="http://$LEPTOS_SITE_ADDR" npx playwright test)

section "Schemathesis: the Sync API against its OpenAPI document"
ORDERS_SYNC_BIN=target/release/orders-sync TEST_DATABASE_URL="$ADMIN_URL" bash scripts/schemathesis.sh

section "All checks passed"
