/*
 * api-reports.c: GET /api/v1/reports/utilisation, for park managers (at
 * the sites they cover) and admins.
 *
 * A report over a year of bookings reads a million rows, which must not
 * stall the event loop.  The handler checks the request on the loop
 * thread, builds everything the computation needs that involves the
 * daemon's context or libical (covered sites, zone offset tables), and
 * starts a worker thread with its own read-only SQLite connection (WAL
 * lets it read a consistent snapshot while the loop keeps writing).  The
 * request is deferred: when the worker is done it hands its job back
 * through a done pipe (workers.c), and the loop joins the thread and
 * answers from the loop thread.  At shutdown reports_stop() cancels and
 * joins what runs and answers 503.  At most REPORT_JOBS_MAX reports run at
 * once.
 *
 * A report holds its snapshot for half a second at 1M bookings, and the
 * WAL can start again from its beginning only when no reader holds one
 * (checkpoint.c): reports requested back to back kept it growing by tens
 * of MB a second.  So while the WAL is long (ckpt_wal_long()) a report
 * waits to begin, looking again every REPORT_WAL_POLL_MS, until the WAL
 * has started again or REPORT_WAL_WAIT_MS have passed.  The tests may set
 * YIQID_REPORT_WAL_LONG=1 to have every report wait the whole time.
 */

#include "config.h"

#include <sys/queue.h>

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/keyvalq_struct.h>

#include "yiqid.h"

#define REPORT_JOBS_MAX		4
#define REPORT_DAYS_MAX		3660	/* longest period: ten years */
#define REPORT_TEXT_MAX		128	/* longest filter value */
#define REPORT_NICE		10	/* workers' nice value */
#define REPORT_WAL_POLL_MS	20	/* a waiting report looks again */
#define REPORT_WAL_WAIT_MS	2000	/* and begins anyway after this */

/*
 * A report waiting for the WAL begins before SIGTERM's drain runs out, so
 * the drain always ends with it made or cancelled (reports_stop()), never
 * still waiting (barring a loop stalled for the difference).
 */
_Static_assert(REPORT_WAL_WAIT_MS < DRAIN_MAX_S * 1000,
    "a waiting report must begin within the drain");

/* One report being computed: owned by the loop, read by its worker. */
struct report_job {
	struct req		*req;
	struct report_params	 p;
	char			*database;
	int			 busy_timeout;
	pthread_t		 thread;
	int			 started;	/* its thread runs */
	struct event		*wait;		/* waiting for the WAL */
	int			 waited_ms;
	volatile int		 cancel;
	struct donepipe		*dp;		/* the pool's */
	/* Written by the worker before it signals. */
	int			 rc;
	char			*out;
	size_t			 len;
	char			*cause;
	struct report_job	*next;
};

/* The running reports and the pipe through which workers report back. */
struct report_pool {
	struct donepipe		*dp;
	struct report_job	*jobs;
	int			 njobs;
	int			 wal_long;	/* tests: the WAL is always long */
};

static void	api_reports_utilisation(struct req *);

const struct route api_reports_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/reports/utilisation", 0,
	    api_reports_utilisation },
	{ 0, NULL, 0, NULL }
};

static void
job_free(struct report_job *job)
{
	report_params_free(&job->p);
	free(job->database);
	free(job->out);
	free(job->cause);
	if (job->wait != NULL)
		event_free(job->wait);
	free(job);
}

static void *
job_run(void *arg)
{
	struct report_job	*job = arg;
	sqlite3			*db = NULL;

	job->rc = -1;
	worker_nice(REPORT_NICE);
	if (worker_db_open(job->database, job->busy_timeout, &db,
	    &job->cause) == SQLITE_OK)
		job->rc = report_run(db, &job->p, &job->cancel, &job->out,
		    &job->len, &job->cause);
	sqlite3_close(db);
	/*
	 * A year's report allocates tens of MiB in this thread's arena; give
	 * what is free back to the system rather than keep it for the next
	 * report (issue 6 target 6: the daemon's RSS).
	 */
	malloc_trim(0);
	donepipe_post(job->dp, job);
	return (NULL);
}

