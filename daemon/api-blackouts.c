/*
 * api-blackouts.c: time an instrument or a whole site cannot be booked
 * (maintenance, calibration, park closures).
 *
 *	POST   /api/v1/blackouts	{"instrument"|"site","start","end","reason"}
 *	GET    /api/v1/blackouts?instrument=&site=&from=&to=
 *	DELETE /api/v1/blackouts/{id}
 *
 * A blackout over existing bookings is allowed: they stay, flagged
 * affected_by_blackout, until a manager moves or cancels them, and the
 * answer lists them.  Deleting a blackout clears the flag of bookings no
 * other blackout covers.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

static void	api_blackouts_create(struct req *);
static void	api_blackouts_list(struct req *);
static void	api_blackouts_delete(struct req *);

const struct route api_blackouts_routes[] = {
	{ EVHTTP_REQ_POST, "/api/v1/blackouts", R_JSON, api_blackouts_create },
	{ EVHTTP_REQ_GET, "/api/v1/blackouts", 0, api_blackouts_list },
	{ EVHTTP_REQ_DELETE, "/api/v1/blackouts/*", 0, api_blackouts_delete },
	{ 0, NULL, 0, NULL }
};

#define BLACKOUT_SELECT \
	"SELECT b.id, i.code, coalesce(s.code, si.code), " \
	"coalesce(s.timezone, si.timezone), b.start, b.\"end\", b.reason, " \
	"b.source, u.login FROM blackouts b " \
	"LEFT JOIN instruments i ON i.id = b.instrument_id " \
	"LEFT JOIN sites si ON si.id = i.site_id " \
	"LEFT JOIN sites s ON s.id = b.site_id " \
	"LEFT JOIN users u ON u.id = b.created_by "

/* Rows of the reservations a blackout covers (holding ones). */
#define AFFECTED_WHERE \
	"r.status IN ('pending', 'confirmed') AND r.\"end\" > :from AND " \
	"r.start < :to AND r.start > :from - " LONGEST_SQL " AND " \
	"r.instrument_id IN (SELECT id FROM instruments WHERE id = :i OR " \
	"site_id = :s) "

static json_t *
blackout_json(sqlite3_stmt *st)
{
	const char	*zone = (const char *)sqlite3_column_text(st, 3);
	char		*a, *b;
	json_t		*j;

	a = time_format(sqlite3_column_int64(st, 4), zone);
	b = time_format(sqlite3_column_int64(st, 5), zone);
	j = json_pack("{s:I,s:s?,s:s?,s:s,s:s,s:s,s:s,s:s?}", "id",
	    (json_int_t)sqlite3_column_int64(st, 0),
	    "instrument", sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL :
	    (const char *)sqlite3_column_text(st, 1),
	    "site", (const char *)sqlite3_column_text(st, 2),
	    "start", a, "end", b,
	    "reason", (const char *)sqlite3_column_text(st, 6),
	    "source", (const char *)sqlite3_column_text(st, 7),
	    "created_by", (const char *)sqlite3_column_text(st, 8));
	if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		json_object_set_new(j, "site", json_null());
	free(a);
	free(b);
	return (j);
}

/* Where a blackout applies: one instrument or one site, and who may set it. */
struct target {
	int64_t	 instrument_id;	/* 0 for a site blackout */
	int64_t	 site_id;	/* the instrument's site, or the site */
};

static int
target_load(struct req *r, const char *instrument, const char *site,
    struct target *t)
{
	struct instrument	in;

	memset(t, 0, sizeof *t);
	if ((instrument == NULL) == (site == NULL)) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "instrument"), "give exactly one of instrument or site");
		return (-1);
	}
	if (instrument != NULL) {
		if (instrument_load(r->ctx, instrument, 0, &in) == -1) {
			api_error(r, 404, "not_found", "no instrument %s",
			    instrument);
			return (-1);
		}
		t->instrument_id = in.id;
		t->site_id = in.site_id;
		instrument_free(&in);
		if (!auth_manages(r, t->instrument_id) &&
		    !auth_covers_site(r, t->site_id)) {
			api_error(r, 403, "forbidden", "only a manager of %s or "
			    "a park manager of its site may black it out",
			    instrument);
			return (-1);
		}
		return (0);
	}
	if ((t->site_id = db_lookup_id(r->ctx, "sites", site)) == 0) {
		api_error(r, 404, "not_found", "no site %s", site);
		return (-1);
	}
	if (!auth_covers_site(r, t->site_id)) {
		api_error(r, 403, "forbidden", "only a park manager of %s may "
		    "close it", site);
		return (-1);
	}
	return (0);
}

