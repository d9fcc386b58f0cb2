-- The reconciliation poller (SPEC §7): which process polls a shop right now.
--
-- A process claims a shop before a tick by moving `poll_lease_until` into the future, only if it is
-- empty or already past (one guarded UPDATE, so two processes cannot both win), renews it before
-- each page, and empties it when the tick ends. A process that dies mid-tick holds the shop only
-- until the lease runs out. Lease times are on the database's clock, the one clock every process
-- shares.
ALTER TABLE shops ADD COLUMN poll_lease_until timestamptz;
