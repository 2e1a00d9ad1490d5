/*
 * api-audit.c: the audit log, for admins: who changed what, and when.
 *
 *	GET /api/v1/audit?object=&id=&user=&since=&limit=&offset=
 *
 * The log itself is written by db_audit() on every change and is
 * append-only (the schema's triggers refuse UPDATE and DELETE on it).
 */

#include "config.h"

#include <stdlib.h>

#include "yiqid.h"

static void	api_audit_list(struct req *);

const struct route api_audit_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/audit", R_ADMIN, api_audit_list },
	{ 0, NULL, 0, NULL }
};

static void
api_audit_list(struct req *r)
{
	static const char *const q =
	    "SELECT a.id, a.at, u.login, a.action, a.object, a.object_id, "
	    "a.detail FROM audit a LEFT JOIN users u ON u.id = a.user_id "
	    "WHERE (:object IS NULL OR a.object = :object) AND "
	    "(:oid IS NULL OR a.object_id = :oid) AND "
	    "(:user IS NULL OR u.login = :user) AND "
	    "(:since IS NULL OR a.at >= :since) "
	    "ORDER BY a.id LIMIT :limit OFFSET :offset";
	sqlite3_stmt	*st;
	json_t		*items, *detail;
	char		*at;
	time_t		 since;
	int64_t		 limit, offset;
	int		 has_since, rc;

	if ((has_since = q_time(r, "since", &since)) == -1 ||
	    q_limit(r, &limit, &offset) == -1)
		return;
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":object", req_query(r, "object"));
	db_bind_text(st, ":oid", req_query(r, "id"));
	db_bind_text(st, ":user", req_query(r, "user"));
	if (has_since)
		db_bind_int(st, ":since", since);
	db_bind_int(st, ":limit", limit);
	db_bind_int(st, ":offset", offset);
	items = json_array();
	while ((rc = db_step(st)) == SQLITE_ROW) {
		at = time_format(sqlite3_column_int64(st, 1), YIQID_DEFAULT_ZONE);
		detail = json_loads((const char *)sqlite3_column_text(st, 6), 0,
		    NULL);
		json_array_append_new(items, json_pack("{s:I,s:s,s:s?,s:s,s:s,"
		    "s:s,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
		    "at", at, "user", (const char *)sqlite3_column_text(st, 2),
		    "action", (const char *)sqlite3_column_text(st, 3),
		    "object", (const char *)sqlite3_column_text(st, 4),
		    "object_id", (const char *)sqlite3_column_text(st, 5),
		    "detail", detail != NULL ? detail : json_object()));
		free(at);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(items);
		api_db_error(r, rc);
		return;
	}
	api_reply(r, 200, json_pack("{s:o,s:I,s:I}", "items", items, "limit",
	    (json_int_t)limit, "offset", (json_int_t)offset));
}
