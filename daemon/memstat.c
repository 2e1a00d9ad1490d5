/*
 * memstat.c: where the daemon's memory is.  With log_level = debug, a line
 * at the start, at each SIGHUP and every minute: the process's resident
 * size, the loop's SQLite page cache, the rendered feed events (and the
 * whole feeds among them) and glibc's heap (in use, free inside it, in its
 * own mappings).  For an operator who wonders what grows, and for
 * bench/soak.sh, whose growth figure alone does not say what grew.
 */

#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

#include "yiqid.h"

#define MEMSTAT_S	60

/* The resident set in KiB, from /proc/self/statm; -1 if unreadable. */
static long
rss_kib(void)
{
	FILE	*f;
	long	 size, rss = -1;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return (-1);
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return (rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024));
}

/* Say where the memory is, if debug lines are written. */
void
memstat_log(struct yiqid *ctx)
{
	struct mallinfo2 mi;
	size_t		 feeds = 0, whole = 0, hits, misses;
	int		 cache = 0, hi;

	if (!log_debugging())
		return;
	sqlite3_db_status(ctx->db, SQLITE_DBSTATUS_CACHE_USED, &cache, &hi, 0);
	if (ctx->feeds != NULL) {
		feedcache_stats(ctx->feeds, &feeds, &hits, &misses);
		whole = feedcache_feeds_used(ctx->feeds);
	}
	mi = mallinfo2();
	log_debug("memory: rss %ld KiB; page cache %d KiB, feed events %zu KiB "
	    "(whole feeds %zu KiB); heap in use %zu KiB, free in it %zu KiB, "
	    "mapped %zu KiB, %zu KiB from the system", rss_kib(), cache / 1024,
	    feeds / 1024, whole / 1024, mi.uordblks / 1024, mi.fordblks / 1024,
	    mi.hblkhd / 1024, mi.arena / 1024);
}

static void
memstat_tick(evutil_socket_t fd, short what, void *arg)
{
	memstat_log(arg);
}

/* Say it now and arm the minute's timer (ctx->ev_memstat). */
void
memstat_start(struct yiqid *ctx)
{
	memstat_log(ctx);
	ctx->ev_memstat = loop_every(ctx, MEMSTAT_S, memstat_tick, ctx);
}

void
memstat_stop(struct yiqid *ctx)
{
	if (ctx->ev_memstat != NULL) {
		event_free(ctx->ev_memstat);
		ctx->ev_memstat = NULL;
	}
}
