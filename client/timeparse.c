/*
 * timeparse.c: friendly times and durations, as SPEC §7 lets people write
 * them, turned into instants and seconds; and instants back into RFC 3339.
 *
 * Everything here is a pure function of its arguments: the current time and
 * the time zone are passed in, so tests can pin them.  A time without an
 * offset is read in the given zone by setting TZ, calling tzset() and
 * mktime() with tm_isdst = -1, and restoring TZ afterwards; a time with an
 * offset is computed from the calendar alone.  Nothing here allocates except
 * the error messages returned through cause, which the caller frees.
 */

#include "yiqi.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* How a time was written. */
enum tp_kind {
	TP_NOW,		/* "now" */
	TP_OFFSET,	/* a date and time with an explicit offset */
	TP_LOCAL,	/* a date (and time) in the zone */
	TP_RELDAY,	/* today, tomorrow, yesterday + time */
	TP_WEEKDAY	/* mon ... sun + time */
};

/* The pieces of a parsed time. */
struct tp_fields {
	enum tp_kind	kind;
	int		year, month, day;
	int		hour, min, sec;
	long		offset;		/* seconds east of UTC, TP_OFFSET */
	int		reldays;	/* TP_RELDAY */
	int		wday;		/* TP_WEEKDAY, 0 = Sunday */
};

/* Day words, sorted by how they are looked up (the table is scanned). */
static const struct {
	const char	*name;
	int		 wday;		/* -1 for a relative day */
	int		 reldays;
} tp_days[] = {
	{ "fri", 5, 0 },
	{ "friday", 5, 0 },
	{ "mon", 1, 0 },
	{ "monday", 1, 0 },
	{ "sat", 6, 0 },
	{ "saturday", 6, 0 },
	{ "sun", 0, 0 },
	{ "sunday", 0, 0 },
	{ "thu", 4, 0 },
	{ "thursday", 4, 0 },
	{ "today", -1, 0 },
	{ "tomorrow", -1, 1 },
	{ "tue", 2, 0 },
	{ "tuesday", 2, 0 },
	{ "wed", 3, 0 },
	{ "wednesday", 3, 0 },
	{ "yesterday", -1, -1 }
};

static const char *tp_months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"
};

#define TP_HINT "write it like 2026-12-01 09:00, 2026-12-01T09:00+08:00, " \
	"today 14:00, tomorrow 9:00, mon 9:00 or now"
#define DUR_HINT "write it like 90m, 2h, 1h30m or PT2H"

static void
tp_error(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

static int
tp_leap(long y)
{
	return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
}

static int
tp_mdays(long y, int m)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && tp_leap(y))
		return (29);
	return (days[m - 1]);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long
