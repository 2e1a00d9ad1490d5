/*
 * yiqid.h: the one private header of yiqid, the yiqi daemon.
 *
 * Everything the daemon shares between its files is declared here, grouped
 * under the name of the file that defines it.  The daemon has one global
 * object, struct yiqid, which main() owns and passes to everything else;
 * one request is one struct req, freed in one place (http.c).
 */

#ifndef YIQID_H
#define YIQID_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <sqlite3.h>

#define YIQID_VERSION		PACKAGE_VERSION
#define YIQID_DEFAULT_LISTEN	"127.0.0.1:8470"
#define YIQID_DEFAULT_DB	"./yiqi.db"
#define YIQID_DEFAULT_ZONE	"Asia/Shanghai"

#define TEXT_MAX		4096	/* longest text field, in bytes */
#define LIST_LIMIT_DEFAULT	100
#define LIST_LIMIT_MAX		1000
#define SERIES_MAX		100
#define DRAIN_MAX_S		5	/* at SIGTERM, finish answers this long at most */

/* Configuration, from yiqid.conf and the command line (config.c). */
struct config {
	char		*listen;	/* ADDR:PORT */
	char		*database;	/* path of the SQLite file */
	char		*base_url;	/* public URL for feed links */
	int		 log_level;	/* LOG_ERR .. LOG_DEBUG */
	int		 log_syslog;	/* 1: syslog, 0: stderr */
	long		 max_body;	/* bytes */
	long		 max_headers;	/* bytes */
	int		 timeout;	/* idle/read timeout, seconds */
	int		 max_connections;
	int		 poll_interval;	/* external calendars, seconds */
	char		*user;		/* drop privileges to this user */
	int		 synchronous;	/* 2 = FULL, 1 = NORMAL */
	int		 busy_timeout;	/* SQLite busy timeout, ms */
	int		 cache_mb;	/* SQLite page cache, MiB */
	int		 rate_limit;	/* requests/s per token, 0 = off */
	int		 rate_burst;	/* bucket size */
	int		 noshow_grace;	/* minutes after start to check in */
	int		 late_cancel_hours; /* cancelling later is "late" */
	int		 timer_interval; /* workflow timer, seconds */
	int		 report_baseline_hours; /* annual baseline per instrument */
	int		 report_saturated_hours; /* annual "saturated" threshold */
	int		 group_commit;	/* 1: requests share commits (db.c) */
	int		 violation_limit; /* violations that suspend, 0: never */
	int		 violation_window_days; /* ... within this many days */
	int		 suspension_days; /* how long a suspension lasts */
	int		 feed_cache_mb;	/* rendered feed events kept, MiB */
					/* (-1: a quarter of cache_mb) */
};

/*
 * How cache_mb is shared among the daemon's caches (config_budget()): the
 * parts never add up to more than cache_mb.
 */
struct budget {
	long		 main_kib;	/* the loop's SQLite page cache */
	long		 events_kib;	/* rendered feed events (feedcache.c) */
	long		 worker_kib;	/* each feed worker's page cache */
	long		 avail_kib;	/* kept availability answers */
};
#define FEED_WORKERS		4	/* feed jobs running at once */

/* One token's request bucket (ratelimit.c). */
struct bucket {
	int64_t		token_id;	/* 0: free */
	double		level;		/* requests left */
	double		last;		/* monotonic seconds of last refill */
};
#define RATE_BUCKETS	4096

/* A prepared statement kept for the life of the connection. */
struct stmt_cache {
	const char	*sql;		/* the caller's static string: the key */
	sqlite3_stmt	*stmt;
};
#define STMT_CACHE_SIZE	256

struct find_job;

/* The daemon: one of these, owned by main(). */
struct yiqid {
	struct config		 cfg;
	char			*config_path;
	struct event_base	*base;
	struct evhttp		*http;
	struct evhttp_bound_socket *sock;
	struct event		*ev_sigterm;
	struct event		*ev_sigint;
	struct event		*ev_sighup;

	sqlite3			*db;
	struct stmt_cache	 stmts[STMT_CACHE_SIZE];
	int			 txn_depth;
	const char		*txn_file;
	int			 txn_line;

	struct bucket		 buckets[RATE_BUCKETS];

