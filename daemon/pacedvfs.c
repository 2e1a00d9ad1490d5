/*
 * pacedvfs.c: a SQLite VFS whose database-file writes reach the disk a
 * slice at a time, for the checkpointer's connection (checkpoint.c).
 *
 * A checkpoint copies every page the WAL holds into the database file and
 * then fsyncs it.  While a report keeps a snapshot open (half a second at
 * 1M bookings) thousands of pages pile up in the WAL, and the checkpoint
 * after it writes 20-30 MB at once: the kernel sends them all to the
 * disk at the fsync, and the loop's next COMMIT, whose fsync of the WAL
 * queues behind them, took 100-200 ms (issue 6 target 5: the bookings'
 * p99).  Through this VFS, after every `chunk` bytes written to a main
 * database file the writer starts and waits for the writeback of what it
 * wrote (sync_file_range(2), or fdatasync(2) where there is none), then
 * sleeps `gap` microseconds, so that the disk sees the checkpoint as a
 * stream of small writes between which the WAL's fsyncs pass.  The
 * checkpoint's own fsync then finds little left to write.
 *
 * Nothing else changes: every other call goes to the default VFS, the
 * sync SQLite asks for still happens, and durability is what SQLite makes
 * it.  Only the checkpointer thread's writes are paced (it sleeps, not the
 * loop).  The VFS is registered under its name by pacedvfs_new() (never as
 * the default) and unregistered by pacedvfs_free(), once no connection
 * uses it.
 */

#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "yiqid.h"

/* The VFS; its first member makes it usable as a sqlite3_vfs. */
struct pacedvfs {
	sqlite3_vfs	 vfs;
	sqlite3_vfs	*base;		/* the default VFS, which does the work */
	sqlite3_int64	 chunk;		/* bytes between pauses */
	long		 gap_us;
	char		*name;
	/* Counters, for the tests and the debug log (relaxed: stats only). */
	sqlite3_int64	 pauses;
};

/* An open file: the base VFS's file follows it in the same allocation. */
struct paced_file {
	sqlite3_file		 file;	/* pMethods: paced_methods */
	struct pacedvfs		*pv;
	int			 fd;	/* main database: our own fd, else -1 */
	sqlite3_int64		 since;	/* bytes written since the last pause */
	sqlite3_int64		 lo;	/* the range written since then */
	sqlite3_int64		 hi;
};

#define BASE(f)	((sqlite3_file *)((struct paced_file *)(f) + 1))

/* Write back [lo, hi) of the file and wait for it, then pause. */
static void
paced_pause(struct paced_file *pf)
{
	struct timespec	ts;

#ifdef HAVE_SYNC_FILE_RANGE
	while (sync_file_range(pf->fd, pf->lo, pf->hi - pf->lo,
	    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
	    SYNC_FILE_RANGE_WAIT_AFTER) == -1 && errno == EINTR)
		;
#else
	(void)fdatasync(pf->fd);
#endif
	pf->pv->pauses++;
	pf->since = 0;
	pf->lo = pf->hi = 0;
	ts.tv_sec = pf->pv->gap_us / 1000000;
	ts.tv_nsec = (pf->pv->gap_us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
paced_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	struct paced_file	*pf = (struct paced_file *)f;
	int			 rc;

	rc = BASE(f)->pMethods->xWrite(BASE(f), p, n, off);
	if (rc != SQLITE_OK || pf->fd == -1)
		return (rc);
	if (pf->since == 0 || off < pf->lo)
		pf->lo = off;
	if (pf->since == 0 || off + n > pf->hi)
		pf->hi = off + n;
	pf->since += n;
	if (pf->since >= pf->pv->chunk)
		paced_pause(pf);
	return (SQLITE_OK);
}

static int
paced_close(sqlite3_file *f)
{
	struct paced_file	*pf = (struct paced_file *)f;
	int			 rc;

	rc = BASE(f)->pMethods->xClose(BASE(f));
	if (pf->fd != -1)
		close(pf->fd);
	pf->fd = -1;
	return (rc);
}

/* The rest only forward to the base file. */
static int
paced_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	return (BASE(f)->pMethods->xRead(BASE(f), p, n, off));
}

