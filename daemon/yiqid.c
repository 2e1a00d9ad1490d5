/*
 * yiqid.c: main() of the yiqi daemon.  Parses the command line (SPEC §8),
 * reads the configuration, and then either initialises a database
 * ("yiqid init"), or serves: bind, drop privileges if configured, open the
 * database, load demo data with --demo, and run the one libevent loop.
 * Signals arrive as events: TERM and INT stop (stop accepting, finish the
 * loop's work, close the database), HUP re-reads the configuration.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <libical/ical.h>
#include <sodium.h>

#include "yiqid.h"

#define FLUSH_MAX_S	1	/* then write the 503s of what was cut short */
#define MALLOC_MMAP_MIN		(256 * 1024)	/* malloc_setup() */

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static __attribute__((noreturn)) void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: yiqid [-f] [-c FILE] [-d DB] [-l ADDR:PORT]   serve\n"
	    "       yiqid init [-c FILE] [-d DB]                  create the "
	    "database and the first admin; print its token\n"
	    "       yiqid backup [-c FILE] [-d DB] FILE           copy the "
	    "database consistently while it serves\n"
	    "       yiqid --demo [-d DB] [-l ADDR:PORT]           serve demo "
	    "data and print demo tokens\n"
	    "       yiqid -h | --help | -V | --version\n"
	    "\n"
	    "  -c FILE       configuration file (default " SYSCONFDIR
	    "/yiqid.conf if it exists)\n"
	    "  -d DB         SQLite database (default " YIQID_DEFAULT_DB ")\n"
	    "  -l ADDR:PORT  listen address (default " YIQID_DEFAULT_LISTEN
	    "; port 0 picks a free port)\n"
	    "  -f            stay in the foreground and log to stderr\n");
	exit(status);
}

/*
 * After SIGTERM: leave the loop once nothing is left to answer or being
 * written (http_draining()), or when DRAIN_MAX_S have passed.
 */
static void
on_drain(evutil_socket_t fd, short events, void *arg)
{
	struct yiqid	*ctx = arg;
	struct timeval	 now;

	gettimeofday(&now, NULL);
	if (!http_draining(ctx) || timercmp(&now, &ctx->drain_until, >)) {
		if (http_draining(ctx))
			log_warnx("stopping with answers unfinished after %d s",
			    DRAIN_MAX_S);
		event_base_loopexit(ctx->base, NULL);
	}
}

/*
 * SIGTERM or SIGINT: take no new connections, answer new requests 503,
 * and let the loop finish what it answers and writes (a 4 MB feed on
 * its way out is completed, not cut) before stopping.
 */
static void
on_stop(evutil_socket_t sig, short events, void *arg)
{
	struct yiqid	*ctx = arg;
	struct timeval	 tick = { 0, 20000 }, max = { DRAIN_MAX_S, 0 };

	if (ctx->stopping)
		return;
	log_info("signal %d: stopping", (int)sig);
	ctx->stopping = 1;
	http_stop(ctx);
	gettimeofday(&ctx->drain_until, NULL);
	timeradd(&ctx->drain_until, &max, &ctx->drain_until);
	ctx->ev_drain = event_new(ctx->base, -1, EV_PERSIST, on_drain, ctx);
	if (ctx->ev_drain == NULL || event_add(ctx->ev_drain, &tick) == -1)
		event_base_loopexit(ctx->base, NULL);
}

/*
 * glibc raises its mmap threshold to the size of each large block freed,
 * up to 32 MiB, after which a feed's or a report's buffers of megabytes
 * come from the heap and, freed, stay there between the caches' blocks.
 * A fixed threshold keeps every block of MALLOC_MMAP_MIN or more in its
 * own mapping, given back to the system when freed (issue 6 target 6).
 */
static void
malloc_setup(void)
{
	if (mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_MIN) == 0)
		log_debug("mallopt: the mmap threshold stays glibc's");
}

/* Say how cache_mb is shared (config_budget()). */
static void
budget_log(const struct config *cfg)
{
	struct budget	b;

	config_budget(cfg, &b);
	log_info("cache_mb %d: page cache %ld KiB, feed events %ld KiB, "
	    "%d feed workers %ld KiB each, availability answers %ld KiB",
	    cfg->cache_mb, b.main_kib, b.events_kib, FEED_WORKERS, b.worker_kib,
	    b.avail_kib);
}

