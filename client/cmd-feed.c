/*
 * cmd-feed.c: "yiqi feed-url", the calendar subscription URL of an
 * instrument, site, institute or of oneself, and "yiqi export", the same
 * feed written to a file.
 *
 * Feeds open with the user's read-only feed token, not the API token.  The
 * server keeps only a hash of it, so the client keeps the token it was
 * given in feed-tokens (beside the config file, mode 0600, keyed by server
 * and login) and reuses it: asking the server again would rotate the token
 * and break every calendar already subscribed.  A token the server no
 * longer takes (revoked or rotated elsewhere) is replaced once, with a
 * note on stderr; --rotate replaces it on purpose.  The cached token is
 * checked with a conditional GET (If-None-Match: *), which the server
 * answers 304 without building the feed.
 */

#include "yiqi.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FEED_CACHE	"feed-tokens"

enum {
	OPT_FEED_FREEBUSY = 256,
	OPT_FEED_FROM,
	OPT_FEED_INSTITUTE,
	OPT_FEED_INSTRUMENT,
	OPT_FEED_MINE,
	OPT_FEED_ROTATE,
	OPT_FEED_SITE,
	OPT_FEED_TO,
	OPT_FEED_USER,
	OPT_FEED_WEBCAL
};

static const struct option cmd_feed_url_options[] = {
	{ "freebusy", no_argument, NULL, OPT_FEED_FREEBUSY },
	{ "institute", required_argument, NULL, OPT_FEED_INSTITUTE },
	{ "instrument", required_argument, NULL, OPT_FEED_INSTRUMENT },
	{ "mine", no_argument, NULL, OPT_FEED_MINE },
	{ "rotate", no_argument, NULL, OPT_FEED_ROTATE },
	{ "site", required_argument, NULL, OPT_FEED_SITE },
	{ "user", required_argument, NULL, OPT_FEED_USER },
	{ "webcal", no_argument, NULL, OPT_FEED_WEBCAL },
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_export_options[] = {
	{ "freebusy", no_argument, NULL, OPT_FEED_FREEBUSY },
	{ "from", required_argument, NULL, OPT_FEED_FROM },
	{ "institute", required_argument, NULL, OPT_FEED_INSTITUTE },
	{ "instrument", required_argument, NULL, OPT_FEED_INSTRUMENT },
	{ "mine", no_argument, NULL, OPT_FEED_MINE },
	{ "site", required_argument, NULL, OPT_FEED_SITE },
	{ "to", required_argument, NULL, OPT_FEED_TO },
	{ "user", required_argument, NULL, OPT_FEED_USER },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_feed_url_exec(struct client *, const struct cmd_entry *,
		    int, char **);
static int	cmd_export_exec(struct client *, const struct cmd_entry *,
		    int, char **);

const struct cmd_entry cmd_feed_url_entry = {
	.name = "feed-url",
	.about = "print a calendar subscription URL (iCalendar feed)",
	.usage = "(--instrument I | --site S | --institute N | --mine | "
	    "--user LOGIN)\n            [--freebusy] [--webcal] [--rotate]",
	.help =
	    "  --instrument I    instrument I's bookings and blackouts\n"
	    "  --site S          every booking and blackout at site S\n"
	    "  --institute N     the bookings of institute N (yours)\n"
	    "  --mine            your own bookings\n"
	    "  --user LOGIN      one user's bookings (admins)\n"
	    "  --freebusy        with --instrument: free/busy only\n"
	    "  --webcal          print a webcal:// URL\n"
	    "  --rotate          make a new feed token; URLs with the old "
	    "one stop\n"
	    "                    working\n"
	    "\n"
	    "The URL holds your read-only feed token: treat it as a "
	    "password.\n",
	.options = cmd_feed_url_options,
	.exec = cmd_feed_url_exec
};

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.about = "write bookings as an iCalendar (.ics) file",
	.usage = "(--instrument I | --site S | --institute N | --mine | "
	    "--user LOGIN)\n            [--freebusy] [--from T] [--to T] "
	    "[-o FILE]",
	.help =
	    "  --instrument I    instrument I's bookings and blackouts\n"
	    "  --site S          every booking and blackout at site S\n"
	    "  --institute N     the bookings of institute N (yours)\n"
	    "  --mine            your own bookings\n"
	    "  --user LOGIN      one user's bookings (admins)\n"
	    "  --freebusy        with --instrument: free/busy only\n"
	    "  --from T          from T (default 30 days back)\n"
	    "  --to T            to T (default a year ahead)\n"
	    "  -o FILE           write to FILE instead of standard output\n",
	.shortopts = "o:",
	.options = cmd_export_options,
	.exec = cmd_export_exec
};

/* What one feed command was asked for. */
struct feed_args {
	struct zone_ref	 zr;
	const char	*institute;
	const char	*user;
	int		 mine;
	int		 freebusy;
	int		 webcal;
	int		 rotate;
	const char	*from;
	const char	*to;
	const char	*out;
};

/* Take the option ch into *a; returns 0, or -1 if it is not ours. */
static int
feed_option(struct feed_args *a, int ch)
{
	switch (ch) {
	case OPT_FEED_FREEBUSY:
		a->freebusy = 1;
		break;
	case OPT_FEED_FROM:
		a->from = optarg;
		break;
	case OPT_FEED_INSTITUTE:
		a->institute = optarg;
		break;
	case OPT_FEED_INSTRUMENT:
		a->zr.instrument = optarg;
		break;
	case OPT_FEED_MINE:
		a->mine = 1;
		break;
	case OPT_FEED_ROTATE:
		a->rotate = 1;
		break;
	case OPT_FEED_SITE:
		a->zr.site = optarg;
		break;
	case OPT_FEED_TO:
		a->to = optarg;
		break;
	case OPT_FEED_USER:
		a->user = optarg;
		break;
	case OPT_FEED_WEBCAL:
		a->webcal = 1;
		break;
	case 'o':
		a->out = optarg;
		break;
	default:
		return (-1);
	}
	return (0);
}

/* Parse the options; returns 0 or the usage exit status. */
static int
feed_parse(struct client *c, const struct cmd_entry *e, int argc,
    char **argv, struct feed_args *a)
{
	int	ch, n;

	memset(a, 0, sizeof *a);
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		if (feed_option(a, ch) == -1)
			return (cmd_usage(e, NULL));
	}
	if (optind != argc)
		return (cmd_usage(e, "%s takes no arguments", e->name));
	n = (a->zr.instrument != NULL) + (a->zr.site != NULL) +
	    (a->institute != NULL) + a->mine + (a->user != NULL);
	if (n != 1)
		return (cmd_usage(e, "give one of --instrument, --site, "
		    "--institute, --mine or --user"));
	if (a->freebusy && a->zr.instrument == NULL)
		return (cmd_usage(e, "--freebusy goes with --instrument"));
	if ((a->from != NULL && cmd_time_check(c, "--from", a->from) != 0) ||
	    (a->to != NULL && cmd_time_check(c, "--to", a->to) != 0))
		return (YIQI_EXIT_USAGE);
	return (0);
}

