/*
 * yiqi.h: the one private header of yiqi, the command-line client.
 *
 * It holds the client state, the command entry that every cmd-*.c file
 * exports, the exit statuses of SPEC §7 and the prototypes of every file,
 * grouped under a comment naming the file that defines them.  Every .c file
 * includes it first: it pulls in config.h (or, when the client is compiled
 * by hand, _GNU_SOURCE) before any system header sees a feature macro.
 */

#ifndef YIQI_H
#define YIQI_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#elif !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <sys/types.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#define YIQI_DEFAULT_SERVER	"http://127.0.0.1:8470"
#define YIQI_DEFAULT_ZONE	"Asia/Shanghai"
#define YIQI_API_PREFIX		"/api/v1"

/* Limits on what the client reads. */
#define YIQI_MAX_UPLOAD		(16 * 1024 * 1024)	/* CSV import */
#define YIQI_MAX_RESPONSE	(64 * 1024 * 1024)	/* one HTTP response */
#define YIQI_MAX_CONFIG		(64 * 1024)		/* config file */

/* Exit statuses, SPEC §7 and docs/exit-codes.md. */
enum yiqi_exit {
	YIQI_EXIT_OK = 0,
	YIQI_EXIT_FAIL = 1,
	YIQI_EXIT_USAGE = 2,
	YIQI_EXIT_CLASH = 3,
	YIQI_EXIT_AUTH = 4,
	YIQI_EXIT_NOTFOUND = 5,
	YIQI_EXIT_RULE = 6,
	YIQI_EXIT_UNREACHABLE = 7
};

/* Values of the global long options; command options use values below. */
enum {
	OPT_GLOBAL_SERVER = 1000,
	OPT_GLOBAL_TOKEN,
	OPT_GLOBAL_JSON,
	OPT_GLOBAL_HELP,
	OPT_GLOBAL_VERSION,
	OPT_PAGE_LIMIT,			/* of a paged list (cmd_entry.page) */
	OPT_PAGE_OFFSET
};

/* What one run of the client knows: options, configuration, caches. */
struct client {
	const char	*opt_server;	/* --server, or NULL */
	const char	*opt_token;	/* --token, or NULL */
	int		 json;		/* --json */
	long long	 limit;		/* --limit of a paged list, or -1 */
	long long	 offset;	/* --offset of a paged list, or -1 */

	int		 resolved;	/* server, token, zone filled in */
	char		*server;	/* without trailing slash */
	char		*token;		/* NULL or "" if none */
	char		*zone;		/* configured time zone */

	const char	*clash_hint;	/* "Book that instead with" ... */
	int		 login;		/* running yiqi login */
	time_t		 now;

	int		 want_text;	/* keep a 2xx answer as text ... */
	char		*text;		/* ... here (the caller frees it) */
	size_t		 textlen;
};

/* The help lines of a paged list's options (cmd_entry.page). */
#define CMD_HELP_PAGE(dflt, more)					\
	"  --limit N         show at most N (1-1000, default " #dflt	\
	")\n  --offset N        skip the first N" more "\n"

/* One command (or admin action): what it is called and how it runs. */
struct cmd_entry {
	const char		*name;
	const char		*alias;
	const char		*about;		/* one line for --help */
	const char		*usage;		/* synopsis after the name */
	const char		*help;		/* the options, one per line */

	const char		*shortopts;	/* getopt, without ':' prefix */
	const struct option	*options;	/* getopt_long, NULL-terminated */

	int			 page;		/* paged: the default */
	int			 page_max;	/* the largest offset, or 0 */

	int			 flags;
#define CMD_ADMIN	0x1			/* an admin action */
#define CMD_SUBCOMMANDS	0x2			/* parses its own --help */

	int			(*exec)(struct client *,
				    const struct cmd_entry *, int, char **);
};

/* Which instrument or site decides how a time without offset is read. */
struct zone_ref {
	const char	*instrument;
	const char	*site;
	char		*zone;		/* cached, freed by zone_ref_free */
};

/* A table that aligns its columns by display width. */
struct table {
	unsigned int	  ncols;
	char		**head;
	char		**cells;	/* nrows * ncols */
	unsigned int	  nrows;
};

