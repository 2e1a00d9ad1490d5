-- 0001-init.sql: the initial yiqi schema.
--
-- Times are INTEGER seconds since the Unix epoch, UTC.  Money is INTEGER fen.
-- Every table and column says what it holds.  Migrations run in order at
-- start-up inside one transaction each; PRAGMA user_version records the last.

-- A district of the sharing agreement (hechuan, wusheng, ...).
CREATE TABLE districts (
	id	INTEGER PRIMARY KEY,	-- row id
	code	TEXT NOT NULL UNIQUE,	-- short lower-case code, e.g. "hechuan"
	name	TEXT NOT NULL		-- display name, e.g. "Hechuan (Chongqing)"
);

-- A park (site) where instruments stand.
CREATE TABLE sites (
	id		INTEGER PRIMARY KEY,	-- row id
	code		TEXT NOT NULL UNIQUE,	-- e.g. "HC-HTZ"
	name		TEXT NOT NULL,		-- full name of the park
	district_id	INTEGER NOT NULL REFERENCES districts(id), -- its district
	timezone	TEXT NOT NULL DEFAULT 'Asia/Shanghai' -- canonical IANA zone
);

-- An institute: a university lab, a company, a testing centre.  Users
-- belong to one; bookings are billed to it.
CREATE TABLE institutes (
	id		INTEGER PRIMARY KEY,	-- row id
	code		TEXT NOT NULL UNIQUE,	-- e.g. "CQU-CHEM"
	name		TEXT NOT NULL,		-- display name
	district_id	INTEGER NOT NULL REFERENCES districts(id), -- its district
	private		INTEGER NOT NULL DEFAULT 0 -- 1: others see its bookings only as "busy"
);

-- A person who uses yiqi.
CREATE TABLE users (
	id		INTEGER PRIMARY KEY,	-- row id
	login		TEXT NOT NULL UNIQUE,	-- login name, e.g. "wang.li"
	name		TEXT NOT NULL,		-- display name
	email		TEXT NOT NULL DEFAULT '', -- contact address, may be empty
	institute_id	INTEGER NOT NULL REFERENCES institutes(id), -- institute billed
	role		TEXT NOT NULL DEFAULT 'member'
	    CHECK (role IN ('member', 'manager', 'park_manager', 'admin')), -- SPEC §4
	created		INTEGER NOT NULL	-- when the user was created
);

-- Secrets that authenticate a user.  Only the SHA-256 of a token is kept.
CREATE TABLE tokens (
	id		INTEGER PRIMARY KEY,	-- token id, shown to its user for revocation
	user_id		INTEGER NOT NULL REFERENCES users(id), -- whose token
	kind		TEXT NOT NULL DEFAULT 'api'
	    CHECK (kind IN ('api', 'feed')),	-- API bearer token or read-only feed token
	hash		BLOB NOT NULL UNIQUE,	-- SHA-256 of the token text
	label		TEXT NOT NULL DEFAULT '', -- what the user called it
	created		INTEGER NOT NULL,	-- when it was made
	last_used	INTEGER,		-- last request with it (coarse), or NULL
	revoked		INTEGER			-- when it was revoked, or NULL if live
);
CREATE INDEX tokens_user ON tokens(user_id);

