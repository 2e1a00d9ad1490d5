/*
 * db.c: the SQLite connection.  Opens the database in WAL mode with the
 * configured durability (synchronous=FULL by default: every acknowledged
 * write is in the WAL on disk before the reply), applies the numbered
 * migrations compiled in from schema/, caches prepared statements by their
 * SQL text, and wraps transactions: the outermost is BEGIN IMMEDIATE (the
 * write lock is taken before any read, so a check and the write that
 * follows it see the same database), inner ones are savepoints.  The file
 * and line that began the outermost transaction are kept for debugging.
 *
 * Group commit (group_commit = on, the default): requests that run in the
 * same turn of the event loop share one transaction and one fsync.  The
 * first db_begin() of a turn opens the group (BEGIN IMMEDIATE) and makes
 * ctx->ev_group active at the lowest priority, so it runs once every ready
 * request has been handled; each request's own transaction is a savepoint
 * in the group (its rollback touches nothing of its neighbours'), and
 * http.c holds every reply until db_group_end() has committed: a client
 * hears 201 only once its booking is on disk, and if the COMMIT fails every
 * held reply becomes a 503.
 */

#include "config.h"

#include <sys/time.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yiqid.h"

static int	db_migrate(struct yiqid *, char **);
static void	db_group_cb(evutil_socket_t, short, void *);

#define GROUP_MAX	256	/* requests in one group at most */
#define GROUP_MAX_US	20000	/* a group is committed after this long */

/*
 * Give the connection's page cache its part of cache_mb (config_budget());
 * at the start and when SIGHUP changes cache_mb (SQLite drops what is
 * over at once).
 */
int
db_cache_size(struct yiqid *ctx)
{
	struct budget	 b;
	char		 sql[64];

	config_budget(&ctx->cfg, &b);
	snprintf(sql, sizeof sql, "PRAGMA cache_size = -%ld", b.main_kib);
	return (db_exec(ctx, sql));
}

/*
 * Open (creating if need be) the database at path and bring its schema up
 * to date.  On error returns -1 with a message in *cause.
 */
int
db_open(struct yiqid *ctx, const char *path, char **cause)
{
	char		*sql;
	int		 rc;

	rc = sqlite3_open_v2(path, &ctx->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, ctx->db != NULL ?
		    sqlite3_errmsg(ctx->db) : sqlite3_errstr(rc));
		sqlite3_close(ctx->db);
		ctx->db = NULL;
		return (-1);
	}
	sqlite3_extended_result_codes(ctx->db, 1);
	sqlite3_busy_timeout(ctx->db, ctx->cfg.busy_timeout);
	xasprintf(&sql, "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; "
	    "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
	    ctx->cfg.synchronous == 2 ? "FULL" : "NORMAL");
	rc = db_exec(ctx, sql);
	free(sql);
	if (rc == SQLITE_OK)
		rc = db_cache_size(ctx);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(ctx->db));
		db_close(ctx);
		return (-1);
	}
	if (db_migrate(ctx, cause) == -1) {
		db_close(ctx);
		return (-1);
	}
	return (0);
}

/* Finalize every cached statement and close the database. */
void
db_close(struct yiqid *ctx)
{
	int	i;

	for (i = 0; i < STMT_CACHE_SIZE; i++) {
		if (ctx->stmts[i].stmt != NULL)
			sqlite3_finalize(ctx->stmts[i].stmt);
		ctx->stmts[i].stmt = NULL;
		ctx->stmts[i].sql = NULL;
	}
	if (ctx->db != NULL) {
		if (sqlite3_close(ctx->db) != SQLITE_OK)
			log_warnx("closing the database: %s",
			    sqlite3_errmsg(ctx->db));
	}
	ctx->db = NULL;
}

