/*
 * cmd-places.c: "yiqi sites" and "yiqi institutes", the parks and the
 * institutes that book (GET /sites, GET /institutes).
 */

#include "yiqi.h"

static int	cmd_places_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_sites_entry = {
	.name = "sites",
	.about = "list the sites (parks) and their time zones",
	.usage = "",
	.help = "Lists every site: code, name, district and time zone.\n",
	.exec = cmd_places_exec
};

const struct cmd_entry cmd_institutes_entry = {
	.name = "institutes",
	.about = "list the institutes that book instruments",
	.usage = "",
	.help = "Lists every institute: code, name, district and whether "
	    "it is private\n(its members' bookings show only as busy to "
	    "others).\n",
	.exec = cmd_places_exec
};

static int
cmd_places_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct table	*t;
	json_t		*resp, *item;
	size_t		 i;
	int		 ch, rc, sites = (e == &cmd_sites_entry);

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1)
		return (cmd_usage(e, NULL));
	if (optind != argc)
		return (cmd_usage(e, "%s takes no arguments", e->name));

	rc = api_call(c, "GET", sites ? "/sites" : "/institutes", NULL,
	    &resp);
	if (rc != 0)
		return (rc);
	if (c->json) {
		output_json(resp);
		json_decref(resp);
		return (YIQI_EXIT_OK);
	}
	if (sites)
		t = table_create(4, "CODE", "NAME", "DISTRICT", "TIMEZONE");
	else
		t = table_create(4, "CODE", "NAME", "DISTRICT", "PRIVATE");
	json_array_foreach(json_object_get(resp, "items"), i, item) {
		table_add(t, output_str(item, "code"), output_str(item, "name"),
		    output_str(item, "district"), sites ?
		    output_str(item, "timezone") :
		    json_is_true(json_object_get(item, "private")) ? "yes" :
		    "no");
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
