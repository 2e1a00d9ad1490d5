/*
 * naive.c: the naive booking server of issue 6, as the benchmark's
 * baseline.  evhttp + jansson + SQLite in WAL mode with
 * synchronous = FULL, and for every POST /api/v1/reservations one
 * transaction of its own: BEGIN IMMEDIATE, the overlap SELECT, the INSERT,
 * COMMIT (one fsync per booking).  No authentication, rules or audit log,
 * so it does less per booking than yiqid: the ratio bench/run.sh prints
 * against it is, if anything, in the naive design's favour.
 *
 *	naive -d DB -l 127.0.0.1:PORT
 *
 * The database holds one table (created when missing):
 *	bookings(id, instrument, start, "end", purpose)
 * with the overlap index on (instrument, "end", start).  The request body
 * is {"instrument","start","duration","purpose"} as yiqi's (start in
 * RFC 3339 UTC, duration PTnM); the answer is 201 {"id"}, 409 on overlap,
 * 400 on a bad body.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>

#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <sqlite3.h>

#define BODY_MAX	4096

struct naive {
	sqlite3		*db;
	sqlite3_stmt	*begin, *overlap, *insert, *commit, *rollback;
};

static const char schema[] =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
    "CREATE TABLE IF NOT EXISTS bookings (id INTEGER PRIMARY KEY, "
    "instrument TEXT NOT NULL, start INTEGER NOT NULL, \"end\" INTEGER "
    "NOT NULL, purpose TEXT NOT NULL); "
    "CREATE INDEX IF NOT EXISTS bookings_overlap ON "
    "bookings(instrument, \"end\", start);";

static void
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
		errx(1, "%s: %s", sql, sqlite3_errmsg(db));
}

/* Parse "YYYY-MM-DDTHH:MM:SSZ" and "PTnM" into [start, end). */
static int
interval(json_t *body, time_t *start, time_t *end)
{
	const char	*s, *d;
	struct tm	 tm;
	char		*p;
	long		 min;

	if ((s = json_string_value(json_object_get(body, "start"))) == NULL ||
	    (d = json_string_value(json_object_get(body, "duration"))) == NULL)
		return (-1);
	memset(&tm, 0, sizeof tm);
	p = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (p == NULL || *p != '\0' || strncmp(d, "PT", 2) != 0)
		return (-1);
	min = strtol(d + 2, &p, 10);
	if (min <= 0 || min > 1440 || strcmp(p, "M") != 0)
		return (-1);
	*start = timegm(&tm);
	*end = *start + min * 60;
	return (0);
}

static void
reply(struct evhttp_request *req, int code, const char *text)
{
	struct evbuffer	*b = evbuffer_new();

	evbuffer_add(b, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, code, code == 201 ? "Created" : "Error", b);
	evbuffer_free(b);
}

/* One booking, one transaction. */
static int
book(struct naive *n, const char *instrument, time_t start, time_t end,
    const char *purpose, long long *id)
{
	int	 rc, busy;

	if (sqlite3_step(n->begin) != SQLITE_DONE) {
		sqlite3_reset(n->begin);
		return (-1);
	}
	sqlite3_reset(n->begin);
	sqlite3_bind_text(n->overlap, 1, instrument, -1, SQLITE_STATIC);
	sqlite3_bind_int64(n->overlap, 2, start);
	sqlite3_bind_int64(n->overlap, 3, end);
	busy = sqlite3_step(n->overlap) == SQLITE_ROW;
	sqlite3_reset(n->overlap);
	if (busy) {
		sqlite3_step(n->rollback);
		sqlite3_reset(n->rollback);
		return (1);
	}
	sqlite3_bind_text(n->insert, 1, instrument, -1, SQLITE_STATIC);
	sqlite3_bind_int64(n->insert, 2, start);
	sqlite3_bind_int64(n->insert, 3, end);
	sqlite3_bind_text(n->insert, 4, purpose, -1, SQLITE_STATIC);
	rc = sqlite3_step(n->insert);
	sqlite3_reset(n->insert);
	if (rc != SQLITE_DONE || sqlite3_step(n->commit) != SQLITE_DONE) {
		sqlite3_reset(n->commit);
		sqlite3_step(n->rollback);
		sqlite3_reset(n->rollback);
		return (-1);
	}
	sqlite3_reset(n->commit);
	*id = sqlite3_last_insert_rowid(n->db);
	return (0);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct naive	*n = arg;
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	const char	*instrument, *purpose;
	json_error_t	 e;
	json_t		*body;
	time_t		 start, end;
	long long	 id = 0;
	char		 text[64];
	size_t		 len = evbuffer_get_length(in);
	int		 rc;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST ||
	    strcmp(evhttp_request_get_uri(req), "/api/v1/reservations") != 0) {
		reply(req, 404, "{\"error\":\"not_found\"}");
		return;
	}
	body = json_loadb((const char *)evbuffer_pullup(in, len), len, 0, &e);
	instrument = json_string_value(json_object_get(body, "instrument"));
	purpose = json_string_value(json_object_get(body, "purpose"));
	if (body == NULL || instrument == NULL ||
	    interval(body, &start, &end) == -1) {
		json_decref(body);
		reply(req, 400, "{\"error\":\"bad_request\"}");
		return;
	}
	rc = book(n, instrument, start, end, purpose != NULL ? purpose : "",
	    &id);
	json_decref(body);
	if (rc == 0) {
		snprintf(text, sizeof text, "{\"id\":%lld}", id);
		reply(req, 201, text);
	} else
		reply(req, rc == 1 ? 409 : 500, rc == 1 ?
		    "{\"error\":\"conflict\"}" : "{\"error\":\"database\"}");
}

