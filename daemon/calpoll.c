/*
 * calpoll.c: polling external iCalendar calendars into blackouts, on the
 * daemon's own event loop.
 *
 * libcurl's multi interface is driven by libevent as curl's
 * docs/examples/multi-event.c does it: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION),
 * and we hand events back with curl_multi_socket_action(), so no transfer
 * ever blocks the loop and a hanging server stalls nothing but its own
 * poll.  One periodic tick starts the polls that are due (next_poll in
 * calendar_sources); calpoll_kick() runs it at once.
 *
 * Each fetch is conditional (If-None-Match, If-Modified-Since), limited in
 * time (CALPOLL_TIMEOUT) and size (CALPOLL_MAX), http(s) only.  A 200 is
 * imported by ical_import_sync(), which replaces the calendar's blackouts
 * in one transaction; a 304 keeps them.  Any failure (no answer, a status
 * other than 200/304, too large, a malformed calendar) keeps the last good
 * set, is logged and recorded in calendar_sources (last_error, failures),
 * and the next try backs off: 1, 2, 4 ... minutes, at most the poll
 * interval.
 */

#include "config.h"

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "yiqid.h"

#define CALPOLL_TICK		5		/* seconds between checks */
#define CALPOLL_TIMEOUT		30L		/* seconds, whole transfer */
#define CALPOLL_CONNECT		10L		/* seconds to connect */
#define CALPOLL_MAX		(4L * 1024 * 1024)	/* bytes of one calendar */
#define CALPOLL_PARALLEL	8		/* transfers at once */
#define CALPOLL_HEADER_MAX	256		/* kept ETag/Last-Modified */

/* One transfer in flight. */
struct calfetch {
	struct calpoll		*cp;
	CURL			*easy;
	struct curl_slist	*headers;
	int64_t			 id;
	int64_t			 instrument_id;
	int64_t			 site_id;
	char			*body;
	size_t			 len;
	int			 overflow;
	char			*etag;
	char			*lastmod;
	TAILQ_ENTRY(calfetch)	 entry;
};

/* The poller: one per daemon, hung on struct yiqid. */
struct calpoll {
	struct yiqid		*ctx;
	CURLM			*multi;
	struct event		*timer;		/* curl's timeout */
	struct event		*tick;		/* start due polls */
	int			 nfetches;
	TAILQ_HEAD(, calfetch)	 fetches;
};

static void	calpoll_check(struct calpoll *);

static void
calfetch_free(struct calfetch *f)
{
	if (f->easy != NULL) {
		curl_multi_remove_handle(f->cp->multi, f->easy);
		curl_easy_cleanup(f->easy);
	}
	curl_slist_free_all(f->headers);
	free(f->body);
	free(f->etag);
	free(f->lastmod);
	free(f);
}

static size_t
calfetch_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct calfetch	*f = arg;
	size_t		 n = size * nmemb;

	if (n > (size_t)CALPOLL_MAX - f->len) {
		f->overflow = 1;
		return (0);
	}
	f->body = xreallocarray(f->body, f->len + n + 1, 1);
	memcpy(f->body + f->len, ptr, n);
	f->len += n;
	f->body[f->len] = '\0';
	return (n);
}

/* Keep a header value (ETag, Last-Modified) if it is short and printable. */
static void
calfetch_keep(char **out, const char *v, size_t n)
{
	size_t	i;

	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' ||
	    v[n - 1] == ' '))
		n--;
	while (n > 0 && *v == ' ') {
		v++;
		n--;
	}
	if (n == 0 || n > CALPOLL_HEADER_MAX)
		return;
	for (i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return;
	}
	free(*out);
	*out = xstrndup(v, n);
}

static size_t
calfetch_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct calfetch	*f = arg;
	size_t		 n = size * nmemb;

	if (n > 5 && strncasecmp(ptr, "ETag:", 5) == 0)
		calfetch_keep(&f->etag, ptr + 5, n - 5);
	else if (n > 14 && strncasecmp(ptr, "Last-Modified:", 14) == 0)
		calfetch_keep(&f->lastmod, ptr + 14, n - 14);
	return (n);
}

