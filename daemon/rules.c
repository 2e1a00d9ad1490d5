/*
 * rules.c: the booking rules of SPEC §3 as pure functions, with no
 * database or HTTP in sight, so that unit tests can pin them down.
 *
 * Opening hours are kept as a weekly schedule of open intervals, in minutes
 * from Monday 00:00 local time, sorted and merged (an interval that ends at
 * 24:00 on one day and one that starts at 00:00 the next join up, so a
 * booking may run across midnight when both days are open).  Local time
 * is the site's zone, from timeutil.c.  All intervals are half-open.
 */

#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yiqid.h"

#define WEEK_MIN	(7 * 1440)
#define WEEK_SEC	(7 * 86400)

static const char *const day_names[] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun"
};

/* Set the defaults of SPEC §3. */
void
rules_defaults(struct rules *r)
{
	memset(r, 0, sizeof *r);
	r->granularity_min = 30;
	r->min_duration_min = 30;
	r->max_duration_min = 480;
	r->advance_days = 90;
	r->buffer_min = 0;
	r->hours.always = 1;
}

static int
parse_day(const char **sp)
{
	int	i;

	for (i = 0; i < 7; i++) {
		if (strncasecmp(*sp, day_names[i], 3) == 0 &&
		    !isalpha((unsigned char)(*sp)[3])) {
			*sp += 3;
			return (i);
		}
	}
	return (-1);
}

static int
parse_hhmm(const char **sp, int *out)
{
	const char	*s = *sp;
	int		 h, m;

	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return (-1);
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return (-1);
	*sp = s + 5;
	*out = h * 60 + m;
	return (0);
}

static void
skip_space(const char **sp)
{
	while (**sp == ' ' || **sp == '\t')
		(*sp)++;
}

static int
hours_add(struct hours *h, int from, int to)
{
	if (to > WEEK_MIN) {
		if (hours_add(h, from, WEEK_MIN) == -1)
			return (-1);
		return (hours_add(h, 0, to - WEEK_MIN));
	}
	if (h->n == HOURS_MAX)
		return (-1);
	h->open[h->n].from = from;
	h->open[h->n].to = to;
	h->n++;
	return (0);
}

static int
open_cmp(const void *a, const void *b)
{
	const int *x = a, *y = b;	/* first member is "from" */

	return (*x < *y ? -1 : *x > *y);
}

static void
hours_merge(struct hours *h)
{
	int	i, j;

	qsort(h->open, h->n, sizeof h->open[0], open_cmp);
	for (i = 0, j = 0; i < h->n; i++) {
		if (j > 0 && h->open[i].from <= h->open[j - 1].to) {
			if (h->open[i].to > h->open[j - 1].to)
				h->open[j - 1].to = h->open[i].to;
		} else
			h->open[j++] = h->open[i];
	}
	h->n = j;
	if (h->n == 1 && h->open[0].from == 0 && h->open[0].to == WEEK_MIN)
		h->always = 1;
}

/* Parse one "DAYS RANGES" group into h. */
static int
hours_group(const char **sp, struct hours *h, char **cause)
{
	int	days[7] = { 0 }, d1, d2, from, to, i, any = 0;

	for (;;) {
		skip_space(sp);
		if ((d1 = parse_day(sp)) == -1) {
			*cause = xstrdup("a day must be Mon, Tue, Wed, Thu, Fri, "
			    "Sat or Sun");
			return (-1);
		}
		d2 = d1;
		if (**sp == '-') {
			(*sp)++;
			if ((d2 = parse_day(sp)) == -1) {
				*cause = xstrdup("a day range must be like Mon-Fri");
				return (-1);
			}
		}
		for (i = d1;; i = (i + 1) % 7) {
			days[i] = 1;
			if (i == d2)
				break;
		}
		if (**sp != ',')
			break;
		(*sp)++;
	}
	for (;;) {
		skip_space(sp);
		if (parse_hhmm(sp, &from) == -1 || **sp != '-') {
			*cause = xstrdup("hours must be like 08:00-20:00");
			return (-1);
		}
		(*sp)++;
		if (parse_hhmm(sp, &to) == -1 || from == 1440) {
			*cause = xstrdup("hours must be like 08:00-20:00");
			return (-1);
		}
		if (to <= from)
			to += 1440;	/* runs past midnight */
		for (i = 0; i < 7; i++) {
			if (!days[i])
				continue;
			if (hours_add(h, i * 1440 + from, i * 1440 + to) == -1) {
				*cause = xstrdup("too many opening intervals");
				return (-1);
			}
			any = 1;
		}
		skip_space(sp);
		if (**sp != ',')
			break;
		(*sp)++;
	}
	return (any ? 0 : -1);
}

