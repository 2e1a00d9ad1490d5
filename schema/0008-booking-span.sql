-- 0008-booking-span.sql: the longest booking ever stored, so that a search
-- for the bookings overlapping a period can bound its walk of an index on
-- start from below: a booking that ends after :from starts after
-- :from - longest.  Kept by triggers, so every writer keeps it right.

-- One row: the longest "end" - start, in seconds, of any reservation ever
-- inserted or moved.  It only grows (a shortened booking leaves it as it
-- was, which only makes the bound looser).
CREATE TABLE booking_span (
	longest		INTEGER NOT NULL	-- seconds
);
INSERT INTO booking_span (longest)
    SELECT coalesce(max("end" - start), 0) FROM reservations;

-- A new booking longer than every earlier one raises the mark.
CREATE TRIGGER booking_span_insert AFTER INSERT ON reservations
WHEN NEW."end" - NEW.start > (SELECT longest FROM booking_span)
BEGIN
	UPDATE booking_span SET longest = NEW."end" - NEW.start;
END;

-- So does a booking moved or resized to be longer.
CREATE TRIGGER booking_span_update AFTER UPDATE OF start, "end" ON reservations
WHEN NEW."end" - NEW.start > (SELECT longest FROM booking_span)
BEGIN
	UPDATE booking_span SET longest = NEW."end" - NEW.start;
END;
