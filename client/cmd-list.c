/*
 * cmd-list.c: "yiqi list", bookings by user, instrument, site or institute
 * (GET /reservations), and "yiqi show-booking", one booking in full.
 *
 * Another user's booking may come redacted ("redacted": true): it is shown
 * with the booking institute's name, or "busy" for a private institute.
 * cmd_list_print_booking() prints the one-line summary that book, move,
 * cancel, approve and the others end with.
 */

#include "yiqi.h"

#include <stdlib.h>
#include <string.h>

enum {
	OPT_LIST_FROM = 256,
	OPT_LIST_INSTITUTE,
	OPT_LIST_INSTRUMENT,
	OPT_LIST_MINE,
	OPT_LIST_SITE,
	OPT_LIST_STATUS,
	OPT_LIST_TO,
	OPT_LIST_USER,
	OPT_LIST_MANAGED
};

static const struct option cmd_list_options[] = {
	{ "from", required_argument, NULL, OPT_LIST_FROM },
	{ "institute", required_argument, NULL, OPT_LIST_INSTITUTE },
	{ "instrument", required_argument, NULL, OPT_LIST_INSTRUMENT },
	{ "managed", no_argument, NULL, OPT_LIST_MANAGED },
	{ "mine", no_argument, NULL, OPT_LIST_MINE },
	{ "site", required_argument, NULL, OPT_LIST_SITE },
	{ "status", required_argument, NULL, OPT_LIST_STATUS },
	{ "to", required_argument, NULL, OPT_LIST_TO },
	{ "user", required_argument, NULL, OPT_LIST_USER },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_list_exec(struct client *, const struct cmd_entry *, int,
		    char **);
static int	cmd_show_booking_exec(struct client *,
		    const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.alias = "ls",
	.about = "list bookings: yours, or an instrument's, site's or "
	    "institute's",
	.usage = "[--mine | --instrument I | --site S | --institute N | --user "
	    "LOGIN]\n            [--managed] [--from T] [--to T] [--status S] "
	    "[--limit N]\n            [--offset N]",
	.help =
	    "  --mine            your own bookings\n"
	    "  --instrument I    bookings of instrument I\n"
	    "  --site S          bookings at site S\n"
	    "  --institute N     bookings of institute N's members\n"
	    "  --user LOGIN      bookings of one user\n"
	    "  --managed         bookings of the instruments you manage "
	    "(with\n"
	    "                    --status pending: what waits for your "
	    "approval)\n"
	    "  --from T          bookings that end after T\n"
	    "  --to T            bookings that start before T\n"
	    "  --status S        pending, confirmed, rejected, cancelled, "
	    "completed,\n"
	    "                    no_show, or a comma list\n"
	    CMD_HELP_PAGE(100, " (at most 10000)")
	    "\n"
	    "Other people's bookings show only the booking institute (or "
	    "busy).\n",
	.options = cmd_list_options,
	.page = 100,
	.page_max = 10000,
	.exec = cmd_list_exec
};

const struct cmd_entry cmd_show_booking_entry = {
	.name = "show-booking",
	.about = "show one booking in full",
	.usage = "ID",
	.help = "  ID                the booking number, as yiqi list shows "
	    "it\n",
	.exec = cmd_show_booking_exec
};

/* Print "Verb #ID: INSTRUMENT 2026-12-01 09:00–11:00 (status)." */
void
cmd_list_print_booking(const char *verb, json_t *r)
{
	char	*when;

	when = output_interval(output_str(r, "start"), output_str(r, "end"));
	printf("%s #%lld: %s %s (%s).\n", verb,
	    (long long)json_integer_value(json_object_get(r, "id")),
	    output_str(r, "instrument"), when, output_str(r, "status"));
	free(when);
}

/* Return the institute to show for a booking: its name, or "busy". */
static const char *
cmd_list_institute(json_t *r)
{
	const char	*s;

	s = json_string_value(json_object_get(r, "institute"));
	return (s != NULL ? s : "busy");
}

static int
cmd_list_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct zone_ref	 zr;
	struct table	*t;
	const char	*from = NULL, *to = NULL, *institute = NULL;
	const char	*status = NULL, *user = NULL;
	const char	*managed = NULL;
	json_t		*resp, *r;
	time_t		 when;
	char		*path, *text, a[64], b[64], *state;
	size_t		 i;
	int		 ch, rc, redacted;

	memset(&zr, 0, sizeof zr);
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_LIST_FROM:
			from = optarg;
			break;
		case OPT_LIST_INSTITUTE:
			institute = optarg;
			break;
		case OPT_LIST_INSTRUMENT:
			zr.instrument = optarg;
			break;
		case OPT_LIST_MINE:
			if (user != NULL && strcmp(user, "me") != 0)
				return (cmd_usage(e, "give --mine or --user, "
				    "not both"));
			user = "me";
			break;
		case OPT_LIST_MANAGED:
			managed = "me";
			break;
		case OPT_LIST_SITE:
			zr.site = optarg;
			break;
		case OPT_LIST_STATUS:
			status = optarg;
			break;
		case OPT_LIST_TO:
			to = optarg;
			break;
		case OPT_LIST_USER:
			if (user != NULL)
				return (cmd_usage(e, "give --mine or --user, "
				    "not both"));
			user = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (optind != argc)
		return (cmd_usage(e, "list takes no arguments"));
	if ((from != NULL && cmd_time_check(c, "--from", from) != 0) ||
	    (to != NULL && cmd_time_check(c, "--to", to) != 0))
		return (YIQI_EXIT_USAGE);

	path = xstrdup("/reservations");
	http_query(&path, "instrument", zr.instrument);
	http_query(&path, "site", zr.site);
	http_query(&path, "institute", institute);
	http_query(&path, "user", user);
	http_query(&path, "status", status);
	http_query(&path, "manages", managed);
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

	t = table_create(8, "ID", "INSTRUMENT", "START", "END", "STATUS",
	    "USER", "INSTITUTE", "PURPOSE");
	json_array_foreach(json_object_get(resp, "items"), i, r) {
		redacted = json_is_true(json_object_get(r, "redacted"));
		xasprintf(&text, "%lld",
		    (long long)json_integer_value(json_object_get(r, "id")));
		xasprintf(&state, "%s%s", output_str(r, "status"),
		    json_is_true(json_object_get(r, "affected_by_blackout")) ?
		    " (blackout)" : "");
		table_add(t, text, output_str(r, "instrument"),
		    output_time(output_str(r, "start"), a, sizeof a),
		    output_time(output_str(r, "end"), b, sizeof b), state,
		    redacted ? "" : output_str(r, "user"),
		    cmd_list_institute(r),
		    redacted ? "" : output_str(r, "purpose"));
		free(state);
		free(text);
	}
	if (t->nrows == 0)
		printf("No bookings match.\n");
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

/* Print a member as a labelled line if it is present and not null. */
static void
cmd_show_booking_field(json_t *r, const char *key, const char *label)
{
	json_t	*v;
	char	 buf[64], *text;

	v = json_object_get(r, key);
	if (v == NULL || json_is_null(v))
		return;
	if (json_is_string(v)) {
		if (strcmp(key, "start") == 0 || strcmp(key, "end") == 0 ||
		    strcmp(key, "created") == 0 || strcmp(key, "updated") == 0 ||
		    strcmp(key, "checked_in") == 0 ||
		    strcmp(key, "checked_out") == 0)
			output_field(label, output_time(json_string_value(v),
			    buf, sizeof buf));
		else
			output_field(label, json_string_value(v));
		return;
	}
	if (json_is_boolean(v)) {
		output_field(label, json_is_true(v) ? "yes" : "no");
		return;
	}
	text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	output_field(label, text != NULL ? text : "?");
	free(text);
}

static int
cmd_show_booking_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const char	*fields[][2] = {
		{ "id", "booking" }, { "instrument", "instrument" },
		{ "site", "site" }, { "start", "start" }, { "end", "end" },
		{ "status", "status" }, { "user", "user" },
		{ "institute", "institute" }, { "purpose", "purpose" },
		{ "project", "project" }, { "series", "series" },
		{ "checked_in", "checked in" },
		{ "checked_out", "checked out" },
		{ "affected_by_blackout", "in a blackout" },
		{ "cancel_reason", "cancel reason" },
		{ "created", "created" }, { "updated", "updated" },
		{ "sequence", "sequence" }, { "uid", "uid" },
		{ NULL, NULL }
	};
	json_t			*r;
	long long		 id;
	int			 rc, i;

	if ((rc = cmd_id_only(c, e, argc, argv, "booking", &id)) != 0 ||
	    (rc = api_call_id(c, "GET", "reservations", id, NULL, NULL,
	    &r)) != 0)
		return (rc);
	if (c->json) {
		output_json(r);
		json_decref(r);
		return (YIQI_EXIT_OK);
	}
	for (i = 0; fields[i][0] != NULL; i++) {
		if (strcmp(fields[i][0], "institute") == 0)
			output_field("institute", cmd_list_institute(r));
		else
			cmd_show_booking_field(r, fields[i][0], fields[i][1]);
	}
	if (json_is_true(json_object_get(r, "redacted")))
		output_field("details", "hidden (another user's booking)");
	json_decref(r);
	return (YIQI_EXIT_OK);
}
