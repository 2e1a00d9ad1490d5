/*
 * api-places.c: sites (parks) and institutes, the places of SPEC §2.
 *
 * Both kinds are a code, a name and a district, plus one more column (a
 * site's time zone, an institute's privacy flag), so one set of handlers
 * serves both, driven by a struct place that holds each kind's SQL.
 * Writes load the current row (or the defaults), lay the request over it
 * and write every column back, inside one transaction with its audit
 * record.  A district named by a write must exist, unless the request
 * says "create_district": true.  Exports code_ok(), the check every code
 * of the API passes.
 */

#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

/* One kind of place. */
struct place {
	const char		*object;	/* "site" or "institute" */
	const char		*table;		/* for db_lookup_id */
	int			 is_site;
	const char		*q_list;
	const char		*q_get;
	const char		*q_insert;
	const char		*q_update;
	const char *const	*fields;	/* allowed body members */
};

/* A place row while it is being written. */
struct place_row {
	int64_t		 id;
	const char	*code;
	char		*name;
	int64_t		 district_id;
	char		*zone;		/* sites */
	int		 private;	/* institutes */
};

static void	places_site_list(struct req *);
static void	places_site_get(struct req *);
static void	places_site_create(struct req *);
static void	places_site_patch(struct req *);
static void	places_inst_list(struct req *);
static void	places_inst_get(struct req *);
static void	places_inst_create(struct req *);
static void	places_inst_patch(struct req *);

const struct route api_places_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/sites", 0, places_site_list },
	{ EVHTTP_REQ_POST, "/api/v1/sites", R_ADMIN|R_JSON,
	    places_site_create },
	{ EVHTTP_REQ_GET, "/api/v1/sites/*", 0, places_site_get },
	{ EVHTTP_REQ_PATCH, "/api/v1/sites/*", R_ADMIN|R_JSON,
	    places_site_patch },
	{ EVHTTP_REQ_GET, "/api/v1/institutes", 0, places_inst_list },
	{ EVHTTP_REQ_POST, "/api/v1/institutes", R_ADMIN|R_JSON,
	    places_inst_create },
	{ EVHTTP_REQ_GET, "/api/v1/institutes/*", 0, places_inst_get },
	{ EVHTTP_REQ_PATCH, "/api/v1/institutes/*", R_ADMIN|R_JSON,
	    places_inst_patch },
	{ 0, NULL, 0, NULL }
};

static const char *const site_fields[] = {
	"code", "name", "district", "timezone", "create_district", NULL
};
static const char *const inst_fields[] = {
	"code", "name", "district", "private", "create_district", NULL
};

static const struct place place_site = {
	"site", "sites", 1,
	"SELECT s.id, s.code, s.name, d.code, s.timezone FROM sites s "
	"JOIN districts d ON d.id = s.district_id ORDER BY s.code",
	"SELECT s.id, s.code, s.name, d.code, s.timezone FROM sites s "
	"JOIN districts d ON d.id = s.district_id WHERE s.code = :code",
	"INSERT INTO sites (code, name, district_id, timezone) "
	"VALUES (:code, :name, :district, :extra)",
	"UPDATE sites SET name = :name, district_id = :district, "
	"timezone = :extra WHERE id = :id",
	site_fields
};

static const struct place place_inst = {
	"institute", "institutes", 0,
	"SELECT i.id, i.code, i.name, d.code, i.private FROM institutes i "
	"JOIN districts d ON d.id = i.district_id ORDER BY i.code",
	"SELECT i.id, i.code, i.name, d.code, i.private FROM institutes i "
	"JOIN districts d ON d.id = i.district_id WHERE i.code = :code",
	"INSERT INTO institutes (code, name, district_id, private) "
	"VALUES (:code, :name, :district, :extra)",
	"UPDATE institutes SET name = :name, district_id = :district, "
	"private = :extra WHERE id = :id",
	inst_fields
};

/* Is s a code of the API: 1 to 64 characters of [A-Za-z0-9._-]? */
int
code_ok(const char *s)
{
	size_t	n;

	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-");
	return (n >= 1 && n <= 64 && s[n] == '\0');
}

static void
bad(struct req *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
bad(struct req *r, const char *field, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
	    field), "%s", msg);
	free(msg);
}

/* The JSON form of the row st stands on. */
static json_t *
place_json(const struct place *k, sqlite3_stmt *st)
{
	json_t	*j;

	j = json_pack("{s:s,s:s,s:s}",
	    "code", (const char *)sqlite3_column_text(st, 1),
	    "name", (const char *)sqlite3_column_text(st, 2),
	    "district", (const char *)sqlite3_column_text(st, 3));
	if (k->is_site)
		json_object_set_new(j, "timezone",
		    json_string((const char *)sqlite3_column_text(st, 4)));
	else
		json_object_set_new(j, "private",
		    json_boolean(sqlite3_column_int(st, 4)));
	return (j);
}

