/*
 * cmd-admin.c: "yiqi admin OBJECT [ACTION]", the administration commands.
 *
 * The admin entry finds an action in its own sorted table by object
 * (sites, institutes, users, tokens, instruments, import, blackouts; the
 * singular or a unique prefix also works) and action (add, set, create,
 * revoke, rm; "list" or none for the object's default).  Each action is a
 * cmd_entry like any command, named "OBJECT ACTION" and flagged CMD_ADMIN
 * so that its usage reads "yiqi admin ...".  This file holds the sites,
 * institutes, users and tokens actions; cmd-admin-instruments.c and
 * cmd-admin-blackouts.c hold the rest.
 */

#include "yiqi.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_ADMIN_DISTRICT = 256,
	OPT_ADMIN_EMAIL,
	OPT_ADMIN_INSTITUTE,
	OPT_ADMIN_LABEL,
	OPT_ADMIN_MANAGES,
	OPT_ADMIN_NAME,
	OPT_ADMIN_NEW_DISTRICT,
	OPT_ADMIN_PRIVATE,
	OPT_ADMIN_ROLE,
	OPT_ADMIN_SITES,
	OPT_ADMIN_TIMEZONE
};

static int	cmd_admin_exec(struct client *, const struct cmd_entry *, int,
		    char **);
static int	cmd_admin_place_exec(struct client *, const struct cmd_entry *,
		    int, char **);
static int	cmd_admin_users_exec(struct client *, const struct cmd_entry *,
		    int, char **);
static int	cmd_admin_user_exec(struct client *, const struct cmd_entry *,
		    int, char **);
static int	cmd_admin_tokens_exec(struct client *,
		    const struct cmd_entry *, int, char **);
static int	cmd_admin_token_exec(struct client *, const struct cmd_entry *,
		    int, char **);

const struct cmd_entry cmd_admin_entry = {
	.name = "admin",
	.about = "administer sites, institutes, users, tokens, instruments, "
	    "blackouts",
	.usage = "OBJECT [ACTION] [ARGUMENTS]",
	.flags = CMD_SUBCOMMANDS,
	.exec = cmd_admin_exec
};

static const struct option cmd_admin_site_options[] = {
	{ "district", required_argument, NULL, OPT_ADMIN_DISTRICT },
	{ "name", required_argument, NULL, OPT_ADMIN_NAME },
	{ "new-district", no_argument, NULL, OPT_ADMIN_NEW_DISTRICT },
	{ "timezone", required_argument, NULL, OPT_ADMIN_TIMEZONE },
	{ NULL, 0, NULL, 0 }
};

static const struct cmd_entry cmd_admin_sites_add_entry = {
	.name = "sites add",
	.about = "add a site (a park)",
	.usage = "CODE --name N --district D [--timezone Z] [--new-district]",
	.help =
	    "  CODE              the site code, e.g. HC-HTZ\n"
	    "  --name N          its full name\n"
	    "  --district D      its district, e.g. hechuan or wusheng\n"
	    "  --timezone Z      its IANA time zone (default Asia/Shanghai)\n"
	    "  --new-district    create the district if it does not exist\n",
	.options = cmd_admin_site_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_place_exec
};

static const struct option cmd_admin_institute_options[] = {
	{ "district", required_argument, NULL, OPT_ADMIN_DISTRICT },
	{ "name", required_argument, NULL, OPT_ADMIN_NAME },
	{ "new-district", no_argument, NULL, OPT_ADMIN_NEW_DISTRICT },
	{ "private", no_argument, NULL, OPT_ADMIN_PRIVATE },
	{ NULL, 0, NULL, 0 }
};

static const struct cmd_entry cmd_admin_institutes_add_entry = {
	.name = "institutes add",
	.about = "add an institute",
	.usage = "CODE --name N --district D [--private] [--new-district]",
	.help =
	    "  CODE              the institute code, e.g. CQU\n"
	    "  --name N          its full name\n"
	    "  --district D      its district, e.g. hechuan or wusheng\n"
	    "  --private         show its members' bookings to others only "
	    "as busy\n"
	    "  --new-district    create the district if it does not exist\n",
	.options = cmd_admin_institute_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_place_exec
};

static const struct cmd_entry cmd_admin_users_entry = {
	.name = "users",
	.about = "list the users",
	.usage = "[list]",
	.help = "Lists every user: login, name, institute, role and email.\n",
	.flags = CMD_ADMIN,
	.exec = cmd_admin_users_exec
};

