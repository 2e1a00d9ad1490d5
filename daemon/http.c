/*
 * http.c: the HTTP front of yiqid.  evhttp accepts connections with the
 * configured limits (body and header size, idle timeout); one generic
 * callback builds a struct req, finds the route in the resource files'
 * route tables, and answers 404/405/401/403/400 before any handler runs:
 * handlers keep only booking logic.  Every request ends in exactly one
 * reply (api_reply/api_error) and is freed in one place, req_free(); one
 * log line per request is written there, with tokens masked.
 *
 * While a group transaction is open (db.c) every reply is held, not sent:
 * a write's 201 and a read of rows not yet committed must wait for the
 * group's COMMIT.  http_group_done() then sends them in order, or a 503 in
 * place of each if the COMMIT failed; a held request is freed only then.
 */

#include "config.h"

#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "yiqid.h"

static const struct route *const route_tables[] = {
	api_misc_routes,
	api_places_routes,
	api_users_routes,
	api_instruments_routes,
	api_import_routes,
	api_availability_routes,
	api_reservations_routes,
	api_blackouts_routes,
	api_audit_routes,
	api_qualifications_routes,
	api_feeds_routes,
	api_ical_import_routes,
	api_calendars_routes,
	api_reports_routes,
	api_quotas_routes,
	api_violations_routes,
	api_faults_routes,
};

static void	http_dispatch(struct evhttp_request *, void *);
static void	req_free(struct req *);

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return ("GET");
	case EVHTTP_REQ_POST:
		return ("POST");
	case EVHTTP_REQ_PUT:
		return ("PUT");
	case EVHTTP_REQ_PATCH:
		return ("PATCH");
	case EVHTTP_REQ_DELETE:
		return ("DELETE");
	case EVHTTP_REQ_HEAD:
		return ("HEAD");
	case EVHTTP_REQ_OPTIONS:
		return ("OPTIONS");
	default:
		return ("OTHER");
	}
}

/* Let the process hold enough descriptors for max_connections. */
static void
raise_nofile(int want)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur >= (rlim_t)want + 64)
		return;
	rl.rlim_cur = (rlim_t)want + 64;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("raising the descriptor limit");
}

/*
 * Create the HTTP server and bind the configured address.  Logs the bound
 * address (with the real port when the configuration asked for port 0).
 */
int
http_start(struct yiqid *ctx, char **cause)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	char			*addr, host[INET6_ADDRSTRLEN];
	int			 port, fd;

	if (config_parse_listen(ctx->cfg.listen, &addr, &port) == -1) {
		xasprintf(cause, "bad listen address %s", ctx->cfg.listen);
		return (-1);
	}
	raise_nofile(ctx->cfg.max_connections);
	if ((ctx->http = evhttp_new(ctx->base)) == NULL)
		fatalx("evhttp_new");
	evhttp_set_max_body_size(ctx->http, ctx->cfg.max_body);
	evhttp_set_max_headers_size(ctx->http, ctx->cfg.max_headers);
	evhttp_set_timeout(ctx->http, ctx->cfg.timeout);
	evhttp_set_allowed_methods(ctx->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
	evhttp_set_default_content_type(ctx->http,
	    "application/json; charset=utf-8");
	evhttp_set_gencb(ctx->http, http_dispatch, ctx);

	ctx->sock = evhttp_bind_socket_with_handle(ctx->http, addr,
	    (ev_uint16_t)port);
	if (ctx->sock == NULL) {
		xasprintf(cause, "cannot listen on %s: %s", ctx->cfg.listen,
		    strerror(errno));
		free(addr);
		return (-1);
	}
	fd = evhttp_bound_socket_get_fd(ctx->sock);
	/*
	 * libevent listens with a backlog of 128: a burst of connections
	 * beyond it (a thousand clients at once) had the next one's SYN
	 * dropped and retried a second later.  Listening again raises it
	 * (the kernel caps it at net.core.somaxconn).
	 */
	if (listen(fd, SOMAXCONN) == -1)
		log_warn("listen backlog");
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
			port = ntohs(sin->sin_port);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
			port = ntohs(sin6->sin6_port);
		}
		log_info("listening on %s:%d", host, port);
	}
	free(addr);
	return (0);
}

/* Stop accepting; connections in flight are closed by evhttp_free. */
void
http_stop(struct yiqid *ctx)
{
	if (ctx->sock != NULL) {
		evhttp_del_accept_socket(ctx->http, ctx->sock);
		ctx->sock = NULL;
	}
}

