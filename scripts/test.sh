#!/usr/bin/env bash
# The one test command (README): installs what is missing, then runs, in order, the format check,
# clippy on the server and on the WASM frontend, the Rust unit and integration tests (against the
# local PostgreSQL, among them the crash tests that SIGKILL and SIGTERM the real binary under load),
# the release build of the whole site, the browser tests against that build running on a fresh
# database (and, for the embedded app's install, a second one configured as the Shopify app against
# a fake Shopify, end2end/fake-shopify.mjs), Schemathesis against the Sync API's OpenAPI
# document (scripts/schemathesis.sh), the read replicas' checks on a primary and replica made for
# the run (scripts/replica-test.sh), and the one-minute soak against that release binary
# (scripts/soak.sh: every hostile load at once, a database restart halfway; it fails on a lost
# write, an answer without the envelope, an unhealthy server or memory kept at the end).
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
# The embedded app's browser tests: the app's test credentials (the fake Shopify knows them too)
# and how many orders the fake Shopify holds for the shop the tests install.
EMBEDDED_API_KEY="e2e-client-id"
EMBEDDED_API_SECRET="e2e-secret-$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
EMBEDDED_ORDERS="${FAKE_SHOPIFY_ORDERS:-5000}"

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
EMBEDDED_PID=""
FAKE_PID=""
E2E_DB="orders_e2e_$(date +%s)_$RANDOM"
EMBEDDED_DB="${E2E_DB}_embedded"
SERVER_LOG="$(mktemp -t orders-sync-e2e.XXXXXX.log)"
EMBEDDED_LOG="$(mktemp -t orders-sync-e2e-embedded.XXXXXX.log)"
FAKE_LOG="$(mktemp -t fake-shopify.XXXXXX.log)"
stop() { # pid
  if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
cleanup() {
  local status=$?
  stop "$SERVER_PID"
  stop "$EMBEDDED_PID"
  stop "$FAKE_PID"
  for db in "$E2E_DB" "$EMBEDDED_DB"; do
    psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [ "$status" -ne 0 ]; then
    for log in "server:$SERVER_LOG" "embedded app's server:$EMBEDDED_LOG" "fake Shopify:$FAKE_LOG"; do
      if [ -s "${log#*:}" ]; then
        echo "---- last lines of the ${log%%:*}'s log ----"
        tail -n 40 "${log#*:}"
      fi
    done
  fi
  rm -f "$SERVER_LOG" "$EMBEDDED_LOG" "$FAKE_LOG"
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

# The embedded app (SPEC §10, end2end/tests/embedded.spec.ts): a fake Shopify (its token
# endpoint, the orders of the GraphQL Admin API, and a stub App Bridge that signs session tokens
# with the test secret), and a second release server configured as the Shopify app against it, on
# a database of its own with no shop in it: the tests install one.
FAKE_PORT="$(free_port)"
FAKE_URL="http://127.0.0.1:$FAKE_PORT"
FAKE_SHOPIFY_PORT="$FAKE_PORT" FAKE_SHOPIFY_ORDERS="$EMBEDDED_ORDERS" \
  FAKE_SHOPIFY_CLIENT_ID="$EMBEDDED_API_KEY" FAKE_SHOPIFY_CLIENT_SECRET="$EMBEDDED_API_SECRET" \
  node end2end/fake-shopify.mjs >"$FAKE_LOG" 2>&1 &
FAKE_PID=$!
wait_for_http "$FAKE_URL/healthz" 30

psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $EMBEDDED_DB"
EMBEDDED_DATABASE_URL="${ADMIN_URL%/*}/$EMBEDDED_DB"
EMBEDDED_ADDR="127.0.0.1:$(free_port)"
EMBEDDED_SECRETS_KEY="$(head -c 32 /dev/urandom | base64)"
embedded_env=(
  DATABASE_URL="$EMBEDDED_DATABASE_URL"
  LEPTOS_SITE_ADDR="$EMBEDDED_ADDR"
  SHOPIFY_API_KEY="$EMBEDDED_API_KEY"
  SHOPIFY_API_SECRET="$EMBEDDED_API_SECRET"
  SECRETS_KEY="$EMBEDDED_SECRETS_KEY"
  SHOPIFY_API_BASE_URL="$FAKE_URL"
  APP_BRIDGE_URL="$FAKE_URL/app-bridge.js?secret=$EMBEDDED_API_SECRET&api_key=$EMBEDDED_API_KEY"
)
env "${embedded_env[@]}" target/release/orders-sync migrate
env "${embedded_env[@]}" target/release/orders-sync serve >"$EMBEDDED_LOG" 2>&1 &
EMBEDDED_PID=$!
for _ in $(seq 1 120); do
  kill -0 "$EMBEDDED_PID" 2>/dev/null || {
    echo "error: the embedded app's server exited while starting" >&2
    exit 1
  }
  curl -fsS -o /dev/null "http://$EMBEDDED_ADDR/healthz" 2>/dev/null && break
  sleep 0.25
done
echo "embedded app: http://$EMBEDDED_ADDR (database $EMBEDDED_DB), fake Shopify: $FAKE_URL ($EMBEDDED_ORDERS orders)"

ORDERS_SYNC_BIN_ABS="$PWD/target/release/orders-sync"
(
  cd end2end &&
    BASE_URL="http://$LEPTOS_SITE_ADDR" \
      EMBEDDED_BASE_URL="http://$EMBEDDED_ADDR" EMBEDDED_DATABASE_URL="$EMBEDDED_DATABASE_URL" \
      EMBEDDED_API_KEY="$EMBEDDED_API_KEY" EMBEDDED_API_SECRET="$EMBEDDED_API_SECRET" \
      EMBEDDED_SECRETS_KEY="$EMBEDDED_SECRETS_KEY" ORDERS_SYNC_BIN="$ORDERS_SYNC_BIN_ABS" \
      FAKE_SHOPIFY_URL="$FAKE_URL" FAKE_SHOPIFY_ORDERS="$EMBEDDED_ORDERS" \
      npx playwright test
)

section "Schemathesis: the Sync API against its OpenAPI document"
ORDERS_SYNC_BIN=target/release/orders-sync TEST_DATABASE_URL="$ADMIN_URL" bash scripts/schemathesis.sh

section "Read replicas: a primary and a streaming replica of its own (scripts/replica-test.sh)"
REPLICA_BENCH_SECONDS=3 BENCH_BIN=target/release/orders-sync bash scripts/replica-test.sh

section "Soak: one minute of every load at once (scripts/soak.sh)"
# The binary the browser tests ran; soak.sh builds only its load generator.
SOAK_MINUTES=1 SOAK_BIN=target/release/orders-sync bash scripts/soak.sh

section "All checks passed"