static const struct option cmd_admin_user_options[] = {
	{ "email", required_argument, NULL, OPT_ADMIN_EMAIL },
	{ "institute", required_argument, NULL, OPT_ADMIN_INSTITUTE },
	{ "manages", required_argument, NULL, OPT_ADMIN_MANAGES },
	{ "name", required_argument, NULL, OPT_ADMIN_NAME },
	{ "role", required_argument, NULL, OPT_ADMIN_ROLE },
	{ "sites", required_argument, NULL, OPT_ADMIN_SITES },
	{ NULL, 0, NULL, 0 }
};

#define CMD_ADMIN_USER_HELP \
	"  --name N          the user's full name\n" \
	"  --institute I     the institute the user belongs to (billed)\n" \
	"  --email E         the user's email address\n" \
	"  --role R          member, manager, park_manager or admin\n" \
	"  --manages A,B     instruments a manager manages (\"\" for none)\n" \
	"  --sites S,T       sites a park manager covers (\"\" for all)\n"

static const struct cmd_entry cmd_admin_users_add_entry = {
	.name = "users add",
	.about = "add a user",
	.usage = "LOGIN --name N --institute I [--email E] [--role R] "
	    "[--manages A,B] [--sites S,T]",
	.help = "  LOGIN             the new user's login\n" CMD_ADMIN_USER_HELP
	    "\nThe role defaults to member.  Give the user a token with yiqi "
	    "admin tokens\ncreate LOGIN.\n",
	.options = cmd_admin_user_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_user_exec
};

static const struct cmd_entry cmd_admin_users_set_entry = {
	.name = "users set",
	.about = "change a user",
	.usage = "LOGIN [--name N] [--institute I] [--email E] [--role R] "
	    "[--manages A,B] [--sites S,T]",
	.help = "  LOGIN             the user to change\n" CMD_ADMIN_USER_HELP
	    "\nOnly what is given changes.\n",
	.options = cmd_admin_user_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_user_exec
};

static const struct cmd_entry cmd_admin_tokens_entry = {
	.name = "tokens",
	.about = "list a user's API tokens",
	.usage = "LOGIN",
	.help = "  LOGIN             whose tokens (never the tokens themselves, "
	    "which the\n                    server does not keep)\n",
	.flags = CMD_ADMIN,
	.exec = cmd_admin_tokens_exec
};

static const struct option cmd_admin_token_options[] = {
	{ "label", required_argument, NULL, OPT_ADMIN_LABEL },
	{ NULL, 0, NULL, 0 }
};

static const struct cmd_entry cmd_admin_tokens_create_entry = {
	.name = "tokens create",
	.about = "create an API token for a user and print it",
	.usage = "LOGIN [--label L]",
	.help =
	    "  LOGIN             whose token\n"
	    "  --label L         a note saying what the token is for\n"
	    "\nThe token is printed alone on stdout, once: "
	    "TOKEN=$(yiqi admin tokens create bob)\n",
	.options = cmd_admin_token_options,
	.flags = CMD_ADMIN,
	.exec = cmd_admin_token_exec
};

static const struct cmd_entry cmd_admin_tokens_revoke_entry = {
	.name = "tokens revoke",
	.about = "revoke one of a user's API tokens",
	.usage = "LOGIN ID",
	.help =
	    "  LOGIN             whose token\n"
	    "  ID                the token's number, as yiqi admin tokens "
	    "LOGIN shows it\n",
	.flags = CMD_ADMIN,
	.exec = cmd_admin_token_exec
};

/* Every admin action, sorted by name; "OBJECT" alone is the default. */
static const struct cmd_entry *cmd_admin_table[] = {
	&cmd_admin_audit_entry,
	&cmd_admin_blackouts_entry,
	&cmd_admin_blackouts_add_entry,
	&cmd_admin_blackouts_import_entry,
	&cmd_admin_blackouts_rm_entry,
	&cmd_admin_faults_entry,
	&cmd_admin_faults_resolve_entry,
	&cmd_admin_import_entry,
	&cmd_admin_institutes_add_entry,
	&cmd_admin_instruments_add_entry,
	&cmd_admin_instruments_set_entry,
	&cmd_admin_qualifications_entry,
	&cmd_admin_qualify_entry,
	&cmd_admin_quotas_entry,
	&cmd_admin_quotas_add_entry,
	&cmd_admin_quotas_rm_entry,
	&cmd_admin_sites_add_entry,
	&cmd_admin_suspensions_entry,
	&cmd_admin_suspensions_lift_entry,
	&cmd_admin_tokens_entry,
	&cmd_admin_tokens_create_entry,
	&cmd_admin_tokens_revoke_entry,
	&cmd_admin_unqualify_entry,
	&cmd_admin_users_entry,
	&cmd_admin_users_add_entry,
	&cmd_admin_users_set_entry,
	NULL
};

