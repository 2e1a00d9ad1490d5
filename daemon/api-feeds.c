/*
 * api-feeds.c: the iCalendar feeds and the feed tokens that open them.
 *
 *	GET    /feeds/instruments/{code}.ics		bookings and blackouts
 *	GET    /feeds/sites/{code}.ics			a whole park
 *	GET    /feeds/institutes/{code}.ics		an institute's bookings
 *	GET    /feeds/users/{login}.ics			one person's bookings
 *	GET    /feeds/instruments/{code}/freebusy.ics	VFREEBUSY only
 *	POST   /api/v1/users/{login}/feed-token		create or rotate
 *	DELETE /api/v1/users/{login}/feed-token		revoke
 *
 * Calendar programs cannot send headers, so a feed is opened with the
 * user's read-only feed token in ?token= (kind 'feed' in the tokens table;
 * only its SHA-256 is kept).  A feed token never opens the API and an API
 * token never opens a feed.  The token is checked on every request, 304s
 * included, and the feed holds only what its user may see (SPEC §4):
 * others' bookings are "busy" with the booking institute's name, or just
 * "busy" for a private institute.
 *
 * Conditional GET: every change the daemon makes is written to the audit
 * table, so the newest audit row stands for "what any feed shows may have
 * changed".  The ETag hashes it with the feed, its window and the viewer
 * (so that a cache never hands one viewer's feed to another), and a 304 is
 * answered from that without building the feed.  The default window (30
 * days back, a year ahead) and the time cancelled bookings are kept (30
 * days after the cancellation, so that subscribed calendars remove them)
 * move a day at a time, and the day is part of the ETag too.
 *
 * Rendering: each booking's VEVENT is built with libical once and kept in
 * the daemon's feed cache (feedcache.c) with the exact inputs it was
 * built from, under its id and what the viewer may see of it; a feed is
 * assembled from those texts and renders only the bookings whose inputs
 * changed.  The last few whole feeds are kept under their ETag for the
 * clients that fetch without a conditional request.
 *
 * Off the loop: the bookings' SQL runs on a worker thread (feedjob.c) with
 * its own read-only connection, which also reads the feed's version in
 * the same transaction; the loop answers when the rows are back
 * (feed_done()), so the ETag of a built feed never claims data newer than
 * its bookings.  Blackouts and free/busy are read on the loop.
 */

#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <sodium.h>

#include "yiqid.h"

#define FEED_BACK_DAYS		30	/* default window: days back */
#define FEED_AHEAD_DAYS		366	/* default window: days ahead */
#define FEED_WINDOW_MAX_DAYS	800	/* longest window asked for */
#define FEED_CANCEL_KEEP_DAYS	30	/* cancelled bookings stay this long */
#define FEED_EVENTS_MAX		20000	/* bookings in one feed */
#define FEED_REFRESH_MIN	60	/* REFRESH-INTERVAL, X-PUBLISHED-TTL */
#define FEED_CTYPE		"text/calendar; charset=utf-8"
#define FEED_RETRY_AFTER	"5"	/* seconds, when too many are built */

#define FEED_SEES_MEMO		256	/* instruments remembered per feed */
#define FEED_SLICE_RENDERS	128	/* events rendered per slice: ~3 ms */

/* Variants of a cached event: what the viewer may see of it. */
#define FEED_V_BUSY		0	/* another's booking: "busy" */
#define FEED_V_FULL		1	/* the booking in full */
#define FEED_V_BLACKOUT		2	/* a blackout */

/* The inputs of one event, the key a cached rendering must match. */
struct feed_key {
	char	*p;
	size_t	 len;
	size_t	 size;
};

/* One booking's text in a struct feed_events. */
struct feed_ev {
	int64_t		 start;
	int64_t		 id;
	const char	*text;		/* held in the cache, or NULL: ... */
	size_t		 off;		/* ... in the buffer */
	size_t		 len;
	size_t		 zone;		/* index in zones */
};

/*
 * The bookings of a feed as they are read, to be put in order (start, id)
 * afterwards: sorting here is cheaper than SQLite's sorter of whole rows.
 */
struct feed_events {
	struct feed_ev	*ev;
	size_t		 n;
	size_t		 nalloc;
	char		*buf;		/* the texts not held in the cache */
	size_t		 len;
	size_t		 size;
	size_t		 total;		/* all texts' length */
	char		**zones;	/* the zones used, each once */
	size_t		 nzones;
	struct {
		int64_t	 instrument;	/* 0: empty */
		int	 sees;
	}		 sees[FEED_SEES_MEMO];	/* see feed_sees() */
};

enum feed_kind {
	FEED_INSTRUMENT = 0,
	FEED_SITE,
	FEED_INSTITUTE,
	FEED_USER,
	FEED_FREEBUSY
};

static const char *const feed_kinds[] = {
	"instrument", "site", "institute", "user", "freebusy"
};

/* One feed request once its scope is known. */
struct feed {
	enum feed_kind	 kind;
	int64_t		 id;		/* instrument, site, institute, user */
	int64_t		 site_id;	/* the instrument's or the site */
	char		*code;		/* its code or login */
	char		*name;		/* calendar name */
	char		*zone;		/* default zone, or NULL */
	time_t		 from;
	time_t		 to;
	time_t		 keep;		/* cancelled since then are shown */
	time_t		 day;		/* today, 00:00 UTC */
	time_t		 modified;	/* Last-Modified */
	char		 etag[40];
	/* Its bookings, while they are read in slices (feed_pass()). */
	struct req	*r;
	struct feedjob	*job;
	struct feed_events fe;
	size_t		 row;		/* the next row of job */
	struct event	*slice;		/* the next slice */
	int		 slices;	/* slices so far */
};

/*
 * The columns of a feed's rows, in the order of the enum below, as
 * feedjob.c copies them: those of the booking from FEED_SELECT, those of
 * its instrument and site, user and institute from feed_dims, each row of
 * which the job reads once per feed (a join read them again for every
 * booking: a third of a site feed's query).  The bytes of a row are the
 * same either way, and the feed cache keys events by them.
 */
#define FEED_SELECT \
	"SELECT r.id, r.uid, r.start, r.\"end\", r.status, r.purpose, " \
	"r.project, r.updated, r.sequence, r.user_id, r.instrument_id, " \
	"r.created, r.cancel_reason, r.institute_id FROM reservations r "
#define FEED_WHERE \
	"WHERE r.\"end\" > :from AND r.start < :to AND " \
	"r.start > :from - " LONGEST_SQL " AND (r.status NOT IN " \
	"('cancelled', 'rejected') OR r.updated >= :keep) AND "
#define FEED_BY_SITE \
	FEED_SELECT "JOIN instruments i ON i.id = r.instrument_id " FEED_WHERE