/* SIGTERM: leave the loop, so that the benchmark sees a clean exit. */
static void
on_term(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	event_base_loopbreak(arg);
}

/* Say where we listen (the port may have been 0), as yiqid does. */
static void
announce(struct evhttp_bound_socket *sock, const char *host)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = sizeof ss;
	char			p[16];

	if (getsockname(evhttp_bound_socket_get_fd(sock),
	    (struct sockaddr *)&ss, &sl) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, p, sizeof p,
	    NI_NUMERICSERV) != 0)
		err(1, "getsockname");
	fprintf(stderr, "naive: listening on %s:%s\nnaive: serving\n", host, p);
}

int
main(int argc, char **argv)
{
	struct naive			 n;
	struct event_base		*base;
	struct evhttp			*http;
	struct evhttp_bound_socket	*sock;
	struct event			*term;
	const char			*path = NULL, *listen = NULL;
	char				*port, host[64];
	int				 ch;

	while ((ch = getopt(argc, argv, "d:l:")) != -1) {
		if (ch == 'd')
			path = optarg;
		else if (ch == 'l')
			listen = optarg;
		else
			return (1);
	}
	if (path == NULL || listen == NULL ||
	    (port = strrchr(listen, ':')) == NULL ||
	    (size_t)(port - listen) >= sizeof host)
		errx(1, "usage: naive -d DB -l HOST:PORT");
	memcpy(host, listen, port - listen);
	host[port - listen] = '\0';
	if (sqlite3_open(path, &n.db) != SQLITE_OK ||
	    sqlite3_exec(n.db, schema, NULL, NULL, NULL) != SQLITE_OK)
		errx(1, "%s: %s", path, sqlite3_errmsg(n.db));
	prepare(n.db, "BEGIN IMMEDIATE", &n.begin);
	prepare(n.db, "SELECT 1 FROM bookings WHERE instrument = ?1 AND "
	    "\"end\" > ?2 AND start < ?3 LIMIT 1", &n.overlap);
	prepare(n.db, "INSERT INTO bookings (instrument, start, \"end\", "
	    "purpose) VALUES (?1, ?2, ?3, ?4)", &n.insert);
	prepare(n.db, "COMMIT", &n.commit);
	prepare(n.db, "ROLLBACK", &n.rollback);

	if ((base = event_base_new()) == NULL ||
	    (http = evhttp_new(base)) == NULL)
		errx(1, "libevent");
	evhttp_set_max_body_size(http, BODY_MAX);
	evhttp_set_gencb(http, handle, &n);
	if ((sock = evhttp_bind_socket_with_handle(http, host,
	    atoi(port + 1))) == NULL)
		errx(1, "cannot listen on %s", listen);
	announce(sock, host);
	if ((term = evsignal_new(base, SIGTERM, on_term, base)) == NULL ||
	    evsignal_add(term, NULL) == -1)
		errx(1, "libevent");
	event_base_dispatch(base);
	event_free(term);
	evhttp_free(http);
	event_base_free(base);
	sqlite3_finalize(n.begin);
	sqlite3_finalize(n.overlap);
	sqlite3_finalize(n.insert);
	sqlite3_finalize(n.commit);
	sqlite3_finalize(n.rollback);
	sqlite3_close(n.db);
	return (0);
}
