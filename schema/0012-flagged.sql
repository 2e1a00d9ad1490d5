-- 0012-flagged.sql: the bookings flagged as under a blackout, indexed.
--
-- Deleting a blackout (or a calendar source's blackouts) clears the flag
-- of every booking no blackout covers any more: "WHERE
-- affected_by_blackout = 1 AND NOT EXISTS (...)".  Without an index on
-- the flag that read every booking, on the event loop: ~0.1-0.6 s at a
-- million bookings.  Few bookings are ever flagged and a new one never
-- is, so a partial index of the flagged ones costs a booking nothing.
CREATE INDEX reservations_flagged ON reservations(affected_by_blackout)
    WHERE affected_by_blackout = 1;