#define FEED_ORDER " ORDER BY r.start, r.id LIMIT :max"
#define FEED_ANY_ORDER " LIMIT :max"
enum {		/* FEED_SELECT's columns */
	Q_ID, Q_UID, Q_START, Q_END, Q_STATUS, Q_PURPOSE, Q_PROJECT,
	Q_UPDATED, Q_SEQUENCE, Q_USER_ID, Q_INSTRUMENT_ID, Q_CREATED,
	Q_CANCEL_REASON, Q_INSTITUTE_ID
};
enum { D_INSTRUMENT, D_USER, D_INSTITUTE };
static const struct feedjob_dim feed_dims[] = {
	[D_INSTRUMENT] = { "SELECT i.code, i.name, i.room, s.name, "
	    "s.timezone, i.site_id FROM instruments i JOIN sites s ON "
	    "s.id = i.site_id WHERE i.id = ?", Q_INSTRUMENT_ID },
	[D_USER] = { "SELECT login, name FROM users WHERE id = ?", Q_USER_ID },
	[D_INSTITUTE] = { "SELECT code, name, private FROM institutes WHERE "
	    "id = ?", Q_INSTITUTE_ID }
};
enum {		/* a feed row's columns */
	F_ID, F_UID, F_INSTRUMENT, F_INSTRUMENT_NAME, F_ROOM, F_SITE_NAME,
	F_ZONE, F_LOGIN, F_USER_NAME, F_INSTITUTE, F_INSTITUTE_NAME,
	F_PRIVATE, F_START, F_END, F_STATUS, F_PURPOSE, F_PROJECT, F_UPDATED,
	F_SEQUENCE, F_USER_ID, F_INSTRUMENT_ID, F_SITE_ID, F_CREATED,
	F_CANCEL_REASON, F_NCOLS
};
static const struct feedjob_col feed_layout[F_NCOLS] = {
	[F_ID] = { -1, Q_ID },
	[F_UID] = { -1, Q_UID },
	[F_INSTRUMENT] = { D_INSTRUMENT, 0 },
	[F_INSTRUMENT_NAME] = { D_INSTRUMENT, 1 },
	[F_ROOM] = { D_INSTRUMENT, 2 },
	[F_SITE_NAME] = { D_INSTRUMENT, 3 },
	[F_ZONE] = { D_INSTRUMENT, 4 },
	[F_LOGIN] = { D_USER, 0 },
	[F_USER_NAME] = { D_USER, 1 },
	[F_INSTITUTE] = { D_INSTITUTE, 0 },
	[F_INSTITUTE_NAME] = { D_INSTITUTE, 1 },
	[F_PRIVATE] = { D_INSTITUTE, 2 },
	[F_START] = { -1, Q_START },
	[F_END] = { -1, Q_END },
	[F_STATUS] = { -1, Q_STATUS },
	[F_PURPOSE] = { -1, Q_PURPOSE },
	[F_PROJECT] = { -1, Q_PROJECT },
	[F_UPDATED] = { -1, Q_UPDATED },
	[F_SEQUENCE] = { -1, Q_SEQUENCE },
	[F_USER_ID] = { -1, Q_USER_ID },
	[F_INSTRUMENT_ID] = { -1, Q_INSTRUMENT_ID },
	[F_SITE_ID] = { D_INSTRUMENT, 5 },
	[F_CREATED] = { -1, Q_CREATED },
	[F_CANCEL_REASON] = { -1, Q_CANCEL_REASON }
};

/* Columns of the blackout queries. */
#define FEED_BLACKOUTS \
	"SELECT b.id, b.start, b.\"end\", b.reason, b.created, i.code, " \
	"i.room, s.name, s.timezone, s.code FROM blackouts b " \
	"LEFT JOIN instruments i ON i.id = b.instrument_id " \
	"JOIN sites s ON s.id = coalesce(b.site_id, i.site_id) " \
	"WHERE b.\"end\" > :from AND b.start < :to AND "

static void	feeds_instrument(struct req *);
static void	feeds_site(struct req *);
static void	feeds_institute(struct req *);
static void	feeds_user(struct req *);
static void	feeds_freebusy(struct req *);
static void	feeds_token_new(struct req *);
static void	feeds_token_revoke(struct req *);

const struct route api_feeds_routes[] = {
	{ EVHTTP_REQ_GET, "/feeds/instruments/*.ics", R_NOAUTH,
	    feeds_instrument },
	{ EVHTTP_REQ_HEAD, "/feeds/instruments/*.ics", R_NOAUTH,
	    feeds_instrument },
	{ EVHTTP_REQ_GET, "/feeds/instruments/*/freebusy.ics", R_NOAUTH,
	    feeds_freebusy },
	{ EVHTTP_REQ_HEAD, "/feeds/instruments/*/freebusy.ics", R_NOAUTH,
	    feeds_freebusy },
	{ EVHTTP_REQ_GET, "/feeds/sites/*.ics", R_NOAUTH, feeds_site },
	{ EVHTTP_REQ_HEAD, "/feeds/sites/*.ics", R_NOAUTH, feeds_site },
	{ EVHTTP_REQ_GET, "/feeds/institutes/*.ics", R_NOAUTH,
	    feeds_institute },
	{ EVHTTP_REQ_HEAD, "/feeds/institutes/*.ics", R_NOAUTH,
	    feeds_institute },
	{ EVHTTP_REQ_GET, "/feeds/users/*.ics", R_NOAUTH, feeds_user },
	{ EVHTTP_REQ_HEAD, "/feeds/users/*.ics", R_NOAUTH, feeds_user },
	{ EVHTTP_REQ_POST, "/api/v1/users/*/feed-token", 0, feeds_token_new },
	{ EVHTTP_REQ_DELETE, "/api/v1/users/*/feed-token", 0,
	    feeds_token_revoke },
	{ 0, NULL, 0, NULL }
};

static void	events_free(struct feed_events *);

static void
feed_free(struct feed *f)
{
	free(f->code);
	free(f->name);
	free(f->zone);
	events_free(&f->fe);
	if (f->slice != NULL)
		event_free(f->slice);
}

/*
 * Authenticate a feed request from ?token= (a live feed token only) and
 * set r->user.  Answers 401 and returns -1 otherwise.
 */
