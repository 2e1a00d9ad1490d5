/*
 * api-users.c: users and their API tokens (SPEC §4).
 *
 * Admins create and change users; a user may read itself and manage its
 * own tokens.  A user's "manages" (instrument codes) and "sites" (site
 * codes) are sets kept in user_instruments and user_sites; a write that
 * names them replaces the whole set.  A new token is shown once, in the
 * reply that creates it: the database keeps only its SHA-256, and no
 * route ever returns a hash.  Exports user_json() for /me.
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

/* A user row while it is being written. */
struct user_row {
	int64_t		 id;
	const char	*login;
	char		*name;
	char		*email;
	int64_t		 institute_id;
	enum role	 role;
};

static void	users_list(struct req *);
static void	users_get(struct req *);
static void	users_create(struct req *);
static void	users_patch(struct req *);
static void	users_tokens(struct req *);
static void	users_token_new(struct req *);
static void	users_token_revoke(struct req *);

const struct route api_users_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/users", R_ADMIN, users_list },
	{ EVHTTP_REQ_POST, "/api/v1/users", R_ADMIN|R_JSON, users_create },
	{ EVHTTP_REQ_GET, "/api/v1/users/*", 0, users_get },
	{ EVHTTP_REQ_PATCH, "/api/v1/users/*", R_ADMIN|R_JSON, users_patch },
	{ EVHTTP_REQ_GET, "/api/v1/users/*/tokens", 0, users_tokens },
	{ EVHTTP_REQ_POST, "/api/v1/users/*/tokens", R_JSON_OPT,
	    users_token_new },
	{ EVHTTP_REQ_DELETE, "/api/v1/users/*/tokens/*", 0,
	    users_token_revoke },
	{ 0, NULL, 0, NULL }
};

static const char *const user_fields[] = {
	"login", "name", "email", "institute", "role", "manages", "sites", NULL
};

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

/* Is s a login: 1 to 64 characters of [a-z0-9._-]? */
static int
login_ok(const char *s)
{
	size_t	n;

	n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-");
	return (n >= 1 && n <= 64 && s[n] == '\0');
}

/* The codes that query q yields for user id, as a JSON array. */
static json_t *
user_codes(struct yiqid *ctx, const char *q, int64_t id)
{
	sqlite3_stmt	*st;
	json_t		*a = json_array();

	st = db_prepare(ctx, q);
	db_bind_int(st, ":id", id);
	while (db_step(st) == SQLITE_ROW)
		json_array_append_new(a, json_string((const char *)
		    sqlite3_column_text(st, 0)));
	sqlite3_reset(st);
	return (a);
}

/* The user object of user id, or NULL if there is none; the caller owns it. */
json_t *
user_json(struct yiqid *ctx, int64_t id)
{
	static const char *const q =
	    "SELECT u.login, u.name, u.email, i.code, u.role FROM users u "
	    "JOIN institutes i ON i.id = u.institute_id WHERE u.id = :id";
	static const char *const q_manages =
	    "SELECT i.code FROM user_instruments ui JOIN instruments i ON "
	    "i.id = ui.instrument_id WHERE ui.user_id = :id ORDER BY i.code";
	static const char *const q_sites =
	    "SELECT s.code FROM user_sites us JOIN sites s ON "
	    "s.id = us.site_id WHERE us.user_id = :id ORDER BY s.code";
	sqlite3_stmt	*st;
	json_t		*j = NULL;

	st = db_prepare(ctx, q);
	db_bind_int(st, ":id", id);
	if (db_step(st) == SQLITE_ROW)
		j = json_pack("{s:s,s:s,s:s,s:s,s:s}",
		    "login", (const char *)sqlite3_column_text(st, 0),
		    "name", (const char *)sqlite3_column_text(st, 1),
		    "email", (const char *)sqlite3_column_text(st, 2),
		    "institute", (const char *)sqlite3_column_text(st, 3),
		    "role", (const char *)sqlite3_column_text(st, 4));
	sqlite3_reset(st);
	if (j == NULL)
		return (NULL);
	json_object_set_new(j, "manages", user_codes(ctx, q_manages, id));
	json_object_set_new(j, "sites", user_codes(ctx, q_sites, id));
	return (j);
}

