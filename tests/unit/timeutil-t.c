/*
 * timeutil-t.c: unit tests of daemon/timeutil.c: RFC 3339 parsing (with
 * impossible dates refused), formatting in a zone's offset, ISO 8601
 * durations, zones and their canonical names.
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

static void
parse_ok(void **state)
{
	time_t	t;

	assert_int_equal(time_parse("2026-12-01T09:00:00+08:00", &t), 0);
	assert_int_equal(t, 1796086800);	/* 01:00 UTC */
	assert_int_equal(time_parse("2026-12-01T01:00:00Z", &t), 0);
	assert_int_equal(t, 1796086800);
	assert_int_equal(time_parse("2026-12-01T09:00+08:00", &t), 0);
	assert_int_equal(t, 1796086800);
	assert_int_equal(time_parse("2026-11-30T20:00:00-05:00", &t), 0);
	assert_int_equal(t, 1796086800);
	/* Leap day of a leap year. */
	assert_int_equal(time_parse("2028-02-29T00:00:00Z", &t), 0);
	assert_int_equal(t, 1835395200);
	assert_int_equal(time_parse("2000-02-29T00:00:00Z", &t), 0);
}

static void
parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "2026-12-01", "2026-12-01T09:00:00",	/* no offset */
		"2026-02-30T09:00:00+08:00", "2027-02-29T09:00:00Z",
		"1900-02-29T00:00:00Z", "2026-13-01T09:00:00Z",
		"2026-12-00T09:00:00Z", "2026-12-01T25:00:00Z",
		"2026-12-01T24:00:00Z", "2026-12-01T09:60:00Z",
		"2026-12-01T09:00:61Z", "2026-12-01T09:00:00+24:00",
		"2026-12-01T09:00:00.5Z", "2026-12-01T09:00:00Zjunk",
		"2026-1-01T09:00:00Z", "tomorrow", "2026-12-01T09:00:00+0800",
		NULL
	};
	time_t	t;
	int	i;

	for (i = 0; bad[i] != NULL; i++) {
		if (time_parse(bad[i], &t) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void
format_zone(void **state)
{
	char	*s;

	s = time_format(1796086800, "Asia/Shanghai");
	assert_string_equal(s, "2026-12-01T09:00:00+08:00");
	free(s);
	s = time_format(1796086800, "UTC");
	assert_string_equal(s, "2026-12-01T01:00:00Z");
	free(s);
	s = time_format(1796086800, "America/New_York");
	assert_string_equal(s, "2026-11-30T20:00:00-05:00");
	free(s);
	/* Berlin in summer: +02:00. */
	s = time_format(1780300800, "Europe/Berlin");
	assert_string_equal(s, "2026-06-01T10:00:00+02:00");
	free(s);
}

static void
local_to_utc(void **state)
{
	time_t	t;

	assert_int_equal(tz_local_to_utc("Asia/Shanghai", 2026, 12, 1, 9, 0,
	    &t), 0);
	assert_int_equal(t, 1796086800);
	assert_int_equal(tz_local_to_utc("Asia/Shanghai", 2026, 12, 1, 0, 0,
	    &t), 0);
	assert_int_equal(t, 1796054400);	/* 16:00 UTC the day before */
	assert_int_equal(tz_local_to_utc("Asia/Shanghai", 2026, 2, 29, 9, 0,
	    &t), -1);
	assert_int_equal(tz_offset("Asia/Shanghai", 0), 8 * 3600);
}

static void
durations(void **state)
{
	long	d;

	assert_int_equal(duration_parse("PT2H", &d), 0);
	assert_int_equal(d, 7200);
	assert_int_equal(duration_parse("PT90M", &d), 0);
	assert_int_equal(d, 5400);
	assert_int_equal(duration_parse("PT1H30M", &d), 0);
	assert_int_equal(d, 5400);
	assert_int_equal(duration_parse("P1DT2H", &d), 0);
	assert_int_equal(d, 93600);
	assert_int_equal(duration_parse("P1D", &d), 0);
	assert_int_equal(d, 86400);
	assert_int_equal(duration_parse("PT0H", &d), -1);
	assert_int_equal(duration_parse("P2H", &d), -1);
	assert_int_equal(duration_parse("PT", &d), -1);
	assert_int_equal(duration_parse("2h", &d), -1);
	assert_int_equal(duration_parse("PT-1H", &d), -1);
	assert_int_equal(duration_parse("P1W", &d), -1);
	assert_int_equal(duration_parse("PT1HT2M", &d), -1);
	assert_int_equal(duration_parse("PT99999999H", &d), -1);
}

static void
zones(void **state)
{
	char	*c;

	assert_true(tz_known("Asia/Shanghai"));
	assert_true(tz_known("UTC"));
	assert_false(tz_known("Mars/Olympus"));
	assert_false(tz_known("../../etc/passwd"));
	c = tz_canonical("Asia/Chongqing");
	assert_non_null(c);
	assert_string_equal(c, "Asia/Shanghai");
	free(c);
	c = tz_canonical("Asia/Shanghai");
	assert_string_equal(c, "Asia/Shanghai");
	free(c);
	assert_null(tz_canonical("Nowhere/Town"));
	assert_int_equal(days_in_month(2024, 2), 29);
	assert_int_equal(days_in_month(2100, 2), 28);
	assert_int_equal(days_in_month(2000, 2), 29);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_ok),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test(format_zone),
		cmocka_unit_test(local_to_utc),
		cmocka_unit_test(durations),
		cmocka_unit_test(zones),
	};
	int	rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	icaltimezone_free_builtin_timezones();
	return (rc);
}
