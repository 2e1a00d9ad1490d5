/*
 * cmd-admin-quotas.c: "yiqi admin quotas" (list), "... add" and "... rm":
 * caps on what a user or an institute may book of an instrument or a
 * category per week or month (GET/POST /quotas, DELETE /quotas/{id}).
 */

#include "yiqi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_QUOTA_CATEGORY = 256,
	OPT_QUOTA_INSTRUMENT,
	OPT_QUOTA_MAX_BOOKINGS,
	OPT_QUOTA_MAX_HOURS,
	OPT_QUOTA_PER,
	OPT_QUOTA_PERIOD
};

static const struct option cmd_admin_quotas_options[] = {
	{ "category", required_argument, NULL, OPT_QUOTA_CATEGORY },
	{ "instrument", required_argument, NULL, OPT_QUOTA_INSTRUMENT },
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_admin_quotas_add_options[] = {
	{ "category", required_argument, NULL, OPT_QUOTA_CATEGORY },
	{ "instrument", required_argument, NULL, OPT_QUOTA_INSTRUMENT },
	{ "max-bookings", required_argument, NULL, OPT_QUOTA_MAX_BOOKINGS },
	{ "max-hours", required_argument, NULL, OPT_QUOTA_MAX_HOURS },
	{ "per", required_argument, NULL, OPT_QUOTA_PER },
	{ "period", required_argument, NULL, OPT_QUOTA_PERIOD },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_admin_quotas_exec(struct client *,
		    const struct cmd_entry *, int, char **);
static int	cmd_admin_quotas_add_exec(struct client *,
		    const struct cmd_entry *, int, char **);
static int	cmd_admin_quotas_rm_exec(struct client *,
		    const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_admin_quotas_entry = {
	.name = "quotas",
	.about = "list booking quotas",
	.usage = "[--instrument I | --category C] [--limit N] [--offset N]",
	.help =
	    "  --instrument I    only the quotas on instrument I\n"
	    "  --category C      only the quotas on category C\n"
	    CMD_HELP_PAGE(100, ""),
	.options = cmd_admin_quotas_options,
	.page = 100,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_quotas_exec
};

const struct cmd_entry cmd_admin_quotas_add_entry = {
	.name = "quotas add",
	.about = "cap what a user or an institute may book per week or month",
	.usage = "(--instrument I | --category C) --per user|institute "
	    "--period week|month (--max-hours N | --max-bookings N)",
	.help =
	    "  --instrument I    on instrument I (its managers may), or\n"
	    "  --category C      on every instrument of category C, together\n"
	    "  --per W           user: each user; institute: all users of "
	    "each institute\n"
	    "  --period P        week (from Monday 00:00) or month (from the "
	    "1st)\n"
	    "  --max-hours N     at most N booked hours, or\n"
	    "  --max-bookings N  at most N bookings\n"
	    "\nPending and confirmed bookings count, in the period their "
	    "start is in.\n",
	.options = cmd_admin_quotas_add_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_quotas_add_exec
};

const struct cmd_entry cmd_admin_quotas_rm_entry = {
	.name = "quotas rm",
	.about = "remove a booking quota",
	.usage = "ID",
	.help = "  ID                the quota's number, as yiqi admin quotas "
	    "shows it\n",
	.flags = CMD_ADMIN,
	.exec = cmd_admin_quotas_rm_exec
};

/* The quota's cap as text: "8 h" or "3 bookings". */
static void
cmd_admin_quota_cap(json_t *q, char *buf, size_t len)
{
	json_t	*h = json_object_get(q, "max_hours");

	if (json_is_integer(h))
		snprintf(buf, len, "%lld h", (long long)json_integer_value(h));
	else
		snprintf(buf, len, "%lld bookings", (long long)
		    json_integer_value(json_object_get(q, "max_bookings")));
}

static int
cmd_admin_quotas_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct table	*t;
	const char	*instrument = NULL, *category = NULL;
	json_t		*resp, *q;
	char		 id[32], cap[64], *path, *on;
	size_t		 i;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		if (ch == OPT_QUOTA_CATEGORY)
			category = optarg;
		else if (ch == OPT_QUOTA_INSTRUMENT)
			instrument = optarg;
		else
			return (cmd_usage(e, NULL));
	}
	if (argc != optind)
		return (cmd_usage(e, "quotas takes no arguments"));
	path = xstrdup("/quotas");
	http_query(&path, "instrument", instrument);
	http_query(&path, "category", category);
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
	t = table_create(5, "ID", "ON", "PER", "PERIOD", "CAP");
	json_array_foreach(json_object_get(resp, "items"), i, q) {
		snprintf(id, sizeof id, "%lld",
		    (long long)json_integer_value(json_object_get(q, "id")));
		if (json_is_string(json_object_get(q, "instrument")))
			on = xstrdup(output_str(q, "instrument"));
		else
			xasprintf(&on, "category %s", output_str(q, "category"));
		cmd_admin_quota_cap(q, cap, sizeof cap);
		table_add(t, id, on, output_str(q, "per"), output_str(q,
		    "period"), cap);
		free(on);
	}
	if (t->nrows == 0)
		printf("No quotas.\n");
	else
		table_print(t, stdout);
	output_page_note(c, e, resp, t->nrows, NULL);
	table_free(t);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}

static int
cmd_admin_quotas_add_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	const char	*key;
	json_t		*body, *resp;
	long long	 n;
	char		 cap[64];
	int		 ch, rc;

	body = json_object();
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		key = NULL;
		switch (ch) {
		case OPT_QUOTA_CATEGORY:
			key = "category";
			break;
		case OPT_QUOTA_INSTRUMENT:
			key = "instrument";
			break;
		case OPT_QUOTA_PER:
			key = "per";
			break;
		case OPT_QUOTA_PERIOD:
			key = "period";
			break;
		case OPT_QUOTA_MAX_BOOKINGS:
		case OPT_QUOTA_MAX_HOURS:
			if (cmd_number(ch == OPT_QUOTA_MAX_HOURS ?
			    "--max-hours" : "--max-bookings", optarg, 1, 10000,
			    &n) != 0) {
				json_decref(body);
				return (YIQI_EXIT_USAGE);
			}
			json_object_set_new(body, ch == OPT_QUOTA_MAX_HOURS ?
			    "max_hours" : "max_bookings", json_integer(n));
			continue;
		default:
			json_decref(body);
			return (cmd_usage(e, NULL));
		}
		json_object_set_new(body, key, json_string(optarg));
	}
	if (argc != optind || json_object_get(body, "per") == NULL ||
	    json_object_get(body, "period") == NULL) {
		json_decref(body);
		return (cmd_usage(e, "give --per and --period"));
	}
	rc = api_call(c, "POST", "/quotas", body, &resp);
	json_decref(body);
	if (rc != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else {
		cmd_admin_quota_cap(resp, cap, sizeof cap);
		printf("Added quota #%lld: %s per %s per %s on %s%s.\n",
		    (long long)json_integer_value(json_object_get(resp, "id")),
		    cap, output_str(resp, "per"), output_str(resp, "period"),
		    json_is_string(json_object_get(resp, "instrument")) ? "" :
		    "category ", json_is_string(json_object_get(resp,
		    "instrument")) ? output_str(resp, "instrument") :
		    output_str(resp, "category"));
	}
	json_decref(resp);
	return (YIQI_EXIT_OK);
}

static int
cmd_admin_quotas_rm_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	json_t		*resp;
	long long	 id;
	int		 rc;

	if ((rc = cmd_id_only(c, e, argc, argv, "quota", &id)) != 0 ||
	    (rc = api_call_id(c, "DELETE", "quotas", id, NULL, NULL,
	    &resp)) != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else
		printf("Removed quota #%lld.\n", id);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
