/*
 * config.c: yiqid.conf, read with inih.  The file is INI: an optional
 * [yiqid] section of key = value lines.  A sorted keyword table maps each
 * key to a parser that checks it; errors name the file and line.  No file
 * is needed: config_defaults() gives the SPEC §8 defaults.
 */

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <ini.h>

#include "yiqid.h"

struct config_state {
	struct config	*cfg;
	char		*cause;
	int		 ncache;	/* cache_mb lines read */
	int		 nfeed;		/* feed_cache_mb lines read */
};

/* Finding the line of the nth setting of a key again (config_line()). */
struct config_find {
	const char	*name;
	int		 n;
};

struct config_key {
	const char	*name;
	int		(*set)(struct config *, const char *, const struct config_key *,
			    char **);
	size_t		 off;		/* offsetof the field */
	long		 min, max;	/* for numbers */
};

static int	set_string(struct config *, const char *, const struct config_key *,
		    char **);
static int	set_long(struct config *, const char *, const struct config_key *,
		    char **);
static int	set_int(struct config *, const char *, const struct config_key *,
		    char **);
static int	set_level(struct config *, const char *, const struct config_key *,
		    char **);
static int	set_target(struct config *, const char *, const struct config_key *,
		    char **);
static int	set_sync(struct config *, const char *, const struct config_key *,
		    char **);
static int	set_listen(struct config *, const char *, const struct config_key *,
		    char **);
static int	set_onoff(struct config *, const char *, const struct config_key *,
		    char **);

/* Keep this table sorted by name: it is searched with bsearch. */
static const struct config_key config_keys[] = {
	{ "base_url", set_string, offsetof(struct config, base_url), 0, 0 },
	{ "busy_timeout", set_int, offsetof(struct config, busy_timeout), 0, 60000 },
	{ "cache_mb", set_int, offsetof(struct config, cache_mb), 2, 65536 },
	{ "database", set_string, offsetof(struct config, database), 0, 0 },
	{ "feed_cache_mb", set_int, offsetof(struct config, feed_cache_mb), 0, 4096 },
	{ "group_commit", set_onoff, offsetof(struct config, group_commit), 0, 0 },
	{ "late_cancel_hours", set_int, offsetof(struct config, late_cancel_hours), 0, 24 * 60 },
	{ "listen", set_listen, offsetof(struct config, listen), 0, 0 },
	{ "log_level", set_level, 0, 0, 0 },
	{ "log_target", set_target, 0, 0, 0 },
	{ "max_body", set_long, offsetof(struct config, max_body), 1024, 1L << 30 },
	{ "max_connections", set_int, offsetof(struct config, max_connections), 1, 1000000 },
	{ "max_headers", set_long, offsetof(struct config, max_headers), 1024, 1L << 24 },
	{ "noshow_grace", set_int, offsetof(struct config, noshow_grace), 1, 24 * 60 },
	{ "poll_interval", set_int, offsetof(struct config, poll_interval), 60, 86400 * 7 },
	{ "rate_burst", set_int, offsetof(struct config, rate_burst), 1, 1000000 },
	{ "rate_limit", set_int, offsetof(struct config, rate_limit), 0, 1000000 },
	{ "report_baseline_hours", set_int, offsetof(struct config, report_baseline_hours), 1, 8784 },
	{ "report_saturated_hours", set_int, offsetof(struct config, report_saturated_hours), 1, 8784 },
	{ "suspension_days", set_int, offsetof(struct config, suspension_days), 1, 3650 },
	{ "synchronous", set_sync, 0, 0, 0 },
	{ "timeout", set_int, offsetof(struct config, timeout), 1, 86400 },
	{ "timer_interval", set_int, offsetof(struct config, timer_interval), 1, 3600 },
	{ "user", set_string, offsetof(struct config, user), 0, 0 },
	{ "violation_limit", set_int, offsetof(struct config, violation_limit), 0, 1000 },
	{ "violation_window_days", set_int, offsetof(struct config, violation_window_days), 1, 3650 },
};

