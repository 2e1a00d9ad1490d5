/*
 * violations.c: no-shows and late cancellations, and the suspensions from
 * booking they lead to.
 *
 *	GET    /api/v1/violations		list (user=)
 *	GET    /api/v1/suspensions		list (user=, active=true)
 *	POST   /api/v1/suspensions/{id}/lift	an admin lifts one
 *
 * The schema's triggers (0005-workflow2.sql) record a violation once per
 * booking and kind, whatever path marked it.  When a user's
 * violation_limit-th violation within violation_window_days is recorded,
 * the user is suspended from booking for suspension_days from that
 * violation (yiqid.conf); the violations counted then do not count again.
 * The workflow timer evaluates new violations (violations_sweep()), and
 * booking evaluates its user's before it asks suspended_until(), so a
 * suspension bites at once.  Suspensions are per user, so they hold at
 * every site and in both districts.  Members see their own; managers,
 * park managers and admins everyone's.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define EVAL_USERS	100	/* users evaluated per tick at most */
#define EVAL_MAX	1000	/* violations of one user looked at */

static void	api_violations_list(struct req *);
static void	api_suspensions_list(struct req *);
static void	api_suspensions_lift(struct req *);

const struct route api_violations_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/violations", 0, api_violations_list },
	{ EVHTTP_REQ_GET, "/api/v1/suspensions", 0, api_suspensions_list },
	{ EVHTTP_REQ_POST, "/api/v1/suspensions/*/lift", R_ADMIN|R_JSON_OPT,
	    api_suspensions_lift },
	{ 0, NULL, 0, NULL }
};

/* Record a suspension of uid from at (its violation) counting n. */
static int
suspend(struct yiqid *ctx, int64_t uid, time_t at, int n)
{
	static const char *const q =
	    "INSERT INTO suspensions (user_id, start, until, violations) "
	    "VALUES (:u, :s, :e, :n)";
	sqlite3_stmt	*st;
	char		 idtext[32];
	time_t		 until = at + ctx->cfg.suspension_days * 86400L;
	int		 rc;

	st = db_prepare(ctx, q);
	db_bind_int(st, ":u", uid);
	db_bind_int(st, ":s", at);
	db_bind_int(st, ":e", until);
	db_bind_int(st, ":n", n);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	snprintf(idtext, sizeof idtext, "%lld",
	    (long long)sqlite3_last_insert_rowid(ctx->db));
	log_info("user %lld suspended from booking after %d violations",
	    (long long)uid, n);
	return (db_audit(ctx, 0, "suspension.create", "suspension", idtext,
	    json_pack("{s:I,s:I,s:I,s:i}", "user", (json_int_t)uid, "start",
	    (json_int_t)at, "until", (json_int_t)until, "violations", n)));
}

/* Walk the times t[0..n) and suspend where the limit is reached. */
static int
evaluate_times(struct yiqid *ctx, int64_t uid, const time_t *t, size_t n)
{
	long	window = ctx->cfg.violation_window_days * 86400L;
	size_t	k, j, first = 0;
	int	count, rc;

	if (ctx->cfg.violation_limit <= 0)
		return (SQLITE_OK);
	for (k = 0; k < n; k++) {
		count = 0;
		for (j = first; j <= k; j++)
			if (t[j] > t[k] - window)
				count++;
		if (count < ctx->cfg.violation_limit)
			continue;
		if ((rc = suspend(ctx, uid, t[k], count)) != SQLITE_OK)
			return (rc);
		first = k + 1;
	}
	return (SQLITE_OK);
}