static int
feed_auth(struct req *r)
{
	static const char *const q =
	    "SELECT t.id, u.id, u.login, u.name, u.institute_id, u.role, "
	    "coalesce(t.last_used, 0) FROM tokens t JOIN users u ON "
	    "u.id = t.user_id WHERE t.hash = :h AND t.kind = 'feed' AND "
	    "t.revoked IS NULL";
	static const char *const q_used =
	    "UPDATE tokens SET last_used = :now WHERE id = :id";
	sqlite3_stmt	*st;
	unsigned char	 hash[32];
	const char	*tok = req_query(r, "token");
	struct user	*u;
	time_t		 now, last;

	if (tok == NULL || *tok == '\0' || strlen(tok) > 256)
		goto fail;
	token_hash(tok, hash);
	st = db_prepare(r->ctx, q);
	db_bind_blob(st, ":h", hash, sizeof hash);
	if (db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		goto fail;
	}
	u = xcalloc(1, sizeof *u);
	u->token_id = sqlite3_column_int64(st, 0);
	u->id = sqlite3_column_int64(st, 1);
	u->login = db_text(st, 2);
	u->name = db_text(st, 3);
	u->institute_id = sqlite3_column_int64(st, 4);
	if (role_parse((const char *)sqlite3_column_text(st, 5), &u->role) == -1)
		u->role = ROLE_MEMBER;
	last = sqlite3_column_int64(st, 6);
	sqlite3_reset(st);
	r->user = u;

	/* Record use coarsely (hourly), as for API tokens. */
	now = db_now(r->ctx);
	if (now - last > 3600) {
		st = db_prepare(r->ctx, q_used);
		db_bind_int(st, ":now", now);
		db_bind_int(st, ":id", u->token_id);
		if (db_step(st) != SQLITE_DONE)
			log_debug("%s: last_used not updated", __func__);
		sqlite3_reset(st);
	}
	return (0);
fail:
	api_error(r, 401, "unauthenticated", "a valid feed token is needed "
	    "(?token=); yiqi feed-url prints a URL with one");
	return (-1);
}

/* Look up an instrument or a site by code into f; -1 if there is none. */
static int
feed_place(struct req *r, struct feed *f)
{
	static const char *const q_instrument =
	    "SELECT i.id, i.site_id, i.code || ' ' || i.name, s.timezone "
	    "FROM instruments i JOIN sites s ON s.id = i.site_id "
	    "WHERE i.code = :c";
	static const char *const q_site =
	    "SELECT id, id, code || ' ' || name, timezone FROM sites "
	    "WHERE code = :c";
	sqlite3_stmt	*st;
	int		 found;

	st = db_prepare(r->ctx, f->kind == FEED_SITE ? q_site : q_instrument);
	db_bind_text(st, ":c", r->args[0]);
	if ((found = db_step(st) == SQLITE_ROW)) {
		f->id = sqlite3_column_int64(st, 0);
		f->site_id = sqlite3_column_int64(st, 1);
		f->name = db_text(st, 2);
		f->zone = db_text(st, 3);
	}
	sqlite3_reset(st);
	if (!found) {
		api_error(r, 404, "not_found", "no such %s: %s",
		    feed_kinds[f->kind == FEED_SITE ? FEED_SITE :
		    FEED_INSTRUMENT], r->args[0]);
		return (-1);
	}
	if (f->kind == FEED_FREEBUSY) {
		free(f->name);
		xasprintf(&f->name, "%s (free/busy)", r->args[0]);
	}
	return (0);
}

/*
 * Look up an institute or a user and check that the viewer may read its
 * feed (SPEC §4): an institute's feed opens with a token of one of its
 * members, a park manager's or an admin's; a user's feed only with that
 * user's token or an admin's.  Answers 403/404 and returns -1 otherwise.
 */
static int
feed_party(struct req *r, struct feed *f)
{
	static const char *const q_institute =
	    "SELECT id, code || ' ' || name FROM institutes WHERE code = :c";
	static const char *const q_user =
	    "SELECT id, name || ' (' || login || ')' FROM users "
	    "WHERE login = :c";
	struct user	*u = r->user;
	sqlite3_stmt	*st;
	int		 found;

	if (f->kind == FEED_USER && u->role != ROLE_ADMIN &&
	    strcmp(u->login, r->args[0]) != 0) {
		api_error(r, 403, "forbidden", "a user's feed opens only with "
		    "that user's feed token");
		return (-1);
	}
	st = db_prepare(r->ctx, f->kind == FEED_USER ? q_user : q_institute);
	db_bind_text(st, ":c", r->args[0]);
	if ((found = db_step(st) == SQLITE_ROW)) {
		f->id = sqlite3_column_int64(st, 0);
		f->name = db_text(st, 1);
	}
	sqlite3_reset(st);
	if (!found) {
		api_error(r, 404, "not_found", "no such %s: %s",
		    feed_kinds[f->kind], r->args[0]);
		return (-1);
	}
	if (f->kind == FEED_INSTITUTE && u->role != ROLE_ADMIN &&
	    u->role != ROLE_PARK_MANAGER && u->institute_id != f->id) {
		api_error(r, 403, "forbidden", "an institute's feed opens only "
		    "with the feed token of one of its members");
		return (-1);
	}
	return (0);
}

/* The window: ?from= and ?to=, else 30 days back to a year ahead. */
static int
feed_window(struct req *r, struct feed *f)
{
	time_t	now = db_now(r->ctx), day;
	int	rc;

	day = now - now % 86400;
	f->from = day - (f->kind == FEED_FREEBUSY ? 0 : FEED_BACK_DAYS * 86400);
	f->to = day + FEED_AHEAD_DAYS * 86400;
	f->keep = day - FEED_CANCEL_KEEP_DAYS * 86400;
	f->day = f->modified = day;
	if ((rc = q_time(r, "from", &f->from)) == -1 ||
	    q_time(r, "to", &f->to) == -1)
		return (-1);
	if (f->to <= f->from) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}",
		    "field", "to"), "to must be after from");
		return (-1);
	}
	if (f->to - f->from > FEED_WINDOW_MAX_DAYS * 86400L) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}",
		    "field", "to"), "a feed covers at most %d days",
		    FEED_WINDOW_MAX_DAYS);
		return (-1);
	}
	return (0);
}

/*
 * Set the feed's ETag and Last-Modified from the newest audit row (its id
 * and time), the feed, its window and the viewer.
 */
static void
feed_etag(struct req *r, struct feed *f, long long version, time_t at)
{
	crypto_hash_sha256_state	 h;
	unsigned char			 out[32];
	char				*text;

	f->modified = at > f->day ? at : f->day;
	xasprintf(&text, "%s|%lld|%lld|%lld|%lld|%lld|%lld|%s",
	    feed_kinds[f->kind], (long long)f->id, (long long)f->from,
	    (long long)f->to, (long long)f->keep, version,
	    (long long)r->user->id, role_name(r->user->role));
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)text,
	    strlen(text));
	crypto_hash_sha256_final(&h, out);
	free(text);
	f->etag[0] = '"';
	sodium_bin2hex(f->etag + 1, 33, out, 16);
	f->etag[33] = '"';
	f->etag[34] = '\0';
}

