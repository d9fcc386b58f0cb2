#!/usr/bin/env bash
# Read replicas for real (issue 18): a small PostgreSQL primary and a streaming replica of it, made
# with Debian's own tools (scripts/replica-cluster.sh) and dropped afterwards, under two
# `orders-sync serve` processes: A on the primary alone, B with DATABASE_REPLICA_URLS.
#
#   cargo leptos build --release && bash scripts/replica-test.sh
#
# Checks, over HTTP:
# 1. A write answers with X-Sync-Position; a malformed X-Sync-Min-Position is a 400.
# 2. A write through A is read back through B at once when the read sends the position back.
# 3. B's reads do go to the replica: with its replay paused, a read without a position still shows
#    the order as it was, while one with the write's position shows the write (the primary served
#    it); once the replica is more than REPLICA_MAX_LAG behind, reads without one show it too.
# 4. After the replay resumes, the replica serves again, and a write through B reads back through A.
# Then it measures the list's first page (64 connections, REPLICA_BENCH_SECONDS, counts uncached)
# through A and through B, and how many of B's reads the replica took.
#
# Options, from the environment: REPLICA_BENCH_SECONDS (10; 0 skips the measurement),
# REPLICA_ORDERS (20000 orders, over 4 shops).
set -euo pipefail

cd "$(dirname "$0")/.."
# shellcheck source=scripts/toolchain.sh
source scripts/toolchain.sh
# shellcheck source=scripts/replica-cluster.sh
source scripts/replica-cluster.sh

SECS="${REPLICA_BENCH_SECONDS:-10}"
ORDERS="${REPLICA_ORDERS:-20000}"
BIN="${BENCH_BIN:-target/release/orders-sync}"
SHOP="bench-000.myshopify.com"
PREFIX="orders_rt_$$"
[ -x "$BIN" ] || { echo "error: build first: cargo leptos build --release" >&2; exit 1; }
command -v pg_createcluster >/dev/null || apt_install postgresql-common
command -v curl >/dev/null || apt_install curl
[ "$SECS" = 0 ] || command -v wrk >/dev/null || apt_install wrk

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  replica_clusters_down "$PREFIX" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$WORK"/*.log; do
    echo "---- last lines of $(basename "$log") ----" >&2
    tail -n 20 "$log" >&2
  done
  exit 1
}
pass() { echo "ok: $*"; }

section "A primary and a streaming replica"
PPORT="$(free_port)"
RPORT="$(free_port)"
while [ "$RPORT" = "$PPORT" ]; do RPORT="$(free_port)"; done
started=$SECONDS
replica_clusters_up "$PREFIX" "$PPORT" "$RPORT"
echo "up in $((SECONDS - started)) s: primary on $PPORT, replica on $RPORT"
replica_psql "$PPORT" "CREATE DATABASE orders_sync" >/dev/null
PRIMARY_URL="$(replica_url "$PPORT" orders_sync)"
REPLICA_URL="$(replica_url "$RPORT" orders_sync)"

section "Data: $ORDERS orders over 4 shops"
DATABASE_URL="$PRIMARY_URL" "$BIN" migrate >"$WORK/migrate.log" 2>&1 || fail "migrate"
DATABASE_URL="$PRIMARY_URL" "$BIN" seed-bench --orders "$ORDERS" --shops 4 --largest $((ORDERS / 2)) \
  >"$WORK/seed.log" 2>&1 || fail "seed-bench"
replica_psql "$PPORT" "VACUUM ANALYZE" orders_sync >/dev/null
replica_wait_caught_up "$PPORT" "$RPORT" 60 || fail "the replica did not catch up with the load"
echo "the replica has replayed the load"

# Two servers: A on the primary only, B with the replica. Rate limits off, counts uncached, so each
# read is the database's work.
serve() { # name port [replica urls]
  DATABASE_URL="$PRIMARY_URL" DATABASE_REPLICA_URLS="${3:-}" LEPTOS_SITE_ADDR="127.0.0.1:$2" \
    SYNC_RATE_LIMIT=off COUNT_CACHE_BYTES=0 SYNC_POLL_INTERVAL=off RUST_LOG=info \
    "$BIN" serve >"$WORK/$1.log" 2>&1 &
  PIDS+=($!)
}
A_PORT="$(free_port)"
B_PORT="$(free_port)"
serve server_a "$A_PORT"
serve server_b "$B_PORT" "$REPLICA_URL"
A="http://127.0.0.1:$A_PORT"
B="http://127.0.0.1:$B_PORT"
wait_for_http "$A/healthz" 30 || fail "server A did not start"
wait_for_http "$B/healthz" 30 || fail "server B did not start"
for _ in $(seq 1 50); do
  grep -q "replica streaming" "$WORK/server_b.log" && break
  sleep 0.1
done
grep -q "replica streaming" "$WORK/server_b.log" || fail "server B never reached its replica"

ORDER="$(replica_psql "$PPORT" "SELECT o.id FROM orders o JOIN shops s ON s.id = o.shop_id
  WHERE s.domain = '$SHOP' ORDER BY o.created_at DESC, o.id DESC LIMIT 1" orders_sync)"
ORDER_PATH="/sync/orders/$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$ORDER")?shop_domain=$SHOP"