/* Record the outcome of a poll in calendar_sources. */
static void
calpoll_record(struct calpoll *cp, struct calfetch *f, long status,
    const char *error, int blackouts)
{
	static const char *const q_ok =
	    "UPDATE calendar_sources SET last_poll = :now, last_ok = :now, "
	    "last_status = :st, last_error = '', failures = 0, next_poll = "
	    ":next, etag = coalesce(:etag, etag), last_modified = "
	    "coalesce(:lm, last_modified), blackouts = CASE WHEN :n < 0 THEN "
	    "blackouts ELSE :n END WHERE id = :id";
	static const char *const q_fail =
	    "UPDATE calendar_sources SET last_poll = :now, last_status = :st, "
	    "last_error = :err, failures = failures + 1, next_poll = :now + "
	    "min(:max, 60 << min(failures, 10)) WHERE id = :id";
	struct yiqid	*ctx = cp->ctx;
	sqlite3_stmt	*st;
	time_t		 now = db_now(ctx);

	st = db_prepare(ctx, error == NULL ? q_ok : q_fail);
	db_bind_int(st, ":now", now);
	db_bind_int(st, ":st", status);
	db_bind_int(st, ":id", f->id);
	if (error == NULL) {
		db_bind_int(st, ":next", now + ctx->cfg.poll_interval);
		if (f->etag != NULL)
			db_bind_text(st, ":etag", f->etag);
		else
			db_bind_null(st, ":etag");
		if (f->lastmod != NULL)
			db_bind_text(st, ":lm", f->lastmod);
		else
			db_bind_null(st, ":lm");
		db_bind_int(st, ":n", blackouts);
	} else {
		db_bind_text(st, ":err", error);
		db_bind_int(st, ":max", ctx->cfg.poll_interval);
	}
	if (db_step(st) != SQLITE_DONE)
		log_warnx("calendar %lld: cannot record the poll: %s",
		    (long long)f->id, sqlite3_errmsg(ctx->db));
	sqlite3_reset(st);
}

/* A transfer finished with result: import, keep, or record the failure. */
static void
calfetch_done(struct calpoll *cp, struct calfetch *f, CURLcode result)
{
	char	*error = NULL, *cause = NULL, source[64];
	long	 status = 0;
	int	 n = -1, rc;

	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
	if (result != CURLE_OK) {
		if (f->overflow)
			xasprintf(&error, "the calendar is larger than %ld "
			    "bytes", CALPOLL_MAX);
		else
			xasprintf(&error, "fetch failed: %s",
			    curl_easy_strerror(result));
	} else if (status == 200) {
		snprintf(source, sizeof source, "calendar:%lld",
		    (long long)f->id);
		rc = ical_import_sync(cp->ctx, f->instrument_id, f->site_id,
		    source, f->body != NULL ? f->body : "", f->len, &n, &cause);
		if (rc != 0) {
			xasprintf(&error, "%s%s", rc == -1 ? "malformed "
			    "calendar: " : "", cause != NULL ? cause : "error");
			n = -1;
		}
		free(cause);
	} else if (status != 304)
		xasprintf(&error, "the server answered HTTP %ld", status);
	if (error != NULL)
		log_warnx("calendar %lld: %s; keeping the last good state",
		    (long long)f->id, error);
	else if (n >= 0)
		log_info("calendar %lld: %d blackouts", (long long)f->id, n);
	else
		log_debug("calendar %lld: not modified", (long long)f->id);
	calpoll_record(cp, f, status, error, n);
	free(error);
}

