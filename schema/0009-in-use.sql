-- 0009-in-use.sql: the bookings in progress, for the workflow sweep.
--
-- Every timer_interval (a minute) the loop completes the bookings that are
-- checked in and past their end (daemon/workflow.c).  No index served
-- that query: it read the whole of reservations_report, ~80 ms of the
-- event loop every minute at a million bookings, during which nothing
-- else was answered.  Only bookings checked in and not yet completed are
-- in this index (a handful at any time), so it costs nothing to a new
-- booking, which is never checked in.
CREATE INDEX reservations_in_use ON reservations("end")
    WHERE status = 'confirmed' AND checked_in IS NOT NULL;
