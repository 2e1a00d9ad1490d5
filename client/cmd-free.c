/*
 * cmd-free.c: "yiqi free", when one instrument is free and when it is busy
 * (GET /instruments/{code}/availability), merged into one table in time
 * order.  Times without an offset are read in the instrument's zone.
 */

#include "yiqi.h"

#include <stdlib.h>
#include <string.h>

enum {
	OPT_FREE_FROM = 256,
	OPT_FREE_TO
};

static const struct option cmd_free_options[] = {
	{ "from", required_argument, NULL, OPT_FREE_FROM },
	{ "to", required_argument, NULL, OPT_FREE_TO },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_free_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_free_entry = {
	.name = "free",
	.about = "show when an instrument is free and when it is busy",
	.usage = "INSTRUMENT [--from T] [--to T]",
	.help =
	    "  INSTRUMENT        the instrument code, e.g. HC-ICPMS-01\n"
	    "  --from T          from time T (default now)\n"
	    "  --to T            up to time T (default a week after --from, "
	    "at most 92\n"
	    "                    days)\n",
	.options = cmd_free_options,
	.exec = cmd_free_exec
};

/* One row of the merged table. */
struct cmd_free_row {
	time_t		 start;
	json_t		*item;
	int		 busy;
};

static int
cmd_free_cmp(const void *a, const void *b)
{
	const struct cmd_free_row	*ra = a, *rb = b;

	if (ra->start != rb->start)
		return (ra->start < rb->start ? -1 : 1);
	return (rb->busy - ra->busy);
}

static time_t
cmd_free_time(const char *text)
{
	time_t	t;

	if (timeparse(text, "UTC", 0, &t, NULL) != 0)
		return (0);
	return (t);
}

static void
cmd_free_print(json_t *resp)
{
	struct cmd_free_row	*rows;
	struct table		*t;
	json_t			*busy, *free_, *item;
	const char		*kind, *inst;
	char			 a[64], b[64], *detail;
	size_t			 n, i, j = 0;

	busy = json_object_get(resp, "busy");
	free_ = json_object_get(resp, "free");
	n = json_array_size(busy) + json_array_size(free_);
	rows = xcalloc(n, sizeof *rows);
	json_array_foreach(busy, i, item) {
		rows[j].start = cmd_free_time(output_str(item, "start"));
		rows[j].item = item;
		rows[j++].busy = 1;
	}
	json_array_foreach(free_, i, item) {
		rows[j].start = cmd_free_time(output_str(item, "start"));
		rows[j++].item = item;
	}
	qsort(rows, j, sizeof *rows, cmd_free_cmp);

	printf("%s (%s), %s to %s\n", output_str(resp, "instrument"),
	    output_str(resp, "timezone"),
	    output_time(output_str(resp, "from"), a, sizeof a),
	    output_time(output_str(resp, "to"), b, sizeof b));
	t = table_create(4, "START", "END", "STATE", "DETAIL");
	for (i = 0; i < j; i++) {
		item = rows[i].item;
		output_time(output_str(item, "start"), a, sizeof a);
		output_time(output_str(item, "end"), b, sizeof b);
		if (!rows[i].busy) {
			table_add(t, a, b, "free", "");
			continue;
		}
		kind = output_str(item, "kind");
		if (strcmp(kind, "blackout") == 0)
			xasprintf(&detail, "blackout: %s",
			    output_str(item, "reason"));
		else {
			inst = json_string_value(json_object_get(item,
			    "institute"));
			if (json_is_integer(json_object_get(item,
			    "reservation")))
				xasprintf(&detail, "#%lld %s%s%s", (long long)
				    json_integer_value(json_object_get(item,
				    "reservation")), output_str(item,
				    "status"), inst != NULL ? ", " : "",
				    inst != NULL ? inst : "");
			else
				xasprintf(&detail, "%s", inst != NULL ? inst :
				    "busy");
		}
		table_add(t, a, b, "busy", detail);
		free(detail);
	}
	if (j == 0)
		printf("Nothing can be booked in that time.\n");
	else
		table_print(t, stdout);
	table_free(t);
	free(rows);
}

static int
cmd_free_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct zone_ref	 zr;
	const char	*from = NULL, *to = NULL;
	json_t		*resp;
	time_t		 t;
	char		*code, *path, *text;
	int		 ch, rc;

	memset(&zr, 0, sizeof zr);
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_FREE_FROM:
			from = optarg;
			break;
		case OPT_FREE_TO:
			to = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (argc - optind != 1)
		return (cmd_usage(e, "name one instrument"));
	if ((from != NULL && cmd_time_check(c, "--from", from) != 0) ||
	    (to != NULL && cmd_time_check(c, "--to", to) != 0))
		return (YIQI_EXIT_USAGE);
	zr.instrument = argv[optind];

	code = http_escape(argv[optind]);
	xasprintf(&path, "/instruments/%s/availability", code);
	free(code);
	if (from != NULL) {
		if ((rc = cmd_time(c, &zr, "--from", from, &t)) != 0)
			goto out;
		text = cmd_api_time(&zr, t);
		http_query(&path, "from", text);
		free(text);
	}
	if (to != NULL) {
		if ((rc = cmd_time(c, &zr, "--to", to, &t)) != 0)
			goto out;
		text = cmd_api_time(&zr, t);
		http_query(&path, "to", text);
		free(text);
	}
	if ((rc = api_call(c, "GET", path, NULL, &resp)) != 0)
		goto out;
	if (c->json)
		output_json(resp);
	else
		cmd_free_print(resp);
	json_decref(resp);
out:
	free(path);
	zone_ref_free(&zr);
	return (rc);
}
