/*
 * cmd-fault.c: "yiqi fault INSTRUMENT" reports a fault (POST
 * /instruments/{code}/faults), and the admin actions "yiqi admin faults"
 * (GET /faults) and "... faults resolve ID" (POST /faults/{id}/resolve).
 *
 * A high fault puts the instrument in maintenance until a manager
 * resolves it; both answers list the upcoming bookings it affects.
 */

#include "yiqi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_FAULT_ALL = 256,
	OPT_FAULT_DESCRIPTION,
	OPT_FAULT_INSTRUMENT,
	OPT_FAULT_RESOLUTION,
	OPT_FAULT_SEVERITY
};

static const struct option cmd_fault_options[] = {
	{ "description", required_argument, NULL, OPT_FAULT_DESCRIPTION },
	{ "severity", required_argument, NULL, OPT_FAULT_SEVERITY },
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_admin_faults_options[] = {
	{ "all", no_argument, NULL, OPT_FAULT_ALL },
	{ "instrument", required_argument, NULL, OPT_FAULT_INSTRUMENT },
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_admin_faults_resolve_options[] = {
	{ "resolution", required_argument, NULL, OPT_FAULT_RESOLUTION },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_fault_exec(struct client *, const struct cmd_entry *, int,
		    char **);
static int	cmd_admin_faults_exec(struct client *,
		    const struct cmd_entry *, int, char **);
static int	cmd_admin_faults_resolve_exec(struct client *,
		    const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_fault_entry = {
	.name = "fault",
	.about = "report a fault on an instrument",
	.usage = "INSTRUMENT --severity low|medium|high --description TEXT",
	.help =
	    "  INSTRUMENT        the instrument's code\n"
	    "  --severity S      low, medium or high; high puts the instrument "
	    "in\n                    maintenance until a manager resolves it\n"
	    "  --description T   what is wrong\n",
	.options = cmd_fault_options,
	.exec = cmd_fault_exec
};

const struct cmd_entry cmd_admin_faults_entry = {
	.name = "faults",
	.about = "list open fault reports and the bookings they affect",
	.usage = "[--instrument I] [--all] [--limit N] [--offset N]",
	.help =
	    "  --instrument I    only the faults of instrument I\n"
	    "  --all             resolved faults too\n"
	    CMD_HELP_PAGE(100, ""),
	.options = cmd_admin_faults_options,
	.page = 100,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_faults_exec
};

const struct cmd_entry cmd_admin_faults_resolve_entry = {
	.name = "faults resolve",
	.about = "resolve a fault; the instrument is active again when no "
	    "high fault is open",
	.usage = "ID [--resolution TEXT]",
	.help =
	    "  ID                the fault's number, as yiqi admin faults shows "
	    "it\n"
	    "  --resolution T    what was done\n",
	.options = cmd_admin_faults_resolve_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_faults_resolve_exec
};

/* Print a fault and the upcoming bookings it affects. */
static void
cmd_fault_print(const char *verb, json_t *f)
{
	json_t	*aff = json_object_get(f, "affected"), *b;
	size_t	 i;

	printf("%s fault #%lld (%s) on %s; %s is %s.\n", verb,
	    (long long)json_integer_value(json_object_get(f, "id")),
	    output_str(f, "severity"), output_str(f, "instrument"),
	    output_str(f, "instrument"), output_str(f, "instrument_status"));
	if (json_array_size(aff) == 0)
		return;
	printf("Upcoming bookings of %s:\n", output_str(f, "instrument"));
	json_array_foreach(aff, i, b)
		cmd_list_print_booking("  Booking", b);
}

static int
cmd_fault_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	const char	*severity = NULL, *description = NULL;
	json_t		*body, *resp;
	char		*path, *code;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		if (ch == OPT_FAULT_SEVERITY)
			severity = optarg;
		else if (ch == OPT_FAULT_DESCRIPTION)
			description = optarg;
		else
			return (cmd_usage(e, NULL));
	}
	if (argc - optind != 1)
		return (cmd_usage(e, "give one instrument"));
	if (severity == NULL || description == NULL)
		return (cmd_usage(e, "give --severity and --description"));
	body = json_pack("{s:s,s:s}", "severity", severity, "description",
	    description);
	if (body == NULL)
		return (cmd_usage(e, "the description must be UTF-8 text"));
	code = http_escape(argv[optind]);
	xasprintf(&path, "/instruments/%s/faults", code);
	free(code);
	rc = api_call(c, "POST", path, body, &resp);
	free(path);
	json_decref(body);
	if (rc != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else
		cmd_fault_print("Reported", resp);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}

static int
cmd_admin_faults_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct table	*t;
	const char	*instrument = NULL;
	json_t		*resp, *f;
	char		 id[32], aff[32], *path;
	size_t		 i;
	int		 ch, rc, all = 0;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		if (ch == OPT_FAULT_ALL)
			all = 1;
		else if (ch == OPT_FAULT_INSTRUMENT)
			instrument = optarg;
		else
			return (cmd_usage(e, NULL));
	}
	if (argc != optind)
		return (cmd_usage(e, "faults takes no arguments"));
	path = xstrdup("/faults");
	http_query(&path, "instrument", instrument);
	http_query(&path, "open", all ? NULL : "true");
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
	t = table_create(7, "ID", "INSTRUMENT", "SEVERITY", "STATUS",
	    "BOOKINGS", "BY", "DESCRIPTION");
	json_array_foreach(json_object_get(resp, "items"), i, f) {
		snprintf(id, sizeof id, "%lld",
		    (long long)json_integer_value(json_object_get(f, "id")));
		snprintf(aff, sizeof aff, "%zu", json_array_size(
		    json_object_get(f, "affected")));
		table_add(t, id, output_str(f, "instrument"), output_str(f,
		    "severity"), json_is_true(json_object_get(f, "open")) ?
		    "open" : "resolved", aff, output_str(f, "reported_by"),
		    output_str(f, "description"));
	}
	if (t->nrows == 0)
		printf("No %sfaults.\n", all ? "" : "open ");
	else
		table_print(t, stdout);
	output_page_note(c, e, resp, t->nrows, NULL);
	table_free(t);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}

static int
cmd_admin_faults_resolve_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	const char	*resolution = NULL;
	json_t		*body, *resp;
	long long	 id;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		if (ch == OPT_FAULT_RESOLUTION)
			resolution = optarg;
		else
			return (cmd_usage(e, NULL));
	}
	if ((rc = cmd_id_arg(e, argc, argv, "fault", &id)) != 0)
		return (rc);
	body = json_object();
	if (resolution != NULL &&
	    json_object_set_new(body, "resolution", json_string(resolution)) ==
	    -1) {
		json_decref(body);
		return (cmd_usage(e, "the resolution must be UTF-8 text"));
	}
	rc = api_call_id(c, "POST", "faults", id, "resolve", body, &resp);
	json_decref(body);
	if (rc != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else
		cmd_fault_print("Resolved", resp);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
