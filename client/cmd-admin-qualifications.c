/*
 * cmd-admin-qualifications.c: "yiqi admin qualify", "... unqualify" and
 * "... qualifications": who may book an instrument that requires a
 * qualification (GET/POST /qualifications, DELETE /qualifications/{id}).
 *
 * A qualification is on one instrument (--instrument) or on every
 * instrument of a category (--category), optionally until a date.
 * unqualify looks the qualification up and deletes it by its id.
 */

#include "yiqi.h"

#include <stdlib.h>
#include <string.h>

enum {
	OPT_QUAL_CATEGORY = 256,
	OPT_QUAL_INSTRUMENT,
	OPT_QUAL_UNTIL,
	OPT_QUAL_USER
};

static const struct option cmd_admin_qualify_options[] = {
	{ "category", required_argument, NULL, OPT_QUAL_CATEGORY },
	{ "instrument", required_argument, NULL, OPT_QUAL_INSTRUMENT },
	{ "until", required_argument, NULL, OPT_QUAL_UNTIL },
	{ NULL, 0, NULL, 0 }
};

static const struct option cmd_admin_qualifications_options[] = {
	{ "category", required_argument, NULL, OPT_QUAL_CATEGORY },
	{ "instrument", required_argument, NULL, OPT_QUAL_INSTRUMENT },
	{ "user", required_argument, NULL, OPT_QUAL_USER },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_admin_qualify_exec(struct client *,
		    const struct cmd_entry *, int, char **);
static int	cmd_admin_qualifications_exec(struct client *,
		    const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_admin_qualifications_entry = {
	.name = "qualifications",
	.about = "list qualifications (members: their own)",
	.usage = "[--user LOGIN] [--instrument I | --category C] [--limit N]\n"
	    "            [--offset N]",
	.help =
	    "  --user LOGIN      only LOGIN's qualifications\n"
	    "  --instrument I    only those on instrument I\n"
	    "  --category C      only those on category C\n"
	    CMD_HELP_PAGE(100, ""),
	.options = cmd_admin_qualifications_options,
	.page = 100,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_qualifications_exec
};

const struct cmd_entry cmd_admin_qualify_entry = {
	.name = "qualify",
	.about = "let a user book an instrument, or a category, that "
	    "requires it",
	.usage = "LOGIN (--instrument I | --category C) [--until DATE]",
	.help =
	    "  LOGIN             the user\n"
	    "  --instrument I    on instrument I (its managers may), or\n"
	    "  --category C      on every instrument of category C\n"
	    "  --until DATE      last valid day, YYYY-MM-DD (default: no "
	    "expiry)\n"
	    "\nGranting again renews it with the new date.\n",
	.options = cmd_admin_qualify_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_qualify_exec
};

const struct cmd_entry cmd_admin_unqualify_entry = {
	.name = "unqualify",
	.about = "revoke a user's qualification",
	.usage = "LOGIN (--instrument I | --category C)",
	.help =
	    "  LOGIN             the user\n"
	    "  --instrument I    the qualification on instrument I, or\n"
	    "  --category C      the one on category C\n",
	.options = cmd_admin_qualify_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_qualify_exec
};

static void
cmd_admin_qualification_print(const char *verb, json_t *q)
{
	const char	*until = output_str(q, "until");

	printf("%s %s on %s%s%s%s%s.\n", verb, output_str(q, "user"),
	    json_is_string(json_object_get(q, "instrument")) ? "" :
	    "category ", json_is_string(json_object_get(q, "instrument")) ?
	    output_str(q, "instrument") : output_str(q, "category"),
	    *until != '\0' ? " until " : "", until,
	    json_is_true(json_object_get(q, "valid")) ? "" : " (expired)");
}

/* Find the id of LOGIN's qualification on instrument or category. */
static int
cmd_admin_qualification_find(struct client *c, const char *login,
    const char *instrument, const char *category, long long *id)
{
	json_t	*resp, *q;
	char	*path;
	size_t	 i;
	int	 rc;

	path = xstrdup("/qualifications");
	http_query(&path, "user", login);
	http_query(&path, "instrument", instrument);
	http_query(&path, "category", category);
	rc = api_call(c, "GET", path, NULL, &resp);
	free(path);
	if (rc != 0)
		return (rc);
	*id = 0;
	json_array_foreach(json_object_get(resp, "items"), i, q) {
		if (instrument == NULL &&
		    json_is_string(json_object_get(q, "instrument")))
			continue;
		*id = json_integer_value(json_object_get(q, "id"));
		break;
	}
	json_decref(resp);
	if (*id == 0) {
		fprintf(stderr, "yiqi: %s holds no such qualification; see yiqi "
		    "admin qualifications --user %s.\n", login, login);
		return (YIQI_EXIT_NOTFOUND);
	}
	return (0);
}

static int
cmd_admin_qualify_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	const char	*instrument = NULL, *category = NULL, *until = NULL;
	json_t		*body, *resp;
	long long	 id;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_QUAL_CATEGORY:
			category = optarg;
			break;
		case OPT_QUAL_INSTRUMENT:
			instrument = optarg;
			break;
		case OPT_QUAL_UNTIL:
			if (e == &cmd_admin_unqualify_entry)
				return (cmd_usage(e, NULL));
			until = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (argc - optind != 1)
		return (cmd_usage(e, "give one login"));
	if ((instrument == NULL) == (category == NULL))
		return (cmd_usage(e, "give --instrument or --category"));

	if (e == &cmd_admin_unqualify_entry) {
		if ((rc = cmd_admin_qualification_find(c, argv[optind],
		    instrument, category, &id)) != 0)
			return (rc);
		if ((rc = api_call_id(c, "DELETE", "qualifications", id, NULL,
		    NULL, &resp)) != 0)
			return (rc);
		json_decref(resp);
		if (!c->json)
			printf("Revoked qualification #%lld of %s.\n", id,
			    argv[optind]);
		return (YIQI_EXIT_OK);
	}
	body = json_object();
	json_object_set_new(body, "user", json_string(argv[optind]));
	if (instrument != NULL)
		json_object_set_new(body, "instrument", json_string(instrument));
	if (category != NULL)
		json_object_set_new(body, "category", json_string(category));
	if (until != NULL)
		json_object_set_new(body, "until", json_string(until));
	rc = api_call(c, "POST", "/qualifications", body, &resp);
	json_decref(body);
	if (rc != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else
		cmd_admin_qualification_print("Qualified", resp);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}

static int
cmd_admin_qualifications_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	struct table	*t;
	const char	*user = NULL, *instrument = NULL, *category = NULL;
	json_t		*resp, *q;
	char		 id[32], *path, *on;
	size_t		 i;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_QUAL_CATEGORY:
			category = optarg;
			break;
		case OPT_QUAL_INSTRUMENT:
			instrument = optarg;
			break;
		case OPT_QUAL_USER:
			user = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (argc != optind)
		return (cmd_usage(e, "qualifications takes no arguments"));
	path = xstrdup("/qualifications");
	http_query(&path, "user", user);
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
	t = table_create(6, "ID", "USER", "ON", "UNTIL", "VALID", "BY");
	json_array_foreach(json_object_get(resp, "items"), i, q) {
		snprintf(id, sizeof id, "%lld",
		    (long long)json_integer_value(json_object_get(q, "id")));
		if (json_is_string(json_object_get(q, "instrument")))
			xasprintf(&on, "%s", output_str(q, "instrument"));
		else
			xasprintf(&on, "category %s", output_str(q, "category"));
		table_add(t, id, output_str(q, "user"), on,
		    *output_str(q, "until") != '\0' ? output_str(q, "until") :
		    "-", json_is_true(json_object_get(q, "valid")) ? "yes" :
		    "expired", output_str(q, "granted_by"));
		free(on);
	}
	if (t->nrows == 0)
		printf("No qualifications match.\n");
	else
		table_print(t, stdout);
	output_page_note(c, e, resp, t->nrows, NULL);
	table_free(t);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
