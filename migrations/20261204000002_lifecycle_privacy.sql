-- The app's lifecycle and privacy (SPEC §10): deliveries deduplicated by Shopify's event as well as
-- by their webhook id, the durable jobs that carry out app/uninstalled, app/scopes_update and the
-- three compliance topics, the data requests recorded for `orders-sync privacy export`, and the
-- orders whose customer was erased (so that ingestion never brings the customer back).

-- Deliveries repeated by several subscriptions share X-Shopify-Event-Id and topic: the pair counts
-- once, like the webhook id (one merchant action may raise several topics under one event id, and
-- each topic applies). Repeats already stored are dropped first, keeping the earliest.
DELETE FROM shopify_webhooks w
USING shopify_webhooks k
WHERE w.event_id IS NOT NULL
  AND k.shop_id = w.shop_id AND k.event_id = w.event_id AND k.topic = w.topic
  AND (k.received_at, k.webhook_id) < (w.received_at, w.webhook_id);
CREATE UNIQUE INDEX shopify_webhooks_event_idx ON shopify_webhooks (shop_id, event_id, topic)
    WHERE event_id IS NOT NULL;

-- One lifecycle delivery to carry out, written in the transaction that records the delivery, so a
-- crash loses none (server/src/shopify/lifecycle.rs). A worker claims the earliest due job of a
-- shop whose earlier jobs are all done (a shop's jobs run in the order they arrived), runs it in
-- one transaction with its completion, and retries a failure with backoff: a job is never given
-- up on.
CREATE TABLE lifecycle_jobs (
    id               bigserial PRIMARY KEY,
    shop_id          bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- `app/uninstalled`, `customers/redact` …
    topic            text NOT NULL,
    webhook_id       text NOT NULL,
    -- The job (orders_core::shopify::lifecycle::LifecycleJob as JSON). Emptied when the job is
    -- done, so that a finished job keeps no personal data.
    payload          jsonb,
    received_at      timestamptz NOT NULL,
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- When the job is due: at once, after a claim the claim's lease, after a failure its backoff.
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    done_at          timestamptz,
    last_error       text,
    CHECK (done_at IS NOT NULL OR payload IS NOT NULL)
);

-- The worker's queue, and the probe for a shop's earlier jobs.
CREATE INDEX lifecycle_jobs_due_idx ON lifecycle_jobs (next_attempt_at, id) WHERE done_at IS NULL;
CREATE INDEX lifecycle_jobs_shop_idx ON lifecycle_jobs (shop_id, id) WHERE done_at IS NULL;

-- A customers/data_request, as Shopify sent it: what `orders-sync privacy export --request ID`
-- reports on. A later customers/redact of the customer erases its e-mail and phone here too.
CREATE TABLE privacy_requests (
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- Shopify's `data_request.id`.
    request_id   text NOT NULL,
    customer_id  text,
    email        text,
    phone        text,
    -- `orders_requested`, as GIDs.
    orders       text[] NOT NULL DEFAULT '{}',
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (shop_id, request_id)
);

CREATE INDEX privacy_requests_request_idx ON privacy_requests (request_id);

-- Orders whose customer was erased by customers/redact. Ingestion reads it for every order payload
-- (webhook, poll or backfill) and keeps the customer erased. No foreign key to orders: an order may
-- be named before Sync has it, and the redaction must hold when it arrives.
CREATE TABLE redacted_orders (
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    order_id     text COLLATE "C" NOT NULL,
    redacted_at  timestamptz NOT NULL,
    PRIMARY KEY (shop_id, order_id)
);
