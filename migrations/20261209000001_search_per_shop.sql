-- "Contains" (SPEC §2 `query`) through one trigram index per shop, replacing the two of
-- `20261205000001_search.sql`, which covered every shop and so read every shop's matches (a
-- surname shared by 7,531 of the largest shop's orders matched 25,017 in the index), and took two
-- index scans, one for the name and one for the email.
--
-- The index holds the customer's name and email as one lowered text, a line break between them,
-- behind the shop (`btree_gin` lets a GIN index start with the shop's id). A text without a line
-- break is in that text exactly when it is in the name or in the email; the store checks a text
-- with one against each as well (`server/src/store/postgres/search.rs`).
CREATE EXTENSION IF NOT EXISTS btree_gin;

DROP INDEX orders_customer_name_trgm_idx;
DROP INDEX orders_customer_email_trgm_idx;
CREATE INDEX orders_customer_search_idx ON orders
    USING gin (shop_id, lower(customer_name || E'\n' || coalesce(customer_email, '')) gin_trgm_ops);
