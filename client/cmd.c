/*
 * cmd.c: the command table and what every command shares.
 *
 * cmd_table holds one entry per command, kept sorted by name; cmd_find()
 * takes an exact name or alias, else a unique prefix.  cmd_run() answers
 * --help (and --version) before a command runs; cmd_getopt() parses a
 * command's options together with the global ones, which may stand after
 * the command name.  The helpers below check numbers, times and durations
 * the same way for every command, so that a bad argument always exits 2
 * with one sentence before anything is sent.
 */

#include "yiqi.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define CMD_MAX_OPTIONS	64

static int	cmd_help_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.about = "show the help of yiqi or of one command",
	.usage = "[COMMAND [ACTION]]",
	.help = "  COMMAND         the command (and admin action) to explain\n",
	.exec = cmd_help_exec
};

/* Every command, sorted by name (cmd_find and the help rely on it). */
const struct cmd_entry *cmd_table[] = {
	&cmd_admin_entry,
	&cmd_approve_entry,
	&cmd_book_entry,
	&cmd_cancel_entry,
	&cmd_checkin_entry,
	&cmd_checkout_entry,
	&cmd_export_entry,
	&cmd_fault_entry,
	&cmd_feed_url_entry,
	&cmd_find_entry,
	&cmd_free_entry,
	&cmd_help_entry,
	&cmd_institutes_entry,
	&cmd_instruments_entry,
	&cmd_list_entry,
	&cmd_login_entry,
	&cmd_move_entry,
	&cmd_reject_entry,
	&cmd_report_entry,
	&cmd_show_entry,
	&cmd_show_booking_entry,
	&cmd_sites_entry,
	&cmd_whoami_entry,
	NULL
};

static const struct option cmd_global_options[] = {
	{ "help", no_argument, NULL, OPT_GLOBAL_HELP },
	{ "json", no_argument, NULL, OPT_GLOBAL_JSON },
	{ "server", required_argument, NULL, OPT_GLOBAL_SERVER },
	{ "token", required_argument, NULL, OPT_GLOBAL_TOKEN },
	{ "version", no_argument, NULL, OPT_GLOBAL_VERSION },
	{ NULL, 0, NULL, 0 }
};

/* What every paged list takes (cmd_entry.page). */
static const struct option cmd_page_options[] = {
	{ "limit", required_argument, NULL, OPT_PAGE_LIMIT },
	{ "offset", required_argument, NULL, OPT_PAGE_OFFSET },
	{ NULL, 0, NULL, 0 }
};

/*
 * Find a command by exact name or alias, else by unique prefix; on failure
 * *cause says why (unknown or ambiguous).
 */
const struct cmd_entry *
cmd_find(const char *name, char **cause)
{
	const struct cmd_entry	**e, *found = NULL;
	char			 *list = NULL, *tmp;
	size_t			  len = strlen(name);
	int			  ambiguous = 0;

	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp((*e)->name, name) == 0)
			return (*e);
		if ((*e)->alias != NULL && strcmp((*e)->alias, name) == 0)
			return (*e);
	}
	for (e = cmd_table; len != 0 && *e != NULL; e++) {
		if (strncmp((*e)->name, name, len) != 0)
			continue;
		if (found != NULL)
			ambiguous = 1;
		found = *e;
		if (list == NULL)
			list = xstrdup((*e)->name);
		else {
			xasprintf(&tmp, "%s, %s", list, (*e)->name);
			free(list);
			list = tmp;
		}
	}
	if (found != NULL && !ambiguous) {
		free(list);
		return (found);
	}
	tmp = output_clean(name);
	if (ambiguous)
		xasprintf(cause, "'%s' could be any of %s", tmp, list);
	else
		xasprintf(cause, "there is no command '%s'", tmp);
	free(tmp);
	free(list);
	return (NULL);
}

/* Print the one-line list of commands. */
void
cmd_print_list(FILE *f)
{
	const struct cmd_entry	**e;

	for (e = cmd_table; *e != NULL; e++)
		fprintf(f, "  %-14s %s\n", (*e)->name, (*e)->about);
}

