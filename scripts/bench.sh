#!/usr/bin/env bash
# Measures what the closing notes quote, on the release build (run `cargo leptos build --release`
# first, or let scripts/test.sh do it):
#   - the release WASM and CSS, raw, gzip -9 and brotli (quality 11);
#   - time to first byte of the server-rendered /orders and of GET /sync/orders, on a shop seeded
#     with BENCH_ORDERS orders (default 300000), median and p95 over BENCH_RUNS requests each.
# It uses a database of its own (orders_bench), seeded once and kept for the next run.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

ADMIN_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BENCH_DB="orders_bench"
BENCH_SHOP="bench.myshopify.com"
BENCH_ORDERS="${BENCH_ORDERS:-300000}"
BENCH_RUNS="${BENCH_RUNS:-50}"
BIN=target/release/orders-sync
require_release_build

section "Release assets"
node -e '
  const fs = require("fs"), zlib = require("zlib");
  for (const f of process.argv.slice(1)) {
    const raw = fs.readFileSync(f);
    const gz = zlib.gzipSync(raw, { level: 9 }).length;
    const br = zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    const kb = (n) => (n / 1024).toFixed(1) + " KiB";
    console.log(`${f.padEnd(36)} raw ${kb(raw.length).padStart(10)}  gzip ${kb(gz).padStart(10)}  brotli ${kb(br).padStart(10)}`);
  }' target/site/pkg/orders-sync.wasm target/site/pkg/orders-sync.js target/site/pkg/orders-sync.css

section "Database ($BENCH_ORDERS orders)"
psql "$ADMIN_URL" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1 ||
  psql "$ADMIN_URL" -q -c "CREATE DATABASE $BENCH_DB"
export DATABASE_URL="${ADMIN_URL%/*}/$BENCH_DB"
"$BIN" migrate
have="$(psql "$DATABASE_URL" -qtAc "SELECT count(*) FROM orders o JOIN shops s ON s.id = o.shop_id WHERE s.domain = '$BENCH_SHOP'")"
if [ "$have" != "$BENCH_ORDERS" ]; then
  started=$SECONDS
  "$BIN" seed --shop "$BENCH_SHOP" --orders "$BENCH_ORDERS"
  echo "seeded in $((SECONDS - started)) s"
  psql "$DATABASE_URL" -q -c "VACUUM ANALYZE"
fi

section "Time to first byte (median / p95 of $BENCH_RUNS, after 5 warm-up requests)"
start_release_server

measure() {
  local p50 p95
  read -r p50 p95 < <(ttfb_median_p95 "$1" "$2" "$BENCH_RUNS")
  printf '%-44s median %7.1f ms   p95 %7.1f ms\n' "$1" "$p50" "$p95"
}
BASE="http://$LEPTOS_SITE_ADDR"
measure "/orders (all, first page)" "$BASE/orders?shop=$BENCH_SHOP"
measure "/orders (tracking pending, offset 9900)" "$BASE/orders?shop=$BENCH_SHOP&tab=tracking_pending&cursor=ofs:7n0"
measure "/orders (urgent, unassigned, 100 rows)" "$BASE/orders?shop=$BENCH_SHOP&priority=urgent&assigned_to=unassigned&pageSize=100"
measure "/sync/orders (all, first page)" "$BASE/sync/orders?shop_domain=$BENCH_SHOP"
measure "/sync/orders (returns, 250 rows)" "$BASE/sync/orders?shop_domain=$BENCH_SHOP&tab=returns&pageSize=250"

section "CSV export of the whole shop (streamed)"
curl -s -o /dev/null -w 'HTTP %{http_code}: first byte %{time_starttransfer} s, all %{time_total} s, %{size_download} bytes\n' \
  "$BASE/orders/export.csv?shop=$BENCH_SHOP"
ps -o rss= -p "$SERVER_PID" | awk '{ printf "server resident memory after the export: %.1f MiB\n", $1 / 1024 }'