/* A query parameter's value (already checked as text), or NULL. */
const char *
req_query(struct req *r, const char *name)
{
	return (evhttp_find_header(&r->query, name));
}

/* Match path against pattern; '*' takes one segment into r->args. */
static int
route_match(const char *pattern, const char *path, struct req *r)
{
	const char	*p = pattern, *s = path, *e;

	r->nargs = 0;
	while (*p != '\0') {
		if (*p == '*') {
			e = strchr(s, '/');
			if (e == NULL)
				e = s + strlen(s);
			/* A suffix after '*' in the same segment, e.g. ".ics". */
			if (p[1] != '/' && p[1] != '\0') {
				size_t	sl = strcspn(p + 1, "/");
				if ((size_t)(e - s) <= sl ||
				    strncmp(e - sl, p + 1, sl) != 0)
					goto fail;
				e -= sl;
			}
			if (e == s || r->nargs == 4)
				goto fail;
			r->args[r->nargs++] = xstrndup(s, e - s);
			s = e;
			p++;
			continue;
		}
		if (*p != *s)
			goto fail;
		p++;
		s++;
	}
	if (*s == '\0')
		return (1);
fail:
	while (r->nargs > 0)
		free(r->args[--r->nargs]);
	return (0);
}

/* Find the route for the request; *allowed is set if only the method failed. */
static const struct route *
route_find(struct req *r, int *allowed)
{
	const struct route	*rt;
	size_t			 i;

	*allowed = 1;
	for (i = 0; i < sizeof route_tables / sizeof route_tables[0]; i++) {
		for (rt = route_tables[i]; rt->pattern != NULL; rt++) {
			if (!route_match(rt->pattern, r->path, r))
				continue;
			if (rt->method == r->method)
				return (rt);
			*allowed = 0;
			while (r->nargs > 0)
				free(r->args[--r->nargs]);
		}
	}
	return (NULL);
}

/* Check every query value and path argument: UTF-8 text, no controls. */
static int
req_check_text(struct req *r)
{
	struct evkeyval	*kv;
	int		 i;

	TAILQ_FOREACH(kv, &r->query, next) {
		if (!text_ok(kv->key) || !text_ok(kv->value)) {
			api_error_json(r, 400, "bad_request",
			    json_pack("{s:s}", "field", text_ok(kv->key) ?
			    kv->key : "?"), "query parameter is not valid text");
			return (-1);
		}
	}
	for (i = 0; i < r->nargs; i++) {
		if (!text_ok(r->args[i])) {
			api_error(r, 400, "bad_request",
			    "the path is not valid text");
			return (-1);
		}
	}
	return (0);
}

/* Take the request body as the route wants it. */
static int
req_read_body(struct req *r, int flags)
{
	struct evbuffer	*buf = evhttp_request_get_input_buffer(r->ev);
	json_error_t	 jerr;
	size_t		 len = evbuffer_get_length(buf);

	r->rawlen = len;
	r->raw = xmalloc(len + 1);
	if (len > 0)
		evbuffer_remove(buf, r->raw, len);
	r->raw[len] = '\0';
	if ((flags & (R_JSON | R_JSON_OPT)) == 0)
		return (0);
	if (len == 0) {
		if (flags & R_JSON_OPT)
			return (0);
		api_error(r, 400, "bad_request", "a JSON object body is required");
		return (-1);
	}
	r->body = json_loadb(r->raw, len, JSON_REJECT_DUPLICATES, &jerr);
	if (r->body == NULL) {
		api_error_json(r, 400, "bad_request", json_pack("{s:i,s:i}",
		    "line", jerr.line, "column", jerr.column),
		    "the body is not valid JSON: %s", jerr.text);
		return (-1);
	}
	if (!json_is_object(r->body)) {
		api_error(r, 400, "bad_request", "the body must be a JSON object");
		return (-1);
	}
	return (0);
}

