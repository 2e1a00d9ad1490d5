/*
 * api-qualifications.c: who may book an instrument that requires a
 * qualification (SPEC §3, §4).
 *
 *	GET    /api/v1/qualifications		list (user=, instrument=, category=)
 *	POST   /api/v1/qualifications		grant or renew
 *	DELETE /api/v1/qualifications/{id}	revoke
 *
 * A qualification names a user and either one instrument or a whole
 * category, and may run until a day ("until": "YYYY-MM-DD", the last valid
 * day in the instrument's site zone, or Asia/Shanghai for a category).  The
 * instrument's managers grant and revoke it; a category's, the managers of
 * any instrument of that category; admins anything.  Granting again renews
 * (replaces the expiry).  qualification_check() is what booking asks.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define QUAL_SELECT \
	"SELECT q.id, u.login, i.code, q.category, q.until, q.expires, " \
	"g.login, q.created FROM qualifications q JOIN users u ON " \
	"u.id = q.user_id JOIN users g ON g.id = q.granted_by LEFT JOIN " \
	"instruments i ON i.id = q.instrument_id "

static void	api_qualifications_list(struct req *);
static void	api_qualifications_grant(struct req *);
static void	api_qualifications_revoke(struct req *);

const struct route api_qualifications_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/qualifications", 0,
	    api_qualifications_list },
	{ EVHTTP_REQ_POST, "/api/v1/qualifications", R_JSON,
	    api_qualifications_grant },
	{ EVHTTP_REQ_DELETE, "/api/v1/qualifications/*", 0,
	    api_qualifications_revoke },
	{ 0, NULL, 0, NULL }
};

static json_t *
nullable_text(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (json_null());
	return (json_string((const char *)sqlite3_column_text(st, col)));
}

/* One row of QUAL_SELECT as JSON. */
static json_t *
qualification_json(struct yiqid *ctx, sqlite3_stmt *st)
{
	json_t	*j;
	char	*created;
	int	 valid;

	valid = sqlite3_column_type(st, 5) == SQLITE_NULL ||
	    sqlite3_column_int64(st, 5) > db_now(ctx);
	created = time_format(sqlite3_column_int64(st, 7), YIQID_DEFAULT_ZONE);
	j = json_pack("{s:I,s:o,s:o,s:o,s:o,s:b,s:o,s:s}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "user", nullable_text(st, 1),
	    "instrument", nullable_text(st, 2),
	    "category", nullable_text(st, 3),
	    "until", nullable_text(st, 4),
	    "valid", valid,
	    "granted_by", nullable_text(st, 6),
	    "created", created);
	free(created);
	return (j);
}

static void
api_qualifications_list(struct req *r)
{
	static const char *const q = QUAL_SELECT
	    "WHERE (:user IS NULL OR u.login = :user) AND "
	    "(:inst IS NULL OR i.code = :inst) AND "
	    "(:cat IS NULL OR q.category = :cat) "
	    "ORDER BY u.login, q.id LIMIT :limit OFFSET :offset";
	sqlite3_stmt	*st;
	const char	*user = req_query(r, "user");
	json_t		*items;
	int64_t		 limit, offset;
	int		 rc;

	if (q_limit(r, &limit, &offset) == -1)
		return;
	if (user != NULL && strcmp(user, "me") == 0)
		user = r->user->login;
	if (r->user->role == ROLE_MEMBER) {
		if (user != NULL && strcmp(user, r->user->login) != 0) {
			api_error(r, 403, "forbidden", "members see only their "
			    "own qualifications");
			return;
		}
		user = r->user->login;
	}
	items = json_array();
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":user", user);
	db_bind_text(st, ":inst", req_query(r, "instrument"));
	db_bind_text(st, ":cat", req_query(r, "category"));
	db_bind_int(st, ":limit", limit);
	db_bind_int(st, ":offset", offset);
	while ((rc = db_step(st)) == SQLITE_ROW)
		json_array_append_new(items, qualification_json(r->ctx, st));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(items);
		api_db_error(r, rc);
		return;
	}
	api_reply(r, 200, json_pack("{s:o,s:I,s:I}", "items", items, "limit",
	    (json_int_t)limit, "offset", (json_int_t)offset));
}

