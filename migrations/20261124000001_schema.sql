-- The schema of Sync, the service of record (SPEC §1–§7).
--
-- Every row belongs to one shop: each table carries `shop_id`, and the keys of order data are
-- (shop_id, id), because the same Shopify GID may exist in two shops. Order ids and shipment ids use
-- the "C" collation so that `ORDER BY id DESC` compares bytes, as the list order requires (SPEC §2).
--
-- The vocabularies (statuses, priorities, return states …) are checked here as well as in the core,
-- so a bug cannot store a word the API would later fail to read.
--
-- `orders` carries a few denormalised columns (has_tracking, in_transit_since, has_open_return,
-- support_thread) so that the tab filters and counts (SPEC §4) are plain column predicates served by
-- partial indexes. Every write that changes shipments, returns or escalations recomputes them in the
-- same transaction (server/src/store/postgres.rs, `refresh_derived`).

-- A merchant's store, known by its myshopify domain.
CREATE TABLE shops (
    id                          bigserial PRIMARY KEY,
    -- `acme.myshopify.com`, always lower case (the API lower-cases what it is given).
    domain                      text NOT NULL UNIQUE
                                CHECK (domain <> '' AND domain = lower(domain)),
    -- The HMAC secret of Shopify's webhooks (SPEC §7); the previous one stays valid until
    -- previous_secret_expires_at after a rotation (SPEC §9).
    webhook_secret              text,
    previous_webhook_secret     text,
    previous_secret_expires_at  timestamptz,
    -- The Admin API token; a shop without one gets webhooks only, no polling.
    access_token                text,
    -- The Shopify GraphQL cursor the poller last reached (`shopifyCursor` of the list).
    shopify_cursor              text,
    last_polled_at              timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now()
);

-- One order of a shop, as the read API serves it (SPEC §2).
CREATE TABLE orders (
    shop_id             bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- Shopify's GID, `gid://shopify/Order/5001`.
    id                  text COLLATE "C" NOT NULL,
    -- The order's name, `#1001`.
    order_number        text NOT NULL,
    customer_name       text NOT NULL,
    customer_email      text,
    -- Shopify's decimal string; numeric keeps its scale, so `total_price::text` gives it back exactly.
    total_price         numeric NOT NULL,
    currency            text NOT NULL,
    fulfillment_status  text NOT NULL
                        CHECK (fulfillment_status IN ('unfulfilled', 'partially_fulfilled', 'fulfilled', 'on_hold')),
    financial_status    text NOT NULL
                        CHECK (financial_status IN ('pending', 'authorized', 'paid', 'partially_paid',
                                                    'partially_refunded', 'refunded', 'voided')),
    cancelled_at        timestamptz,
    -- `cancelled` wins over the fulfillment status.
    status              text NOT NULL GENERATED ALWAYS AS (
                            CASE WHEN cancelled_at IS NOT NULL THEN 'cancelled' ELSE fulfillment_status END
                        ) STORED,
    priority            text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    tags                text[] NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    -- Shopify's own `updated_at` of the last payload applied, so older payloads never overwrite newer
    -- state (SPEC §7); null for orders that did not come from Shopify (seeds).
    shopify_updated_at  timestamptz,

    -- Derived, maintained by every write in the same transaction:
    -- some shipment has a tracking number;
    has_tracking        boolean NOT NULL DEFAULT false,
    -- the oldest lastUpdateAt of the order's in_transit shipments;
    in_transit_since    timestamptz,
    -- the order's newest return is not in a terminal state;
    has_open_return     boolean NOT NULL DEFAULT false,
    -- the thread of the newest open support escalation.
    support_thread      text,

    PRIMARY KEY (shop_id, id)
);

-- The list order (createdAt desc, id desc) of the `all` tab, and of every filter without a better index.
CREATE INDEX orders_list_idx ON orders (shop_id, created_at DESC, id DESC);
-- One partial index per tab, in list order (SPEC §4); their predicates are the tab rules, written
-- exactly as the store's queries state them so the planner can use them.
CREATE INDEX orders_unfulfilled_idx ON orders (shop_id, created_at DESC, id DESC)
    WHERE status IN ('unfulfilled', 'partially_fulfilled');
CREATE INDEX orders_tracking_pending_idx ON orders (shop_id, created_at DESC, id DESC)
    WHERE status <> 'cancelled' AND NOT has_tracking;
CREATE INDEX orders_delayed_idx ON orders (shop_id, in_transit_since)
    WHERE in_transit_since IS NOT NULL;
CREATE INDEX orders_returns_idx ON orders (shop_id, created_at DESC, id DESC)
    WHERE has_open_return;
CREATE INDEX orders_support_idx ON orders (shop_id, created_at DESC, id DESC)
    WHERE support_thread IS NOT NULL;
