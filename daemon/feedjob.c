/*
 * feedjob.c: the SQL of a calendar feed, run on a worker thread.
 *
 * Reading a site feed's 10,000 bookings out of a million (a 24-column
 * join) costs tens of milliseconds of CPU, which on the loop thread would
 * stall every booking meanwhile (issue 6 target 5).  A feed job runs the
 * feed's query on a worker thread with its own read-only SQLite
 * connection, in one read transaction that also reads the newest audit
 * row (the feed's version), and copies every row into memory as one byte
 * string per row: each column's type and value, the encoding the feed
 * cache keys events by.  The loop then reads those copies with
 * feedjob_int() and feedjob_text() and does what needs the daemon's
 * context and libical (visibility, the cache, rendering, assembling).
 *
 * As for reports, the worker hands its job back through a done pipe
 * (workers.c); the loop joins the thread and calls the job's done
 * function, which answers the deferred request, or returns FEEDJOB_LATER
 * to go on in later rounds of the loop with the job's rows (the feed's
 * events are rendered in slices) and calls feedjob_end() when it has
 * answered.  At most FEEDJOB_RUN_MAX jobs run at once; up to
 * FEEDJOB_QUEUE_MAX more wait in order for a free place, and past that
 * feedjob_start() refuses (the caller answers 503 with Retry-After).  At
 * shutdown feedjobs_stop() cancels and joins what runs and calls every
 * job's done function with FEEDJOB_CANCELLED, again for a job whose done
 * function said FEEDJOB_LATER and has not ended it.  The tests may set
 * YIQID_FEEDJOB_HOLD_MS to make every job wait that long before its query,
 * so that the queue surely fills.
 */

#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yiqid.h"

#define FEEDJOB_RUN_MAX		FEED_WORKERS /* jobs running at once */
#define FEEDJOB_QUEUE_MAX	64	/* jobs waiting for a place */
#define FEEDJOB_NICE		10	/* workers' nice value, as reports */
#define FEEDJOB_COLS		32	/* columns of a row, at most */
#define FEEDJOB_CHECK		256	/* rows between looks at cancel */

/* Where each row and each of its columns begin in the job's buffer. */
struct feedjob_row {
	size_t		off;
	size_t		len;
	uint32_t	col[FEEDJOB_COLS];	/* from off */
};

/* One feed's query: owned by the loop, run by its worker. */
struct feedjob {
	struct req		*req;
	struct feedjob_query	 q;
	int			(*done)(struct req *, struct feedjob *,
				    void *);
	void			*arg;
	char			*database;
	int			 busy_timeout;
	long			 cache_kib;	/* its part of cache_mb */
	long			 hold_ms;	/* tests: wait this long first */
	sqlite3			*db;		/* kept between jobs, or NULL */
	pthread_t		 thread;
	volatile int		 cancel;
	struct donepipe		*dp;		/* the pool's */
	/* Written by the worker before it signals. */
	int			 rc;
	char			*cause;
	int64_t			 version;
	int64_t			 version_at;
	unsigned char		*buf;
	size_t			 len;
	size_t			 size;
	struct feedjob_row	*rows;
	size_t			 nrows;
	size_t			 nalloc;
	struct feedjob		*next;
};

/* The running and waiting jobs and the pipe workers report through. */
struct feedjob_pool {
	struct donepipe		*dp;
	struct feedjob		*running;
	int			 nrunning;
	struct feedjob		*waiting;	/* oldest first */
	int			 nwaiting;
	struct feedjob		*later;		/* done said FEEDJOB_LATER */
	int			 nlater;
	/*
	 * Connections of finished jobs, given to the next ones: a kept
	 * connection keeps its page cache warm (a fresh one per feed read
	 * its pages from the file again, ~15 ms more per feed at 1M).
	 */
	sqlite3			*idle[FEEDJOB_RUN_MAX];
	int			 nidle;
	long			 hold_ms;	/* tests: each job waits first */
};

static void
job_free(struct feedjob *job)
{
	sqlite3_close(job->db);
	free(job->database);
	free(job->cause);
	free(job->buf);
	free(job->rows);
	free(job);
}

/* Make room for n more bytes in the job's buffer. */
static void
buf_room(struct feedjob *job, size_t n)
{
	if (job->len + n > job->size) {
		job->size = job->size == 0 ? 1 << 20 : job->size;
		while (job->size < job->len + n)
			job->size *= 2;
		job->buf = xreallocarray(job->buf, 1, job->size);
	}
}