	int			 stopping;
	int			 sending;	/* replies being written (http.c) */
	struct event		*ev_drain;	/* after SIGTERM (yiqid.c) */
	struct timeval		 drain_until;
	struct event		*ev_workflow;	/* the no-show sweep (workflow.c) */
	struct event		*ev_memstat;	/* memory, debug (memstat.c) */

	struct calpoll		*calpoll;	/* external calendars */
	struct report_pool	*reports;	/* report worker threads */
	struct feedjob_pool	*feedjobs;	/* feed worker threads */

	/* Group commit (db.c); replies held until it commits (http.c). */
	struct event		*ev_group;	/* NULL: group commit off */
	int			 group_open;	/* a group transaction is open */
	int			 group_rc;	/* what broke the group, or OK */
	int			 group_n;	/* transactions in it */
	struct timeval		 group_t0;	/* when it was opened */
	int			 group_hold_ms;	/* tests: keep groups open */
	TAILQ_HEAD(, req)	 held;		/* replies waiting for it */

	struct checkpointer	*ckpt;		/* WAL checkpoints (checkpoint.c) */
	struct feedcache	*feeds;		/* rendered feed events (feedcache.c) */
	struct avcache		*avcache;	/* availability answers (availcache.c) */
	LIST_HEAD(, slice_job)	 slices;	/* in slices (slices.c) */
};
#define DB_PRIORITIES		3	/* event priorities of the base */
#define DB_GROUP_PRIORITY	2	/* the group commit runs last */

enum role {
	ROLE_MEMBER = 0,
	ROLE_MANAGER,
	ROLE_PARK_MANAGER,
	ROLE_ADMIN
};

/* The user behind a request's token. */
struct user {
	int64_t		 id;
	char		*login;
	char		*name;
	int64_t		 institute_id;
	enum role	 role;
	int64_t		 token_id;
};

/* One HTTP request, from dispatch to reply (http.c frees it). */
struct req {
	struct yiqid		*ctx;
	struct evhttp_request	*ev;
	enum evhttp_cmd_type	 method;
	char			*path;		/* decoded path */
	char			*args[4];	/* the '*' segments of the route */
	int			 nargs;
	struct evkeyvalq	 query;
	json_t			*body;		/* JSON body (object) or NULL */
	char			*raw;		/* raw body, NUL-terminated */
	size_t			 rawlen;
	struct user		*user;		/* NULL on unauthenticated routes */
	struct timeval		 t0;
	int			 status;	/* reply status, once replied */
	int			 replied;
	int			 deferred;	/* answered later, then req_finish() */
	int			 gone;		/* the client left before the reply */
	int			 held;		/* reply waits for the group commit */
	struct evbuffer		*hbuf;		/* ... its body */
	char			*hctype;	/* ... its content type, or NULL */
	TAILQ_ENTRY(req)	 hentry;
};

/* Route flags. */
#define R_NOAUTH	0x01	/* no token needed */
#define R_ADMIN		0x02	/* admin only */
#define R_JSON		0x04	/* body must be a JSON object */
#define R_JSON_OPT	0x08	/* body may be a JSON object or empty */
#define R_RAW		0x10	/* body is taken raw (CSV, iCalendar) */

/* One route: method, path pattern ('*' matches one segment), checks, handler. */
struct route {
	enum evhttp_cmd_type	 method;
	const char		*pattern;
	int			 flags;
	void			(*handler)(struct req *);
};

/* An interval [start, end) in UTC seconds. */
struct span {
	time_t	start;
	time_t	end;
};

/* Opening hours: a weekly schedule of open minutes (rules.c). */
#define HOURS_MAX	64
struct hours {
	int	always;			/* 24/7 */
	int	n;
	struct {
		int	from;		/* minutes from Monday 00:00 */
		int	to;		/* exclusive; may be 10080 */
	}	open[HOURS_MAX];
};

/* The booking rules of one instrument (SPEC §3). */
struct rules {
	int		granularity_min;
	int		min_duration_min;
	int		max_duration_min;
	int		advance_days;
	int		buffer_min;
	struct hours	hours;
	int		requires_approval;
	int		requires_qualification;
	int		priority_days;	/* home priority window, 0: off */
	int		priority_district; /* 1: the owner's district is home */
};

