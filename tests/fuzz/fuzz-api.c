/*
 * fuzz-api.c: libFuzzer target for everything a request brings to yiqid.
 *
 * The whole daemon runs in-process (its HTTP server on 127.0.0.1, an
 * in-memory database seeded with a site, institutes, an instrument and
 * users with known tokens).  The first input byte picks what to fuzz: the
 * raw request (request line, headers, query string), or the body of one
 * of the routes that decode JSON or CSV, sent as the admin or a member.
 * Each request is written to a real socket and the event loop is pumped
 * until the daemon answers and closes; ASan/UBSan and the daemon's own
 * checks (a handler must reply exactly once, no transaction left open)
 * catch what goes wrong.  Build and run with tests/fuzz/run.sh.
 */

#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "yiqid.h"

#define ADMIN	"yq_fuzz-admin-token-000000000000000"
#define MEMBER	"yq_fuzz-member-token-00000000000000"

static struct yiqid	 ctx;		/* the daemon under test */
static int		 port;

/* What the first byte selects: method, path, content type. */
static const struct target {
	const char	*method;
	const char	*path;
	const char	*ctype;
} targets[] = {
	{ "POST", "/api/v1/reservations", "application/json" },
	{ "PATCH", "/api/v1/reservations/1", "application/json" },
	{ "DELETE", "/api/v1/reservations/1", "application/json" },
	{ "POST", "/api/v1/instruments", "application/json" },
	{ "PATCH", "/api/v1/instruments/FZ-1", "application/json" },
	{ "POST", "/api/v1/import/instruments", "text/csv" },
	{ "POST", "/api/v1/blackouts", "application/json" },
	{ "POST", "/api/v1/users", "application/json" },
	{ "PATCH", "/api/v1/users/member", "application/json" },
	{ "POST", "/api/v1/sites", "application/json" },
	{ "POST", "/api/v1/institutes", "application/json" },
	{ "GET", "/api/v1/reservations?", NULL },	/* body is the query */
	{ "GET", "/api/v1/instruments/FZ-1/availability?", NULL },
	{ "GET", "/api/v1/availability?", NULL },
	{ "GET", "/api/v1/instruments?", NULL },
	{ "POST", "/api/v1/blackouts/import?instrument=FZ-1", "text/calendar" },
	{ "POST", "/api/v1/qualifications", "application/json" },
	{ "GET", "/api/v1/reports/utilisation?", NULL },
	{ "GET", "/feeds/instruments/FZ-1.ics?", NULL },
};
#define NTARGETS	(sizeof targets / sizeof targets[0])