/* Apply the migrations the database has not seen, one transaction each. */
static int
db_migrate(struct yiqid *ctx, char **cause)
{
	sqlite3_stmt	*st;
	char		*sql;
	int		 version, i;

	if (sqlite3_prepare_v2(ctx->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		xasprintf(cause, "reading the schema version: %s",
		    sqlite3_errmsg(ctx->db));
		sqlite3_finalize(st);
		return (-1);
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > schema_nmigrations) {
		xasprintf(cause, "the database has schema version %d, newer than "
		    "this yiqid (%d)", version, schema_nmigrations);
		return (-1);
	}
	for (i = version; i < schema_nmigrations; i++) {
		xasprintf(&sql, "BEGIN IMMEDIATE; %s\n; PRAGMA user_version = %d; "
		    "COMMIT;", schema_migrations[i].sql, i + 1);
		if (db_exec(ctx, sql) != SQLITE_OK) {
			xasprintf(cause, "migration %s: %s",
			    schema_migrations[i].name, sqlite3_errmsg(ctx->db));
			free(sql);
			db_exec(ctx, "ROLLBACK");
			return (-1);
		}
		free(sql);
		log_info("applied schema migration %s", schema_migrations[i].name);
	}
	return (0);
}

/*
 * A prepared statement for sql, which must be a string that lives as long
 * as the daemon (a literal): its address is the cache key.  The statement
 * comes back reset with no bindings; the cache owns it.
 */
sqlite3_stmt *
db_prepare(struct yiqid *ctx, const char *sql)
{
	uintptr_t	 h = (uintptr_t)sql;
	unsigned int	 i, n;
	sqlite3_stmt	*st;

	h = (h >> 3) ^ (h >> 11);
	for (n = 0; n < STMT_CACHE_SIZE; n++) {
		i = (unsigned int)((h + n) % STMT_CACHE_SIZE);
		if (ctx->stmts[i].sql == sql) {
			st = ctx->stmts[i].stmt;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return (st);
		}
		if (ctx->stmts[i].sql == NULL)
			break;
	}
	if (sqlite3_prepare_v3(ctx->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK)
		fatalx("preparing \"%s\": %s", sql, sqlite3_errmsg(ctx->db));
	if (n == STMT_CACHE_SIZE)
		fatalx("statement cache full");
	ctx->stmts[i].sql = sql;
	ctx->stmts[i].stmt = st;
	return (st);
}

/* Run sql (no results wanted); returns the SQLite result code. */
int
db_exec(struct yiqid *ctx, const char *sql)
{
	char	*err = NULL;
	int	 rc;

	rc = sqlite3_exec(ctx->db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		log_debug("%s: %s", __func__, err != NULL ? err : "?");
	sqlite3_free(err);
	return (rc);
}

/*
 * Savepoint statements by depth, prepared once (db_prepare() keys its
 * cache by these addresses): every booking runs one of each, and parsing
 * them anew with sqlite3_exec() each time was measurable.
 */
static const char *const sp_open[] = { "SAVEPOINT s0", "SAVEPOINT s1",
    "SAVEPOINT s2", "SAVEPOINT s3" };
static const char *const sp_release[] = { "RELEASE s0", "RELEASE s1",
    "RELEASE s2", "RELEASE s3" };
#define SP_CACHED	(int)(sizeof sp_open / sizeof sp_open[0])

/* Open (or with release set, release) the savepoint of depth d. */
static int
db_savepoint(struct yiqid *ctx, int d, int release)
{
	sqlite3_stmt	*st;
	char		 sql[64];
	int		 rc;

	if (d >= SP_CACHED) {
		snprintf(sql, sizeof sql, release ? "RELEASE s%d" :
		    "SAVEPOINT s%d", d);
		return (db_exec(ctx, sql));
	}
	st = db_prepare(ctx, release ? sp_release[d] : sp_open[d]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* Open the turn's group transaction, or say why a request cannot join it. */
static int
db_group_join(struct yiqid *ctx)
{
	struct timeval	tv;
	int		rc;

	if (ctx->group_open) {
		if (ctx->group_rc == SQLITE_OK && sqlite3_get_autocommit(ctx->db))
			ctx->group_rc = SQLITE_IOERR;	/* SQLite rolled it back */
		return (ctx->group_rc);
	}
	if ((rc = db_exec(ctx, "BEGIN IMMEDIATE")) != SQLITE_OK)
		return (rc);
	ctx->group_open = 1;
	ctx->group_rc = SQLITE_OK;
	ctx->group_n = 0;
	gettimeofday(&ctx->group_t0, NULL);
	if (ctx->group_hold_ms > 0) {
		tv.tv_sec = ctx->group_hold_ms / 1000;
		tv.tv_usec = (ctx->group_hold_ms % 1000) * 1000L;
		event_add(ctx->ev_group, &tv);
	} else
		event_active(ctx->ev_group, EV_TIMEOUT, 0);
	return (SQLITE_OK);
}

/*
 * Begin a transaction, or a savepoint inside the one running.  With group
 * commit the outermost level is a savepoint in the turn's group.  Returns
 * the SQLite result code (SQLITE_BUSY when another writer holds the lock).
 */
int
db_begin_(struct yiqid *ctx, const char *file, int line)
{
	int	rc;

	if (ctx->txn_depth == 0 && ctx->ev_group == NULL) {
		rc = db_exec(ctx, "BEGIN IMMEDIATE");
		if (rc != SQLITE_OK)
			return (rc);
	} else {
		if (ctx->txn_depth == 0 && (rc = db_group_join(ctx)) !=
		    SQLITE_OK)
			return (rc);
		if ((rc = db_savepoint(ctx, ctx->txn_depth, 0)) != SQLITE_OK)
			return (rc);
		if (ctx->txn_depth == 0)
			ctx->group_n++;
	}
	if (ctx->txn_depth == 0) {
		ctx->txn_file = file;
		ctx->txn_line = line;
	}
	ctx->txn_depth++;
	return (SQLITE_OK);
}

/*
 * Commit the innermost transaction; returns the SQLite result code.  In a
 * group the outermost level is only released: the group's COMMIT makes it
 * durable, and http.c answers no one before that.
 */
int
db_commit(struct yiqid *ctx)
{
	int	rc;

	if (ctx->txn_depth == 0)
		fatalx("%s: no transaction", __func__);
	if (ctx->txn_depth == 1 && ctx->ev_group == NULL) {
		rc = db_exec(ctx, "COMMIT");
		if (rc != SQLITE_OK) {
			log_warnx("commit of transaction from %s:%d failed: %s",
			    ctx->txn_file, ctx->txn_line, sqlite3_errmsg(ctx->db));
			db_exec(ctx, "ROLLBACK");
			ctx->txn_depth = 0;
			return (rc);
		}
	} else {
		if ((rc = db_savepoint(ctx, ctx->txn_depth - 1, 1)) !=
		    SQLITE_OK)
			return (rc);
		if (ctx->txn_depth == 1 && sqlite3_get_autocommit(ctx->db)) {
			/* The group is gone (SQLite rolled it back). */
			if (ctx->group_rc == SQLITE_OK)
				ctx->group_rc = SQLITE_IOERR;
			ctx->txn_depth = 0;
			return (ctx->group_rc);
		}
	}
	ctx->txn_depth--;
	return (SQLITE_OK);
}

/* Roll back the innermost transaction (a request's share of a group). */
void
db_rollback(struct yiqid *ctx)
{
	char	sql[64];

	if (ctx->txn_depth == 0)
		return;
	if (ctx->txn_depth == 1 && ctx->ev_group == NULL)
		db_exec(ctx, "ROLLBACK");
	else {
		snprintf(sql, sizeof sql, "ROLLBACK TO s%d; RELEASE s%d",
		    ctx->txn_depth - 1, ctx->txn_depth - 1);
		db_exec(ctx, sql);
		if (ctx->group_open && ctx->group_rc == SQLITE_OK &&
		    sqlite3_get_autocommit(ctx->db))
			ctx->group_rc = SQLITE_IOERR;
	}
	ctx->txn_depth--;
}

/*
 * Commit the open group, if any, and hand its result to http.c, which
 * sends the replies it held (or 503s if the COMMIT failed).
 */
void
db_group_end(struct yiqid *ctx)
{
	struct timespec	t0, t1;
	int		rc, n;

	if (!ctx->group_open)
		return;
	if (ctx->txn_depth != 0) {
		log_warnx("group commit with a transaction from %s:%d open",
		    ctx->txn_file, ctx->txn_line);
		while (ctx->txn_depth > 0)
			db_rollback(ctx);
	}
	ctx->group_open = 0;
	n = ctx->group_n;
	rc = ctx->group_rc;
	if (rc == SQLITE_OK && sqlite3_get_autocommit(ctx->db))
		rc = SQLITE_IOERR;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rc == SQLITE_OK)
		rc = db_exec(ctx, "COMMIT");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc != SQLITE_OK) {
		log_warnx("group commit of %d request%s failed: %s", n,
		    n == 1 ? "" : "s", sqlite3_errstr(rc));
		if (!sqlite3_get_autocommit(ctx->db))
			db_exec(ctx, "ROLLBACK");
	} else
		log_debug("group commit: %d request%s, COMMIT %.1f ms", n,
		    n == 1 ? "" : "s", (t1.tv_sec - t0.tv_sec) * 1e3 +
		    (t1.tv_nsec - t0.tv_nsec) / 1e6);
	event_del(ctx->ev_group);
	http_group_done(ctx, rc);
}

/*
 * After a request: commit its group now if the group is large or old
 * enough, so that a stream of other events never keeps it waiting.
 */
void
db_group_check(struct yiqid *ctx)
{
	struct timeval	now;
	long		us;

	if (!ctx->group_open)
		return;
	if (ctx->group_n < GROUP_MAX) {
		gettimeofday(&now, NULL);
		us = (now.tv_sec - ctx->group_t0.tv_sec) * 1000000L +
		    (now.tv_usec - ctx->group_t0.tv_usec);
		if (us < GROUP_MAX_US || us < ctx->group_hold_ms * 1000L)
			return;
	}
	db_group_end(ctx);
}

/*
 * A time in ms that a test sets in the environment variable name to make
 * a race certain (docs/testing.md): 0 to 10,000; -1 when unset or not
 * such a number.
 */
int
test_ms(const char *name)
{
	const char	*s;
	char		*end;
	long		 v;

	if ((s = getenv(name)) == NULL)
		return (-1);
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 10000)
		return (-1);
	return ((int)v);
}

/*
 * Run cb(arg) in a later round of the loop, ms from now (0: the next
 * round), at the group commit's priority: work done in slices (a feed's
 * renders, a find's search) goes on there, after every request already
 * readable.  A higher priority would run its slices again and again before
 * the group's COMMIT, whose held replies would wait for the whole of it.
 * *ev is made at the first call and used again; its owner frees it.
 */
void
loop_later(struct yiqid *ctx, struct event **ev, event_callback_fn cb,
    void *arg, int ms)
{
	struct timeval	tv;

	if (*ev == NULL && ((*ev = evtimer_new(ctx->base, cb, arg)) == NULL ||
	    event_priority_set(*ev, DB_GROUP_PRIORITY) == -1))
		fatalx("cannot make a slice's event");
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000L;
	evtimer_add(*ev, &tv);
}

/*
 * A timer that runs cb(arg) every secs seconds from now until its owner
 * frees the event returned (the no-show sweep, the calendar poll's tick,
 * the memory line).  Fatal if libevent cannot make it.
 */
struct event *
loop_every(struct yiqid *ctx, int secs, event_callback_fn cb, void *arg)
{
	struct timeval	 tv = { secs, 0 };
	struct event	*ev;

	if ((ev = event_new(ctx->base, -1, EV_PERSIST, cb, arg)) == NULL ||
	    event_add(ev, &tv) == -1)
		fatalx("cannot start a timer");
	return (ev);
}

static void
db_group_cb(evutil_socket_t fd, short events, void *arg)
{
	db_group_end(arg);
}

/*
 * Turn group commit on (configuration permitting): the base must have
 * three priorities, the group runs at the lowest.  The tests may set
 * YIQID_GROUP_HOLD_MS to keep each group open that long, so that a burst
 * of requests surely shares one.
 */
void
db_group_start(struct yiqid *ctx)
{
	TAILQ_INIT(&ctx->held);
	if (!ctx->cfg.group_commit)
		return;
	if ((ctx->group_hold_ms = test_ms("YIQID_GROUP_HOLD_MS")) < 0)
		ctx->group_hold_ms = 0;
	ctx->ev_group = event_new(ctx->base, -1, 0, db_group_cb, ctx);
	if (ctx->ev_group == NULL ||
	    event_priority_set(ctx->ev_group, DB_GROUP_PRIORITY) == -1)
		fatalx("cannot set up group commit");
}

/* Commit what is pending and turn group commit off. */
void
db_group_stop(struct yiqid *ctx)
{
	if (ctx->ev_group == NULL)
		return;
	db_group_end(ctx);
	event_free(ctx->ev_group);
	ctx->ev_group = NULL;
}

static int
param(sqlite3_stmt *st, const char *name)
{
	int	i;

	if ((i = sqlite3_bind_parameter_index(st, name)) == 0)
		fatalx("no parameter %s in \"%s\"", name, sqlite3_sql(st));
	return (i);
}

/* Bind an integer to the named parameter. */
void
db_bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
	sqlite3_bind_int64(st, param(st, name), v);
}

/* Bind a copy of a string (NULL binds NULL) to the named parameter. */
void
db_bind_text(sqlite3_stmt *st, const char *name, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, param(st, name));
	else
		sqlite3_bind_text(st, param(st, name), v, -1, SQLITE_TRANSIENT);
}