/* Flag the bookings under a new blackout; list them (caller's view). */
static int
flag_affected(struct req *r, const struct target *t, time_t start,
    time_t end, json_t *list)
{
	static const char *const q_flag =
	    "UPDATE reservations AS r SET affected_by_blackout = 1 WHERE "
	    AFFECTED_WHERE;
	static const char *const q_list =
	    "SELECT r.id FROM reservations r WHERE " AFFECTED_WHERE
	    "ORDER BY r.start";
	sqlite3_stmt	*st;
	int		 pass, rc;

	for (pass = 0; pass < 2; pass++) {
		st = db_prepare(r->ctx, pass == 0 ? q_flag : q_list);
		db_bind_int(st, ":from", start);
		db_bind_int(st, ":to", end);
		db_bind_int(st, ":i", t->instrument_id);
		db_bind_int(st, ":s", t->instrument_id != 0 ? 0 : t->site_id);
		while ((rc = db_step(st)) == SQLITE_ROW)
			json_array_append_new(list,
			    json_integer(sqlite3_column_int64(st, 0)));
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return (rc);
	}
	return (SQLITE_OK);
}

static int
insert_blackout(struct req *r, const struct target *t, time_t start,
    time_t end, const char *reason, int64_t *id)
{
	static const char *const q =
	    "INSERT INTO blackouts (instrument_id, site_id, start, \"end\", "
	    "reason, created_by, created) VALUES (:i, :s, :from, :to, :why, "
	    ":by, :now)";
	sqlite3_stmt	*st;
	char		 idtext[32];
	int		 rc;

	st = db_prepare(r->ctx, q);
	if (t->instrument_id != 0) {
		db_bind_int(st, ":i", t->instrument_id);
		db_bind_null(st, ":s");
	} else {
		db_bind_null(st, ":i");
		db_bind_int(st, ":s", t->site_id);
	}
	db_bind_int(st, ":from", start);
	db_bind_int(st, ":to", end);
	db_bind_text(st, ":why", reason);
	db_bind_int(st, ":by", r->user->id);
	db_bind_int(st, ":now", db_now(r->ctx));
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	*id = sqlite3_last_insert_rowid(r->ctx->db);
	snprintf(idtext, sizeof idtext, "%lld", (long long)*id);
	return (db_audit(r->ctx, r->user->id, "blackout.create", "blackout",
	    idtext, json_pack("{s:I,s:I,s:s}", "start", (json_int_t)start,
	    "end", (json_int_t)end, "reason", reason)));
}

/* The reservations listed by id, in the caller's view. */
static json_t *
reservations_by_id(struct req *r, json_t *ids)
{
	json_t	*out = json_array(), *v, *j;
	size_t	 i;
	int	 rc;

	json_array_foreach(ids, i, v) {
		if ((j = reservation_get(r, json_integer_value(v), &rc)) != NULL)
			json_array_append_new(out, j);
	}
	return (out);
}

static void
api_blackouts_create(struct req *r)
{
	static const char *const fields[] = { "instrument", "site", "start",
	    "end", "reason", NULL };
	static const char *const q = BLACKOUT_SELECT "WHERE b.id = :id";
	const char	*instrument = NULL, *site = NULL, *reason = "";
	struct target	 t;
	sqlite3_stmt	*st;
	json_t		*ids, *j;
	time_t		 start, end;
	int64_t		 id = 0;
	int		 rc;

	if (in_fields(r, r->body, fields) == -1 ||
	    in_string(r, r->body, "instrument", 0, &instrument) == -1 ||
	    in_string(r, r->body, "site", 0, &site) == -1 ||
	    in_time(r, r->body, "start", 1, &start) == -1 ||
	    in_time(r, r->body, "end", 1, &end) == -1 ||
	    in_string(r, r->body, "reason", 0, &reason) == -1)
		return;
	if (end <= start) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "end"), "end must be after start");
		return;
	}
	if (target_load(r, instrument, site, &t) == -1)
		return;
	ids = json_array();
	if ((rc = db_begin(r->ctx)) != SQLITE_OK ||
	    (rc = insert_blackout(r, &t, start, end, reason, &id)) !=
	    SQLITE_OK || (rc = flag_affected(r, &t, start, end, ids)) !=
	    SQLITE_OK || (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		json_decref(ids);
		api_db_error(r, rc);
		return;
	}
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":id", id);
	if (db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		json_decref(ids);
		api_error(r, 500, "internal", "the new blackout vanished");
		return;
	}
	j = blackout_json(st);
	sqlite3_reset(st);
	json_object_set_new(j, "affected", reservations_by_id(r, ids));
	json_decref(ids);
	api_reply(r, 201, j);
}