/* The JSON form of the place with this code, or NULL. */
static json_t *
place_get(struct yiqid *ctx, const struct place *k, const char *code)
{
	sqlite3_stmt	*st;
	json_t		*j = NULL;

	st = db_prepare(ctx, k->q_get);
	db_bind_text(st, ":code", code);
	if (db_step(st) == SQLITE_ROW)
		j = place_json(k, st);
	sqlite3_reset(st);
	return (j);
}

static void
place_list(struct req *r, const struct place *k)
{
	sqlite3_stmt	*st;
	json_t		*items;
	int		 rc;

	items = json_array();
	st = db_prepare(r->ctx, k->q_list);
	while ((rc = db_step(st)) == SQLITE_ROW)
		json_array_append_new(items, place_json(k, st));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(items);
		api_db_error(r, rc);
		return;
	}
	api_reply(r, 200, json_pack("{s:o}", "items", items));
}

static void
place_show(struct req *r, const struct place *k)
{
	json_t	*j;

	if ((j = place_get(r->ctx, k, r->args[0])) == NULL) {
		api_error(r, 404, "not_found", "no such %s: %s", k->object,
		    r->args[0]);
		return;
	}
	api_reply(r, 200, j);
}

/* Load the row with this code into *row; 0, or -1 if there is none. */
static int
place_load(struct yiqid *ctx, const struct place *k, const char *code,
    struct place_row *row)
{
	sqlite3_stmt	*st;

	st = db_prepare(ctx, k->q_get);
	db_bind_text(st, ":code", code);
	if (db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (-1);
	}
	row->id = sqlite3_column_int64(st, 0);
	row->name = db_text(st, 2);
	row->district_id = db_lookup_id(ctx, "districts",
	    (const char *)sqlite3_column_text(st, 3));
	if (k->is_site)
		row->zone = db_text(st, 4);
	else
		row->private = sqlite3_column_int(st, 4);
	sqlite3_reset(st);
	return (0);
}

/* The district named in the body, created if asked; -1 when refused. */
static int
place_district(struct req *r, struct place_row *row)
{
	static const char *const q =
	    "INSERT INTO districts (code, name) VALUES (:code, :code)";
	sqlite3_stmt	*st;
	const char	*code;
	int		 create = 0, rc;

	if (in_bool(r, r->body, "create_district", &create) == -1)
		return (-1);
	if ((rc = in_string(r, r->body, "district", 0, &code)) <= 0)
		return (rc);
	if (!code_ok(code)) {
		bad(r, "district", "district must be a code of 1 to 64 "
		    "letters, digits, '.', '_' or '-'");
		return (-1);
	}
	if ((row->district_id = db_lookup_id(r->ctx, "districts", code)) != 0)
		return (0);
	if (!create) {
		bad(r, "district", "unknown district %s (send "
		    "\"create_district\": true to create it)", code);
		return (-1);
	}
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":code", code);
	rc = db_step(st);
	sqlite3_reset(st);
	row->district_id = sqlite3_last_insert_rowid(r->ctx->db);
	if (rc != SQLITE_DONE ||
	    db_audit(r->ctx, r->user->id, "district.create", "district", code,
	    NULL) != SQLITE_OK) {
		api_db_error(r, sqlite3_extended_errcode(r->ctx->db));
		return (-1);
	}
	return (0);
}

/* Lay the body's members over *row; -1 when refused (replied). */
static int
place_fields(struct req *r, const struct place *k, struct place_row *row)
{
	const char	*s;
	char		*zone;
	int		 rc;

	if ((rc = in_string(r, r->body, "name", 0, &s)) == -1)
		return (-1);
	if (rc == 1 && *s == '\0') {
		bad(r, "name", "name must not be empty");
		return (-1);
	}
	if (rc == 1) {
		free(row->name);
		row->name = xstrdup(s);
	}
	if (place_district(r, row) == -1)
		return (-1);
	if (!k->is_site)
		return (in_bool(r, r->body, "private", &row->private) == -1 ?
		    -1 : 0);
	if ((rc = in_string(r, r->body, "timezone", 0, &s)) == -1)
		return (-1);
	if (json_is_null(json_object_get(r->body, "timezone"))) {
		rc = 1;		/* null: back to the default */
		s = YIQID_DEFAULT_ZONE;
	}
	if (rc == 1) {
		if ((zone = tz_canonical(s)) == NULL) {
			bad(r, "timezone", "unknown time zone %s (write an "
			    "IANA name such as Asia/Shanghai)", s);
			return (-1);
		}
		free(row->zone);
		row->zone = zone;
	}
	return (0);
}