/* Parse "until" (YYYY-MM-DD) into the first second after that day in zone. */
static int
in_until(struct req *r, const char *until, const char *zone, time_t *out)
{
	int	Y, M, D, n = 0;

	if (strlen(until) != 10 || sscanf(until, "%4d-%2d-%2d%n", &Y, &M, &D,
	    &n) != 3 || n != 10 || Y < 2000 || Y > 9998 ||
	    tz_local_to_utc(zone, Y, M, D, 24, 0, out) == -1) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "until"), "until must be a date YYYY-MM-DD");
		return (-1);
	}
	return (0);
}

/* The target of a grant: instrument (id, zone) or category; 0 or -1. */
static int
grant_target(struct req *r, const char *code, const char *category,
    struct instrument *in)
{
	memset(in, 0, sizeof *in);
	if ((code == NULL) == (category == NULL)) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "instrument"), "give instrument or category, not both");
		return (-1);
	}
	if (code != NULL) {
		if (instrument_load(r->ctx, code, 0, in) == -1) {
			api_error_json(r, 400, "bad_request", json_pack("{s:s}",
			    "field", "instrument"), "no instrument %s", code);
			return (-1);
		}
		if (!auth_manages(r, in->id)) {
			api_error(r, 403, "forbidden", "only a manager of %s may "
			    "grant qualifications on it", code);
			return (-1);
		}
		return (0);
	}
	if (!code_ok(category)) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "category"), "category must be a code such as nmr");
		return (-1);
	}
	if (!auth_manages_category(r, category)) {
		api_error(r, 403, "forbidden", "only a manager of an instrument "
		    "of category %s (or an admin) may grant it", category);
		return (-1);
	}
	return (0);
}

static int
grant_write(struct req *r, int64_t uid, const struct instrument *in,
    const char *category, const char *until, time_t expires, int64_t *id,
    int *created)
{
	static const char *const q_find =
	    "SELECT id FROM qualifications WHERE user_id = :u AND "
	    "(instrument_id = :i OR category = :c)";
	static const char *const q_ins =
	    "INSERT INTO qualifications (user_id, instrument_id, category, "
	    "until, expires, granted_by, created) VALUES (:u, :i, :c, :until, "
	    ":exp, :by, :now)";
	static const char *const q_upd =
	    "UPDATE qualifications SET until = :until, expires = :exp, "
	    "granted_by = :by, created = :now WHERE id = :id";
	sqlite3_stmt	*st;
	char		 idtext[32];
	int		 rc;

	st = db_prepare(r->ctx, q_find);
	db_bind_int(st, ":u", uid);
	if (in->id != 0)
		db_bind_int(st, ":i", in->id);
	db_bind_text(st, ":c", category);
	rc = db_step(st);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (rc);
	*created = *id == 0;
	st = db_prepare(r->ctx, *created ? q_ins : q_upd);
	if (*created) {
		db_bind_int(st, ":u", uid);
		if (in->id != 0)
			db_bind_int(st, ":i", in->id);
		db_bind_text(st, ":c", category);
	} else
		db_bind_int(st, ":id", *id);
	db_bind_text(st, ":until", until);
	if (until != NULL)
		db_bind_int(st, ":exp", expires);
	db_bind_int(st, ":by", r->user->id);
	db_bind_int(st, ":now", db_now(r->ctx));
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	if (*created)
		*id = sqlite3_last_insert_rowid(r->ctx->db);
	snprintf(idtext, sizeof idtext, "%lld", (long long)*id);
	return (db_audit(r->ctx, r->user->id, "qualification.grant",
	    "qualification", idtext, json_pack("{s:I,s:s?,s:s?,s:s?}", "user",
	    (json_int_t)uid, "instrument", in->code, "category", category,
	    "until", until)));
}

static json_t *
qualification_get(struct req *r, int64_t id, int *rc)
{
	static const char *const q = QUAL_SELECT "WHERE q.id = :id";
	sqlite3_stmt	*st;
	json_t		*j = NULL;

	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":id", id);
	if ((*rc = db_step(st)) == SQLITE_ROW) {
		j = qualification_json(r->ctx, st);
		*rc = SQLITE_OK;
	} else if (*rc == SQLITE_DONE)
		*rc = SQLITE_NOTFOUND;
	sqlite3_reset(st);
	return (j);
}

