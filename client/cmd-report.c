/*
 * cmd-report.c: "yiqi report", the utilisation report of
 * GET /reports/utilisation for park managers and admins.
 *
 * By default the answer's JSON is printed as three aligned tables: the
 * groups with a total line, the same groups' sharing-platform figures
 * (effective hours and their basis, external service hours, sharing rate,
 * institutes served, baseline utilisation, saturated), and the settlement.  --format csv, json and
 * html print (or write to -o FILE) what the server made, unchanged.
 */

#include "yiqi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_REPORT_BY = 256,
	OPT_REPORT_CATEGORY,
	OPT_REPORT_FORMAT,
	OPT_REPORT_FROM,
	OPT_REPORT_SITE,
	OPT_REPORT_TO
};

static const struct option cmd_report_options[] = {
	{ "by", required_argument, NULL, OPT_REPORT_BY },
	{ "category", required_argument, NULL, OPT_REPORT_CATEGORY },
	{ "format", required_argument, NULL, OPT_REPORT_FORMAT },
	{ "from", required_argument, NULL, OPT_REPORT_FROM },
	{ "output", required_argument, NULL, 'o' },
	{ "site", required_argument, NULL, OPT_REPORT_SITE },
	{ "to", required_argument, NULL, OPT_REPORT_TO },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_report_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.about = "utilisation report for park managers: hours, sharing, "
	    "charges, settlement",
	.usage = "[--from T] [--to T] [--by instrument|site|institute|category|"
	    "district|owner]\n            [--site S] [--category C] "
	    "[--format table|csv|json|html|evaluation] [-o FILE]",
	.help =
	    "  --from T          start of the period (default: the 1st of this "
	    "month)\n"
	    "  --to T            end of the period, exclusive (default: the 1st "
	    "of next\n"
	    "                    month; 30 days after --from if only that is "
	    "given)\n"
	    "  --by G            group by instrument (default), site, "
	    "institute (the\n"
	    "                    users'), category, district or owner "
	    "(institute)\n"
	    "  --site S          only the instruments at site S\n"
	    "  --category C      only the instruments of category C\n"
	    "  --format F        table (default), csv, json, html or evaluation "
	    "(CSV,\n"
	    "                    one row per instrument for the annual "
	    "evaluation)\n"
	    "  -o FILE           write the report to FILE instead of standard "
	    "output\n",
	.shortopts = "o:",
	.options = cmd_report_options,
	.exec = cmd_report_exec
};

static char *
cmd_report_hours(json_t *v)
{
	char	*s;

	if (!json_is_number(v))
		return (xstrdup("-"));
	xasprintf(&s, "%.2f", json_number_value(v));
	return (s);
}

static char *
cmd_report_ratio(json_t *v)
{
	char	*s;

	if (!json_is_number(v))
		return (xstrdup("-"));
	xasprintf(&s, "%.1f%%", 100.0 * json_number_value(v));
	return (s);
}

static char *
cmd_report_count(json_t *v)
{
	char	*s;

	xasprintf(&s, "%lld", (long long)json_integer_value(v));
	return (s);
}

static char *
cmd_report_yuan(json_t *v)
{
	json_int_t	 fen = json_integer_value(v);
	char		*s;

	xasprintf(&s, "%s%lld.%02lld", fen < 0 ? "-" : "",
	    (long long)(fen < 0 ? -fen : fen) / 100,
	    (long long)(fen < 0 ? -fen : fen) % 100);
	return (s);
}

/* Add one group (or the total) as a table row. */
static void
cmd_report_row(struct table *t, const char *key, json_t *g)
{
	char	*c[12];
	int	 i;

	c[0] = cmd_report_hours(json_object_get(g, "available_h"));
	c[1] = cmd_report_hours(json_object_get(g, "booked_h"));
	c[2] = cmd_report_ratio(json_object_get(g, "utilisation"));
	c[3] = cmd_report_hours(json_object_get(g, "used_h"));
	c[4] = cmd_report_count(json_object_get(g, "bookings"));
	c[5] = cmd_report_count(json_object_get(g, "cancellations"));
	c[6] = cmd_report_count(json_object_get(g, "late_cancellations"));
	c[7] = cmd_report_count(json_object_get(g, "no_shows"));
	c[8] = cmd_report_hours(json_object_get(g, "external_h"));
	c[9] = cmd_report_ratio(json_object_get(g, "sharing_rate"));
	c[10] = cmd_report_hours(json_object_get(g, "cross_district_h"));
	c[11] = cmd_report_yuan(json_object_get(g, "charges"));
	table_add(t, key, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
	    c[8], c[9], c[10], c[11]);
	for (i = 0; i < 12; i++)
		free(c[i]);
}