static void
api_blackouts_list(struct req *r)
{
	static const char *const q = BLACKOUT_SELECT
	    "WHERE (:inst IS NULL OR i.code = :inst OR b.site_id = "
	    "(SELECT site_id FROM instruments WHERE code = :inst)) AND "
	    "(:site IS NULL OR s.code = :site OR si.code = :site) AND "
	    "(:from IS NULL OR b.\"end\" > :from) AND "
	    "(:to IS NULL OR b.start < :to) ORDER BY b.start, b.id "
	    "LIMIT :limit OFFSET :offset";
	sqlite3_stmt	*st;
	json_t		*items;
	time_t		 from, to;
	int64_t		 limit, offset;
	int		 has_from, has_to, rc;

	if ((has_from = q_time(r, "from", &from)) == -1 ||
	    (has_to = q_time(r, "to", &to)) == -1 ||
	    q_limit(r, &limit, &offset) == -1)
		return;
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":inst", req_query(r, "instrument"));
	db_bind_text(st, ":site", req_query(r, "site"));
	if (has_from)
		db_bind_int(st, ":from", from);
	if (has_to)
		db_bind_int(st, ":to", to);
	db_bind_int(st, ":limit", limit);
	db_bind_int(st, ":offset", offset);
	items = json_array();
	while ((rc = db_step(st)) == SQLITE_ROW)
		json_array_append_new(items, blackout_json(st));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(items);
		api_db_error(r, rc);
		return;
	}
	api_reply(r, 200, json_pack("{s:o,s:I,s:I}", "items", items, "limit",
	    (json_int_t)limit, "offset", (json_int_t)offset));
}

static void
api_blackouts_delete(struct req *r)
{
	static const char *const q_get =
	    "SELECT b.instrument_id, coalesce(b.site_id, i.site_id), b.start, "
	    "b.\"end\" FROM blackouts b LEFT JOIN instruments i ON "
	    "i.id = b.instrument_id WHERE b.id = :id";
	static const char *const q_del = "DELETE FROM blackouts WHERE id = :id";
	static const char *const q_unflag =
	    "UPDATE reservations AS r SET affected_by_blackout = 0 WHERE "
	    "affected_by_blackout = 1 AND NOT EXISTS (SELECT 1 FROM blackouts b "
	    "JOIN instruments i ON i.id = r.instrument_id WHERE "
	    "(b.instrument_id = r.instrument_id OR b.site_id = i.site_id) AND "
	    "b.\"end\" > r.start AND b.start < r.\"end\")";
	sqlite3_stmt	*st;
	struct target	 t;
	char		*end;
	int64_t		 id = 0;
	int		 rc;

	id = strtoll(r->args[0], &end, 10);
	st = db_prepare(r->ctx, q_get);
	db_bind_int(st, ":id", id);
	if (*end != '\0' || db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		api_error(r, 404, "not_found", "no blackout %s", r->args[0]);
		return;
	}
	t.instrument_id = sqlite3_column_int64(st, 0);
	t.site_id = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if ((t.instrument_id != 0 && !auth_manages(r, t.instrument_id) &&
	    !auth_covers_site(r, t.site_id)) ||
	    (t.instrument_id == 0 && !auth_covers_site(r, t.site_id))) {
		api_error(r, 403, "forbidden", "you may not remove this blackout");
		return;
	}
	if ((rc = db_begin(r->ctx)) != SQLITE_OK)
		goto fail;
	st = db_prepare(r->ctx, q_del);
	db_bind_int(st, ":id", id);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		goto fail;
	st = db_prepare(r->ctx, q_unflag);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE || (rc = db_audit(r->ctx, r->user->id,
	    "blackout.delete", "blackout", r->args[0], NULL)) != SQLITE_OK ||
	    (rc = db_commit(r->ctx)) != SQLITE_OK)
		goto fail;
	api_reply_empty(r, 204);
	return;
fail:
	db_rollback(r->ctx);
	api_db_error(r, rc);
}