/* An instrument as the booking code needs it. */
struct instrument {
	int64_t		id;
	char		*code;
	char		*name;
	char		*status;
	int64_t		site_id;
	char		*site;
	char		*zone;
	int64_t		owner_id;
	struct rules	rules;
};

/* log.c */
void	log_init(int, int);
void	log_setlevel(int);
int	log_debugging(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
char	*log_escape(const char *);

/* xmalloc.c */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list);

/* config.c */
void	 config_defaults(struct config *);
int	 config_load(struct config *, const char *, char **);
void	 config_free(struct config *);
int	 config_parse_listen(const char *, char **, int *);
void	 config_budget(const struct config *, struct budget *);

/* timeutil.c */
int	 time_parse(const char *, time_t *);
char	*time_format(time_t, const char *);
#define TIME_FORMAT_LEN	64
size_t	 time_format_r(time_t, const char *, char *);
int	 duration_parse(const char *, long *);
int	 tz_offset(const char *, time_t);
int	 tz_local_to_utc(const char *, int, int, int, int, int, time_t *);
int	 tz_known(const char *);
char	*tz_canonical(const char *);
int	 days_in_month(int, int);

/* rules.c */
enum rule_result {
	RULE_OK = 0,
	RULE_GRANULARITY,
	RULE_MIN_DURATION,
	RULE_MAX_DURATION,
	RULE_ADVANCE,
	RULE_PAST,
	RULE_HOURS
};
int	 hours_parse(const char *, struct hours *, char **);
int	 hours_contains(const struct hours *, const char *, time_t, time_t);
time_t	 hours_next_open(const struct hours *, const char *, time_t);
void	 rules_defaults(struct rules *);
enum rule_result rules_check(const struct rules *, const char *, time_t,
	    time_t, time_t, char **);
const char *rules_name(enum rule_result);
time_t	 rules_align_up(const struct rules *, const char *, time_t);
int	 span_overlaps(const struct span *, const struct span *, int);
int	 slot_possible(const struct rules *, time_t, long, time_t, time_t);
int	 find_slot(const struct rules *, const char *, time_t, long,
	    const struct span *, size_t, time_t, time_t, struct span *);
size_t	 free_spans(const struct rules *, const char *, time_t, time_t,
	    const struct span *, size_t, time_t, struct span *, size_t);
int64_t	 hours_open_seconds(const struct hours *, int, time_t, time_t);

/* db.c */
/*
 * SQL for the longest booking ever stored, in seconds (booking_span,
 * migrations 0008 and 0011): a booking that ends after T starts after
 * T - LONGEST_SQL, which bounds from below a walk of an index led by
 * start.  Never NULL: without the row there is no bound.
 */
#define LONGEST_SQL \
	"coalesce((SELECT longest FROM booking_span), 4611686018427387904)"
int	 db_cache_size(struct yiqid *);
int	 db_open(struct yiqid *, const char *, char **);
void	 db_close(struct yiqid *);
sqlite3_stmt *db_prepare(struct yiqid *, const char *);
int	 db_begin_(struct yiqid *, const char *, int);
int	 db_commit(struct yiqid *);
void	 db_rollback(struct yiqid *);
void	 db_group_start(struct yiqid *);
void	 db_group_stop(struct yiqid *);
void	 db_group_end(struct yiqid *);
void	 db_group_check(struct yiqid *);
void	 loop_later(struct yiqid *, struct event **, event_callback_fn, void *,
	    int);
struct event *loop_every(struct yiqid *, int, event_callback_fn, void *);
int	 test_ms(const char *);
#define	 db_begin(ctx) db_begin_((ctx), __FILE__, __LINE__)
void	 db_bind_int(sqlite3_stmt *, const char *, int64_t);
void	 db_bind_text(sqlite3_stmt *, const char *, const char *);
void	 db_bind_null(sqlite3_stmt *, const char *);
void	 db_bind_blob(sqlite3_stmt *, const char *, const void *, size_t);
int	 db_step(sqlite3_stmt *);
int	 db_exec(struct yiqid *, const char *);
char	*db_text(sqlite3_stmt *, int);
int64_t	 db_lookup_id(struct yiqid *, const char *, const char *);
int	 db_audit(struct yiqid *, int64_t, const char *, const char *,
	    const char *, json_t *);
int	 db_audit_text(struct yiqid *, int64_t, const char *, const char *,
	    const char *, const char *);