/* Print the full help of one command; prefix is "admin " for actions. */
void
cmd_print_help(FILE *f, const struct cmd_entry *e, const char *prefix)
{
	fprintf(f, "usage: yiqi %s%s%s%s\n", prefix != NULL ? prefix : "",
	    e->name, *e->usage != '\0' ? " " : "", e->usage);
	if (e->alias != NULL)
		fprintf(f, "       (also: yiqi %s%s)\n", prefix != NULL ?
		    prefix : "", e->alias);
	fprintf(f, "\n%c%s.\n", e->about[0] >= 'a' && e->about[0] <= 'z' ?
	    e->about[0] - 'a' + 'A' : e->about[0], e->about + 1);
	if (e->help != NULL && *e->help != '\0')
		fprintf(f, "\n%s", e->help);
	fprintf(f, "\nGlobal options: --server URL, --token TOKEN, --json, "
	    "--help.\n");
}

/*
 * Print an error (if fmt is not NULL) and the command's synopsis on stderr;
 * returns the usage exit status.
 */
int
cmd_usage(const struct cmd_entry *e, const char *fmt, ...)
{
	const char	*prefix = e->flags & CMD_ADMIN ? "admin " : "";
	va_list		 ap;

	if (fmt != NULL) {
		fputs("yiqi: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputs(".\n", stderr);
	}
	fprintf(stderr, "usage: yiqi %s%s%s%s\n", prefix, e->name,
	    *e->usage != '\0' ? " " : "", e->usage);
	fprintf(stderr, "Run yiqi %s%s --help for the options.\n", prefix,
	    e->name);
	return (YIQI_EXIT_USAGE);
}

/* Return 1 if argv asks for help before any "--". */
static int
cmd_wants(int argc, char **argv, const char *what)
{
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], what) == 0)
			return (1);
	}
	return (0);
}

/*
 * Run a command: --help and --version anywhere are answered here, then the
 * command parses its arguments (argv[0] is its name) and runs.
 */
int
cmd_run(struct client *c, const struct cmd_entry *e, int argc, char **argv)
{
	const char	*prefix = e->flags & CMD_ADMIN ? "admin " : NULL;

	if (!(e->flags & CMD_SUBCOMMANDS)) {
		if (cmd_wants(argc, argv, "--help") ||
		    cmd_wants(argc, argv, "-h")) {
			cmd_print_help(stdout, e, prefix);
			return (YIQI_EXIT_OK);
		}
		if (cmd_wants(argc, argv, "--version")) {
			printf("yiqi %s\n", PACKAGE_VERSION);
			return (YIQI_EXIT_OK);
		}
	}
	optind = 0;
	c->limit = c->offset = -1;
	return (e->exec(c, e, argc, argv));
}

/*
 * Parse the next option of a command, taking the global options on the way;
 * returns the option's value, -1 at the end, or '?' after printing what was
 * wrong (the caller then returns cmd_usage()).
 */
int
cmd_getopt(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct option	 opts[CMD_MAX_OPTIONS];
	char		 shortopts[CMD_MAX_OPTIONS];
	const char	*what;
	size_t		 n = 0, i;
	int		 ch;

	for (i = 0; e->options != NULL && e->options[i].name != NULL; i++) {
		if (n < CMD_MAX_OPTIONS - 8)	/* the page's, global, end */
			opts[n++] = e->options[i];
	}
	for (i = 0; e->page != 0 && cmd_page_options[i].name != NULL; i++)
		opts[n++] = cmd_page_options[i];
	for (i = 0; cmd_global_options[i].name != NULL; i++)
		opts[n++] = cmd_global_options[i];
	memset(&opts[n], 0, sizeof opts[n]);
	snprintf(shortopts, sizeof shortopts, ":%s",
	    e->shortopts != NULL ? e->shortopts : "");

	opterr = 0;
	for (;;) {
		ch = getopt_long(argc, argv, shortopts, opts, NULL);
		switch (ch) {
		case OPT_GLOBAL_SERVER:
			c->opt_server = optarg;
			continue;
		case OPT_GLOBAL_TOKEN:
			c->opt_token = optarg;
			continue;
		case OPT_GLOBAL_JSON:
			c->json = 1;
			continue;
		case OPT_GLOBAL_HELP:
		case OPT_GLOBAL_VERSION:
			continue;
		case OPT_PAGE_LIMIT:
			if (cmd_number("--limit", optarg, 1, 1000,
			    &c->limit) != 0)
				return ('?');
			continue;
		case OPT_PAGE_OFFSET:
			if (cmd_number("--offset", optarg, 0, e->page_max != 0 ?
			    e->page_max : LLONG_MAX, &c->offset) != 0)
				return ('?');
			continue;
		case ':':
			what = argv[optind - 1];
			if (strncmp(what, "--", 2) != 0 && optopt > 0 &&
			    optopt < 256)
				fprintf(stderr, "yiqi: -%c needs a value.\n",
				    optopt);
			else
				fprintf(stderr, "yiqi: %s needs a value.\n",
				    what);
			return ('?');
		case '?':
			what = argv[optind - 1];
			if (optopt != 0 && strncmp(what, "--", 2) == 0)
				fprintf(stderr, "yiqi: %s takes no value.\n",
				    what);
			else if (optopt > 0 && optopt < 256)
				fprintf(stderr, "yiqi: unknown option -%c.\n",
				    optopt);
			else
				fprintf(stderr, "yiqi: unknown or ambiguous "
				    "option %s.\n", what);
			return ('?');
		default:
			return (ch);
		}
	}
}

