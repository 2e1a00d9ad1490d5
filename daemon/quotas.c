/*
 * quotas.c: caps on what a user or an institute may hold of an instrument
 * or of a category, per week or per month.
 *
 *	GET    /api/v1/quotas			list (instrument=, category=)
 *	POST   /api/v1/quotas			add one
 *	DELETE /api/v1/quotas/{id}		remove one
 *
 * A quota caps booked hours ("max_hours") or bookings ("max_bookings") of
 * one user ("per": "user") or of all users of one institute ("per":
 * "institute") in a week (Monday 00:00 to Monday 00:00) or a month (the
 * 1st 00:00) of the booked instrument's site zone.  It counts the
 * slot-holding bookings (pending, and confirmed whether checked in or
 * not); a booking counts wholly in the period its start falls in.  Anyone
 * may read the quotas; admins set any, an instrument's managers those on
 * it, a category's the managers of any instrument of it.  quota_check()
 * is what booking asks, inside its write transaction (policy.c).
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define QUOTA_SELECT \
	"SELECT q.id, i.code, q.category, q.per, q.period, q.max_hours, " \
	"q.max_bookings, u.login, q.created FROM quotas q JOIN users u ON " \
	"u.id = q.created_by LEFT JOIN instruments i ON " \
	"i.id = q.instrument_id "

static void	api_quotas_list(struct req *);
static void	api_quotas_add(struct req *);
static void	api_quotas_remove(struct req *);

const struct route api_quotas_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/quotas", 0, api_quotas_list },
	{ EVHTTP_REQ_POST, "/api/v1/quotas", R_JSON, api_quotas_add },
	{ EVHTTP_REQ_DELETE, "/api/v1/quotas/*", 0, api_quotas_remove },
	{ 0, NULL, 0, NULL }
};

static json_t *
nullable(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (json_null());
	if (sqlite3_column_type(st, col) == SQLITE_INTEGER)
		return (json_integer(sqlite3_column_int64(st, col)));
	return (json_string((const char *)sqlite3_column_text(st, col)));
}

/* One row of QUOTA_SELECT as JSON. */
static json_t *
quota_json(sqlite3_stmt *st)
{
	json_t	*j;
	char	*created;

	created = time_format(sqlite3_column_int64(st, 8), YIQID_DEFAULT_ZONE);
	j = json_pack("{s:I,s:o,s:o,s:s,s:s,s:o,s:o,s:s,s:s}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "instrument", nullable(st, 1),
	    "category", nullable(st, 2),
	    "per", (const char *)sqlite3_column_text(st, 3),
	    "period", (const char *)sqlite3_column_text(st, 4),
	    "max_hours", nullable(st, 5),
	    "max_bookings", nullable(st, 6),
	    "created_by", (const char *)sqlite3_column_text(st, 7),
	    "created", created);
	free(created);
	return (j);
}

static void
api_quotas_list(struct req *r)
{
	static const char *const q = QUOTA_SELECT
	    "WHERE (:inst IS NULL OR i.code = :inst) AND "
	    "(:cat IS NULL OR q.category = :cat) "
	    "ORDER BY q.id LIMIT :limit OFFSET :offset";
	sqlite3_stmt	*st;
	json_t		*items;
	int64_t		 limit, offset;
	int		 rc;

	if (q_limit(r, &limit, &offset) == -1)
		return;
	items = json_array();
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":inst", req_query(r, "instrument"));
	db_bind_text(st, ":cat", req_query(r, "category"));
	db_bind_int(st, ":limit", limit);
	db_bind_int(st, ":offset", offset);
	while ((rc = db_step(st)) == SQLITE_ROW)
		json_array_append_new(items, quota_json(st));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(items);
		api_db_error(r, rc);
		return;
	}
	api_reply(r, 200, json_pack("{s:o,s:I,s:I}", "items", items, "limit",
	    (json_int_t)limit, "offset", (json_int_t)offset));
}

/* Answer 400 naming field; returns -1. */
static int
bad(struct req *r, const char *field, const char *msg)
{
	api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
	    field), "%s", msg);
	return (-1);
}

