/*
 * log.c: the daemon's log.  Lines go to stderr in the foreground (-f) and
 * to syslog otherwise; log_warn appends the errno text, fatal and fatalx
 * end the process and are kept for start-up and impossible states.
 * The log target and level are process-wide, as syslog itself is.
 */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "yiqid.h"

static int	log_to_syslog;
static int	log_level = LOG_INFO;

static void	log_vwrite(int, const char *, va_list);
static void	log_event_cb(int, const char *);

/* Start logging: to syslog if to_syslog, else stderr; at most level. */
void
log_init(int to_syslog, int level)
{
	log_to_syslog = to_syslog;
	log_level = level;
	if (to_syslog)
		openlog("yiqid", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	event_set_log_callback(log_event_cb);
}

/* Change the level (after SIGHUP). */
void
log_setlevel(int level)
{
	log_level = level;
}

/* Are debug lines written? */
int
log_debugging(void)
{
	return (log_level >= LOG_DEBUG);
}

/* Write all of p to standard error (a line: one write, never interleaved). */
static void
log_out(const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(STDERR_FILENO, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* nowhere left to say so */
		p += n;
		len -= (size_t)n;
	}
}

/*
 * To standard error, each line is formatted whole and written with one
 * write(2): one system call per request's log line instead of three, and
 * lines of the worker threads never interleave with the loop's.  The time
 * stamp is remade only when the second changes (per thread).
 */
static void
log_vwrite(int pri, const char *fmt, va_list ap)
{
	static __thread char	 ts[32];
	static __thread time_t	 ts_at = -1;
	char			 line[1024], *big;
	struct tm		 tm;
	time_t			 now;
	va_list			 ap2;
	int			 n, m;

	if (pri > log_level)
		return;
	if (log_to_syslog) {
		vsyslog(pri, fmt, ap);
		return;
	}
	if ((now = time(NULL)) != ts_at) {
		gmtime_r(&now, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		ts_at = now;
	}
	n = snprintf(line, sizeof line, "%s yiqid: ", ts);
	va_copy(ap2, ap);
	m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap2);
	va_end(ap2);
	if (m < 0)
		return;
	if ((size_t)m < sizeof line - (size_t)n - 1) {
		line[n + m] = '\n';
		log_out(line, (size_t)(n + m + 1));
		return;
	}
	if ((big = malloc((size_t)n + (size_t)m + 2)) == NULL)
		return;
	memcpy(big, line, (size_t)n);
	vsnprintf(big + n, (size_t)m + 1, fmt, ap);
	big[n + m] = '\n';
	log_out(big, (size_t)(n + m + 1));
	free(big);
}

/* Log a warning with the text of errno. */
void
log_warn(const char *fmt, ...)
{
	char	*nfmt;
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	if (asprintf(&nfmt, "%s: %s", fmt, strerror(saved)) == -1)
		log_vwrite(LOG_WARNING, fmt, ap);
	else {
		log_vwrite(LOG_WARNING, nfmt, ap);
		free(nfmt);
	}
	va_end(ap);
	errno = saved;
}

/* Log a warning. */
void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap);
	va_end(ap);
}

/* Log an event of note (one request, a start, a stop). */
void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* Log detail for debugging. */
void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* Log with the errno text and exit. */
void
fatal(const char *fmt, ...)
{
	char	*nfmt;
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	if (asprintf(&nfmt, "fatal: %s: %s", fmt, strerror(saved)) == -1)
		log_vwrite(LOG_CRIT, fmt, ap);
	else
		log_vwrite(LOG_CRIT, nfmt, ap);
	va_end(ap);
	exit(1);
}

/* Log and exit. */
void
fatalx(const char *fmt, ...)
{
	char	*nfmt;
	va_list	 ap;

	va_start(ap, fmt);
	if (asprintf(&nfmt, "fatal: %s", fmt) == -1)
		log_vwrite(LOG_CRIT, fmt, ap);
	else
		log_vwrite(LOG_CRIT, nfmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * Escape a client-supplied string for a log line: control characters,
 * quotes and backslashes become \xNN.  The caller frees the result.
 */
char *
log_escape(const char *s)
{
	char		*out, *p;
	size_t		 n;

	n = strlen(s);
	if (n > 512)
		n = 512;
	out = p = xmalloc(n * 4 + 1);
	for (; n > 0; n--, s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
			snprintf(p, 5, "\\x%02x", c);
			p += 4;
		} else
			*p++ = c;
	}
	*p = '\0';
	return (out);
}

static void
log_event_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	default:
		log_warnx("libevent: %s", msg);
		break;
	}
}
