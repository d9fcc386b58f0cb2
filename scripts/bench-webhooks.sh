#!/usr/bin/env bash
# The webhook benchmark: WEBHOOK_RATE (default 200) signed Shopify deliveries a second for
# WEBHOOK_SECONDS (default 30) to one `orders-sync serve` (release build), seven in ten creating an
# order and the rest updating one, and the acknowledgement latency (p50, p90, p99, max). Uses its
# own database (orders_bench_webhooks), recreated each run, with a seeded shop of BENCH_ORDERS
# (default 10000) orders so that the alert passes after each change do real work.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

ADMIN_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="orders_bench_webhooks"
SHOP="hooks-bench.myshopify.com"
SECRET="bench-webhook-secret"
RATE="${WEBHOOK_RATE:-200}"
SECONDS_="${WEBHOOK_SECONDS:-30}"
BIN=target/release/orders-sync
require_release_build

section "Database and shop"
psql "$ADMIN_URL" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL="${ADMIN_URL%/*}/$DB"
"$BIN" migrate
"$BIN" seed --shop "$SHOP" --orders "${BENCH_ORDERS:-10000}"
SHOPIFY_WEBHOOK_SECRET="$SECRET" "$BIN" shop add --domain "$SHOP"

section "Server"
cargo build --release -q -p server --example webhook_bench
start_release_server
sleep 2

section "$RATE deliveries a second for $SECONDS_ s"
target/release/examples/webhook_bench "http://$LEPTOS_SITE_ADDR" "$SHOP" "$SECRET" "$RATE" "$SECONDS_"
echo "orders stored: $(psql "$DATABASE_URL" -qtAc "SELECT count(*) FROM orders o JOIN shops s ON s.id = o.shop_id WHERE s.domain = '$SHOP'")"