/* The path of the cache file; NULL with *cause on failure. */
static char *
feed_cache_path(char **cause)
{
	char	*config, *dir, *path;

	if ((config = config_path(cause)) == NULL)
		return (NULL);
	dir = dirname(config);
	xasprintf(&path, "%s/" FEED_CACHE, dir);
	free(config);
	return (path);
}

/* Read the cache (a JSON object); an empty one if there is none. */
static json_t *
feed_cache_read(const char *path)
{
	json_error_t	 error;
	json_t		*obj;

	obj = json_load_file(path, 0, &error);
	if (!json_is_object(obj)) {
		json_decref(obj);
		obj = json_object();
	}
	return (obj);
}

/* Create the directory of path and its parent, mode 0700, if missing. */
static int
feed_cache_mkdir(const char *path, char **cause)
{
	char	*dir, *parent;
	int	 rc = 0;

	dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	parent = xstrdup(dir);
	if (strrchr(parent, '/') != NULL && strrchr(parent, '/') != parent) {
		*strrchr(parent, '/') = '\0';
		if (mkdir(parent, 0700) != 0 && errno != EEXIST)
			rc = -1;
	}
	if (rc == 0 && mkdir(dir, 0700) != 0 && errno != EEXIST)
		rc = -1;
	if (rc != 0)
		xasprintf(cause, "cannot create %s: %s", dir, strerror(errno));
	free(parent);
	free(dir);
	return (rc);
}

/* Write the cache atomically, mode 0600; returns 0 or -1 with *cause. */
static int
feed_cache_write(const char *path, json_t *obj, char **cause)
{
	char	*tmp, *text;
	size_t	 len, off = 0;
	ssize_t	 n;
	int	 fd;

	if (feed_cache_mkdir(path, cause) != 0)
		return (-1);
	if ((text = json_dumps(obj, JSON_INDENT(2))) == NULL) {
		xasprintf(cause, "cannot encode %s", path);
		return (-1);
	}
	xasprintf(&tmp, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1) {
		xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
		goto fail;
	}
	len = strlen(text);
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += n;
	}
	if (off != len || fchmod(fd, 0600) != 0 || fsync(fd) != 0 ||
	    close(fd) != 0 || rename(tmp, path) != 0) {
		xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		goto fail;
	}
	free(tmp);
	free(text);
	return (0);