/* Fill in the defaults of SPEC §8. */
void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->listen = xstrdup(YIQID_DEFAULT_LISTEN);
	cfg->database = xstrdup(YIQID_DEFAULT_DB);
	cfg->log_level = LOG_INFO;
	cfg->log_syslog = 1;
	cfg->max_body = 1024 * 1024;
	cfg->max_headers = 16 * 1024;
	cfg->timeout = 30;
	cfg->max_connections = 4096;
	cfg->poll_interval = 3600;
	cfg->synchronous = 2;
	cfg->busy_timeout = 100;
	cfg->cache_mb = 64;
	cfg->rate_limit = 1000;
	cfg->rate_burst = 2000;
	cfg->noshow_grace = 30;
	cfg->late_cancel_hours = 24;
	cfg->timer_interval = 60;
	cfg->report_baseline_hours = 1400;
	cfg->report_saturated_hours = 1200;
	cfg->group_commit = 1;
	cfg->violation_limit = 3;
	cfg->violation_window_days = 90;
	cfg->suspension_days = 14;
	cfg->feed_cache_mb = -1;
}

/*
 * Share cache_mb among the caches: a quarter to the feed workers' page
 * caches (split evenly among FEED_WORKERS connections), feed_cache_mb or
 * else three eighths to rendered feed events (a member's and an admin's
 * variant of a 10,000-event site feed and the whole feed: ~20 MiB of the
 * default 64), a sixteenth to kept availability answers (availcache.c),
 * the rest (at least three sixteenths, config_load() checks that
 * feed_cache_mb is at most half) to the loop's page cache.
 */
void
config_budget(const struct config *cfg, struct budget *b)
{
	long	total = (long)cfg->cache_mb * 1024;

	b->worker_kib = total / 4 / FEED_WORKERS;
	if (cfg->feed_cache_mb >= 0)
		b->events_kib = (long)cfg->feed_cache_mb * 1024;
	else
		b->events_kib = total * 3 / 8;
	b->avail_kib = total / 16;
	b->main_kib = total - b->events_kib - b->worker_kib * FEED_WORKERS -
	    b->avail_kib;
}

/* Free what the configuration owns. */
void
config_free(struct config *cfg)
{
	free(cfg->listen);
	free(cfg->database);
	free(cfg->base_url);
	free(cfg->user);
	memset(cfg, 0, sizeof *cfg);
}

/* Split "ADDR:PORT" into an allocated address and a port. */
int
config_parse_listen(const char *s, char **addr, int *port)
{
	const char	*colon;
	char		*end;
	long		 p;

	if ((colon = strrchr(s, ':')) == NULL || colon == s)
		return (-1);
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 || p > 65535)
		return (-1);
	if (s[0] == '[' && colon[-1] == ']')
		*addr = xstrndup(s + 1, colon - s - 2);
	else
		*addr = xstrndup(s, colon - s);
	*port = (int)p;
	return (0);
}

static int
key_cmp(const void *a, const void *b)
{
	return (strcmp(a, ((const struct config_key *)b)->name));
}

static int
set_string(struct config *cfg, const char *v, const struct config_key *k,
    char **cause)
{
	char	**field = (char **)((char *)cfg + k->off);

	if (*v == '\0') {
		xasprintf(cause, "%s must not be empty", k->name);
		return (-1);
	}
	free(*field);
	*field = xstrdup(v);
	return (0);
}

static int
parse_number(const char *v, const struct config_key *k, long *out, char **cause)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || errno != 0)
		goto bad;
	if (*end == 'k' || *end == 'K') {
		n *= 1024;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		n *= 1024 * 1024;
		end++;
	}
	if (*end != '\0' || n < k->min || n > k->max)
		goto bad;
	*out = n;
	return (0);
bad:
	xasprintf(cause, "%s must be a number from %ld to %ld", k->name, k->min,
	    k->max);
	return (-1);
}

static int
set_long(struct config *cfg, const char *v, const struct config_key *k,
    char **cause)
{
	long	n;

	if (parse_number(v, k, &n, cause) == -1)
		return (-1);
	*(long *)((char *)cfg + k->off) = n;
	return (0);
}

static int
set_int(struct config *cfg, const char *v, const struct config_key *k,
    char **cause)
{
	long	n;

	if (parse_number(v, k, &n, cause) == -1)
		return (-1);
	*(int *)((char *)cfg + k->off) = (int)n;
	return (0);
}

static int
set_level(struct config *cfg, const char *v, const struct config_key *k,
    char **cause)
{
	if (strcasecmp(v, "error") == 0)
		cfg->log_level = LOG_ERR;
	else if (strcasecmp(v, "warning") == 0)
		cfg->log_level = LOG_WARNING;
	else if (strcasecmp(v, "info") == 0)
		cfg->log_level = LOG_INFO;
	else if (strcasecmp(v, "debug") == 0)
		cfg->log_level = LOG_DEBUG;
	else {
		*cause = xstrdup("log_level must be error, warning, info or debug");
		return (-1);
	}
	return (0);
}