/* Write *row (insert when row->id is 0) and its audit record. */
static int
place_store(struct req *r, const struct place *k, struct place_row *row)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(r->ctx, row->id == 0 ? k->q_insert : k->q_update);
	if (row->id == 0)
		db_bind_text(st, ":code", row->code);
	else
		db_bind_int(st, ":id", row->id);
	db_bind_text(st, ":name", row->name);
	db_bind_int(st, ":district", row->district_id);
	if (k->is_site)
		db_bind_text(st, ":extra", row->zone);
	else
		db_bind_int(st, ":extra", row->private);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	return (db_audit(r->ctx, r->user->id, row->id == 0 ? (k->is_site ?
	    "site.create" : "institute.create") : (k->is_site ? "site.update" :
	    "institute.update"), k->object, row->code, json_incref(r->body)));
}

/* Check the code of a new place; -1 when refused (replied). */
static int
place_new_code(struct req *r, const struct place *k, struct place_row *row)
{
	const char	*s;

	if (in_string(r, r->body, "code", 1, &row->code) == -1)
		return (-1);
	if (!code_ok(row->code)) {
		bad(r, "code", "code must be 1 to 64 letters, digits, '.', '_' "
		    "or '-'");
		return (-1);
	}
	if (db_lookup_id(r->ctx, k->table, row->code) != 0) {
		api_error_json(r, 409, "exists", json_pack("{s:s}", "field",
		    "code"), "%s %s exists already", k->object, row->code);
		return (-1);
	}
	if (in_string(r, r->body, "name", 1, &s) == -1 ||
	    in_string(r, r->body, "district", 1, &s) == -1)
		return (-1);
	return (0);
}

/* Check that a patch keeps the code and clears nothing required. */
static int
place_patch_check(struct req *r, struct place_row *row)
{
	static const char *const keep[] = { "code", "name", "district", NULL };
	const char	*s;
	int		 i;

	for (i = 0; keep[i] != NULL; i++) {
		if (json_is_null(json_object_get(r->body, keep[i]))) {
			bad(r, keep[i], "%s cannot be cleared", keep[i]);
			return (-1);
		}
	}
	if (in_string(r, r->body, "code", 0, &s) == 1 &&
	    strcmp(s, row->code) != 0) {
		bad(r, "code", "a code cannot be changed (%s)", row->code);
		return (-1);
	}
	return (0);
}

/* POST (code is NULL) or PATCH the place with this code. */
static void
place_write(struct req *r, const struct place *k, const char *code)
{
	struct place_row	 row;
	int			 rc;

	if (in_fields(r, r->body, k->fields) == -1)
		return;
	memset(&row, 0, sizeof row);
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	if (code == NULL) {
		row.zone = xstrdup(YIQID_DEFAULT_ZONE);
		if (place_new_code(r, k, &row) == -1)
			goto fail;
	} else {
		if (place_load(r->ctx, k, code, &row) == -1) {
			api_error(r, 404, "not_found", "no such %s: %s",
			    k->object, code);
			goto fail;
		}
		row.code = code;
		if (place_patch_check(r, &row) == -1)
			goto fail;
	}
	if (place_fields(r, k, &row) == -1)
		goto fail;
	if ((rc = place_store(r, k, &row)) != SQLITE_OK ||
	    (rc = db_commit(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto fail;
	}
	api_reply(r, code == NULL ? 201 : 200, place_get(r->ctx, k, row.code));
	free(row.name);
	free(row.zone);
	return;
fail:
	db_rollback(r->ctx);
	free(row.name);
	free(row.zone);
}

static void
places_site_list(struct req *r)
{
	place_list(r, &place_site);
}

static void
places_site_get(struct req *r)
{
	place_show(r, &place_site);
}

static void
places_site_create(struct req *r)
{
	place_write(r, &place_site, NULL);
}

static void
places_site_patch(struct req *r)
{
	place_write(r, &place_site, r->args[0]);
}

static void
places_inst_list(struct req *r)
{
	place_list(r, &place_inst);
}

static void
places_inst_get(struct req *r)
{
	place_show(r, &place_inst);
}

static void
places_inst_create(struct req *r)
{
	place_write(r, &place_inst, NULL);
}

static void
places_inst_patch(struct req *r)
{
	place_write(r, &place_inst, r->args[0]);
}