static void
http_dispatch(struct evhttp_request *ev, void *arg)
{
	struct yiqid		*ctx = arg;
	struct req		*r;
	const struct evhttp_uri	*uri;
	const struct route	*rt;
	const char		*path, *query;
	size_t			 plen;
	int			 allowed, wait;

	r = xcalloc(1, sizeof *r);
	r->ctx = ctx;
	r->ev = ev;
	r->method = evhttp_request_get_command(ev);
	gettimeofday(&r->t0, NULL);
	TAILQ_INIT(&r->query);

	uri = evhttp_request_get_evhttp_uri(ev);
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || *path == '\0')
		path = "/";
	r->path = evhttp_uridecode(path, 0, &plen);
	if (r->path == NULL || strlen(r->path) != plen) {
		api_error(r, 400, "bad_request", "the path is malformed");
		goto done;
	}
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (query != NULL && evhttp_parse_query_str(query, &r->query) == -1) {
		api_error(r, 400, "bad_request", "the query string is malformed");
		goto done;
	}
	if (ctx->stopping) {
		api_error(r, 503, "unavailable", "the server is stopping");
		goto done;
	}
	if ((rt = route_find(r, &allowed)) == NULL) {
		if (allowed)
			api_error(r, 404, "not_found", "no such route: %s",
			    r->path);
		else
			api_error(r, 405, "method_not_allowed",
			    "%s is not allowed here", method_name(r->method));
		goto done;
	}
	if (req_check_text(r) == -1)
		goto done;
	if ((rt->flags & R_NOAUTH) == 0) {
		if (auth_request(r, evhttp_find_header(
		    evhttp_request_get_input_headers(ev), "Authorization")) == -1) {
			evhttp_add_header(evhttp_request_get_output_headers(ev),
			    "WWW-Authenticate", "Bearer realm=\"yiqi\"");
			api_error(r, 401, "unauthenticated", "a valid API token "
			    "is needed (Authorization: Bearer TOKEN)");
			goto done;
		}
		if ((wait = ratelimit_take(ctx, r->user->token_id)) != 0) {
			char	retry[16];

			snprintf(retry, sizeof retry, "%d", wait);
			evhttp_add_header(evhttp_request_get_output_headers(ev),
			    "Retry-After", retry);
			api_error(r, 429, "rate_limited", "too many requests with "
			    "this token; retry in %d s", wait);
			goto done;
		}
		if ((rt->flags & R_ADMIN) && r->user->role != ROLE_ADMIN) {
			api_error(r, 403, "forbidden", "only an admin may do this");
			goto done;
		}
	}
	if (req_read_body(r, rt->flags) == -1)
		goto done;
	rt->handler(r);
	if (r->deferred && !r->replied)
		return;		/* the handler answers later: req_finish() */
	if (!r->replied) {
		log_warnx("%s %s: handler sent no reply", method_name(r->method),
		    r->path);
		api_error(r, 500, "internal", "internal error");
	}
	if (ctx->txn_depth != 0) {
		log_warnx("%s %s: transaction from %s:%d left open",
		    method_name(r->method), r->path, ctx->txn_file, ctx->txn_line);
		while (ctx->txn_depth > 0)
			db_rollback(ctx);
	}
done:
	if (!r->held)
		req_free(r);	/* else http_group_done() frees it */
	db_group_check(ctx);
}

/* Write the request's log line: method, path (tokens masked), status, time. */
static void
req_log(struct req *r)
{
	struct timeval	 t1;
	const char	*q;
	char		*path, *esc;
	long		 us;

	gettimeofday(&t1, NULL);
	us = (t1.tv_sec - r->t0.tv_sec) * 1000000L + (t1.tv_usec - r->t0.tv_usec);
	q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->ev));
	if (q != NULL && strstr(q, "token=") != NULL)
		q = "token=(masked)";
	xasprintf(&path, "%s%s%s", r->path != NULL ? r->path : "?",
	    q != NULL ? "?" : "", q != NULL ? q : "");
	esc = log_escape(path);
	log_info("%s %s %d %ldus %s", method_name(r->method), esc, r->status,
	    us, r->user != NULL ? r->user->login : "-");
	free(esc);
	free(path);
}

static void
req_free(struct req *r)
{
	req_log(r);
	while (r->nargs > 0)
		free(r->args[--r->nargs]);
	evhttp_clear_headers(&r->query);
	json_decref(r->body);
	free(r->raw);
	free(r->path);
	user_free(r->user);
	if (r->hbuf != NULL)
		evbuffer_free(r->hbuf);
	free(r->hctype);
	if (r->gone)
		evhttp_request_free(r->ev);
	free(r);
}

/*
 * Has the client of a deferred request closed its connection?  evhttp
 * notices only when the answer is written; a look at the socket tells now
 * (end of file: left; data or nothing yet: still there).
 */
int
req_client_left(struct req *r)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	evutil_socket_t			 fd;
	char				 c;

	if ((evcon = evhttp_request_get_connection(r->ev)) == NULL)
		return (1);
	if ((bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (fd = bufferevent_getfd(bev)) == -1)
		return (0);
	return (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0);
}

