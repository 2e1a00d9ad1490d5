-- 0003-feeds.sql: external iCalendar calendars that yiqid polls (issue 3).
--
-- An instrument or a site may subscribe to calendars elsewhere (a vendor's
-- service schedule, the parks' holiday calendar).  Their events become
-- blackouts with source "calendar:ID" (ID a row of calendar_sources) and
-- external_uid the event's UID; every successful poll replaces that set,
-- so an event removed upstream is removed here.  A failed or malformed
-- fetch keeps the last good set and is recorded here.

-- An external calendar and the state of its polling.
CREATE TABLE calendar_sources (
	id		INTEGER PRIMARY KEY,	-- source id, in "calendar:ID"
	instrument_id	INTEGER REFERENCES instruments(id), -- blacks out one instrument, or NULL
	site_id		INTEGER REFERENCES sites(id),	-- or a whole site, or NULL
	url		TEXT NOT NULL,		-- http(s) URL of the .ics
	etag		TEXT,			-- ETag of the last good answer, for If-None-Match
	last_modified	TEXT,			-- its Last-Modified, for If-Modified-Since
	last_poll	INTEGER,		-- when the last poll finished (UTC), or NULL
	last_ok		INTEGER,		-- when a poll last succeeded (200 or 304), or NULL
	last_status	INTEGER NOT NULL DEFAULT 0, -- HTTP status of the last poll (0: no answer)
	last_error	TEXT NOT NULL DEFAULT '', -- why the last poll failed ('' if it did not)
	failures	INTEGER NOT NULL DEFAULT 0, -- polls failed in a row (drives the backoff)
	next_poll	INTEGER NOT NULL DEFAULT 0, -- when to poll next (UTC); 0: now
	blackouts	INTEGER NOT NULL DEFAULT 0, -- blackouts made by the last good poll
	created_by	INTEGER REFERENCES users(id), -- who added it
	created		INTEGER NOT NULL,	-- when it was added
	CHECK ((instrument_id IS NULL) != (site_id IS NULL))
);
CREATE INDEX calendar_sources_next ON calendar_sources(next_poll);
-- Blackouts by source, for replacing a calendar's set at each poll.
CREATE INDEX blackouts_source ON blackouts(source, external_uid);
