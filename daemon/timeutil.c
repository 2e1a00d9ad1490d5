/*
 * timeutil.c: times as the API writes them (RFC 3339 with an offset, ISO
 * 8601 durations) and time zones.  Zone arithmetic uses libical's zone
 * database (the system's tzdata), so no zone rule is written here; alias
 * names are mapped to their canonical zone through tzdata.zi's links.
 */

#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libical/ical.h>

#include "yiqid.h"

#define TZDATA_ZI	"/usr/share/zoneinfo/tzdata.zi"
#define TZ_MEMO		64	/* remembered offsets per thread: 2^6, see tz_offset */

/* Days in a month of a year (month 1..12). */
int
days_in_month(int year, int month)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int	leap;

	if (month < 1 || month > 12)
		return (0);
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return (mdays[month - 1] + (month == 2 && leap));
}

/* Read exactly n digits from *sp into *out; advance *sp. */
static int
digits(const char **sp, int n, int *out)
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

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/*
 * Parse an RFC 3339 time with a mandatory offset ("Z" or "+08:00"); seconds
 * may be left out and a fraction is refused.  Returns 0 and the UTC time,
 * or -1 for anything malformed or impossible (Feb 30, 25:00, no offset).
 */
int
time_parse(const char *s, time_t *out)
{
	int	Y, M, D, h, m, sec = 0, oh = 0, om = 0, sign = 1;
	int64_t	t;

	if (digits(&s, 4, &Y) || *s++ != '-' || digits(&s, 2, &M) ||
	    *s++ != '-' || digits(&s, 2, &D))
		return (-1);
	if (*s != 'T' && *s != 't' && *s != ' ')
		return (-1);
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &m))
		return (-1);
	if (*s == ':') {
		s++;
		if (digits(&s, 2, &sec))
			return (-1);
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
			return (-1);
	} else
		return (-1);
	if (*s != '\0')
		return (-1);
	if (Y < 1970 || Y > 9999 || M < 1 || M > 12 || D < 1 ||
	    D > days_in_month(Y, M) || h > 23 || m > 59 || sec > 59 ||
	    oh > 23 || om > 59)
		return (-1);
	t = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec;
	t -= sign * (oh * 3600 + om * 60);
	*out = (time_t)t;
	return (0);
}

/*
 * libical's zone by name.  Its lookup is a linear search of ~600 names
 * with strcmp, which was a quarter of the CPU of an availability request;
 * each thread remembers the last zone it asked for (a memo of libical's
 * immutable table, not state: the answer for a name never changes).
 */
static icaltimezone *
tz_lookup(const char *zone)
{
	static __thread char		 last[64];
	static __thread icaltimezone	*last_z;
	icaltimezone			*z;
	size_t				 len;

	if (last_z != NULL && strcmp(zone, last) == 0)
		return (last_z);
	z = icaltimezone_get_builtin_timezone(zone);
	if (z != NULL && (len = strlen(zone)) < sizeof last) {
		memcpy(last, zone, len + 1);
		last_z = z;
	}
	return (z);
}

/* The civil date of a day count since 1970-01-01 (proleptic Gregorian). */
static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t	era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/*
 * t as libical's UTC time, computed here: icaltime_from_timet_with_zone()
 * goes through gmtime_r(), whose time zone lock was a tenth of an
 * availability request's CPU.
 */
static struct icaltimetype
utc_icaltime(time_t t)
{
	struct icaltimetype	tt = icaltime_null_time();
	int64_t			days = (int64_t)t / 86400, sod = (int64_t)t % 86400;

	if (sod < 0) {
		sod += 86400;
		days--;
	}
	civil_from_days(days, &tt.year, &tt.month, &tt.day);
	tt.hour = (int)(sod / 3600);
	tt.minute = (int)(sod % 3600 / 60);
	tt.second = (int)(sod % 60);
	tt.zone = icaltimezone_get_utc_timezone();
	return (tt);
}

/*
 * Offset of zone from UTC at UTC time t, in seconds east.  The same few
 * times are asked for over and over (the availability answer aligns a
 * span's ends to the grid, then formats them), so each thread remembers
 * the last answers, keyed by zone and exact time: a memo of a pure
 * function, exact across any DST change.
 */
int
tz_offset(const char *zone, time_t t)
{
	static __thread struct {
		icaltimezone	*z;
		time_t		 t;
		int		 off;
	}			 memo[TZ_MEMO];
	icaltimezone		*z;
	struct icaltimetype	 tt;
	unsigned int		 i;
	int			 dst, off;

	if (zone == NULL || strcmp(zone, "UTC") == 0 ||
	    (z = tz_lookup(zone)) == NULL)
		return (0);
	i = (unsigned int)(((uint64_t)t * 0x9e3779b97f4a7c15ULL) >> 58);
	if (memo[i].z == z && memo[i].t == t)
		return (memo[i].off);
	tt = utc_icaltime(t);
	off = icaltimezone_get_utc_offset_of_utc_time(z, &tt, &dst);
	memo[i].z = z;
	memo[i].t = t;
	memo[i].off = off;
	return (off);
}

/*
 * Convert a wall-clock time in zone to UTC.  A time in a DST gap or fold
 * takes the zone's first offset that fits.  Returns -1 for a bad date.
 */