/* Free a deferred request once it has been answered. */
void
req_finish(struct req *r)
{
	if (!r->replied) {
		log_warnx("%s: deferred request %s finished with no reply",
		    __func__, r->path);
		api_error(r, 500, "internal", "internal error");
	}
	if (!r->held)
		req_free(r);	/* else http_group_done() frees it */
}

/*
 * A reply being written: counted in ctx->sending from evhttp_send_reply()
 * until evhttp says it is all written, or its connection closes first
 * (then evhttp does not call the completion callback), so that a SIGTERM
 * lets it finish (http_draining()).  One of the two callbacks frees it;
 * the completion removes the close callback.
 */
struct sending {
	struct yiqid		*ctx;
	struct evhttp_connection *evcon;
};

static void
sending_done(struct evhttp_request *req, void *arg)
{
	struct sending	*s = arg;

	evhttp_connection_set_closecb(s->evcon, NULL, NULL);
	s->ctx->sending--;
	free(s);
}

static void
sending_closed(struct evhttp_connection *evcon, void *arg)
{
	struct sending	*s = arg;

	s->ctx->sending--;
	free(s);
}

/* Send a reply now; ctype NULL means no body at all. */
static void
reply_send(struct req *r, int status, const char *ctype, struct evbuffer *buf)
{
	struct evhttp_connection	*evcon;
	struct sending			*s;

	if ((evcon = evhttp_request_get_connection(r->ev)) == NULL) {
		/* evhttp let go of it when the client left; we free it. */
		r->gone = 1;
		return;
	}
	if (ctype != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(r->ev),
		    "Content-Type", ctype);
	s = xmalloc(sizeof *s);
	s->ctx = r->ctx;
	s->evcon = evcon;
	r->ctx->sending++;
	evhttp_request_set_on_complete_cb(r->ev, sending_done, s);
	evhttp_connection_set_closecb(evcon, sending_closed, s);
	evhttp_send_reply(r->ev, status, NULL, ctype != NULL ? buf : NULL);
}

/*
 * Is anything still to be answered or being written?  At SIGTERM the
 * loop runs on (new requests are answered 503) until this says no.
 */
int
http_draining(struct yiqid *ctx)
{
	return (ctx->sending > 0 || !TAILQ_EMPTY(&ctx->held) ||
	    ctx->group_open || feedjobs_busy(ctx) || reports_busy(ctx) ||
	    slices_busy(ctx));
}

/*
 * Reply with data: copied, or with cleanup set, sent by reference (data
 * must live until cleanup(data, len, arg) is called, which may be at
 * once).
 */
static void
reply_buffer_ref(struct req *r, int status, const char *ctype,
    const char *data, size_t len, void (*cleanup)(const void *, size_t,
    void *), void *arg)
{
	struct evbuffer	*buf;

	if (r->replied) {
		log_warnx("%s: second reply to %s suppressed", __func__, r->path);
		if (cleanup != NULL)
			cleanup(data, len, arg);
		return;
	}
	r->replied = 1;
	r->status = status;
	if ((buf = evbuffer_new()) == NULL)
		fatalx("evbuffer_new");
	if (cleanup != NULL) {
		if (len == 0 || evbuffer_add_reference(buf, data, len, cleanup,
		    arg) == -1) {
			if (len > 0)
				evbuffer_add(buf, data, len);
			cleanup(data, len, arg);
		}
	} else if (len > 0)
		evbuffer_add(buf, data, len);
	if (r->ctx->group_open) {
		/* Held until the group's COMMIT: see http_group_done(). */
		r->held = 1;
		r->hbuf = buf;
		r->hctype = ctype != NULL ? xstrdup(ctype) : NULL;
		TAILQ_INSERT_TAIL(&r->ctx->held, r, hentry);
		return;
	}
	reply_send(r, status, ctype, buf);
	evbuffer_free(buf);
}

static void
reply_buffer(struct req *r, int status, const char *ctype, const char *data,
    size_t len)
{
	reply_buffer_ref(r, status, ctype, data, len, NULL, NULL);
}

/*
 * Reply with data of content type ctype, sent by reference: cleanup(data,
 * len, arg) is called once it is written (or not needed).
 */
void
api_reply_shared(struct req *r, int status, const char *ctype,
    const char *data, size_t len, void (*cleanup)(const void *, size_t,
    void *), void *arg)
{
	reply_buffer_ref(r, status, ctype, data, len, cleanup, arg);
}