static void
api_qualifications_grant(struct req *r)
{
	static const char *const fields[] = { "user", "instrument", "category",
	    "until", NULL };
	struct instrument	 in;
	const char		*login, *code = NULL, *category = NULL;
	const char		*until = NULL;
	json_t			*j;
	time_t			 expires = 0;
	int64_t			 uid, id;
	int			 rc, created = 0;

	memset(&in, 0, sizeof in);
	if (in_fields(r, r->body, fields) == -1 ||
	    in_string(r, r->body, "user", 1, &login) == -1 ||
	    in_string(r, r->body, "instrument", 0, &code) == -1 ||
	    in_string(r, r->body, "category", 0, &category) == -1 ||
	    in_string(r, r->body, "until", 0, &until) == -1)
		return;
	if ((uid = db_lookup_id(r->ctx, "users", login)) <= 0) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "user"), "no user %s", login);
		return;
	}
	if (grant_target(r, code, category, &in) == -1)
		goto out;
	if (until != NULL && in_until(r, until, in.zone != NULL ? in.zone :
	    YIQID_DEFAULT_ZONE, &expires) == -1)
		goto out;
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	if ((rc = grant_write(r, uid, &in, category, until, expires, &id,
	    &created)) != SQLITE_OK || (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		goto out;
	}
	if ((j = qualification_get(r, id, &rc)) == NULL)
		api_db_error(r, rc);
	else
		api_reply(r, created ? 201 : 200, j);
out:
	instrument_free(&in);
}

static void
api_qualifications_revoke(struct req *r)
{
	static const char *const q_find =
	    "SELECT instrument_id, category FROM qualifications WHERE id = :id";
	static const char *const q_del =
	    "DELETE FROM qualifications WHERE id = :id";

	auth_scoped_delete(r, q_find, q_del, "qualification",
	    "qualification.revoke");
}

/*
 * May user_id book instrument_id for a slot starting at "at"?  Yes (1) if
 * the instrument needs no qualification, the user manages it or is an
 * admin, or holds a qualification on it or its category valid at "at".
 * Otherwise 0 and an allocated sentence in *cause; -1 on a database error.
 */
int
qualification_check(struct yiqid *ctx, int64_t user_id, int64_t
    instrument_id, time_t at, char **cause)
{
	static const char *const q =
	    "SELECT i.code, i.category, i.requires_qualification, "
	    "(SELECT role FROM users WHERE id = :u), "
	    "EXISTS (SELECT 1 FROM user_instruments WHERE user_id = :u AND "
	    "instrument_id = i.id), "
	    "(SELECT count(*) FROM qualifications q WHERE q.user_id = :u AND "
	    "(q.instrument_id = i.id OR q.category = i.category) AND "
	    "(q.expires IS NULL OR q.expires > :at)), "
	    "(SELECT max(q.until) FROM qualifications q WHERE q.user_id = :u "
	    "AND (q.instrument_id = i.id OR q.category = i.category)) "
	    "FROM instruments i WHERE i.id = :i";
	sqlite3_stmt	*st;
	const char	*role, *expired;
	int		 rc, ok;

	*cause = NULL;
	st = db_prepare(ctx, q);
	db_bind_int(st, ":u", user_id);
	db_bind_int(st, ":i", instrument_id);
	db_bind_int(st, ":at", at);
	if ((rc = db_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (-1);
	}
	role = (const char *)sqlite3_column_text(st, 3);
	ok = !sqlite3_column_int(st, 2) || sqlite3_column_int(st, 4) ||
	    sqlite3_column_int(st, 5) > 0 ||
	    (role != NULL && strcmp(role, "admin") == 0);
	if (!ok) {
		expired = (const char *)sqlite3_column_text(st, 6);
		if (expired != NULL)
			xasprintf(cause, "the qualification on %s (or category "
			    "%s) ran out on %s; ask a manager to renew it",
			    sqlite3_column_text(st, 0),
			    sqlite3_column_text(st, 1), expired);
		else
			xasprintf(cause, "%s requires a qualification on %s or "
			    "on category %s; ask its manager",
			    sqlite3_column_text(st, 0),
			    sqlite3_column_text(st, 0),
			    sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	return (ok);
}
