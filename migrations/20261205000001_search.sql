-- The search of `GET /sync/orders` (SPEC §2 `query`; the rule is `src/search.rs`). A search is
-- either an order's name, compared case-insensitively with or without its `#`, or text the
-- customer's name or email contains, compared case-insensitively. Both must stay fast on a shop of
-- 300,000 orders, so each has an index:
--
-- * the name through `lower(order_number)` within the shop (a btree, equality);
-- * "contains" through trigram indexes on `lower(customer_name)` and `lower(customer_email)`,
--   which serve `lower(…) LIKE '%text%'` for any text of three characters or more (a search has at
--   least three). They are not scoped by shop (that would need btree_gin): the shop is checked on
--   the rows they find.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX orders_order_name_lower_idx ON orders (shop_id, lower(order_number));
CREATE INDEX orders_customer_name_trgm_idx ON orders USING gin (lower(customer_name) gin_trgm_ops);
CREATE INDEX orders_customer_email_trgm_idx ON orders USING gin (lower(customer_email) gin_trgm_ops);
