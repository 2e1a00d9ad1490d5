/*
 * backup.c: "yiqid backup FILE", a consistent copy of a live database.
 * It uses SQLite's online backup API from a separate connection: in WAL
 * mode it reads one snapshot while the daemon goes on writing, so the copy
 * holds every booking committed before it started and no half of any
 * transaction.  The copy is written to a temporary name, checked with
 * PRAGMA integrity_check, synced, and renamed into place.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yiqid.h"

static int
backup_check(sqlite3 *db, char **cause)
{
	sqlite3_stmt	*st;
	const char	*res;
	int		 ok;

	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st,
	    NULL) != SQLITE_OK) {
		xasprintf(cause, "checking the copy: %s", sqlite3_errmsg(db));
		return (-1);
	}
	ok = sqlite3_step(st) == SQLITE_ROW &&
	    (res = (const char *)sqlite3_column_text(st, 0)) != NULL &&
	    strcmp(res, "ok") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		*cause = xstrdup("the copy failed its integrity check");
		return (-1);
	}
	return (0);
}

static int
backup_copy(sqlite3 *src, sqlite3 *dst, char **cause)
{
	sqlite3_backup	*b;
	int		 rc, tries = 0;

	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		xasprintf(cause, "%s", sqlite3_errmsg(dst));
		return (-1);
	}
	/* All pages in one step: one read snapshot of the source. */
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
	    rc == SQLITE_LOCKED) {
		if (++tries > 100)
			break;
		usleep(50000);
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "copying: %s", sqlite3_errstr(rc));
		return (-1);
	}
	return (0);
}

/*
 * Copy the database at path to dest, which must not exist yet.  Returns
 * 0, or -1 with a message in *cause for the caller to free.
 */
int
backup_run(const char *path, const char *dest, char **cause)
{
	sqlite3	*src = NULL, *dst = NULL;
	char	*tmp;
	int	 fd, rc = -1;

	if (access(dest, F_OK) == 0) {
		xasprintf(cause, "%s exists; give a new file name", dest);
		return (-1);
	}
	xasprintf(&tmp, "%s.tmp-%ld", dest, (long)getpid());
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, sqlite3_errmsg(src));
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", tmp, sqlite3_errmsg(dst));
		goto out;
	}
	if (backup_copy(src, dst, cause) == -1 || backup_check(dst, cause) == -1)
		goto out;
	/* Leave a self-contained file: no WAL beside it. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", tmp, sqlite3_errmsg(dst));
		goto out;
	}
	sqlite3_close(dst);
	dst = NULL;
	if ((fd = open(tmp, O_RDONLY)) == -1 || fsync(fd) == -1) {
		xasprintf(cause, "%s: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	close(fd);
	if (rename(tmp, dest) == -1) {
		xasprintf(cause, "%s: %s", dest, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	return (rc);
}