/*
 * Parse opening hours: "24/7", or groups separated by ';' such as
 * "Mon-Fri 08:00-12:00,13:00-20:00; Sat 09:00-13:00".  On error returns -1
 * and an allocated message in *cause.
 */
int
hours_parse(const char *text, struct hours *h, char **cause)
{
	const char	*s = text;

	memset(h, 0, sizeof *h);
	skip_space(&s);
	if (strcmp(s, "24/7") == 0) {
		h->always = 1;
		return (0);
	}
	if (strlen(text) > 512) {
		*cause = xstrdup("opening hours are too long");
		return (-1);
	}
	for (;;) {
		if (hours_group(&s, h, cause) == -1) {
			if (*cause == NULL)
				*cause = xstrdup("bad opening hours");
			return (-1);
		}
		skip_space(&s);
		if (*s == '\0')
			break;
		if (*s != ';') {
			*cause = xstrdup("opening hours groups are separated by ';'");
			return (-1);
		}
		s++;
		skip_space(&s);
		if (*s == '\0')
			break;
	}
	hours_merge(h);
	return (0);
}

/* Local seconds since Monday 00:00 of the week holding local time l. */
static long
week_pos(time_t l)
{
	long	days, sod;

	days = (long)(l >= 0 ? l / 86400 : (l - 86399) / 86400);
	sod = (long)(l - (time_t)days * 86400);
	return ((((days + 3) % 7 + 7) % 7) * 86400 + sod);	/* 1970-01-01: Thu */
}

/* Index of the open interval holding week position p (seconds), or -1. */
static int
hours_find(const struct hours *h, long p)
{
	int	i;

	for (i = 0; i < h->n; i++) {
		if (p >= h->open[i].from * 60L && p < h->open[i].to * 60L)
			return (i);
	}
	return (-1);
}

/*
 * The end of the open run that holds UTC time t (t itself if closed then).
 * A run may continue across the week's end.
 */
static time_t
hours_run_end(const struct hours *h, const char *zone, time_t t)
{
	time_t	l, end;
	long	p;
	int	i, laps = 0;

	if (h->always)
		return (t + 400L * 86400);
	l = t + tz_offset(zone, t);
	end = l;
	while (laps++ < h->n + 1) {
		p = week_pos(end);
		if ((i = hours_find(h, p)) == -1)
			break;
		end += h->open[i].to * 60L - p;
	}
	return (end - tz_offset(zone, t));
}

/* Is [start, end) wholly inside opening hours? */
int
hours_contains(const struct hours *h, const char *zone, time_t start,
    time_t end)
{
	if (h->always)
		return (1);
	return (hours_run_end(h, zone, start) >= end);
}

/* The first UTC time at or after t that is inside opening hours. */
time_t
hours_next_open(const struct hours *h, const char *zone, time_t t)
{
	time_t	l;
	long	p, best = -1, d;
	int	i, off;

	if (h->always || h->n == 0)
		return (t);
	off = tz_offset(zone, t);
	l = t + off;
	p = week_pos(l);
	if (hours_find(h, p) != -1)
		return (t);
	for (i = 0; i < h->n; i++) {
		d = h->open[i].from * 60L - p;
		if (d < 0)
			d += WEEK_SEC;
		if (best == -1 || d < best)
			best = d;
	}
	return (t + best);
}

/* The first UTC time at or after t on the instrument's granularity. */
time_t
rules_align_up(const struct rules *r, const char *zone, time_t t)
{
	long	g = r->granularity_min * 60L, sod, next;
	time_t	l;

	if (g <= 0)
		return (t);
	l = t + tz_offset(zone, t);
	sod = (long)(((l % 86400) + 86400) % 86400);
	next = (sod + g - 1) / g * g;
	if (next >= 86400)
		next = 86400;
	return (t + (next - sod));
}

