/*
 * cmd-admin-suspensions.c: "yiqi admin suspensions" (GET /suspensions) and
 * "... suspensions lift ID" (POST /suspensions/{id}/lift): who may not
 * book after repeated no-shows and late cancellations.  Members see their
 * own; managers everyone's; only admins lift.
 */

#include "yiqi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_SUSP_ALL = 256,
	OPT_SUSP_USER
};

static const struct option cmd_admin_suspensions_options[] = {
	{ "all", no_argument, NULL, OPT_SUSP_ALL },
	{ "user", required_argument, NULL, OPT_SUSP_USER },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_admin_suspensions_exec(struct client *,
		    const struct cmd_entry *, int, char **);
static int	cmd_admin_suspensions_lift_exec(struct client *,
		    const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_admin_suspensions_entry = {
	.name = "suspensions",
	.about = "list suspensions from booking (members: their own)",
	.usage = "[--user LOGIN] [--all] [--limit N] [--offset N]",
	.help =
	    "  --user LOGIN      only LOGIN's suspensions\n"
	    "  --all             past and lifted ones too\n"
	    CMD_HELP_PAGE(100, ""),
	.options = cmd_admin_suspensions_options,
	.page = 100,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_suspensions_exec
};

const struct cmd_entry cmd_admin_suspensions_lift_entry = {
	.name = "suspensions lift",
	.about = "lift a suspension (admins)",
	.usage = "ID",
	.help = "  ID                the suspension's number, as yiqi admin "
	    "suspensions shows it\n",
	.flags = CMD_ADMIN,
	.exec = cmd_admin_suspensions_lift_exec
};

static int
cmd_admin_suspensions_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	struct table	*t;
	const char	*user = NULL;
	json_t		*resp, *s;
	char		 id[32], n[32], *path;
	size_t		 i;
	int		 ch, rc, all = 0;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		if (ch == OPT_SUSP_ALL)
			all = 1;
		else if (ch == OPT_SUSP_USER)
			user = optarg;
		else
			return (cmd_usage(e, NULL));
	}
	if (argc != optind)
		return (cmd_usage(e, "suspensions takes no arguments"));
	path = xstrdup("/suspensions");
	http_query(&path, "user", user);
	http_query(&path, "active", all ? NULL : "true");
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
	t = table_create(6, "ID", "USER", "FROM", "UNTIL", "VIOLATIONS",
	    "STATE");
	json_array_foreach(json_object_get(resp, "items"), i, s) {
		snprintf(id, sizeof id, "%lld",
		    (long long)json_integer_value(json_object_get(s, "id")));
		snprintf(n, sizeof n, "%lld", (long long)json_integer_value(
		    json_object_get(s, "violations")));
		table_add(t, id, output_str(s, "user"), output_str(s, "start"),
		    output_str(s, "until"), n, json_is_true(json_object_get(s,
		    "active")) ? "active" : json_is_string(json_object_get(s,
		    "lifted")) ? "lifted" : "over");
	}
	if (t->nrows == 0)
		printf("No %ssuspensions.\n", all ? "" : "current ");
	else
		table_print(t, stdout);
	output_page_note(c, e, resp, t->nrows, NULL);
	table_free(t);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}

static int
cmd_admin_suspensions_lift_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	json_t		*resp;
	long long	 id;
	int		 rc;

	if ((rc = cmd_id_only(c, e, argc, argv, "suspension", &id)) != 0 ||
	    (rc = api_call_id(c, "POST", "suspensions", id, "lift", NULL,
	    &resp)) != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else
		printf("Lifted suspension #%lld of %s.\n", id,
		    output_str(resp, "user"));
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
