#!/usr/bin/env bash
# The live-alert benchmark: SSE_CLIENTS (default 10000) idle SSE clients on one `orders-sync serve`
# (release build), the server's resident memory with them connected, and how long one alert event
# (the `resolved` of a fulfilled order) takes to reach all of them. Uses its own database
# (orders_bench_sse) and a shop of 200 seeded orders, reseeded each run.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

ADMIN_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="orders_bench_sse"
SHOP="sse-bench.myshopify.com"
CLIENTS="${SSE_CLIENTS:-10000}"
BIN=target/release/orders-sync
require_release_build
# Each client is a socket on both sides.
ulimit -n "$(ulimit -Hn)"

section "Database and shop"
psql "$ADMIN_URL" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 ||
  psql "$ADMIN_URL" -q -c "CREATE DATABASE $DB"
export DATABASE_URL="${ADMIN_URL%/*}/$DB"
"$BIN" migrate
"$BIN" seed --shop "$SHOP" --orders 200

section "Server"
cargo build --release -q -p server --example sse_bench
# One client address holds every stream here: the caps are raised past them.
MAX_CONNECTIONS=$((CLIENTS + 1000)) MAX_STREAMS_PER_CLIENT=$((CLIENTS + 100)) \
  MAX_STREAMS_PER_SHOP=$((CLIENTS + 100)) start_release_server
rss() { awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status"; }
# The start-up pass raises the shop's alerts; give it a moment.
sleep 2
echo "server resident memory, idle: $(rss)"

section "$CLIENTS SSE clients"
target/release/examples/sse_bench "http://$LEPTOS_SITE_ADDR" "$SHOP" "$CLIENTS" | while IFS= read -r line; do
  if [ "$line" = "READY" ]; then
    echo "server resident memory with $CLIENTS clients connected: $(rss)"
  else
    echo "$line"
  fi
done
echo "server resident memory after the event: $(rss)"