/* Check what a new quota covers and who asks; 0, or -1 after answering. */
static int
quota_target(struct req *r, const char *code, const char *category,
    int64_t *iid)
{
	*iid = 0;
	if ((code == NULL) == (category == NULL))
		return (bad(r, "instrument", "give instrument or category, not "
		    "both"));
	if (code != NULL) {
		if ((*iid = db_lookup_id(r->ctx, "instruments", code)) <= 0)
			return (bad(r, "instrument", "no such instrument"));
		if (!auth_manages(r, *iid)) {
			api_error(r, 403, "forbidden", "only a manager of %s (or "
			    "an admin) may set quotas on it", code);
			return (-1);
		}
		return (0);
	}
	if (!code_ok(category))
		return (bad(r, "category", "category must be a code such as "
		    "nmr"));
	if (!auth_manages_category(r, category)) {
		api_error(r, 403, "forbidden", "only a manager of an instrument "
		    "of category %s (or an admin) may set quotas on it",
		    category);
		return (-1);
	}
	return (0);
}

static json_t *
quota_get(struct req *r, int64_t id, int *rc)
{
	static const char *const q = QUOTA_SELECT "WHERE q.id = :id";
	sqlite3_stmt	*st;
	json_t		*j = NULL;

	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":id", id);
	if ((*rc = db_step(st)) == SQLITE_ROW) {
		j = quota_json(st);
		*rc = SQLITE_OK;
	} else if (*rc == SQLITE_DONE)
		*rc = SQLITE_NOTFOUND;
	sqlite3_reset(st);
	return (j);
}

