#!/usr/bin/env bash
# The one serve command (README): installs what is missing, builds the release site, and serves
# the API and the dashboard on LEPTOS_SITE_ADDR (default 127.0.0.1:3000).
#
# When DATABASE_URL (default postgres://postgres@127.0.0.1:5432/orders_sync) answers, the database
# is created if missing, migrated, and given a demo shop (demo.myshopify.com, 500 orders) while it
# has none; otherwise the server runs on the built-in sample data (USE_MOCK_DATA=true).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/orders_sync}"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
DEMO_SHOP="demo.myshopify.com"
DEMO_ORDERS=500

section "Tools"
ensure_wasm_target
ensure_cargo_leptos
ensure_wasm_bindgen
ensure_node_modules
ensure_psql

section "cargo leptos build --release"
cargo leptos build --release
BIN=target/release/orders-sync

section "Database"
DB_NAME="${DATABASE_URL##*/}"
DB_NAME="${DB_NAME%%\?*}"
MAINTENANCE_URL="${DATABASE_URL%/*}/postgres"
if [ "${USE_MOCK_DATA:-false}" != "true" ] && psql "$MAINTENANCE_URL" -qtAc 'SELECT 1' >/dev/null 2>&1; then
  exists="$(psql "$MAINTENANCE_URL" -qtAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")"
  if [ "$exists" != "1" ]; then
    echo "creating database $DB_NAME"
    psql "$MAINTENANCE_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DB_NAME\""
  fi
  "$BIN" migrate
  orders="$(psql "$DATABASE_URL" -qtAc \
    "SELECT count(*) FROM orders o JOIN shops s ON s.id = o.shop_id WHERE s.domain = '$DEMO_SHOP'")"
  if [ "${orders:-0}" = "0" ]; then
    "$BIN" seed --shop "$DEMO_SHOP" --orders "$DEMO_ORDERS"
  else
    echo "$DEMO_SHOP has $orders orders"
  fi
else
  echo "no database answers at DATABASE_URL: serving the built-in sample data (USE_MOCK_DATA=true)"
  export USE_MOCK_DATA=true
fi

section "Serving http://$LEPTOS_SITE_ADDR/orders (Ctrl-C stops)"
exec "$BIN" serve
