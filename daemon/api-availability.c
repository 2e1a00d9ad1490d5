/*
 * api-availability.c: when instruments are busy and free.
 *
 *	GET /api/v1/instruments/{code}/availability?from=&to=
 *	GET /api/v1/availability?duration=&category=&site=&from=&to=&limit=&offset=
 *
 * Also busy_load(), which the booking code shares: the slot-holding
 * reservations (widened by the instrument's buffer) and the blackouts of
 * an instrument over a period, sorted by start.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yiqid.h"

#define AVAIL_DEFAULT_DAYS	7
#define AVAIL_MAX_DAYS		92
#define FIND_DEFAULT_DAYS	14
#define FIND_MAX_INSTRUMENTS	10000	/* find considers this many at most */
#define FIND_DEFAULT_LIMIT	10
#define FREE_MAX		2000

static void	api_availability_one(struct req *);
static void	api_availability_find(struct req *);

const struct route api_availability_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/instruments/*/availability", 0,
	    api_availability_one },
	{ EVHTTP_REQ_GET, "/api/v1/availability", 0, api_availability_find },
	{ 0, NULL, 0, NULL }
};

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->start != y->start)
		return (x->start < y->start ? -1 : 1);
	return (x->end < y->end ? -1 : x->end > y->end);
}

/*
 * Load what keeps instrument in busy over [from, to): its slot-holding
 * reservations other than exclude (widened by buffer_min on both sides)
 * and the blackouts of it or its site.  *out is allocated (the caller
 * frees it) and sorted by start.  Returns 0, or an SQLite error code.
 */
int
busy_load(struct yiqid *ctx, const struct instrument *in, time_t from,
    time_t to, int64_t exclude, struct span **out, size_t *nout)
{
	static const char *const q_res =
	    "SELECT start, \"end\" FROM reservations WHERE instrument_id = :i "
	    "AND start > :from - " LONGEST_SQL " AND start < :to AND "
	    "\"end\" > :from AND status IN ('pending', 'confirmed') AND "
	    "id != :x";
	static const char *const q_black =
	    "SELECT start, \"end\" FROM blackouts WHERE (instrument_id = :i OR "
	    "site_id = :s) AND \"end\" > :from AND start < :to";
	sqlite3_stmt	*st;
	struct span	*v = NULL;
	size_t		 n = 0, cap = 0;
	long		 buf = in->rules.buffer_min * 60L;
	int		 pass, rc;

	for (pass = 0; pass < 2; pass++) {
		st = db_prepare(ctx, pass == 0 ? q_res : q_black);
		db_bind_int(st, ":i", in->id);
		db_bind_int(st, ":from", pass == 0 ? from - buf : from);
		db_bind_int(st, ":to", pass == 0 ? to + buf : to);
		if (pass == 0)
			db_bind_int(st, ":x", exclude);
		else
			db_bind_int(st, ":s", in->site_id);
		while ((rc = db_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				cap = cap == 0 ? 64 : cap * 2;
				v = xreallocarray(v, cap, sizeof *v);
			}
			v[n].start = sqlite3_column_int64(st, 0);
			v[n].end = sqlite3_column_int64(st, 1);
			if (pass == 0) {
				v[n].start -= buf;
				v[n].end += buf;
			}
			n++;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			free(v);
			return (rc);
		}
	}
	if (n > 1)
		qsort(v, n, sizeof *v, span_cmp);
	*out = v;
	*nout = n;
	return (SQLITE_OK);
}

/* Read from/to from the query; defaults now and now + days. */
static int
q_period(struct req *r, int days, time_t *from, time_t *to)
{
	time_t	now = db_now(r->ctx);

	*from = now;
	if (q_time(r, "from", from) == -1)
		return (-1);
	*to = *from + days * 86400L;
	if (q_time(r, "to", to) == -1)
		return (-1);
	if (*to <= *from) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "to"), "to must be after from");
		return (-1);
	}
	if (*to - *from > AVAIL_MAX_DAYS * 86400L) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "to"), "the period may be at most %d days", AVAIL_MAX_DAYS);
		return (-1);
	}
	return (0);
}

