/*
 * api-calendars.c: external calendars an instrument or a site subscribes
 * to (a vendor's service schedule, the parks' holiday calendar); calpoll.c
 * polls them into blackouts.
 *
 *	POST   /api/v1/calendars		{"instrument"|"site","url"}
 *	GET    /api/v1/calendars		the ones the caller may manage
 *	GET    /api/v1/calendars/{id}		with the state of its polling
 *	DELETE /api/v1/calendars/{id}		and the blackouts it made
 *	POST   /api/v1/calendars/{id}/poll	poll now (202)
 *
 * Who may: whoever may black out the instrument or site (its managers,
 * park managers of the site, admins).  The state of the polling (last
 * poll, last success, last error, failures in a row, next poll) is in
 * every answer, so that a failing calendar is visible in the API.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define CALENDAR_URL_MAX	2048

static void	calendars_create(struct req *);
static void	calendars_list(struct req *);
static void	calendars_show(struct req *);
static void	calendars_delete(struct req *);
static void	calendars_poll(struct req *);

const struct route api_calendars_routes[] = {
	{ EVHTTP_REQ_POST, "/api/v1/calendars", R_JSON, calendars_create },
	{ EVHTTP_REQ_GET, "/api/v1/calendars", 0, calendars_list },
	{ EVHTTP_REQ_GET, "/api/v1/calendars/*", 0, calendars_show },
	{ EVHTTP_REQ_DELETE, "/api/v1/calendars/*", 0, calendars_delete },
	{ EVHTTP_REQ_POST, "/api/v1/calendars/*/poll", R_JSON_OPT,
	    calendars_poll },
	{ 0, NULL, 0, NULL }
};

#define CALENDAR_SELECT \
	"SELECT c.id, i.code, s.code, c.url, c.last_poll, c.last_ok, " \
	"c.last_status, c.last_error, c.failures, c.next_poll, c.blackouts, " \
	"coalesce(c.instrument_id, 0), coalesce(c.site_id, i.site_id), " \
	"coalesce(s.timezone, si.timezone) FROM calendar_sources c " \
	"LEFT JOIN instruments i ON i.id = c.instrument_id " \
	"LEFT JOIN sites si ON si.id = i.site_id " \
	"LEFT JOIN sites s ON s.id = c.site_id "

static json_t *
calendar_time(sqlite3_stmt *st, int col, const char *zone)
{
	json_t	*j;
	char	*s;

	if (sqlite3_column_type(st, col) == SQLITE_NULL ||
	    sqlite3_column_int64(st, col) == 0)
		return (json_null());
	s = time_format(sqlite3_column_int64(st, col), zone);
	j = json_string(s);
	free(s);
	return (j);
}

static json_t *
calendar_json(sqlite3_stmt *st)
{
	const char	*zone = (const char *)sqlite3_column_text(st, 13);
	json_t		*j;

	j = json_pack("{s:I,s:s?,s:s?,s:s,s:I,s:s,s:I,s:I}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "instrument", (const char *)sqlite3_column_text(st, 1),
	    "site", (const char *)sqlite3_column_text(st, 2),
	    "url", (const char *)sqlite3_column_text(st, 3),
	    "last_status", (json_int_t)sqlite3_column_int64(st, 6),
	    "last_error", (const char *)sqlite3_column_text(st, 7),
	    "failures", (json_int_t)sqlite3_column_int64(st, 8),
	    "blackouts", (json_int_t)sqlite3_column_int64(st, 10));
	if (json_object_get(j, "instrument") == NULL)
		json_object_set_new(j, "instrument", json_null());
	if (json_object_get(j, "site") == NULL)
		json_object_set_new(j, "site", json_null());
	json_object_set_new(j, "last_poll", calendar_time(st, 4, zone));
	json_object_set_new(j, "last_ok", calendar_time(st, 5, zone));
	json_object_set_new(j, "next_poll", calendar_time(st, 9, zone));
	return (j);
}

/* May the caller black out this instrument (or, if 0, this site)? */
static int
calendar_may(struct req *r, int64_t instrument_id, int64_t site_id)
{
	if (instrument_id != 0 && auth_manages(r, instrument_id))
		return (1);
	return (auth_covers_site(r, site_id));
}

