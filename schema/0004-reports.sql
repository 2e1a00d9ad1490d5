-- 0004-reports.sql: what the utilisation reports (docs/reports.md) need.
--
-- A report reads every booking whose slot overlaps its period: this index
-- lets a report over one month of many years' history read only that
-- month instead of the whole table.

-- Bookings by start time, for reports over a period.
CREATE INDEX reservations_start ON reservations(start);