static void
users_list(struct req *r)
{
	static const char *const q = "SELECT id FROM users ORDER BY login";
	sqlite3_stmt	*st;
	json_t		*items = json_array();
	int64_t		*ids = NULL;
	size_t		 n = 0, i;

	/* Collect first: user_json uses statements of its own. */
	st = db_prepare(r->ctx, q);
	while (db_step(st) == SQLITE_ROW) {
		ids = xreallocarray(ids, n + 1, sizeof *ids);
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	for (i = 0; i < n; i++)
		json_array_append_new(items, user_json(r->ctx, ids[i]));
	free(ids);
	api_reply(r, 200, json_pack("{s:o}", "items", items));
}

/*
 * The id of the user the path names, if the caller may act on it (an
 * admin, or that user).  Otherwise replies 403 or 404 and returns 0.
 */
static int64_t
user_target(struct req *r)
{
	int64_t	id;

	if (r->user->role != ROLE_ADMIN &&
	    strcmp(r->args[0], r->user->login) != 0) {
		api_error(r, 403, "forbidden", "only an admin or that user may "
		    "do this");
		return (0);
	}
	if ((id = db_lookup_id(r->ctx, "users", r->args[0])) == 0)
		api_error(r, 404, "not_found", "no such user: %s", r->args[0]);
	return (id);
}

static void
users_get(struct req *r)
{
	int64_t	id;

	if ((id = user_target(r)) == 0)
		return;
	api_reply(r, 200, user_json(r->ctx, id));
}

/*
 * Replace the set of field ("manages" or "sites") of user id with the
 * codes the body lists, if it names the field.  -1 when refused (replied).
 */
static int
user_set(struct req *r, int64_t id, const char *field)
{
	static const char *const q_del_i =
	    "DELETE FROM user_instruments WHERE user_id = :u";
	static const char *const q_add_i =
	    "INSERT OR IGNORE INTO user_instruments (user_id, instrument_id) "
	    "VALUES (:u, :x)";
	static const char *const q_del_s =
	    "DELETE FROM user_sites WHERE user_id = :u";
	static const char *const q_add_s =
	    "INSERT OR IGNORE INTO user_sites (user_id, site_id) "
	    "VALUES (:u, :x)";
	int		 inst = strcmp(field, "manages") == 0;
	sqlite3_stmt	*st;
	json_t		*list = NULL, *e;
	size_t		 i;
	int64_t		 x;
	int		 rc;

	if (json_is_null(json_object_get(r->body, field)))
		list = json_array();	/* null clears the set */
	else if ((rc = in_code_list(r, r->body, field, &list)) <= 0)
		return (rc);
	else
		json_incref(list);
	st = db_prepare(r->ctx, inst ? q_del_i : q_del_s);
	db_bind_int(st, ":u", id);
	rc = db_step(st);
	sqlite3_reset(st);
	json_array_foreach(list, i, e) {
		if (rc != SQLITE_DONE)
			break;
		x = db_lookup_id(r->ctx, inst ? "instruments" : "sites",
		    json_string_value(e));
		if (x == 0) {
			bad(r, field, "%s: unknown %s %s", field, inst ?
			    "instrument" : "site", json_string_value(e));
			json_decref(list);
			return (-1);
		}
		st = db_prepare(r->ctx, inst ? q_add_i : q_add_s);
		db_bind_int(st, ":u", id);
		db_bind_int(st, ":x", x);
		rc = db_step(st);
		sqlite3_reset(st);
	}
	json_decref(list);
	if (rc != SQLITE_DONE) {
		api_db_error(r, sqlite3_extended_errcode(r->ctx->db));
		return (-1);
	}
	return (0);
}

/* Lay the body's members (but the sets) over *row; -1 when refused. */
static int
user_fields_apply(struct req *r, struct user_row *row)
{
	static const char *const keep[] = {
		"login", "name", "institute", "role", NULL
	};
	const char	*s;
	int		 i, rc;

	for (i = 0; keep[i] != NULL; i++) {
		if (json_is_null(json_object_get(r->body, keep[i]))) {
			bad(r, keep[i], "%s cannot be cleared", keep[i]);
			return (-1);
		}
	}
	if ((rc = in_string(r, r->body, "name", row->id == 0, &s)) == -1)
		return (-1);
	if (rc == 1 && *s == '\0') {
		bad(r, "name", "name must not be empty");
		return (-1);
	}
	if (rc == 1) {
		free(row->name);
		row->name = xstrdup(s);
	}
	if (json_is_null(json_object_get(r->body, "email"))) {
		free(row->email);
		row->email = xstrdup("");
	} else if ((rc = in_string(r, r->body, "email", 0, &s)) == -1)
		return (-1);
	else if (rc == 1) {
		free(row->email);
		row->email = xstrdup(s);
	}
	if ((rc = in_string(r, r->body, "institute", row->id == 0, &s)) == -1)
		return (-1);
	if (rc == 1 && (row->institute_id = db_lookup_id(r->ctx, "institutes",
	    s)) == 0) {
		bad(r, "institute", "unknown institute %s", s);
		return (-1);
	}
	if ((rc = in_string(r, r->body, "role", 0, &s)) == -1)
		return (-1);
	if (rc == 1 && role_parse(s, &row->role) == -1) {
		bad(r, "role", "role must be member, manager, park_manager or "
		    "admin");
		return (-1);
	}
	return (0);
}

/* Load the user with this login into *row; 0, or -1 if there is none. */
static int
user_load(struct yiqid *ctx, const char *login, struct user_row *row)
{
	static const char *const q =
	    "SELECT id, name, email, institute_id, role FROM users "
	    "WHERE login = :login";
	sqlite3_stmt	*st;

	st = db_prepare(ctx, q);
	db_bind_text(st, ":login", login);
	if (db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (-1);
	}
	row->id = sqlite3_column_int64(st, 0);
	row->login = login;
	row->name = db_text(st, 1);
	row->email = db_text(st, 2);
	row->institute_id = sqlite3_column_int64(st, 3);
	if (role_parse((const char *)sqlite3_column_text(st, 4),
	    &row->role) == -1)
		row->role = ROLE_MEMBER;
	sqlite3_reset(st);
	return (0);
}

/* Insert or update *row and audit it; returns the SQLite result code. */
static int
user_store(struct req *r, struct user_row *row)
{
	static const char *const q_insert =
	    "INSERT INTO users (login, name, email, institute_id, role, "
	    "created) VALUES (:login, :name, :email, :inst, :role, :now)";
	static const char *const q_update =
	    "UPDATE users SET name = :name, email = :email, institute_id = "
	    ":inst, role = :role WHERE id = :id";
	sqlite3_stmt	*st;
	int		 rc, create = row->id == 0;

	st = db_prepare(r->ctx, create ? q_insert : q_update);
	if (create) {
		db_bind_text(st, ":login", row->login);
		db_bind_int(st, ":now", db_now(r->ctx));
	} else
		db_bind_int(st, ":id", row->id);
	db_bind_text(st, ":name", row->name);
	db_bind_text(st, ":email", row->email);
	db_bind_int(st, ":inst", row->institute_id);
	db_bind_text(st, ":role", role_name(row->role));
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	if (create)
		row->id = sqlite3_last_insert_rowid(r->ctx->db);
	return (db_audit(r->ctx, r->user->id, create ? "user.create" :
	    "user.update", "user", row->login, json_incref(r->body)));
}

/* Check the login of a new user, or that a patch keeps it; -1 if refused. */
static int
user_login(struct req *r, struct user_row *row)
{
	const char	*s;
	int		 rc;

	if ((rc = in_string(r, r->body, "login", row->id == 0, &s)) == -1)
		return (-1);
	if (row->id != 0) {
		if (rc == 1 && strcmp(s, row->login) != 0) {
			bad(r, "login", "a login cannot be changed (%s)",
			    row->login);
			return (-1);
		}
		return (0);
	}
	if (!login_ok(s)) {
		bad(r, "login", "login must be 1 to 64 characters of a-z, 0-9, "
		    "'.', '_' or '-'");
		return (-1);
	}
	if (db_lookup_id(r->ctx, "users", s) != 0) {
		api_error_json(r, 409, "exists", json_pack("{s:s}", "field",
		    "login"), "user %s exists already", s);
		return (-1);
	}
	row->login = s;
	return (0);
}

/* POST (login is NULL) or PATCH the user with this login. */
static void
user_write(struct req *r, const char *login)
{
	struct user_row	 row;
	int		 rc;

	if (in_fields(r, r->body, user_fields) == -1)
		return;
	memset(&row, 0, sizeof row);
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	if (login == NULL) {
		row.email = xstrdup("");
		row.role = ROLE_MEMBER;
	} else if (user_load(r->ctx, login, &row) == -1) {
		api_error(r, 404, "not_found", "no such user: %s", login);
		goto fail;
	}
	if (user_login(r, &row) == -1 || user_fields_apply(r, &row) == -1)
		goto fail;
	if ((rc = user_store(r, &row)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto fail;
	}
	if (user_set(r, row.id, "manages") == -1 ||
	    user_set(r, row.id, "sites") == -1)
		goto fail;
	if ((rc = db_commit(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto fail;
	}
	api_reply(r, login == NULL ? 201 : 200, user_json(r->ctx, row.id));
	free(row.name);
	free(row.email);
	return;
fail:
	db_rollback(r->ctx);
	free(row.name);
	free(row.email);
}

static void
users_create(struct req *r)
{
	user_write(r, NULL);
}

static void
users_patch(struct req *r)
{
	user_write(r, r->args[0]);
}

/* A time column as RFC 3339 in the default zone, or JSON null. */
static json_t *
time_or_null(sqlite3_stmt *st, int col)
{
	json_t	*j;
	char	*s;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (json_null());
	s = time_format((time_t)sqlite3_column_int64(st, col),
	    YIQID_DEFAULT_ZONE);
	j = json_string(s);
	free(s);
	return (j);
}

static void
users_tokens(struct req *r)
{
	static const char *const q =
	    "SELECT id, label, created, last_used, revoked FROM tokens "
	    "WHERE user_id = :u AND kind = 'api' ORDER BY id";
	sqlite3_stmt	*st;
	json_t		*items, *t;
	int64_t		 id;

	if ((id = user_target(r)) == 0)
		return;
	items = json_array();
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":u", id);
	while (db_step(st) == SQLITE_ROW) {
		t = json_pack("{s:I,s:s}", "id",
		    (json_int_t)sqlite3_column_int64(st, 0), "label",
		    (const char *)sqlite3_column_text(st, 1));
		json_object_set_new(t, "created", time_or_null(st, 2));
		json_object_set_new(t, "last_used", time_or_null(st, 3));
		json_object_set_new(t, "revoked", time_or_null(st, 4));
		json_array_append_new(items, t);
	}
	sqlite3_reset(st);
	api_reply(r, 200, json_pack("{s:o}", "items", items));
}

static void
users_token_new(struct req *r)
{
	static const char *const q =
	    "INSERT INTO tokens (user_id, kind, hash, label, created) "
	    "VALUES (:u, 'api', :h, :label, :now)";
	static const char *const fields[] = { "label", NULL };
	sqlite3_stmt	*st;
	unsigned char	 hash[32];
	const char	*label = "";
	char		*token = NULL, tid[32];
	int64_t		 uid, id;
	int		 rc;

	if ((uid = user_target(r)) == 0)
		return;
	if (r->body != NULL && (in_fields(r, r->body, fields) == -1 ||
	    in_string(r, r->body, "label", 0, &label) == -1))
		return;
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	token = token_new();
	token_hash(token, hash);
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":u", uid);
	db_bind_blob(st, ":h", hash, sizeof hash);
	db_bind_text(st, ":label", label);
	db_bind_int(st, ":now", db_now(r->ctx));
	rc = db_step(st);
	sqlite3_reset(st);
	id = sqlite3_last_insert_rowid(r->ctx->db);
	snprintf(tid, sizeof tid, "%lld", (long long)id);
	if (rc != SQLITE_DONE || (rc = db_audit(r->ctx, r->user->id,
	    "token.create", "token", tid, json_pack("{s:s,s:s}", "user",
	    r->args[0], "label", label))) != SQLITE_OK ||
	    (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		free(token);
		return;
	}
	api_reply(r, 201, json_pack("{s:I,s:s}", "id", (json_int_t)id,
	    "token", token));
	free(token);
}

static void
users_token_revoke(struct req *r)
{
	static const char *const q_get =
	    "SELECT revoked FROM tokens WHERE id = :id AND user_id = :u AND "
	    "kind = 'api'";
	static const char *const q_revoke =
	    "UPDATE tokens SET revoked = :now WHERE id = :id";
	sqlite3_stmt	*st;
	int64_t		 uid, id;
	char		*end, tid[32];
	int		 rc, live;

	if ((uid = user_target(r)) == 0)
		return;
	id = strtoll(r->args[1], &end, 10);
	if (*end != '\0' || id <= 0 || strlen(r->args[1]) > 18) {
		api_error(r, 404, "not_found", "no such token: %s", r->args[1]);
		return;
	}
	snprintf(tid, sizeof tid, "%lld", (long long)id);
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	st = db_prepare(r->ctx, q_get);
	db_bind_int(st, ":id", id);
	db_bind_int(st, ":u", uid);
	if ((rc = db_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		db_rollback(r->ctx);
		api_error(r, 404, "not_found", "%s has no token %s", r->args[0],
		    r->args[1]);
		return;
	}
	live = sqlite3_column_type(st, 0) == SQLITE_NULL;
	sqlite3_reset(st);
	rc = SQLITE_DONE;
	if (live) {
		st = db_prepare(r->ctx, q_revoke);
		db_bind_int(st, ":now", db_now(r->ctx));
		db_bind_int(st, ":id", id);
		rc = db_step(st);
		sqlite3_reset(st);
	}
	if (rc != SQLITE_DONE || (live && (rc = db_audit(r->ctx, r->user->id,
	    "token.revoke", "token", tid, json_pack("{s:s}", "user",
	    r->args[0]))) != SQLITE_OK) || (rc = db_commit(r->ctx)) !=
	    SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		return;
	}
	api_reply_empty(r, 204);
}
