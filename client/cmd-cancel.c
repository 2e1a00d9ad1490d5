/*
 * cmd-cancel.c: "yiqi cancel", cancel a booking, or with --series every
 * booking of its recurring series (DELETE /reservations/{id} with the body
 * {"reason", "series"}).
 */

#include "yiqi.h"

#include <limits.h>
#include <stdlib.h>

enum {
	OPT_CANCEL_REASON = 256,
	OPT_CANCEL_SERIES
};

static const struct option cmd_cancel_options[] = {
	{ "reason", required_argument, NULL, OPT_CANCEL_REASON },
	{ "series", no_argument, NULL, OPT_CANCEL_SERIES },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_cancel_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_cancel_entry = {
	.name = "cancel",
	.about = "cancel a booking (or its whole series)",
	.usage = "ID [--series] [--reason TEXT]",
	.help =
	    "  ID                the booking number, as yiqi list shows it\n"
	    "  --series          cancel every booking of its recurring series\n"
	    "  --reason TEXT     why (shown to the owner and the managers)\n",
	.options = cmd_cancel_options,
	.exec = cmd_cancel_exec
};

static int
cmd_cancel_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	const char	*reason = NULL;
	json_t		*body = NULL, *resp;
	long long	 id;
	int		 ch, rc, series = 0;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_CANCEL_REASON:
			reason = optarg;
			break;
		case OPT_CANCEL_SERIES:
			series = 1;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if ((rc = cmd_id_arg(e, argc, argv, "booking", &id)) != 0)
		return (rc);

	if (reason != NULL || series) {
		body = json_object();
		if (reason != NULL)
			json_object_set_new(body, "reason",
			    json_string(reason));
		if (series)
			json_object_set_new(body, "series", json_true());
	}
	rc = api_call_id(c, "DELETE", "reservations", id, NULL, body, &resp);
	json_decref(body);
	if (rc != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else if (json_object_get(resp, "id") != NULL)
		cmd_list_print_booking("Cancelled", resp);
	else if (json_is_array(json_object_get(resp, "items")))
		printf("Cancelled %zu bookings of the series of #%lld.\n",
		    json_array_size(json_object_get(resp, "items")), id);
	else
		printf("Cancelled #%lld.\n", id);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