/* Set the feed's ETag and Last-Modified as the loop's connection sees. */
static int
feed_version(struct req *r, struct feed *f)
{
	static const char *const q =
	    "SELECT id, at FROM audit ORDER BY id DESC LIMIT 1";
	sqlite3_stmt	*st;
	long long	 version = 0;
	time_t		 at = 0;
	int		 rc;

	st = db_prepare(r->ctx, q);
	if ((rc = db_step(st)) == SQLITE_ROW) {
		version = sqlite3_column_int64(st, 0);
		at = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (rc);
	feed_etag(r, f, version, at);
	return (SQLITE_OK);
}

/* Parse an HTTP date (IMF-fixdate); -1 if it is not one. */
static int
http_date_parse(const char *s, time_t *out)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return (-1);
	*out = timegm(&tm);
	return (0);
}

/* Does an If-None-Match list name etag? */
static int
etag_matches(const char *list, const char *etag)
{
	const char	*p = list;
	size_t		 n = strlen(etag);

	while (*p != '\0') {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '*')
			return (1);
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' ||
		    p[n] == ' '))
			return (1);
		while (*p != '\0' && *p != ',')
			p++;
	}
	return (0);
}

/* Is the client's copy current (If-None-Match, else If-Modified-Since)? */
static int
feed_fresh(struct req *r, struct feed *f)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(r->ev);
	const char		*inm, *ims;
	time_t			 t;

	if ((inm = evhttp_find_header(in, "If-None-Match")) != NULL)
		return (etag_matches(inm, f->etag));
	if ((ims = evhttp_find_header(in, "If-Modified-Since")) != NULL &&
	    http_date_parse(ims, &t) == 0)
		return (f->modified <= t);
	return (0);
}

/* Add the caching headers every feed answer carries. */
static void
feed_headers(struct req *r, struct feed *f)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(r->ev);
	struct tm		 tm;
	char			 date[64], *disp;

	gmtime_r(&f->modified, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	evhttp_add_header(out, "ETag", f->etag);
	evhttp_add_header(out, "Last-Modified", date);
	evhttp_add_header(out, "Cache-Control", "private, no-cache");
	xasprintf(&disp, "inline; filename=\"%s%s.ics\"", f->code,
	    f->kind == FEED_FREEBUSY ? "-freebusy" : "");
	evhttp_add_header(out, "Content-Disposition", disp);
	free(disp);
}

/* "room, site" for LOCATION; the caller frees it. */
static char *
feed_location(const char *room, const char *site)
{
	char	*s;

	if (room != NULL && *room != '\0')
		xasprintf(&s, "%s, %s", room, site);
	else
		s = xstrdup(site);
	return (s);
}

static void
key_add(struct feed_key *k, const void *p, size_t n)
{
	if (k->len + n > k->size) {
		k->size = k->size == 0 ? 1024 : k->size;
		while (k->size < k->len + n)
			k->size *= 2;
		k->p = xreallocarray(k->p, 1, k->size);
	}
	memcpy(k->p + k->len, p, n);
	k->len += n;
}

static void
key_str(struct feed_key *k, const char *s)
{
	if (s == NULL)
		key_add(k, "\001", 1);		/* NULL, unlike "" */
	else {
		key_add(k, "\002", 1);
		key_add(k, s, strlen(s) + 1);
	}
}

/* Everything ical_event_render() reads of e, as bytes. */
static void
feed_key(struct feed_key *k, const struct ical_event *e)
{
	int64_t	n[6];

	n[0] = e->start;
	n[1] = e->end;
	n[2] = e->status;
	n[3] = e->sequence;
	n[4] = e->stamp;
	n[5] = e->created;
	k->len = 0;
	key_add(k, n, sizeof n);
	key_str(k, e->uid);
	key_str(k, e->zone);
	key_str(k, e->summary);
	key_str(k, e->description);
	key_str(k, e->location);
	key_str(k, e->categories);
}

/*
 * Add event id of this variant: its kept text if it was rendered from the
 * same inputs, else render it with libical and keep it.
 */
static void
feed_add(struct req *r, struct ical *ic, struct feed_key *k, int64_t id,
    int variant, const struct ical_event *e)
{
	struct feedcache	*fc = r->ctx->feeds;
	const char		*kept;
	char			*text;
	size_t			 len;

	if (fc == NULL) {
		ical_event(ic, e);
		return;
	}
	feed_key(k, e);
	if ((kept = feedcache_get(fc, id, variant, k->p, k->len, &len)) !=
	    NULL) {
		ical_add_text(ic, e->zone, kept, len);
		return;
	}
	text = ical_event_render(e, &len);
	ical_add_text(ic, e->zone, text, len);
	feedcache_put(fc, id, variant, k->p, k->len, text, len);
	free(text);
}

/*
 * May the viewer see this row's booking in full?  Its own bookings and an
 * admin's view need no query; a manager's or park manager's answer for
 * another's booking depends on the instrument (and its site) only, so it
 * is remembered per instrument for the feed instead of asked per row.
 */
static int
feed_sees(struct req *r, struct feed_events *fe, struct feedjob *job,
    size_t row)
{
	int64_t	user = feedjob_int(job, row, F_USER_ID);
	int64_t	instrument = feedjob_int(job, row, F_INSTRUMENT_ID);
	size_t	slot = (uint64_t)instrument % FEED_SEES_MEMO;

	if (r->user->id == user || r->user->role == ROLE_ADMIN ||
	    r->user->role == ROLE_MEMBER)
		return (auth_sees_booking(r, user, instrument,
		    feedjob_int(job, row, F_SITE_ID)));
	if (fe->sees[slot].instrument != instrument) {
		fe->sees[slot].instrument = instrument;
		fe->sees[slot].sees = auth_sees_booking(r, user, instrument,
		    feedjob_int(job, row, F_SITE_ID));
	}
	return (fe->sees[slot].sees);
}

/* Make room for len more bytes of text in fe's buffer. */
static void
events_room(struct feed_events *fe, size_t len)
{
	if (fe->len + len <= fe->size)
		return;
	fe->size = fe->size == 0 ? 1 << 20 : fe->size;
	while (fe->size < fe->len + len)
		fe->size *= 2;
	fe->buf = xreallocarray(fe->buf, 1, fe->size);
}

/*
 * Append a booking's text to fe: a copy, or if held, the pointer (a text
 * held in the feed cache).
 */
static void
events_add(struct feed_events *fe, int64_t start, int64_t id,
    const char *zone, const char *text, size_t len, int held)
{
	struct feed_ev	*ev;
	size_t		 z;

	if (zone == NULL)
		zone = "";
	for (z = 0; z < fe->nzones; z++) {
		if (strcmp(fe->zones[z], zone) == 0)
			break;
	}
	if (z == fe->nzones) {
		fe->zones = xreallocarray(fe->zones, z + 1, sizeof *fe->zones);
		fe->zones[fe->nzones++] = xstrdup(zone);
	}
	if (!held) {
		events_room(fe, len);
		memcpy(fe->buf + fe->len, text, len);
	}
	if (fe->n == fe->nalloc) {
		fe->nalloc = fe->nalloc == 0 ? 1024 : fe->nalloc * 2;
		fe->ev = xreallocarray(fe->ev, fe->nalloc, sizeof *fe->ev);
	}
	ev = &fe->ev[fe->n++];
	ev->start = start;
	ev->id = id;
	ev->text = held ? text : NULL;
	ev->off = fe->len;
	ev->len = len;
	ev->zone = z;
	if (!held)
		fe->len += len;
	fe->total += len;
}

