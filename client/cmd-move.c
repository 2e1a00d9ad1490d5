/*
 * cmd-move.c: "yiqi move", move or resize a booking (PATCH
 * /reservations/{id}).
 *
 * With only --start the booking keeps its length: it is read first and
 * its length sent as "duration".  Times without an offset are read in the
 * zone of the booking's instrument, which is then looked up as well.
 */

#include "yiqi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_MOVE_DURATION = 256,
	OPT_MOVE_END,
	OPT_MOVE_START
};

static const struct option cmd_move_options[] = {
	{ "duration", required_argument, NULL, OPT_MOVE_DURATION },
	{ "end", required_argument, NULL, OPT_MOVE_END },
	{ "start", required_argument, NULL, OPT_MOVE_START },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_move_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_move_entry = {
	.name = "move",
	.about = "move a booking to another time, or change its length",
	.usage = "ID --start T [--end T | --duration D]",
	.help =
	    "  ID                the booking number, as yiqi list shows it\n"
	    "  --start T         the new start (the length stays unless --end "
	    "or\n"
	    "                    --duration is given)\n"
	    "  --end T           the new end\n"
	    "  --duration D      the new length: 90m, 2h, 1h30m, PT2H\n"
	    "\n"
	    "The booking keeps its number; every rule is checked again.  "
	    "--end or\n--duration alone changes the length and keeps the "
	    "start.\n",
	.options = cmd_move_options,
	.exec = cmd_move_exec
};

static int
cmd_move_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct zone_ref	 zr;
	const char	*start = NULL, *end = NULL, *duration = NULL;
	json_t		*body = NULL, *cur = NULL, *resp;
	time_t		 t0 = 0, t1, cur0, cur1;
	long long	 id;
	long		 secs = 0;
	char		*path, *text, iso[32];
	int		 ch, rc;

	memset(&zr, 0, sizeof zr);
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_MOVE_DURATION:
			duration = optarg;
			break;
		case OPT_MOVE_END:
			end = optarg;
			break;
		case OPT_MOVE_START:
			start = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if ((rc = cmd_id_arg(e, argc, argv, "booking", &id)) != 0)
		return (rc);
	if (start == NULL && end == NULL && duration == NULL)
		return (cmd_usage(e, "say where to with --start (and --end or "
		    "--duration)"));
	if (end != NULL && duration != NULL)
		return (cmd_usage(e, "give either --end or --duration"));
	if ((start != NULL && cmd_time_check(c, "--start", start) != 0) ||
	    (end != NULL && cmd_time_check(c, "--end", end) != 0))
		return (YIQI_EXIT_USAGE);
	if (start != NULL && end != NULL &&
	    cmd_time_order(c, start, end) != 0)
		return (YIQI_EXIT_USAGE);
	if (duration != NULL &&
	    cmd_duration("--duration", duration, &secs) != 0)
		return (YIQI_EXIT_USAGE);

	xasprintf(&path, "/reservations/%lld", id);
	/* Read the booking if its length or its instrument's zone is needed. */
	if ((start != NULL && end == NULL && duration == NULL) ||
	    (start != NULL && timeparse_zoned(start)) ||
	    (end != NULL && timeparse_zoned(end))) {
		if ((rc = api_call(c, "GET", path, NULL, &cur)) != 0)
			goto out;
		zr.instrument = output_str(cur, "instrument");
		if (*zr.instrument == '\0')
			zr.instrument = NULL;
	}

	body = json_object();
	if (start != NULL) {
		if ((rc = cmd_time(c, &zr, "--start", start, &t0)) != 0)
			goto out;
		text = cmd_api_time(&zr, t0);
		json_object_set_new(body, "start", json_string(text));
		free(text);
	}
	if (end != NULL) {
		if ((rc = cmd_time(c, &zr, "--end", end, &t1)) != 0)
			goto out;
		if (start != NULL && t1 <= t0) {
			fprintf(stderr, "yiqi: --end must be after --start.\n");
			rc = YIQI_EXIT_USAGE;
			goto out;
		}
		text = cmd_api_time(&zr, t1);
		json_object_set_new(body, "end", json_string(text));
		free(text);
	} else if (duration == NULL && start != NULL) {
		if (timeparse(output_str(cur, "start"), "UTC", 0, &cur0,
		    NULL) != 0 || timeparse(output_str(cur, "end"), "UTC", 0,
		    &cur1, NULL) != 0 || cur1 <= cur0) {
			fprintf(stderr, "yiqi: cannot tell how long booking "
			    "#%lld is; give --end or --duration.\n", id);
			rc = YIQI_EXIT_FAIL;
			goto out;
		}
		secs = cur1 - cur0;
	}
	if (secs != 0) {
		durfmt(secs, iso, sizeof iso);
		json_object_set_new(body, "duration", json_string(iso));
	}

	c->clash_hint = "Move it there with";
	if ((rc = api_call(c, "PATCH", path, body, &resp)) != 0)
		goto out;
	if (c->json)
		output_json(resp);
	else
		cmd_list_print_booking("Moved", resp);
	json_decref(resp);
out:
	json_decref(body);
	json_decref(cur);
	free(path);
	zone_ref_free(&zr);
	return (rc);
}