/* Inside a transaction: evaluate user uid's new violations. */
static int
evaluate_user(struct yiqid *ctx, int64_t uid)
{
	static const char *const q_new =
	    "SELECT 1 FROM violations WHERE user_id = :u AND evaluated = 0 "
	    "LIMIT 1";
	static const char *const q_times =
	    "SELECT at FROM violations WHERE user_id = :u AND at > "
	    "(SELECT coalesce(max(start), -1) FROM suspensions WHERE "
	    "user_id = :u) ORDER BY at, id LIMIT :max";
	static const char *const q_done =
	    "UPDATE violations SET evaluated = 1 WHERE user_id = :u AND "
	    "evaluated = 0";
	sqlite3_stmt	*st;
	time_t		*t;
	size_t		 n = 0;
	int		 rc;

	st = db_prepare(ctx, q_new);
	db_bind_int(st, ":u", uid);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return (SQLITE_OK);
	if (rc != SQLITE_ROW)
		return (rc);
	t = xcalloc(EVAL_MAX, sizeof *t);
	st = db_prepare(ctx, q_times);
	db_bind_int(st, ":u", uid);
	db_bind_int(st, ":max", EVAL_MAX);
	while ((rc = db_step(st)) == SQLITE_ROW)
		t[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		rc = evaluate_times(ctx, uid, t, n);
	free(t);
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		return (rc);
	st = db_prepare(ctx, q_done);
	db_bind_int(st, ":u", uid);
	rc = db_step(st);
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/*
 * Inside the workflow timer's transaction: evaluate every user with new
 * violations.  Returns SQLITE_DONE or a database error.
 */
int
violations_sweep(struct yiqid *ctx, time_t now)
{
	static const char *const q =
	    "SELECT DISTINCT user_id FROM violations WHERE evaluated = 0 "
	    "LIMIT :max";
	sqlite3_stmt	*st;
	int64_t		 users[EVAL_USERS];
	size_t		 n = 0, i;
	int		 rc;

	(void)now;
	st = db_prepare(ctx, q);
	db_bind_int(st, ":max", EVAL_USERS);
	while ((rc = db_step(st)) == SQLITE_ROW && n < EVAL_USERS)
		users[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	for (i = 0; i < n; i++)
		if ((rc = evaluate_user(ctx, users[i])) != SQLITE_OK)
			return (rc);
	return (SQLITE_DONE);
}

/*
 * Inside a write transaction: until when is user uid suspended?  Evaluates
 * the user's new violations first.  Returns the first second the user may
 * book again, 0 if not suspended, or -1 with a database error in *rc.
 */
time_t
suspended_until(struct yiqid *ctx, int64_t uid, int *rc)
{
	static const char *const q =
	    "SELECT coalesce(max(until), 0) FROM suspensions WHERE "
	    "user_id = :u AND lifted IS NULL AND start <= :now AND "
	    "until > :now";
	sqlite3_stmt	*st;
	time_t		 until = 0;

	if ((*rc = evaluate_user(ctx, uid)) != SQLITE_OK)
		return (-1);
	st = db_prepare(ctx, q);
	db_bind_int(st, ":u", uid);
	db_bind_int(st, ":now", db_now(ctx));
	if ((*rc = db_step(st)) == SQLITE_ROW) {
		until = sqlite3_column_int64(st, 0);
		*rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	return (*rc == SQLITE_OK ? until : -1);
}

/* When user uid's current suspension ends (RFC 3339), or JSON null. */
json_t *
suspension_json(struct yiqid *ctx, int64_t uid)
{
	static const char *const q =
	    "SELECT max(until) FROM suspensions WHERE user_id = :u AND "
	    "lifted IS NULL AND start <= :now AND until > :now";
	sqlite3_stmt	*st;
	json_t		*j = json_null();
	char		*s;

	st = db_prepare(ctx, q);
	db_bind_int(st, ":u", uid);
	db_bind_int(st, ":now", db_now(ctx));
	if (db_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		s = time_format(sqlite3_column_int64(st, 0), YIQID_DEFAULT_ZONE);
		j = json_string(s);
		free(s);
	}
	sqlite3_reset(st);
	return (j);
}

/* The user= filter as the caller may use it: members only themselves. */
static int
visible_user(struct req *r, const char **user)
{
	*user = req_query(r, "user");
	if (*user != NULL && strcmp(*user, "me") == 0)
		*user = r->user->login;
	if (r->user->role != ROLE_MEMBER)
		return (0);
	if (*user != NULL && strcmp(*user, r->user->login) != 0) {
		api_error(r, 403, "forbidden", "members see only their own");
		return (-1);
	}
	*user = r->user->login;
	return (0);
}

static json_t *
time_or_null(sqlite3_stmt *st, int col)
{
	json_t	*j;
	char	*s;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return (json_null());
	s = time_format(sqlite3_column_int64(st, col), YIQID_DEFAULT_ZONE);
	j = json_string(s);
	free(s);
	return (j);
}

static void
api_violations_list(struct req *r)
{
	static const char *const q =
	    "SELECT v.id, u.login, v.reservation_id, i.code, v.kind, v.at "
	    "FROM violations v JOIN users u ON u.id = v.user_id JOIN "
	    "reservations res ON res.id = v.reservation_id JOIN instruments i "
	    "ON i.id = res.instrument_id WHERE (:user IS NULL OR "
	    "u.login = :user) ORDER BY v.at DESC, v.id DESC "
	    "LIMIT :limit OFFSET :offset";
	sqlite3_stmt	*st;
	const char	*user;
	json_t		*items;
	int64_t		 limit, offset;
	int		 rc;

	if (q_limit(r, &limit, &offset) == -1 || visible_user(r, &user) == -1)
		return;
	items = json_array();
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":user", user);
	db_bind_int(st, ":limit", limit);
	db_bind_int(st, ":offset", offset);
	while ((rc = db_step(st)) == SQLITE_ROW)
		json_array_append_new(items, json_pack("{s:I,s:s,s:I,s:s,s:s,"
		    "s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
		    "user", (const char *)sqlite3_column_text(st, 1),
		    "reservation", (json_int_t)sqlite3_column_int64(st, 2),
		    "instrument", (const char *)sqlite3_column_text(st, 3),
		    "kind", (const char *)sqlite3_column_text(st, 4),
		    "at", time_or_null(st, 5)));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(items);
		api_db_error(r, rc);
		return;
	}
	api_reply(r, 200, json_pack("{s:o,s:I,s:I}", "items", items, "limit",
	    (json_int_t)limit, "offset", (json_int_t)offset));
}

#define SUSP_SELECT \
	"SELECT s.id, u.login, s.start, s.until, s.violations, s.lifted, " \
	"l.login, s.lifted IS NULL AND s.start <= :now AND s.until > :now " \
	"FROM suspensions s JOIN users u ON u.id = s.user_id LEFT JOIN " \
	"users l ON l.id = s.lifted_by "

static json_t *
suspension_row(sqlite3_stmt *st)
{
	return (json_pack("{s:I,s:s,s:o,s:o,s:i,s:b,s:o,s:o}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "user", (const char *)sqlite3_column_text(st, 1),
	    "start", time_or_null(st, 2),
	    "until", time_or_null(st, 3),
	    "violations", sqlite3_column_int(st, 4),
	    "active", sqlite3_column_int(st, 7),
	    "lifted", time_or_null(st, 5),
	    "lifted_by", sqlite3_column_type(st, 6) == SQLITE_NULL ?
	    json_null() : json_string((const char *)sqlite3_column_text(st,
	    6))));
}

static void
api_suspensions_list(struct req *r)
{
	static const char *const q = SUSP_SELECT
	    "WHERE (:user IS NULL OR u.login = :user) AND (:active = 0 OR "
	    "(s.lifted IS NULL AND s.start <= :now AND s.until > :now)) "
	    "ORDER BY s.start DESC, s.id DESC LIMIT :limit OFFSET :offset";
	sqlite3_stmt	*st;
	const char	*user, *active = req_query(r, "active");
	json_t		*items;
	int64_t		 limit, offset;
	int		 rc;

	if (q_limit(r, &limit, &offset) == -1 || visible_user(r, &user) == -1)
		return;
	if (active != NULL && strcmp(active, "true") != 0 &&
	    strcmp(active, "false") != 0) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "active"), "active must be true or false");
		return;
	}
	items = json_array();
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":user", user);
	db_bind_int(st, ":active", active != NULL &&
	    strcmp(active, "true") == 0);
	db_bind_int(st, ":now", db_now(r->ctx));
	db_bind_int(st, ":limit", limit);
	db_bind_int(st, ":offset", offset);
	while ((rc = db_step(st)) == SQLITE_ROW)
		json_array_append_new(items, suspension_row(st));
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
api_suspensions_lift(struct req *r)
{
	static const char *const fields[] = { NULL };
	static const char *const q =
	    "UPDATE suspensions SET lifted = :now, lifted_by = :by WHERE "
	    "id = :id AND lifted IS NULL";
	static const char *const q_get = SUSP_SELECT "WHERE s.id = :id";
	sqlite3_stmt	*st;
	json_t		*j = NULL;
	char		*end;
	int64_t		 id;
	int		 rc;

	if (r->body == NULL)
		r->body = json_object();
	if (in_fields(r, r->body, fields) == -1)
		return;
	id = strtoll(r->args[0], &end, 10);
	st = db_prepare(r->ctx, q_get);
	db_bind_int(st, ":id", id);
	db_bind_int(st, ":now", db_now(r->ctx));
	rc = db_step(st);
	sqlite3_reset(st);
	if (*end != '\0' || id <= 0 || rc != SQLITE_ROW) {
		api_error(r, 404, "not_found", "no suspension %s", r->args[0]);
		return;
	}
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":now", db_now(r->ctx));
	db_bind_int(st, ":by", r->user->id);
	db_bind_int(st, ":id", id);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE || (sqlite3_changes(r->ctx->db) > 0 &&
	    (rc = db_audit(r->ctx, r->user->id, "suspension.lift",
	    "suspension", r->args[0], NULL)) != SQLITE_OK) ||
	    (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		return;
	}
	st = db_prepare(r->ctx, q_get);
	db_bind_int(st, ":id", id);
	db_bind_int(st, ":now", db_now(r->ctx));
	if ((rc = db_step(st)) == SQLITE_ROW)
		j = suspension_row(st);
	sqlite3_reset(st);
	if (j == NULL)
		api_db_error(r, rc);
	else
		api_reply(r, 200, j);
}
