-- The in-transit orders in list order, with what the delayed tab's rule and the filters read
-- (issue 18). When a shop has many delayed orders, the delayed tab's page walks this index from the
-- newest and stops at its last row, instead of reading every delayed order from orders_delayed_idx
-- and sorting them; the orders passed on the way are the parcels in transit and not yet delayed,
-- a day or two of shipments. With few delayed orders the sort costs less, and is kept
-- (server/src/store/postgres/read.rs, `PagePlan`).
CREATE INDEX orders_in_transit_list_idx ON orders (shop_id, created_at DESC, id DESC)
    INCLUDE (in_transit_since, status, priority, assignee)
    WHERE in_transit_since IS NOT NULL;
