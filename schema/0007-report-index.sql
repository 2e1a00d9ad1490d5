-- 0007-report-index.sql: a covering index for the utilisation reports
-- (docs/reports.md, "How it runs").
--
-- A report reads every booking overlapping its period: a year of a large
-- park is a million rows.  Through reservations_start (0004) each index
-- entry costs a seek into the table for the other columns; this index
-- holds every column the report reads, so the report walks it alone, in
-- start order, and never touches the table (a year of 1M bookings: ~0.65
-- -> ~0.5 s of SQLite time, and far less when bookings were not inserted
-- in start order, where each seek would land on a different page).
--
-- It replaces reservations_start, whose leading column it shares, so a
-- new booking still writes one index for reports, only a wider entry
-- (~45 instead of ~12 bytes).  What it adds: changing a booking's status,
-- usage type, check-in or check-out now rewrites this entry too (one more
-- index write when a booking is cancelled, checked in, checked out or
-- completed).

DROP INDEX reservations_start;

-- Bookings by start time with what a report reads of each: the period
-- test (start, end), the status, the instrument and billed institute, the
-- usage type, the late-cancellation flag and the check-in/out times.
CREATE INDEX reservations_report ON reservations(start, "end", status,
    instrument_id, institute_id, usage_type, late_cancellation, checked_in,
    checked_out);