time_t	 db_now(struct yiqid *);

/* schema-sql.c (generated from the schema directory) */
struct migration {
	const char	*name;
	const char	*sql;
};
extern const struct migration schema_migrations[];
extern const int schema_nmigrations;

/* auth.c */
char	*token_new(void);
void	 token_hash(const char *, unsigned char[32]);
int	 auth_request(struct req *, const char *);
void	 user_free(struct user *);
const char *role_name(enum role);
int	 role_parse(const char *, enum role *);
int	 auth_manages(struct req *, int64_t);
int	 auth_manages_category(struct req *, const char *);
void	 auth_scoped_delete(struct req *, const char *, const char *,
	     const char *, const char *);
int	 auth_covers_site(struct req *, int64_t);
int	 auth_sees_booking(struct req *, int64_t, int64_t, int64_t);

/* http.c */
int	 http_start(struct yiqid *, char **);
void	 http_stop(struct yiqid *);
void	 api_reply(struct req *, int, json_t *);
void	 api_reply_empty(struct req *, int);
void	 api_error(struct req *, int, const char *, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	 api_error_json(struct req *, int, const char *, json_t *, const char *,
	    ...) __attribute__((format(printf, 5, 6)));
void	 api_db_error(struct req *, int);
void	 api_reply_data(struct req *, int, const char *, const char *, size_t);
void	 api_reply_shared(struct req *, int, const char *, const char *, size_t,
	    void (*)(const void *, size_t, void *), void *);
const char *req_query(struct req *, const char *);
void	 req_finish(struct req *);
int	 req_client_left(struct req *);
void	 http_group_done(struct yiqid *, int);
int	 http_draining(struct yiqid *);

/* input.c */
int	 in_fields(struct req *, json_t *, const char *const *);
int	 in_string(struct req *, json_t *, const char *, int, const char **);
int	 in_bool(struct req *, json_t *, const char *, int *);
int	 in_int(struct req *, json_t *, const char *, int64_t, int64_t,
	    int64_t *);
int	 in_time(struct req *, json_t *, const char *, int, time_t *);
int	 in_duration(struct req *, json_t *, const char *, long *);
int	 in_code_list(struct req *, json_t *, const char *, json_t **);
int	 q_time(struct req *, const char *, time_t *);
int	 q_limit(struct req *, int64_t *, int64_t *);
int	 text_ok(const char *);

/* slices.c */
#define SLICE_US		2000	/* a slice of the loop */
struct timespec;
void	 slice_run(struct req *, int (*)(void *), void (*)(void *), void *,
	    int);
int	 slice_over(const struct timespec *);
int	 slices_busy(struct yiqid *);
void	 slices_stop(struct yiqid *);

/* api-audit.c */
extern const struct route api_audit_routes[];

/* api-misc.c */
extern const struct route api_misc_routes[];

/* api-places.c */
extern const struct route api_places_routes[];
int	 code_ok(const char *);

/* api-users.c */
extern const struct route api_users_routes[];
json_t	*user_json(struct yiqid *, int64_t);

/* instrument.c */
int	 instrument_load(struct yiqid *, const char *, int64_t,
	    struct instrument *);
void	 instrument_free(struct instrument *);

/* api-instruments.c */
#define IA_TEXT		0x1	/* fields are CSV text, rules flat */
extern const struct route api_instruments_routes[];
json_t	*instrument_json(struct yiqid *, int64_t);
int	 instrument_column(const char *);
int	 instrument_apply(struct yiqid *, json_t *, int, int64_t, int64_t,
	    int64_t *, char **, char **);

/* api-import.c */
extern const struct route api_import_routes[];

/* jsonbuf.c */
struct jsonbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};
void	 jb_free(struct jsonbuf *);
void	 jb_raw(struct jsonbuf *, const char *, size_t);
#define JB_LIT(jb, s)	jb_raw((jb), (s), sizeof (s) - 1)
void	 jb_str(struct jsonbuf *, const char *);
void	 jb_int(struct jsonbuf *, int64_t);
void	 jb_time(struct jsonbuf *, time_t, const char *);

/* api-availability.c */
extern const struct route api_availability_routes[];
int	 busy_load(struct yiqid *, const struct instrument *, time_t, time_t,
	    int64_t, struct span **, size_t *);

