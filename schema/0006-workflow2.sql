-- 0006-workflow2.sql: the rest of the booking workflow (issue 4): quotas,
-- home priority, violations and suspensions, fault reports.
--
-- Times are INTEGER seconds since the Unix epoch, UTC, as in 0001-init.sql.

-- Home priority: slots starting more than priority_days ahead may only be
-- booked by users of the owner institute (or of its district); 0 is off.
ALTER TABLE instruments ADD COLUMN priority_days INTEGER NOT NULL DEFAULT 0;

-- Who counts as home for priority_days: 'institute' (the owner) or
-- 'district' (every institute of the owner's district).
ALTER TABLE instruments ADD COLUMN priority_scope TEXT NOT NULL
    DEFAULT 'institute' CHECK (priority_scope IN ('institute', 'district'));

-- 1: the instrument's status was set to maintenance by a high fault report
-- (and goes back to active when the last open high fault is resolved).
ALTER TABLE instruments ADD COLUMN fault_blocked INTEGER NOT NULL DEFAULT 0;

-- A cap on what one user (or one institute) may hold of an instrument, or
-- of every instrument of a category, per week or per month of the
-- booked instrument's site zone.
CREATE TABLE quotas (
	id		INTEGER PRIMARY KEY,	-- quota id
	instrument_id	INTEGER REFERENCES instruments(id), -- on this instrument, or NULL
	category	TEXT,			-- on every instrument of this category, or NULL
	per		TEXT NOT NULL CHECK (per IN ('user', 'institute')), -- whose bookings are summed
	period		TEXT NOT NULL CHECK (period IN ('week', 'month')), -- weeks start Monday 00:00
	max_hours	INTEGER,		-- cap on booked hours, or NULL
	max_bookings	INTEGER,		-- cap on the number of bookings, or NULL
	created_by	INTEGER NOT NULL REFERENCES users(id), -- who set it
	created		INTEGER NOT NULL,	-- when
	CHECK ((instrument_id IS NULL) != (category IS NULL)),
	CHECK ((max_hours IS NULL) != (max_bookings IS NULL))
);
CREATE INDEX quotas_instrument ON quotas(instrument_id);
CREATE INDEX quotas_category ON quotas(category);

-- A violation of the booking policy by a user: a no-show, a late
-- cancellation, or using far less than booked (checked in for less than
-- half of the booked time).  Written by the triggers below, once per
-- booking and kind, whatever path changed the booking.
CREATE TABLE violations (
	id		INTEGER PRIMARY KEY,	-- violation id
	user_id		INTEGER NOT NULL REFERENCES users(id), -- whose
	reservation_id	INTEGER NOT NULL REFERENCES reservations(id), -- which booking
	kind		TEXT NOT NULL CHECK (kind IN ('no_show', 'late_cancellation',
	    'underuse')),			-- what happened
	at		INTEGER NOT NULL,	-- when it was recorded
	evaluated	INTEGER NOT NULL DEFAULT 0, -- 1: the suspension rule has seen it
	UNIQUE (reservation_id, kind)
);
CREATE INDEX violations_user ON violations(user_id, at);
CREATE INDEX violations_new ON violations(evaluated) WHERE evaluated = 0;

CREATE TRIGGER violations_no_show AFTER UPDATE OF status ON reservations
WHEN NEW.status = 'no_show' AND OLD.status != 'no_show'
BEGIN
	INSERT OR IGNORE INTO violations (user_id, reservation_id, kind, at)
	VALUES (NEW.user_id, NEW.id, 'no_show', NEW.updated);
END;

-- Completed after using less than half of the booked time: OLD holds the
-- booked slot, since an early check-out moves the end in the same update.
CREATE TRIGGER violations_underuse AFTER UPDATE OF status ON reservations
WHEN NEW.status = 'completed' AND OLD.status = 'confirmed'
    AND NEW.checked_in IS NOT NULL AND NEW.checked_out IS NOT NULL
    AND (NEW.checked_out - NEW.checked_in) * 2 < OLD."end" - OLD.start
BEGIN
	INSERT OR IGNORE INTO violations (user_id, reservation_id, kind, at)
	VALUES (NEW.user_id, NEW.id, 'underuse', NEW.updated);
END;

CREATE TRIGGER violations_late_cancellation AFTER UPDATE OF
    late_cancellation ON reservations
WHEN NEW.late_cancellation = 1 AND OLD.late_cancellation = 0
BEGIN
	INSERT OR IGNORE INTO violations (user_id, reservation_id, kind, at)
	VALUES (NEW.user_id, NEW.id, 'late_cancellation', NEW.updated);
END;

-- A suspension from booking, started by the violation_limit-th violation
-- within violation_window_days (yiqid.conf); honoured at every site.
CREATE TABLE suspensions (
	id		INTEGER PRIMARY KEY,	-- suspension id
	user_id		INTEGER NOT NULL REFERENCES users(id), -- who may not book
	start		INTEGER NOT NULL,	-- the violation that started it
	until		INTEGER NOT NULL,	-- first second the user may book again
	violations	INTEGER NOT NULL,	-- how many violations it counted
	lifted		INTEGER,		-- when an admin lifted it, or NULL
	lifted_by	INTEGER REFERENCES users(id) -- the admin who lifted it, or NULL
);
CREATE INDEX suspensions_user ON suspensions(user_id, until);

-- A fault on an instrument reported by any user; a high one blocks new
-- bookings (the instrument goes to maintenance) until it is resolved.
CREATE TABLE faults (
	id		INTEGER PRIMARY KEY,	-- fault id
	instrument_id	INTEGER NOT NULL REFERENCES instruments(id), -- what is broken
	severity	TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')), -- how badly
	description	TEXT NOT NULL,		-- what the reporter saw
	reported_by	INTEGER NOT NULL REFERENCES users(id), -- who reported it
	created		INTEGER NOT NULL,	-- when
	resolved	INTEGER,		-- when a manager resolved it, or NULL: open
	resolved_by	INTEGER REFERENCES users(id), -- that manager, or NULL
	resolution	TEXT			-- what was done, or NULL
);
CREATE INDEX faults_open ON faults(instrument_id) WHERE resolved IS NULL;
