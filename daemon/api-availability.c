/*
 * api-availability.c: when instruments are busy and free.
 *
 *	GET /api/v1/instruments/{code}/availability?from=&to=
 *	GET /api/v1/availability?duration=&category=&site=&from=&to=&limit=
 *
 * Also busy_load(), which the booking code shares: the slot-holding
 * reservations (widened by the instrument's buffer) and the blackouts of
 * an instrument over a period, sorted by start.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define AVAIL_DEFAULT_DAYS	7
#define AVAIL_MAX_DAYS		92
#define FIND_DEFAULT_DAYS	14
#define FIND_MAX_INSTRUMENTS	1000
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
	    "AND status IN ('pending', 'confirmed') AND \"end\" > :from AND "
	    "start < :to AND id != :x";
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

/* The busy list of the availability answer, in the caller's view. */
static int
busy_json(struct req *r, const struct instrument *in, time_t from, time_t to,
    json_t *arr)
{
	static const char *const q_res =
	    "SELECT r.id, r.start, r.\"end\", r.status, r.user_id, ins.name, "
	    "ins.private FROM reservations r JOIN institutes ins ON "
	    "ins.id = r.institute_id WHERE r.instrument_id = :i AND "
	    "r.status IN ('pending', 'confirmed') AND r.\"end\" > :from AND "
	    "r.start < :to ORDER BY +r.start";	/* + : see slot_state() */
	static const char *const q_black =
	    "SELECT id, start, \"end\", reason FROM blackouts WHERE "
	    "(instrument_id = :i OR site_id = :s) AND \"end\" > :from AND "
	    "start < :to ORDER BY start";
	sqlite3_stmt	*st;
	json_t		*j;
	int		 rc, full;

	st = db_prepare(r->ctx, q_res);
	db_bind_int(st, ":i", in->id);
	db_bind_int(st, ":from", from);
	db_bind_int(st, ":to", to);
	while ((rc = db_step(st)) == SQLITE_ROW) {
		j = span_json(sqlite3_column_int64(st, 1),
		    sqlite3_column_int64(st, 2), in->zone);
		full = auth_sees_booking(r, sqlite3_column_int64(st, 4), in->id,
		    in->site_id);
		json_object_set_new(j, "kind", json_string("reservation"));
		json_object_set_new(j, "reservation",
		    json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(j, "status",
		    json_string((const char *)sqlite3_column_text(st, 3)));
		json_object_set_new(j, "institute", full ||
		    !sqlite3_column_int(st, 6) ?
		    json_string((const char *)sqlite3_column_text(st, 5)) :
		    json_null());
		json_array_append_new(arr, j);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	st = db_prepare(r->ctx, q_black);
	db_bind_int(st, ":i", in->id);
	db_bind_int(st, ":s", in->site_id);
	db_bind_int(st, ":from", from);
	db_bind_int(st, ":to", to);
	while ((rc = db_step(st)) == SQLITE_ROW) {
		j = span_json(sqlite3_column_int64(st, 1),
		    sqlite3_column_int64(st, 2), in->zone);
		json_object_set_new(j, "kind", json_string("blackout"));
		json_object_set_new(j, "blackout",
		    json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(j, "reason",
		    json_string((const char *)sqlite3_column_text(st, 3)));
		json_array_append_new(arr, j);
	}
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

static void
api_availability_one(struct req *r)
{
	struct instrument	 in;
	struct span		*busy = NULL, *free_v = NULL;
	size_t			 nbusy = 0, nfree, i;
	time_t			 from, to;
	json_t			*j, *busy_arr, *free_arr;
	char			*a, *b;
	int			 rc;

	if (instrument_load(r->ctx, r->args[0], 0, &in) == -1) {
		api_error(r, 404, "not_found", "no instrument %s", r->args[0]);
		return;
	}
	if (q_period(r, AVAIL_DEFAULT_DAYS, &from, &to) == -1)
		goto out;
	busy_arr = json_array();
	if ((rc = busy_json(r, &in, from, to, busy_arr)) != SQLITE_OK ||
	    (rc = busy_load(r->ctx, &in, from, to, 0, &busy, &nbusy)) !=
	    SQLITE_OK) {
		json_decref(busy_arr);
		api_db_error(r, rc);
		goto out;
	}
	free_arr = json_array();
	if (strcmp(in.status, "active") == 0) {
		free_v = xcalloc(FREE_MAX, sizeof *free_v);
		nfree = free_spans(&in.rules, in.zone, from, to, busy, nbusy,
		    db_now(r->ctx), free_v, FREE_MAX);
		for (i = 0; i < nfree; i++)
			json_array_append_new(free_arr, span_json(free_v[i].start,
			    free_v[i].end, in.zone));
	}
	a = time_format(from, in.zone);
	b = time_format(to, in.zone);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "instrument", in.code,
	    "status", in.status, "timezone", in.zone, "from", a, "to", b,
	    "busy", busy_arr, "free", free_arr);
	free(a);
	free(b);
	api_reply(r, 200, j);
out:
	free(busy);
	free(free_v);
	instrument_free(&in);
}

static int
slot_cmp(const void *a, const void *b)
{
	json_t		*x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t	 p = json_integer_value(json_object_get(x, "t"));
	json_int_t	 q = json_integer_value(json_object_get(y, "t"));

	return (p < q ? -1 : p > q);
}

/* The earliest slot of len seconds on one instrument, as JSON, or NULL. */
static json_t *
earliest_slot(struct req *r, int64_t id, time_t from, time_t to, long len,
    int *rc)
{
	struct instrument	 in;
	struct span		*busy = NULL, slot;
	size_t			 nbusy = 0;
	json_t			*j = NULL;

	*rc = SQLITE_OK;
	if (instrument_load(r->ctx, NULL, id, &in) == -1)
		return (NULL);
	if ((*rc = busy_load(r->ctx, &in, from, to, 0, &busy, &nbusy)) ==
	    SQLITE_OK && find_slot(&in.rules, in.zone, from, len, busy, nbusy,
	    db_now(r->ctx), to, &slot) == 0) {
		j = span_json(slot.start, slot.end, in.zone);
		json_object_set_new(j, "instrument", json_string(in.code));
		json_object_set_new(j, "name", json_string(in.name));
		json_object_set_new(j, "site", json_string(in.site));
		json_object_set_new(j, "t", json_integer(slot.start));
	}
	free(busy);
	instrument_free(&in);
	return (j);
}

static void
api_availability_find(struct req *r)
{
	static const char *const q =
	    "SELECT i.id FROM instruments i JOIN sites s ON s.id = i.site_id "
	    "WHERE i.status = 'active' AND (:cat IS NULL OR i.category = :cat) "
	    "AND (:site IS NULL OR s.code = :site) ORDER BY i.code LIMIT :max";
	const char	*dur = req_query(r, "duration");
	sqlite3_stmt	*st;
	json_t		**v = NULL, *items, *j;
	size_t		 n = 0, i;
	int64_t		*ids = NULL, limit, offset;
	time_t		 from, to;
	long		 len;
	int		 rc = SQLITE_OK, nids = 0;

	if (dur == NULL || duration_parse(dur, &len) == -1) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "duration"), "duration is required, as ISO 8601 (PT2H)");
		return;
	}
	if (q_period(r, FIND_DEFAULT_DAYS, &from, &to) == -1 ||
	    q_limit(r, &limit, &offset) == -1)
		return;
	if (req_query(r, "limit") == NULL)
		limit = 10;
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":cat", req_query(r, "category"));
	db_bind_text(st, ":site", req_query(r, "site"));
	db_bind_int(st, ":max", FIND_MAX_INSTRUMENTS);
	ids = xcalloc(FIND_MAX_INSTRUMENTS, sizeof *ids);
	while ((rc = db_step(st)) == SQLITE_ROW)
		ids[nids++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	v = xcalloc(nids + 1, sizeof *v);
	for (i = 0; i < (size_t)nids; i++) {
		if ((j = earliest_slot(r, ids[i], from, to, len, &rc)) != NULL)
			v[n++] = j;
		if (rc != SQLITE_OK)
			goto fail;
	}
	qsort(v, n, sizeof *v, slot_cmp);
	items = json_array();
	for (i = 0; i < n; i++) {
		json_object_del(v[i], "t");
		if (i < (size_t)limit)
			json_array_append(items, v[i]);
		json_decref(v[i]);
	}
	api_reply(r, 200, json_pack("{s:o}", "items", items));
	free(v);
	free(ids);
	return;
fail:
	for (i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
	free(ids);
	api_db_error(r, rc);
}