/* api-reservations.c */
extern const struct route api_reservations_routes[];
json_t	*reservation_json(struct req *, sqlite3_stmt *);
void	 reservation_jb(struct req *, sqlite3_stmt *, struct jsonbuf *);
json_t	*reservation_get(struct req *, int64_t, int *);

/* api-blackouts.c */
extern const struct route api_blackouts_routes[];

/* ratelimit.c */
int	 ratelimit_take(struct yiqid *, int64_t);

/* backup.c */
int	 backup_run(const char *, const char *, char **);
/* workflow.c */
int	 workflow_sweep(struct yiqid *, time_t);
void	 workflow_start(struct yiqid *);
void	 workflow_stop(struct yiqid *);

/* memstat.c */
void	 memstat_start(struct yiqid *);
void	 memstat_log(struct yiqid *);
void	 memstat_stop(struct yiqid *);

/* recur.c */
int	 recur_expand(const char *, const char *, time_t, size_t, time_t **,
	    size_t *, char **);

/* api-qualifications.c */
extern const struct route api_qualifications_routes[];
int	 qualification_check(struct yiqid *, int64_t, int64_t, time_t,
	    char **);
/* usage.c */
#define USAGE_TYPES	4
extern const char *const usage_types[USAGE_TYPES + 1];
int	 usage_type_index(const char *);
int	 usage_type_take(struct req *, json_t *, const char **);

/* availcache.c */
void	 avcache_mark(struct yiqid *, int64_t *, int64_t *);
const char *avcache_get(struct yiqid *, const char *, time_t, time_t, int64_t,
	    time_t, size_t *);
void	 avcache_put(struct yiqid *, const char *, time_t, time_t, int64_t,
	    time_t, long, int64_t, int64_t, const char *, size_t);
void	 avcache_free(struct yiqid *);

/* checkpoint.c */
int	 ckpt_start(struct yiqid *, char **);
void	 ckpt_stop(struct yiqid *);
int	 ckpt_wal_long(struct yiqid *);

/* pacedvfs.c */
struct pacedvfs;
struct pacedvfs *pacedvfs_new(const char *, size_t, long, char **);
const char *pacedvfs_name(const struct pacedvfs *);
long long pacedvfs_pauses(const struct pacedvfs *);
void	 pacedvfs_free(struct pacedvfs *);

/* report.c */
enum report_by {
	REPORT_BY_INSTRUMENT = 0,
	REPORT_BY_SITE,
	REPORT_BY_INSTITUTE,
	REPORT_BY_CATEGORY,
	REPORT_BY_DISTRICT,
	REPORT_BY_OWNER
};
enum report_format {
	REPORT_JSON = 0,
	REPORT_CSV,
	REPORT_HTML,
	REPORT_EVALUATION
};
/* A zone's UTC offsets over a period: off[i] holds from t[i] on. */
struct tzmap {
	char		*zone;
	int		 n;
	time_t		*t;
	int		*off;
};
/* What a report covers; built on the loop thread, read by the worker. */
struct report_params {
	time_t		 from, to;
	char		*from_text, *to_text;	/* as the answer shows them */
	enum report_by	 by;
	enum report_format format;
	char		*site;			/* site code, or NULL */
	char		*category;		/* category, or NULL */
	int64_t		*sites;			/* covered site ids ... */
	size_t		 nsites;		/* ... if restricted */
	int		 restricted;
	int		 baseline_hours;	/* annual baseline per instrument */
	int		 saturated_hours;	/* annual "saturated" threshold */
	struct tzmap	*zones;
	size_t		 nzones;
};
const char *report_by_name(enum report_by);
int	 report_by_parse(const char *, enum report_by *);
void	 tzmap_build(struct tzmap *, const char *, time_t, time_t);
void	 report_params_free(struct report_params *);
int	 report_run(sqlite3 *, const struct report_params *,
	    volatile int *, char **, size_t *, char **);
const char *report_content_type(enum report_format);