static void
job_unlink(struct report_pool *pool, struct report_job *job)
{
	struct report_job	**jp;

	for (jp = &pool->jobs; *jp != NULL; jp = &(*jp)->next) {
		if (*jp == job) {
			*jp = job->next;
			pool->njobs--;
			return;
		}
	}
}

/* Answer a finished job's request and free both. */
static void
job_reply(struct report_job *job)
{
	struct req	*r = job->req;

	if (job->rc == 0)
		api_reply_data(r, 200, report_content_type(job->p.format),
		    job->out, job->len);
	else if (job->cancel)
		api_error(r, 503, "unavailable", "the server is stopping");
	else {
		log_warnx("report: %s", job->cause != NULL ? job->cause : "?");
		api_error(r, 500, "internal", "the report could not be made");
	}
	req_finish(r);
	job_free(job);
}

/* On the loop: a worker has finished job. */
static void
job_done(void *arg, void *ctxp)
{
	struct report_job	*job = arg;
	struct yiqid		*ctx = ctxp;

	pthread_join(job->thread, NULL);
	job_unlink(ctx->reports, job);
	job_reply(job);
}

static struct report_pool *
pool_get(struct yiqid *ctx)
{
	struct report_pool	*pool;
	const char		*s;

	if (ctx->reports != NULL)
		return (ctx->reports);
	pool = xcalloc(1, sizeof *pool);
	s = getenv("YIQID_REPORT_WAL_LONG");
	pool->wal_long = s != NULL && strcmp(s, "1") == 0;
	if ((pool->dp = donepipe_new(ctx->base, job_done, ctx)) == NULL) {
		free(pool);
		return (NULL);
	}
	ctx->reports = pool;
	return (pool);
}

/* Is a report being made? */
int
reports_busy(struct yiqid *ctx)
{
	return (ctx->reports != NULL && ctx->reports->njobs > 0);
}

/* Cancel and join every running report, answer 503 and free the pool. */
void
reports_stop(struct yiqid *ctx)
{
	struct report_pool	*pool = ctx->reports;
	struct report_job	*job;

	if (pool == NULL)
		return;
	for (job = pool->jobs; job != NULL; job = job->next)
		job->cancel = 1;
	while ((job = pool->jobs) != NULL) {
		if (job->started)
			pthread_join(job->thread, NULL);
		else
			job->rc = -1;	/* never began */
		pool->jobs = job->next;
		job_reply(job);
	}
	donepipe_free(pool->dp);
	free(pool);
	ctx->reports = NULL;
}

/* Refuse query parameters the report does not know (SPEC §9). */
static int
check_params(struct req *r)
{
	static const char *const known[] = {
		"by", "category", "format", "from", "site", "to", NULL
	};
	struct evkeyval	*kv;
	int		 i;

	TAILQ_FOREACH(kv, &r->query, next) {
		for (i = 0; known[i] != NULL; i++) {
			if (strcmp(kv->key, known[i]) == 0)
				break;
		}
		if (known[i] == NULL) {
			api_error_json(r, 400, "bad_request", json_pack("{s:s}",
			    "field", kv->key), "unknown query parameter %s",
			    kv->key);
			return (-1);
		}
		if (strlen(kv->value) > REPORT_TEXT_MAX) {
			api_error_json(r, 400, "bad_request", json_pack("{s:s}",
			    "field", kv->key), "%s is too long", kv->key);
			return (-1);
		}
	}
	return (0);
}

