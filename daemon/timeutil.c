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

/* Offset of zone from UTC at UTC time t, in seconds east. */
int
tz_offset(const char *zone, time_t t)
{
	icaltimezone		*z;
	struct icaltimetype	 tt;
	int			 dst;

	if (zone == NULL || strcmp(zone, "UTC") == 0 ||
	    (z = tz_lookup(zone)) == NULL)
		return (0);
	tt = icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone());
	return (icaltimezone_get_utc_offset_of_utc_time(z, &tt, &dst));
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

/*
 * Format t as RFC 3339 in zone's offset at that time ("...+08:00", or "Z"
 * for UTC).  The caller frees the result.
 */
char *
time_format(time_t t, const char *zone)
{
	struct tm	 tm;
	time_t		 local;
	char		 buf[64], *out;
	int		 off, a;

	off = tz_offset(zone, t);
	local = t + off;
	gmtime_r(&local, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (zone == NULL || strcmp(zone, "UTC") == 0) {
		xasprintf(&out, "%sZ", buf);
		return (out);
	}
	a = off < 0 ? -off : off;
	xasprintf(&out, "%s%c%02d:%02d", buf, off < 0 ? '-' : '+', a / 3600,
	    (a % 3600) / 60);
	return (out);
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
