/*
 * db.c: the SQLite connection.  Opens the database in WAL mode with the
 * configured durability (synchronous=FULL by default: every acknowledged
 * write is in the WAL on disk before the reply), applies the numbered
 * migrations compiled in from schema/, caches prepared statements by their
 * SQL text, and wraps transactions: the outermost is BEGIN IMMEDIATE (the
 * write lock is taken before any read, so a check and the write that
 * follows it see the same database), inner ones are savepoints.  The file
 * and line that began the outermost transaction are kept for debugging.
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yiqid.h"

static int	db_migrate(struct yiqid *, char **);

/*
 * Open (creating if need be) the database at path and bring its schema up
 * to date.  On error returns -1 with a message in *cause.
 */
int
db_open(struct yiqid *ctx, const char *path, char **cause)
{
	char	*sql;
	int	 rc;

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
	    "PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; "
	    "PRAGMA temp_store = MEMORY;",
	    ctx->cfg.synchronous == 2 ? "FULL" : "NORMAL");
	rc = db_exec(ctx, sql);
	free(sql);
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
 * Begin a transaction, or a savepoint inside the one running.  Returns the
 * SQLite result code (SQLITE_BUSY when another writer holds the lock).
 */
int
db_begin_(struct yiqid *ctx, const char *file, int line)
{
	char	sql[64];
	int	rc;

	if (ctx->txn_depth == 0) {
		rc = db_exec(ctx, "BEGIN IMMEDIATE");
		if (rc != SQLITE_OK)
			return (rc);
		ctx->txn_file = file;
		ctx->txn_line = line;
	} else {
		snprintf(sql, sizeof sql, "SAVEPOINT s%d", ctx->txn_depth);
		if ((rc = db_exec(ctx, sql)) != SQLITE_OK)
			return (rc);
	}
	ctx->txn_depth++;
	return (SQLITE_OK);
}

/* Commit the innermost transaction; returns the SQLite result code. */
int
db_commit(struct yiqid *ctx)
{
	char	sql[64];
	int	rc;

	if (ctx->txn_depth == 0)
		fatalx("%s: no transaction", __func__);
	if (ctx->txn_depth == 1) {
		rc = db_exec(ctx, "COMMIT");
		if (rc != SQLITE_OK) {
			log_warnx("commit of transaction from %s:%d failed: %s",
			    ctx->txn_file, ctx->txn_line, sqlite3_errmsg(ctx->db));
			db_exec(ctx, "ROLLBACK");
			ctx->txn_depth = 0;
			return (rc);
		}
	} else {
		snprintf(sql, sizeof sql, "RELEASE s%d", ctx->txn_depth - 1);
		if ((rc = db_exec(ctx, sql)) != SQLITE_OK)
			return (rc);
	}
	ctx->txn_depth--;
	return (SQLITE_OK);
}

/* Roll back the innermost transaction. */
void
db_rollback(struct yiqid *ctx)
{
	char	sql[64];

	if (ctx->txn_depth == 0)
		return;
	if (ctx->txn_depth == 1)
		db_exec(ctx, "ROLLBACK");
	else {
		snprintf(sql, sizeof sql, "ROLLBACK TO s%d; RELEASE s%d",
		    ctx->txn_depth - 1, ctx->txn_depth - 1);
		db_exec(ctx, sql);
	}
	ctx->txn_depth--;
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
	static const char *const q =
	    "INSERT INTO audit (at, user_id, action, object, object_id, detail) "
	    "VALUES (:at, :u, :a, :o, :oid, :d)";
	sqlite3_stmt	*st;
	char		*text;
	int		 rc;

	text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
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
	free(text);
	json_decref(detail);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* The current time, UTC seconds. */
time_t
db_now(struct yiqid *ctx)
{
	return (time(NULL));
}
