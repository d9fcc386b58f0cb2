-- Ingestion from Shopify (SPEC §7): what makes a webhook delivery count once, and the facts that
-- arrived before the order they name.

-- Every webhook delivery accepted, by Shopify's `X-Shopify-Webhook-Id` (which alone deduplicates: a
-- redelivery changes nothing, whatever its body). Kept at least 24 h; the poller prunes rows older
-- than a week.
CREATE TABLE shopify_webhooks (
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    webhook_id   text NOT NULL,
    -- `X-Shopify-Event-Id`: the event behind the delivery (several deliveries may share one).
    event_id     text,
    topic        text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, webhook_id)
);

CREATE INDEX shopify_webhooks_received_idx ON shopify_webhooks (received_at);

-- Fulfillments, refunds and returns for orders Sync does not know yet: kept, and applied in
-- arrival order when the order arrives. `order_key` is the GID, or the name (`#1001`) when the
-- payload named the order only by name.
CREATE TABLE shopify_pending (
    seq          bigserial PRIMARY KEY,
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    order_key    text COLLATE "C" NOT NULL,
    fact         jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX shopify_pending_order_idx ON shopify_pending (shop_id, order_key, seq);

-- Refunds already applied, by their own id: a refund counts once, whichever delivery brings it.
CREATE TABLE shopify_refunds (
    shop_id     bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    refund_id   text NOT NULL,
    order_id    text COLLATE "C" NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, refund_id)
);