/* Print every admin action with its synopsis. */
static void
cmd_admin_print_list(FILE *f)
{
	const struct cmd_entry	**e;

	fprintf(f, "usage: yiqi admin OBJECT [ACTION] [ARGUMENTS]\n\n"
	    "Administer yiqi (admins; managers for their instruments' "
	    "blackouts and rules):\n\n");
	for (e = cmd_admin_table; *e != NULL; e++) {
		fprintf(f, "  yiqi admin %s%s%s\n", (*e)->name,
		    *(*e)->usage != '\0' ? " " : "", (*e)->usage);
		fprintf(f, "      %s\n", (*e)->about);
	}
	fprintf(f, "\nRun yiqi admin OBJECT ACTION --help for an action's "
	    "options.\n");
}

/* Return 1 if the entry's object (its first word) is obj. */
static int
cmd_admin_is(const struct cmd_entry *e, const char *obj, size_t len)
{
	size_t	n = strcspn(e->name, " ");

	return (n == len && strncmp(e->name, obj, len) == 0);
}

/* Find the object named by word: exact, singular or unique prefix. */
static const char *
cmd_admin_object(const char *word, size_t *lenp)
{
	const struct cmd_entry	**e;
	const char		 *found = NULL;
	size_t			  n, len = strlen(word);

	for (e = cmd_admin_table; *e != NULL; e++) {
		n = strcspn((*e)->name, " ");
		if ((n == len && strncmp((*e)->name, word, n) == 0) ||
		    (n == len + 1 && (*e)->name[len] == 's' &&
		    strncmp((*e)->name, word, len) == 0)) {
			*lenp = n;
			return ((*e)->name);
		}
	}
	for (e = cmd_admin_table; len != 0 && *e != NULL; e++) {
		n = strcspn((*e)->name, " ");
		if (n < len || strncmp((*e)->name, word, len) != 0)
			continue;
		if (found != NULL && strncmp(found, (*e)->name, n) != 0)
			return (NULL);
		found = (*e)->name;
		*lenp = n;
	}
	return (found);
}

/* Find the action (exact) of an object, or its default if action is NULL. */
static const struct cmd_entry *
cmd_admin_action(const char *obj, size_t len, const char *action)
{
	const struct cmd_entry	**e;
	const char		 *word;

	for (e = cmd_admin_table; *e != NULL; e++) {
		if (!cmd_admin_is(*e, obj, len))
			continue;
		word = (*e)->name + len;
		if (action == NULL || strcmp(action, "list") == 0) {
			if (*word == '\0')
				return (*e);
			continue;
		}
		if (*word++ != ' ')
			continue;
		if (strcmp(word, action) == 0)
			return (*e);
	}
	return (NULL);
}

static int
cmd_admin_exec(struct client *c, const struct cmd_entry *self, int argc,
    char **argv)
{
	const struct cmd_entry	 *e, **ep;
	const char		 *obj;
	char			**args, *clean;
	size_t			  len;
	int			  i, j, k, n, rc;

	(void)self;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			cmd_admin_print_list(stdout);
			return (YIQI_EXIT_OK);
		}
		if (argv[i][0] != '-')
			break;
		if (strcmp(argv[i], "--server") == 0 ||
		    strcmp(argv[i], "--token") == 0)
			i++;
	}
	if (i >= argc) {
		fprintf(stderr, "yiqi: admin needs an object and an action.\n");
		cmd_admin_print_list(stderr);
		return (YIQI_EXIT_USAGE);
	}
	if ((obj = cmd_admin_object(argv[i], &len)) == NULL) {
		clean = output_clean(argv[i]);
		fprintf(stderr, "yiqi: admin has no object '%s'; run yiqi "
		    "admin --help for the list.\n", clean);
		free(clean);
		return (YIQI_EXIT_USAGE);
	}

	k = i;
	j = i + 1;
	e = NULL;
	if (j < argc && argv[j][0] != '-')
		e = cmd_admin_action(obj, len, argv[j]);
	if (e == NULL) {
		j = -1;
		e = cmd_admin_action(obj, len, NULL);
	}
	if (e == NULL) {
		fprintf(stderr, "yiqi: admin %.*s needs one of these "
		    "actions:", (int)len, obj);
		for (ep = cmd_admin_table; *ep != NULL; ep++) {
			if (cmd_admin_is(*ep, obj, len))
				fprintf(stderr, " %s", (*ep)->name + len + 1);
		}
		fprintf(stderr, ".\nRun yiqi admin --help for the usage.\n");
		return (YIQI_EXIT_USAGE);
	}

	args = xcalloc(argc + 1, sizeof *args);
	args[0] = (char *)e->name;
	for (n = 1, i = 1; i < argc; i++) {
		if (i == k || i == j)
			continue;
		args[n++] = argv[i];
	}
	rc = cmd_run(c, e, n, args);
	free(args);
	return (rc);
}

