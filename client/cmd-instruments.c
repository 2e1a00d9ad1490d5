/*
 * cmd-instruments.c: "yiqi instruments", the instruments one can book, and
 * "yiqi show", one instrument with all its booking rules.
 */

#include "yiqi.h"

#include <stdlib.h>
#include <string.h>

enum {
	OPT_INSTRUMENTS_CATEGORY = 256,
	OPT_INSTRUMENTS_SEARCH,
	OPT_INSTRUMENTS_SITE,
	OPT_INSTRUMENTS_STATUS
};

static const struct option cmd_instruments_options[] = {
	{ "category", required_argument, NULL, OPT_INSTRUMENTS_CATEGORY },
	{ "search", required_argument, NULL, OPT_INSTRUMENTS_SEARCH },
	{ "site", required_argument, NULL, OPT_INSTRUMENTS_SITE },
	{ "status", required_argument, NULL, OPT_INSTRUMENTS_STATUS },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_instruments_exec(struct client *, const struct cmd_entry *,
		    int, char **);
static int	cmd_show_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_instruments_entry = {
	.name = "instruments",
	.about = "list instruments, by site, category or text",
	.usage = "[--site S] [--category C] [--search TEXT] [--status S]\n"
	    "            [--limit N] [--offset N]",
	.help =
	    "  --site S          only instruments at site S (e.g. HC-HTZ)\n"
	    "  --category C      only category C (e.g. mass-spectrometry)\n"
	    "  --search TEXT     TEXT in the code, name, maker, model or "
	    "description\n"
	    "  --status S        active, maintenance, retired or all (default: "
	    "all but\n"
	    "                    retired)\n"
	    CMD_HELP_PAGE(100, ""),
	.options = cmd_instruments_options,
	.page = 100,
	.exec = cmd_instruments_exec
};

const struct cmd_entry cmd_show_entry = {
	.name = "show",
	.about = "show one instrument and its booking rules",
	.usage = "INSTRUMENT",
	.help = "  INSTRUMENT        the instrument code, e.g. HC-ICPMS-01\n",
	.exec = cmd_show_exec
};

static int
cmd_instruments_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct table	*t;
	json_t		*resp, *item;
	const char	*site = NULL, *category = NULL, *search = NULL;
	const char	*status = NULL;
	char		*path;
	size_t		 i;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_INSTRUMENTS_CATEGORY:
			category = optarg;
			break;
		case OPT_INSTRUMENTS_SEARCH:
			search = optarg;
			break;
		case OPT_INSTRUMENTS_SITE:
			site = optarg;
			break;
		case OPT_INSTRUMENTS_STATUS:
			status = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (optind != argc)
		return (cmd_usage(e, "instruments takes no arguments; use "
		    "--search TEXT to look for one"));

	path = xstrdup("/instruments");
	http_query(&path, "site", site);
	http_query(&path, "category", category);
	http_query(&path, "q", search);
	http_query(&path, "status", status);
	cmd_page_query(c, &path);
	rc = api_call(c, "GET", path, NULL, &resp);
	free(path);
	if (rc != 0)
		return (rc);
	if (c->json) {
		output_json(resp);
		json_decref(resp);
		return (YIQI_EXIT_OK);
	}
	t = table_create(7, "CODE", "NAME", "CATEGORY", "SITE", "ROOM",
	    "OWNER", "STATUS");
	json_array_foreach(json_object_get(resp, "items"), i, item) {
		table_add(t, output_str(item, "code"), output_str(item, "name"),
		    output_str(item, "category"), output_str(item, "site"),
		    output_str(item, "room"), output_str(item, "owner"),
		    output_str(item, "status"));
	}
	if (t->nrows == 0)
		printf("No instruments match.\n");
	else
		table_print(t, stdout);
	output_page_note(c, e, resp, t->nrows, NULL);
	table_free(t);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}

/* Print a rule given in minutes. */
static void
cmd_show_minutes(json_t *rules, const char *key, const char *label)
{
	json_t	*v;
	char	 buf[64];

	if ((v = json_object_get(rules, key)) == NULL)
		return;
	if (json_is_integer(v))
		snprintf(buf, sizeof buf, "%lld min",
		    (long long)json_integer_value(v));
	else
		snprintf(buf, sizeof buf, "-");
	output_field(label, buf);
}

/* Print the booking rules, the known ones readably, any others as they are. */
static void
cmd_show_rules(json_t *rules)
{
	static const char	*known[] = {
		"granularity_min", "min_duration_min", "max_duration_min",
		"advance_days", "buffer_min", "opening_hours",
		"requires_approval", "requires_qualification",
		"rate_internal", "rate_external", NULL
	};
	const char		*key, **k;
	json_t			*v;
	char			 buf[64], *money, *text;

	printf("\nBooking rules:\n");
	cmd_show_minutes(rules, "granularity_min", "granularity");
	cmd_show_minutes(rules, "min_duration_min", "shortest");
	cmd_show_minutes(rules, "max_duration_min", "longest");
	if ((v = json_object_get(rules, "advance_days")) != NULL) {
		snprintf(buf, sizeof buf, "%lld days ahead",
		    (long long)json_integer_value(v));
		output_field("book up to", buf);
	}
	cmd_show_minutes(rules, "buffer_min", "buffer");
	if ((v = json_object_get(rules, "opening_hours")) != NULL)
		output_field("opening hours", output_str(rules,
		    "opening_hours"));
	if ((v = json_object_get(rules, "requires_approval")) != NULL)
		output_field("approval", json_is_true(v) ?
		    "a manager approves each booking" : "not needed");
	if ((v = json_object_get(rules, "requires_qualification")) != NULL)
		output_field("qualification", json_is_true(v) ?
		    "only qualified users may book" : "not needed");
	if ((v = json_object_get(rules, "rate_internal")) != NULL) {
		money = output_money(v);
		xasprintf(&text, "%s an hour (owner institute)", money);
		output_field("rate", text);
		free(text);
		free(money);
	}
	if ((v = json_object_get(rules, "rate_external")) != NULL) {
		money = output_money(v);
		xasprintf(&text, "%s an hour (everyone else)", money);
		output_field("", text);
		free(text);
		free(money);
	}
	json_object_foreach(rules, key, v) {
		for (k = known; *k != NULL; k++) {
			if (strcmp(*k, key) == 0)
				break;
		}
		if (*k != NULL)
			continue;
		text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		output_field(key, text != NULL ? text : "?");
		free(text);
	}
}

static int
cmd_show_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const char	*fields[] = {
		"code", "name", "category", "manufacturer", "model", "site",
		"timezone", "room", "owner", "status", "description", NULL
	};
	const char		**f;
	json_t			 *inst;
	char			 *code, *path;
	int			  ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1)
		return (cmd_usage(e, NULL));
	if (argc - optind != 1)
		return (cmd_usage(e, "name one instrument"));

	code = http_escape(argv[optind]);
	xasprintf(&path, "/instruments/%s", code);
	free(code);
	rc = api_call(c, "GET", path, NULL, &inst);
	free(path);
	if (rc != 0)
		return (rc);
	if (c->json)
		output_json(inst);
	else {
		for (f = fields; *f != NULL; f++)
			output_field(*f, output_str(inst, *f));
		if (json_is_object(json_object_get(inst, "rules")))
			cmd_show_rules(json_object_get(inst, "rules"));
	}
	json_decref(inst);
	return (YIQI_EXIT_OK);
}