static int
paced_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return (BASE(f)->pMethods->xTruncate(BASE(f), size));
}

static int
paced_sync(sqlite3_file *f, int flags)
{
	struct paced_file	*pf = (struct paced_file *)f;

	pf->since = 0;		/* the sync writes back what was pending */
	pf->lo = pf->hi = 0;
	return (BASE(f)->pMethods->xSync(BASE(f), flags));
}

static int
paced_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return (BASE(f)->pMethods->xFileSize(BASE(f), size));
}

static int
paced_lock(sqlite3_file *f, int level)
{
	return (BASE(f)->pMethods->xLock(BASE(f), level));
}

static int
paced_unlock(sqlite3_file *f, int level)
{
	return (BASE(f)->pMethods->xUnlock(BASE(f), level));
}

static int
paced_check_reserved(sqlite3_file *f, int *out)
{
	return (BASE(f)->pMethods->xCheckReservedLock(BASE(f), out));
}

static int
paced_file_control(sqlite3_file *f, int op, void *arg)
{
	return (BASE(f)->pMethods->xFileControl(BASE(f), op, arg));
}

static int
paced_sector_size(sqlite3_file *f)
{
	return (BASE(f)->pMethods->xSectorSize(BASE(f)));
}

static int
paced_device(sqlite3_file *f)
{
	return (BASE(f)->pMethods->xDeviceCharacteristics(BASE(f)));
}

static int
paced_shm_map(sqlite3_file *f, int pg, int pgsz, int extend,
    void volatile **pp)
{
	return (BASE(f)->pMethods->xShmMap(BASE(f), pg, pgsz, extend, pp));
}

static int
paced_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return (BASE(f)->pMethods->xShmLock(BASE(f), off, n, flags));
}

static void
paced_shm_barrier(sqlite3_file *f)
{
	BASE(f)->pMethods->xShmBarrier(BASE(f));
}

static int
paced_shm_unmap(sqlite3_file *f, int del)
{
	return (BASE(f)->pMethods->xShmUnmap(BASE(f), del));
}

static int
paced_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return (BASE(f)->pMethods->xFetch(BASE(f), off, n, pp));
}

static int
paced_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return (BASE(f)->pMethods->xUnfetch(BASE(f), off, p));
}

static const sqlite3_io_methods paced_methods = {
	3,
	paced_close, paced_read, paced_write, paced_truncate, paced_sync,
	paced_file_size, paced_lock, paced_unlock, paced_check_reserved,
	paced_file_control, paced_sector_size, paced_device,
	paced_shm_map, paced_shm_lock, paced_shm_barrier, paced_shm_unmap,
	paced_fetch, paced_unfetch
};

static int
paced_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out)
{
	struct pacedvfs		*pv = (struct pacedvfs *)vfs;
	struct paced_file	*pf = (struct paced_file *)f;
	int			 rc;

	memset(pf, 0, sizeof *pf);
	pf->pv = pv;
	pf->fd = -1;
	BASE(f)->pMethods = NULL;
	rc = pv->base->xOpen(pv->base, name, BASE(f), flags, out);
	if (rc != SQLITE_OK) {
		if (BASE(f)->pMethods != NULL)
			BASE(f)->pMethods->xClose(BASE(f));
		f->pMethods = NULL;	/* SQLite then does not close it */
		return (rc);
	}
	if (BASE(f)->pMethods->iVersion < 3) {
		BASE(f)->pMethods->xClose(BASE(f));
		f->pMethods = NULL;
		return (SQLITE_CANTOPEN);
	}
	/*
	 * Our own descriptor of the main database for the writeback (the
	 * base VFS keeps its own private); without one, no pacing.
	 */
	if ((flags & SQLITE_OPEN_MAIN_DB) && name != NULL)
		pf->fd = open(name, O_RDONLY | O_CLOEXEC);
	f->pMethods = &paced_methods;
	return (SQLITE_OK);
}