/* Collect the finished transfers. */
static void
calpoll_check(struct calpoll *cp)
{
	struct calfetch	*f;
	CURLMsg		*msg;
	int		 left;

	while ((msg = curl_multi_info_read(cp->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&f);
		calfetch_done(cp, f, msg->data.result);
		TAILQ_REMOVE(&cp->fetches, f, entry);
		cp->nfetches--;
		calfetch_free(f);
	}
}

static void
calpoll_on_socket(evutil_socket_t fd, short kind, void *arg)
{
	struct calpoll	*cp = arg;
	int		 action = 0, running;

	if (kind & EV_READ)
		action |= CURL_CSELECT_IN;
	if (kind & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(cp->multi, fd, action, &running);
	calpoll_check(cp);
}

static void
calpoll_on_timer(evutil_socket_t fd, short kind, void *arg)
{
	struct calpoll	*cp = arg;
	int		 running;

	curl_multi_socket_action(cp->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	calpoll_check(cp);
}

/* curl: watch socket s for what (or stop watching it). */
static int
calpoll_socket_cb(CURL *easy, curl_socket_t s, int what, void *arg,
    void *sockp)
{
	struct calpoll	*cp = arg;
	struct event	*ev = sockp;
	short		 kind;

	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL) {
			event_free(ev);
			curl_multi_assign(cp->multi, s, NULL);
		}
		return (0);
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ev != NULL)
		event_free(ev);
	ev = event_new(cp->ctx->base, s, kind, calpoll_on_socket, cp);
	if (ev == NULL)
		fatalx("event_new");
	event_add(ev, NULL);
	curl_multi_assign(cp->multi, s, ev);
	return (0);
}

/* curl: wake it after ms milliseconds (-1: never). */
static int
calpoll_timer_cb(CURLM *multi, long ms, void *arg)
{
	struct calpoll	*cp = arg;
	struct timeval	 tv;

	if (ms < 0) {
		evtimer_del(cp->timer);
		return (0);
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(cp->timer, &tv);
	return (0);
}

/* Start fetching one calendar. */
static void
calpoll_fetch(struct calpoll *cp, sqlite3_stmt *st)
{
	struct calfetch	*f;
	const char	*url, *etag, *lm;
	char		*line;

	f = xcalloc(1, sizeof *f);
	f->cp = cp;
	f->id = sqlite3_column_int64(st, 0);
	f->instrument_id = sqlite3_column_int64(st, 1);
	f->site_id = sqlite3_column_int64(st, 2);
	url = (const char *)sqlite3_column_text(st, 3);
	etag = (const char *)sqlite3_column_text(st, 4);
	lm = (const char *)sqlite3_column_text(st, 5);
	if ((f->easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init");
	curl_easy_setopt(f->easy, CURLOPT_URL, url);
	curl_easy_setopt(f->easy, CURLOPT_PRIVATE, f);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(f->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(f->easy, CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(f->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(f->easy, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT, CALPOLL_TIMEOUT);
	curl_easy_setopt(f->easy, CURLOPT_CONNECTTIMEOUT, CALPOLL_CONNECT);
	curl_easy_setopt(f->easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)CALPOLL_MAX);
	curl_easy_setopt(f->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(f->easy, CURLOPT_USERAGENT, "yiqid/" YIQID_VERSION);
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, calfetch_write);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->easy, CURLOPT_HEADERFUNCTION, calfetch_header);
	curl_easy_setopt(f->easy, CURLOPT_HEADERDATA, f);
	if (etag != NULL) {
		xasprintf(&line, "If-None-Match: %s", etag);
		f->headers = curl_slist_append(f->headers, line);
		free(line);
	}
	if (lm != NULL) {
		xasprintf(&line, "If-Modified-Since: %s", lm);
		f->headers = curl_slist_append(f->headers, line);
		free(line);
	}
	f->headers = curl_slist_append(f->headers, "Accept: text/calendar");
	curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->headers);
	TAILQ_INSERT_TAIL(&cp->fetches, f, entry);
	cp->nfetches++;
	log_debug("%s: calendar %lld", __func__, (long long)f->id);
	if (curl_multi_add_handle(cp->multi, f->easy) != CURLM_OK) {
		TAILQ_REMOVE(&cp->fetches, f, entry);
		cp->nfetches--;
		calpoll_record(cp, f, 0, "cannot start the transfer", -1);
		calfetch_free(f);
	}
}

/* Is calendar id being fetched now? */
static int
calpoll_busy(struct calpoll *cp, int64_t id)
{
	struct calfetch	*f;

	TAILQ_FOREACH(f, &cp->fetches, entry) {
		if (f->id == id)
			return (1);
	}
	return (0);
}

/* The periodic tick: start the polls that are due. */
static void
calpoll_on_tick(evutil_socket_t fd, short kind, void *arg)
{
	static const char *const q =
	    "SELECT id, coalesce(instrument_id, 0), coalesce(site_id, "
	    "(SELECT site_id FROM instruments WHERE id = instrument_id)), "
	    "url, etag, last_modified FROM calendar_sources WHERE "
	    "next_poll <= :now ORDER BY next_poll, id LIMIT :max";
	struct calpoll	*cp = arg;
	struct yiqid	*ctx = cp->ctx;
	sqlite3_stmt	*st;

	if (ctx->stopping || ctx->txn_depth != 0 ||
	    cp->nfetches >= CALPOLL_PARALLEL)
		return;
	st = db_prepare(ctx, q);
	db_bind_int(st, ":now", db_now(ctx));
	db_bind_int(st, ":max", CALPOLL_PARALLEL);
	while (db_step(st) == SQLITE_ROW && cp->nfetches < CALPOLL_PARALLEL) {
		if (!calpoll_busy(cp, sqlite3_column_int64(st, 0)))
			calpoll_fetch(cp, st);
	}
	sqlite3_reset(st);
}

/* Set up the poller on the daemon's event loop; returns -1 with *cause. */
int
calpoll_start(struct yiqid *ctx, char **cause)
{
	struct calpoll	*cp;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		xasprintf(cause, "cannot initialise libcurl");
		return (-1);
	}
	cp = xcalloc(1, sizeof *cp);
	cp->ctx = ctx;
	TAILQ_INIT(&cp->fetches);
	if ((cp->multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init");
	curl_multi_setopt(cp->multi, CURLMOPT_SOCKETFUNCTION,
	    calpoll_socket_cb);
	curl_multi_setopt(cp->multi, CURLMOPT_SOCKETDATA, cp);
	curl_multi_setopt(cp->multi, CURLMOPT_TIMERFUNCTION, calpoll_timer_cb);
	curl_multi_setopt(cp->multi, CURLMOPT_TIMERDATA, cp);
	cp->timer = evtimer_new(ctx->base, calpoll_on_timer, cp);
	if (cp->timer == NULL)
		fatalx("cannot create the poller's timer");
	cp->tick = loop_every(ctx, CALPOLL_TICK, calpoll_on_tick, cp);
	ctx->calpoll = cp;
	return (0);
}

/* Poll what is due now rather than at the next tick. */
void
calpoll_kick(struct yiqid *ctx)
{
	if (ctx->calpoll != NULL)
		event_active(ctx->calpoll->tick, EV_TIMEOUT, 0);
}

/* Abandon the transfers in flight and free the poller. */
void
calpoll_stop(struct yiqid *ctx)
{
	struct calpoll	*cp = ctx->calpoll;
	struct calfetch	*f;

	if (cp == NULL)
		return;
	while ((f = TAILQ_FIRST(&cp->fetches)) != NULL) {
		TAILQ_REMOVE(&cp->fetches, f, entry);
		calfetch_free(f);
	}
	curl_multi_cleanup(cp->multi);
	event_free(cp->timer);
	event_free(cp->tick);
	free(cp);
	ctx->calpoll = NULL;
	curl_global_cleanup();
}
