#!/usr/bin/env bash
# Kills `orders-sync serve` with SIGKILL in the middle of a write load (16 clients sending support
# escalations with Idempotency-Keys), then proves that every acknowledged write is in the database
# whole, that none is half-written, and that the in-flight ones, retried with their keys after a
# restart, apply exactly once. Prints the counts. (The same test runs in scripts/test.sh.)
#
# Environment: TEST_DATABASE_URL (or DATABASE_URL), the admin connection (default
# postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p server --test crash -- --nocapture 2>&1 | grep -E "SIGKILL|SIGTERM|test result|panicked"
