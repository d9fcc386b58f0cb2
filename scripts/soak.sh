#!/usr/bin/env bash
# The soak test: every load at once against one release `orders-sync serve` for SOAK_MINUTES
# (default 10; fractional minutes are fine), with its own PostgreSQL cluster restarted once halfway.
#
#   bash scripts/soak.sh                   # ten minutes
#   SOAK_MINUTES=1 bash scripts/soak.sh    # the CI version
#
# Loads (server/examples/soak): reads at 100/s and writes at 20/s with idempotency keys, signed
# webhooks at 50/s, 2,000 idle live-alert streams, 500 slow clients (half a request line, then
# nothing), 5,000 requests for shops never registered. It reports the server's resident memory and
# open descriptors (start, peak, end), the answers by status for each kind of request, the non-2xx
# answers without the envelope, the acknowledged writes checked and lost, the reads' p50/p99
# before the restart, while the database is away (and 10 s after), and after, and /readyz at the
# end; the table on standard output, the figures in target/soak/report.json, the server's log in
# target/soak/server.log. It exits non-zero when a write was lost, an answer lacked the envelope,
# the server was not healthy at the end, or it kept 10 % or more of the memory the run took.
#
# The database: a cluster of its own (initdb in a temporary directory, a free port, trust auth),
# so restarting it disturbs nothing else; stopped and deleted at the end. The Sync API needs no site
# assets, so a plain `cargo build --release` binary serves it.
#
# Settings: SOAK_MINUTES (10), SOAK_ORDERS (2000: the seeded shop), SOAK_DB_AWAY (4: seconds between
# the restart's stop and start), SOAK_BIN (another orders-sync binary, e.g. an older build; not
# rebuilt). The generator's own options (rates, counts): target/release/examples/soak --help.
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh

MINUTES="${SOAK_MINUTES:-10}"
SHOP="soak.myshopify.com"
SECRET="soak-webhook-secret"
ORDERS="${SOAK_ORDERS:-2000}"
# How long the database stays away during the restart.
AWAY="${SOAK_DB_AWAY:-4}"
OUT=target/soak
BIN="${SOAK_BIN:-target/release/orders-sync}"
# Every stream, slow client and pooled request is a descriptor on both sides.
ulimit -n "$(ulimit -Hn)"

section "Build (release)"
if [ -n "${SOAK_BIN:-}" ]; then
  cargo build --release -q -p server --example soak
else
  cargo build --release -q -p server --bin orders-sync --example soak
fi
mkdir -p "$OUT"

section "PostgreSQL cluster of its own"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  apt_install postgresql
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
fi
WORK="$(mktemp -d)"
PGDATA="$WORK/data"
PGLOG="$WORK/postgres.log"
PGPORT="$(free_port)"
# initdb refuses root: as root, the cluster belongs to the postgres user.
AS_PG=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$WORK"
  AS_PG=(runuser -u postgres --)
fi
# Run from the cluster's directory: the postgres user may not enter the working directory.
pg() { (cd "$WORK" && "${AS_PG[@]}" "$PGBIN/$1" "${@:2}"); }
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  pg pg_ctl -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
  cp "$PGLOG" "$OUT/postgres.log" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
pg initdb -D "$PGDATA" -U postgres -A trust -N >/dev/null
cat >>"$PGDATA/postgresql.conf" <<EOF
port = $PGPORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
max_connections = 200
EOF
pg pg_ctl -D "$PGDATA" -l "$PGLOG" -w start >/dev/null
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{ print $3 }') on 127.0.0.1:$PGPORT ($PGDATA)"
# The restart halfway: stopped (fast), away for $AWAY s, started again.
printf -v RESTART '%q ' "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop
printf -v START '%q ' "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w start
RESTART="cd $(printf %q "$WORK") && $RESTART && sleep $AWAY && $START"

section "Database, shop ($ORDERS orders), token"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/soak"
psql "postgres://postgres@127.0.0.1:$PGPORT/postgres" -q -c "CREATE DATABASE soak"
"$BIN" migrate
"$BIN" seed --shop "$SHOP" --orders "$ORDERS"
SHOPIFY_WEBHOOK_SECRET="$SECRET" "$BIN" shop add --domain "$SHOP"
SOAK_TOKEN="$("$BIN" token issue --shop "$SHOP" --label soak)"
export SOAK_TOKEN SOAK_WEBHOOK_SECRET="$SECRET"

section "Server"
# One token carries every read, write and stream: no rate limit, and a stream cap (on servers
# that have one) above the 2,000 streams. No Shopify to poll.
export RUST_LOG="${RUST_LOG:-warn}" SYNC_RATE_LIMIT=off SYNC_POLL_INTERVAL=off \
  MAX_STREAMS_PER_CLIENT=100000 MAX_STREAMS_PER_SHOP=100000
# A free port can be taken before the server binds it (the range is shared with outgoing
# connections): try another then.
for _ in 1 2 3 4 5; do
  LEPTOS_SITE_ADDR="127.0.0.1:$(free_port)"
  export LEPTOS_SITE_ADDR
  "$BIN" serve >"$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null "http://$LEPTOS_SITE_ADDR/readyz" 2>/dev/null && break 2
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.25
  done
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  echo "the server did not start on $LEPTOS_SITE_ADDR: $(tail -n 1 "$OUT/server.log")"
done
[ -n "$SERVER_PID" ] || { echo "error: the server did not start" >&2; exit 1; }
echo "orders-sync serve on $LEPTOS_SITE_ADDR (pid $SERVER_PID)"
# The start-up alert pass.
sleep 3

section "Soak: $MINUTES min"
status=0
target/release/examples/soak --base "http://$LEPTOS_SITE_ADDR" --shop "$SHOP" --pid "$SERVER_PID" \
  --minutes "$MINUTES" --restart-cmd "$RESTART" --report "$OUT/report.json" || status=$?
echo "server log: $OUT/server.log ($(wc -l <"$OUT/server.log") lines); total time $((SECONDS - SCRIPT_STARTED)) s"
exit "$status"
