/*
 * pacedvfs-t.c: unit tests of daemon/pacedvfs.c, the VFS through which the
 * checkpointer writes.  A WAL database written by one connection and
 * checkpointed by another through the paced VFS holds every row afterwards
 * (read back through the default VFS, integrity_check ok), the checkpoint
 * paused about once per chunk of the database file it wrote, a VFS with a
 * chunk larger than the writes never pauses, opening a file that cannot
 * be opened fails cleanly through it, and the VFS is gone once freed.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "yiqid.h"

#define ROWS		4000
#define ROW_BYTES	1000	/* ~4 MB written in all */
#define CHUNK		(256 * 1024)

/* A fresh directory for a test's database; the caller frees it. */
static char *
scratch(void)
{
	char	*dir;

	assert_non_null(dir = strdup("/tmp/pacedvfs-t.XXXXXX"));
	assert_non_null(mkdtemp(dir));
	return (dir);
}

static void
cleanup(const char *dir, const char *db)
{
	char	path[600];

	snprintf(path, sizeof path, "%s-wal", db);
	unlink(path);
	snprintf(path, sizeof path, "%s-shm", db);
	unlink(path);
	unlink(db);
	rmdir(dir);
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err != NULL ? err : "?");
}

static long long
one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	long long	 v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (v);
}

/*
 * Write ROWS rows through the default VFS in WAL mode, checkpoint them
 * with a second connection through a paced VFS of the given chunk, and
 * return its pauses; the rows must all be in the database file after.
 */
static long long
checkpoint_through(size_t chunk)
{
	struct pacedvfs	*pv;
	sqlite3		*w, *ck, *r;
	char		*dir, db[512], *cause = NULL, sql[256];
	long long	 pauses;
	int		 nlog = -1, nckpt = -1;

	dir = scratch();
	snprintf(db, sizeof db, "%s/t.db", dir);
	assert_non_null(pv = pacedvfs_new("pacedvfs-test", chunk, 0, &cause));
	assert_non_null(sqlite3_vfs_find("pacedvfs-test"));
	assert_int_equal(sqlite3_open(db, &w), SQLITE_OK);
	exec_ok(w, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
	    "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
	assert_int_equal(sqlite3_open_v2(db, &ck, SQLITE_OPEN_READWRITE,
	    pacedvfs_name(pv)), SQLITE_OK);
	/* Until it reads, a connection does not know the WAL is there. */
	assert_int_equal(one_int(ck, "SELECT count(*) FROM sqlite_master"), 1);
	exec_ok(w, "BEGIN");
	snprintf(sql, sizeof sql, "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL "
	    "SELECT x + 1 FROM k WHERE x < %d) INSERT INTO t SELECT x, "
	    "randomblob(%d) FROM k", ROWS, ROW_BYTES);
	exec_ok(w, sql);
	exec_ok(w, "COMMIT");
	assert_int_equal(sqlite3_wal_checkpoint_v2(ck, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, &nlog, &nckpt), SQLITE_OK);
	assert_int_equal(nlog, 0);	/* all copied, and the WAL emptied */
	assert_int_equal(sqlite3_close(ck), SQLITE_OK);
	assert_int_equal(sqlite3_close(w), SQLITE_OK);
	pauses = pacedvfs_pauses(pv);
	pacedvfs_free(pv);
	assert_null(sqlite3_vfs_find("pacedvfs-test"));

	/* The file alone (no WAL left) holds everything, intact. */
	assert_int_equal(access(db, F_OK), 0);
	assert_int_equal(sqlite3_open(db, &r), SQLITE_OK);
	assert_int_equal(one_int(r, "SELECT count(*) FROM t"), ROWS);
	assert_int_equal(one_int(r, "SELECT sum(length(v)) FROM t"),
	    (long long)ROWS * ROW_BYTES);
	assert_int_equal(one_int(r, "SELECT count(*) FROM pragma_integrity_check "
	    "WHERE integrity_check <> 'ok'"), 0);
	assert_int_equal(sqlite3_close(r), SQLITE_OK);
	cleanup(dir, db);
	free(dir);
	return (pauses);
}

static void
paced_checkpoint_keeps_every_row(void **state)
{
	long long	pauses = checkpoint_through(CHUNK);

	(void)state;
	/* ~4.2 MB of pages in 256 KiB chunks: about 16 pauses. */
	assert_true(pauses >= (long long)ROWS * ROW_BYTES / CHUNK - 1);
	assert_true(pauses <= (long long)ROWS * ROW_BYTES * 2 / CHUNK + 2);
}

static void
large_chunk_never_pauses(void **state)
{
	(void)state;
	assert_int_equal(checkpoint_through((size_t)1 << 30), 0);
}

static void
open_failure_is_clean(void **state)
{
	struct pacedvfs	*pv;
	sqlite3		*db = NULL;
	char		*cause = NULL;

	(void)state;
	assert_non_null(pv = pacedvfs_new("pacedvfs-test", CHUNK, 0, &cause));
	assert_int_equal(sqlite3_open_v2("/nonexistent-dir/x/t.db", &db,
	    SQLITE_OPEN_READWRITE, pacedvfs_name(pv)), SQLITE_CANTOPEN);
	sqlite3_close(db);
	pacedvfs_free(pv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paced_checkpoint_keeps_every_row),
		cmocka_unit_test(large_chunk_never_pauses),
		cmocka_unit_test(open_failure_is_clean),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