/*
 * Copy the texts fe holds in the feed cache into its own buffer: the
 * cache may change before fe is used (the next slice).
 */
static void
events_unhold(struct feed_events *fe)
{
	struct feed_ev	*ev;
	size_t		 i;

	for (i = 0; i < fe->n; i++) {
		ev = &fe->ev[i];
		if (ev->text == NULL)
			continue;
		events_room(fe, ev->len);
		memcpy(fe->buf + fe->len, ev->text, ev->len);
		ev->off = fe->len;
		ev->text = NULL;
		fe->len += ev->len;
	}
}

static void
events_reset(struct feed_events *fe)
{
	size_t	i;

	for (i = 0; i < fe->nzones; i++)
		free(fe->zones[i]);
	free(fe->zones);
	fe->zones = NULL;
	fe->nzones = 0;
	fe->n = 0;
	fe->len = 0;
	fe->total = 0;
}

static void
events_free(struct feed_events *fe)
{
	events_reset(fe);
	free(fe->ev);
	free(fe->buf);
}

static int
ev_cmp(const void *a, const void *b)
{
	const struct feed_ev	*x = a, *y = b;

	if (x->start != y->start)
		return (x->start < y->start ? -1 : 1);
	if (x->id != y->id)
		return (x->id < y->id ? -1 : 1);
	return (0);
}

/*
 * Add row i of the job as the viewer may see it: its kept text if the
 * row (every column, as the worker encoded it) is the one it was rendered
 * from, else rendered with libical and kept.  Returns 1 if it rendered.
 */
static int
feed_booking(struct req *r, struct feed_events *fe, struct feedjob *job,
    size_t i)
{
	struct feedcache	*fc = r->ctx->feeds;
	struct ical_event	 e;
	const char		*status, *purpose, *inst, *kept;
	const void		*key = NULL;
	char			*summary, *desc = NULL, *loc, *text;
	int64_t			 id, start;
	size_t			 len, klen = 0;
	int			 sees, variant;

#define T(c) (feedjob_text(job, i, (c)))
#define I(c) (feedjob_int(job, i, (c)))
	id = I(F_ID);
	start = I(F_START);
	sees = feed_sees(r, fe, job, i);
	variant = sees ? FEED_V_FULL : FEED_V_BUSY;
	if (fc != NULL) {
		key = feedjob_row(job, i, &klen);
		if ((kept = feedcache_get(fc, id, variant, key, klen,
		    &len)) != NULL) {
			events_add(fe, start, id, T(F_ZONE), kept, len, 1);
			return (0);
		}
	}
	memset(&e, 0, sizeof e);
	status = T(F_STATUS);
	if (sees) {
		purpose = *T(F_PURPOSE) != '\0' ? T(F_PURPOSE) : "booking";
		xasprintf(&summary, "%s: %s (%s)", T(F_INSTRUMENT), purpose,
		    T(F_USER_NAME));
		xasprintf(&desc, "Booking #%lld, %s\nInstrument: %s (%s)\n"
		    "User: %s (%s)\nInstitute: %s (%s)\nPurpose: %s\n"
		    "Project: %s%s%s", (long long)id, status, T(F_INSTRUMENT_NAME), T(F_INSTRUMENT),
		    T(F_USER_NAME), T(F_LOGIN), T(F_INSTITUTE_NAME),
		    T(F_INSTITUTE), T(F_PURPOSE), T(F_PROJECT),
		    *T(F_CANCEL_REASON) != '\0' ? "\nReason: " : "",
		    T(F_CANCEL_REASON));
	} else {
		inst = I(F_PRIVATE) ? NULL :
		    T(F_INSTITUTE_NAME);
		if (inst != NULL)
			xasprintf(&summary, "%s: busy (%s)", T(F_INSTRUMENT),
			    inst);
		else
			xasprintf(&summary, "%s: busy", T(F_INSTRUMENT));
		xasprintf(&desc, "Instrument: %s (%s)", T(F_INSTRUMENT_NAME),
		    T(F_INSTRUMENT));
	}
	loc = feed_location(T(F_ROOM), T(F_SITE_NAME));
	e.uid = T(F_UID);
	e.start = start;
	e.end = I(F_END);
	e.zone = T(F_ZONE);
	e.summary = summary;
	e.description = desc;
	e.location = loc;
	if (strcmp(status, "pending") == 0)
		e.status = ICAL_EV_TENTATIVE;
	else if (strcmp(status, "cancelled") == 0 ||
	    strcmp(status, "rejected") == 0)
		e.status = ICAL_EV_CANCELLED;
	else
		e.status = ICAL_EV_CONFIRMED;
	e.sequence = I(F_SEQUENCE);
	e.stamp = I(F_UPDATED);
	e.created = I(F_CREATED);
	text = ical_event_render(&e, &len);
	if (fc != NULL && (kept = feedcache_put(fc, id, variant, key, klen,
	    text, len)) != NULL)
		events_add(fe, start, id, e.zone, kept, len, 1);
	else
		events_add(fe, start, id, e.zone, text, len, 0);
	free(text);
	free(summary);
	free(desc);
	free(loc);
	return (1);
#undef T
#undef I
}

/*
 * The queries of the feed's bookings, run by a feed job on a worker:
 * unordered, and if there are more than FEED_EVENTS_MAX, the first of
 * them in order (SQLite sorts only then: sorting here is cheaper).
 */
static void
feed_query(struct feed *f, struct feedjob_query *q)
{
	static const char *const q_instrument = FEED_SELECT FEED_WHERE
	    "r.instrument_id = :id" FEED_ANY_ORDER;
	static const char *const q_site = FEED_BY_SITE
	    "i.site_id = :id" FEED_ANY_ORDER;
	static const char *const q_institute = FEED_SELECT FEED_WHERE
	    "r.institute_id = :id" FEED_ANY_ORDER;
	static const char *const q_user = FEED_SELECT FEED_WHERE
	    "r.user_id = :id" FEED_ANY_ORDER;
	static const char *const q_instrument_o = FEED_SELECT FEED_WHERE
	    "r.instrument_id = :id" FEED_ORDER;
	static const char *const q_site_o = FEED_BY_SITE
	    "i.site_id = :id" FEED_ORDER;
	static const char *const q_institute_o = FEED_SELECT FEED_WHERE
	    "r.institute_id = :id" FEED_ORDER;
	static const char *const q_user_o = FEED_SELECT FEED_WHERE
	    "r.user_id = :id" FEED_ORDER;
	static const char *const *const qs[2][4] = {
		{ &q_instrument, &q_site, &q_institute, &q_user },
		{ &q_instrument_o, &q_site_o, &q_institute_o, &q_user_o }
	};

	memset(q, 0, sizeof *q);
	q->any = *qs[0][f->kind];
	q->ordered = *qs[1][f->kind];
	q->id = f->id;
	q->from = f->from;
	q->to = f->to;
	q->keep = f->keep;
	q->max = FEED_EVENTS_MAX;
	q->dims = feed_dims;
	q->ndims = (int)(sizeof feed_dims / sizeof feed_dims[0]);
	q->layout = feed_layout;
	q->ncols = F_NCOLS;
}