static void
seed(void)
{
	static const char *const sql =
	    "INSERT INTO sites (code, name, district_id) VALUES "
	    "('FZ', 'Fuzz park', 1);"
	    "INSERT INTO institutes (code, name, district_id) VALUES "
	    "('FI', 'Fuzz institute', 1), ('FJ', 'Other', 2);"
	    "INSERT INTO users (login, name, institute_id, role, created) VALUES "
	    "('admin', 'Admin', 1, 'admin', 0), ('member', 'M', 2, 'member', 0);"
	    "INSERT INTO instruments (code, name, site_id, owner_id, created, "
	    "updated, opening_hours, buffer_min) VALUES ('FZ-1', 'I', 1, 1, 0, "
	    "0, 'Mon-Sun 06:00-22:00', 15);";
	sqlite3_stmt	*st;
	unsigned char	 h[32];
	const char	*toks[2] = { ADMIN, MEMBER };
	int		 i;

	if (db_exec(&ctx, sql) != SQLITE_OK)
		fatalx("seeding: %s", sqlite3_errmsg(ctx.db));
	for (i = 0; i < 2; i++) {
		token_hash(toks[i], h);
		if (sqlite3_prepare_v2(ctx.db, "INSERT INTO tokens (user_id, hash, "
		    "created) VALUES (?, ?, 0)", -1, &st, NULL) != SQLITE_OK)
			fatalx("seeding tokens");
		sqlite3_bind_int(st, 1, i + 1);
		sqlite3_bind_blob(st, 2, h, sizeof h, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
}

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	char			*cause = NULL;

	log_init(0, LOG_CRIT);
	if (sodium_init() == -1)
		fatalx("sodium_init");
	config_defaults(&ctx.cfg);
	free(ctx.cfg.listen);
	ctx.cfg.listen = xstrdup("127.0.0.1:0");
	ctx.cfg.rate_limit = 0;
	ctx.cfg.synchronous = 1;
	if ((ctx.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if (http_start(&ctx, &cause) == -1 || db_open(&ctx, ":memory:",
	    &cause) == -1)
		fatalx("%s", cause);
	if (getsockname(evhttp_bound_socket_get_fd(ctx.sock),
	    (struct sockaddr *)&sin, &len) == -1)
		fatal("getsockname");
	port = ntohs(sin.sin_port);
	seed();
	return (0);
}

/*
 * Connect to the daemon without blocking: the loop is pumped while the
 * connection is made, so a full accept queue cannot leave connect()
 * waiting (and a timer signal then interrupting it, EINTR).
 */
static int
connect_daemon(void)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd;
	socklen_t		elen = sizeof (int);
	int			fd, i, err = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		fatal("socket");
	fcntl(fd, F_SETFL, O_NONBLOCK);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1 &&
	    errno != EINPROGRESS && errno != EINTR)
		fatal("connect");
	pfd.fd = fd;
	pfd.events = POLLOUT;
	for (i = 0; i < 5000; i++) {
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, i < 50 ? 0 : 1) == 1)
			break;
	}
	if (i == 5000)
		fatalx("connect: not connected after 5000 turns of the loop");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		fatal("getsockopt");
	if (err != 0) {
		errno = err;
		fatal("connect");
	}
	return (fd);
}

/* Send one request and pump the loop until the daemon closes it. */
static void
exchange(const char *req, size_t len)
{
	char			buf[65536];
	ssize_t			n;
	size_t			off = 0;
	int			fd, i;

	fd = connect_daemon();
	for (i = 0; i < 2000; i++) {
		if (off < len) {
			n = send(fd, req + off, len - off, MSG_NOSIGNAL);
			if (n > 0)
				off += n;
		}
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
		n = recv(fd, buf, sizeof buf, 0);
		if (n == 0 || (n == -1 && errno != EAGAIN))
			break;
		if (n == -1)
			usleep(i < 50 ? 0 : 100);
	}
	close(fd);
	for (i = 0; i < 5; i++)
		event_base_loop(ctx.base, EVLOOP_NONBLOCK);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct target	*t;
	char			*req;
	int			 len;

	if (size < 1 || size > 200000)
		return (0);
	if (data[0] == 0xff) {		/* the raw request */
		exchange((const char *)data + 1, size - 1);
		return (0);
	}
	t = &targets[(data[0] & 0x7f) % NTARGETS];
	data++;
	size--;
	if (t->ctype == NULL) {		/* the query string */
		char	*q = xstrndup((const char *)data, size);

		q[strcspn(q, " \r\n")] = '\0';
		len = asprintf(&req, "%s %s%s HTTP/1.1\r\nHost: f\r\n"
		    "Authorization: Bearer %s\r\nConnection: close\r\n\r\n",
		    t->method, t->path, q, data[-1] & 0x80 ? MEMBER : ADMIN);
		free(q);
		if (len > 0) {
			exchange(req, len);
			free(req);
		}
		return (0);
	}
	len = asprintf(&req, "%s %s HTTP/1.1\r\nHost: f\r\nAuthorization: Bearer "
	    "%s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: "
	    "close\r\n\r\n", t->method, t->path, data[-1] & 0x80 ? MEMBER :
	    ADMIN, t->ctype, size);
	if (len < 0)
		return (0);
	req = xreallocarray(req, len + size + 1, 1);
	memcpy(req + len, data, size);
	exchange(req, len + size);
	free(req);
	return (0);
}
