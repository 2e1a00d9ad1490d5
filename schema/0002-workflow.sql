-- 0002-workflow.sql: the booking workflow (issue 4): late cancellations,
-- who decided on a pending booking, and qualifications.
--
-- Times are INTEGER seconds since the Unix epoch, UTC, as in 0001-init.sql.

-- 1: the booking was cancelled by its owner less than late_cancel_hours
-- (yiqid.conf) before its start; reports count these.
ALTER TABLE reservations ADD COLUMN late_cancellation INTEGER NOT NULL DEFAULT 0;

-- When a manager approved or rejected the booking, or NULL.
ALTER TABLE reservations ADD COLUMN decided INTEGER;

-- Who approved or rejected it, or NULL.
ALTER TABLE reservations ADD COLUMN decided_by INTEGER REFERENCES users(id);

-- A user's qualification to book an instrument, or every instrument of a
-- category, granted by a manager; valid until "expires" (if set).
CREATE TABLE qualifications (
	id		INTEGER PRIMARY KEY,	-- qualification id
	user_id		INTEGER NOT NULL REFERENCES users(id), -- who is qualified
	instrument_id	INTEGER REFERENCES instruments(id), -- on this instrument, or NULL
	category	TEXT,			-- on every instrument of this category, or NULL
	until		TEXT,			-- last valid day, YYYY-MM-DD, or NULL: no expiry
	expires		INTEGER,		-- first second no longer valid (UTC), or NULL
	granted_by	INTEGER NOT NULL REFERENCES users(id), -- the manager who granted it
	created		INTEGER NOT NULL,	-- when it was granted (or last renewed)
	CHECK ((instrument_id IS NULL) != (category IS NULL))
);
CREATE UNIQUE INDEX qualifications_instrument ON qualifications(user_id,
    instrument_id) WHERE instrument_id IS NOT NULL;
CREATE UNIQUE INDEX qualifications_category ON qualifications(user_id,
    category) WHERE category IS NOT NULL;

-- The no-show sweep looks for confirmed bookings not checked in by start.
CREATE INDEX reservations_noshow ON reservations(start)
    WHERE status = 'confirmed' AND checked_in IS NULL;