/*
 * Add the bookings read into fe, ordered by start and id (the worker read
 * them in any order, or the first FEED_EVENTS_MAX in order).
 */
static void
feed_bookings(struct feed_events *fe, struct ical *ic)
{
	struct feed_ev	*ev;
	size_t		 i;

	if (fe->n == 0)
		return;
	qsort(fe->ev, fe->n, sizeof *fe->ev, ev_cmp);
	ical_reserve(ic, fe->total);
	for (i = 0; i < fe->n; i++) {
		ev = &fe->ev[i];
		ical_add_text(ic, fe->zones[ev->zone], ev->text != NULL ?
		    ev->text : fe->buf + ev->off, ev->len);
	}
}

/* Add the blackouts of an instrument (and its site) or of a site. */
static int
feed_blackouts(struct req *r, struct feed *f, struct ical *ic,
    struct feed_key *k)
{
	static const char *const q_instrument = FEED_BLACKOUTS
	    "(b.instrument_id = :i OR b.site_id = :s) ORDER BY b.start";
	static const char *const q_site = FEED_BLACKOUTS
	    "(b.site_id = :s OR b.instrument_id IN (SELECT id FROM "
	    "instruments WHERE site_id = :s)) ORDER BY b.start";
	struct ical_event	 e;
	sqlite3_stmt		*st;
	const char		*reason, *code;
	char			*uid, *summary, *loc;
	int			 rc;

