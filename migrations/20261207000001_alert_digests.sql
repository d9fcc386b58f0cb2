-- The dashboard's banners name the first open alerts of each kind (the longest open): read in id
-- order from this index, and counted from it, without touching resolved alerts.
CREATE INDEX alerts_open_first_idx ON alerts (shop_id, kind, id) WHERE resolved_at IS NULL;
