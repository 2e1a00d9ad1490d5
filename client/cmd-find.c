/*
 * cmd-find.c: "yiqi find", the earliest free slot of a given length on
 * every instrument of a category (GET /availability).  Times without an
 * offset are read in the zone of --site, else the configured zone.
 */

#include "yiqi.h"

#include <stdlib.h>
#include <string.h>

enum {
	OPT_FIND_AFTER = 256,
	OPT_FIND_BEFORE,
	OPT_FIND_CATEGORY,
	OPT_FIND_DURATION,
	OPT_FIND_SITE
};

static const struct option cmd_find_options[] = {
	{ "after", required_argument, NULL, OPT_FIND_AFTER },
	{ "before", required_argument, NULL, OPT_FIND_BEFORE },
	{ "category", required_argument, NULL, OPT_FIND_CATEGORY },
	{ "duration", required_argument, NULL, OPT_FIND_DURATION },
	{ "site", required_argument, NULL, OPT_FIND_SITE },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_find_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_find_entry = {
	.name = "find",
	.about = "find the earliest free slot on any instrument of a category",
	.usage = "--category C [--site S] --duration D [--after T] [--before T] "
	    "[--limit N]\n            [--offset N]",
	.help =
	    "  --category C      the kind of instrument, e.g. "
	    "electron-microscopy\n"
	    "  --site S          only instruments at site S\n"
	    "  --duration D      how long you need it: 90m, 2h, 1h30m, PT2H\n"
	    "  --after T         start at or after T (default now)\n"
	    "  --before T        end by T (default two weeks after --after)\n"
	    CMD_HELP_PAGE(10, " (at most 10000)"),
	.options = cmd_find_options,
	.page = 10,
	.page_max = 10000,
	.exec = cmd_find_exec
};

static int
cmd_find_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct zone_ref	 zr;
	struct table	*t;
	const char	*after = NULL, *before = NULL, *category = NULL;
	const char	*duration = NULL;
	json_t		*resp, *item;
	time_t		 when;
	long		 secs;
	char		*path, *text, a[64], b[64], iso[32];
	size_t		 i;
	int		 ch, rc;

	memset(&zr, 0, sizeof zr);
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_FIND_AFTER:
			after = optarg;
			break;
		case OPT_FIND_BEFORE:
			before = optarg;
			break;
		case OPT_FIND_CATEGORY:
			category = optarg;
			break;
		case OPT_FIND_DURATION:
			duration = optarg;
			break;
		case OPT_FIND_SITE:
			zr.site = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (optind != argc)
		return (cmd_usage(e, "find takes no arguments"));
	if (category == NULL)
		return (cmd_usage(e, "say which kind of instrument with "
		    "--category"));
	if (duration == NULL)
		return (cmd_usage(e, "say how long you need it with "
		    "--duration"));
	if (cmd_duration("--duration", duration, &secs) != 0)
		return (YIQI_EXIT_USAGE);
	if ((after != NULL && cmd_time_check(c, "--after", after) != 0) ||
	    (before != NULL && cmd_time_check(c, "--before", before) != 0))
		return (YIQI_EXIT_USAGE);

	durfmt(secs, iso, sizeof iso);
	path = xstrdup("/availability");
	http_query(&path, "category", category);
	http_query(&path, "site", zr.site);
	http_query(&path, "duration", iso);
	if (after != NULL) {
		if ((rc = cmd_time(c, &zr, "--after", after, &when)) != 0)
			goto out;
		text = cmd_api_time(&zr, when);
		http_query(&path, "from", text);
		free(text);
	}
	if (before != NULL) {
		if ((rc = cmd_time(c, &zr, "--before", before, &when)) != 0)
			goto out;
		text = cmd_api_time(&zr, when);
		http_query(&path, "to", text);
		free(text);
	}
	cmd_page_query(c, &path);
	if ((rc = api_call(c, "GET", path, NULL, &resp)) != 0)
		goto out;
	if (c->json) {
		output_json(resp);
		json_decref(resp);
		goto out;
	}
	t = table_create(5, "INSTRUMENT", "NAME", "SITE", "START", "END");
	json_array_foreach(json_object_get(resp, "items"), i, item) {
		table_add(t, output_str(item, "instrument"),
		    output_str(item, "name"), output_str(item, "site"),
		    output_time(output_str(item, "start"), a, sizeof a),
		    output_time(output_str(item, "end"), b, sizeof b));
	}
	if (t->nrows == 0)
		printf("No free slot of that length; try a shorter one, "
		    "another site or a later --before.\n");
	else
		table_print(t, stdout);
	output_page_note(c, e, resp, t->nrows, NULL);
	table_free(t);
	json_decref(resp);
out:
	free(path);
	zone_ref_free(&zr);
	return (rc);
}