-- An instrument and its booking rules (SPEC §3).
CREATE TABLE instruments (
	id		INTEGER PRIMARY KEY,	-- row id
	code		TEXT NOT NULL UNIQUE,	-- e.g. "HC-ICPMS-01"
	name		TEXT NOT NULL,		-- display name
	category	TEXT NOT NULL DEFAULT '', -- e.g. "mass-spectrometry"
	manufacturer	TEXT NOT NULL DEFAULT '', -- maker
	model		TEXT NOT NULL DEFAULT '', -- maker's model name
	site_id		INTEGER NOT NULL REFERENCES sites(id), -- where it stands
	room		TEXT NOT NULL DEFAULT '', -- room within the site
	owner_id	INTEGER NOT NULL REFERENCES institutes(id), -- owning institute
	status		TEXT NOT NULL DEFAULT 'active'
	    CHECK (status IN ('active', 'maintenance', 'retired')), -- only active is bookable
	description	TEXT NOT NULL DEFAULT '', -- free text
	granularity_min	INTEGER NOT NULL DEFAULT 30,	-- starts/ends on multiples from local midnight
	min_duration_min INTEGER NOT NULL DEFAULT 30,	-- shortest booking
	max_duration_min INTEGER NOT NULL DEFAULT 480,	-- longest booking
	advance_days	INTEGER NOT NULL DEFAULT 90,	-- how far ahead one may book
	buffer_min	INTEGER NOT NULL DEFAULT 0,	-- free time kept between bookings
	opening_hours	TEXT NOT NULL DEFAULT '24/7',	-- site-local bookable hours
	requires_approval INTEGER NOT NULL DEFAULT 0,	-- 1: bookings start pending
	requires_qualification INTEGER NOT NULL DEFAULT 0, -- 1: only qualified users
	rate_internal	INTEGER NOT NULL DEFAULT 0,	-- fen per hour, owner's users
	rate_external	INTEGER NOT NULL DEFAULT 0,	-- fen per hour, everyone else
	created		INTEGER NOT NULL,	-- when it was added
	updated		INTEGER NOT NULL	-- last change
);
CREATE INDEX instruments_site ON instruments(site_id);
CREATE INDEX instruments_category ON instruments(category);

-- Which instruments a manager manages.
CREATE TABLE user_instruments (
	user_id		INTEGER NOT NULL REFERENCES users(id),	-- the manager
	instrument_id	INTEGER NOT NULL REFERENCES instruments(id), -- what they manage
	PRIMARY KEY (user_id, instrument_id)
) WITHOUT ROWID;
CREATE INDEX user_instruments_instrument ON user_instruments(instrument_id);

-- Which sites a park manager covers (none listed: all sites).
CREATE TABLE user_sites (
	user_id		INTEGER NOT NULL REFERENCES users(id),	-- the park manager
	site_id		INTEGER NOT NULL REFERENCES sites(id),	-- a site they cover
	PRIMARY KEY (user_id, site_id)
) WITHOUT ROWID;

-- A recurring series of reservations (filled by the workflow issue).
CREATE TABLE series (
	id		INTEGER PRIMARY KEY,	-- series id
	rrule		TEXT NOT NULL,		-- RFC 5545 RRULE it was expanded from
	created		INTEGER NOT NULL	-- when it was made
);

-- A booking of an instrument (SPEC §5).
CREATE TABLE reservations (
	id		INTEGER PRIMARY KEY,	-- reservation id
	uid		TEXT NOT NULL UNIQUE,	-- stable iCalendar UID
	instrument_id	INTEGER NOT NULL REFERENCES instruments(id), -- what is booked
	user_id		INTEGER NOT NULL REFERENCES users(id),	-- for whom
	institute_id	INTEGER NOT NULL REFERENCES institutes(id), -- billed institute
	start		INTEGER NOT NULL,	-- first second of the slot (UTC)
	"end"		INTEGER NOT NULL CHECK ("end" > start), -- first second after the slot
	status		TEXT NOT NULL
	    CHECK (status IN ('pending', 'confirmed', 'rejected', 'cancelled',
	    'completed', 'no_show')),		-- lifecycle state
	purpose		TEXT NOT NULL DEFAULT '', -- what it is for (private detail)
	project		TEXT NOT NULL DEFAULT '', -- project or grant code (private)
	series_id	INTEGER REFERENCES series(id), -- recurring series, or NULL
	created		INTEGER NOT NULL,	-- when it was made
	updated		INTEGER NOT NULL,	-- last change
	sequence	INTEGER NOT NULL DEFAULT 0, -- bumped on every change (iCal SEQUENCE)
	checked_in	INTEGER,		-- check-in time, or NULL
	checked_out	INTEGER,		-- check-out time, or NULL
	affected_by_blackout INTEGER NOT NULL DEFAULT 0, -- 1: a blackout covers it
	cancel_reason	TEXT NOT NULL DEFAULT '', -- why it was cancelled or rejected
	created_by	INTEGER NOT NULL REFERENCES users(id) -- who made it (a manager may book for others)
);
-- The overlap check walks only slot-holding bookings that end after the new
-- start: (instrument, end, start), not (instrument, start), which would walk
-- the whole history of the instrument.
CREATE INDEX reservations_overlap ON reservations(instrument_id, "end", start)
    WHERE status IN ('pending', 'confirmed');
