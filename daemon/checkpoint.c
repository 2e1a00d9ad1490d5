/*
 * checkpoint.c: WAL checkpoints off the event loop.
 *
 * By default SQLite checkpoints inside the COMMIT that takes the WAL past
 * 1000 pages: on the loop thread, copying thousands of pages into the
 * database and fsyncing it while every held reply waits (at 1M bookings
 * that was the p99).  yiqid turns that off and installs its own WAL hook:
 * after a commit that leaves at least CKPT_FRAMES pages in the WAL, the
 * hook wakes a checkpointer thread, which has its own connection and runs
 * a PASSIVE checkpoint (it never takes the write lock, so the loop never
 * waits for it).  The thread also checkpoints once a second when woken by
 * nothing, so an idle daemon leaves a checkpointed WAL.  Durability is
 * unchanged: a booking is durable when its COMMIT has fsynced the WAL
 * (synchronous = full); checkpointing only copies committed pages.
 *
 * Bounds: the WAL starts again from its beginning only at a write that
 * finds it wholly checkpointed, which under a steady stream of commits a
 * checkpoint running beside them rarely achieves (the writer keeps
 * appending).  So past CKPT_FRAMES_HARD pages the loop runs one PASSIVE
 * checkpoint itself: the thread has already copied nearly everything, so
 * this costs the loop ~2-3 ms (measured at 1M bookings, 8,200 pages)
 * instead of a full copy and fsync every 1000 pages, and the next write
 * restarts the WAL, which journal_size_limit then truncates.  The WAL
 * thus stays near 32 MiB under load.
 *
 * The thread's connection writes through a paced VFS (pacedvfs.c): after
 * a report has held the WAL for half a second, the checkpoint behind it
 * copies 20-30 MB into the database, and written at once those held the
 * loop's next COMMIT (its fsync of the WAL queued behind them) for
 * 100-200 ms.  Paced, CKPT_PACE_BYTES at a time with CKPT_PACE_GAP_US
 * between, they pass between the COMMITs.
 */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yiqid.h"

#define CKPT_FRAMES		1000	/* wake the checkpointer at this */
#define CKPT_FRAMES_HARD	8192	/* the loop checkpoints itself (32 MiB) */
#define CKPT_IDLE_S		1	/* checkpoint at least this often */
#define CKPT_WAL_LIMIT		"67108864" /* journal_size_limit: 64 MiB */
#define CKPT_PACE_BYTES		(512 * 1024) /* written between pauses */
#define CKPT_PACE_GAP_US	2000	/* each pause (pacedvfs.c) */

/* The checkpointer thread and what it shares with the loop. */
struct checkpointer {
	sqlite3		*db;		/* the thread's own connection */
	struct pacedvfs	*vfs;		/* its writes, paced */
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 wanted;	/* under lock: the WAL passed CKPT_FRAMES */
	int		 stop;		/* under lock: leave */
	int		 last_log;	/* under lock: the WAL's size and ... */
	int		 last_ckpt;	/* ... what was copied, at the last try */
	int		 loop_mark;	/* loop only: WAL size at its last try */
	int		 frames;	/* loop only: WAL size at the last commit */
};

