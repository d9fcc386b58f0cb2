#!/usr/bin/env bash
# Fuzzes the Sync API against its own OpenAPI document (GET /sync/openapi.json) with Schemathesis:
# the debug server on a fresh database seeded with 200 orders of acme.myshopify.com, every
# operation of the document, and fails on any server error (5xx), any status code the document
# does not list for the operation, and any response (body, content type, documented headers) that
# does not match the document.
#
# Installs Schemathesis (pinned) into a virtual environment under the target directory once, and
# skips that when it is there. The database is dropped and the server stopped at the end,
# whatever happens.
#
# Environment:
#   SCHEMATHESIS_MAX_EXAMPLES  generated test cases per operation (default 500: about 2 minutes on two cores)
#   SCHEMATHESIS_SEED          the generator's seed (default 20261201: the same cases every run)
#   ORDERS_SYNC_BIN            a server binary to use instead of building the debug one
#   TEST_DATABASE_URL          the admin URL to create the database through
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

SCHEMATHESIS_VERSION="4.32.5"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-500}"
SEED="${SCHEMATHESIS_SEED:-20261201}"
SHOP="acme.myshopify.com"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
mkdir -p "$TARGET_DIR/schemathesis"
TARGET_DIR="$(cd "$TARGET_DIR" && pwd)"
VENV="$TARGET_DIR/venv-schemathesis"
OUT="$TARGET_DIR/schemathesis"
ADMIN_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="orders_schemathesis_$$"

section "Schemathesis $SCHEMATHESIS_VERSION"
if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null || true)" = "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  echo "schemathesis $SCHEMATHESIS_VERSION: present"
else
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  "$VENV/bin/schemathesis" --version
fi

section "The server"
if [ -n "${ORDERS_SYNC_BIN:-}" ]; then
  BIN="$ORDERS_SYNC_BIN"
else
  cargo build -p server --bin orders-sync
  BIN="$TARGET_DIR/debug/orders-sync"
fi
"$BIN" --version

ensure_psql
ensure_local_postgres
SERVER_PID=""
cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  psql "$ADMIN_URL" -qtA -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql "$ADMIN_URL" -q -c "CREATE DATABASE $DB"
# A throwaway database: commits need not wait for the disk, so a busy machine (a build beside the
# run) does not turn the fuzzer's writes into time-outs.
psql "$ADMIN_URL" -q -c "ALTER DATABASE $DB SET synchronous_commit = off"
export DATABASE_URL="${ADMIN_URL%/*}/$DB"
LEPTOS_SITE_ADDR="127.0.0.1:$(free_port)"
# No background work: no poller, no outbox deliveries, and no rate limit (the fuzzer is no abuser).
export LEPTOS_SITE_ADDR SYNC_POLL_INTERVAL=off OUTBOX_POLL_INTERVAL=off SYNC_RATE_LIMIT=off
export RUST_LOG="${RUST_LOG:-warn}"
"$BIN" migrate
"$BIN" seed --shop "$SHOP" --orders 200
"$BIN" serve >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
wait_for_http "http://$LEPTOS_SITE_ADDR/readyz" 60

section "schemathesis run (at most $MAX_EXAMPLES generated cases per operation, seed $SEED)"
# `Accept: application/json` on every request: GET /sync/orders/alerts answers its JSON polling
# variant then, never the event stream, which does not end and so has no response to check. The
# document describes both.
# `filter_too_much`: an order id in a path may be a GID (`gid://shopify/Order/5001`, URL-encoded),
# and Schemathesis drops every generated path value with a `/`, so it throws away a good share of
# the ids it draws for GET /sync/orders/{id}; the numeric ids and names it keeps are enough.
# Run from the output directory: Schemathesis keeps its cache (`.schemathesis/`) where it runs.
ROOT="$PWD"
started=$SECONDS
set +e
(
  cd "$OUT" &&
    SCHEMATHESIS_HOOKS="$ROOT/scripts/schemathesis_hooks.py" SCHEMATHESIS_SHOP="$SHOP" \
      SCHEMATHESIS_ORDERS=200 SCHEMATHESIS_BASE_URL="http://$LEPTOS_SITE_ADDR" \
      "$VENV/bin/schemathesis" run "http://$LEPTOS_SITE_ADDR/sync/openapi.json" \
      --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,response_headers_conformance \
      --phases examples,coverage,fuzzing \
      --max-examples "$MAX_EXAMPLES" \
      --seed "$SEED" \
      --suppress-health-check filter_too_much \
      --header "Accept: application/json" \
      --request-timeout 30 \
      --workers 2 \
      --generation-database none \
      --report junit,har --report-junit-path junit.xml --report-har-path cases.har \
      --no-color
) 2>&1 | tee "$OUT/run.log"
status=${PIPESTATUS[0]}
set -e
echo "schemathesis took $((SECONDS - started)) s and exited with $status"
cases="$(grep -Eo '[0-9]+ generated' "$OUT/run.log" | tail -n 1 | tr -dc 0-9 || true)"
echo "test cases run: ${cases:-unknown}"
if grep -q 'panicked' "$OUT/server.log"; then
  echo "the server panicked:" >&2
  grep -A5 'panicked' "$OUT/server.log" >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "--- the server's log (last 40 lines) ---" >&2
  tail -n 40 "$OUT/server.log" >&2
fi
exit "$status"