	st = db_prepare(r->ctx, f->kind == FEED_SITE ? q_site : q_instrument);
	if (f->kind != FEED_SITE)
		db_bind_int(st, ":i", f->id);
	db_bind_int(st, ":s", f->site_id);
	db_bind_int(st, ":from", f->from);
	db_bind_int(st, ":to", f->to);
	while ((rc = db_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof e);
		reason = (const char *)sqlite3_column_text(st, 3);
		code = sqlite3_column_type(st, 5) == SQLITE_NULL ?
		    (const char *)sqlite3_column_text(st, 9) :
		    (const char *)sqlite3_column_text(st, 5);
		xasprintf(&uid, "blackout-%lld@yiqi",
		    (long long)sqlite3_column_int64(st, 0));
		xasprintf(&summary, "%s: unavailable%s%s%s", code,
		    *reason != '\0' ? " (" : "", reason,
		    *reason != '\0' ? ")" : "");
		loc = feed_location((const char *)sqlite3_column_text(st, 6),
		    (const char *)sqlite3_column_text(st, 7));
		e.uid = uid;
		e.start = sqlite3_column_int64(st, 1);
		e.end = sqlite3_column_int64(st, 2);
		e.zone = (const char *)sqlite3_column_text(st, 8);
		e.summary = summary;
		e.description = reason;
		e.location = loc;
		e.categories = "BLACKOUT";
		e.status = ICAL_EV_CONFIRMED;
		e.stamp = e.created = sqlite3_column_int64(st, 4);
		feed_add(r, ic, k, sqlite3_column_int64(st, 0),
		    FEED_V_BLACKOUT, &e);
		free(uid);
		free(summary);
		free(loc);
	}
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* Build an instrument's VFREEBUSY: holding bookings and blackouts. */
static int
feed_freebusy(struct req *r, struct feed *f, struct ical *ic)
{
	static const char *const q =
	    "SELECT start, \"end\", status = 'pending' FROM reservations "
	    "WHERE instrument_id = :i AND start > :from - " LONGEST_SQL
	    " AND start < :to AND \"end\" > :from AND status IN ('pending', "
	    "'confirmed') ORDER BY start LIMIT :max";
	static const char *const q_black =
	    "SELECT start, \"end\" FROM blackouts WHERE (instrument_id = :i OR "
	    "site_id = :s) AND \"end\" > :from AND start < :to ORDER BY start";
	sqlite3_stmt	*st;
	struct span	*busy = NULL;
	int		*kinds = NULL, rc;
	size_t		 n = 0, i;
	char		*uid;

	for (i = 0; i < 2; i++) {
		st = db_prepare(r->ctx, i == 0 ? q : q_black);
		db_bind_int(st, ":i", f->id);
		if (i == 0)
			db_bind_int(st, ":max", FEED_EVENTS_MAX);
		else
			db_bind_int(st, ":s", f->site_id);
		db_bind_int(st, ":from", f->from);
		db_bind_int(st, ":to", f->to);
		while ((rc = db_step(st)) == SQLITE_ROW) {
			busy = xreallocarray(busy, n + 1, sizeof *busy);
			kinds = xreallocarray(kinds, n + 1, sizeof *kinds);
			busy[n].start = sqlite3_column_int64(st, 0);
			busy[n].end = sqlite3_column_int64(st, 1);
			kinds[n] = i == 1 ? ICAL_FB_UNAVAILABLE :
			    sqlite3_column_int(st, 2) ? ICAL_FB_TENTATIVE :
			    ICAL_FB_BUSY;
			n++;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto out;
	}
	rc = SQLITE_OK;
	xasprintf(&uid, "freebusy-%s@yiqi", f->code);
	ical_freebusy(ic, uid, f->modified, f->from, f->to, busy, kinds, n);
	free(uid);
out:
	free(busy);
	free(kinds);
	return (rc);
}

/* A reply has written (or dropped) a feed's text: give its reference back. */
static void
feed_sent(const void *data, size_t len, void *arg)
{
	fctext_unref(arg);
}

/* Send a feed's text: the body, or for HEAD its length only. */
static void
feed_send(struct req *r, struct fc_text *t)
{
	char	clen[32];

	if (r->method == EVHTTP_REQ_HEAD) {
		/* evhttp would send the body: send its length only. */
		snprintf(clen, sizeof clen, "%zu", t->len);
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "Content-Length", clen);
		api_reply_data(r, 200, FEED_CTYPE, NULL, 0);
	} else {
		fctext_ref(t);	/* the reply's, until it is written */
		api_reply_shared(r, 200, FEED_CTYPE, t->text, t->len,
		    feed_sent, t);
	}
}

/*
 * Build the calendar of f, with the bookings read into f->fe (none for
 * free/busy); the caller frees the text.  SQLite code.
 */
static int
feed_build(struct req *r, struct feed *f, char **text, size_t *len)
{
	struct feed_key	 k;
	struct ical	*ic;
	int		 rc = SQLITE_OK;

	memset(&k, 0, sizeof k);
	ic = ical_new(f->name, f->zone != NULL ? f->zone : YIQID_DEFAULT_ZONE,
	    FEED_REFRESH_MIN);
	if (f->kind == FEED_FREEBUSY)
		rc = feed_freebusy(r, f, ic);
	else {
		feed_bookings(&f->fe, ic);
		if (f->kind == FEED_INSTRUMENT || f->kind == FEED_SITE)
			rc = feed_blackouts(r, f, ic, &k);
	}
	*text = ical_finish(ic, len);
	free(k.p);
	return (rc);
}

/* Log (debug) what building a feed cost: CPU time, size, cache use. */
static void
feed_log(struct yiqid *ctx, struct feed *f, struct timespec *t0, size_t len)
{
	struct timespec	t1;
	size_t		used = 0, hits = 0, misses = 0;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	if (ctx->feeds != NULL)
		feedcache_stats(ctx->feeds, &used, &hits, &misses);
	log_debug("feed %s %s: %zu bytes in %d slice%s, the last %.1f ms CPU "
	    "on the loop; cache %zu KiB, %zu hits, %zu renders so far",
	    feed_kinds[f->kind], f->code, len, f->slices,
	    f->slices == 1 ? "" : "s",
	    (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6,
	    used >> 10, hits, misses);
}

/*
 * Build f (with the bookings read into f->fe), send it and keep it under
 * its ETag, which the caller has set; t0: the thread's CPU clock when
 * this slice of the loop began.
 */
static void
feed_answer(struct req *r, struct feed *f, struct timespec *t0)
{
	struct yiqid	*ctx = r->ctx;
	struct fc_text	*t;
	char		*text;
	size_t		 len;
	int		 rc;

	rc = feed_build(r, f, &text, &len);
	feed_log(ctx, f, t0, len);
	if (rc != SQLITE_OK) {
		api_db_error(r, rc);
		free(text);
		return;
	}
	t = fctext_new(text, len);
	feed_headers(r, f);
	feed_send(r, t);
	/*
	 * Keep it under its ETag, but not while a group transaction is open:
	 * what the loop reads (blackouts, free/busy) may not be committed.
	 */
	if (ctx->feeds != NULL && !ctx->group_open && ctx->txn_depth == 0)
		feedcache_feed_put(ctx->feeds, f->etag, t);
	fctext_unref(t);
}

static void	feed_slice(evutil_socket_t, short, void *);

static void
feed_release(struct feed *f)
{
	feed_free(f);
	free(f);
}

/*
 * Read the job's rows into f->fe from f->row on, rendering what the cache
 * lacks, and answer once all are in.  Rendering costs ~20 us an event, so
 * a feed none of whose events are kept yet (0.2 s for a site feed) would
 * hold up every booking meanwhile: after FEED_SLICE_RENDERS renders the
 * pass stops, copies the texts it took from the cache (which may change
 * before the next slice) and goes on in the loop's next round, after the
 * requests that came meanwhile.  A feed whose events are kept answers in
 * one slice, the cache's texts never copied.  Returns 1 once answered.
 */
static int
feed_pass(struct feed *f)
{
	struct req			*r = f->r;
	struct feedcache		*fc = r->ctx->feeds;
	size_t				 n = feedjob_nrows(f->job);
	struct timespec			 t0;
	int				 renders = 0, ms;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	f->slices++;
	if (fc != NULL)
		feedcache_hold(fc, 1);
	while (f->row < n && renders < FEED_SLICE_RENDERS)
		renders += feed_booking(r, &f->fe, f->job, f->row++);
	if (f->row == n)
		feed_answer(r, f, &t0);
	else
		events_unhold(&f->fe);
	if (fc != NULL)
		feedcache_hold(fc, 0);
	if (f->row == n)
		return (1);
	/*
	 * Tests: YIQID_FEED_SLICE_MS spaces the slices out, so that a pass is
	 * surely still going when the test stops the daemon (waits.sh).
	 */
	ms = test_ms("YIQID_FEED_SLICE_MS");
	loop_later(r->ctx, &f->slice, feed_slice, f, ms > 0 ? ms : 0);
	return (0);
}

/* The next slice of a feed's pass (feed_pass()). */
static void
feed_slice(evutil_socket_t fd, short what, void *arg)
{
	struct feed	*f = arg;
	struct feedjob	*job = f->job;

	if (feed_pass(f)) {
		feed_release(f);
		feedjob_end(job);
	}
}

/*
 * The worker has read the feed's bookings: its ETag and Last-Modified
 * come from the audit row read in the same transaction, so they never
 * describe data newer than the rows (the blackouts, read on the loop at
 * the end, can only be as new or newer).  Cancelled, perhaps halfway
 * through the pass (the daemon stops): 503.
 */
static int
feed_done(struct req *r, struct feedjob *job, void *arg)
{
	struct feed	*f = arg;
	int64_t		 version, at;
	int		 rc;

	if ((rc = feedjob_rc(job)) == FEEDJOB_CANCELLED)
		api_error(r, 503, "unavailable", "the server is stopping");
	else if (rc != SQLITE_OK)
		api_db_error(r, rc);
	else {
		feedjob_version(job, &version, &at);
		feed_etag(r, f, version, at);
		f->r = r;
		f->job = job;
		if (!feed_pass(f))
			return (FEEDJOB_LATER);
	}
	feed_release(f);
	return (FEEDJOB_DONE);
}

/*
 * Make sure the feed cache is as configured: its part of cache_mb
 * (config_budget(); feed_cache_mb = 0: none).
 */
static void
feed_cache_setup(struct yiqid *ctx)
{
	struct budget	b;

	config_budget(&ctx->cfg, &b);
	if (b.events_kib == 0) {
		feedcache_free(ctx->feeds);
		ctx->feeds = NULL;
	} else if (ctx->feeds == NULL)
		ctx->feeds = feedcache_new((size_t)b.events_kib << 10);
	else
		feedcache_limit(ctx->feeds, (size_t)b.events_kib << 10);
}

/*
 * Serve one feed of kind: token, scope, window, then a 304, a kept feed,
 * or the calendar (its bookings read by a feed job on a worker).
 */
static void
feed_serve(struct req *r, enum feed_kind kind)
{
	struct yiqid		*ctx = r->ctx;
	struct feed		*f;
	struct feedjob_query	 q;
	struct fc_text		*kept;
	struct timespec		 t0;
	int			 rc;

	f = xcalloc(1, sizeof *f);
	f->kind = kind;
	if (feed_auth(r) == -1)
		goto out;
	f->code = xstrdup(r->args[0]);
	if (kind == FEED_INSTRUMENT || kind == FEED_SITE ||
	    kind == FEED_FREEBUSY) {
		if (feed_place(r, f) == -1)
			goto out;
	} else if (feed_party(r, f) == -1)
		goto out;
	if (feed_window(r, f) == -1)
		goto out;
	if ((rc = feed_version(r, f)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	if (feed_fresh(r, f)) {
		feed_headers(r, f);
		api_reply_empty(r, 304);
		goto out;
	}
	feed_cache_setup(ctx);
	if (ctx->feeds != NULL &&
	    (kept = feedcache_feed_get(ctx->feeds, f->etag)) != NULL) {
		feed_headers(r, f);
		feed_send(r, kept);
		goto out;
	}
	if (kind == FEED_FREEBUSY) {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
		feed_answer(r, f, &t0);
		goto out;
	}
	feed_query(f, &q);
	if (feedjob_start(r, &q, feed_done, f) == 0)
		return;		/* feed_done() answers and frees f */
	evhttp_add_header(evhttp_request_get_output_headers(r->ev),
	    "Retry-After", FEED_RETRY_AFTER);
	api_error(r, 503, "unavailable", "too many feeds are being built; try "
	    "again shortly");
out:
	feed_release(f);
}

static void
feeds_instrument(struct req *r)
{
	feed_serve(r, FEED_INSTRUMENT);
}

static void
feeds_site(struct req *r)
{
	feed_serve(r, FEED_SITE);
}

static void
feeds_institute(struct req *r)
{
	feed_serve(r, FEED_INSTITUTE);
}

static void
feeds_user(struct req *r)
{
	feed_serve(r, FEED_USER);
}

static void
feeds_freebusy(struct req *r)
{
	feed_serve(r, FEED_FREEBUSY);
}

/*
 * The public base of feed URLs: base_url from the configuration, else the
 * Host the request came to, else the listen address.  The caller frees it.
 */
static char *
feed_base(struct req *r)
{
	const char	*host, *p;
	char		*s;
	size_t		 n;

	if (r->ctx->cfg.base_url != NULL && *r->ctx->cfg.base_url != '\0') {
		s = xstrdup(r->ctx->cfg.base_url);
		n = strlen(s);
		while (n > 0 && s[n - 1] == '/')
			s[--n] = '\0';
		return (s);
	}
	host = evhttp_find_header(evhttp_request_get_input_headers(r->ev),
	    "Host");
	if (host != NULL && *host != '\0' && strlen(host) <= 255) {
		for (p = host; *p != '\0'; p++) {
			if (!isalnum((unsigned char)*p) &&
			    strchr(".-:[]", *p) == NULL)
				break;
		}
		if (*p == '\0') {
			xasprintf(&s, "http://%s", host);
			return (s);
		}
	}
	xasprintf(&s, "http://%s", r->ctx->cfg.listen);
	return (s);
}

/*
 * The id and institute code of the user the path names, if the caller may
 * act on it (an admin, or that user); else replies 403/404 and returns 0.
 */
static int64_t
feed_token_target(struct req *r, char **institute)
{
	static const char *const q =
	    "SELECT u.id, i.code FROM users u JOIN institutes i ON "
	    "i.id = u.institute_id WHERE u.login = :l";
	sqlite3_stmt	*st;
	int64_t		 id = 0;

	if (r->user->role != ROLE_ADMIN &&
	    strcmp(r->args[0], r->user->login) != 0) {
		api_error(r, 403, "forbidden", "only an admin or that user may "
		    "do this");
		return (0);
	}
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":l", r->args[0]);
	if (db_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		if (institute != NULL)
			*institute = db_text(st, 1);
	}
	sqlite3_reset(st);
	if (id == 0)
		api_error(r, 404, "not_found", "no such user: %s", r->args[0]);
	return (id);
}

/* Revoke the user's live feed tokens; *n says how many.  SQLite code. */
static int
feed_token_kill(struct req *r, int64_t uid, int *n)
{
	static const char *const q =
	    "UPDATE tokens SET revoked = :now WHERE user_id = :u AND "
	    "kind = 'feed' AND revoked IS NULL";
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":now", db_now(r->ctx));
	db_bind_int(st, ":u", uid);
	rc = db_step(st);
	sqlite3_reset(st);
	*n = sqlite3_changes(r->ctx->db);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

static void
feeds_token_new(struct req *r)
{
	static const char *const q =
	    "INSERT INTO tokens (user_id, kind, hash, label, created) "
	    "VALUES (:u, 'feed', :h, 'feed', :now)";
	sqlite3_stmt	*st;
	unsigned char	 hash[32];
	char		*token = NULL, *institute = NULL, *base, *a, *b;
	int64_t		 uid;
	int		 rc, n = 0;

	if ((uid = feed_token_target(r, &institute)) == 0)
		return;
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		free(institute);
		return;
	}
	token = token_new();
	token_hash(token, hash);
	if ((rc = feed_token_kill(r, uid, &n)) == SQLITE_OK) {
		st = db_prepare(r->ctx, q);
		db_bind_int(st, ":u", uid);
		db_bind_blob(st, ":h", hash, sizeof hash);
		db_bind_int(st, ":now", db_now(r->ctx));
		rc = db_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK || (rc = db_audit(r->ctx, r->user->id, n > 0 ?
	    "feed_token.rotate" : "feed_token.create", "user", r->args[0],
	    NULL)) != SQLITE_OK || (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		goto out;
	}
	base = feed_base(r);
	xasprintf(&a, "%s/feeds/users/%s.ics?token=%s", base, r->args[0],
	    token);
	xasprintf(&b, "%s/feeds/institutes/%s.ics?token=%s", base, institute,
	    token);
	api_reply(r, 201, json_pack("{s:s,s:s,s:b,s:{s:s,s:s}}", "token",
	    token, "base", base, "rotated", n > 0, "urls", "user", a,
	    "institute", b));
	free(a);
	free(b);
	free(base);
out:
	sodium_memzero(token, strlen(token));
	free(token);
	free(institute);
}

static void
feeds_token_revoke(struct req *r)
{
	int64_t	uid;
	int	rc, n = 0;

	if ((uid = feed_token_target(r, NULL)) == 0)
		return;
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	if ((rc = feed_token_kill(r, uid, &n)) != SQLITE_OK ||
	    (n > 0 && (rc = db_audit(r->ctx, r->user->id, "feed_token.revoke",
	    "user", r->args[0], NULL)) != SQLITE_OK) ||
	    (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		return;
	}
	if (n == 0)
		api_error(r, 404, "not_found", "%s has no feed token",
		    r->args[0]);
	else
		api_reply_empty(r, 204);
}