-- Requests may name an order by `#1001` (SPEC §3).
CREATE INDEX orders_order_number_idx ON orders (shop_id, order_number);

-- Who owns an order: the contract's OrderAssignment table (SPEC §3). No row means unassigned.
CREATE TABLE order_assignments (
    shop_id      bigint NOT NULL,
    order_id     text COLLATE "C" NOT NULL,
    assignee     text NOT NULL CHECK (assignee <> ''),
    assigned_at  timestamptz NOT NULL,
    PRIMARY KEY (shop_id, order_id),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id) ON DELETE CASCADE
);

-- The `assigned_to` filter.
CREATE INDEX order_assignments_assignee_idx ON order_assignments (shop_id, assignee);

-- The parcels of an order.
CREATE TABLE shipments (
    -- Order of arrival: an order's shipments are listed in it.
    seq              bigserial NOT NULL,
    shop_id          bigint NOT NULL,
    order_id         text COLLATE "C" NOT NULL,
    id               text COLLATE "C" NOT NULL,
    status           text NOT NULL
                     CHECK (status IN ('label_created', 'in_transit', 'out_for_delivery', 'delivered', 'exception')),
    -- A tracking number always comes with its carrier.
    tracking_number  text,
    tracking_carrier text,
    last_update_at   timestamptz NOT NULL,
    -- When Sync recorded the shipment.
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id) ON DELETE CASCADE,
    CHECK ((tracking_number IS NULL) = (tracking_carrier IS NULL))
);

CREATE INDEX shipments_order_idx ON shipments (shop_id, order_id, seq);

-- Returns (SPEC §5). An order's `return` is its newest (created_at, then id).
CREATE TABLE returns (
    shop_id     bigint NOT NULL,
    order_id    text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    state       text NOT NULL
                CHECK (state IN ('awaiting_label', 'label_generated', 'in_transit', 'inspection',
                                 'awaiting_refund', 'completed', 'denied', 'cancelled')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id) ON DELETE CASCADE
);

CREATE INDEX returns_order_idx ON returns (shop_id, order_id, created_at DESC, id DESC);

-- Support escalations, oldest first by id; the newest open one is the order's `supportThread`.
CREATE TABLE support_escalations (
    id          bigserial PRIMARY KEY,
    shop_id     bigint NOT NULL,
    order_id    text COLLATE "C" NOT NULL,
    -- The conversation id given, or a generated one.
    thread      text NOT NULL CHECK (thread <> ''),
    note        text NOT NULL,
    open        boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id) ON DELETE CASCADE
);

CREATE INDEX support_escalations_order_idx ON support_escalations (shop_id, order_id, id);

-- The history of an order. `seq` keeps the order of arrival, so entries with the same `ts` still
-- have an order: newest first is `ORDER BY ts DESC, seq DESC`.
CREATE TABLE timeline_entries (
    seq       bigserial PRIMARY KEY,
    shop_id   bigint NOT NULL,
    order_id  text COLLATE "C" NOT NULL,
    ts        timestamptz NOT NULL,
    event     text NOT NULL,
    details   text NOT NULL,
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id) ON DELETE CASCADE
);

CREATE INDEX timeline_entries_order_idx ON timeline_entries (shop_id, order_id, ts DESC, seq DESC);

-- Live alerts (SPEC §6). The id is the SSE event id, so it only grows. No foreign key to orders:
-- a data_gap alert may name no order, and an alert outlives the order it named (its `resolved`
-- event must still be sent).
CREATE TABLE alerts (
    id           bigserial PRIMARY KEY,
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('tracking_pending', 'delayed', 'data_gap')),
    severity     text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    order_id     text COLLATE "C",
    message      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz
);

-- Replay from Last-Event-ID / `since`, and the open alerts of a shop.
CREATE INDEX alerts_shop_idx ON alerts (shop_id, id);
CREATE INDEX alerts_open_idx ON alerts (shop_id, kind, order_id) WHERE resolved_at IS NULL;

-- The transactional outbox (SPEC §7): side effects written in the same transaction as the change
-- they report, delivered later by a worker with retries and backoff. An event that cannot be
-- delivered is marked dead, never deleted. No foreign key to orders: an event outlives its order.
CREATE TABLE outbox (
    id               bigserial PRIMARY KEY,
    shop_id          bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- Where it is headed: `shopify.metafield.assignment`, `support.escalation`, `erp.return`.
    topic            text NOT NULL,
    order_id         text COLLATE "C" NOT NULL,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    dead_at          timestamptz,
    last_error       text
);

-- A shop's events, oldest first.
CREATE INDEX outbox_shop_idx ON outbox (shop_id, id);
-- The worker's queue: what is still to deliver, by due time.
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, id)
    WHERE delivered_at IS NULL AND dead_at IS NULL;
