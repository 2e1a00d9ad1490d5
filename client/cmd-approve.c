/*
 * cmd-approve.c: what managers do to a booking: "yiqi approve" and "yiqi
 * reject" a pending one, "yiqi checkin" and "yiqi checkout" when it is used
 * (POST /reservations/{id}/approve, /reject, /checkin, /checkout).
 *
 * All four share cmd_approve_exec(); the entry's name is the action.
 */

#include "yiqi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_APPROVE_REASON = 256
};

static const struct option cmd_reject_options[] = {
	{ "reason", required_argument, NULL, OPT_APPROVE_REASON },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_approve_exec(struct client *, const struct cmd_entry *,
		    int, char **);

#define CMD_APPROVE_ID_HELP \
	"  ID                the booking number, as yiqi list shows it\n"

const struct cmd_entry cmd_approve_entry = {
	.name = "approve",
	.about = "approve a pending booking (managers)",
	.usage = "ID",
	.help = CMD_APPROVE_ID_HELP,
	.exec = cmd_approve_exec
};

const struct cmd_entry cmd_reject_entry = {
	.name = "reject",
	.about = "reject a pending booking (managers)",
	.usage = "ID [--reason TEXT]",
	.help = CMD_APPROVE_ID_HELP
	    "  --reason TEXT     why (shown to the person who booked)\n",
	.options = cmd_reject_options,
	.exec = cmd_approve_exec
};

const struct cmd_entry cmd_checkin_entry = {
	.name = "checkin",
	.about = "record that a booking's user has arrived",
	.usage = "ID",
	.help = CMD_APPROVE_ID_HELP
	    "\nA booking not checked in within the grace period after its "
	    "start\nbecomes a no-show.\n",
	.exec = cmd_approve_exec
};

const struct cmd_entry cmd_checkout_entry = {
	.name = "checkout",
	.about = "record that a booking's user has finished",
	.usage = "ID",
	.help = CMD_APPROVE_ID_HELP,
	.exec = cmd_approve_exec
};

static int
cmd_approve_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	const char	*reason = NULL, *verb;
	json_t		*body = NULL, *resp;
	long long	 id;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_APPROVE_REASON:
			reason = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if ((rc = cmd_id_arg(e, argc, argv, "booking", &id)) != 0)
		return (rc);

	if (reason != NULL) {
		body = json_object();
		json_object_set_new(body, "reason", json_string(reason));
	}
	rc = api_call_id(c, "POST", "reservations", id, e->name, body, &resp);
	json_decref(body);
	if (rc != 0)
		return (rc);

	if (e == &cmd_approve_entry)
		verb = "Approved";
	else if (e == &cmd_reject_entry)
		verb = "Rejected";
	else if (e == &cmd_checkin_entry)
		verb = "Checked in";
	else
		verb = "Checked out";
	if (c->json)
		output_json(resp);
	else if (json_object_get(resp, "id") != NULL)
		cmd_list_print_booking(verb, resp);
	else
		printf("%s #%lld.\n", verb, id);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