CREATE INDEX reservations_instrument_start ON reservations(instrument_id, start);
CREATE INDEX reservations_user ON reservations(user_id, start);
CREATE INDEX reservations_institute ON reservations(institute_id, start);

-- The guarantee, enforced by the database itself: a slot-holding reservation
-- never overlaps another of the same instrument, buffer included.  The
-- daemon checks first to answer 409 with details; these triggers make any
-- other path (a bug, a second writer) fail instead of double-booking.
CREATE TRIGGER reservations_no_overlap_insert
BEFORE INSERT ON reservations
WHEN NEW.status IN ('pending', 'confirmed')
BEGIN
	SELECT RAISE(ABORT, 'overlap')
	WHERE EXISTS (
		SELECT 1 FROM reservations r, instruments i
		WHERE i.id = NEW.instrument_id
		AND r.instrument_id = NEW.instrument_id
		AND r.status IN ('pending', 'confirmed')
		AND r."end" > NEW.start - i.buffer_min * 60
		AND r.start < NEW."end" + i.buffer_min * 60);
END;

CREATE TRIGGER reservations_no_overlap_update
BEFORE UPDATE OF start, "end", status, instrument_id ON reservations
WHEN NEW.status IN ('pending', 'confirmed')
BEGIN
	SELECT RAISE(ABORT, 'overlap')
	WHERE EXISTS (
		SELECT 1 FROM reservations r, instruments i
		WHERE i.id = NEW.instrument_id
		AND r.instrument_id = NEW.instrument_id
		AND r.id != NEW.id
		AND r.status IN ('pending', 'confirmed')
		AND r."end" > NEW.start - i.buffer_min * 60
		AND r.start < NEW."end" + i.buffer_min * 60);
END;

-- Time an instrument or a whole site cannot be booked.
CREATE TABLE blackouts (
	id		INTEGER PRIMARY KEY,	-- blackout id
	instrument_id	INTEGER REFERENCES instruments(id), -- one instrument, or NULL
	site_id		INTEGER REFERENCES sites(id),	-- a whole site, or NULL
	start		INTEGER NOT NULL,	-- first second (UTC)
	"end"		INTEGER NOT NULL CHECK ("end" > start), -- first second after
	reason		TEXT NOT NULL DEFAULT '', -- maintenance, calibration, closure ...
	source		TEXT NOT NULL DEFAULT 'manual', -- manual, ics upload, or a feed URL
	external_uid	TEXT,			-- UID in the external calendar, if any
	created_by	INTEGER REFERENCES users(id), -- who made it (NULL: a feed)
	created		INTEGER NOT NULL,	-- when it was made
	CHECK ((instrument_id IS NULL) != (site_id IS NULL))
);
CREATE INDEX blackouts_instrument ON blackouts(instrument_id, "end", start);
CREATE INDEX blackouts_site ON blackouts(site_id, "end", start);

-- Append-only record of every change: who did what to which object, when.
CREATE TABLE audit (
	id		INTEGER PRIMARY KEY,	-- sequence number
	at		INTEGER NOT NULL,	-- when (UTC seconds)
	user_id		INTEGER REFERENCES users(id), -- who (NULL: the daemon itself)
	action		TEXT NOT NULL,		-- e.g. "reservation.create"
	object		TEXT NOT NULL,		-- object type, e.g. "reservation"
	object_id	TEXT NOT NULL,		-- its id or code
	detail		TEXT NOT NULL DEFAULT '{}' -- JSON: what changed
);
CREATE INDEX audit_object ON audit(object, object_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only');
END;

INSERT INTO districts (code, name) VALUES
	('hechuan', 'Hechuan (Chongqing)'),
	('wusheng', 'Wusheng (Sichuan)');