static int
on_grid(const struct rules *r, const char *zone, time_t t)
{
	return (rules_align_up(r, zone, t) == t);
}

/* The rule's name as the API reports it. */
const char *
rules_name(enum rule_result rr)
{
	switch (rr) {
	case RULE_GRANULARITY:
		return ("granularity");
	case RULE_MIN_DURATION:
		return ("min_duration");
	case RULE_MAX_DURATION:
		return ("max_duration");
	case RULE_ADVANCE:
		return ("advance_days");
	case RULE_PAST:
		return ("in_past");
	case RULE_HOURS:
		return ("opening_hours");
	case RULE_OK:
		break;
	}
	return ("ok");
}

/*
 * Check [start, end) against the rules at time now.  Returns RULE_OK, or
 * the first rule broken with a sentence in *cause for the caller to free.
 */
enum rule_result
rules_check(const struct rules *r, const char *zone, time_t now, time_t start,
    time_t end, char **cause)
{
	long	len = (long)(end - start);

	if (start < now) {
		*cause = xstrdup("the start is in the past");
		return (RULE_PAST);
	}
	if (!on_grid(r, zone, start) || !on_grid(r, zone, end)) {
		xasprintf(cause, "start and end must fall on a multiple of %d "
		    "minutes from midnight", r->granularity_min);
		return (RULE_GRANULARITY);
	}
	if (len < r->min_duration_min * 60L) {
		xasprintf(cause, "a booking must last at least %d minutes",
		    r->min_duration_min);
		return (RULE_MIN_DURATION);
	}
	if (len > r->max_duration_min * 60L) {
		xasprintf(cause, "a booking may last at most %d minutes",
		    r->max_duration_min);
		return (RULE_MAX_DURATION);
	}
	if (start > now + r->advance_days * 86400L) {
		xasprintf(cause, "bookings may start at most %d days ahead",
		    r->advance_days);
		return (RULE_ADVANCE);
	}
	if (!hours_contains(&r->hours, zone, start, end)) {
		*cause = xstrdup("the slot is outside the opening hours");
		return (RULE_HOURS);
	}
	return (RULE_OK);
}

/* Do a and b overlap once a is widened by buffer seconds on both sides? */
int
span_overlaps(const struct span *a, const struct span *b, int buffer)
{
	return (a->start - buffer < b->end && b->start < a->end + buffer);
}

/*
 * Could find_slot() find anything, whatever is busy?  No if the rules
 * refuse a booking of len seconds, or if no slot of it can start by the
 * end of the advance window and end by limit.  Lets a caller skip reading
 * what is busy.
 */
int
slot_possible(const struct rules *r, time_t from, long len, time_t now,
    time_t limit)
{
	time_t	s = from < now ? now : from;

	if (len < r->min_duration_min * 60L || len > r->max_duration_min * 60L)
		return (0);
	if (r->granularity_min > 0 && len % (r->granularity_min * 60L) != 0)
		return (0);
	return (s <= now + r->advance_days * 86400L && s + len <= limit);
}

/*
 * Find the earliest slot of len seconds starting at or after from that
 * passes every rule at time now, avoids the busy spans (already widened by
 * any buffer) and ends by limit.  Returns 0 and the slot, or -1 if none.
 */
int
find_slot(const struct rules *r, const char *zone, time_t from, long len,
    const struct span *busy, size_t nbusy, time_t now, time_t limit,
    struct span *out)
{
	time_t	s, last, next, bump;
	size_t	i;
	int	steps;