static json_t *
span_json(time_t s, time_t e, const char *zone)
{
	char	*a = time_format(s, zone), *b = time_format(e, zone);
	json_t	*j;

	j = json_pack("{s:s,s:s}", "start", a, "end", b);
	free(a);
	free(b);
	return (j);
}

/*
 * One availability answer as it is written: the answer's text (written
 * straight into a buffer, not built as a jansson tree: that was most of
 * the request's CPU) and the busy spans the free list is cut from.
 */
struct avail {
	struct req		*r;
	const struct instrument	*in;
	time_t			 from;
	time_t			 to;
	struct jsonbuf		 jb;
	struct span		*busy;
	size_t			 nbusy;
	size_t			 cap;
	int			 nout;		/* busy entries written */
	int			 wide;		/* sees all details; -1: not asked */
};

static void
avail_span(struct avail *a, time_t s, time_t e)
{
	if (a->nbusy == a->cap) {
		a->cap = a->cap == 0 ? 64 : a->cap * 2;
		a->busy = xreallocarray(a->busy, a->cap, sizeof *a->busy);
	}
	a->busy[a->nbusy].start = s;
	a->busy[a->nbusy].end = e;
	a->nbusy++;
}

/* Write "start" and "end" of one entry, opening it. */
static void
avail_entry(struct avail *a, time_t s, time_t e)
{
	if (a->nout++ > 0)
		JB_LIT(&a->jb, ",");
	JB_LIT(&a->jb, "{\"start\":");
	jb_time(&a->jb, s, a->in->zone);
	JB_LIT(&a->jb, ",\"end\":");
	jb_time(&a->jb, e, a->in->zone);
}

/* May the caller see the institute of a private booking by user_id? */
static int
avail_sees(struct avail *a, int64_t user_id)
{
	struct req	*r = a->r;

	if (r->user != NULL && r->user->id == user_id)
		return (1);
	if (a->wide == -1)	/* the same for every booking here: ask once */
		a->wide = r->user != NULL && (r->user->role == ROLE_ADMIN ||
		    auth_manages(r, a->in->id) ||
		    auth_covers_site(r, a->in->site_id));
	return (a->wide);
}

/*
 * The slot-holding reservations over the period widened by the buffer:
 * each one widened is a busy span; those in the period itself are written
 * to the busy list in the caller's view (SPEC §4 redaction).  The walk of
 * (instrument_id, start) is bounded on both sides (a booking ending after
 * :from starts after :from minus the longest booking stored), so it reads
 * only the bookings near the period however many lie ahead or behind.
 */
