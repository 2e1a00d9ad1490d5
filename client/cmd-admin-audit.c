/*
 * cmd-admin-audit.c: "yiqi admin audit": who changed what and when, from
 * the daemon's append-only audit log (GET /audit; admins only).
 */

#include "yiqi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_AUDIT_BOOKING = 256,
	OPT_AUDIT_SINCE,
	OPT_AUDIT_USER
};

static const struct option cmd_admin_audit_options[] = {
	{ "booking", required_argument, NULL, OPT_AUDIT_BOOKING },
	{ "since", required_argument, NULL, OPT_AUDIT_SINCE },
	{ "user", required_argument, NULL, OPT_AUDIT_USER },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_admin_audit_exec(struct client *, const struct cmd_entry *,
		    int, char **);

const struct cmd_entry cmd_admin_audit_entry = {
	.name = "audit",
	.about = "show who changed what and when (the audit log)",
	.usage = "[--booking ID | --user LOGIN] [--since T] [--limit N]\n"
	    "            [--offset N]",
	.help =
	    "  --booking ID      changes to one booking\n"
	    "  --user LOGIN      changes made by one user\n"
	    "  --since T         changes at or after T\n"
	    CMD_HELP_PAGE(100, ""),
	.options = cmd_admin_audit_options,
	.page = 100,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_audit_exec
};

static void
cmd_admin_audit_print(struct client *c, const struct cmd_entry *e,
    json_t *resp)
{
	struct table	*t;
	json_t		*a;
	char		 when[64], *what, *detail;
	size_t		 i;

	t = table_create(5, "WHEN", "WHO", "ACTION", "OBJECT", "DETAIL");
	json_array_foreach(json_object_get(resp, "items"), i, a) {
		xasprintf(&what, "%s %s", output_str(a, "object"),
		    output_str(a, "object_id"));
		detail = json_dumps(json_object_get(a, "detail"), JSON_COMPACT);
		table_add(t, output_time(output_str(a, "at"), when, sizeof when),
		    json_is_string(json_object_get(a, "user")) ?
		    output_str(a, "user") : "(yiqid)", output_str(a, "action"),
		    what, detail != NULL ? detail : "");
		free(what);
		free(detail);
	}
	if (t->nrows == 0)
		printf("No changes match.\n");
	else
		table_print(t, stdout);
	output_page_note(c, e, resp, t->nrows, NULL);
	table_free(t);
}

static int
cmd_admin_audit_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct zone_ref	 zr;
	const char	*booking = NULL, *user = NULL, *since = NULL;
	long long	 n;
	json_t		*resp;
	char		*path, *text;
	time_t		 when;
	int		 ch, rc;

	memset(&zr, 0, sizeof zr);
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_AUDIT_BOOKING:
			if (cmd_number("--booking", optarg, 1, LLONG_MAX, &n) != 0)
				return (YIQI_EXIT_USAGE);
			booking = optarg;
			break;
		case OPT_AUDIT_SINCE:
			since = optarg;
			break;
		case OPT_AUDIT_USER:
			user = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (optind != argc)
		return (cmd_usage(e, "unexpected '%s'", argv[optind]));
	if (since != NULL && cmd_time_check(c, "--since", since) != 0)
		return (YIQI_EXIT_USAGE);
	path = xstrdup("/audit");
	if (booking != NULL) {
		http_query(&path, "object", "reservation");
		http_query(&path, "id", booking);
	}
	http_query(&path, "user", user);
	cmd_page_query(c, &path);
	if (since != NULL) {
		if ((rc = cmd_time(c, &zr, "--since", since, &when)) != 0)
			goto out;
		text = cmd_api_time(&zr, when);
		http_query(&path, "since", text);
		free(text);
	}
	if ((rc = api_call(c, "GET", path, NULL, &resp)) != 0)
		goto out;
	if (c->json)
		output_json(resp);
	else
		cmd_admin_audit_print(c, e, resp);
	json_decref(resp);
out:
	free(path);
	zone_ref_free(&zr);
	return (rc);
}