/*
 * Copy the current row of st: per column its type, then an int64, or
 * the text's length (an int), its bytes and a NUL; nothing for NULL.
 * The row's size is summed first and its room made once: the copy is
 * half of a feed job's time, most of it in per-field calls before.
 */
static void
row_copy(struct feedjob *job, sqlite3_stmt *st)
{
	struct feedjob_row	*row;
	const unsigned char	*text[FEEDJOB_COLS];
	unsigned char		 type[FEEDJOB_COLS], *p;
	int64_t			 v;
	size_t			 need = 0;
	int			 i, n = sqlite3_column_count(st), len[FEEDJOB_COLS];

	if (n > FEEDJOB_COLS)
		n = FEEDJOB_COLS;
	if (job->nrows == job->nalloc) {
		job->nalloc = job->nalloc == 0 ? 1024 : job->nalloc * 2;
		job->rows = xreallocarray(job->rows, job->nalloc,
		    sizeof *job->rows);
	}
	for (i = 0; i < n; i++) {
		type[i] = (unsigned char)sqlite3_column_type(st, i);
		if (type[i] == SQLITE_NULL)
			need += 1;
		else if (type[i] == SQLITE_INTEGER)
			need += 1 + sizeof v;
		else {
			/* Text, and anything else as text (as rendered). */
			text[i] = sqlite3_column_text(st, i);
			len[i] = sqlite3_column_bytes(st, i);
			need += 1 + sizeof len[i] + (size_t)len[i] + 1;
		}
	}
	buf_room(job, need);
	row = &job->rows[job->nrows++];
	memset(row, 0, sizeof *row);
	row->off = job->len;
	p = (unsigned char *)job->buf + job->len;
	for (i = 0; i < n; i++) {
		row->col[i] = (uint32_t)(p - ((unsigned char *)job->buf +
		    row->off));
		*p++ = type[i];
		if (type[i] == SQLITE_NULL)
			continue;
		if (type[i] == SQLITE_INTEGER) {
			v = sqlite3_column_int64(st, i);
			memcpy(p, &v, sizeof v);
			p += sizeof v;
			continue;
		}
		memcpy(p, &len[i], sizeof len[i]);
		p += sizeof len[i];
		if (len[i] > 0)
			memcpy(p, text[i], (size_t)len[i]);
		p += len[i];
		*p++ = '\0';
	}
	job->len += need;
	row->len = need;
}

/* Run one of the job's statements, copying its rows; SQLite code. */
static int
job_query(struct feedjob *job, sqlite3 *db, const char *sql, int64_t max)
{
	sqlite3_stmt	*st;
	int		 rc;

	job->len = 0;
	job->nrows = 0;
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK)
		return (rc);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":id"),
	    job->q.id);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":from"),
	    job->q.from);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":to"),
	    job->q.to);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":keep"),
	    job->q.keep);
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":max"), max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_copy(job, st);
		if (job->nrows % FEEDJOB_CHECK == 0 && job->cancel) {
			rc = SQLITE_INTERRUPT;
			break;
		}
	}
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/*
 * The version and the rows in one read transaction, so that the version
 * describes exactly the rows read; more than max rows unordered means
 * reading the first max in order instead.
 */
