-- The outbox worker (server/src/outbox.rs, claims in server/src/store/postgres/outbox.rs).
--
-- It claims, per topic it delivers, the earliest due events: this index leads with the topic, so a
-- topic that is not delivered (assignment metafields while OUTBOX_PUSH_METAFIELDS is off, whose
-- events pile up, pending) is never read, and events waiting out their backoff lie outside the
-- range it scans. It replaces outbox_pending_idx, which read both.
CREATE INDEX outbox_due_idx ON outbox (topic, next_attempt_at, id)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
DROP INDEX outbox_pending_idx;

-- An event waits while an earlier event of its shop, topic and order is still pending, so that one
-- order's events arrive in the order they were written: this index answers that probe without
-- reading the delivered history.
CREATE INDEX outbox_order_queue_idx ON outbox (topic, shop_id, order_id, id)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