/* The figures of one group: seconds and counts, money in fen. */
struct report_figs {
	int64_t		avail_s, booked_s, used_s, external_s, cross_s;
	int64_t		charges, bookings, cancellations, late, no_shows;
	int64_t		effective_s, service_s, fallback_s;
	int64_t		measured, fallback;	/* bookings by effective basis */
	int64_t		usage_s[USAGE_TYPES];	/* booked, by usage type */
	int64_t		nbase;		/* active instruments (baseline) */
	int64_t		served;		/* distinct institutes served */
};
/* One row of a report: a group's key (borrowed) and its figures. */
struct report_row {
	const char		*key;
	int			 has_avail;	/* 0: available_h is null */
	struct report_figs	 f;
	size_t			 src;		/* an instrument of it (report.c) */
};
/* What the users of payer owe the owners in payee (level 0 district, 1 institute). */
struct report_pair {
	int		 level;
	const char	*payer, *payee;
	int64_t		 bookings, booked_s, charges;
};
/* Booked seconds of one instrument by local weekday (Monday 0) and hour. */
struct report_heat {
	const char	*code;
	int64_t		 booked_s;
	int64_t		 cell[7][24];
};
/* A computed report; the rows point into data that report.c owns. */
struct report {
	const struct report_params *p;
	struct report_row	*groups;
	size_t			 ngroups;
	struct report_row	 totals;
	struct report_pair	*pairs;
	size_t			 npairs;
	struct report_row	*sites, *categories;	/* for the charts */
	size_t			 nsites, ncategories;
	struct report_heat	*heat;			/* busiest first */
	size_t			 nheat;
	size_t			 ninstruments;
};

/* report-html.c */
char	*report_html(const struct report *, size_t *);
char	*report_num(double);
const char *report_effective_basis(const struct report_figs *);
double	 report_baseline_h(const struct report_params *, int64_t);
int	 report_saturated(const struct report_params *,
	    const struct report_figs *);

/* api-reports.c */
extern const struct route api_reports_routes[];
void	 reports_stop(struct yiqid *);
int	 reports_busy(struct yiqid *);

/* demo.c */
int	 demo_load(struct yiqid *, char **);

/* ical.c */
enum ical_ev_status {
	ICAL_EV_CONFIRMED = 0,
	ICAL_EV_TENTATIVE,
	ICAL_EV_CANCELLED
};
enum ical_fb_kind {
	ICAL_FB_BUSY = 0,
	ICAL_FB_TENTATIVE,
	ICAL_FB_UNAVAILABLE
};
struct ical;
/* One VEVENT as the feeds describe it; strings are borrowed. */
struct ical_event {
	const char		*uid;
	time_t			 start;
	time_t			 end;
	const char		*zone;		/* IANA zone of the site */
	const char		*summary;
	const char		*description;	/* or NULL */
	const char		*location;	/* or NULL */
	const char		*categories;	/* or NULL */
	enum ical_ev_status	 status;
	int64_t			 sequence;
	time_t			 stamp;		/* DTSTAMP: the last change */
	time_t			 created;	/* or 0 */
};
char	*ical_clean(const char *);
struct ical *ical_new(const char *, const char *, int);
void	 ical_event(struct ical *, const struct ical_event *);
char	*ical_event_render(const struct ical_event *, size_t *);
void	 ical_add_text(struct ical *, const char *, const char *, size_t);
void	 ical_reserve(struct ical *, size_t);
void	 ical_freebusy(struct ical *, const char *, time_t, time_t, time_t,
	    const struct span *, const int *, size_t);
char	*ical_finish(struct ical *, size_t *);

/* api-feeds.c */
extern const struct route api_feeds_routes[];

/* feedcache.c */
struct feedcache *feedcache_new(size_t);
void	 feedcache_free(struct feedcache *);
void	 feedcache_limit(struct feedcache *, size_t);
const char *feedcache_get(struct feedcache *, int64_t, int, const void *,
	    size_t, size_t *);
const char *feedcache_put(struct feedcache *, int64_t, int, const void *,
	    size_t, const char *, size_t);
void	 feedcache_hold(struct feedcache *, int);
struct fc_text {
	int	 refs;
	char	*text;
	size_t	 len;
};
struct fc_text *fctext_new(char *, size_t);
void	 fctext_ref(struct fc_text *);
void	 fctext_unref(struct fc_text *);
struct fc_text *feedcache_feed_get(struct feedcache *, const char *);
void	 feedcache_feed_put(struct feedcache *, const char *, struct fc_text *);
void	 feedcache_stats(struct feedcache *, size_t *, size_t *, size_t *);
size_t	 feedcache_feeds_used(struct feedcache *);