/*
 * Read a whole number between min and max; prints what is wrong and returns
 * -1 if text is not one.
 */
int
cmd_number(const char *name, const char *text, long long min, long long max,
    long long *out)
{
	char		*end, *clean;
	long long	 v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno == ERANGE ||
	    v < min || v > max || text[0] == ' ' || text[0] == '+') {
		clean = output_clean(text);
		if (max == LLONG_MAX)
			fprintf(stderr, "yiqi: %s must be a whole number of at "
			    "least %lld, not '%s'.\n", name, min, clean);
		else
			fprintf(stderr, "yiqi: %s must be a whole number from "
			    "%lld to %lld, not '%s'.\n", name, min, max,
			    clean);
		free(clean);
		return (-1);
	}
	*out = v;
	return (0);
}

/* Add a paged list's --limit and --offset, if given, to path. */
void
cmd_page_query(struct client *c, char **path)
{
	char	buf[32];

	if (c->limit != -1) {
		snprintf(buf, sizeof buf, "%lld", c->limit);
		http_query(path, "limit", buf);
	}
	if (c->offset != -1) {
		snprintf(buf, sizeof buf, "%lld", c->offset);
		http_query(path, "offset", buf);
	}
}

/* Check the spelling of a time before anything is fetched; -1 if wrong. */
int
cmd_time_check(struct client *c, const char *opt, const char *text)
{
	time_t	 t;
	char	*cause;

	if (timeparse(text, "UTC", c->now, &t, &cause) == 0)
		return (0);
	fprintf(stderr, "yiqi: %s: %s.\n", opt, cause);
	free(cause);
	return (-1);
}

/*
 * Check before anything is fetched that end is after start, where that can
 * be told without a zone (both have offsets, or neither has); -1 if not.
 */
int
cmd_time_order(struct client *c, const char *start, const char *end)
{
	time_t	t0, t1;

	if (timeparse_zoned(start) != timeparse_zoned(end))
		return (0);
	if (timeparse(start, "UTC", c->now, &t0, NULL) != 0 ||
	    timeparse(end, "UTC", c->now, &t1, NULL) != 0)
		return (0);
	if (t1 > t0)
		return (0);
	fprintf(stderr, "yiqi: --end must be after --start.\n");
	return (-1);
}

/* Read a duration for option opt; prints why and returns -1 if wrong. */
int
cmd_duration(const char *opt, const char *text, long *seconds)
{
	char	*cause;

	if (durparse(text, seconds, &cause) == 0)
		return (0);
	fprintf(stderr, "yiqi: %s: %s.\n", opt, cause);
	free(cause);
	return (-1);
}

/*
 * Find the zone in which times without an offset are read: the named
 * instrument's, else the named site's, else the configured one.  Returns 0
 * or an exit status; the zone is cached in zr.
 */
int
cmd_zone(struct client *c, struct zone_ref *zr, const char **zone)
{
	json_t		*obj;
	const char	*tz;
	char		*code, *path;
	int		 rc;

	if (zr->zone != NULL) {
		*zone = zr->zone;
		return (0);
	}
	if (zr->instrument == NULL && zr->site == NULL) {
		if ((rc = client_resolve(c)) != 0)
			return (rc);
		zr->zone = xstrdup(c->zone);
		*zone = zr->zone;
		return (0);
	}

	code = http_escape(zr->instrument != NULL ? zr->instrument :
	    zr->site);
	xasprintf(&path, "/%s/%s", zr->instrument != NULL ? "instruments" :
	    "sites", code);
	free(code);
	rc = api_call(c, "GET", path, NULL, &obj);
	free(path);
	if (rc != 0)
		return (rc);
	tz = json_string_value(json_object_get(obj, "timezone"));
	zr->zone = xstrdup(tz != NULL ? tz : YIQI_DEFAULT_ZONE);
	json_decref(obj);
	*zone = zr->zone;
	return (0);
}