int
tz_local_to_utc(const char *zone, int Y, int M, int D, int h, int m,
    time_t *out)
{
	int64_t	local;
	time_t	guess;
	int	off;

	if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h < 0 ||
	    h > 24 || m < 0 || m > 59 || (h == 24 && m != 0))
		return (-1);
	local = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60;
	off = tz_offset(zone, (time_t)local);
	guess = (time_t)(local - off);
	off = tz_offset(zone, guess);
	*out = (time_t)(local - off);
	return (0);
}

static char *
put2(char *p, int v)
{
	*p++ = '0' + v / 10;
	*p++ = '0' + v % 10;
	return (p);
}

/*
 * Format t as RFC 3339 in zone's offset at that time ("...+08:00", or "Z"
 * for UTC) into buf, which holds TIME_FORMAT_LEN bytes.  Returns the
 * length.  Digits are written by hand (no strftime, no allocation): the
 * availability answer formats two per busy or free span.
 */
size_t
time_format_r(time_t t, const char *zone, char *buf)
{
	struct tm	 tm;
	time_t		 local;
	int64_t		 days, sod;
	char		*p = buf;
	int		 off, a, y, m, d;

	off = tz_offset(zone, t);
	local = t + off;
	days = (int64_t)local / 86400;
	sod = (int64_t)local % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y >= 1000 && y <= 9999) {
		p = put2(p, y / 100);
		p = put2(p, y % 100);
		*p++ = '-';
		p = put2(p, m);
		*p++ = '-';
		p = put2(p, d);
		*p++ = 'T';
		p = put2(p, (int)(sod / 3600));
		*p++ = ':';
		p = put2(p, (int)(sod % 3600 / 60));
		*p++ = ':';
		p = put2(p, (int)(sod % 60));
	} else {	/* what strftime writes for odd years */
		gmtime_r(&local, &tm);
		p += strftime(buf, TIME_FORMAT_LEN - 8, "%Y-%m-%dT%H:%M:%S",
		    &tm);
	}
	if (zone == NULL || strcmp(zone, "UTC") == 0) {
		*p++ = 'Z';
		*p = '\0';
		return ((size_t)(p - buf));
	}
	a = off < 0 ? -off : off;
	*p++ = off < 0 ? '-' : '+';
	p = put2(p, a / 3600 % 100);
	*p++ = ':';
	p = put2(p, (a % 3600) / 60);
	*p = '\0';
	return ((size_t)(p - buf));
}

/*
 * Format t as RFC 3339 in zone's offset at that time ("...+08:00", or "Z"
 * for UTC).  The caller frees the result.
 */
char *
time_format(time_t t, const char *zone)
{
	char	buf[TIME_FORMAT_LEN];

	time_format_r(t, zone, buf);
	return (xstrdup(buf));
}

/*
 * Parse an ISO 8601 duration (P1D, PT2H, PT90M, PT1H30M, P1DT2H, PT45S)
 * into seconds.  Years, months and weeks are refused: their length
 * depends on the calendar.  Returns -1 if malformed or zero.
 */
int
duration_parse(const char *s, long *out)
{
	long	 total = 0, n;
	int	 in_time = 0, any = 0;
	char	*end;

	if (*s++ != 'P')
		return (-1);
	while (*s != '\0') {
		if (*s == 'T') {
			if (in_time)
				return (-1);
			in_time = 1;
			s++;
			continue;
		}
		if (!isdigit((unsigned char)*s))
			return (-1);
		n = strtol(s, &end, 10);
		if (n < 0 || n > 100000 || end - s > 6)
			return (-1);
		s = end;
		if (!in_time && *s == 'D')
			total += n * 86400;
		else if (in_time && *s == 'H')
			total += n * 3600;
		else if (in_time && *s == 'M')
			total += n * 60;
		else if (in_time && *s == 'S')
			total += n;
		else
			return (-1);
		s++;
		any = 1;
	}
	if (!any || total <= 0 || total > 366L * 86400)
		return (-1);
	*out = total;
	return (0);
}

/* Is zone a zone the database knows? */
int
tz_known(const char *zone)
{
	if (strcmp(zone, "UTC") == 0)
		return (1);
	if (strlen(zone) > 64 || strstr(zone, "..") != NULL)
		return (0);
	return (icaltimezone_get_builtin_timezone(zone) != NULL);
}

/*
 * The canonical name of a zone: an alias (Asia/Chongqing) becomes the zone
 * it links to (Asia/Shanghai).  Returns NULL for an unknown zone; the
 * caller frees the result.
 */
char *
tz_canonical(const char *zone)
{
	FILE	*f;
	char	 line[256], target[128], alias[128];
	char	*out = NULL;

	if (!tz_known(zone))
		return (NULL);
	if ((f = fopen(TZDATA_ZI, "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			if (line[0] != 'L' || line[1] != ' ')
				continue;
			if (sscanf(line, "L %127s %127s", target, alias) != 2)
				continue;
			if (strcmp(alias, zone) == 0 && tz_known(target)) {
				out = xstrdup(target);
				break;
			}
		}
		fclose(f);
	}
	if (out == NULL)
		out = xstrdup(zone);
	return (out);
}
