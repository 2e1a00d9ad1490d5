/*
 * cmd-whoami.c: "yiqi whoami", who the token belongs to (GET /me).
 *
 * It also holds cmd_whoami_print_user(), which login and the admin user
 * actions share to show one user.
 */

#include "yiqi.h"

#include <stdlib.h>
#include <string.h>

static int	cmd_whoami_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_whoami_entry = {
	.name = "whoami",
	.about = "show who the token belongs to",
	.usage = "",
	.help = "Shows your login, name, institute and role (GET /api/v1/me).\n",
	.exec = cmd_whoami_exec
};

/* Print one user object as labelled lines. */
void
cmd_whoami_print_user(json_t *user)
{
	const char	*role;
	char		*manages, *sites;

	role = output_str(user, "role");
	manages = output_join(json_object_get(user, "manages"));
	sites = output_join(json_object_get(user, "sites"));
	output_field("login", output_str(user, "login"));
	output_field("name", output_str(user, "name"));
	output_field("email", output_str(user, "email"));
	output_field("institute", output_str(user, "institute"));
	output_field("role", role);
	if (*manages != '\0')
		output_field("manages", manages);
	if (*sites != '\0')
		output_field("sites", sites);
	else if (strcmp(role, "park_manager") == 0)
		output_field("sites", "all");
	if (json_is_string(json_object_get(user, "suspended_until")))
		output_field("suspended until", output_str(user,
		    "suspended_until"));
	free(sites);
	free(manages);
}

static int
cmd_whoami_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	json_t	*user;
	int	 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1)
		return (cmd_usage(e, NULL));
	if (optind != argc)
		return (cmd_usage(e, "whoami takes no arguments"));

	if ((rc = api_call(c, "GET", "/me", NULL, &user)) != 0)
		return (rc);
	if (c->json)
		output_json(user);
	else
		cmd_whoami_print_user(user);
	json_decref(user);
	return (YIQI_EXIT_OK);
}