static int
avail_reservations(struct avail *a)
{
	static const char *const q =
	    "SELECT r.id, r.start, r.\"end\", r.status, r.user_id, ins.name, "
	    "ins.private FROM reservations r JOIN institutes ins ON "
	    "ins.id = r.institute_id WHERE r.instrument_id = :i AND "
	    "r.status IN ('pending', 'confirmed') AND r.\"end\" > :from AND "
	    "r.start < :to AND "
	    "r.start > :from - " LONGEST_SQL " "
	    "ORDER BY r.start";
	struct jsonbuf	*jb = &a->jb;
	sqlite3_stmt	*st;
	time_t		 s, e;
	long		 buf = a->in->rules.buffer_min * 60L;
	int		 rc, show;

	st = db_prepare(a->r->ctx, q);
	db_bind_int(st, ":i", a->in->id);
	db_bind_int(st, ":from", a->from - buf);
	db_bind_int(st, ":to", a->to + buf);
	while ((rc = db_step(st)) == SQLITE_ROW) {
		s = sqlite3_column_int64(st, 1);
		e = sqlite3_column_int64(st, 2);
		avail_span(a, s - buf, e + buf);
		if (e <= a->from || s >= a->to)
			continue;	/* only its buffer reaches in */
		avail_entry(a, s, e);
		JB_LIT(jb, ",\"kind\":\"reservation\",\"reservation\":");
		jb_int(jb, sqlite3_column_int64(st, 0));
		JB_LIT(jb, ",\"status\":");
		jb_str(jb, (const char *)sqlite3_column_text(st, 3));
		JB_LIT(jb, ",\"institute\":");
		show = !sqlite3_column_int(st, 6) ||
		    avail_sees(a, sqlite3_column_int64(st, 4));
		jb_str(jb, show ? (const char *)sqlite3_column_text(st, 5) :
		    NULL);
		JB_LIT(jb, "}");
	}
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* The blackouts of the instrument or its site in the period. */
static int
avail_blackouts(struct avail *a)
{
	static const char *const q =
	    "SELECT id, start, \"end\", reason FROM blackouts WHERE "
	    "(instrument_id = :i OR site_id = :s) AND \"end\" > :from AND "
	    "start < :to ORDER BY start";
	struct jsonbuf	*jb = &a->jb;
	sqlite3_stmt	*st;
	time_t		 s, e;
	int		 rc;

	st = db_prepare(a->r->ctx, q);
	db_bind_int(st, ":i", a->in->id);
	db_bind_int(st, ":s", a->in->site_id);
	db_bind_int(st, ":from", a->from);
	db_bind_int(st, ":to", a->to);
	while ((rc = db_step(st)) == SQLITE_ROW) {
		s = sqlite3_column_int64(st, 1);
		e = sqlite3_column_int64(st, 2);
		avail_span(a, s, e);
		avail_entry(a, s, e);
		JB_LIT(jb, ",\"kind\":\"blackout\",\"blackout\":");
		jb_int(jb, sqlite3_column_int64(st, 0));
		JB_LIT(jb, ",\"reason\":");
		jb_str(jb, (const char *)sqlite3_column_text(st, 3));
		JB_LIT(jb, "}");
	}
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* The free list: what the rules leave bookable between the busy spans. */
static void
avail_free(struct avail *a)
{
	const struct instrument	*in = a->in;
	struct span		*v;
	size_t			 n, i;

	if (strcmp(in->status, "active") != 0)
		return;
	if (a->nbusy > 1)
		qsort(a->busy, a->nbusy, sizeof *a->busy, span_cmp);
	v = xreallocarray(NULL, FREE_MAX, sizeof *v);
	n = free_spans(&in->rules, in->zone, a->from, a->to, a->busy,
	    a->nbusy, db_now(a->r->ctx), v, FREE_MAX);
	a->nout = 0;
	for (i = 0; i < n; i++) {
		avail_entry(a, v[i].start, v[i].end);
		JB_LIT(&a->jb, "}");
	}
	free(v);
}

/*
 * Answer from the kept answers (availcache.c) if this request's is there
 * and still right; returns 1 if it answered.  Only requests that give
 * both from and to, well formed, are looked up (the others go the whole
 * way, which also words their errors); a kept answer was computed for
 * this very code, so the instrument existed then and, nothing having
 * changed since, exists now: it need not be loaded again.
 */
static int
avail_kept(struct req *r, time_t now)
{
	const char	*fs = req_query(r, "from"), *ts = req_query(r, "to");
	const char	*kept;
	time_t		 from, to;
	size_t		 len;

	if (fs == NULL || ts == NULL || time_parse(fs, &from) == -1 ||
	    time_parse(ts, &to) == -1 || to <= from)
		return (0);
	if ((kept = avcache_get(r->ctx, r->args[0], from, to, r->user != NULL ?
	    r->user->id : 0, now, &len)) == NULL)
		return (0);
	log_debug("availability of %s: the kept answer", r->args[0]);
	api_reply_data(r, 200, "application/json; charset=utf-8", kept, len);
	return (1);
}

/*
 * The answer, byte for byte what jansson made of {"instrument", "status",
 * "timezone", "from", "to", "busy", "free"} (tests/unit/jsonbuf-t.c).
 * One query each for reservations and blackouts serves both lists.
 */
static void
api_availability_one(struct req *r)
{
	struct instrument	 in;
	struct avail		 a;
	time_t			 now = db_now(r->ctx);
	int64_t			 uid = r->user != NULL ? r->user->id : 0;
	int64_t			 changes, version;
	int			 rc;

	if (avail_kept(r, now))
		return;
	if (instrument_load(r->ctx, r->args[0], 0, &in) == -1) {
		api_error(r, 404, "not_found", "no instrument %s", r->args[0]);
		return;
	}
	memset(&a, 0, sizeof a);
	a.r = r;
	a.in = &in;
	a.wide = -1;
	if (q_period(r, AVAIL_DEFAULT_DAYS, &a.from, &a.to) == -1)
		goto out;
	avcache_mark(r->ctx, &changes, &version);
	JB_LIT(&a.jb, "{\"instrument\":");
	jb_str(&a.jb, in.code);
	JB_LIT(&a.jb, ",\"status\":");
	jb_str(&a.jb, in.status);
	JB_LIT(&a.jb, ",\"timezone\":");
	jb_str(&a.jb, in.zone);
	JB_LIT(&a.jb, ",\"from\":");
	jb_time(&a.jb, a.from, in.zone);
	JB_LIT(&a.jb, ",\"to\":");
	jb_time(&a.jb, a.to, in.zone);
	JB_LIT(&a.jb, ",\"busy\":[");
	if ((rc = avail_reservations(&a)) != SQLITE_OK ||
	    (rc = avail_blackouts(&a)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	JB_LIT(&a.jb, "],\"free\":[");
	avail_free(&a);
	JB_LIT(&a.jb, "]}");
	api_reply_data(r, 200, "application/json; charset=utf-8", a.jb.p,
	    a.jb.len);
	avcache_put(r->ctx, r->args[0], a.from, a.to, uid, now,
	    in.rules.advance_days * 86400L + in.rules.max_duration_min * 60L,
	    changes, version, a.jb.p, a.jb.len);
out:
	jb_free(&a.jb);
	free(a.busy);
	instrument_free(&in);
}

/* One instrument's earliest slot, as find keeps it. */
struct found {
	time_t		 start;
	json_t		*j;		/* the item */
};

/*
 * A find being searched: the matching instruments' ids in code order, the
 * next one to search, and the keep (limit + offset) earliest slots so far
 * kept sorted by start, then code (v, n of them; v has room for one more).
 */
struct find_job {
	struct req		*r;
	time_t			 from;
	time_t			 to;
	long			 len;
	size_t			 keep;
	size_t			 offset;
	int64_t			*ids;
	size_t			 nids;
	size_t			 next;		/* ids[next] is searched next */
	struct found		*v;
	size_t			 n;
	int			 step_ms;	/* tests: find_pass() */
};

/*
 * The earliest slot of len seconds on one instrument that ends by to, as
 * an item, or NULL (none, or *rc an SQLite error).
 */
static json_t *
earliest_slot(struct req *r, int64_t id, time_t from, time_t to, long len,
    time_t *start, int *rc)
{
	struct instrument	 in;
	struct span		*busy = NULL, slot;
	size_t			 nbusy = 0;
	json_t			*j = NULL;
	time_t			 now = db_now(r->ctx);

	*rc = SQLITE_OK;
	if (instrument_load(r->ctx, NULL, id, &in) == -1)
		return (NULL);
	if (slot_possible(&in.rules, from, len, now, to) &&
	    (*rc = busy_load(r->ctx, &in, from, to, 0, &busy, &nbusy)) ==
	    SQLITE_OK && find_slot(&in.rules, in.zone, from, len, busy, nbusy,
	    now, to, &slot) == 0) {
		j = span_json(slot.start, slot.end, in.zone);
		json_object_set_new(j, "instrument", json_string(in.code));
		json_object_set_new(j, "name", json_string(in.name));
		json_object_set_new(j, "site", json_string(in.site));
		*start = slot.start;
	}
	free(busy);
	instrument_free(&in);
	return (j);
}

/*
 * Search the next instrument.  Once keep slots are kept an instrument can
 * only displace the last if its slot starts earlier, so its search
 * (bookings read, slots tried) ends there rather than at `to`: at a
 * million bookings on 2,000 instruments, mostly free soon, each instrument
 * after the first few then costs its row and one short query.  Returns
 * SQLITE_OK or an SQLite error.
 */
static int
find_one(struct find_job *f)
{
	struct found	x;
	time_t		end = f->to;
	size_t		k;
	int		rc;

	if (f->n == f->keep && f->v[f->n - 1].start - 1 + f->len < end)
		end = f->v[f->n - 1].start - 1 + f->len;
	if ((x.j = earliest_slot(f->r, f->ids[f->next++], f->from, end,
	    f->len, &x.start, &rc)) == NULL)
		return (rc);
	/* After every kept slot that starts no later (codes ascend). */
	for (k = f->n; k > 0 && f->v[k - 1].start > x.start; k--)
		f->v[k] = f->v[k - 1];
	f->v[k] = x;
	if (f->n < f->keep)
		f->n++;
	else
		json_decref(f->v[f->n].j);	/* pushed out */
	return (SQLITE_OK);
}

/* Answer with the kept slots past offset, or the error rc. */
static void
find_answer(struct find_job *f, int rc)
{
	json_t	*items;
	size_t	 i;

	if (rc != SQLITE_OK) {
		api_db_error(f->r, rc);
		return;
	}
	items = json_array();
	for (i = f->offset; i < f->n; i++)
		json_array_append(items, f->v[i].j);
	api_reply(f->r, 200, json_pack("{s:o}", "items", items));
}

static void
find_free(void *arg)
{
	struct find_job	*f = arg;
	size_t		 i;

	for (i = 0; i < f->n; i++)
		json_decref(f->v[i].j);
	free(f->v);
	free(f->ids);
	free(f);
}

/*
 * Search instruments for a slice of the loop (slices.c), and answer once
 * all are searched.  A duration that fits nowhere reads every instrument's
 * whole window (0.15 s of the loop at a million bookings on 2,000
 * instruments): in one go that would hold up every booking meanwhile.
 * Tests set YIQID_FIND_STEP_MS to search one instrument a slice, the
 * slices that many ms apart.  Bookings made between slices may or may not
 * be seen, as they would be a moment later: what find offers is a hint,
 * checked when booked.  Returns 1 once answered.
 */
static int
find_pass(void *arg)
{
	struct find_job	*f = arg;
	struct timespec	 t0;
	int		 rc = SQLITE_OK;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (f->next < f->nids && (rc = find_one(f)) == SQLITE_OK &&
	    f->step_ms < 0 && !slice_over(&t0))
		continue;
	if (f->next == f->nids || rc != SQLITE_OK) {
		find_answer(f, rc);
		return (1);
	}
	return (0);
}

/*
 * The `limit` earliest slots over the matching instruments (after the
 * first `offset`), in order of start, then instrument code.  The
 * instruments are read in code order and searched in slices
 * (find_pass()); the request is answered later if it takes more than one.
 */
static void
api_availability_find(struct req *r)
{
	static const char *const q =
	    "SELECT i.id FROM instruments i JOIN sites s ON s.id = i.site_id "
	    "WHERE i.status = 'active' AND (:cat IS NULL OR i.category = :cat) "
	    "AND (:site IS NULL OR s.code = :site) ORDER BY i.code LIMIT :max";
	const char	*dur = req_query(r, "duration");
	sqlite3_stmt	*st;
	struct find_job	*f;
	int64_t		 limit, offset;
	int		 rc;

	f = xcalloc(1, sizeof *f);
	if (dur == NULL || duration_parse(dur, &f->len) == -1) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "duration"), "duration is required, as ISO 8601 (PT2H)");
		goto out;
	}
	if (q_period(r, FIND_DEFAULT_DAYS, &f->from, &f->to) == -1 ||
	    q_limit(r, &limit, &offset) == -1)
		goto out;
	if (offset > FIND_MAX_INSTRUMENTS) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "offset"), "offset may be at most %d (one slot per "
		    "instrument)", FIND_MAX_INSTRUMENTS);
		goto out;
	}
	if (req_query(r, "limit") == NULL)
		limit = FIND_DEFAULT_LIMIT;
	f->r = r;
	f->keep = (size_t)(limit + offset);
	f->offset = (size_t)offset;
	f->step_ms = test_ms("YIQID_FIND_STEP_MS");
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":cat", req_query(r, "category"));
	db_bind_text(st, ":site", req_query(r, "site"));
	db_bind_int(st, ":max", FIND_MAX_INSTRUMENTS);
	f->ids = xcalloc(FIND_MAX_INSTRUMENTS, sizeof *f->ids);
	while ((rc = db_step(st)) == SQLITE_ROW)
		f->ids[f->nids++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		api_db_error(r, rc);
		goto out;
	}
	f->v = xcalloc(f->keep + 1, sizeof *f->v);
	slice_run(r, find_pass, find_free, f, f->step_ms);
	return;
out:
	find_free(f);
}