/*
 * A new cache_mb: the loop's page cache is resized now (SQLite drops what
 * is over at once); the feed workers and the rendered events take their
 * parts at the next feed (feedjob_start(), feed_cache_setup()).
 */
static void
cache_reload(struct yiqid *ctx, int cache_mb)
{
	ctx->cfg.cache_mb = cache_mb;
	if (db_cache_size(ctx) != SQLITE_OK)
		log_warnx("SIGHUP: cannot resize the page cache");
	budget_log(&ctx->cfg);
}

static void
on_hup(evutil_socket_t sig, short events, void *arg)
{
	struct yiqid	*ctx = arg;
	struct config	 cfg;
	char		*cause = NULL;

	if (ctx->config_path == NULL) {
		log_info("SIGHUP: no configuration file to re-read");
		return;
	}
	config_defaults(&cfg);
	if (config_load(&cfg, ctx->config_path, &cause) == -1) {
		log_warnx("SIGHUP: %s; keeping the running configuration", cause);
		free(cause);
		config_free(&cfg);
		return;
	}
	/* What can change live: log level, limits, timeouts. */
	log_setlevel(cfg.log_level);
	ctx->cfg.log_level = cfg.log_level;
	ctx->cfg.max_body = cfg.max_body;
	ctx->cfg.max_headers = cfg.max_headers;
	ctx->cfg.timeout = cfg.timeout;
	ctx->cfg.poll_interval = cfg.poll_interval;
	ctx->cfg.rate_limit = cfg.rate_limit;
	ctx->cfg.rate_burst = cfg.rate_burst;
	ctx->cfg.noshow_grace = cfg.noshow_grace;
	ctx->cfg.late_cancel_hours = cfg.late_cancel_hours;
	ctx->cfg.report_baseline_hours = cfg.report_baseline_hours;
	ctx->cfg.report_saturated_hours = cfg.report_saturated_hours;
	ctx->cfg.feed_cache_mb = cfg.feed_cache_mb;
	cache_reload(ctx, cfg.cache_mb);
	evhttp_set_max_body_size(ctx->http, cfg.max_body);
	evhttp_set_max_headers_size(ctx->http, cfg.max_headers);
	evhttp_set_timeout(ctx->http, cfg.timeout);
	free(ctx->cfg.base_url);
	ctx->cfg.base_url = cfg.base_url != NULL ? xstrdup(cfg.base_url) : NULL;
	config_free(&cfg);
	log_info("SIGHUP: configuration re-read from %s", ctx->config_path);
	memstat_log(ctx);
}

/* Become the configured user (only when started as root). */
static void
drop_privileges(const char *user)
{
	struct passwd	*pw;

	if (user == NULL || geteuid() != 0)
		return;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s", user);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", user);
	log_info("running as %s", user);
}