/* workers.c */
struct donepipe;
struct donepipe *donepipe_new(struct event_base *, void (*)(void *, void *),
	    void *);
void	 donepipe_post(struct donepipe *, void *);
void	 donepipe_free(struct donepipe *);
void	 worker_nice(int);
int	 worker_db_open(const char *, int, sqlite3 **, char **);

/* feedjob.c */
#define FEEDJOB_CANCELLED	(-1)	/* feedjob_rc(): the daemon stops */
#define FEEDJOB_DONE		0	/* done's return: r is answered */
#define FEEDJOB_LATER		1	/* done's return: feedjob_end() follows */
struct feedjob;
#define FEEDJOB_DIMS	3		/* dimension tables of a query */
struct feedjob_dim {
	const char	*sql;		/* its row by id (the one parameter) */
	int		 key;		/* the query's column holding the id */
};
struct feedjob_col {
	int		 dim;		/* -1: the query's; else dims[dim] */
	int		 col;		/* which column of it */
};
struct feedjob_query {
	const char	*any;		/* the rows in any order, LIMIT :max */
	const char	*ordered;	/* the first :max rows, in order */
	int64_t		 id;		/* bound to :id, :from, :to, :keep */
	int64_t		 from;
	int64_t		 to;
	int64_t		 keep;
	int64_t		 max;		/* rows at most */
	const struct feedjob_dim *dims;	/* read once per id */
	int		 ndims;
	const struct feedjob_col *layout; /* whence each column of a row */
	int		 ncols;
};
int	 feedjob_start(struct req *, const struct feedjob_query *,
	    int (*)(struct req *, struct feedjob *, void *), void *);
void	 feedjob_end(struct feedjob *);
void	 feedjobs_stop(struct yiqid *);
int	 feedjobs_busy(struct yiqid *);
int	 feedjob_rc(const struct feedjob *);
void	 feedjob_version(const struct feedjob *, int64_t *, int64_t *);
size_t	 feedjob_nrows(const struct feedjob *);
const void *feedjob_row(const struct feedjob *, size_t, size_t *);
int64_t	 feedjob_int(const struct feedjob *, size_t, int);
const char *feedjob_text(const struct feedjob *, size_t, int);

/* api-ical-import.c */
extern const struct route api_ical_import_routes[];
int	 ical_import_sync(struct yiqid *, int64_t, int64_t, const char *,
	    const char *, size_t, int *, char **);

/* api-calendars.c */
extern const struct route api_calendars_routes[];

/* calpoll.c */
int	 calpoll_start(struct yiqid *, char **);
void	 calpoll_kick(struct yiqid *);
void	 calpoll_stop(struct yiqid *);

/* policy.c */
/* Why a booking policy refuses a booking: the answer policy_reply() sends. */
struct refusal {
	int		 status;	/* 403 or 422 */
	const char	*rule;		/* "suspended", "priority", "quota" */
	char		*msg;		/* the sentence, or NULL */
	json_t		*extra;		/* members of the error object */
	int		 rc;		/* SQLite code of a database error */
};
int	 policy_check(struct yiqid *, const struct instrument *, int64_t,
	    int64_t, time_t, time_t, int64_t, struct refusal *);
int	 refusal_set(struct refusal *, int, const char *, json_t *,
	    const char *);
void	 refusal_free(struct refusal *);
void	 policy_reply(struct req *, struct refusal *);
int	 policy_check_reply(struct req *, const struct instrument *, int64_t,
	    int64_t, time_t, time_t, int64_t);
int	 policy_series(struct yiqid *, const struct instrument *, int64_t,
	    int64_t, time_t, time_t, const char **, char **, int *);

/* quotas.c */
extern const struct route api_quotas_routes[];
int	 quota_check(struct yiqid *, const struct instrument *, int64_t,
	    int64_t, time_t, time_t, int64_t, struct refusal *);

/* violations.c */
extern const struct route api_violations_routes[];
time_t	 suspended_until(struct yiqid *, int64_t, int *);
int	 violations_sweep(struct yiqid *, time_t);
json_t	*suspension_json(struct yiqid *, int64_t);

/* api-faults.c */
extern const struct route api_faults_routes[];

#endif /* YIQID_H */