/* cmd.c */
extern const struct cmd_entry *cmd_table[];
const struct cmd_entry *cmd_find(const char *, char **);
int	 cmd_run(struct client *, const struct cmd_entry *, int, char **);
int	 cmd_getopt(struct client *, const struct cmd_entry *, int, char **);
int	 cmd_usage(const struct cmd_entry *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
void	 cmd_print_help(FILE *, const struct cmd_entry *, const char *);
void	 cmd_print_list(FILE *);
int	 cmd_number(const char *, const char *, long long, long long,
	     long long *);
void	 cmd_page_query(struct client *, char **);
int	 cmd_id_arg(const struct cmd_entry *, int, char **, const char *,
	     long long *);
int	 cmd_id_only(struct client *, const struct cmd_entry *, int, char **,
	    const char *, long long *);
int	 cmd_time(struct client *, struct zone_ref *, const char *,
	     const char *, time_t *);
int	 cmd_time_check(struct client *, const char *, const char *);
int	 cmd_time_order(struct client *, const char *, const char *);
int	 cmd_duration(const char *, const char *, long *);
char	*cmd_api_time(struct zone_ref *, time_t);
int	 cmd_zone(struct client *, struct zone_ref *, const char **);
void	 zone_ref_free(struct zone_ref *);
json_t	*cmd_split_list(const char *);

/* cmd-*.c */
extern const struct cmd_entry cmd_admin_entry;
extern const struct cmd_entry cmd_approve_entry;
extern const struct cmd_entry cmd_book_entry;
extern const struct cmd_entry cmd_cancel_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_feed_url_entry;
extern const struct cmd_entry cmd_checkin_entry;
extern const struct cmd_entry cmd_checkout_entry;
extern const struct cmd_entry cmd_find_entry;
extern const struct cmd_entry cmd_free_entry;
extern const struct cmd_entry cmd_help_entry;
extern const struct cmd_entry cmd_institutes_entry;
extern const struct cmd_entry cmd_instruments_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_login_entry;
extern const struct cmd_entry cmd_move_entry;
extern const struct cmd_entry cmd_reject_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_show_booking_entry;
extern const struct cmd_entry cmd_sites_entry;
extern const struct cmd_entry cmd_whoami_entry;

/* cmd-admin-*.c: the admin actions, found through cmd-admin.c */
extern const struct cmd_entry cmd_admin_audit_entry;
extern const struct cmd_entry cmd_admin_blackouts_entry;
extern const struct cmd_entry cmd_admin_blackouts_add_entry;
extern const struct cmd_entry cmd_admin_blackouts_import_entry;
extern const struct cmd_entry cmd_admin_blackouts_rm_entry;
extern const struct cmd_entry cmd_admin_import_entry;
extern const struct cmd_entry cmd_admin_instruments_add_entry;
extern const struct cmd_entry cmd_admin_instruments_set_entry;
extern const struct cmd_entry cmd_admin_qualifications_entry;
extern const struct cmd_entry cmd_admin_qualify_entry;
extern const struct cmd_entry cmd_admin_unqualify_entry;
extern const struct cmd_entry cmd_admin_quotas_entry;
extern const struct cmd_entry cmd_admin_quotas_add_entry;
extern const struct cmd_entry cmd_admin_quotas_rm_entry;
extern const struct cmd_entry cmd_admin_faults_entry;
extern const struct cmd_entry cmd_admin_faults_resolve_entry;
extern const struct cmd_entry cmd_admin_suspensions_entry;
extern const struct cmd_entry cmd_admin_suspensions_lift_entry;
extern const struct cmd_entry cmd_fault_entry;

/* cmd-whoami.c */
void	 cmd_whoami_print_user(json_t *);

/* cmd-list.c */
void	 cmd_list_print_booking(const char *, json_t *);

/* yiqi.c */
int	 client_resolve(struct client *);
void	 client_free(struct client *);

/* http.c */
int	 http_init(char **);
void	 http_free(void);
int	 http_request(struct client *, const char *, const char *, json_t *,
	     json_t **, long *, char **);
int	 http_request_raw(struct client *, const char *, const char *,
	     const char *, size_t, const char *, json_t **, long *, char **);
int	 api_call(struct client *, const char *, const char *, json_t *,
	     json_t **);
int	 api_call_id(struct client *, const char *, const char *, long long,
	    const char *, json_t *, json_t **);
int	 api_call_raw(struct client *, const char *, const char *,
	     const char *, size_t, const char *, json_t **);
int	 api_exit_status(long);
char	*http_escape(const char *);
void	 http_query(char **, const char *, const char *);
int	 http_fetch(const char *, const char *, char **, size_t *, long *,
	     char **);

/* output.c */
void	 output_init(void);
void	 output_json(json_t *);
size_t	 output_width(const char *);
char	*output_clean(const char *);
const char *output_time(const char *, char *, size_t);
char	*output_interval(const char *, const char *);
char	*output_money(json_t *);
char	*output_join(json_t *);
const char *output_str(json_t *, const char *);
void	 output_field(const char *, const char *);
void	 output_page_note(struct client *, const struct cmd_entry *, json_t *,
	     size_t, const char *);
struct table *table_create(unsigned int, ...);
void	 table_add(struct table *, ...);
void	 table_print(struct table *, FILE *);
void	 table_free(struct table *);

/* timeparse.c */
int	 timeparse(const char *, const char *, time_t, time_t *, char **);
int	 timeparse_zoned(const char *);
int	 durparse(const char *, long *, char **);
int	 timefmt(time_t, const char *, char *, size_t, char **);
void	 durfmt(long, char *, size_t);
int	 zone_check(const char *, char **);

/* config.c */
struct config {
	char	*server;
	char	*token;
	char	*timezone;
};
char	*config_path(char **);
int	 config_load(struct config *, char **);
int	 config_save(const struct config *, char **);
void	 config_free(struct config *);

/* xmalloc.c */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
int	 xasprintf(char **, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list);

#endif /* YIQI_H */
