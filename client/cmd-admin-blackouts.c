/*
 * cmd-admin-blackouts.c: "yiqi admin blackouts" (list), "... add" and
 * "... rm": times an instrument or a whole site cannot be booked
 * (GET/POST /blackouts, DELETE /blackouts/{id}).
 *
 * Times without an offset are read in the zone of the named instrument or
 * site.  Bookings inside a new blackout stay but are flagged; the answer
 * lists them so that a manager can move or cancel them.
 */

#include "yiqi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_BLACKOUT_DURATION = 256,
	OPT_BLACKOUT_END,
	OPT_BLACKOUT_FROM,
	OPT_BLACKOUT_INSTRUMENT,
	OPT_BLACKOUT_REASON,
	OPT_BLACKOUT_SITE,
	OPT_BLACKOUT_START,
	OPT_BLACKOUT_TO
};

static const struct option cmd_admin_blackouts_options[] = {
	{ "from", required_argument, NULL, OPT_BLACKOUT_FROM },
	{ "instrument", required_argument, NULL, OPT_BLACKOUT_INSTRUMENT },
	{ "site", required_argument, NULL, OPT_BLACKOUT_SITE },
	{ "to", required_argument, NULL, OPT_BLACKOUT_TO },
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_admin_blackouts_add_options[] = {
	{ "duration", required_argument, NULL, OPT_BLACKOUT_DURATION },
	{ "end", required_argument, NULL, OPT_BLACKOUT_END },
	{ "instrument", required_argument, NULL, OPT_BLACKOUT_INSTRUMENT },
	{ "reason", required_argument, NULL, OPT_BLACKOUT_REASON },
	{ "site", required_argument, NULL, OPT_BLACKOUT_SITE },
	{ "start", required_argument, NULL, OPT_BLACKOUT_START },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_admin_blackouts_exec(struct client *,
		    const struct cmd_entry *, int, char **);
static int	cmd_admin_blackouts_add_exec(struct client *,
		    const struct cmd_entry *, int, char **);
static int	cmd_admin_blackouts_rm_exec(struct client *,
		    const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_admin_blackouts_entry = {
	.name = "blackouts",
	.about = "list blackouts (maintenance, calibration, park closures)",
	.usage = "[--instrument I | --site S] [--from T] [--to T] [--limit N]\n"
	    "            [--offset N]",
	.help =
	    "  --instrument I    blackouts of instrument I\n"
	    "  --site S          blackouts of site S\n"
	    "  --from T, --to T  only those overlapping this time\n"
	    CMD_HELP_PAGE(100, ""),
	.options = cmd_admin_blackouts_options,
	.page = 100,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_blackouts_exec
};

const struct cmd_entry cmd_admin_blackouts_add_entry = {
	.name = "blackouts add",
	.about = "block an instrument or a whole site for a time",
	.usage = "(--instrument I | --site S) --start T (--end T | --duration D) "
	    "--reason TEXT",
	.help =
	    "  --instrument I    block instrument I, or\n"
	    "  --site S          every instrument of site S\n"
	    "  --start T         from T\n"
	    "  --end T           until T, or\n"
	    "  --duration D      for D: 90m, 2h, 1d, PT2H\n"
	    "  --reason TEXT     why, e.g. \"annual calibration\"\n"
	    "\nBookings inside it stay but are flagged, and are listed so "
	    "that you can\nmove or cancel them.\n",
	.options = cmd_admin_blackouts_add_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_blackouts_add_exec
};

const struct cmd_entry cmd_admin_blackouts_rm_entry = {
	.name = "blackouts rm",
	.about = "remove a blackout",
	.usage = "ID",
	.help = "  ID                the blackout's number, as yiqi admin "
	    "blackouts shows it\n",
	.flags = CMD_ADMIN,
	.exec = cmd_admin_blackouts_rm_exec
};

static int
cmd_admin_blackouts_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	struct zone_ref	 zr;
	struct table	*t;
	const char	*from = NULL, *to = NULL;
	json_t		*resp, *b;
	time_t		 when;
	char		*path, *text, id[32], s[64], en[64];
	size_t		 i;
	int		 ch, rc;

	memset(&zr, 0, sizeof zr);
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_BLACKOUT_FROM:
			from = optarg;
			break;
		case OPT_BLACKOUT_INSTRUMENT:
			zr.instrument = optarg;
			break;
		case OPT_BLACKOUT_SITE:
			zr.site = optarg;
			break;
		case OPT_BLACKOUT_TO:
			to = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (optind != argc)
		return (cmd_usage(e, "there is no blackouts action '%s'",
		    argv[optind]));
	if ((from != NULL && cmd_time_check(c, "--from", from) != 0) ||
	    (to != NULL && cmd_time_check(c, "--to", to) != 0))
		return (YIQI_EXIT_USAGE);

	path = xstrdup("/blackouts");
	http_query(&path, "instrument", zr.instrument);
	http_query(&path, "site", zr.site);
	if (from != NULL) {
		if ((rc = cmd_time(c, &zr, "--from", from, &when)) != 0)
			goto out;
		text = cmd_api_time(&zr, when);
		http_query(&path, "from", text);
		free(text);
	}
	if (to != NULL) {
		if ((rc = cmd_time(c, &zr, "--to", to, &when)) != 0)
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
	t = table_create(5, "ID", "ON", "START", "END", "REASON");
	json_array_foreach(json_object_get(resp, "items"), i, b) {
		snprintf(id, sizeof id, "%lld",
		    (long long)json_integer_value(json_object_get(b, "id")));
		if (json_is_string(json_object_get(b, "instrument")))
			xasprintf(&text, "%s", output_str(b, "instrument"));
		else
			xasprintf(&text, "site %s", output_str(b, "site"));
		table_add(t, id, text,
		    output_time(output_str(b, "start"), s, sizeof s),
		    output_time(output_str(b, "end"), en, sizeof en),
		    output_str(b, "reason"));
		free(text);
	}
	if (t->nrows == 0)
		printf("No blackouts match.\n");
	else
		table_print(t, stdout);
	output_page_note(c, e, resp, t->nrows, "--from and --to");
	table_free(t);
	json_decref(resp);
out:
	free(path);
	zone_ref_free(&zr);
	return (rc);
}

static int
cmd_admin_blackouts_add_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	struct zone_ref	 zr;
	const char	*start = NULL, *end = NULL, *duration = NULL;
	const char	*reason = NULL;
	json_t		*body = NULL, *resp, *r, *affected;
	time_t		 t0, t1;
	long		 secs = 0;
	char		*text;
	size_t		 i;
	int		 ch, rc;

	memset(&zr, 0, sizeof zr);
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_BLACKOUT_DURATION:
			duration = optarg;
			break;
		case OPT_BLACKOUT_END:
			end = optarg;
			break;
		case OPT_BLACKOUT_INSTRUMENT:
			zr.instrument = optarg;
			break;
		case OPT_BLACKOUT_REASON:
			reason = optarg;
			break;
		case OPT_BLACKOUT_SITE:
			zr.site = optarg;
			break;
		case OPT_BLACKOUT_START:
			start = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (optind != argc)
		return (cmd_usage(e, "blackouts add takes no arguments"));
	if ((zr.instrument == NULL) == (zr.site == NULL))
		return (cmd_usage(e, "give either --instrument or --site"));
	if (start == NULL || reason == NULL)
		return (cmd_usage(e, "give --start and --reason"));
	if ((end == NULL) == (duration == NULL))
		return (cmd_usage(e, "give either --end or --duration"));
	if (cmd_time_check(c, "--start", start) != 0 ||
	    (end != NULL && cmd_time_check(c, "--end", end) != 0))
		return (YIQI_EXIT_USAGE);
	if (start != NULL && end != NULL &&
	    cmd_time_order(c, start, end) != 0)
		return (YIQI_EXIT_USAGE);
	if (duration != NULL &&
	    cmd_duration("--duration", duration, &secs) != 0)
		return (YIQI_EXIT_USAGE);

	if ((rc = cmd_time(c, &zr, "--start", start, &t0)) != 0)
		goto out;
	if (end != NULL) {
		if ((rc = cmd_time(c, &zr, "--end", end, &t1)) != 0)
			goto out;
	} else
		t1 = t0 + secs;
	if (t1 <= t0) {
		fprintf(stderr, "yiqi: --end must be after --start.\n");
		rc = YIQI_EXIT_USAGE;
		goto out;
	}
	body = json_object();
	if (zr.instrument != NULL)
		json_object_set_new(body, "instrument",
		    json_string(zr.instrument));
	else
		json_object_set_new(body, "site", json_string(zr.site));
	text = cmd_api_time(&zr, t0);
	json_object_set_new(body, "start", json_string(text));
	free(text);
	text = cmd_api_time(&zr, t1);
	json_object_set_new(body, "end", json_string(text));
	free(text);
	json_object_set_new(body, "reason", json_string(reason));

	if ((rc = api_call(c, "POST", "/blackouts", body, &resp)) != 0)
		goto out;
	if (c->json) {
		output_json(resp);
		json_decref(resp);
		goto out;
	}
	text = output_interval(output_str(resp, "start"),
	    output_str(resp, "end"));
	printf("Added blackout #%lld on %s%s: %s (%s).\n",
	    (long long)json_integer_value(json_object_get(resp, "id")),
	    zr.instrument != NULL ? "" : "site ",
	    zr.instrument != NULL ? zr.instrument : zr.site, text,
	    output_str(resp, "reason"));
	free(text);
	affected = json_object_get(resp, "affected");
	if (json_array_size(affected) != 0) {
		if (json_array_size(affected) == 1)
			printf("1 booking inside it stays but is flagged; move "
			    "or cancel it:\n");
		else
			printf("%zu bookings inside it stay but are flagged; "
			    "move or cancel them:\n",
			    json_array_size(affected));
		json_array_foreach(affected, i, r) {
			text = output_interval(output_str(r, "start"),
			    output_str(r, "end"));
			printf("  #%lld  %s  %s  %s (%s)\n",
			    (long long)json_integer_value(json_object_get(r,
			    "id")), output_str(r, "instrument"), text,
			    json_is_string(json_object_get(r, "user")) ?
			    output_str(r, "user") : output_str(r, "institute"),
			    output_str(r, "status"));
			free(text);
		}
	}
	json_decref(resp);
out:
	json_decref(body);
	zone_ref_free(&zr);
	return (rc);
}

static int
cmd_admin_blackouts_rm_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	json_t		*resp;
	long long	 id;
	int		 rc;

	if ((rc = cmd_id_only(c, e, argc, argv, "blackout", &id)) != 0 ||
	    (rc = api_call_id(c, "DELETE", "blackouts", id, NULL, NULL,
	    &resp)) != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else
		printf("Removed blackout #%lld.\n", id);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