/* The first of this month and of the next, 00:00 in zone. */
static void
default_period(struct yiqid *ctx, const char *zone, time_t *from, time_t *to)
{
	struct tm	tm;
	time_t		now = db_now(ctx), l;

	l = now + tz_offset(zone, now);
	gmtime_r(&l, &tm);
	tz_local_to_utc(zone, tm.tm_year + 1900, tm.tm_mon + 1, 1, 0, 0, from);
	if (tm.tm_mon == 11)
		tz_local_to_utc(zone, tm.tm_year + 1901, 1, 1, 0, 0, to);
	else
		tz_local_to_utc(zone, tm.tm_year + 1900, tm.tm_mon + 2, 1, 0,
		    0, to);
}

/* Read by, format, site and category; answers 400/403/404 itself. */
static int
parse_filters(struct req *r, struct report_params *p, char **zone)
{
	static const char *const q_site =
	    "SELECT id, timezone FROM sites WHERE code = :c";
	sqlite3_stmt	*st;
	const char	*v;

	if ((v = req_query(r, "by")) != NULL &&
	    report_by_parse(v, &p->by) == -1) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "by"), "by must be instrument, site, institute, category, "
		    "district or owner");
		return (-1);
	}
	if ((v = req_query(r, "format")) == NULL || strcmp(v, "json") == 0)
		p->format = REPORT_JSON;
	else if (strcmp(v, "csv") == 0)
		p->format = REPORT_CSV;
	else if (strcmp(v, "html") == 0)
		p->format = REPORT_HTML;
	else if (strcmp(v, "evaluation") == 0)
		p->format = REPORT_EVALUATION;
	else {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "format"), "format must be json, csv, html or evaluation");
		return (-1);
	}
	if (p->format == REPORT_EVALUATION && p->by != REPORT_BY_INSTRUMENT) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "by"), "the evaluation has one row per instrument: by must "
		    "be instrument");
		return (-1);
	}
	if ((v = req_query(r, "category")) != NULL && *v != '\0')
		p->category = xstrdup(v);
	*zone = xstrdup(YIQID_DEFAULT_ZONE);
	if ((v = req_query(r, "site")) == NULL || *v == '\0')
		return (0);
	st = db_prepare(r->ctx, q_site);
	db_bind_text(st, ":c", v);
	if (db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		api_error(r, 404, "not_found", "no site %s", v);
		return (-1);
	}
	p->site = xstrdup(v);
	free(*zone);
	*zone = db_text(st, 1);
	if (!auth_covers_site(r, sqlite3_column_int64(st, 0))) {
		sqlite3_reset(st);
		api_error(r, 403, "forbidden", "you do not cover site %s", v);
		return (-1);
	}
	sqlite3_reset(st);
	return (0);
}

/* The sites a park manager covers (none listed: all). */
static void
covered_sites(struct req *r, struct report_params *p)
{
	static const char *const q =
	    "SELECT site_id FROM user_sites WHERE user_id = :u";
	sqlite3_stmt	*st;

	if (r->user->role == ROLE_ADMIN)
		return;
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":u", r->user->id);
	while (db_step(st) == SQLITE_ROW) {
		p->sites = xreallocarray(p->sites, p->nsites + 1,
		    sizeof *p->sites);
		p->sites[p->nsites++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	p->restricted = p->nsites > 0;
}

/* Offset tables of every site's zone over the period (libical: loop only). */
static void
build_zones(struct req *r, struct report_params *p)
{
	static const char *const q = "SELECT DISTINCT timezone FROM sites";
	sqlite3_stmt	*st;
	const char	*zone;

	st = db_prepare(r->ctx, q);
	while (db_step(st) == SQLITE_ROW) {
		zone = (const char *)sqlite3_column_text(st, 0);
		if (zone == NULL)
			continue;
		p->zones = xreallocarray(p->zones, p->nzones + 1,
		    sizeof *p->zones);
		tzmap_build(&p->zones[p->nzones++], zone, p->from, p->to);
	}
	sqlite3_reset(st);
}

/* Check the request and fill p; -1 once it has been answered. */
static int
build_params(struct req *r, struct report_params *p)
{
	char	*zone = NULL;
	int	 hf, ht;

	if (check_params(r) == -1 || parse_filters(r, p, &zone) == -1)
		goto fail;
	default_period(r->ctx, zone, &p->from, &p->to);
	if ((hf = q_time(r, "from", &p->from)) == -1 ||
	    (ht = q_time(r, "to", &p->to)) == -1)
		goto fail;
	if (hf && !ht)
		p->to = p->from + 30 * 86400;
	else if (ht && !hf)
		p->from = p->to - 30 * 86400;
	if (p->to <= p->from) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "to"), "to must be after from");
		goto fail;
	}
	if (p->to - p->from > REPORT_DAYS_MAX * 86400L) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "to"), "a report covers at most %d days", REPORT_DAYS_MAX);
		goto fail;
	}
	p->from_text = time_format(p->from, zone);
	p->to_text = time_format(p->to, zone);
	p->baseline_hours = r->ctx->cfg.report_baseline_hours;
	p->saturated_hours = r->ctx->cfg.report_saturated_hours;
	covered_sites(r, p);
	build_zones(r, p);
	free(zone);
	return (0);