static void
calendars_create(struct req *r)
{
	static const char *const fields[] = { "instrument", "site", "url",
	    NULL };
	static const char *const q =
	    "INSERT INTO calendar_sources (instrument_id, site_id, url, "
	    "created_by, created) VALUES (:i, :s, :url, :by, :now)";
	static const char *const q_get = CALENDAR_SELECT "WHERE c.id = :id";
	struct instrument	 in;
	sqlite3_stmt		*st;
	const char		*instrument = NULL, *site = NULL, *url;
	int64_t			 iid = 0, sid = 0, id;
	char			 tid[32];
	int			 rc;

	if (in_fields(r, r->body, fields) == -1 ||
	    in_string(r, r->body, "instrument", 0, &instrument) == -1 ||
	    in_string(r, r->body, "site", 0, &site) == -1 ||
	    in_string(r, r->body, "url", 1, &url) == -1)
		return;
	if ((instrument == NULL) == (site == NULL)) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "instrument"), "give exactly one of instrument or site");
		return;
	}
	if ((strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) || strlen(url) >
	    CALENDAR_URL_MAX || strpbrk(url, " \t\n") != NULL) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "url"), "url must be an http:// or https:// URL of at most "
		    "%d characters", CALENDAR_URL_MAX);
		return;
	}
	if (instrument != NULL) {
		if (instrument_load(r->ctx, instrument, 0, &in) == -1) {
			api_error(r, 404, "not_found", "no instrument %s",
			    instrument);
			return;
		}
		iid = in.id;
		sid = in.site_id;
		instrument_free(&in);
	} else if ((sid = db_lookup_id(r->ctx, "sites", site)) == 0) {
		api_error(r, 404, "not_found", "no site %s", site);
		return;
	}
	if (!calendar_may(r, iid, sid)) {
		api_error(r, 403, "forbidden", "only those who may black out %s "
		    "may subscribe it to a calendar", instrument != NULL ?
		    instrument : site);
		return;
	}
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	st = db_prepare(r->ctx, q);
	if (iid != 0) {
		db_bind_int(st, ":i", iid);
		db_bind_null(st, ":s");
	} else {
		db_bind_null(st, ":i");
		db_bind_int(st, ":s", sid);
	}
	db_bind_text(st, ":url", url);
	db_bind_int(st, ":by", r->user->id);
	db_bind_int(st, ":now", db_now(r->ctx));
	rc = db_step(st);
	sqlite3_reset(st);
	id = sqlite3_last_insert_rowid(r->ctx->db);
	snprintf(tid, sizeof tid, "%lld", (long long)id);
	if (rc != SQLITE_DONE || (rc = db_audit(r->ctx, r->user->id,
	    "calendar.create", "calendar", tid, json_incref(r->body))) !=
	    SQLITE_OK || (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		return;
	}
	st = db_prepare(r->ctx, q_get);
	db_bind_int(st, ":id", id);
	if (db_step(st) == SQLITE_ROW)
		api_reply(r, 201, calendar_json(st));
	else
		api_error(r, 500, "internal", "internal error");
	sqlite3_reset(st);
	calpoll_kick(r->ctx);
}

static void
calendars_list(struct req *r)
{
	static const char *const q = CALENDAR_SELECT "ORDER BY c.id";
	sqlite3_stmt	*st;
	json_t		*items = json_array();

	st = db_prepare(r->ctx, q);
	while (db_step(st) == SQLITE_ROW) {
		if (calendar_may(r, sqlite3_column_int64(st, 11),
		    sqlite3_column_int64(st, 12)))
			json_array_append_new(items, calendar_json(st));
	}
	sqlite3_reset(st);
	api_reply(r, 200, json_pack("{s:o}", "items", items));
}

/*
 * Find the calendar the path names and check the caller may manage it;
 * returns the id and its reply (owned by the caller) or 0 after replying.
 */
static int64_t
calendar_target(struct req *r, json_t **out)
{
	static const char *const q = CALENDAR_SELECT "WHERE c.id = :id";
	sqlite3_stmt	*st;
	char		*end;
	int64_t		 id;
	int		 may = 0, found;

	id = strtoll(r->args[0], &end, 10);
	if (*end != '\0' || id <= 0 || strlen(r->args[0]) > 18) {
		api_error(r, 404, "not_found", "no calendar %s", r->args[0]);
		return (0);
	}
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":id", id);
	if ((found = db_step(st) == SQLITE_ROW)) {
		may = calendar_may(r, sqlite3_column_int64(st, 11),
		    sqlite3_column_int64(st, 12));
		if (may && out != NULL)
			*out = calendar_json(st);
	}
	sqlite3_reset(st);
	if (!found) {
		api_error(r, 404, "not_found", "no calendar %s", r->args[0]);
		return (0);
	}
	if (!may) {
		api_error(r, 403, "forbidden", "only those who may black out "
		    "its instrument or site may see or change calendar %s",
		    r->args[0]);
		return (0);
	}
	return (id);
}

static void
calendars_show(struct req *r)
{
	json_t	*j = NULL;

	if (calendar_target(r, &j) != 0)
		api_reply(r, 200, j);
}

static void
calendars_delete(struct req *r)
{
	static const char *const q_black =
	    "DELETE FROM blackouts WHERE source = :src";
	static const char *const q =
	    "DELETE FROM calendar_sources WHERE id = :id";
	static const char *const q_flag =
	    "UPDATE reservations AS r SET affected_by_blackout = 0 WHERE "
	    "r.affected_by_blackout = 1 AND NOT EXISTS (SELECT 1 FROM "
	    "blackouts b, instruments i WHERE i.id = r.instrument_id AND "
	    "(b.instrument_id = i.id OR b.site_id = i.site_id) AND "
	    "b.\"end\" > r.start AND b.start < r.\"end\")";
	sqlite3_stmt	*st;
	char		 src[64];
	int64_t		 id;
	int		 rc, i;

	if ((id = calendar_target(r, NULL)) == 0)
		return;
	snprintf(src, sizeof src, "calendar:%lld", (long long)id);
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	for (i = 0; i < 3; i++) {
		st = db_prepare(r->ctx, i == 0 ? q_black : i == 1 ? q :
		    q_flag);
		if (i == 0)
			db_bind_text(st, ":src", src);
		else if (i == 1)
			db_bind_int(st, ":id", id);
		rc = db_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			break;
	}
	if (rc != SQLITE_DONE || (rc = db_audit(r->ctx, r->user->id,
	    "calendar.delete", "calendar", r->args[0], NULL)) != SQLITE_OK ||
	    (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		return;
	}
	api_reply_empty(r, 204);
}

static void
calendars_poll(struct req *r)
{
	static const char *const q =
	    "UPDATE calendar_sources SET next_poll = 0 WHERE id = :id";
	sqlite3_stmt	*st;
	json_t		*j = NULL;
	int64_t		 id;
	int		 rc;

	if ((id = calendar_target(r, &j)) == 0)
		return;
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":id", id);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(j);
		api_db_error(r, sqlite3_extended_errcode(r->ctx->db));
		return;
	}
	calpoll_kick(r->ctx);
	api_reply(r, 202, j);
}
