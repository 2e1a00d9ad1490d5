/*
 * recur.c: recurring bookings.  recur_expand() turns an RFC 5545 RRULE and
 * a first slot into the start times of every occurrence, with libical's
 * icalrecur_iterator, in the site's time zone: the rule is expanded on
 * floating local time, so each occurrence keeps the wall-clock start of
 * the first (09:00 stays 09:00 across a DST change), and each local time is
 * then converted to UTC.  No database, no HTTP: the unit tests pin it down.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#include "yiqid.h"

#define RRULE_MAX	512	/* longest RRULE text accepted, in bytes */

/*
 * Expand rrule from the first start (UTC) in zone into at most max start
 * times, the first included.  Returns 0 with an allocated array in *out
 * (the caller frees it) and its length in *n; or -1 and an allocated
 * sentence in *cause: a malformed rule, or one with more than max
 * occurrences (*n is then max + 1).
 */
int
recur_expand(const char *rrule, const char *zone, time_t start, size_t max,
    time_t **out, size_t *n, char **cause)
{
	struct icalrecurrencetype	 rt;
	struct icaltimetype		 dt, next;
	icalrecur_iterator		*it;
	struct tm			 tm;
	time_t				 local, t, *v;
	size_t				 k = 0;

	*out = NULL;
	*n = 0;
	if (strncasecmp(rrule, "RRULE:", 6) == 0)
		rrule += 6;
	if (*rrule == '\0' || strlen(rrule) > RRULE_MAX ||
	    strcasestr(rrule, "FREQ=") == NULL) {
		xasprintf(cause, "repeat must be an RRULE such as "
		    "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8");
		return (-1);
	}
	icalerror_clear_errno();
	rt = icalrecurrencetype_from_string(rrule);
	if (rt.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
		icalerror_clear_errno();
		xasprintf(cause, "repeat is not a valid RRULE (RFC 5545), e.g. "
		    "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=8");
		return (-1);
	}
	local = start + tz_offset(zone, start);
	gmtime_r(&local, &tm);
	dt = icaltime_null_time();
	dt.year = tm.tm_year + 1900;
	dt.month = tm.tm_mon + 1;
	dt.day = tm.tm_mday;
	dt.hour = tm.tm_hour;
	dt.minute = tm.tm_min;
	dt.second = tm.tm_sec;
	dt.is_date = 0;
	if ((it = icalrecur_iterator_new(rt, dt)) == NULL) {
		icalerror_clear_errno();
		xasprintf(cause, "repeat cannot be expanded from this start");
		return (-1);
	}
	v = xreallocarray(NULL, max + 1, sizeof *v);
	for (;;) {
		next = icalrecur_iterator_next(it);
		if (icaltime_is_null_time(next))
			break;
		if (k == max) {
			k++;
			break;
		}
		if (tz_local_to_utc(zone, next.year, next.month, next.day,
		    next.hour, next.minute, &t) == -1)
			continue;
		t += next.second;
		if (k > 0 && t <= v[k - 1])
			continue;
		v[k++] = t;
	}
	icalrecur_iterator_free(it);
	icalerror_clear_errno();
	if (k > max || k == 0) {
		*n = k;
		free(v);
		if (k == 0)
			xasprintf(cause, "repeat gives no occurrence");
		else
			xasprintf(cause, "repeat gives more than %zu occurrences; "
			    "add COUNT or UNTIL", max);
		return (-1);
	}
	*out = v;
	*n = k;
	return (0);
}