static int
job_read(struct feedjob *job, sqlite3 *db)
{
	static const char *const q_version =
	    "SELECT id, at FROM audit ORDER BY id DESC LIMIT 1";
	sqlite3_stmt	*st;
	char		 sql[64];
	int		 rc;

	/* Kept between jobs: its part of the budget, not SQLite's 2 MiB. */
	(void)snprintf(sql, sizeof sql, "PRAGMA cache_size = -%ld",
	    job->cache_kib);
	(void)sqlite3_exec(db, sql, NULL, NULL, NULL);
	if ((rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK)
		return (rc);
	if ((rc = sqlite3_prepare_v2(db, q_version, -1, &st, NULL)) !=
	    SQLITE_OK)
		goto out;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		job->version = sqlite3_column_int64(st, 0);
		job->version_at = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto out;
	rc = job_query(job, db, job->q.any, job->q.max + 1);
	if (rc == SQLITE_OK && job->nrows > (size_t)job->q.max)
		rc = job_query(job, db, job->q.ordered, job->q.max);
out:
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return (rc);
}

static void *
job_run(void *arg)
{
	struct feedjob	*job = arg;
	struct timespec	 ts;

	job->rc = SQLITE_ERROR;
	worker_nice(FEEDJOB_NICE);
	if (job->hold_ms > 0) {
		ts.tv_sec = job->hold_ms / 1000;
		ts.tv_nsec = (job->hold_ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
	}
	if (job->db == NULL && (job->rc = worker_db_open(job->database,
	    job->busy_timeout, &job->db, &job->cause)) != SQLITE_OK) {
		donepipe_post(job->dp, job);	/* job->cause says why */
		return (NULL);
	}
	job->rc = job_read(job, job->db);
	if (job->rc != SQLITE_OK && !job->cancel)
		job->cause = xstrdup(sqlite3_errmsg(job->db));
	donepipe_post(job->dp, job);
	return (NULL);
}

static void
job_unlink(struct feedjob **list, struct feedjob *job)
{
	struct feedjob	**jp;

	for (jp = list; *jp != NULL; jp = &(*jp)->next) {
		if (*jp == job) {
			*jp = job->next;
			return;
		}
	}
}

/*
 * Call the job's done function on the loop; finish the request and free
 * the job, unless done goes on later (then it is kept in pool->later).
 */
static void
job_finish(struct feedjob_pool *pool, struct feedjob *job)
{
	struct req	*r = job->req;

	if (job->cancel)
		job->rc = FEEDJOB_CANCELLED;
	else if (job->rc != SQLITE_OK)
		log_warnx("feed: %s", job->cause != NULL ? job->cause : "?");
	if (job->done(r, job, job->arg) == FEEDJOB_LATER) {
		if (job->rc == FEEDJOB_CANCELLED)
			fatalx("%s: a cancelled feed job goes on", __func__);
		job->next = pool->later;
		pool->later = job;
		pool->nlater++;
		return;
	}
	req_finish(r);
	job_free(job);
}

/*
 * A done function that said FEEDJOB_LATER has answered: finish the
 * request and free the job.
 */
void
feedjob_end(struct feedjob *job)
{
	struct feedjob_pool	*pool = job->req->ctx->feedjobs;

	job_unlink(&pool->later, job);
	pool->nlater--;
	req_finish(job->req);
	job_free(job);
}

/* Start a job's worker; -1 if no thread could be made. */
static int
job_launch(struct feedjob_pool *pool, struct feedjob *job)
{
	job->dp = pool->dp;
	if (job->db == NULL && pool->nidle > 0)
		job->db = pool->idle[--pool->nidle];
	if (pthread_create(&job->thread, NULL, job_run, job) != 0) {
		log_warn("feed thread");
		return (-1);
	}
	job->next = pool->running;
	pool->running = job;
	pool->nrunning++;
	return (0);
}

/* Start waiting jobs while there is room. */
static void
pool_next(struct feedjob_pool *pool)
{
	struct feedjob	*job;

	while (pool->nrunning < FEEDJOB_RUN_MAX &&
	    (job = pool->waiting) != NULL) {
		pool->waiting = job->next;
		pool->nwaiting--;
		job->next = NULL;
		if (job_launch(pool, job) == -1) {
			job->rc = SQLITE_ERROR;
			job_finish(pool, job);
		}
	}
}

/* On the loop: a worker has finished job. */
static void
job_done(void *arg, void *ctxp)
{
	struct feedjob		*job = arg;
	struct feedjob_pool	*pool = ((struct yiqid *)ctxp)->feedjobs;

	pthread_join(job->thread, NULL);
	job_unlink(&pool->running, job);
	pool->nrunning--;
	/* A connection that worked is kept for the next job. */
	if (job->db != NULL && job->rc == SQLITE_OK &&
	    pool->nidle < FEEDJOB_RUN_MAX) {
		pool->idle[pool->nidle++] = job->db;
		job->db = NULL;
	}
	job_finish(pool, job);
	pool_next(pool);
}

static struct feedjob_pool *
pool_get(struct yiqid *ctx)
{
	struct feedjob_pool	*pool;
	int			 ms;

	if (ctx->feedjobs != NULL)
		return (ctx->feedjobs);
	pool = xcalloc(1, sizeof *pool);
	if ((ms = test_ms("YIQID_FEEDJOB_HOLD_MS")) > 0)
		pool->hold_ms = ms;
	if ((pool->dp = donepipe_new(ctx->base, job_done, ctx)) == NULL) {
		free(pool);
		return (NULL);
	}
	ctx->feedjobs = pool;
	return (pool);
}

/*
 * Run q for request r on a worker; done is called on the loop when it is
 * over (or cancelled) and must answer r and return FEEDJOB_DONE (r is then
 * finished), or return FEEDJOB_LATER and call feedjob_end() once it has
 * answered (if the daemon stops first, done is called again, cancelled,
 * and must then answer).  Returns
 * 0 with r deferred, or -1 if too many jobs wait already (r unanswered).
 */
int
feedjob_start(struct req *r, const struct feedjob_query *q,
    int (*done)(struct req *, struct feedjob *, void *), void *arg)
{
	struct feedjob_pool	*pool;
	struct feedjob		*job, **jp;
	struct budget		 b;

	if ((pool = pool_get(r->ctx)) == NULL ||
	    pool->nwaiting >= FEEDJOB_QUEUE_MAX)
		return (-1);
	job = xcalloc(1, sizeof *job);
	job->req = r;
	job->q = *q;
	job->done = done;
	job->arg = arg;
	job->database = xstrdup(r->ctx->cfg.database);
	job->busy_timeout = r->ctx->cfg.busy_timeout;
	job->hold_ms = pool->hold_ms;
	config_budget(&r->ctx->cfg, &b);
	job->cache_kib = b.worker_kib;
	if (pool->nrunning < FEEDJOB_RUN_MAX) {
		if (job_launch(pool, job) == -1) {
			job_free(job);
			return (-1);
		}
	} else {
		for (jp = &pool->waiting; *jp != NULL; jp = &(*jp)->next)
			;
		*jp = job;
		pool->nwaiting++;
	}
	r->deferred = 1;
	return (0);
}

/* Is a feed job running, waiting, or its answer still being built? */
int
feedjobs_busy(struct yiqid *ctx)
{
	return (ctx->feedjobs != NULL && (ctx->feedjobs->nrunning > 0 ||
	    ctx->feedjobs->nwaiting > 0 || ctx->feedjobs->nlater > 0));
}

/* Cancel and join every job, call their done functions, free the pool. */
void
feedjobs_stop(struct yiqid *ctx)
{
	struct feedjob_pool	*pool = ctx->feedjobs;
	struct feedjob		*job;

	if (pool == NULL)
		return;
	for (job = pool->running; job != NULL; job = job->next)
		job->cancel = 1;
	while ((job = pool->running) != NULL) {
		pthread_join(job->thread, NULL);
		pool->running = job->next;
		job_finish(pool, job);
	}
	while ((job = pool->waiting) != NULL) {
		pool->waiting = job->next;
		job->cancel = 1;
		job_finish(pool, job);
	}
	while ((job = pool->later) != NULL) {
		pool->later = job->next;
		pool->nlater--;
		job->cancel = 1;
		job_finish(pool, job);
	}
	while (pool->nidle > 0)
		sqlite3_close(pool->idle[--pool->nidle]);
	donepipe_free(pool->dp);
	free(pool);
	ctx->feedjobs = NULL;
}

/* The job's outcome: SQLITE_OK, an SQLite error or FEEDJOB_CANCELLED. */
int
feedjob_rc(const struct feedjob *job)
{
	return (job->rc);
}

/* The newest audit row's id and time in the snapshot the rows come from. */
void
feedjob_version(const struct feedjob *job, int64_t *id, int64_t *at)
{
	*id = job->version;
	*at = job->version_at;
}

/* How many rows the job read. */
size_t
feedjob_nrows(const struct feedjob *job)
{
	return (job->nrows);
}

/* Row i's encoding (every column's type and value) and its length. */
const void *
feedjob_row(const struct feedjob *job, size_t i, size_t *len)
{
	*len = job->rows[i].len;
	return (job->buf + job->rows[i].off);
}

static const unsigned char *
col_at(const struct feedjob *job, size_t i, int c)
{
	return (job->buf + job->rows[i].off + job->rows[i].col[c]);
}

/* Column c of row i as an integer (NULL is 0, text is read as a number). */
int64_t
feedjob_int(const struct feedjob *job, size_t i, int c)
{
	const unsigned char	*p = col_at(job, i, c);
	int64_t			 v;

	switch (*p) {
	case SQLITE_NULL:
		return (0);
	case SQLITE_INTEGER:
		memcpy(&v, p + 1, sizeof v);
		return (v);
	default:
		return (strtoll((const char *)p + 1 + sizeof(int), NULL, 10));
	}
}

/* Column c of row i as text, or NULL for NULL (and for an integer). */
const char *
feedjob_text(const struct feedjob *job, size_t i, int c)
{
	const unsigned char	*p = col_at(job, i, c);

	if (*p == SQLITE_NULL || *p == SQLITE_INTEGER)
		return (NULL);
	return ((const char *)p + 1 + sizeof(int));
}
