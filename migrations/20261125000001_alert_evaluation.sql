-- The alert evaluator (SPEC §6). A condition has at most one open alert, even with two processes
-- evaluating at once; resolutions get a sequence number so that a process can ask the table for
-- every resolution it has not passed on yet (NOTIFY is not durable: the table stays the truth).

CREATE UNIQUE INDEX alerts_one_open_idx ON alerts (shop_id, kind, (coalesce(order_id, '')))
    WHERE resolved_at IS NULL;

CREATE SEQUENCE alert_resolutions;
ALTER TABLE alerts ADD COLUMN resolved_seq bigint;
CREATE INDEX alerts_resolved_idx ON alerts (shop_id, resolved_seq) WHERE resolved_seq IS NOT NULL;
