/*
 * api-audit.c: the audit log, for admins: who changed what, and when.
 *
 *	GET /api/v1/audit?object=&id=&user=&since=&limit=&offset=
 *
 * The log itself is written by db_audit() on every change and is
 * append-only (the schema's triggers refuse UPDATE and DELETE on it).
 *
 * One object's history (object and id) is read through its index.  Any
 * other list walks the log in id order, and at a million bookings the log
 * holds millions of rows: a user's changes, the changes since a time, or a
 * page far down took 80-160 ms of the event loop in one statement.  So the
 * walk reads AUDIT_RANGE ids a statement, in slices of the loop
 * (slices.c), up to the newest entry when the request came.
 */

#include "config.h"

#include <stdlib.h>
#include <time.h>

#include "yiqid.h"

#define AUDIT_RANGE	4096	/* ids one statement of a walk reads */

/* A walk of the log, in slices. */
struct audit_walk {
	struct req	*r;
	int		 has_since;
	time_t		 since;
	int64_t		 limit;
	int64_t		 offset;
	int64_t		 skip;		/* matches still to skip */
	int64_t		 after;		/* ids after this are left ... */
	int64_t		 last;		/* ... up to this one */
	json_t		*items;
	int		 step_ms;	/* tests: one statement a slice */
};

static void	api_audit_list(struct req *);

const struct route api_audit_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/audit", R_ADMIN, api_audit_list },
	{ 0, NULL, 0, NULL }
};

#define AUDIT_COLUMNS						\
	"SELECT a.id, a.at, u.login, a.action, a.object, a.object_id, "	\
	"a.detail FROM audit a LEFT JOIN users u ON u.id = a.user_id "
#define AUDIT_FILTERS						\
	"(:user IS NULL OR u.login = :user) AND "			\
	"(:since IS NULL OR a.at >= :since) "

/* Bind the filters every statement of the list takes. */
static void
audit_bind(struct req *r, sqlite3_stmt *st, int has_since, time_t since)
{
	db_bind_text(st, ":object", req_query(r, "object"));
	db_bind_text(st, ":oid", req_query(r, "id"));
	db_bind_text(st, ":user", req_query(r, "user"));
	if (has_since)
		db_bind_int(st, ":since", since);
}

/* The entry st is on, as an item. */
static json_t *
audit_item(sqlite3_stmt *st)
{
	json_t	*j, *detail;
	char	*at;

	at = time_format(sqlite3_column_int64(st, 1), YIQID_DEFAULT_ZONE);
	detail = json_loads((const char *)sqlite3_column_text(st, 6), 0, NULL);
	j = json_pack("{s:I,s:s,s:s?,s:s,s:s,s:s,s:o}", "id",
	    (json_int_t)sqlite3_column_int64(st, 0), "at", at, "user",
	    (const char *)sqlite3_column_text(st, 2), "action",
	    (const char *)sqlite3_column_text(st, 3), "object",
	    (const char *)sqlite3_column_text(st, 4), "object_id",
	    (const char *)sqlite3_column_text(st, 5), "detail",
	    detail != NULL ? detail : json_object());
	free(at);
	return (j);
}

static void
audit_reply(struct req *r, json_t *items, int64_t limit, int64_t offset)
{
	api_reply(r, 200, json_pack("{s:O,s:I,s:I}", "items", items, "limit",
	    (json_int_t)limit, "offset", (json_int_t)offset));
}

static void
walk_free(void *arg)
{
	struct audit_walk	*w = arg;

	json_decref(w->items);
	free(w);
}

/*
 * The next AUDIT_RANGE ids of a walk; sets *full once the page is.
 * Returns SQLITE_OK or an SQLite error.
 */
static int
walk_range(struct audit_walk *w, int *full)
{
	static const char *const q = AUDIT_COLUMNS
	    "WHERE a.id > :after AND a.id <= :upto AND "
	    "(:object IS NULL OR a.object = :object) AND "
	    "(:oid IS NULL OR a.object_id = :oid) AND " AUDIT_FILTERS
	    "ORDER BY a.id";
	sqlite3_stmt	*st;
	int64_t		 upto;
	int		 rc;

	upto = w->last - w->after > AUDIT_RANGE ? w->after + AUDIT_RANGE :
	    w->last;
	st = db_prepare(w->r->ctx, q);
	audit_bind(w->r, st, w->has_since, w->since);
	db_bind_int(st, ":after", w->after);
	db_bind_int(st, ":upto", upto);
	while (!*full && (rc = db_step(st)) == SQLITE_ROW) {
		if (w->skip > 0)
			w->skip--;
		else
			json_array_append_new(w->items, audit_item(st));
		*full = (int64_t)json_array_size(w->items) == w->limit;
	}
	sqlite3_reset(st);
	if (!*full && rc != SQLITE_DONE)
		return (rc);
	w->after = upto;
	return (SQLITE_OK);
}

/*
 * A slice of a walk (slices.c): answers once the page is full or the log
 * read.  Returns 1 once answered.
 */
static int
walk_pass(void *arg)
{
	struct audit_walk	*w = arg;
	struct timespec		 t0;
	int			 rc, full = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if ((rc = walk_range(w, &full)) != SQLITE_OK) {
			api_db_error(w->r, rc);
			return (1);
		}
	} while (!full && w->after < w->last && w->step_ms < 0 &&
	    !slice_over(&t0));
	if (!full && w->after < w->last)
		return (0);
	audit_reply(w->r, w->items, w->limit, w->offset);
	return (1);
}

static void
api_audit_list(struct req *r)
{
	static const char *const q_object = AUDIT_COLUMNS
	    "WHERE a.object = :object AND a.object_id = :oid AND "
	    AUDIT_FILTERS "ORDER BY a.id LIMIT :limit OFFSET :offset";
	static const char *const q_last = "SELECT max(id) FROM audit";
	struct audit_walk	*w;
	sqlite3_stmt		*st;
	int			 rc;

	w = xcalloc(1, sizeof *w);
	w->r = r;
	w->items = json_array();
	if ((w->has_since = q_time(r, "since", &w->since)) == -1 ||
	    q_limit(r, &w->limit, &w->offset) == -1) {
		walk_free(w);
		return;
	}
	if (req_query(r, "object") != NULL && req_query(r, "id") != NULL) {
		/* One object's history, through its index: short. */
		st = db_prepare(r->ctx, q_object);
		audit_bind(r, st, w->has_since, w->since);
		db_bind_int(st, ":limit", w->limit);
		db_bind_int(st, ":offset", w->offset);
		while ((rc = db_step(st)) == SQLITE_ROW)
			json_array_append_new(w->items, audit_item(st));
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			api_db_error(r, rc);
		else
			audit_reply(r, w->items, w->limit, w->offset);
		walk_free(w);
		return;
	}
	st = db_prepare(r->ctx, q_last);
	if ((rc = db_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		api_db_error(r, rc);
		walk_free(w);
		return;
	}
	w->last = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	w->skip = w->offset;
	w->step_ms = test_ms("YIQID_AUDIT_STEP_MS");
	slice_run(r, walk_pass, walk_free, w, w->step_ms);
}
