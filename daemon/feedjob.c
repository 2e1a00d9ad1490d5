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
 * cache keys events by.  Columns that come from a few rows of another
 * table over and over (a booking's instrument, user, institute) are read
 * once per job and id instead (the query's dims and layout) and copied
 * into each row where the join put them.  The loop then reads those
 * copies with feedjob_int() and feedjob_text() and does what needs the
 * daemon's context and libical (visibility, the cache, rendering,
 * assembling).
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
 * A column as a row holds it: its type, then an int64, or the text's
 * length (an int), its bytes and a NUL; nothing more for NULL.  col_size()
 * reads column i of st and says how many bytes it takes, col_put() then
 * writes it at p and returns the end.
 */
struct col {
	unsigned char		 type;
	int			 len;
	const unsigned char	*text;
	int64_t			 v;
};

static size_t
col_size(sqlite3_stmt *st, int i, struct col *c)
{
	c->type = (unsigned char)sqlite3_column_type(st, i);
	if (c->type == SQLITE_NULL)
		return (1);
	if (c->type == SQLITE_INTEGER) {
		c->v = sqlite3_column_int64(st, i);
		return (1 + sizeof c->v);
	}
	/* Text, and anything else as text (as rendered). */
	c->text = sqlite3_column_text(st, i);
	c->len = sqlite3_column_bytes(st, i);
	return (1 + sizeof c->len + (size_t)c->len + 1);
}

static unsigned char *
col_put(unsigned char *p, const struct col *c)
{
	*p++ = c->type;
	if (c->type == SQLITE_NULL)
		return (p);
	if (c->type == SQLITE_INTEGER) {
		memcpy(p, &c->v, sizeof c->v);
		return (p + sizeof c->v);
	}
	memcpy(p, &c->len, sizeof c->len);
	p += sizeof c->len;
	if (c->len > 0)
		memcpy(p, c->text, (size_t)c->len);
	p += c->len;
	*p++ = '\0';
	return (p);
}

/*
 * A row of a dimension table (feedjob_dim), read once per job and id,
 * its columns encoded as a row holds them.
 */
struct dim_row {
	int64_t		 id;
	int		 used;		/* the slot is taken */
	int		 found;		/* 0: no such row */
	unsigned char	*enc;
	uint32_t	 col[FEEDJOB_COLS + 1];	/* where each begins; the end */
};

/* The rows of one dimension read so far, by id (linear probing). */
struct dim_map {
	sqlite3_stmt	*st;
	struct dim_row	*slot;
	size_t		 nslots;	/* a power of two */
	size_t		 n;
};

static void
dim_maps_free(struct dim_map *m, int n)
{
	size_t	i;
	int	d;

	for (d = 0; d < n; d++) {
		for (i = 0; i < m[d].nslots; i++)
			free(m[d].slot[i].enc);
		free(m[d].slot);
		sqlite3_finalize(m[d].st);
	}
}

static struct dim_row *
dim_slot(struct dim_map *m, int64_t id)
{
	size_t	i;

	for (i = (size_t)id & (m->nslots - 1); m->slot[i].used &&
	    m->slot[i].id != id; i = (i + 1) & (m->nslots - 1))
		continue;
	return (&m->slot[i]);
}

/* Read the row id of m's table (once); NULL with *rc on an error. */
static struct dim_row *
dim_get(struct dim_map *m, int64_t id, int *rc)
{
	struct dim_row	*r, *old;
	struct col	 c[FEEDJOB_COLS];
	unsigned char	*p;
	size_t		 i, need = 0, nold;
	int		 k, n;

	if (m->nslots != 0 && (r = dim_slot(m, id))->used)
		return (r);
	if (2 * (m->n + 1) > m->nslots) {
		old = m->slot;
		nold = m->nslots;
		m->nslots = nold == 0 ? 64 : 2 * nold;
		m->slot = xcalloc(m->nslots, sizeof *m->slot);
		for (i = 0; i < nold; i++)
			if (old[i].used)
				*dim_slot(m, old[i].id) = old[i];
		free(old);
	}
	r = dim_slot(m, id);
	r->used = 1;
	r->id = id;
	m->n++;
	sqlite3_reset(m->st);
	sqlite3_bind_int64(m->st, 1, id);
	if ((*rc = sqlite3_step(m->st)) == SQLITE_DONE)
		return (r);		/* not found */
	if (*rc != SQLITE_ROW)
		return (NULL);
	if ((n = sqlite3_column_count(m->st)) > FEEDJOB_COLS)
		n = FEEDJOB_COLS;
	for (k = 0; k < n; k++)
		need += col_size(m->st, k, &c[k]);
	p = r->enc = xmalloc(need);
	for (k = 0; k < n; k++) {
		r->col[k] = (uint32_t)(p - r->enc);
		p = col_put(p, &c[k]);
	}
	r->col[n] = (uint32_t)(p - r->enc);
	r->found = 1;
	return (r);
}

/*
 * Copy the current row of st into the job's buffer, as the query's
 * layout says (checked by layout_ok()): each column from st, or from the
 * row of a dimension whose id is in st (a row whose dimension row is
 * missing is left out, as a join would).  The row's size is summed first
 * and its room made once.  Returns SQLITE_OK or an SQLite error.
 */
static int
row_copy(struct feedjob *job, sqlite3_stmt *st, struct dim_map *maps)
{
	const struct feedjob_query	*q = &job->q;
	struct feedjob_row		*row;
	struct dim_row			*dr[FEEDJOB_DIMS];
	struct col			 c[FEEDJOB_COLS];
	unsigned char			*p;
	size_t				 need = 0, len;
	int				 i, d, k, n, rc = SQLITE_OK;

	for (d = 0; d < q->ndims; d++) {
		dr[d] = dim_get(&maps[d], sqlite3_column_int64(st,
		    q->dims[d].key), &rc);
		if (dr[d] == NULL)
			return (rc);
		if (!dr[d]->found)
			return (SQLITE_OK);
	}
	n = q->ncols;
	for (i = 0; i < n; i++) {
		k = q->layout[i].col;
		if ((d = q->layout[i].dim) < 0)
			need += col_size(st, k, &c[i]);
		else
			need += dr[d]->col[k + 1] - dr[d]->col[k];
	}
	if (job->nrows == job->nalloc) {
		job->nalloc = job->nalloc == 0 ? 1024 : job->nalloc * 2;
		job->rows = xreallocarray(job->rows, job->nalloc,
		    sizeof *job->rows);
	}
	buf_room(job, need);
	row = &job->rows[job->nrows++];
	memset(row, 0, sizeof *row);
	row->off = job->len;
	p = job->buf + job->len;
	for (i = 0; i < n; i++) {
		row->col[i] = (uint32_t)(p - (job->buf + row->off));
		if ((d = q->layout[i].dim) < 0)
			p = col_put(p, &c[i]);
		else {
			k = q->layout[i].col;
			len = dr[d]->col[k + 1] - dr[d]->col[k];
			memcpy(p, dr[d]->enc + dr[d]->col[k], len);
			p += len;
		}
	}
	job->len += need;
	row->len = need;
	return (SQLITE_OK);
}

/*
 * Does the query's layout name only columns its statement st and its
 * dimensions' statements have?  (Checked once per statement, not per row.)
 */
static int
layout_ok(const struct feedjob_query *q, sqlite3_stmt *st,
    const struct dim_map *maps)
{
	int	i, d, k;

	if (q->ncols < 0 || q->ncols > FEEDJOB_COLS)
		return (0);
	for (i = 0; i < q->ncols; i++) {
		d = q->layout[i].dim;
		k = q->layout[i].col;
		if (d >= q->ndims || k < 0 || k >= FEEDJOB_COLS ||
		    k >= sqlite3_column_count(d < 0 ? st : maps[d].st))
			return (0);
	}
	for (d = 0; d < q->ndims; d++) {
		if (q->dims[d].key < 0 ||
		    q->dims[d].key >= sqlite3_column_count(st))
			return (0);
	}
	return (1);
}

/* Run one of the job's statements, copying its rows; SQLite code. */
static int
job_query(struct feedjob *job, sqlite3 *db, const char *sql, int64_t max)
{
	struct dim_map	 maps[FEEDJOB_DIMS];
	sqlite3_stmt	*st;
	int		 d, rc;

	job->len = 0;
	job->nrows = 0;
	if (job->q.ndims < 0 || job->q.ndims > FEEDJOB_DIMS)
		return (SQLITE_MISUSE);
	memset(maps, 0, sizeof maps);
	for (d = 0; d < job->q.ndims; d++) {
		if ((rc = sqlite3_prepare_v2(db, job->q.dims[d].sql, -1,
		    &maps[d].st, NULL)) != SQLITE_OK) {
			dim_maps_free(maps, d);
			return (rc);
		}
	}
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK) {
		dim_maps_free(maps, job->q.ndims);
		return (rc);
	}
	if (!layout_ok(&job->q, st, maps)) {
		sqlite3_finalize(st);
		dim_maps_free(maps, job->q.ndims);
		return (SQLITE_MISUSE);
	}
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
		if ((rc = row_copy(job, st, maps)) != SQLITE_OK)
			break;
		if (job->nrows % FEEDJOB_CHECK == 0 && job->cancel) {
			rc = SQLITE_INTERRUPT;
			break;
		}
	}
	sqlite3_finalize(st);
	dim_maps_free(maps, job->q.ndims);
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