static void
api_quotas_add(struct req *r)
{
	static const char *const fields[] = { "instrument", "category", "per",
	    "period", "max_hours", "max_bookings", NULL };
	static const char *const q =
	    "INSERT INTO quotas (instrument_id, category, per, period, "
	    "max_hours, max_bookings, created_by, created) VALUES (:i, :c, "
	    ":per, :period, :h, :b, :by, :now)";
	sqlite3_stmt	*st;
	const char	*code = NULL, *category = NULL, *per, *period;
	json_t		*j;
	char		 idtext[32];
	int64_t		 iid, hours = 0, bookings = 0, id;
	int		 rc, has_h, has_b;

	if (in_fields(r, r->body, fields) == -1 ||
	    in_string(r, r->body, "instrument", 0, &code) == -1 ||
	    in_string(r, r->body, "category", 0, &category) == -1 ||
	    in_string(r, r->body, "per", 1, &per) == -1 ||
	    in_string(r, r->body, "period", 1, &period) == -1 ||
	    (has_h = in_int(r, r->body, "max_hours", 1, 10000, &hours)) == -1 ||
	    (has_b = in_int(r, r->body, "max_bookings", 1, 10000,
	    &bookings)) == -1)
		return;
	if (strcmp(per, "user") != 0 && strcmp(per, "institute") != 0) {
		bad(r, "per", "per must be user or institute");
		return;
	}
	if (strcmp(period, "week") != 0 && strcmp(period, "month") != 0) {
		bad(r, "period", "period must be week or month");
		return;
	}
	if (has_h == has_b) {
		bad(r, "max_hours", "give max_hours or max_bookings, not both");
		return;
	}
	if (quota_target(r, code, category, &iid) == -1)
		return;
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	st = db_prepare(r->ctx, q);
	if (iid != 0)
		db_bind_int(st, ":i", iid);
	db_bind_text(st, ":c", category);
	db_bind_text(st, ":per", per);
	db_bind_text(st, ":period", period);
	if (has_h)
		db_bind_int(st, ":h", hours);
	if (has_b)
		db_bind_int(st, ":b", bookings);
	db_bind_int(st, ":by", r->user->id);
	db_bind_int(st, ":now", db_now(r->ctx));
	rc = db_step(st);
	sqlite3_reset(st);
	id = sqlite3_last_insert_rowid(r->ctx->db);
	snprintf(idtext, sizeof idtext, "%lld", (long long)id);
	if (rc != SQLITE_DONE || (rc = db_audit(r->ctx, r->user->id,
	    "quota.create", "quota", idtext, json_pack("{s:s?,s:s?,s:s,s:s,"
	    "s:I,s:I}", "instrument", code, "category", category, "per", per,
	    "period", period, "max_hours", (json_int_t)hours, "max_bookings",
	    (json_int_t)bookings))) != SQLITE_OK ||
	    (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		return;
	}
	if ((j = quota_get(r, id, &rc)) == NULL)
		api_db_error(r, rc);
	else
		api_reply(r, 201, j);
}

static void
api_quotas_remove(struct req *r)
{
	static const char *const q_find =
	    "SELECT instrument_id, category FROM quotas WHERE id = :id";
	static const char *const q_del =
	    "DELETE FROM quotas WHERE id = :id";

	auth_scoped_delete(r, q_find, q_del, "quota", "quota.delete");
}

/* UTC midnight of local day number (days since 1970-01-01) in zone. */
static time_t
local_midnight(const char *zone, int64_t day)
{
	struct tm	 tm;
	time_t		 t = (time_t)(day * 86400), out;

	gmtime_r(&t, &tm);
	if (tz_local_to_utc(zone, tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, 0, 0, &out) == -1)
		return (t);
	return (out);
}

/* The week (from Monday) or month of zone that t falls in: [*from, *to). */
static void
period_bounds(const char *zone, int month, time_t t, time_t *from,
    time_t *to)
{
	struct tm	 tm;
	time_t		 local = t + tz_offset(zone, t);
	int64_t		 day = (int64_t)local / 86400;
	int		 Y, M;

	if (local < 0 && local % 86400 != 0)
		day--;
	gmtime_r(&local, &tm);
	if (!month) {
		day -= (tm.tm_wday + 6) % 7;
		*from = local_midnight(zone, day);
		*to = local_midnight(zone, day + 7);
		return;
	}
	Y = tm.tm_year + 1900;
	M = tm.tm_mon + 1;
	if (tz_local_to_utc(zone, Y, M, 1, 0, 0, from) == -1 ||
	    tz_local_to_utc(zone, M == 12 ? Y + 1 : Y, M == 12 ? 1 : M + 1, 1,
	    0, 0, to) == -1) {
		*from = t;
		*to = t + 1;
	}
}

/* What one booked period already holds under a quota: count and seconds. */
static int
quota_used(struct yiqid *ctx, sqlite3_stmt *qs, int64_t uid, int64_t inst,
    time_t from, time_t to, int64_t exclude, int64_t *n, int64_t *secs)
{
	static const char *const q =
	    "SELECT count(*), coalesce(sum(r.\"end\" - r.start), 0) FROM "
	    "reservations r JOIN instruments i ON i.id = r.instrument_id "
	    "WHERE r.status IN ('pending', 'confirmed') AND r.id != :x AND "
	    "r.start >= :from AND r.start < :to AND "
	    "(:qi IS NULL OR r.instrument_id = :qi) AND "
	    "(:qc IS NULL OR i.category = :qc) AND "
	    "((:per = 'user' AND r.user_id = :u) OR "
	    "(:per = 'institute' AND r.institute_id = :inst))";
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(ctx, q);
	db_bind_int(st, ":x", exclude);
	db_bind_int(st, ":from", from);
	db_bind_int(st, ":to", to);
	if (sqlite3_column_type(qs, 1) != SQLITE_NULL)
		db_bind_int(st, ":qi", sqlite3_column_int64(qs, 1));
	db_bind_text(st, ":qc", (const char *)sqlite3_column_text(qs, 2));
	db_bind_text(st, ":per", (const char *)sqlite3_column_text(qs, 3));
	db_bind_int(st, ":u", uid);
	db_bind_int(st, ":inst", inst);
	if ((rc = db_step(st)) == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		*secs = sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	return (rc);
}

/* Refuse a booking over the quota the row of qs describes. */
static int
quota_refuse(const struct instrument *in, sqlite3_stmt *qs, time_t from,
    time_t to, int64_t n, int64_t secs, struct refusal *ref)
{
	const char	*per = (const char *)sqlite3_column_text(qs, 3);
	const char	*period = (const char *)sqlite3_column_text(qs, 4);
	const char	*cat = (const char *)sqlite3_column_text(qs, 2);
	int64_t		 id = sqlite3_column_int64(qs, 0), max, left;
	int		 hours = sqlite3_column_type(qs, 5) != SQLITE_NULL;
	json_t		*extra;
	char		*a, *b, *msg, *on, *lefttext;

	a = time_format(from, in->zone);
	b = time_format(to, in->zone);
	if (cat != NULL)
		xasprintf(&on, "category %s", cat);
	else
		on = xstrdup(in->code);
	if (hours) {
		max = sqlite3_column_int64(qs, 5);
		left = max * 3600 - secs;
		if (left < 0)
			left = 0;
		extra = json_pack("{s:I,s:s,s:s,s:I,s:f,s:s,s:s}", "quota",
		    (json_int_t)id, "per", per, "period", period, "max_hours",
		    (json_int_t)max, "left_hours", left / 3600.0,
		    "period_start", a, "period_end", b);
		xasprintf(&lefttext, "%lldh%02lldm", (long long)(left / 3600),
		    (long long)(left % 3600 / 60));
	} else {
		max = sqlite3_column_int64(qs, 6);
		left = max - n > 0 ? max - n : 0;
		extra = json_pack("{s:I,s:s,s:s,s:I,s:I,s:s,s:s}", "quota",
		    (json_int_t)id, "per", per, "period", period, "max_bookings",
		    (json_int_t)max, "left_bookings", (json_int_t)left,
		    "period_start", a, "period_end", b);
		xasprintf(&lefttext, "%lld booking%s", (long long)left,
		    left == 1 ? "" : "s");
	}
	xasprintf(&msg, "over quota #%lld (%lld %s per %s per %s on %s): "
	    "%s left in the %s from %.10s", (long long)id, (long long)max,
	    hours ? "hours" : "bookings", per, period, on, lefttext, period, a);
	refusal_set(ref, 422, "quota", extra, msg);
	free(msg);
	free(lefttext);
	free(on);
	free(a);
	free(b);
	return (1);
}

/*
 * Inside the write transaction: would [start, end) of instrument in, for
 * user uid of institute inst, go over a quota?  exclude is a booking being
 * moved (not counted).  Returns 0 if not, 1 with *ref filled if so, -1
 * with a database error in ref->rc.
 */
int
quota_check(struct yiqid *ctx, const struct instrument *in, int64_t uid,
    int64_t inst, time_t start, time_t end, int64_t exclude,
    struct refusal *ref)
{
	static const char *const q =
	    "SELECT id, instrument_id, category, per, period, max_hours, "
	    "max_bookings FROM quotas WHERE instrument_id = :i OR "
	    "category = (SELECT category FROM instruments WHERE id = :i) "
	    "ORDER BY id";
	sqlite3_stmt	*qs;
	time_t		 from, to;
	int64_t		 n = 0, secs = 0;
	int		 rc, over = 0;

	qs = db_prepare(ctx, q);
	db_bind_int(qs, ":i", in->id);
	while ((rc = db_step(qs)) == SQLITE_ROW) {
		period_bounds(in->zone, strcmp((const char *)
		    sqlite3_column_text(qs, 4), "month") == 0, start, &from,
		    &to);
		if ((rc = quota_used(ctx, qs, uid, inst, from, to, exclude, &n,
		    &secs)) != SQLITE_OK)
			break;
		if (sqlite3_column_type(qs, 5) != SQLITE_NULL)
			over = secs + (end - start) >
			    sqlite3_column_int64(qs, 5) * 3600;
		else
			over = n + 1 > sqlite3_column_int64(qs, 6);
		if (over) {
			quota_refuse(in, qs, from, to, n, secs, ref);
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(qs);
	if (rc != SQLITE_DONE) {
		ref->rc = rc;
		return (-1);
	}
	return (over);
}