fail:
	free(zone);
	return (-1);
}

static void	job_waited(evutil_socket_t, short, void *);

/*
 * Start the job's thread, unless the WAL is long and it has not waited
 * REPORT_WAL_WAIT_MS yet (then look again in REPORT_WAL_POLL_MS).
 * Returns -1 if no thread could be made.
 */
static int
job_begin(struct report_job *job)
{
	static const struct timeval	 poll = { 0, REPORT_WAL_POLL_MS * 1000 };
	struct yiqid			*ctx = job->req->ctx;

	if ((ckpt_wal_long(ctx) || ctx->reports->wal_long) &&
	    job->waited_ms < REPORT_WAL_WAIT_MS) {
		if (job->wait == NULL &&
		    (job->wait = evtimer_new(ctx->base, job_waited, job)) == NULL)
			fatalx("cannot make a report's wait event");
		job->waited_ms += REPORT_WAL_POLL_MS;
		evtimer_add(job->wait, &poll);
		return (0);
	}
	if (job->waited_ms > 0)
		log_debug("report: waited %d ms for the WAL to start again",
		    job->waited_ms);
	if (pthread_create(&job->thread, NULL, job_run, job) != 0) {
		log_warn("report thread");
		return (-1);
	}
	job->started = 1;
	return (0);
}

/* A waiting job looks at the WAL again; answered 503 if it cannot start. */
static void
job_waited(evutil_socket_t fd, short events, void *arg)
{
	struct report_job	*job = arg;

	if (job_begin(job) == 0)
		return;
	job_unlink(job->req->ctx->reports, job);
	api_error(job->req, 503, "unavailable", "cannot start the report; try "
	    "again shortly");
	req_finish(job->req);
	job_free(job);
}

static void
api_reports_utilisation(struct req *r)
{
	struct report_pool	*pool;
	struct report_job	*job;

	if (r->user->role != ROLE_ADMIN && r->user->role != ROLE_PARK_MANAGER) {
		api_error(r, 403, "forbidden", "reports are for park managers "
		    "and admins");
		return;
	}
	job = xcalloc(1, sizeof *job);
	if (build_params(r, &job->p) == -1) {
		job_free(job);
		return;
	}
	if ((pool = pool_get(r->ctx)) == NULL ||
	    pool->njobs >= REPORT_JOBS_MAX) {
		job_free(job);
		api_error(r, 503, "unavailable", "too many reports are being "
		    "made; try again shortly");
		return;
	}
	job->req = r;
	job->database = xstrdup(r->ctx->cfg.database);
	job->busy_timeout = r->ctx->cfg.busy_timeout;
	job->dp = pool->dp;
	job->next = pool->jobs;
	pool->jobs = job;
	pool->njobs++;
	if (job_begin(job) == -1) {
		job_unlink(pool, job);
		job_free(job);
		api_error(r, 503, "unavailable", "cannot start the report; try "
		    "again shortly");
		return;
	}
	r->deferred = 1;
}