static int
cmd_admin_place_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	const char	*name = NULL, *district = NULL, *zone = NULL;
	const char	*what;
	json_t		*body, *resp;
	char		*cause;
	int		 ch, rc, private = 0, newdistrict = 0;
	int		 site = (e == &cmd_admin_sites_add_entry);

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_ADMIN_DISTRICT:
			district = optarg;
			break;
		case OPT_ADMIN_NAME:
			name = optarg;
			break;
		case OPT_ADMIN_NEW_DISTRICT:
			newdistrict = 1;
			break;
		case OPT_ADMIN_PRIVATE:
			private = 1;
			break;
		case OPT_ADMIN_TIMEZONE:
			zone = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	what = site ? "site" : "institute";
	if (argc - optind != 1)
		return (cmd_usage(e, "give the new %s's code", what));
	if (name == NULL || district == NULL)
		return (cmd_usage(e, "give the %s's --name and --district",
		    what));
	if (zone != NULL && zone_check(zone, &cause) != 0) {
		fprintf(stderr, "yiqi: --timezone: %s.\n", cause);
		free(cause);
		return (YIQI_EXIT_USAGE);
	}

	body = json_object();
	json_object_set_new(body, "code", json_string(argv[optind]));
	json_object_set_new(body, "name", json_string(name));
	json_object_set_new(body, "district", json_string(district));
	if (zone != NULL)
		json_object_set_new(body, "timezone", json_string(zone));
	if (private)
		json_object_set_new(body, "private", json_true());
	if (newdistrict)
		json_object_set_new(body, "create_district", json_true());
	rc = api_call(c, "POST", site ? "/sites" : "/institutes", body, &resp);
	json_decref(body);
	if (rc != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else if (site)
		printf("Added site %s: %s (%s, %s).\n", output_str(resp, "code"),
		    output_str(resp, "name"), output_str(resp, "district"),
		    output_str(resp, "timezone"));
	else
		printf("Added institute %s: %s (%s%s).\n",
		    output_str(resp, "code"), output_str(resp, "name"),
		    output_str(resp, "district"),
		    json_is_true(json_object_get(resp, "private")) ?
		    ", private" : "");
	json_decref(resp);
	return (YIQI_EXIT_OK);
}

static int
cmd_admin_users_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct table	*t;
	json_t		*resp, *u;
	size_t		 i;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1)
		return (cmd_usage(e, NULL));
	if (optind != argc)
		return (cmd_usage(e, "there is no users action '%s'",
		    argv[optind]));

	if ((rc = api_call(c, "GET", "/users", NULL, &resp)) != 0)
		return (rc);
	if (c->json) {
		output_json(resp);
		json_decref(resp);
		return (YIQI_EXIT_OK);
	}
	t = table_create(5, "LOGIN", "NAME", "INSTITUTE", "ROLE", "EMAIL");
	json_array_foreach(json_object_get(resp, "items"), i, u) {
		table_add(t, output_str(u, "login"), output_str(u, "name"),
		    output_str(u, "institute"), output_str(u, "role"),
		    output_str(u, "email"));
	}
	table_print(t, stdout);
	table_free(t);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}