# Assigns ORDER to $2 through $1; prints the write's X-Sync-Position.
assign() { # base assignee
  local body status position
  body="$(printf '{"shop_domain":"%s","orderIds":["%s"],"assignee":"%s"}' "$SHOP" "$ORDER" "$2")"
  status="$(curl -sS -o "$WORK/write.json" -D "$WORK/write.headers" -w '%{http_code}' \
    -H 'content-type: application/json' -d "$body" "$1/sync/orders/assign")"
  [ "$status" = 200 ] || fail "assign through $1 answered $status: $(cat "$WORK/write.json")"
  position="$(awk 'tolower($1) == "x-sync-position:" { print $2 }' "$WORK/write.headers" | tr -d '\r')"
  [[ $position =~ ^[0-9A-F]{1,8}/[0-9A-F]{1,8}$ ]] || fail "the write answered X-Sync-Position '$position'"
  echo "$position"
}
# The order's assignee as read through $1, with X-Sync-Min-Position $2 when given.
assignee() { # base [position]
  local args=(-sS -o "$WORK/read.json" -w '%{http_code}')
  [ -z "${2:-}" ] || args+=(-H "X-Sync-Min-Position: $2")
  local status
  status="$(curl "${args[@]}" "$1$ORDER_PATH")"
  [ "$status" = 200 ] || fail "read through $1 answered $status: $(cat "$WORK/read.json")"
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("assignedTo") or "")' "$WORK/read.json"
}

section "Causal reads across processes"
status="$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Sync-Min-Position: not-a-position' "$B$ORDER_PATH")"
[ "$status" = 400 ] || fail "a malformed X-Sync-Min-Position answered $status, not 400"
pass "a malformed X-Sync-Min-Position is a 400"

for i in 1 2 3 4 5; do
  position="$(assign "$A" "replica-check-$i")"
  seen="$(assignee "$B" "$position")"
  [ "$seen" = "replica-check-$i" ] || fail "write $i through A at $position; B read '$seen' at once"
done
pass "five writes through A, each read back through B at once with its position (last at $position)"

# Pause the replica's replay: B's reads without a position still go to it (within REPLICA_MAX_LAG),
# those with the write's position go to the primary.
replica_psql "$RPORT" "SELECT pg_wal_replay_pause()" >/dev/null
for _ in $(seq 1 100); do
  [ "$(replica_psql "$RPORT" "SELECT pg_get_wal_replay_pause_state()")" = paused ] && break
  sleep 0.05
done
before="$(assignee "$B")"
position="$(assign "$A" "replica-paused")"
stale="$(assignee "$B")"
fresh="$(assignee "$B" "$position")"
[ "$fresh" = "replica-paused" ] || fail "with the replica paused, B read '$fresh' at the write's position"
[ "$stale" = "$before" ] || fail "with the replica paused, B read '$stale' without a position: the replica did not serve it"
pass "replay paused: B without a position read '$stale' (the replica), with it '$fresh' (the primary)"
sleep 2
late="$(assignee "$B")"
[ "$late" = "replica-paused" ] || fail "2 s into the pause, B read '$late' without a position: the lagging replica still served"
pass "2 s into the pause (REPLICA_MAX_LAG 1 s), B without a position read '$late' (the primary)"
replica_psql "$RPORT" "SELECT pg_wal_replay_resume()" >/dev/null
replica_wait_caught_up "$PPORT" "$RPORT" 30 || fail "the replica did not catch up after the pause"

position="$(assign "$B" "replica-through-b")"
seen="$(assignee "$A" "$position")"
[ "$seen" = "replica-through-b" ] || fail "write through B; A read '$seen'"
sleep 0.5
seen="$(assignee "$B")"
[ "$seen" = "replica-through-b" ] || fail "after the replica caught up, B read '$seen'"
pass "a write through B is read back through A, and through B once the replica has caught up"

grep -q "replica left" "$WORK/server_b.log" && fail "server B lost its replica during the checks"

if [ "$SECS" != 0 ]; then
  section "The list's first page, 64 connections, $SECS s, counts uncached"
  L="/sync/orders?shop_domain=$SHOP"
  # "requests/s errors requests p50 p95" of the page through $1
  run() { # base
    wrk -t2 -c64 -d"${SECS}s" -s scripts/bench/report.lua "$1$L" |
      awk '/^RESULT/ { print $7, $3, $2, $4, $5 }'
  }
  # Transactions the replica committed (PostgreSQL's statistics lag by up to a second or so:
  # compare with the requests, not to the last one).
  replica_xacts() {
    replica_psql "$RPORT" "SELECT xact_commit FROM pg_stat_database WHERE datname = 'orders_sync'"
  }
  read -r a_rps a_errors _ a50 a95 < <(run "$A")
  r0="$(replica_xacts)"
  read -r b_rps b_errors b_requests b50 b95 < <(run "$B")
  sleep 2
  r1="$(replica_xacts)"
  echo "  A (primary only):      $a_rps requests/s (p50 $a50 ms, p95 $a95 ms), $a_errors errors"
  echo "  B (primary + replica): $b_rps requests/s (p50 $b50 ms, p95 $b95 ms), $b_errors errors"
  echo "  the replica committed $((r1 - r0)) transactions while B answered $b_requests requests"
  echo "  B's log meanwhile: $(grep -c 'read failed on a replica' "$WORK/server_b.log" || true) reads retried on the primary, $(grep -c 'replica left' "$WORK/server_b.log" || true) replica losses"
  [ "$a_errors" = 0 ] && [ "$b_errors" = 0 ] || fail "errors under load"
  [ $((r1 - r0)) -ge $((b_requests * 9 / 10)) ] || fail "the replica served fewer than 9 in 10 of B's reads"
fi
echo "replica test: all checks passed"
