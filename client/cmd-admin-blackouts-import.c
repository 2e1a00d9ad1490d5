/*
 * cmd-admin-blackouts-import.c: "yiqi admin blackouts import", an
 * iCalendar file (a vendor's service schedule, the parks' holidays) turned
 * into blackouts of one instrument or one site by the server
 * (POST /blackouts/import).  Importing the same file again updates the
 * blackouts made from it rather than adding more: the server matches
 * events by UID.
 */

#include "yiqi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_ICS_MAX	(1024 * 1024)	/* the server's default body limit */

enum {
	OPT_BLACKOUT_IMPORT_SITE = 256
};

static const struct option cmd_admin_blackouts_import_options[] = {
	{ "site", required_argument, NULL, OPT_BLACKOUT_IMPORT_SITE },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_admin_blackouts_import_exec(struct client *,
		    const struct cmd_entry *, int, char **);

const struct cmd_entry cmd_admin_blackouts_import_entry = {
	.name = "blackouts import",
	.about = "turn the events of an iCalendar file into blackouts",
	.usage = "(INSTRUMENT | --site S) FILE.ics | -",
	.help =
	    "  INSTRUMENT        block this instrument, or\n"
	    "  --site S          every instrument of site S\n"
	    "  FILE.ics          the calendar; - reads stdin\n"
	    "\nRepeating events are expanded (two years ahead) and their "
	    "exceptions\nhonoured. Importing a newer version of the file "
	    "updates the blackouts\nmade from it; a cancelled event removes "
	    "them. A bad file changes nothing.\n",
	.options = cmd_admin_blackouts_import_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_blackouts_import_exec
};

/* Read a file (or stdin for "-") of at most IMPORT_ICS_MAX bytes. */
static char *
cmd_blackouts_import_read(const char *file, size_t *lenp)
{
	FILE	*f;
	char	*data;
	size_t	 len = 0, n;

	if (strcmp(file, "-") == 0)
		f = stdin;
	else if ((f = fopen(file, "r")) == NULL) {
		fprintf(stderr, "yiqi: cannot open %s: %s.\n", file,
		    strerror(errno));
		return (NULL);
	}
	data = xmalloc(IMPORT_ICS_MAX + 1);
	while ((n = fread(data + len, 1, IMPORT_ICS_MAX + 1 - len, f)) > 0) {
		len += n;
		if (len > IMPORT_ICS_MAX)
			break;
	}
	if (ferror(f) || len > IMPORT_ICS_MAX) {
		if (len > IMPORT_ICS_MAX)
			fprintf(stderr, "yiqi: %s is larger than 1 MiB; split "
			    "it and import the parts.\n", file);
		else
			fprintf(stderr, "yiqi: cannot read %s: %s.\n", file,
			    strerror(errno));
		free(data);
		data = NULL;
	}
	if (f != stdin)
		fclose(f);
	*lenp = len;
	return (data);
}

static int
cmd_admin_blackouts_import_exec(struct client *c, const struct cmd_entry *e,
    int argc, char **argv)
{
	const char	*site = NULL, *instrument = NULL, *file;
	json_t		*resp, *r;
	char		*data, *path;
	size_t		 len, i;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		if (ch != OPT_BLACKOUT_IMPORT_SITE)
			return (cmd_usage(e, NULL));
		site = optarg;
	}
	if (argc - optind != (site != NULL ? 1 : 2))
		return (cmd_usage(e, "give an instrument (or --site S) and one "
		    ".ics file"));
	if (site == NULL)
		instrument = argv[optind++];
	file = argv[optind];
	if ((data = cmd_blackouts_import_read(file, &len)) == NULL)
		return (YIQI_EXIT_FAIL);
	if (len == 0) {
		free(data);
		fprintf(stderr, "yiqi: %s is empty; give an iCalendar file.\n",
		    file);
		return (YIQI_EXIT_FAIL);
	}
	path = xstrdup("/blackouts/import");
	http_query(&path, "instrument", instrument);
	http_query(&path, "site", site);
	rc = api_call_raw(c, "POST", path, data, len,
	    "text/calendar; charset=utf-8", &resp);
	free(path);
	free(data);
	if (rc != 0)
		return (rc);
	if (c->json) {
		output_json(resp);
		json_decref(resp);
		return (YIQI_EXIT_OK);
	}
	printf("Imported %s: %lld events, %lld blackouts (%lld replaced).\n",
	    strcmp(file, "-") == 0 ? "stdin" : file,
	    (long long)json_integer_value(json_object_get(resp, "events")),
	    (long long)json_integer_value(json_object_get(resp, "blackouts")),
	    (long long)json_integer_value(json_object_get(resp, "replaced")));
	json_array_foreach(json_object_get(resp, "affected"), i, r)
		cmd_list_print_booking("In a blackout: booking", r);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