tp_days_from_civil(long y, int m, int d)
{
	long		era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* The date of a day number, the inverse of tp_days_from_civil. */
static void
tp_civil_from_days(long z, int *y, int *m, int *d)
{
	long		era, doe, yoe, doy, mp, yy;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

/* Read exactly n digits. */
static int
tp_digits(const char **sp, int n, int *out)
{
	const char	*s = *sp;
	int		 v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	*sp = s + n;
	*out = v;
	return (0);
}

/* Read H:MM or HH:MM, optionally :SS. */
static int
tp_clock(const char **sp, struct tp_fields *f)
{
	const char	*s = *sp;

	if (!isdigit((unsigned char)s[0]))
		return (-1);
	if (isdigit((unsigned char)s[1])) {
		if (tp_digits(&s, 2, &f->hour) != 0)
			return (-1);
	} else {
		f->hour = s[0] - '0';
		s++;
	}
	if (*s++ != ':' || tp_digits(&s, 2, &f->min) != 0)
		return (-1);
	f->sec = 0;
	if (s[0] == ':' && isdigit((unsigned char)s[1])) {
		s++;
		if (tp_digits(&s, 2, &f->sec) != 0)
			return (-1);
		if (*s == '.') {	/* fractions of a second are dropped */
			s++;
			if (!isdigit((unsigned char)*s))
				return (-1);
			while (isdigit((unsigned char)*s))
				s++;
		}
	}
	*sp = s;
	return (0);
}

/* Read Z, +HH, +HHMM or +HH:MM. */
static int
tp_offset(const char **sp, long *offset)
{
	const char	*s = *sp;
	int		 sign, h, m = 0;

	if (*s == 'Z' || *s == 'z') {
		*offset = 0;
		*sp = s + 1;
		return (0);
	}
	if (*s != '+' && *s != '-')
		return (-1);
	sign = *s++ == '-' ? -1 : 1;
	if (tp_digits(&s, 2, &h) != 0)
		return (-1);
	if (*s == ':') {
		s++;
		if (tp_digits(&s, 2, &m) != 0)
			return (-1);
	} else if (isdigit((unsigned char)*s)) {
		if (tp_digits(&s, 2, &m) != 0)
			return (-1);
	}
	if (h > 23 || m > 59)
		return (-1);
	*offset = sign * (h * 3600L + m * 60L);
	*sp = s;
	return (0);
}

/* Check the date and the clock of parsed fields. */
static int
tp_check(const char *text, const struct tp_fields *f, int dated, char **cause)
{
	if (dated) {
		if (f->year < 1970) {
			tp_error(cause, "'%s' is too long ago: yiqi takes dates "
			    "from 1970 on", text);
			return (-1);
		}
		if (f->month < 1 || f->month > 12) {
			tp_error(cause, "'%s' is not a date: months run from "
			    "01 to 12", text);
			return (-1);
		}
		if (f->day < 1 || f->day > tp_mdays(f->year, f->month)) {
			tp_error(cause, "'%s' is not a date: %s %d has %d "
			    "days", text, tp_months[f->month - 1], f->year,
			    tp_mdays(f->year, f->month));
			return (-1);
		}
	}
	if (f->hour > 23) {
		tp_error(cause, "'%s' is not a time of day: hours run from "
		    "00 to 23 (write 24:00 as 00:00 of the next day)", text);
		return (-1);
	}
	if (f->min > 59 || f->sec > 59) {
		tp_error(cause, "'%s' is not a time of day: minutes and "
		    "seconds run from 00 to 59", text);
		return (-1);
	}
	return (0);
}

/* Split text into fields, checking that every part is possible. */
static int
tp_parse(const char *text, struct tp_fields *f, char **cause)
{
	const char	*s = text;
	char		 word[16];
	size_t		 n, i;

	memset(f, 0, sizeof *f);
	while (isspace((unsigned char)*s))
		s++;

	if (isdigit((unsigned char)s[0])) {
		if (tp_digits(&s, 4, &f->year) != 0 || *s++ != '-' ||
		    tp_digits(&s, 2, &f->month) != 0 || *s++ != '-' ||
		    tp_digits(&s, 2, &f->day) != 0)
			goto bad;
		f->kind = TP_LOCAL;
		if (*s == 'T' || *s == 't' || *s == ' ') {
			while (*s == ' ')
				s++;
			if (*s == 'T' || *s == 't')
				s++;
			if (tp_clock(&s, f) != 0)
				goto bad;
			if (*s != '\0' && *s != ' ') {
				if (tp_offset(&s, &f->offset) != 0)
					goto bad;
				f->kind = TP_OFFSET;
			}
		}
		while (isspace((unsigned char)*s))
			s++;
		if (*s != '\0')
			goto bad;
		return (tp_check(text, f, 1, cause));
	}

	for (n = 0; isalpha((unsigned char)s[n]); n++) {
		if (n == sizeof word - 1)
			goto bad;
		word[n] = tolower((unsigned char)s[n]);
	}
	word[n] = '\0';
	if (n == 0)
		goto bad;
	s += n;
	if (strcmp(word, "now") == 0) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s != '\0')
			goto bad;
		f->kind = TP_NOW;
		return (0);
	}
	for (i = 0; i < sizeof tp_days / sizeof tp_days[0]; i++) {
		if (strcmp(word, tp_days[i].name) == 0)
			break;
	}
	if (i == sizeof tp_days / sizeof tp_days[0])
		goto bad;
	if (tp_days[i].wday == -1) {
		f->kind = TP_RELDAY;
		f->reldays = tp_days[i].reldays;
	} else {
		f->kind = TP_WEEKDAY;
		f->wday = tp_days[i].wday;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '\0' && tp_clock(&s, f) != 0)
		goto bad;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		goto bad;
	return (tp_check(text, f, 0, cause));

bad:
	tp_error(cause, "cannot read '%s' as a time; " TP_HINT, text);
	return (-1);
}

/* Set TZ to zone, returning the old value (to pass to tp_tz_pop). */
static char *
tp_tz_push(const char *zone)
{
	const char	*old;
	char		*saved = NULL;

	if ((old = getenv("TZ")) != NULL)
		saved = strdup(old);
	setenv("TZ", zone, 1);
	tzset();
	return (saved);
}

/* Put TZ back as tp_tz_push found it. */
static void
tp_tz_pop(char *saved)
{
	if (saved != NULL) {
		setenv("TZ", saved, 1);
		free(saved);
	} else
		unsetenv("TZ");
	tzset();
}

/*
 * Turn a local date and clock in the current TZ into an instant; fails for a
 * wall-clock time that a clock change skips.
 */
