/*
 * recur-t.c: unit tests of daemon/recur.c: RRULE expansion in a site's
 * zone (weekly on two days, every two weeks, UNTIL, a month end in
 * Asia/Shanghai, a DST zone keeping the wall-clock start), and refusals
 * (malformed rules, more than the maximum, no end).
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

/* 2026-12-01T09:00:00+08:00, a Tuesday. */
#define TUE_0900	1796086800

static void
weekly_two_days(void **state)
{
	time_t	*v;
	size_t	 n;
	char	*cause = NULL;

	assert_int_equal(recur_expand("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4",
	    "Asia/Shanghai", TUE_0900, 100, &v, &n, &cause), 0);
	assert_int_equal(n, 4);
	assert_int_equal(v[0], TUE_0900);
	assert_int_equal(v[1], TUE_0900 + 2 * 86400);
	assert_int_equal(v[2], TUE_0900 + 7 * 86400);
	assert_int_equal(v[3], TUE_0900 + 9 * 86400);
	free(v);
}

static void
every_two_weeks_until(void **state)
{
	time_t	*v;
	size_t	 n;
	char	*cause = NULL;

	assert_int_equal(recur_expand("RRULE:FREQ=WEEKLY;INTERVAL=2;"
	    "UNTIL=20261231T235959", "Asia/Shanghai", TUE_0900, 100, &v, &n,
	    &cause), 0);
	assert_int_equal(n, 3);		/* Dec 1, 15, 29 */
	assert_int_equal(v[2], TUE_0900 + 28 * 86400);
	free(v);
}

static void
month_end(void **state)
{
	time_t	*v, first;
	size_t	 n;
	char	*cause = NULL;

	/* 2026-11-29T23:00+08:00, daily: Nov 29, Nov 30, Dec 1. */
	assert_int_equal(tz_local_to_utc("Asia/Shanghai", 2026, 11, 29, 23, 0,
	    &first), 0);
	assert_int_equal(recur_expand("FREQ=DAILY;COUNT=3", "Asia/Shanghai",
	    first, 100, &v, &n, &cause), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[2], first + 2 * 86400);
	free(v);
	/* Monthly on the 31st skips the short months: Dec 31, Jan 31, Mar 31. */
	assert_int_equal(tz_local_to_utc("Asia/Shanghai", 2026, 12, 31, 9, 0,
	    &first), 0);
	assert_int_equal(recur_expand("FREQ=MONTHLY;COUNT=3", "Asia/Shanghai",
	    first, 100, &v, &n, &cause), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[1], first + 31 * 86400L);
	assert_int_equal(v[2], first + (31 + 28 + 31) * 86400L);
	free(v);
}

static void
dst_keeps_wall_clock(void **state)
{
	time_t	*v, first;
	size_t	 n;
	char	*cause = NULL;

	/* Berlin: 2026-03-23 09:00 CET, a week later 09:00 CEST. */
	assert_int_equal(tz_local_to_utc("Europe/Berlin", 2026, 3, 23, 9, 0,
	    &first), 0);
	assert_int_equal(recur_expand("FREQ=WEEKLY;COUNT=2", "Europe/Berlin",
	    first, 100, &v, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[1], first + 7 * 86400 - 3600);
	free(v);
}

static void
refusals(void **state)
{
	static const char *const bad[] = {
		"", "WEEKLY", "FREQ=SOMETIMES", "FREQ=WEEKLY;BYDAY=XX",
		"COUNT=3", NULL
	};
	time_t	*v;
	size_t	 n, i;
	char	*cause;

	for (i = 0; bad[i] != NULL; i++) {
		cause = NULL;
		if (recur_expand(bad[i], "Asia/Shanghai", TUE_0900, 100, &v, &n,
		    &cause) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(cause);
		assert_true(n <= 100);
		free(cause);
	}
	cause = NULL;
	assert_int_equal(recur_expand("FREQ=DAILY;COUNT=101", "Asia/Shanghai",
	    TUE_0900, 100, &v, &n, &cause), -1);
	assert_int_equal(n, 101);
	free(cause);
	cause = NULL;
	assert_int_equal(recur_expand("FREQ=DAILY", "Asia/Shanghai", TUE_0900,
	    100, &v, &n, &cause), -1);
	assert_int_equal(n, 101);
	free(cause);
	cause = NULL;
	assert_int_equal(recur_expand("FREQ=DAILY;COUNT=100", "Asia/Shanghai",
	    TUE_0900, 100, &v, &n, &cause), 0);
	assert_int_equal(n, 100);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(weekly_two_days),
		cmocka_unit_test(every_two_weeks_until),
		cmocka_unit_test(month_end),
		cmocka_unit_test(dst_keeps_wall_clock),
		cmocka_unit_test(refusals),
	};
	int	rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	icaltimezone_free_builtin_timezones();
	return (rc);
}
