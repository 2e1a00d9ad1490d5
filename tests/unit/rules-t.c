/*
 * rules-t.c: unit tests of daemon/rules.c: opening hours, the booking
 * rules of SPEC §3 (granularity from local midnight, durations, advance
 * window, the past), half-open intervals and buffers, and the search for
 * the next free slot.  Times are pinned, in Asia/Shanghai unless a test
 * says otherwise; 2026-11-30 is a Monday.
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libical/ical.h>

#include "yiqid.h"

#define SH	"Asia/Shanghai"

/* UTC time of a wall-clock time in a zone. */
static time_t
at(const char *zone, int Y, int M, int D, int h, int m)
{
	time_t	t;

	if (tz_local_to_utc(zone, Y, M, D, h, m, &t) == -1)
		fail_msg("bad date in test");
	return (t);
}

static time_t
now_fixed(void)
{
	return (at(SH, 2026, 11, 28, 12, 0));	/* a Saturday */
}

static void
hours_parsing(void **state)
{
	static const char *const bad[] = {
		"", "Mon", "Mon 08:00", "Mon 25:00-26:00", "Xyz 08:00-10:00",
		"Mon 08:60-09:00", "Mon 24:00-02:00", "Mon-Fri 08:00-20:00 Sat",
		"Mon-Fri 8:00-20:00", "Mon-Fri 08:00-20:00,", "Monday 08:00-10:00",
		NULL
	};
	struct hours	 h;
	char		*cause;
	int		 i;

	assert_int_equal(hours_parse("24/7", &h, &cause), 0);
	assert_true(h.always);
	assert_int_equal(hours_parse("Mon-Sun 00:00-24:00", &h, &cause), 0);
	assert_true(h.always);
	assert_int_equal(hours_parse("Mon-Fri 08:00-12:00,13:00-20:00; "
	    "Sat 09:00-13:00", &h, &cause), 0);
	assert_false(h.always);
	assert_int_equal(h.n, 11);
	assert_int_equal(h.open[0].from, 8 * 60);
	assert_int_equal(h.open[0].to, 12 * 60);
	assert_int_equal(h.open[10].from, 5 * 1440 + 9 * 60);
	for (i = 0; bad[i] != NULL; i++) {
		cause = NULL;
		if (hours_parse(bad[i], &h, &cause) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(cause);
		free(cause);
	}
}

static void
hours_membership(void **state)
{
	struct hours	 h;
	char		*cause;

	assert_int_equal(hours_parse("Mon-Fri 08:00-20:00", &h, &cause), 0);
	/* Monday 08:00-20:00 inside, exactly the edges. */
	assert_true(hours_contains(&h, SH, at(SH, 2026, 11, 30, 8, 0),
	    at(SH, 2026, 11, 30, 20, 0)));
	assert_false(hours_contains(&h, SH, at(SH, 2026, 11, 30, 7, 30),
	    at(SH, 2026, 11, 30, 9, 0)));
	assert_false(hours_contains(&h, SH, at(SH, 2026, 11, 30, 19, 0),
	    at(SH, 2026, 11, 30, 20, 30)));
	/* Saturday closed. */
	assert_false(hours_contains(&h, SH, at(SH, 2026, 12, 5, 9, 0),
	    at(SH, 2026, 12, 5, 10, 0)));
	/* Next opening from Saturday noon is Monday 08:00. */
	assert_int_equal(hours_next_open(&h, SH, at(SH, 2026, 12, 5, 12, 0)),
	    at(SH, 2026, 12, 7, 8, 0));
	assert_int_equal(hours_next_open(&h, SH, at(SH, 2026, 12, 7, 9, 0)),
	    at(SH, 2026, 12, 7, 9, 0));
}

static void
hours_midnight(void **state)
{
	struct hours	 h;
	char		*cause;

	/* Open to midnight and from midnight: a booking may run across. */
	assert_int_equal(hours_parse("Mon-Fri 08:00-24:00; Tue-Sat 00:00-02:00",
	    &h, &cause), 0);
	assert_true(hours_contains(&h, SH, at(SH, 2026, 11, 30, 23, 0),
	    at(SH, 2026, 12, 1, 1, 0)));
	assert_false(hours_contains(&h, SH, at(SH, 2026, 11, 30, 23, 0),
	    at(SH, 2026, 12, 1, 3, 0)));
	/* An overnight range "22:00-02:00" runs into the next day. */
	assert_int_equal(hours_parse("Fri 22:00-02:00", &h, &cause), 0);
	assert_true(hours_contains(&h, SH, at(SH, 2026, 12, 4, 23, 0),
	    at(SH, 2026, 12, 5, 2, 0)));
	/* Across the week's end: Sunday night into Monday. */
	assert_int_equal(hours_parse("Sun 20:00-24:00; Mon 00:00-08:00", &h,
	    &cause), 0);
	assert_true(hours_contains(&h, SH, at(SH, 2026, 12, 6, 23, 0),
	    at(SH, 2026, 12, 7, 1, 0)));
	/* Not open Monday to Tuesday: closed at midnight. */
	assert_int_equal(hours_parse("Mon 08:00-24:00; Wed 00:00-08:00", &h,
	    &cause), 0);
	assert_false(hours_contains(&h, SH, at(SH, 2026, 11, 30, 23, 0),
	    at(SH, 2026, 12, 1, 1, 0)));
}

static void
check_rules(void **state)
{
	struct rules	 r;
	char		*cause = NULL;
	time_t		 now = now_fixed(), s;

	rules_defaults(&r);
	s = at(SH, 2026, 12, 1, 9, 0);
	assert_int_equal(rules_check(&r, SH, now, s, s + 7200, &cause), RULE_OK);
	assert_int_equal(rules_check(&r, SH, now, s + 600, s + 7200, &cause),
	    RULE_GRANULARITY);
	free(cause);
	assert_int_equal(rules_check(&r, SH, now, s, s + 7200 + 600, &cause),
	    RULE_GRANULARITY);
	free(cause);
	r.min_duration_min = 60;
	assert_int_equal(rules_check(&r, SH, now, s, s + 1800, &cause),
	    RULE_MIN_DURATION);
	free(cause);
	assert_int_equal(rules_check(&r, SH, now, s, s + 9 * 3600, &cause),
	    RULE_MAX_DURATION);
	free(cause);
	assert_int_equal(rules_check(&r, SH, now, s, s + 8 * 3600, &cause),
	    RULE_OK);
	assert_int_equal(rules_check(&r, SH, now, now - 3600, now, &cause),
	    RULE_PAST);
	free(cause);
	s = now + 90 * 86400L;
	assert_int_equal(rules_check(&r, SH, now, s, s + 3600, &cause),
	    RULE_OK);
	assert_int_equal(rules_check(&r, SH, now, s + 1800, s + 5400, &cause),
	    RULE_ADVANCE);
	free(cause);
	assert_int_equal(hours_parse("Mon-Fri 08:00-20:00", &r.hours, &cause),
	    0);
	s = at(SH, 2026, 12, 5, 9, 0);	/* Saturday */
	assert_int_equal(rules_check(&r, SH, now, s, s + 3600, &cause),
	    RULE_HOURS);
	free(cause);
	/* A leap day is an ordinary day. */
	r.advance_days = 1000;
	s = at(SH, 2028, 2, 29, 9, 0);	/* Tuesday */
	assert_int_equal(rules_check(&r, SH, now, s, s + 3600, &cause),
	    RULE_OK);
}

static void
granularity_local(void **state)
{
	struct rules	 r;
	char		*cause = NULL;
	time_t		 now = now_fixed(), s;

	/* Counted from local midnight: 09:00 in India is 03:30 UTC. */
	rules_defaults(&r);
	r.granularity_min = 60;
	s = at("Asia/Kolkata", 2026, 12, 1, 9, 0);
	assert_int_equal(s % 3600, 1800);
	assert_int_equal(rules_check(&r, "Asia/Kolkata", now, s, s + 3600,
	    &cause), RULE_OK);
	assert_int_equal(rules_check(&r, "UTC", now, s, s + 3600, &cause),
	    RULE_GRANULARITY);
	free(cause);
	/* 45 minutes: 09:00 is 12 x 45 from midnight, 09:15 is not. */
	r.granularity_min = 45;
	s = at(SH, 2026, 12, 1, 9, 0);
	assert_int_equal(rules_check(&r, SH, now, s, s + 2700, &cause),
	    RULE_OK);
	assert_int_equal(rules_check(&r, SH, now, s + 900, s + 3600, &cause),
	    RULE_GRANULARITY);
	free(cause);
	assert_int_equal(rules_align_up(&r, SH, s + 1), s + 2700);
	assert_int_equal(rules_align_up(&r, SH, s), s);
}

static void
intervals(void **state)
{
	struct span	a = { 9 * 3600, 11 * 3600 };
	struct span	b = { 11 * 3600, 13 * 3600 };
	struct span	c = { 10 * 3600, 12 * 3600 };

	/* Half-open: touching is not overlapping. */
	assert_false(span_overlaps(&a, &b, 0));
	assert_false(span_overlaps(&b, &a, 0));
	assert_true(span_overlaps(&a, &c, 0));
	/* A buffer widens both ends. */
	assert_true(span_overlaps(&a, &b, 60));
	assert_true(span_overlaps(&b, &a, 60));
	b.start += 900;
	assert_false(span_overlaps(&a, &b, 900));
	assert_true(span_overlaps(&a, &b, 901));
}

static void
next_slot(void **state)
{
	struct rules	 r;
	struct span	 busy[2], out;
	char		*cause = NULL;
	time_t		 now = now_fixed(), day = at(SH, 2026, 12, 1, 0, 0);

	rules_defaults(&r);
	assert_int_equal(hours_parse("Mon-Fri 08:00-18:00", &r.hours, &cause),
	    0);
	busy[0].start = day + 9 * 3600;
	busy[0].end = day + 11 * 3600;
	busy[1].start = day + 11 * 3600 + 1800;
	busy[1].end = day + 17 * 3600;
	/* 2h from 09:00: 11:00-11:30 is too short; 17:00-19:00 is closed:
	 * the next day at 08:00. */
	assert_int_equal(find_slot(&r, SH, day + 9 * 3600, 7200, busy, 2, now,
	    now + 90 * 86400L, &out), 0);
	assert_int_equal(out.start, day + 86400 + 8 * 3600);
	assert_int_equal(out.end, day + 86400 + 10 * 3600);
	/* 30 minutes fits between the two. */
	assert_int_equal(find_slot(&r, SH, day + 9 * 3600, 1800, busy, 2, now,
	    now + 90 * 86400L, &out), 0);
	assert_int_equal(out.start, day + 11 * 3600);
	/* Off-grid start rounds up. */
	assert_int_equal(find_slot(&r, SH, day + 7 * 3600 + 60, 1800, busy, 2,
	    now, now + 90 * 86400L, &out), 0);
	assert_int_equal(out.start, day + 8 * 3600);
	/* Longer than the longest booking: none. */
	assert_int_equal(find_slot(&r, SH, day, 9 * 3600, busy, 2, now,
	    now + 90 * 86400L, &out), -1);
	/* Past the limit: none. */
	assert_int_equal(find_slot(&r, SH, day + 9 * 3600, 7200, busy, 2, now,
	    day + 17 * 3600, &out), -1);
}

/*
 * slot_possible() (find's shortcut past instruments that can give no slot)
 * refuses exactly for the rules' reasons, and never where find_slot() on
 * an empty schedule finds a slot.
 */
static void
possible_slot(void **state)
{
	struct rules	 r;
	struct span	 out;
	time_t		 now = now_fixed(), day = at(SH, 2026, 12, 1, 0, 0);
	time_t		 limit = now + 90 * 86400L, from;
	long		 len;
	int		 found = 0;

	rules_defaults(&r);	/* 24/7, 30-minute grid, 30 min to 8 h */
	assert_true(slot_possible(&r, day, 7200, now, limit));
	assert_false(slot_possible(&r, day, 9 * 3600, now, limit));
	assert_false(slot_possible(&r, day, 900, now, limit));
	assert_false(slot_possible(&r, day, 2700, now, limit));	/* off grid */
	assert_false(slot_possible(&r, now + (r.advance_days + 1) * 86400L,
	    3600, now, limit + 365 * 86400L));	/* past the window */
	assert_false(slot_possible(&r, day, 7200, now, day + 3600));
	assert_true(slot_possible(&r, day, 7200, now, day + 7200));
	/* From in the past counts from now. */
	assert_false(slot_possible(&r, now - 86400, 3600, now, now + 1800));
	for (len = 900; len <= 10 * 3600; len += 900) {
		for (from = day; from < day + 100 * 86400L; from += 7 * 86400L) {
			if (find_slot(&r, SH, from, len, NULL, 0, now, limit,
			    &out) != 0)
				continue;
			assert_true(slot_possible(&r, from, len, now, limit));
			found++;
		}
	}
	assert_true(found > 100);	/* the comparison was made */
}

static void
free_time(void **state)
{
	struct rules	 r;
	struct span	 busy[1], out[8];
	char		*cause = NULL;
	time_t		 now = now_fixed(), day = at(SH, 2026, 12, 1, 0, 0);
	size_t		 n;

	rules_defaults(&r);
	assert_int_equal(hours_parse("Mon-Fri 08:00-18:00", &r.hours, &cause),
	    0);
	busy[0].start = day + 10 * 3600 - 900;	/* 10:00-12:00, buffer 15 */
	busy[0].end = day + 12 * 3600 + 900;
	n = free_spans(&r, SH, day, day + 86400, busy, 1, now, out, 8);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].start, day + 8 * 3600);
	assert_int_equal(out[0].end, day + 9 * 3600 + 1800);
	assert_int_equal(out[1].start, day + 12 * 3600 + 1800);
	assert_int_equal(out[1].end, day + 18 * 3600);
	/* Nothing in the past. */
	n = free_spans(&r, SH, day - 7 * 86400, day - 86400, NULL, 0, now,
	    out, 8);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hours_parsing),
		cmocka_unit_test(hours_membership),
		cmocka_unit_test(hours_midnight),
		cmocka_unit_test(check_rules),
		cmocka_unit_test(granularity_local),
		cmocka_unit_test(intervals),
		cmocka_unit_test(next_slot),
		cmocka_unit_test(possible_slot),
		cmocka_unit_test(free_time),
	};
	int	rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	icaltimezone_free_builtin_timezones();
	return (rc);
}