static int
tp_mktime(const char *text, const char *zone, const struct tp_fields *f,
    time_t *out, char **cause)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = f->year - 1900;
	tm.tm_mon = f->month - 1;
	tm.tm_mday = f->day;
	tm.tm_hour = f->hour;
	tm.tm_min = f->min;
	tm.tm_sec = f->sec;
	tm.tm_isdst = -1;
	errno = 0;
	*out = mktime(&tm);
	if (*out == (time_t)-1 && errno != 0) {
		tp_error(cause, "'%s' is out of range", text);
		return (-1);
	}
	if (tm.tm_year != f->year - 1900 || tm.tm_mon != f->month - 1 ||
	    tm.tm_mday != f->day || tm.tm_hour != f->hour ||
	    tm.tm_min != f->min) {
		tp_error(cause, "'%s' does not exist in %s (the clocks change "
		    "then); pick another time", text, zone);
		return (-1);
	}
	return (0);
}

/*
 * Check that zone names a time zone this machine knows; "UTC" always works,
 * other names must have a tzdata file.
 */
int
zone_check(const char *zone, char **cause)
{
	const char	*dir, *s;
	char		 path[1024];

	if (zone == NULL || *zone == '\0') {
		tp_error(cause, "the time zone is empty");
		return (-1);
	}
	if (strcmp(zone, "UTC") == 0 || strcmp(zone, "GMT") == 0)
		return (0);
	for (s = zone; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && strchr("/_+-", *s) == NULL)
			break;
	}
	if (*s != '\0' || *zone == '/' || strstr(zone, "..") != NULL)
		goto bad;
	if ((dir = getenv("TZDIR")) == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, zone) >=
	    sizeof path)
		goto bad;
	if (access(path, R_OK) == 0)
		return (0);
bad:
	tp_error(cause, "'%s' is not a time zone this machine knows; use an "
	    "IANA name such as Asia/Shanghai (is tzdata installed?)", zone);
	return (-1);
}

/*
 * Return 1 if text, once parsed, depends on a time zone (it has no offset
 * and is not "now"); 0 otherwise, also when it does not parse.
 */
int
timeparse_zoned(const char *text)
{
	struct tp_fields	f;

	if (tp_parse(text, &f, NULL) != 0)
		return (0);
	return (f.kind != TP_NOW && f.kind != TP_OFFSET);
}

/*
 * Parse a friendly time: relative words count from now, and a time without
 * an offset is read in zone.  On failure *cause gets a sentence to free.
 */
int
timeparse(const char *text, const char *zone, time_t now, time_t *out,
    char **cause)
{
	struct tp_fields	 f;
	struct tm		 tm;
	char			*saved;
	long			 days;
	int			 delta, y, m, d, rc = -1;

	if (cause != NULL)
		*cause = NULL;
	if (tp_parse(text, &f, cause) != 0)
		return (-1);
	switch (f.kind) {
	case TP_NOW:
		*out = now;
		return (0);
	case TP_OFFSET:
		days = tp_days_from_civil(f.year, f.month, f.day);
		*out = (time_t)days * 86400 + f.hour * 3600 + f.min * 60 +
		    f.sec - f.offset;
		return (0);
	default:
		break;
	}

	if (zone_check(zone, cause) != 0)
		return (-1);
	saved = tp_tz_push(zone);
	if (f.kind == TP_LOCAL) {
		rc = tp_mktime(text, zone, &f, out, cause);
		goto out;
	}

	if (localtime_r(&now, &tm) == NULL) {
		tp_error(cause, "the current time is out of range");
		goto out;
	}
	days = tp_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday);
	if (f.kind == TP_RELDAY)
		days += f.reldays;
	else {
		delta = (f.wday - tm.tm_wday + 7) % 7;
		days += delta;
	}
	tp_civil_from_days(days, &y, &m, &d);
	f.year = y;
	f.month = m;
	f.day = d;
	if (tp_mktime(text, zone, &f, out, cause) != 0)
		goto out;
	if (f.kind == TP_WEEKDAY && *out <= now) {
		tp_civil_from_days(days + 7, &y, &m, &d);
		f.year = y;
		f.month = m;
		f.day = d;
		if (tp_mktime(text, zone, &f, out, cause) != 0)
			goto out;
	}
	rc = 0;
out:
	tp_tz_pop(saved);
	return (rc);
}

/*
 * Write t as RFC 3339 with the offset zone has at that instant, such as
 * 2026-12-01T09:00:00+08:00, into buf.
 */
int
timefmt(time_t t, const char *zone, char *buf, size_t len, char **cause)
{
	struct tm	 tm;
	char		*saved;
	long		 off;
	int		 rc = -1;

	if (cause != NULL)
		*cause = NULL;
	if (zone_check(zone, cause) != 0)
		return (-1);
	saved = tp_tz_push(zone);
	if (localtime_r(&t, &tm) == NULL) {
		tp_error(cause, "the time is out of range");
		goto out;
	}
	off = tm.tm_gmtoff;
	if (off == 0)
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	else
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
		    labs(off) / 3600, (labs(off) % 3600) / 60);
	rc = 0;