/* The VFS's other calls go to the base VFS. */
static int
paced_delete(sqlite3_vfs *vfs, const char *name, int dirsync)
{
	sqlite3_vfs	*b = ((struct pacedvfs *)vfs)->base;

	return (b->xDelete(b, name, dirsync));
}

static int
paced_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	sqlite3_vfs	*b = ((struct pacedvfs *)vfs)->base;

	return (b->xAccess(b, name, flags, out));
}

static int
paced_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	sqlite3_vfs	*b = ((struct pacedvfs *)vfs)->base;

	return (b->xFullPathname(b, name, n, out));
}

static int
paced_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	sqlite3_vfs	*b = ((struct pacedvfs *)vfs)->base;

	return (b->xRandomness(b, n, out));
}

static int
paced_sleep(sqlite3_vfs *vfs, int us)
{
	sqlite3_vfs	*b = ((struct pacedvfs *)vfs)->base;

	return (b->xSleep(b, us));
}

static int
paced_current_time(sqlite3_vfs *vfs, double *out)
{
	sqlite3_vfs	*b = ((struct pacedvfs *)vfs)->base;

	return (b->xCurrentTime(b, out));
}

static int
paced_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	sqlite3_vfs	*b = ((struct pacedvfs *)vfs)->base;

	return (b->xGetLastError(b, n, out));
}

static int
paced_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	sqlite3_vfs	*b = ((struct pacedvfs *)vfs)->base;

	return (b->xCurrentTimeInt64(b, out));
}

/*
 * Register a paced VFS called name over the default one: a pause after
 * every chunk bytes written to a main database file, gap_us long.  NULL
 * with *cause set if SQLite has no default VFS of version 2 or later, or
 * refuses it.
 */
struct pacedvfs *
pacedvfs_new(const char *name, size_t chunk, long gap_us, char **cause)
{
	struct pacedvfs	*pv;
	sqlite3_vfs	*base;

	if ((base = sqlite3_vfs_find(NULL)) == NULL || base->iVersion < 2) {
		xasprintf(cause, "no default SQLite VFS to pace");
		return (NULL);
	}
	pv = xcalloc(1, sizeof *pv);
	pv->base = base;
	pv->chunk = (sqlite3_int64)chunk;
	pv->gap_us = gap_us;
	pv->name = xstrdup(name);
	pv->vfs.iVersion = 2;
	pv->vfs.szOsFile = (int)sizeof(struct paced_file) + base->szOsFile;
	pv->vfs.mxPathname = base->mxPathname;
	pv->vfs.zName = pv->name;
	pv->vfs.xOpen = paced_open;
	pv->vfs.xDelete = paced_delete;
	pv->vfs.xAccess = paced_access;
	pv->vfs.xFullPathname = paced_full_pathname;
	pv->vfs.xRandomness = paced_randomness;
	pv->vfs.xSleep = paced_sleep;
	pv->vfs.xCurrentTime = paced_current_time;
	pv->vfs.xGetLastError = paced_last_error;
	pv->vfs.xCurrentTimeInt64 = paced_current_time64;
	/* Dynamic loading is the base's business: those stay NULL. */
	if (sqlite3_vfs_register(&pv->vfs, 0) != SQLITE_OK) {
		xasprintf(cause, "cannot register the SQLite VFS %s", name);
		free(pv->name);
		free(pv);
		return (NULL);
	}
	return (pv);
}

/* Its name, for sqlite3_open_v2(). */
const char *
pacedvfs_name(const struct pacedvfs *pv)
{
	return (pv->name);
}

/* Pauses so far (read when no connection writes through it). */
long long
pacedvfs_pauses(const struct pacedvfs *pv)
{
	return ((long long)pv->pauses);
}

/* Unregister and free; every connection using it must be closed. */
void
pacedvfs_free(struct pacedvfs *pv)
{
	if (pv == NULL)
		return;
	sqlite3_vfs_unregister(&pv->vfs);
	free(pv->name);
	free(pv);
}