/*
 * The group transaction ended with rc: send every held reply (or, if the
 * COMMIT failed, a 503 in its place: nothing was acknowledged) and free
 * the requests.
 */
void
http_group_done(struct yiqid *ctx, int rc)
{
	static const char	 fail[] = "{\"error\":{\"code\":\"unavailable\","
	    "\"message\":\"the database cannot be written; try again later\"}}";
	struct req		*r;

	while ((r = TAILQ_FIRST(&ctx->held)) != NULL) {
		TAILQ_REMOVE(&ctx->held, r, hentry);
		r->held = 0;
		if (rc != SQLITE_OK) {
			evhttp_clear_headers(
			    evhttp_request_get_output_headers(r->ev));
			evbuffer_drain(r->hbuf, evbuffer_get_length(r->hbuf));
			evbuffer_add(r->hbuf, fail, sizeof fail - 1);
			free(r->hctype);
			r->hctype = xstrdup("application/json; charset=utf-8");
			r->status = 503;
		}
		reply_send(r, r->status, r->hctype, r->hbuf);
		req_free(r);	/* dispatch and req_finish() left it to us */
	}
}

/* Reply with data of content type ctype (the data stays the caller's). */
void
api_reply_data(struct req *r, int status, const char *ctype,
    const char *data, size_t len)
{
	reply_buffer(r, status, ctype, data, len);
}

/* Reply with a JSON value (stolen). */
void
api_reply(struct req *r, int status, json_t *j)
{
	char	*text;

	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL) {
		log_warnx("%s: cannot encode JSON for %s", __func__, r->path);
		reply_buffer(r, 500, "application/json; charset=utf-8",
		    "{\"error\":{\"code\":\"internal\",\"message\":\"internal "
		    "error\"}}", 57);
		return;
	}
	reply_buffer(r, status, "application/json; charset=utf-8", text,
	    strlen(text));
	free(text);
}

/* Reply with no body (204). */
void
api_reply_empty(struct req *r, int status)
{
	if (r->replied)
		return;
	reply_buffer(r, status, NULL, NULL, 0);
}

/*
 * Reply with an error: {"error":{"code","message", ...extra}}.  extra (a
 * JSON object or NULL) is stolen and merged into the error object.
 */
void
api_error_json(struct req *r, int status, const char *code, json_t *extra,
    const char *fmt, ...)
{
	json_t	*err;
	char	*msg;
	va_list	 ap;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	err = json_pack("{s:s,s:s}", "code", code, "message", msg);
	if (err == NULL)	/* message not UTF-8: should not happen */
		err = json_pack("{s:s,s:s}", "code", code, "message", "error");
	if (extra != NULL) {
		json_object_update(err, extra);
		json_decref(extra);
	}
	free(msg);
	api_reply(r, status, json_pack("{s:o}", "error", err));
}

/* Reply with an error: {"error":{"code","message"}}. */
void
api_error(struct req *r, int status, const char *code, const char *fmt, ...)
{
	json_t	*err;
	char	*msg;
	va_list	 ap;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	err = json_pack("{s:s,s:s}", "code", code, "message", msg);
	if (err == NULL)
		err = json_pack("{s:s,s:s}", "code", code, "message", "error");
	free(msg);
	api_reply(r, status, json_pack("{s:o}", "error", err));
}

/*
 * Reply to a failed SQLite call: busy and I/O are 503, constraints 409.
 * Decided by the result code alone: by now a rollback may have replaced
 * the connection's error message.
 */
void
api_db_error(struct req *r, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		api_error(r, 503, "unavailable",
		    "the database is busy; try again");
		break;
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
		log_warnx("%s %s: database: %s", method_name(r->method), r->path,
		    sqlite3_errstr(rc));
		api_error(r, 503, "unavailable",
		    "the database cannot be written (%s); try again later",
		    sqlite3_errstr(rc));
		break;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			api_error(r, 409, "exists", "that already exists");
		else if (rc == SQLITE_CONSTRAINT_TRIGGER)	/* overlap */
			api_error(r, 409, "conflict",
			    "the slot clashes with another booking");
		else
			api_error(r, 400, "bad_request",
			    "refused by the database: %s", sqlite3_errstr(rc));
		break;
	default:
		log_warnx("%s %s: database error %d: %s", method_name(r->method),
		    r->path, rc, sqlite3_errstr(rc));
		api_error(r, 500, "internal", "internal error");
		break;
	}
}