static char *
cmd_report_int(json_t *v)
{
	if (!json_is_integer(v))
		return (xstrdup("-"));
	return (cmd_report_count(v));
}

/* Add one group's (or the total's) sharing-platform figures as a row. */
static void
cmd_report_platform_row(struct table *t, const char *key, json_t *g)
{
	json_t	*sat = json_object_get(g, "saturated");
	char	*c[7];
	int	 i;

	c[0] = cmd_report_hours(json_object_get(g, "effective_h"));
	c[1] = cmd_report_hours(json_object_get(g, "external_service_h"));
	c[2] = cmd_report_ratio(json_object_get(g, "effective_sharing_rate"));
	c[3] = cmd_report_int(json_object_get(g, "institutes_served"));
	c[4] = cmd_report_hours(json_object_get(g, "baseline_h"));
	c[5] = cmd_report_ratio(json_object_get(g, "baseline_utilisation"));
	c[6] = xstrdup(json_is_boolean(sat) ? (json_is_true(sat) ? "yes" :
	    "no") : "-");
	table_add(t, key, c[0], output_str(g, "effective_basis"), c[1], c[2],
	    c[3], c[4], c[5], c[6]);
	for (i = 0; i < 7; i++)
		free(c[i]);
}

/* The sharing-platform figures of every group and the total. */
static void
cmd_report_platform(json_t *resp, FILE *f)
{
	struct table	*t;
	json_t		*g, *b;
	char		*key;
	size_t		 i;

	b = json_object_get(resp, "baseline");
	fprintf(f, "\nOpen sharing (effective_h: used hours, else booked; basis "
	    "says which;\nbaseline %lld h/yr, saturated from %lld h/yr, "
	    "prorated to the period)\n",
	    (long long)json_integer_value(json_object_get(b,
	    "hours_per_year")), (long long)json_integer_value(
	    json_object_get(b, "saturated_hours_per_year")));
	t = table_create(9, output_str(resp, "by"), "effective_h", "basis",
	    "ext_service_h", "sharing", "served", "baseline_h",
	    "baseline_util", "saturated");
	json_array_foreach(json_object_get(resp, "groups"), i, g) {
		key = output_clean(output_str(g, "key"));
		cmd_report_platform_row(t, *key != '\0' ? key : "(none)", g);
		free(key);
	}
	cmd_report_platform_row(t, "total", json_object_get(resp, "totals"));
	table_print(t, f);
	table_free(t);
}

static void
cmd_report_print(json_t *resp, FILE *f)
{
	struct table	*t;
	json_t		*g, *s;
	char		*key, *h, *m, *n;
	size_t		 i;

	fprintf(f, "Utilisation %s to %s (hours; charges in yuan)\n\n",
	    output_str(resp, "from"), output_str(resp, "to"));
	t = table_create(13, output_str(resp, "by"), "avail_h", "booked_h",
	    "util", "used_h", "bookings", "cancel", "late", "noshow", "ext_h",
	    "sharing", "cross_h", "charges");
	json_array_foreach(json_object_get(resp, "groups"), i, g) {
		key = output_clean(output_str(g, "key"));
		cmd_report_row(t, *key != '\0' ? key : "(none)", g);
		free(key);
	}
	cmd_report_row(t, "total", json_object_get(resp, "totals"));
	table_print(t, f);
	table_free(t);
	cmd_report_platform(resp, f);
	if (json_array_size(json_object_get(resp, "settlement")) == 0) {
		fprintf(f, "\nSettlement: nobody owes anybody.\n");
		return;
	}
	fprintf(f, "\nSettlement (the users of payer owe the owners in payee)\n");
	t = table_create(6, "level", "payer", "payee", "bookings", "booked_h",
	    "charges");
	json_array_foreach(json_object_get(resp, "settlement"), i, s) {
		h = cmd_report_hours(json_object_get(s, "booked_h"));
		m = cmd_report_yuan(json_object_get(s, "charges"));
		n = cmd_report_count(json_object_get(s, "bookings"));
		table_add(t, output_str(s, "level"), output_str(s, "payer"),
		    output_str(s, "payee"), n, h, m);
		free(h);
		free(m);
		free(n);
	}
	table_print(t, f);
	table_free(t);
}