/* Bind NULL to the named parameter. */
void
db_bind_null(sqlite3_stmt *st, const char *name)
{
	sqlite3_bind_null(st, param(st, name));
}

/* Bind a copy of a blob to the named parameter. */
void
db_bind_blob(sqlite3_stmt *st, const char *name, const void *v, size_t len)
{
	sqlite3_bind_blob(st, param(st, name), v, (int)len, SQLITE_TRANSIENT);
}

/* Step a statement; returns the SQLite result code. */
int
db_step(sqlite3_stmt *st)
{
	return (sqlite3_step(st));
}

/* A copy of a text column ("" for NULL); the caller frees it. */
char *
db_text(sqlite3_stmt *st, int col)
{
	const unsigned char	*s = sqlite3_column_text(st, col);

	return (xstrdup(s != NULL ? (const char *)s : ""));
}

/*
 * The id of the row of table whose code (or login) is key, or 0 if none.
 * table is one of the fixed names below, never user input.
 */
int64_t
db_lookup_id(struct yiqid *ctx, const char *table, const char *key)
{
	static const char *const q_site =
	    "SELECT id FROM sites WHERE code = :k";
	static const char *const q_inst =
	    "SELECT id FROM institutes WHERE code = :k";
	static const char *const q_user =
	    "SELECT id FROM users WHERE login = :k";
	static const char *const q_instr =
	    "SELECT id FROM instruments WHERE code = :k";
	static const char *const q_dist =
	    "SELECT id FROM districts WHERE code = :k";
	sqlite3_stmt	*st;
	const char	*q;
	int64_t		 id = 0;

	if (strcmp(table, "sites") == 0)
		q = q_site;
	else if (strcmp(table, "institutes") == 0)
		q = q_inst;
	else if (strcmp(table, "users") == 0)
		q = q_user;
	else if (strcmp(table, "instruments") == 0)
		q = q_instr;
	else if (strcmp(table, "districts") == 0)
		q = q_dist;
	else
		fatalx("%s: unknown table %s", __func__, table);
	st = db_prepare(ctx, q);
	db_bind_text(st, ":k", key);
	if (db_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return (id);
}

/*
 * Append to the audit log: who (0 for the daemon) did action to object
 * object_id.  detail is stolen (may be NULL).  Returns the SQLite code.
 */
int
db_audit(struct yiqid *ctx, int64_t who, const char *action,
    const char *object, const char *object_id, json_t *detail)
{
	char	*text;
	int	 rc;

	text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
	rc = db_audit_text(ctx, who, action, object, object_id, text);
	free(text);
	json_decref(detail);
	return (rc);
}

/*
 * The same with the detail already written as JSON text (NULL: "{}"),
 * for callers on the booking path that write it without jansson.
 */
int
db_audit_text(struct yiqid *ctx, int64_t who, const char *action,
    const char *object, const char *object_id, const char *text)
{
	static const char *const q =
	    "INSERT INTO audit (at, user_id, action, object, object_id, detail) "
	    "VALUES (:at, :u, :a, :o, :oid, :d)";
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(ctx, q);
	db_bind_int(st, ":at", db_now(ctx));
	if (who > 0)
		db_bind_int(st, ":u", who);
	else
		db_bind_null(st, ":u");
	db_bind_text(st, ":a", action);
	db_bind_text(st, ":o", object);
	db_bind_text(st, ":oid", object_id);
	db_bind_text(st, ":d", text != NULL ? text : "{}");
	rc = db_step(st);
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* The current time, UTC seconds. */
time_t
db_now(struct yiqid *ctx)
{
	return (time(NULL));
}