/* Free the zone cached in zr. */
void
zone_ref_free(struct zone_ref *zr)
{
	free(zr->zone);
	zr->zone = NULL;
}

/*
 * Read a time for option opt, in the zone zr names if it has no offset (the
 * zone is looked up either way, so that cmd_api_time() sends the site's
 * offset); returns 0 or an exit status after printing why.
 */
int
cmd_time(struct client *c, struct zone_ref *zr, const char *opt,
    const char *text, time_t *t)
{
	const char	*zone = "UTC";
	char		*cause;
	int		 rc;

	if (cmd_time_check(c, opt, text) != 0)
		return (YIQI_EXIT_USAGE);
	if ((rc = cmd_zone(c, zr, &zone)) != 0)
		return (rc);
	if (timeparse(text, zone, c->now, t, &cause) != 0) {
		fprintf(stderr, "yiqi: %s: %s.\n", opt, cause);
		free(cause);
		return (YIQI_EXIT_USAGE);
	}
	return (0);
}

/* Write t as RFC 3339 in zr's zone (UTC if none was looked up), allocated. */
char *
cmd_api_time(struct zone_ref *zr, time_t t)
{
	char	buf[64], *cause;

	if (zr->zone == NULL || timefmt(t, zr->zone, buf, sizeof buf,
	    &cause) != 0) {
		if (zr->zone != NULL)
			free(cause);
		if (timefmt(t, "UTC", buf, sizeof buf, NULL) != 0)
			snprintf(buf, sizeof buf, "%lld", (long long)t);
	}
	return (xstrdup(buf));
}

/* Split "A,B" into a JSON array of non-empty, trimmed strings. */
json_t *
cmd_split_list(const char *text)
{
	json_t		*array;
	const char	*s = text, *end;
	char		*item;
	size_t		 n;

	array = json_array();
	while (*s != '\0') {
		while (*s == ' ' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		end = s + strcspn(s, ",");
		n = end - s;
		while (n > 0 && s[n - 1] == ' ')
			n--;
		item = xmalloc(n + 1);
		memcpy(item, s, n);
		item[n] = '\0';
		json_array_append_new(array, json_string(item));
		free(item);
		s = end;
	}
	return (array);
}

static int
cmd_help_exec(struct client *c, const struct cmd_entry *self, int argc,
    char **argv)
{
	const struct cmd_entry	 *e;
	char			**args, *cause;
	int			  i, rc;

	(void)self;
	if (argc < 2) {
		printf("usage: yiqi COMMAND [ARGUMENTS]; commands:\n\n");
		cmd_print_list(stdout);
		printf("\nRun yiqi --help for the global options and yiqi "
		    "COMMAND --help for a command's.\n");
		return (YIQI_EXIT_OK);
	}
	if ((e = cmd_find(argv[1], &cause)) == NULL) {
		fprintf(stderr, "yiqi: %s; run yiqi --help for the list of "
		    "commands.\n", cause);
		free(cause);
		return (YIQI_EXIT_USAGE);
	}
	args = xcalloc(argc + 1, sizeof *args);
	for (i = 1; i < argc; i++)
		args[i - 1] = argv[i];
	args[argc - 1] = (char *)"--help";
	rc = cmd_run(c, e, argc, args);
	free(args);
	return (rc);
}

/*
 * Take the one numbered object (a booking, blackout, quota ...) that must
 * be left after the options; what names it in the messages.  Returns 0, or
 * the exit status of a usage error.
 */
int
cmd_id_arg(const struct cmd_entry *e, int argc, char **argv, const char *what,
    long long *id)
{
	char	*label;
	int	 rc;

	if (argc - optind != 1)
		return (cmd_usage(e, "give one %s number", what));
	xasprintf(&label, "the %s number", what);
	rc = cmd_number(label, argv[optind], 1, LLONG_MAX, id);
	free(label);
	return (rc != 0 ? YIQI_EXIT_USAGE : 0);
}

/* A command that takes no options, only one numbered object: cmd_id_arg(). */
int
cmd_id_only(struct client *c, const struct cmd_entry *e, int argc,
    char **argv, const char *what, long long *id)
{
	if (cmd_getopt(c, e, argc, argv) != -1)
		return (cmd_usage(e, NULL));
	return (cmd_id_arg(e, argc, argv, what, id));
}
