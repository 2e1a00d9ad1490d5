-- 0010-status.sql: bookings by status, for lists filtered by one status.
--
-- GET /api/v1/reservations?status=pending (a manager's approval queue),
-- or no_show, cancelled, rejected, completed, with no instrument, user or
-- institute to narrow it, walked every booking in start order looking for
-- that status: 0.4-0.75 s of the event loop at a million bookings when
-- the status is rare, every other request waiting.  Through this index
-- such a list reads only its own rows, already in start order, and stops
-- at the page.  Confirmed bookings are left out: every new booking is
-- confirmed (or pending), so the index costs a booking nothing, and a
-- confirmed booking enters it only once it changes status (completed,
-- cancelled, no_show), once in its life.
CREATE INDEX reservations_status ON reservations(status, start)
    WHERE status <> 'confirmed';