out:
	tp_tz_pop(saved);
	return (rc);
}

/* Add n units to *total, refusing overflow past a year. */
static int
dur_add(long *total, long n, long unit)
{
	if (n > 366L * 86400 / unit)
		return (-1);
	*total += n * unit;
	if (*total > 366L * 86400)
		return (-1);
	return (0);
}

/* Read a decimal number of at most nine digits. */
static int
dur_number(const char **sp, long *out)
{
	const char	*s = *sp;
	long		 v = 0;
	int		 n = 0;

	while (isdigit((unsigned char)*s)) {
		if (++n > 9)
			return (-1);
		v = v * 10 + (*s++ - '0');
	}
	if (n == 0)
		return (-1);
	*sp = s;
	*out = v;
	return (0);
}

/* Parse ISO 8601 PnWnDTnHnMnS, after the P. */
static int
dur_iso(const char *s, long *total)
{
	static const char	 date_units[] = "wd", time_units[] = "hms";
	static const long	 date_secs[] = { 604800, 86400 };
	static const long	 time_secs[] = { 3600, 60, 1 };
	const char		*u, *units = date_units;
	const long		*secs = date_secs;
	long			 n;
	int			 last = -1, any = 0, intime = 0;

	*total = 0;
	while (*s != '\0') {
		if ((*s == 'T' || *s == 't') && !intime) {
			intime = 1;
			units = time_units;
			secs = time_secs;
			last = -1;
			s++;
			if (*s == '\0')
				return (-1);
			continue;
		}
		if (dur_number(&s, &n) != 0)
			return (-1);
		if ((u = strchr(units, tolower((unsigned char)*s))) == NULL ||
		    *s == '\0')
			return (-1);
		if (u - units <= last)
			return (-1);
		last = u - units;
		if (dur_add(total, n, secs[last]) != 0)
			return (-1);
		any = 1;
		s++;
	}
	return (any ? 0 : -1);
}

/* Parse 1d2h30m10s style: each unit at most once, largest first. */
static int
dur_friendly(const char *s, long *total)
{
	static const char	 units[] = "dhms";
	static const long	 secs[] = { 86400, 3600, 60, 1 };
	const char		*u;
	long			 n;
	int			 last = -1, any = 0;

	*total = 0;
	while (*s != '\0') {
		if (dur_number(&s, &n) != 0)
			return (-1);
		if (*s == '\0' || (u = strchr(units,
		    tolower((unsigned char)*s))) == NULL)
			return (-1);
		if (u - units <= last)
			return (-1);
		last = u - units;
		s++;
		if (last == 2 && strncasecmp(s, "in", 2) == 0)
			s += 2;		/* "min" */
		if (dur_add(total, n, secs[last]) != 0)
			return (-1);
		any = 1;
	}
	return (any ? 0 : -1);
}

/*
 * Parse a duration such as 90m, 2h, 1h30m or PT2H into seconds; it must be
 * longer than zero and at most a year.
 */
int
durparse(const char *text, long *seconds, char **cause)
{
	char		 buf[64];
	const char	*s = text;
	size_t		 n;
	int		 rc;

	if (cause != NULL)
		*cause = NULL;
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || n >= sizeof buf)
		goto bad;
	memcpy(buf, s, n);
	buf[n] = '\0';

	if (buf[0] == 'P' || buf[0] == 'p')
		rc = dur_iso(buf + 1, seconds);
	else
		rc = dur_friendly(buf, seconds);
	if (rc != 0) {
		if (strspn(buf, "0123456789") == n) {
			tp_error(cause, "'%s' has no unit; write %sm for "
			    "minutes or %sh for hours", text, buf, buf);
			return (-1);
		}
		goto bad;
	}
	if (*seconds <= 0) {
		tp_error(cause, "the duration '%s' must be longer than zero",
		    text);
		return (-1);
	}
	return (0);
bad:
	tp_error(cause, "cannot read '%s' as a duration of at most a year; "
	    DUR_HINT, text);
	return (-1);
}

/* Write seconds as an ISO 8601 duration such as PT1H30M into buf. */
void
durfmt(long seconds, char *buf, size_t len)
{
	long	h = seconds / 3600, m = (seconds % 3600) / 60, s = seconds % 60;
	int	n;

	n = snprintf(buf, len, "PT");
	if (h != 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "%ldH", h);
	if (m != 0 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - n, "%ldM", m);
	if ((s != 0 || seconds == 0) && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, "%ldS", s);
}
