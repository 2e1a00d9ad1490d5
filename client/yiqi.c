/*
 * yiqi.c: main() of yiqi, the command-line client of the yiqi instrument
 * booking system.
 *
 * main() reads the global options that stand before the command name
 * (those after it are read by cmd_getopt() while the command parses its
 * own), finds the command and runs it.  Server, token and time zone are
 * resolved only when a command first needs them (client_resolve()), from the
 * options, then YIQI_SERVER, YIQI_TOKEN and YIQI_TIMEZONE, then the config
 * file, then the defaults; so a usage error never needs a config file.
 */

#include "yiqi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct option yiqi_options[] = {
	{ "help", no_argument, NULL, OPT_GLOBAL_HELP },
	{ "json", no_argument, NULL, OPT_GLOBAL_JSON },
	{ "server", required_argument, NULL, OPT_GLOBAL_SERVER },
	{ "token", required_argument, NULL, OPT_GLOBAL_TOKEN },
	{ "version", no_argument, NULL, OPT_GLOBAL_VERSION },
	{ NULL, 0, NULL, 0 }
};

static void
yiqi_usage(FILE *f)
{
	fprintf(f,
	    "usage: yiqi [--server URL] [--token TOKEN] [--json] COMMAND "
	    "[ARGUMENTS]\n"
	    "       yiqi --help | --version | help COMMAND\n"
	    "\n"
	    "Book and share large scientific instruments.  Commands:\n"
	    "\n");
	cmd_print_list(f);
	fprintf(f,
	    "\n"
	    "Global options (before or after the command):\n"
	    "  --server URL    the yiqid server (YIQI_SERVER, config; "
	    "default " YIQI_DEFAULT_SERVER ")\n"
	    "  --token TOKEN   the API token (YIQI_TOKEN, config)\n"
	    "  --json          print the server's JSON instead of tables\n"
	    "  --help          show help; yiqi COMMAND --help shows a "
	    "command's options\n"
	    "  --version       show the version\n"
	    "\n"
	    "Times: 2026-12-01 09:00, 2026-12-01T09:00+08:00, today 14:00, "
	    "tomorrow 9:00,\n"
	    "mon 9:00 (the next Monday, today if still ahead), now.  Without "
	    "an offset a\n"
	    "time is read in the site's zone.  Durations: 90m, 2h, 1h30m, "
	    "PT2H.\n"
	    "Exit status: 0 done, 1 failed, 2 usage, 3 clash, 4 not "
	    "authenticated or\n"
	    "not allowed, 5 not found, 6 refused by a booking rule, 7 server "
	    "unreachable.\n");
}

/* Return the first non-empty of a, b and c, or NULL. */
static const char *
client_pick(const char *a, const char *b, const char *c)
{
	if (a != NULL && *a != '\0')
		return (a);
	if (b != NULL && *b != '\0')
		return (b);
	if (c != NULL && *c != '\0')
		return (c);
	return (NULL);
}

/*
 * Fill in server, token and zone from options, environment and config
 * file, once; returns 0 or an exit status after printing why.
 */
int
client_resolve(struct client *c)
{
	struct config	 cfg;
	const char	*server, *token, *zone;
	char		*cause;
	size_t		 n;

	if (c->resolved)
		return (0);
	memset(&cfg, 0, sizeof cfg);
	server = client_pick(c->opt_server, getenv("YIQI_SERVER"), NULL);
	token = client_pick(c->opt_token, getenv("YIQI_TOKEN"), NULL);
	zone = client_pick(getenv("YIQI_TIMEZONE"), NULL, NULL);
	if (server == NULL || token == NULL || zone == NULL) {
		if (config_load(&cfg, &cause) != 0) {
			fprintf(stderr, "yiqi: %s.\n", cause);
			free(cause);
			return (YIQI_EXIT_FAIL);
		}
	}
	server = client_pick(server, cfg.server, YIQI_DEFAULT_SERVER);
	token = client_pick(token, cfg.token, NULL);
	zone = client_pick(zone, cfg.timezone, YIQI_DEFAULT_ZONE);

	if (strncasecmp(server, "http://", 7) != 0 &&
	    strncasecmp(server, "https://", 8) != 0) {
		fprintf(stderr, "yiqi: the server must be an http:// or "
		    "https:// URL, not '%s'; check --server or YIQI_SERVER.\n",
		    server);
		config_free(&cfg);
		return (YIQI_EXIT_USAGE);
	}
	c->server = xstrdup(server);
	n = strlen(c->server);
	while (n > 0 && c->server[n - 1] == '/')
		c->server[--n] = '\0';
	c->token = token != NULL ? xstrdup(token) : NULL;
	c->zone = xstrdup(zone);
	c->resolved = 1;
	config_free(&cfg);
	return (0);
}

/* Forget what client_resolve found, freeing it (the token is wiped). */
void
client_free(struct client *c)
{
	free(c->server);
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->zone);
	c->server = c->token = c->zone = NULL;
	c->resolved = 0;
}

/* Parse the global options, find the command and run it. */
int
main(int argc, char **argv)
{
	struct client		 c;
	const struct cmd_entry	*entry;
	char			*cause;
	int			 ch, rc;

	memset(&c, 0, sizeof c);
	c.now = time(NULL);
	output_init();

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+:h", yiqi_options, NULL)) !=
	    -1) {
		switch (ch) {
		case OPT_GLOBAL_SERVER:
			c.opt_server = optarg;
			break;
		case OPT_GLOBAL_TOKEN:
			c.opt_token = optarg;
			break;
		case OPT_GLOBAL_JSON:
			c.json = 1;
			break;
		case 'h':
		case OPT_GLOBAL_HELP:
			yiqi_usage(stdout);
			return (YIQI_EXIT_OK);
		case OPT_GLOBAL_VERSION:
			printf("yiqi %s\n", PACKAGE_VERSION);
			return (YIQI_EXIT_OK);
		case ':':
			fprintf(stderr, "yiqi: %s needs a value.\n",
			    argv[optind - 1]);
			fprintf(stderr, "Run yiqi --help for the usage.\n");
			return (YIQI_EXIT_USAGE);
		default:
			fprintf(stderr, "yiqi: unknown option %s; run yiqi "
			    "--help for the usage.\n", argv[optind - 1]);
			return (YIQI_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		fprintf(stderr, "yiqi: no command given.\n");
		yiqi_usage(stderr);
		return (YIQI_EXIT_USAGE);
	}
	if ((entry = cmd_find(argv[0], &cause)) == NULL) {
		fprintf(stderr, "yiqi: %s; run yiqi --help for the list of "
		    "commands.\n", cause);
		free(cause);
		return (YIQI_EXIT_USAGE);
	}

	if (http_init(&cause) != 0) {
		fprintf(stderr, "yiqi: %s.\n", cause);
		free(cause);
		http_free();
		return (YIQI_EXIT_FAIL);
	}
	rc = cmd_run(&c, entry, argc, argv);
	client_free(&c);
	http_free();

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "yiqi: cannot write the output: %s.\n",
		    strerror(errno));
		if (rc == 0)
			rc = YIQI_EXIT_FAIL;
	}
	return (rc);
}