fail:
	free(tmp);
	free(text);
	return (-1);
}

/*
 * Get the feed token of login: the cached one, or (fresh, or none cached)
 * a new one from the server, which is cached.  *base is the server's
 * public base for feed URLs.  Returns 0 or an exit status after saying why.
 */
static int
feed_token(struct client *c, const char *login, int fresh, char **token,
    char **base)
{
	json_t		*cache, *entry, *resp;
	char		*path, *key, *cause = NULL, *esc, *api;
	const char	*t, *b;
	int		 rc;

	*token = *base = NULL;
	if ((path = feed_cache_path(&cause)) == NULL) {
		fprintf(stderr, "yiqi: %s.\n", cause);
		free(cause);
		return (YIQI_EXIT_FAIL);
	}
	cache = feed_cache_read(path);
	xasprintf(&key, "%s %s", c->server, login);
	entry = json_object_get(cache, key);
	t = json_string_value(json_object_get(entry, "token"));
	b = json_string_value(json_object_get(entry, "base"));
	if (!fresh && t != NULL && b != NULL) {
		*token = xstrdup(t);
		*base = xstrdup(b);
		rc = 0;
		goto out;
	}
	esc = http_escape(login);
	xasprintf(&api, "/users/%s/feed-token", esc);
	free(esc);
	rc = api_call(c, "POST", api, NULL, &resp);
	free(api);
	if (rc != 0)
		goto out;
	t = json_string_value(json_object_get(resp, "token"));
	b = json_string_value(json_object_get(resp, "base"));
	if (t == NULL || b == NULL) {
		fprintf(stderr, "yiqi: the server sent no feed token; check "
		    "that --server points at yiqid.\n");
		json_decref(resp);
		rc = YIQI_EXIT_FAIL;
		goto out;
	}
	*token = xstrdup(t);
	*base = xstrdup(b);
	if (json_is_true(json_object_get(resp, "rotated")))
		fprintf(stderr, "yiqi: made a new feed token for %s; calendar "
		    "subscriptions made with the old one stop working.\n",
		    login);
	json_decref(resp);
	json_object_set_new(cache, key, json_pack("{s:s,s:s}", "token",
	    *token, "base", *base));
	if (feed_cache_write(path, cache, &cause) != 0) {
		fprintf(stderr, "yiqi: %s; the token works but is not kept, "
		    "so the next call makes another.\n", cause);
		free(cause);
	}
out:
	json_decref(cache);
	free(key);
	free(path);
	return (rc);
}

/* The feed's path (/feeds/...ics) for the arguments; login is the caller. */
static char *
feed_path(struct feed_args *a, const char *login)
{
	const char	*kind, *code;
	char		*esc, *path;

	if (a->zr.instrument != NULL) {
		kind = "instruments";
		code = a->zr.instrument;
	} else if (a->zr.site != NULL) {
		kind = "sites";
		code = a->zr.site;
	} else if (a->institute != NULL) {
		kind = "institutes";
		code = a->institute;
	} else {
		kind = "users";
		code = a->user != NULL ? a->user : login;
	}
	esc = http_escape(code);
	xasprintf(&path, "/feeds/%s/%s%s", kind, esc, a->freebusy ?
	    "/freebusy.ics" : ".ics");
	free(esc);
	return (path);
}

/* Say why a feed request failed, from its JSON error body. */
static int
feed_error(long status, const char *body)
{
	json_t		*j;
	const char	*msg = NULL;

	j = json_loads(body, 0, NULL);
	msg = json_string_value(json_object_get(json_object_get(j, "error"),
	    "message"));
	fprintf(stderr, "yiqi: %s (HTTP %ld)%s.\n", msg != NULL ? msg :
	    "the feed request failed", status, status == 404 ? "; check the "
	    "code (yiqi instruments, yiqi sites, yiqi institutes)" : "");
	json_decref(j);
	return (api_exit_status(status));
}

/*
 * Fetch the feed with a feed token (replacing a stale cached one once),
 * with header (or NULL).  Returns 0 with the body, the token, the base and
 * the feed's path (all the caller's), or an exit status after saying why.
 */