static int
set_target(struct config *cfg, const char *v, const struct config_key *k,
    char **cause)
{
	if (strcasecmp(v, "stderr") == 0)
		cfg->log_syslog = 0;
	else if (strcasecmp(v, "syslog") == 0)
		cfg->log_syslog = 1;
	else {
		*cause = xstrdup("log_target must be stderr or syslog");
		return (-1);
	}
	return (0);
}

static int
set_sync(struct config *cfg, const char *v, const struct config_key *k,
    char **cause)
{
	if (strcasecmp(v, "full") == 0)
		cfg->synchronous = 2;
	else if (strcasecmp(v, "normal") == 0)
		cfg->synchronous = 1;
	else {
		*cause = xstrdup("synchronous must be full or normal");
		return (-1);
	}
	return (0);
}

static int
set_onoff(struct config *cfg, const char *v, const struct config_key *k,
    char **cause)
{
	int	*p = (int *)((char *)cfg + k->off);

	if (strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0)
		*p = 1;
	else if (strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0)
		*p = 0;
	else {
		xasprintf(cause, "%s must be on or off", k->name);
		return (-1);
	}
	return (0);
}

static int
set_listen(struct config *cfg, const char *v, const struct config_key *k,
    char **cause)
{
	char	*addr;
	int	 port;

	if (config_parse_listen(v, &addr, &port) == -1) {
		*cause = xstrdup("listen must be ADDRESS:PORT");
		return (-1);
	}
	free(addr);
	return (set_string(cfg, v, k, cause));
}

static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct config_state	*st = arg;
	const struct config_key	*k;
	char			*cause = NULL;

	if (st->cause != NULL)
		return (0);
	if (*section != '\0' && strcmp(section, "yiqid") != 0) {
		xasprintf(&st->cause, "unknown section [%s]", section);
		return (0);
	}
	k = bsearch(name, config_keys, sizeof config_keys / sizeof config_keys[0],
	    sizeof config_keys[0], key_cmp);
	if (k == NULL) {
		xasprintf(&st->cause, "unknown key \"%s\"", name);
		return (0);
	}
	if (k->set(st->cfg, value, k, &cause) == -1) {
		st->cause = cause;
		return (0);
	}
	if (strcmp(name, "cache_mb") == 0)
		st->ncache++;
	else if (strcmp(name, "feed_cache_mb") == 0)
		st->nfeed++;
	return (1);
}

static int
find_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct config_find	*cf = arg;

	return (strcmp(name, cf->name) != 0 || --cf->n > 0);
}

/* The line of the nth setting of key name in path: inih reports it. */
static int
config_line(const char *path, const char *name, int n)
{
	struct config_find	 cf = { name, n };

	if (n == 0)
		return (0);
	return (ini_parse(path, find_handler, &cf));
}

/*
 * The parts of the budget must fit in cache_mb: rendered events may take
 * at most half, so that the page cache keeps a quarter.  The error names
 * the later of the two lines (where the pair stopped fitting).
 */
static int
config_check_budget(const struct config *cfg, const struct config_state *st,
    const char *path, char **cause)
{
	int	l1, l2;

	if (cfg->feed_cache_mb <= cfg->cache_mb / 2)
		return (0);
	l1 = config_line(path, "cache_mb", st->ncache);
	l2 = config_line(path, "feed_cache_mb", st->nfeed);
	xasprintf(cause, "%s:%d: feed_cache_mb (%d) must be at most half of "
	    "cache_mb (%d)", path, l1 > l2 ? l1 : l2, cfg->feed_cache_mb,
	    cfg->cache_mb);
	return (-1);
}

/*
 * Read path into cfg (on top of what it holds).  On error returns -1 with
 * "path:line: message" in *cause for the caller to free.
 */
int
config_load(struct config *cfg, const char *path, char **cause)
{
	struct config_state	 st = { cfg, NULL, 0, 0 };
	FILE			*f;
	int			 line;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return (-1);
	}
	line = ini_parse_file(f, config_handler, &st);
	fclose(f);
	if (line == 0 && st.cause == NULL)
		return (config_check_budget(cfg, &st, path, cause));
	if (line < 0)
		xasprintf(cause, "%s: cannot read", path);
	else if (st.cause != NULL)
		xasprintf(cause, "%s:%d: %s", path, line, st.cause);
	else
		xasprintf(cause, "%s:%d: syntax error", path, line);
	free(st.cause);
	return (-1);
}
