/*
 * cmd-book.c: "yiqi book", reserve an instrument (POST /reservations).
 *
 * Times without an offset are read in the instrument's zone and sent as
 * RFC 3339 with that zone's offset; a --duration is sent as ISO 8601.
 * --repeat and --skip-conflicts are passed through for recurring bookings,
 * whose answer is {"series", "items", "skipped"}; --usage-type is passed
 * through for the server to check.
 */

#include "yiqi.h"

#include <stdlib.h>
#include <string.h>

enum {
	OPT_BOOK_DURATION = 256,
	OPT_BOOK_END,
	OPT_BOOK_FOR,
	OPT_BOOK_PROJECT,
	OPT_BOOK_PURPOSE,
	OPT_BOOK_REPEAT,
	OPT_BOOK_SKIP_CONFLICTS,
	OPT_BOOK_START,
	OPT_BOOK_USAGE_TYPE
};

static const struct option cmd_book_options[] = {
	{ "duration", required_argument, NULL, OPT_BOOK_DURATION },
	{ "end", required_argument, NULL, OPT_BOOK_END },
	{ "for", required_argument, NULL, OPT_BOOK_FOR },
	{ "project", required_argument, NULL, OPT_BOOK_PROJECT },
	{ "purpose", required_argument, NULL, OPT_BOOK_PURPOSE },
	{ "repeat", required_argument, NULL, OPT_BOOK_REPEAT },
	{ "skip-conflicts", no_argument, NULL, OPT_BOOK_SKIP_CONFLICTS },
	{ "start", required_argument, NULL, OPT_BOOK_START },
	{ "usage-type", required_argument, NULL, OPT_BOOK_USAGE_TYPE },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_book_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_book_entry = {
	.name = "book",
	.about = "book an instrument",
	.usage = "INSTRUMENT --start T (--end T | --duration D) [--purpose TEXT] "
	    "[--project P]\n            [--for LOGIN] [--repeat RRULE] "
	    "[--skip-conflicts]\n            [--usage-type research|teaching|"
	    "service|open]",
	.help =
	    "  INSTRUMENT        the instrument code, e.g. HC-ICPMS-01\n"
	    "  --start T         when the booking starts\n"
	    "  --end T           when it ends, or\n"
	    "  --duration D      how long it lasts: 90m, 2h, 1h30m, PT2H\n"
	    "  --purpose TEXT    what it is for\n"
	    "  --project P       the project or grant to bill\n"
	    "  --for LOGIN       book for another user (managers and admins)\n"
	    "  --repeat RRULE    repeat it, e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=8\n"
	    "  --skip-conflicts  with --repeat, book the free occurrences and "
	    "list the\n"
	    "                    others instead of booking none\n"
	    "  --usage-type U    research (default), teaching, service "
	    "(testing for\n"
	    "                    others) or open (open use), as reports count "
	    "it\n"
	    "\n"
	    "A time without an offset is read in the instrument's time zone.  "
	    "If the\nslot is taken (exit 3), the next free slot of the same "
	    "length is shown.\n",
	.options = cmd_book_options,
	.exec = cmd_book_exec
};

/* Print the answer to a recurring booking. */
static void
cmd_book_print_series(json_t *resp, const char *instrument)
{
	json_t		*item, *skipped;
	const char	*why;
	char		*when;
	size_t		 i;

	printf("Booked series #%lld: %zu booking%s of %s.\n",
	    (long long)json_integer_value(json_object_get(resp, "series")),
	    json_array_size(json_object_get(resp, "items")),
	    json_array_size(json_object_get(resp, "items")) == 1 ? "" : "s",
	    instrument);
	json_array_foreach(json_object_get(resp, "items"), i, item) {
		when = output_interval(output_str(item, "start"),
		    output_str(item, "end"));
		printf("  #%lld  %s (%s)\n", (long long)json_integer_value(
		    json_object_get(item, "id")), when,
		    output_str(item, "status"));
		free(when);
	}
	skipped = json_object_get(resp, "skipped");
	if (json_array_size(skipped) == 0)
		return;
	printf("Skipped %zu occurrence%s:\n", json_array_size(skipped),
	    json_array_size(skipped) == 1 ? "" : "s");
	json_array_foreach(skipped, i, item) {
		why = output_str(item, "reason");
		if (*why == '\0')
			why = output_str(item, "message");
		when = output_interval(output_str(item, "start"),
		    output_str(item, "end"));
		printf("  %s%s%s\n", when, *why != '\0' ? ": " : "", why);
		free(when);
	}
}

static int
cmd_book_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct zone_ref	 zr;
	const char	*start = NULL, *end = NULL, *duration = NULL;
	const char	*purpose = NULL, *project = NULL, *user = NULL;
	const char	*repeat = NULL, *usage = NULL;
	json_t		*body = NULL, *resp;
	time_t		 t0, t1;
	long		 secs = 0;
	char		*text, iso[32];
	int		 ch, rc, skip = 0;

	memset(&zr, 0, sizeof zr);
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_BOOK_DURATION:
			duration = optarg;
			break;
		case OPT_BOOK_END:
			end = optarg;
			break;
		case OPT_BOOK_FOR:
			user = optarg;
			break;
		case OPT_BOOK_PROJECT:
			project = optarg;
			break;
		case OPT_BOOK_PURPOSE:
			purpose = optarg;
			break;
		case OPT_BOOK_REPEAT:
			repeat = optarg;
			break;
		case OPT_BOOK_SKIP_CONFLICTS:
			skip = 1;
			break;
		case OPT_BOOK_START:
			start = optarg;
			break;
		case OPT_BOOK_USAGE_TYPE:
			usage = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (argc - optind != 1)
		return (cmd_usage(e, "name one instrument to book"));
	if (start == NULL)
		return (cmd_usage(e, "say when with --start"));
	if ((end == NULL) == (duration == NULL))
		return (cmd_usage(e, "give either --end or --duration"));
	if (skip && repeat == NULL)
		return (cmd_usage(e, "--skip-conflicts goes with --repeat"));
	if (cmd_time_check(c, "--start", start) != 0 ||
	    (end != NULL && cmd_time_check(c, "--end", end) != 0))
		return (YIQI_EXIT_USAGE);
	if (start != NULL && end != NULL &&
	    cmd_time_order(c, start, end) != 0)
		return (YIQI_EXIT_USAGE);
	if (duration != NULL &&
	    cmd_duration("--duration", duration, &secs) != 0)
		return (YIQI_EXIT_USAGE);
	zr.instrument = argv[optind];

	if ((rc = cmd_time(c, &zr, "--start", start, &t0)) != 0)
		goto out;
	body = json_object();
	json_object_set_new(body, "instrument", json_string(argv[optind]));
	text = cmd_api_time(&zr, t0);
	json_object_set_new(body, "start", json_string(text));
	free(text);
	if (end != NULL) {
		if ((rc = cmd_time(c, &zr, "--end", end, &t1)) != 0)
			goto out;
		if (t1 <= t0) {
			fprintf(stderr, "yiqi: --end must be after --start.\n");
			rc = YIQI_EXIT_USAGE;
			goto out;
		}
		text = cmd_api_time(&zr, t1);
		json_object_set_new(body, "end", json_string(text));
		free(text);
	} else {
		durfmt(secs, iso, sizeof iso);
		json_object_set_new(body, "duration", json_string(iso));
	}
	if (purpose != NULL)
		json_object_set_new(body, "purpose", json_string(purpose));
	if (project != NULL)
		json_object_set_new(body, "project", json_string(project));
	if (user != NULL)
		json_object_set_new(body, "user", json_string(user));
	if (repeat != NULL)
		json_object_set_new(body, "repeat", json_string(repeat));
	if (skip)
		json_object_set_new(body, "skip_conflicts", json_true());
	if (usage != NULL)
		json_object_set_new(body, "usage_type", json_string(usage));

	c->clash_hint = "Book that instead with";
	if ((rc = api_call(c, "POST", "/reservations", body, &resp)) != 0)
		goto out;
	if (c->json)
		output_json(resp);
	else if (json_object_get(resp, "series") != NULL &&
	    json_object_get(resp, "items") != NULL)
		cmd_book_print_series(resp, argv[optind]);
	else
		cmd_list_print_booking("Booked", resp);
	json_decref(resp);
out:
	json_decref(body);
	zone_ref_free(&zr);
	return (rc);
}