static int
feed_get(struct client *c, struct feed_args *a, const char *query,
    const char *header, char **body, size_t *len, char **token, char **base,
    char **pathp)
{
	json_t		*me;
	const char	*login;
	char		*url, *cause, *path;
	long		 status;
	int		 rc, tries;

	*body = *token = *base = *pathp = NULL;
	if ((rc = api_call(c, "GET", "/me", NULL, &me)) != 0)
		return (rc);
	login = json_string_value(json_object_get(me, "login"));
	if (login == NULL) {
		json_decref(me);
		fprintf(stderr, "yiqi: the server did not say who you are.\n");
		return (YIQI_EXIT_FAIL);
	}
	path = feed_path(a, login);
	for (tries = 0; tries < 2; tries++) {
		free(*token);
		free(*base);
		free(*body);
		*body = NULL;
		if ((rc = feed_token(c, login, a->rotate || tries > 0, token,
		    base)) != 0)
			break;
		xasprintf(&url, "%s%s?token=%s%s", c->server, path, *token,
		    query != NULL ? query : "");
		rc = http_fetch(url, header, body, len, &status, &cause);
		explicit_bzero(url, strlen(url));
		free(url);
		if (rc != 0) {
			fprintf(stderr, "yiqi: %s.\n", cause);
			free(cause);
			break;
		}
		if (status == 401 && tries == 0 && !a->rotate)
			continue;	/* the cached token is stale */
		if (status != 200 && status != 304)
			rc = feed_error(status, *body);
		break;
	}
	json_decref(me);
	if (rc != 0) {
		free(*token);
		free(*base);
		free(*body);
		free(path);
		*body = *token = *base = NULL;
		return (rc);
	}
	*pathp = path;
	return (0);
}

static int
cmd_feed_url_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct feed_args	 a;
	char			*body, *token, *base, *url, *path;
	const char		*rest;
	size_t			 len;
	int			 rc;
	json_t			*j;

	if ((rc = feed_parse(c, e, argc, argv, &a)) != 0)
		return (rc);
	rc = feed_get(c, &a, NULL, "If-None-Match: *", &body, &len, &token,
	    &base, &path);
	if (rc != 0)
		return (rc);
	rest = base;
	if (a.webcal) {
		if (strncmp(base, "https://", 8) == 0)
			rest = base + 8;
		else if (strncmp(base, "http://", 7) == 0)
			rest = base + 7;
	}
	xasprintf(&url, "%s%s%s?token=%s", a.webcal ? "webcal://" : "", rest,
	    path, token);
	if (c->json) {
		j = json_pack("{s:s}", "url", url);
		output_json(j);
		json_decref(j);
	} else
		printf("%s\n", url);
	free(url);
	free(path);
	free(body);
	free(token);
	free(base);
	zone_ref_free(&a.zr);
	return (YIQI_EXIT_OK);
}

/* Append "&name=TIME" in the API's form to *query. */
static int
feed_time(struct client *c, struct zone_ref *zr, const char *opt,
    const char *arg, const char *name, char **query)
{
	time_t	 when;
	char	*text, *esc, *q;
	int	 rc;

	if (arg == NULL)
		return (0);
	if ((rc = cmd_time(c, zr, opt, arg, &when)) != 0)
		return (rc);
	text = cmd_api_time(zr, when);
	esc = http_escape(text);
	xasprintf(&q, "%s&%s=%s", *query, name, esc);
	free(esc);
	free(text);
	free(*query);
	*query = q;
	return (0);
}

static int
cmd_export_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct feed_args	 a;
	char			*body = NULL, *token = NULL, *base = NULL;
	char			*query, *path = NULL;
	size_t			 len;
	FILE			*f;
	int			 rc;

	if ((rc = feed_parse(c, e, argc, argv, &a)) != 0)
		return (rc);
	query = xstrdup("");
	if ((rc = feed_time(c, &a.zr, "--from", a.from, "from", &query)) != 0 ||
	    (rc = feed_time(c, &a.zr, "--to", a.to, "to", &query)) != 0)
		goto out;
	if ((rc = feed_get(c, &a, query, NULL, &body, &len, &token, &base,
	    &path)) != 0)
		goto out;
	if (a.out == NULL || strcmp(a.out, "-") == 0) {
		if (fwrite(body, 1, len, stdout) != len || fflush(stdout) != 0) {
			fprintf(stderr, "yiqi: cannot write the calendar: "
			    "%s.\n", strerror(errno));
			rc = YIQI_EXIT_FAIL;
		}
		goto out;
	}
	if ((f = fopen(a.out, "w")) == NULL) {
		fprintf(stderr, "yiqi: cannot create %s: %s; check the path.\n",
		    a.out, strerror(errno));
		rc = YIQI_EXIT_FAIL;
		goto out;
	}
	rc = fwrite(body, 1, len, f) != len;
	if (fclose(f) != 0 || rc != 0) {
		fprintf(stderr, "yiqi: cannot write %s: %s.\n", a.out,
		    strerror(errno));
		rc = YIQI_EXIT_FAIL;
		goto out;
	}
	if (!c->json)
		printf("Wrote %s.\n", a.out);
out:
	free(path);
	free(query);
	free(body);
	free(token);
	free(base);
	zone_ref_free(&a.zr);
	return (rc);
}
