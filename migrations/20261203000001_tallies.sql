-- Tab counts at merchant scale (issue 7).
--
-- Every page of the list carries the six tab counts under its filters (SPEC §2), and counting a
-- shop of 300 000 orders row by row costs more than the whole page may. So the orders are also kept
-- counted: `order_tallies` holds, per shop and UTC day of `created_at`, how many orders there are of
-- each combination of the columns the filters and tab rules read. A query sums a few thousand
-- tally rows instead of reading every order, and reads orders only on the days a time cut-off or a
-- date filter splits (server/src/store/postgres/counts.rs).
--
-- Writers never touch `order_tallies` itself: a statement trigger on `orders` appends what each
-- statement changed to `order_tally_changes` (inserts never wait on one another, so concurrent
-- writes neither queue on a hot counter row nor deadlock), and the server folds the changes into
-- the tallies every second (`fold_order_tallies`). Readers add both tables up, so counts are exact
-- at every instant, folded or not.

-- Who owns an order, mirrored from order_assignments so that one row has every counted column (the
-- store writes both in the same statement batch; order_assignments stays the contract's table).
ALTER TABLE orders ADD COLUMN assignee text;
UPDATE orders o SET assignee = a.assignee
FROM order_assignments a
WHERE a.shop_id = o.shop_id AND a.order_id = o.id;

-- The state of the order's newest return (null without one), kept with has_open_return by the same
-- writes: the returns funnel of the dashboard counts it.
ALTER TABLE orders ADD COLUMN return_state text;
UPDATE orders o SET return_state = (
    SELECT r.state FROM returns r WHERE r.shop_id = o.shop_id AND r.order_id = o.id
    ORDER BY r.created_at DESC, r.id DESC LIMIT 1)
WHERE EXISTS (SELECT 1 FROM returns r WHERE r.shop_id = o.shop_id AND r.order_id = o.id);

-- The `assigned_to=<person>` filter, in list order.
CREATE INDEX orders_assignee_idx ON orders (shop_id, assignee, created_at DESC, id DESC)
    WHERE assignee IS NOT NULL;

-- The delayed tab, counted and paged through this index alone, whatever the filters (they are
-- included): its orders are the oldest in transit, so walking the list order for them would read
-- past every recent parcel first.
DROP INDEX orders_delayed_idx;
CREATE INDEX orders_delayed_idx ON orders (shop_id, in_transit_since)
    INCLUDE (status, priority, assignee, created_at, id)
    WHERE in_transit_since IS NOT NULL;

-- The counted columns. `assignee` is '' for an unassigned order and `return_state` '' for an order
-- without a return (neither is ever empty otherwise).
CREATE TABLE order_tallies (
    shop_id          bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    day              date NOT NULL,
    status           text NOT NULL,
    priority         text NOT NULL,
    assignee         text NOT NULL,
    has_tracking     boolean NOT NULL,
    return_state     text NOT NULL,
    has_support      boolean NOT NULL,
    n                bigint NOT NULL,
    PRIMARY KEY (shop_id, day, status, priority, assignee, has_tracking, return_state, has_support)
);

-- What statements changed since the last fold: +n or -n of a combination. No key, no foreign key:
-- rows are only ever appended, then moved into order_tallies.
CREATE TABLE order_tally_changes (
    shop_id          bigint NOT NULL,
    day              date NOT NULL,
    status           text NOT NULL,
    priority         text NOT NULL,
    assignee         text NOT NULL,
    has_tracking     boolean NOT NULL,
    return_state     text NOT NULL,
    has_support      boolean NOT NULL,
    n                bigint NOT NULL
);

CREATE INDEX order_tally_changes_shop_idx ON order_tally_changes (shop_id);

CREATE FUNCTION order_tally_track() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO order_tally_changes
        SELECT shop_id, (created_at AT TIME ZONE 'UTC')::date, status, priority, coalesce(assignee, ''),
               has_tracking, coalesce(return_state, ''), support_thread IS NOT NULL, count(*)
        FROM new_rows
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO order_tally_changes
        SELECT shop_id, (created_at AT TIME ZONE 'UTC')::date, status, priority, coalesce(assignee, ''),
               has_tracking, coalesce(return_state, ''), support_thread IS NOT NULL, -count(*)
        FROM old_rows
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    ELSE
        -- An update that leaves the counted columns alone (most do) cancels out and appends nothing.
        INSERT INTO order_tally_changes
        SELECT shop_id, day, status, priority, assignee, has_tracking, return_state, has_support, sum(n)
        FROM (
            SELECT shop_id, (created_at AT TIME ZONE 'UTC')::date AS day, status, priority,
                   coalesce(assignee, '') AS assignee, has_tracking, coalesce(return_state, '') AS return_state,
                   support_thread IS NOT NULL AS has_support, 1 AS n
            FROM new_rows
            UNION ALL
            SELECT shop_id, (created_at AT TIME ZONE 'UTC')::date, status, priority, coalesce(assignee, ''),
                   has_tracking, coalesce(return_state, ''), support_thread IS NOT NULL, -1
            FROM old_rows
        ) c
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
        HAVING sum(n) <> 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER orders_tally_insert AFTER INSERT ON orders
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION order_tally_track();
CREATE TRIGGER orders_tally_update AFTER UPDATE ON orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION order_tally_track();
CREATE TRIGGER orders_tally_delete AFTER DELETE ON orders
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION order_tally_track();

-- Moves every change into order_tallies; answers how many change rows it moved. A combination that
-- falls to zero keeps its row (there are only as many as a shop has ever had; sums ignore them). One fold at a time (a second caller returns 0 at once); readers see the
-- changes either before or after the move, never both or neither, since it is one transaction.
CREATE FUNCTION fold_order_tallies() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    moved bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('fold_order_tallies')) THEN
        RETURN 0;
    END IF;
    WITH gone AS (
        DELETE FROM order_tally_changes RETURNING *
    ), summed AS (
        SELECT shop_id, day, status, priority, assignee, has_tracking, return_state, has_support,
               sum(n) AS n, count(*) AS rows
        FROM gone
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ), merged AS (
        INSERT INTO order_tallies AS t
        SELECT s.shop_id, s.day, s.status, s.priority, s.assignee, s.has_tracking, s.return_state,
               s.has_support, s.n
        FROM summed s
        WHERE s.n <> 0 AND EXISTS (SELECT 1 FROM shops WHERE shops.id = s.shop_id)
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (shop_id, day, status, priority, assignee, has_tracking, return_state, has_support)
        DO UPDATE SET n = t.n + EXCLUDED.n
    )
    SELECT coalesce(sum(rows), 0) INTO moved FROM summed;
    RETURN moved;
END
$$;

-- The orders that exist now, counted.
INSERT INTO order_tally_changes
SELECT shop_id, (created_at AT TIME ZONE 'UTC')::date, status, priority, coalesce(assignee, ''),
       has_tracking, coalesce(return_state, ''), support_thread IS NOT NULL, count(*)
FROM orders
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
SELECT fold_order_tallies();
