-- A change counter per shop, for the count cache (issue 18; server/src/store/postgres/count_cache.rs).
-- Every transaction that changes what a shop's tab counts read (an order inserted or deleted, or
-- one of its counted columns updated) adds one to its shop's counter, in that transaction. A read
-- takes the counter in its snapshot, so counts cached under the same value are the counts of that
-- snapshot.
--
-- The counter is bumped by a deferred trigger, at commit, once per shop and transaction (a
-- transaction-local setting remembers that it was). So the counter's row is locked only for the
-- commit itself, after the transaction has taken every other lock it needs: two writes of one
-- shop queue for it only while committing, and cannot deadlock on it. Writes of other shops never
-- meet. A trigger, not the writes' code, so that no write path (the API, ingestion, privacy,
-- seeding, an operator's SQL) can forget it.
CREATE TABLE shop_changes (
    shop_id bigint PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    n       bigint NOT NULL
);

CREATE FUNCTION shop_changes_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    shop bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.shop_id ELSE NEW.shop_id END;
    flag text := 'orders_sync.changed_' || shop;
BEGIN
    IF current_setting(flag, true) IS DISTINCT FROM 'y' THEN
        PERFORM set_config(flag, 'y', true);
        -- A shop deleted in this transaction (its orders went with it) has no counter left.
        INSERT INTO shop_changes AS c (shop_id, n)
        SELECT shop, 1 WHERE EXISTS (SELECT 1 FROM shops WHERE id = shop)
        ON CONFLICT (shop_id) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER orders_changed_rows AFTER INSERT OR DELETE ON orders
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION shop_changes_bump();
-- An update counts when it changes a column a tab rule or a filter reads; the search's columns are
-- not among them (a search is never cached).
CREATE CONSTRAINT TRIGGER orders_changed_counted AFTER UPDATE ON orders
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.shop_id IS DISTINCT FROM NEW.shop_id
          OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.priority IS DISTINCT FROM NEW.priority
          OR OLD.assignee IS DISTINCT FROM NEW.assignee
          OR OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.has_tracking IS DISTINCT FROM NEW.has_tracking
          OR OLD.in_transit_since IS DISTINCT FROM NEW.in_transit_since
          OR OLD.has_open_return IS DISTINCT FROM NEW.has_open_return
          OR OLD.return_state IS DISTINCT FROM NEW.return_state
          OR OLD.support_thread IS DISTINCT FROM NEW.support_thread)
    EXECUTE FUNCTION shop_changes_bump();

-- Emptying the table changes every shop.
CREATE FUNCTION shop_changes_bump_all() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE shop_changes SET n = n + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER orders_truncated AFTER TRUNCATE ON orders
    FOR EACH STATEMENT EXECUTE FUNCTION shop_changes_bump_all();