	if (!slot_possible(r, from, len, now, limit))
		return (-1);
	last = now + r->advance_days * 86400L;
	s = from < now ? now : from;
	for (steps = 0; steps < 100000; steps++) {
		s = rules_align_up(r, zone, s);
		if (s > last || s + len > limit)
			return (-1);
		next = hours_next_open(&r->hours, zone, s);
		if (next != s) {
			s = next;
			continue;
		}
		if (!hours_contains(&r->hours, zone, s, s + len)) {
			s = hours_run_end(&r->hours, zone, s);
			continue;
		}
		bump = 0;
		for (i = 0; i < nbusy; i++) {
			if (busy[i].start < s + len && s < busy[i].end &&
			    busy[i].end > bump)
				bump = busy[i].end;
		}
		if (bump != 0) {
			s = bump;
			continue;
		}
		if (!on_grid(r, zone, s + len)) {
			s += 60;
			continue;
		}
		out->start = s;
		out->end = s + len;
		return (0);
	}
	return (-1);
}

/* The last UTC time at or before t on the instrument's granularity. */
static time_t
align_down(const struct rules *r, const char *zone, time_t t)
{
	long	g = r->granularity_min * 60L, sod;
	time_t	l;

	if (g <= 0)
		return (t);
	l = t + tz_offset(zone, t);
	sod = (long)(((l % 86400) + 86400) % 86400);
	return (t - (sod % g));
}

static size_t
emit_free(const struct rules *r, const char *zone, time_t s, time_t e,
    struct span *out, size_t n, size_t max)
{
	s = rules_align_up(r, zone, s);
	e = align_down(r, zone, e);
	if (n < max && e - s >= r->min_duration_min * 60L) {
		out[n].start = s;
		out[n].end = e;
		n++;
	}
	return (n);
}

/*
 * The bookable time in [from, to) at time now: open, not in the past, not
 * past the advance window, outside the busy spans (sorted by start and
 * already widened by any buffer), trimmed to the granularity and at least
 * the minimum duration long.  Writes at most max spans to out; returns
 * how many.
 */
size_t
free_spans(const struct rules *r, const char *zone, time_t from, time_t to,
    const struct span *busy, size_t nbusy, time_t now, struct span *out,
    size_t max)
{
	time_t	t, e, c, hi;
	size_t	n = 0, i;

	t = from < now ? now : from;
	hi = now + r->advance_days * 86400L + r->max_duration_min * 60L;
	if (to < hi)
		hi = to;
	while (t < hi && n < max) {
		t = hours_next_open(&r->hours, zone, t);
		if (t >= hi)
			break;
		e = hours_run_end(&r->hours, zone, t);
		if (e > hi)
			e = hi;
		c = t;
		for (i = 0; i < nbusy && n < max; i++) {
			if (busy[i].end <= c || busy[i].start >= e)
				continue;
			if (busy[i].start > c)
				n = emit_free(r, zone, c, busy[i].start, out, n, max);
			if (busy[i].end > c)
				c = busy[i].end;
		}
		if (c < e)
			n = emit_free(r, zone, c, e, out, n, max);
		t = e;
	}
	return (n);
}

/* Open seconds of one week position range [0, pos) of the schedule. */
static long
hours_open_before(const struct hours *h, long pos)
{
	long	sum = 0, a, b;
	int	i;

	for (i = 0; i < h->n; i++) {
		a = h->open[i].from * 60L;
		b = h->open[i].to * 60L;
		if (pos <= a)
			continue;
		sum += (pos < b ? pos : b) - a;
	}
	return (sum);
}

/* Open seconds from a fixed Monday 00:00 (1970-01-05) to local time l. */
static int64_t
hours_open_cumulative(const struct hours *h, int64_t l)
{
	int64_t	x = l - 4 * 86400, weeks;

	weeks = x >= 0 ? x / WEEK_SEC : -((-x + WEEK_SEC - 1) / WEEK_SEC);
	return (weeks * hours_open_before(h, WEEK_SEC) +
	    hours_open_before(h, (long)(x - weeks * WEEK_SEC)));
}

/*
 * How many seconds of the UTC interval [from, to) lie inside the opening
 * hours, for a zone whose offset is off seconds east all through it (the
 * caller splits an interval at the zone's offset changes).
 */
int64_t
hours_open_seconds(const struct hours *h, int off, time_t from, time_t to)
{
	if (to <= from)
		return (0);
	if (h->always)
		return ((int64_t)(to - from));
	return (hours_open_cumulative(h, (int64_t)to + off) -
	    hours_open_cumulative(h, (int64_t)from + off));
}