static void *
ckpt_run(void *arg)
{
	struct checkpointer	*ck = arg;
	struct timespec		 ts;
	int			 stop, rc, nlog, nckpt;

	for (;;) {
		pthread_mutex_lock(&ck->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += CKPT_IDLE_S;
		while (!ck->wanted && !ck->stop) {
			if (pthread_cond_timedwait(&ck->cond, &ck->lock, &ts) ==
			    ETIMEDOUT)
				break;
		}
		ck->wanted = 0;
		stop = ck->stop;
		pthread_mutex_unlock(&ck->lock);
		if (stop)
			break;
		nlog = nckpt = -1;
		rc = sqlite3_wal_checkpoint_v2(ck->db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warnx("checkpoint: %s", sqlite3_errmsg(ck->db));
		pthread_mutex_lock(&ck->lock);
		ck->last_log = rc == SQLITE_OK ? nlog : -1;
		ck->last_ckpt = rc == SQLITE_OK ? nckpt : -1;
		pthread_mutex_unlock(&ck->lock);
	}
	return (NULL);
}

/* The main connection's WAL hook: runs on the loop after each commit. */
static int
ckpt_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct checkpointer	*ck = arg;

	if (frames < ck->loop_mark)
		ck->loop_mark = 0;	/* the WAL started again */
	ck->frames = frames;
	/*
	 * A long reader (a report, a feed) keeps the WAL from starting again,
	 * so it stays past CKPT_FRAMES_HARD; a checkpoint on every commit then
	 * re-sorts the whole WAL index each time for nothing.  Try again only
	 * after another quarter of CKPT_FRAMES_HARD pages.
	 */
	if (frames >= CKPT_FRAMES_HARD &&
	    frames - ck->loop_mark >= CKPT_FRAMES_HARD / 4) {
		log_debug("WAL at %d pages: checkpointing on the loop", frames);
		ck->loop_mark = frames;
		/*
		 * The thread's (paced) checkpoint holds the checkpoint lock:
		 * try again after the next commit rather than 2048 pages on.
		 */
		if (sqlite3_wal_checkpoint_v2(db, name,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) == SQLITE_BUSY)
			ck->loop_mark = frames - CKPT_FRAMES_HARD / 4;
	} else if (frames >= CKPT_FRAMES) {
		pthread_mutex_lock(&ck->lock);
		if (!ck->wanted) {
			ck->wanted = 1;
			pthread_cond_signal(&ck->cond);
		}
		pthread_mutex_unlock(&ck->lock);
	}
	return (SQLITE_OK);
}

/*
 * Move the open database's checkpoints to a thread of their own.  Does
 * nothing for a database without a file (SQLite then checkpoints as
 * usual).  On error returns -1 with a message in *cause.
 */
int
ckpt_start(struct yiqid *ctx, char **cause)
{
	struct checkpointer	*ck;
	const char		*path;

	path = sqlite3_db_filename(ctx->db, "main");
	if (path == NULL || *path == '\0')
		return (0);
	ck = xcalloc(1, sizeof *ck);
	if ((ck->vfs = pacedvfs_new("yiqid-checkpointer", CKPT_PACE_BYTES,
	    CKPT_PACE_GAP_US, cause)) == NULL) {
		free(ck);
		return (-1);
	}
	if (sqlite3_open_v2(path, &ck->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, pacedvfs_name(ck->vfs)) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", path, ck->db != NULL ?
		    sqlite3_errmsg(ck->db) : "no memory");
		sqlite3_close(ck->db);
		pacedvfs_free(ck->vfs);
		free(ck);
		return (-1);
	}
	sqlite3_busy_timeout(ck->db, ctx->cfg.busy_timeout);
	sqlite3_exec(ck->db, ctx->cfg.synchronous == 2 ?
	    "PRAGMA synchronous = FULL; PRAGMA cache_size = 16" :
	    "PRAGMA synchronous = NORMAL; PRAGMA cache_size = 16",
	    NULL, NULL, NULL);
	pthread_mutex_init(&ck->lock, NULL);
	pthread_cond_init(&ck->cond, NULL);
	if (pthread_create(&ck->thread, NULL, ckpt_run, ck) != 0) {
		xasprintf(cause, "cannot start the checkpointer thread");
		pthread_cond_destroy(&ck->cond);
		pthread_mutex_destroy(&ck->lock);
		sqlite3_close(ck->db);
		pacedvfs_free(ck->vfs);
		free(ck);
		return (-1);
	}
	db_exec(ctx, "PRAGMA journal_size_limit = " CKPT_WAL_LIMIT);
	sqlite3_wal_hook(ctx->db, ckpt_hook, ck);	/* replaces autocheckpoint */
	ctx->ckpt = ck;
	return (0);
}

/*
 * Is the WAL past CKPT_FRAMES_HARD, not started again since, and not all
 * copied into the database?  Long readers (reports) wait for it to start
 * again before they begin, so that readers overlapping back to back cannot
 * keep it growing for ever.  (A reader that begins on a WAL all copied
 * reads the database file alone and does not hold the WAL: an idle
 * daemon's checkpointer copies all within a second.)
 */
int
ckpt_wal_long(struct yiqid *ctx)
{
	struct checkpointer	*ck = ctx->ckpt;
	int			 copied;

	if (ck == NULL || ck->frames < CKPT_FRAMES_HARD)
		return (0);
	pthread_mutex_lock(&ck->lock);
	copied = ck->last_log == ck->frames && ck->last_ckpt == ck->last_log;
	pthread_mutex_unlock(&ck->lock);
	return (!copied);
}

/*
 * Stop the checkpointer and give checkpoints back to SQLite; before
 * db_close(), whose last connection checkpoints and removes the WAL.
 */
void
ckpt_stop(struct yiqid *ctx)
{
	struct checkpointer	*ck = ctx->ckpt;

	if (ck == NULL)
		return;
	if (ctx->db != NULL)
		sqlite3_wal_autocheckpoint(ctx->db, 1000);
	pthread_mutex_lock(&ck->lock);
	ck->stop = 1;
	pthread_cond_signal(&ck->cond);
	pthread_mutex_unlock(&ck->lock);
	pthread_join(ck->thread, NULL);
	pthread_cond_destroy(&ck->cond);
	pthread_mutex_destroy(&ck->lock);
	if (sqlite3_close(ck->db) != SQLITE_OK)
		log_warnx("closing the checkpointer's connection");
	else {
		/* Its VFS stays registered while a connection may use it. */
		log_debug("checkpointer: %lld pauses in its writes",
		    pacedvfs_pauses(ck->vfs));
		pacedvfs_free(ck->vfs);
	}
	free(ck);
	ctx->ckpt = NULL;
}