static int
cmd_admin_user_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	static const char	*roles[] = {
		"admin", "manager", "member", "park_manager", NULL
	};
	const char		**r, *role = NULL;
	json_t			 *body, *resp;
	char			 *login, *path;
	int			  ch, rc, add = (e == &cmd_admin_users_add_entry);

	body = json_object();
	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_ADMIN_EMAIL:
			json_object_set_new(body, "email", json_string(optarg));
			break;
		case OPT_ADMIN_INSTITUTE:
			json_object_set_new(body, "institute",
			    json_string(optarg));
			break;
		case OPT_ADMIN_MANAGES:
			json_object_set_new(body, "manages",
			    cmd_split_list(optarg));
			break;
		case OPT_ADMIN_NAME:
			json_object_set_new(body, "name", json_string(optarg));
			break;
		case OPT_ADMIN_ROLE:
			role = optarg;
			json_object_set_new(body, "role", json_string(optarg));
			break;
		case OPT_ADMIN_SITES:
			json_object_set_new(body, "sites",
			    cmd_split_list(optarg));
			break;
		default:
			json_decref(body);
			return (cmd_usage(e, NULL));
		}
	}
	rc = YIQI_EXIT_USAGE;
	if (argc - optind != 1) {
		cmd_usage(e, "give one login");
		goto out;
	}
	for (r = roles; role != NULL && *r != NULL; r++) {
		if (strcmp(*r, role) == 0)
			break;
	}
	if (role != NULL && *r == NULL) {
		cmd_usage(e, "--role must be member, manager, park_manager or "
		    "admin");
		goto out;
	}
	if (add && (json_object_get(body, "name") == NULL ||
	    json_object_get(body, "institute") == NULL)) {
		cmd_usage(e, "give the user's --name and --institute");
		goto out;
	}
	if (!add && json_object_size(body) == 0) {
		cmd_usage(e, "say what to change");
		goto out;
	}

	if (add) {
		json_object_set_new(body, "login", json_string(argv[optind]));
		rc = api_call(c, "POST", "/users", body, &resp);
	} else {
		login = http_escape(argv[optind]);
		xasprintf(&path, "/users/%s", login);
		free(login);
		rc = api_call(c, "PATCH", path, body, &resp);
		free(path);
	}
	if (rc != 0)
		goto out;
	if (c->json)
		output_json(resp);
	else {
		printf("%s user %s:\n", add ? "Added" : "Changed",
		    output_str(resp, "login"));
		cmd_whoami_print_user(resp);
	}
	json_decref(resp);
out:
	json_decref(body);
	return (rc);
}

static int
cmd_admin_tokens_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct table	*t;
	json_t		*resp, *tok, *v;
	char		*login, *path, id[32], a[64], b[64];
	size_t		 i;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1)
		return (cmd_usage(e, NULL));
	if (argc - optind != 1)
		return (cmd_usage(e, "give one login"));

	login = http_escape(argv[optind]);
	xasprintf(&path, "/users/%s/tokens", login);
	free(login);
	rc = api_call(c, "GET", path, NULL, &resp);
	free(path);
	if (rc != 0)
		return (rc);
	if (c->json) {
		output_json(resp);
		json_decref(resp);
		return (YIQI_EXIT_OK);
	}
	t = table_create(5, "ID", "LABEL", "CREATED", "LAST USED", "REVOKED");
	json_array_foreach(json_object_get(resp, "items"), i, tok) {
		snprintf(id, sizeof id, "%lld",
		    (long long)json_integer_value(json_object_get(tok, "id")));
		v = json_object_get(tok, "revoked");
		table_add(t, id, output_str(tok, "label"),
		    output_time(output_str(tok, "created"), a, sizeof a),
		    output_time(output_str(tok, "last_used"), b, sizeof b),
		    json_is_true(v) ? "yes" : json_is_string(v) ?
		    json_string_value(v) : "no");
	}
	if (t->nrows == 0)
		printf("%s has no tokens.\n", argv[optind]);
	else
		table_print(t, stdout);
	table_free(t);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}

static int
cmd_admin_token_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	const char	*label = NULL, *token;
	json_t		*body, *resp;
	long long	 id = 0;
	char		*login, *path;
	int		 ch, rc, create = (e == &cmd_admin_tokens_create_entry);

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_ADMIN_LABEL:
			label = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (argc - optind != (create ? 1 : 2))
		return (cmd_usage(e, create ? "give one login" :
		    "give the login and the token's number"));
	if (!create && cmd_number("the token number", argv[optind + 1], 1,
	    LLONG_MAX, &id) != 0)
		return (YIQI_EXIT_USAGE);

	login = http_escape(argv[optind]);
	if (create) {
		xasprintf(&path, "/users/%s/tokens", login);
		body = json_object();
		if (label != NULL)
			json_object_set_new(body, "label", json_string(label));
		rc = api_call(c, "POST", path, body, &resp);
		json_decref(body);
	} else {
		xasprintf(&path, "/users/%s/tokens/%lld", login, id);
		rc = api_call(c, "DELETE", path, NULL, &resp);
	}
	free(path);
	free(login);
	if (rc != 0)
		return (rc);
	if (c->json)
		output_json(resp);
	else if (create) {
		if ((token = json_string_value(json_object_get(resp,
		    "token"))) == NULL) {
			fprintf(stderr, "yiqi: the server sent no token.\n");
			json_decref(resp);
			return (YIQI_EXIT_FAIL);
		}
		printf("%s\n", token);
	} else
		printf("Revoked token %lld of %s.\n", id, argv[optind]);
	json_decref(resp);
	return (YIQI_EXIT_OK);
}
