/*
 * cmd-login.c: "yiqi login", check a token against a server and save both
 * in the config file.
 *
 * The token comes from --token, else YIQI_TOKEN, else one line on stdin
 * (read without echo from a terminal), so that it need not appear in the
 * process list.  It is checked with GET /me before anything is written.
 */

#include "yiqi.h"

#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define LOGIN_TOKEN_MAX	1024

enum {
	OPT_LOGIN_TIMEZONE = 256
};

static const struct option cmd_login_options[] = {
	{ "timezone", required_argument, NULL, OPT_LOGIN_TIMEZONE },
	{ NULL, 0, NULL, 0 }
};

static int	cmd_login_exec(struct client *, const struct cmd_entry *, int,
		    char **);

const struct cmd_entry cmd_login_entry = {
	.name = "login",
	.about = "check a token and save server and token in the config file",
	.usage = "--server URL --token TOKEN [--timezone ZONE]",
	.help =
	    "  --server URL      the yiqid server, e.g. https://yiqi.example.org\n"
	    "  --token TOKEN     your API token (else YIQI_TOKEN, else read "
	    "from stdin)\n"
	    "  --timezone ZONE   the zone for times when no site is named "
	    "(default\n"
	    "                    Asia/Shanghai)\n"
	    "\n"
	    "The token is checked with the server first, then written to\n"
	    "$XDG_CONFIG_HOME/yiqi/config (~/.config/yiqi/config) with mode "
	    "0600.\n",
	.options = cmd_login_options,
	.exec = cmd_login_exec
};

/* Read one line from stdin without echo if it is a terminal. */
static char *
cmd_login_read_token(void)
{
	struct termios	 old, quiet;
	char		 buf[LOGIN_TOKEN_MAX], *token = NULL;
	int		 tty;

	tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fprintf(stderr, "API token: ");
		fflush(stderr);
		quiet = old;
		quiet.c_lflag &= ~ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (fgets(buf, sizeof buf, stdin) != NULL) {
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] != '\0')
			token = xstrdup(buf);
	}
	explicit_bzero(buf, sizeof buf);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return (token);
}

static int
cmd_login_exec(struct client *c, const struct cmd_entry *e, int argc,
    char **argv)
{
	struct config	 cfg;
	json_t		*user;
	const char	*zone = NULL, *env;
	char		*token = NULL, *path, *cause;
	int		 ch, rc;

	while ((ch = cmd_getopt(c, e, argc, argv)) != -1) {
		switch (ch) {
		case OPT_LOGIN_TIMEZONE:
			zone = optarg;
			break;
		default:
			return (cmd_usage(e, NULL));
		}
	}
	if (optind != argc)
		return (cmd_usage(e, "login takes no arguments"));
	if (zone != NULL && zone_check(zone, &cause) != 0) {
		fprintf(stderr, "yiqi: --timezone: %s.\n", cause);
		free(cause);
		return (YIQI_EXIT_USAGE);
	}

	if (c->opt_token == NULL || *c->opt_token == '\0') {
		if ((env = getenv("YIQI_TOKEN")) != NULL && *env != '\0')
			c->opt_token = env;
		else if ((token = cmd_login_read_token()) != NULL)
			c->opt_token = token;
		else {
			fprintf(stderr, "yiqi: no token given; pass --token "
			    "TOKEN (an admin creates one with yiqi admin tokens "
			    "create LOGIN).\n");
			return (YIQI_EXIT_USAGE);
		}
	}

	c->login = 1;
	rc = api_call(c, "GET", "/me", NULL, &user);
	if (rc != 0)
		goto out;

	memset(&cfg, 0, sizeof cfg);
	cfg.server = c->server;
	cfg.token = c->token;
	cfg.timezone = (char *)zone;
	if (config_save(&cfg, &cause) != 0) {
		fprintf(stderr, "yiqi: %s.\n", cause);
		free(cause);
		json_decref(user);
		rc = YIQI_EXIT_FAIL;
		goto out;
	}
	if (c->json)
		output_json(user);
	else {
		path = config_path(&cause);
		printf("Logged in to %s as %s (%s, %s, %s); saved in %s.\n",
		    c->server, output_str(user, "login"),
		    output_str(user, "name"), output_str(user, "institute"),
		    output_str(user, "role"), path != NULL ? path : "?");
		if (path == NULL)
			free(cause);
		free(path);
	}
	json_decref(user);
	rc = YIQI_EXIT_OK;
out:
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return (rc);
}