/* "yiqid init": create the database, an operator institute and an admin. */
static int
cmd_init(struct yiqid *ctx)
{
	static const char *const q_any =
	    "SELECT 1 FROM users WHERE role = 'admin'";
	static const char *const q_inst =
	    "INSERT INTO institutes (code, name, district_id) VALUES "
	    "('OPERATOR', 'Platform operator', (SELECT id FROM districts "
	    "WHERE code = 'hechuan'))";
	static const char *const q_user =
	    "INSERT INTO users (login, name, institute_id, role, created) "
	    "VALUES ('admin', 'Administrator', :inst, 'admin', :now)";
	static const char *const q_tok =
	    "INSERT INTO tokens (user_id, kind, hash, label, created) VALUES "
	    "(:u, 'api', :h, 'init', :now)";
	sqlite3_stmt	*st;
	unsigned char	 hash[32];
	char		*cause = NULL, *token;
	int64_t		 inst, uid;

	if (db_open(ctx, ctx->cfg.database, &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
		return (1);
	}
	st = db_prepare(ctx, q_any);
	if (db_step(st) == SQLITE_ROW) {
		sqlite3_reset(st);
		log_warnx("%s already has an admin; create tokens with the API "
		    "(POST /api/v1/users/admin/tokens)", ctx->cfg.database);
		db_close(ctx);
		return (1);
	}
	if (db_begin(ctx) != SQLITE_OK)
		goto fail;
	if ((inst = db_lookup_id(ctx, "institutes", "OPERATOR")) == 0) {
		st = db_prepare(ctx, q_inst);
		if (db_step(st) != SQLITE_DONE)
			goto fail;
		inst = sqlite3_last_insert_rowid(ctx->db);
	}
	st = db_prepare(ctx, q_user);
	db_bind_int(st, ":inst", inst);
	db_bind_int(st, ":now", db_now(ctx));
	if (db_step(st) != SQLITE_DONE)
		goto fail;
	uid = sqlite3_last_insert_rowid(ctx->db);
	token = token_new();
	token_hash(token, hash);
	st = db_prepare(ctx, q_tok);
	db_bind_int(st, ":u", uid);
	db_bind_blob(st, ":h", hash, sizeof hash);
	db_bind_int(st, ":now", db_now(ctx));
	if (db_step(st) != SQLITE_DONE ||
	    db_audit(ctx, uid, "init", "user", "admin", NULL) != SQLITE_OK ||
	    db_commit(ctx) != SQLITE_OK) {
		free(token);
		goto fail;
	}
	printf("%s\n", token);
	fflush(stdout);
	free(token);
	log_info("initialised %s: user admin (institute OPERATOR)",
	    ctx->cfg.database);
	db_close(ctx);
	return (0);
fail:
	log_warnx("init: %s", sqlite3_errmsg(ctx->db));
	db_rollback(ctx);
	db_close(ctx);
	return (1);
}

/* While the last answers are written: stop when done or out of time. */
static void
on_flush(evutil_socket_t fd, short events, void *arg)
{
	struct yiqid	*ctx = arg;
	struct timeval	 now;

	gettimeofday(&now, NULL);
	if (ctx->sending == 0 || timercmp(&now, &ctx->drain_until, >))
		event_base_loopexit(ctx->base, NULL);
}

/*
 * Reports, feeds and requests in slices still unanswered when the drain
 * ran out were just answered 503 (reports_stop(), feedjobs_stop(),
 * slices_stop()): run the loop a little longer, at most FLUSH_MAX_S, so
 * that those answers reach their clients before evhttp_free() closes the
 * connections.
 */
static void
flush_answers(struct yiqid *ctx)
{
	struct timeval	 tick = { 0, 20000 }, max = { FLUSH_MAX_S, 0 };
	struct event	*ev;

	if (ctx->base == NULL || ctx->sending == 0)
		return;
	gettimeofday(&ctx->drain_until, NULL);
	timeradd(&ctx->drain_until, &max, &ctx->drain_until);
	if ((ev = event_new(ctx->base, -1, EV_PERSIST, on_flush, ctx)) == NULL)
		return;
	if (event_add(ev, &tick) == 0)
		event_base_dispatch(ctx->base);
	event_free(ev);
}

static void
serve_cleanup(struct yiqid *ctx)
{
	db_group_stop(ctx);	/* commit and answer what is held */
	workflow_stop(ctx);
	memstat_stop(ctx);
	if (ctx->ev_sigterm != NULL)
		event_free(ctx->ev_sigterm);
	if (ctx->ev_sigint != NULL)
		event_free(ctx->ev_sigint);
	if (ctx->ev_sighup != NULL)
		event_free(ctx->ev_sighup);
	if (ctx->ev_drain != NULL)
		event_free(ctx->ev_drain);
	calpoll_stop(ctx);
	reports_stop(ctx);
	feedjobs_stop(ctx);
	slices_stop(ctx);
	flush_answers(ctx);
	if (ctx->http != NULL)
		evhttp_free(ctx->http);
	ckpt_stop(ctx);
	feedcache_free(ctx->feeds);
	ctx->feeds = NULL;
	avcache_free(ctx);
	db_close(ctx);
	if (ctx->base != NULL)
		event_base_free(ctx->base);
}

/* Serve until a signal stops us. */
static int
cmd_serve(struct yiqid *ctx, int demo)
{
	char	*cause = NULL;
	int	 rc = 0;

	malloc_setup();
	if ((ctx->base = event_base_new()) == NULL ||
	    event_base_priority_init(ctx->base, DB_PRIORITIES) == -1)
		fatalx("event_base_new");
	/* Signals first: a SIGTERM during start-up waits for the loop. */
	signal(SIGPIPE, SIG_IGN);
	ctx->ev_sigterm = evsignal_new(ctx->base, SIGTERM, on_stop, ctx);
	ctx->ev_sigint = evsignal_new(ctx->base, SIGINT, on_stop, ctx);
	ctx->ev_sighup = evsignal_new(ctx->base, SIGHUP, on_hup, ctx);
	if (ctx->ev_sigterm == NULL || ctx->ev_sigint == NULL ||
	    ctx->ev_sighup == NULL || evsignal_add(ctx->ev_sigterm, NULL) ||
	    evsignal_add(ctx->ev_sigint, NULL) || evsignal_add(ctx->ev_sighup,
	    NULL))
		fatalx("cannot install signal events");
	if (http_start(ctx, &cause) == -1)
		goto fail;
	drop_privileges(ctx->cfg.user);
	if (db_open(ctx, ctx->cfg.database, &cause) == -1)
		goto fail;
	if (demo && demo_load(ctx, &cause) == -1)
		goto fail;
	db_group_start(ctx);
	if (ckpt_start(ctx, &cause) == -1)
		goto fail;
	if (calpoll_start(ctx, &cause) == -1)
		goto fail;
	workflow_start(ctx);
	memstat_start(ctx);

	budget_log(&ctx->cfg);
	log_info("yiqid %s serving %s", YIQID_VERSION, ctx->cfg.database);
	if (event_base_dispatch(ctx->base) == -1) {
		log_warnx("event loop failed");
		rc = 1;
	}
	log_info("stopped");
	serve_cleanup(ctx);
	return (rc);
fail:
	log_warnx("%s", cause);
	free(cause);
	serve_cleanup(ctx);
	return (1);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "demo", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct yiqid	 ctx;
	const char	*db = NULL, *listen = NULL;
	char		*cause = NULL;
	const char	*backup = NULL;
	int		 ch, foreground = 0, demo = 0, init = 0, rc;

	memset(&ctx, 0, sizeof ctx);
	umask(077);	/* the database holds other people's bookings */
	/*
	 * Nothing reads SQLite's memory statistics, and keeping them takes a
	 * global mutex around every allocation SQLite makes.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (argc > 1 && strcmp(argv[1], "init") == 0) {
		init = 1;
		argv++;
		argc--;
	} else if (argc > 1 && strcmp(argv[1], "backup") == 0) {
		backup = "";
		argv++;
		argc--;
	}
	while ((ch = getopt_long(argc, argv, "c:d:fhl:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'D':
			demo = 1;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("yiqid %s\n", YIQID_VERSION);
			return (0);
		default:
			usage(2);
		}
	}
	if (backup != NULL && optind == argc - 1 && !demo && listen == NULL)
		backup = argv[optind++];
	if (optind != argc || (init && (demo || listen != NULL)) ||
	    (backup != NULL && *backup == '\0'))
		usage(2);

	config_defaults(&ctx.cfg);
	if (ctx.config_path == NULL &&
	    access(SYSCONFDIR "/yiqid.conf", R_OK) == 0)
		ctx.config_path = SYSCONFDIR "/yiqid.conf";
	if (ctx.config_path != NULL &&
	    config_load(&ctx.cfg, ctx.config_path, &cause) == -1) {
		fprintf(stderr, "yiqid: %s\n", cause);
		free(cause);
		config_free(&ctx.cfg);
		return (1);
	}
	if (db != NULL) {
		free(ctx.cfg.database);
		ctx.cfg.database = xstrdup(db);
	}
	if (listen != NULL) {
		char	*addr;
		int	 port;

		if (config_parse_listen(listen, &addr, &port) == -1) {
			fprintf(stderr, "yiqid: -l wants ADDRESS:PORT, e.g. "
			    "127.0.0.1:8470\n");
			config_free(&ctx.cfg);
			return (2);
		}
		free(addr);
		free(ctx.cfg.listen);
		ctx.cfg.listen = xstrdup(listen);
	}
	if (demo || init || backup != NULL)
		foreground = 1;
	log_init(!foreground && ctx.cfg.log_syslog, ctx.cfg.log_level);
	if (sodium_init() == -1)
		fatalx("libsodium cannot start");

	if (init)
		rc = cmd_init(&ctx);
	else if (backup != NULL) {
		if ((rc = backup_run(ctx.cfg.database, backup, &cause)) == -1) {
			log_warnx("backup: %s", cause);
			free(cause);
			rc = 1;
		} else
			log_info("backup of %s written to %s", ctx.cfg.database,
			    backup);
	} else {
		if (!foreground && daemon(1, ctx.cfg.log_syslog ? 0 : 1) == -1)
			fatal("daemon");
		rc = cmd_serve(&ctx, demo);
	}
	config_free(&ctx.cfg);
	icaltimezone_free_builtin_timezones();
	libevent_global_shutdown();
	return (rc);
}