/* Write len bytes to path (or standard output if path is NULL). */
static int
cmd_report_write(const char *path, const char *data, size_t len)
{
	FILE	*f = stdout;

	if (path != NULL && (f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "yiqi: cannot write %s: %s.\n", path,
		    strerror(errno));
		return (YIQI_EXIT_FAIL);
	}
	if (fwrite(data, 1, len, f) != len || (path != NULL ? fclose(f) :
	    fflush(f)) != 0) {
		fprintf(stderr, "yiqi: cannot write %s: %s.\n",
		    path != NULL ? path : "the report", strerror(errno));
		return (YIQI_EXIT_FAIL);
	}
	return (0);
}

static int
cmd_report_time(struct client *c, struct zone_ref *zr, char **path,
    const char *key, const char *opt, const char *text)
{
	time_t	 t;
	char	*s;
	int	 rc;

	if (text == NULL)
		return (0);
	if ((rc = cmd_time(c, zr, opt, text, &t)) != 0)
		return (rc);
	s = cmd_api_time(zr, t);
	http_query(path, key, s);
	free(s);
	return (0);
}

static int
cmd_report_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const char *const bys[] = {
		"instrument", "site", "institute", "category", "district",
		"owner", NULL
	};
	struct zone_ref	 zr;
	const char	*from = NULL, *to = NULL, *by = NULL, *category = NULL;
	const char	*format = "table", *out = NULL;
	json_t		*resp = NULL;
	FILE		*f;
	char		*path = NULL, *text;
	int		 ch, rc, i;

	memset(&zr, 0, sizeof zr);
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_REPORT_BY:
			by = optarg;
			break;
		case OPT_REPORT_CATEGORY:
			category = optarg;
			break;
		case OPT_REPORT_FORMAT:
			format = optarg;
			break;
		case OPT_REPORT_FROM:
			from = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case OPT_REPORT_SITE:
			zr.site = optarg;
			break;
		case OPT_REPORT_TO:
			to = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (argc != optind)
		return (cmd_usage(e, "report takes no arguments"));
	for (i = 0; by != NULL && bys[i] != NULL; i++) {
		if (strcmp(by, bys[i]) == 0)
			break;
	}
	if (by != NULL && bys[i] == NULL)
		return (cmd_usage(e, "--by must be instrument, site, institute, "
		    "category, district or owner"));
	if (strcmp(format, "table") != 0 && strcmp(format, "csv") != 0 &&
	    strcmp(format, "json") != 0 && strcmp(format, "html") != 0 &&
	    strcmp(format, "evaluation") != 0)
		return (cmd_usage(e, "--format must be table, csv, json, html "
		    "or evaluation"));
	if ((from != NULL && cmd_time_check(c, "--from", from) != 0) ||
	    (to != NULL && cmd_time_check(c, "--to", to) != 0))
		return (YIQI_EXIT_USAGE);

	path = xstrdup("/reports/utilisation");
	if ((rc = cmd_report_time(c, &zr, &path, "from", "--from", from)) != 0 ||
	    (rc = cmd_report_time(c, &zr, &path, "to", "--to", to)) != 0)
		goto done;
	if (by != NULL)
		http_query(&path, "by", by);
	if (zr.site != NULL)
		http_query(&path, "site", zr.site);
	if (category != NULL)
		http_query(&path, "category", category);
	if (strcmp(format, "csv") == 0 || strcmp(format, "html") == 0 ||
	    strcmp(format, "evaluation") == 0) {
		http_query(&path, "format", format);
		c->want_text = 1;
	}
	if ((rc = api_call(c, "GET", path, NULL, &resp)) != 0)
		goto done;
	if (c->text != NULL)
		rc = cmd_report_write(out, c->text, c->textlen);
	else if (strcmp(format, "json") == 0 || c->json) {
		text = json_dumps(resp, JSON_INDENT(2));
		if (text == NULL) {
			fprintf(stderr, "yiqi: cannot encode the report.\n");
			rc = YIQI_EXIT_FAIL;
			goto done;
		}
		rc = cmd_report_write(out, text, strlen(text));
		if (rc == 0 && out == NULL)
			putchar('\n');
		free(text);
	} else if (out == NULL)
		cmd_report_print(resp, stdout);
	else if ((f = fopen(out, "w")) == NULL) {
		fprintf(stderr, "yiqi: cannot write %s: %s.\n", out,
		    strerror(errno));
		rc = YIQI_EXIT_FAIL;
	} else {
		cmd_report_print(resp, f);
		if (fclose(f) != 0) {
			fprintf(stderr, "yiqi: cannot write %s: %s.\n", out,
			    strerror(errno));
			rc = YIQI_EXIT_FAIL;
		}
	}
done:
	json_decref(resp);
	free(c->text);
	c->text = NULL;
	free(path);
	zone_ref_free(&zr);
	return (rc);
}
