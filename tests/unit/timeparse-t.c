/*
 * timeparse-t.c: unit tests of client/timeparse.c with cmocka.
 *
 * The current time and the zone are pinned in every case, so the results do
 * not depend on when or where the test runs.  Expected instants are written
 * as UTC calendar times and turned into time_t with timegm().  With
 * CMOCKA_MESSAGE_OUTPUT=TAP in the environment the output is TAP.
 */

#include "yiqi.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SHANGHAI	"Asia/Shanghai"
#define NEW_YORK	"America/New_York"

/* An instant given as a UTC calendar time. */
static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm	tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (timegm(&tm));
}

/* Parse text, expecting success and the instant want. */
static void
parses(const char *text, const char *zone, time_t now, time_t want)
{
	time_t	 t = 0;
	char	*cause = NULL;
	int	 rc;

	rc = timeparse(text, zone, now, &t, &cause);
	if (rc != 0)
		print_error("'%s' failed: %s\n", text, cause);
	assert_int_equal(rc, 0);
	assert_null(cause);
	if (t != want)
		print_error("'%s': got %lld, want %lld\n", text,
		    (long long)t, (long long)want);
	assert_true(t == want);
}

/* Parse text, expecting a refusal whose sentence contains part. */
static void
refuses(const char *text, const char *zone, const char *part)
{
	time_t	 t = 0;
	char	*cause = NULL;

	assert_int_equal(timeparse(text, zone, utc(2026, 11, 30, 2, 0), &t,
	    &cause), -1);
	assert_non_null(cause);
	if (part != NULL && strstr(cause, part) == NULL)
		print_error("'%s': '%s' lacks '%s'\n", text, cause, part);
	if (part != NULL)
		assert_non_null(strstr(cause, part));
	free(cause);
}

static void
dur_ok(const char *text, long want)
{
	long	 secs = 0;
	char	*cause = NULL;

	assert_int_equal(durparse(text, &secs, &cause), 0);
	assert_null(cause);
	assert_int_equal(secs, want);
}

static void
dur_bad(const char *text)
{
	long	 secs = 0;
	char	*cause = NULL;

	if (durparse(text, &secs, &cause) == 0)
		print_error("'%s' was accepted as %ld\n", text, secs);
	assert_non_null(cause);
	free(cause);
}

static void
test_offsets(void **state)
{
	time_t	now = utc(2026, 11, 30, 2, 0);
	time_t	want = utc(2026, 12, 1, 1, 0);

	(void)state;
	parses("2026-12-01T09:00+08:00", NEW_YORK, now, want);
	parses("2026-12-01T09:00:00+08:00", NEW_YORK, now, want);
	parses("2026-12-01T09:00:00.250+08:00", NEW_YORK, now, want);
	parses("2026-12-01T01:00Z", SHANGHAI, now, want);
	parses("2026-12-01T01:00:00Z", SHANGHAI, now, want);
	parses("2026-12-01t01:00z", SHANGHAI, now, want);
	parses("2026-11-30T20:00-05:00", SHANGHAI, now, want);
	parses("2026-12-01T09:00+0800", SHANGHAI, now, want);
	parses("now", SHANGHAI, now, now);
	parses("  NOW ", SHANGHAI, now, now);
}

static void
test_local(void **state)
{
	time_t	now = utc(2026, 11, 30, 2, 0);
	time_t	want = utc(2026, 12, 1, 1, 0);

	(void)state;
	parses("2026-12-01 09:00", SHANGHAI, now, want);
	parses("2026-12-01T09:00", SHANGHAI, now, want);
	parses("2026-12-01T09:00:00", SHANGHAI, now, want);
	parses("2026-12-01 9:00", SHANGHAI, now, want);
	parses("2026-12-01", SHANGHAI, now, utc(2026, 11, 30, 16, 0));
	parses("2026-12-01 09:00", "UTC", now, utc(2026, 12, 1, 9, 0));
	/* New York: EST in winter, EDT in summer. */
	parses("2026-12-01 09:00", NEW_YORK, now, utc(2026, 12, 1, 14, 0));
	parses("2026-07-01 09:00", NEW_YORK, now, utc(2026, 7, 1, 13, 0));
	/* The hour skipped when the clocks go forward does not exist. */
	refuses("2026-03-08 02:30", NEW_YORK, "does not exist");
}

static void
test_relative(void **state)
{
	/* Monday 2026-11-30 10:00 in Shanghai. */
	time_t	now = utc(2026, 11, 30, 2, 0);

	(void)state;
	parses("today 14:00", SHANGHAI, now, utc(2026, 11, 30, 6, 0));
	parses("today 9:00", SHANGHAI, now, utc(2026, 11, 30, 1, 0));
	parses("Today  14:00", SHANGHAI, now, utc(2026, 11, 30, 6, 0));
	parses("tomorrow 9:00", SHANGHAI, now, utc(2026, 12, 1, 1, 0));
	parses("yesterday 9:00", SHANGHAI, now, utc(2026, 11, 29, 1, 0));
	parses("today", SHANGHAI, now, utc(2026, 11, 29, 16, 0));
	/* Across a month and a year boundary. */
	parses("tomorrow 9:00", SHANGHAI, utc(2026, 12, 31, 10, 0),
	    utc(2027, 1, 1, 1, 0));
	/* The same instant is still Monday in UTC but Tuesday here. */
	now = utc(2026, 11, 30, 20, 0);
	parses("today 9:00", SHANGHAI, now, utc(2026, 12, 1, 1, 0));
	parses("today 9:00", "UTC", now, utc(2026, 11, 30, 9, 0));
	parses("tomorrow 9:00", NEW_YORK, now, utc(2026, 12, 1, 14, 0));
}

static void
test_weekdays(void **state)
{
	/* Monday 2026-11-30 10:00 in Shanghai. */
	time_t	now = utc(2026, 11, 30, 2, 0);
	time_t	sat = utc(2026, 12, 5, 2, 0);

	(void)state;
	/* Monday before the time: today; after it: next week. */
	parses("mon 11:00", SHANGHAI, now, utc(2026, 11, 30, 3, 0));
	parses("mon 9:00", SHANGHAI, now, utc(2026, 12, 7, 1, 0));
	parses("mon 10:00", SHANGHAI, now, utc(2026, 12, 7, 2, 0));
	parses("Monday 9:00", SHANGHAI, now, utc(2026, 12, 7, 1, 0));
	parses("tue 9:00", SHANGHAI, now, utc(2026, 12, 1, 1, 0));
	parses("wed 9:00", SHANGHAI, now, utc(2026, 12, 2, 1, 0));
	parses("thu 9:00", SHANGHAI, now, utc(2026, 12, 3, 1, 0));
	parses("fri 9:00", SHANGHAI, now, utc(2026, 12, 4, 1, 0));
	parses("sat 9:00", SHANGHAI, now, utc(2026, 12, 5, 1, 0));
	parses("sun 9:00", SHANGHAI, now, utc(2026, 12, 6, 1, 0));
	/* From a Saturday, across the week boundary. */
	parses("sun 9:00", SHANGHAI, sat, utc(2026, 12, 6, 1, 0));
	parses("mon 9:00", SHANGHAI, sat, utc(2026, 12, 7, 1, 0));
	parses("tue 9:00", SHANGHAI, sat, utc(2026, 12, 8, 1, 0));
	parses("sat 9:00", SHANGHAI, sat, utc(2026, 12, 12, 1, 0));
	parses("sat 11:00", SHANGHAI, sat, utc(2026, 12, 5, 3, 0));
	/* Monday in New York while it is Monday night there. */
	parses("mon 23:00", NEW_YORK, now, utc(2026, 11, 30, 4, 0) +
	    86400);
}

static void
test_impossible(void **state)
{
	time_t	now = utc(2026, 11, 30, 2, 0);

	(void)state;
	parses("2028-02-29 09:00", SHANGHAI, now, utc(2028, 2, 29, 1, 0));
	parses("2000-02-29 09:00", "UTC", now, utc(2000, 2, 29, 9, 0));
	refuses("2027-02-29 09:00", SHANGHAI, "February 2027 has 28 days");
	refuses("2100-02-29 09:00", SHANGHAI, "has 28 days");
	refuses("2026-02-30 09:00", SHANGHAI, "has 28 days");
	refuses("2026-04-31 09:00", SHANGHAI, "April 2026 has 30 days");
	refuses("2026-13-01 09:00", SHANGHAI, "months run");
	refuses("2026-00-10 09:00", SHANGHAI, "months run");
	refuses("2026-12-00 09:00", SHANGHAI, "has 31 days");
	refuses("2026-12-01 24:00", SHANGHAI, "hours run");
	refuses("2026-12-01 25:00", SHANGHAI, "hours run");
	refuses("2026-12-01T25:00+08:00", SHANGHAI, "hours run");
	refuses("today 24:00", SHANGHAI, "hours run");
	refuses("2026-12-01 09:60", SHANGHAI, "minutes");
	refuses("tomorrow 9:99", SHANGHAI, "minutes");
	/* Found by fuzz-timeparse: years before 1970 came back negative. */
	refuses("1013-12-01T09:08:00", SHANGHAI, "too long ago");
	refuses("0000-11-02T09:00:00", "UTC", "too long ago");
	parses("1970-01-01 08:00", SHANGHAI, now, 0);
}

static void
test_garbage(void **state)
{
	(void)state;
	refuses("", SHANGHAI, "cannot read");
	refuses("soon", SHANGHAI, "cannot read");
	refuses("2026-12-1 09:00", SHANGHAI, "cannot read");
	refuses("2026-12-01 9", SHANGHAI, "cannot read");
	refuses("2026-12-01T", SHANGHAI, "cannot read");
	refuses("2026-12-01 09:00 extra", SHANGHAI, "cannot read");
	refuses("2026-12-01T09:00+8", SHANGHAI, "cannot read");
	refuses("2026-12-01T09:00+25:00", SHANGHAI, "cannot read");
	refuses("mon9", SHANGHAI, "cannot read");
	refuses("tomorrow at 9", SHANGHAI, "cannot read");
	refuses("now 9:00", SHANGHAI, "cannot read");
	refuses("2026-12-01 09:00", "Mars/Olympus", "not a time zone");
	refuses("2026-12-01 09:00", "../etc/passwd", "not a time zone");
}

static void
test_zone_restored(void **state)
{
	time_t	 t;
	char	*cause = NULL, buf[64];

	(void)state;
	setenv("TZ", "Europe/Paris", 1);
	assert_int_equal(timeparse("2026-12-01 09:00", SHANGHAI,
	    utc(2026, 11, 30, 2, 0), &t, &cause), 0);
	assert_string_equal(getenv("TZ"), "Europe/Paris");
	assert_int_equal(timefmt(t, NEW_YORK, buf, sizeof buf, &cause), 0);
	assert_string_equal(getenv("TZ"), "Europe/Paris");
	unsetenv("TZ");
	assert_int_equal(timeparse("tomorrow 9:00", SHANGHAI,
	    utc(2026, 11, 30, 2, 0), &t, &cause), 0);
	assert_null(getenv("TZ"));
}

static void
test_zoned(void **state)
{
	(void)state;
	assert_int_equal(timeparse_zoned("2026-12-01 09:00"), 1);
	assert_int_equal(timeparse_zoned("mon 9:00"), 1);
	assert_int_equal(timeparse_zoned("today 9:00"), 1);
	assert_int_equal(timeparse_zoned("2026-12-01T09:00+08:00"), 0);
	assert_int_equal(timeparse_zoned("2026-12-01T09:00Z"), 0);
	assert_int_equal(timeparse_zoned("now"), 0);
	assert_int_equal(timeparse_zoned("junk"), 0);
}

static void
test_timefmt(void **state)
{
	char	buf[64], *cause = NULL;
	time_t	t = utc(2026, 12, 1, 1, 0);

	(void)state;
	assert_int_equal(timefmt(t, SHANGHAI, buf, sizeof buf, &cause), 0);
	assert_string_equal(buf, "2026-12-01T09:00:00+08:00");
	assert_int_equal(timefmt(t, "UTC", buf, sizeof buf, &cause), 0);
	assert_string_equal(buf, "2026-12-01T01:00:00Z");
	assert_int_equal(timefmt(t, NEW_YORK, buf, sizeof buf, &cause), 0);
	assert_string_equal(buf, "2026-11-30T20:00:00-05:00");
	assert_int_equal(timefmt(utc(2026, 7, 1, 13, 0), NEW_YORK, buf,
	    sizeof buf, &cause), 0);
	assert_string_equal(buf, "2026-07-01T09:00:00-04:00");
	assert_int_equal(timefmt(t, "Nowhere/Zone", buf, sizeof buf, &cause),
	    -1);
	assert_non_null(cause);
	free(cause);
}

static void
test_durations(void **state)
{
	char	buf[32];

	(void)state;
	dur_ok("90m", 5400);
	dur_ok("2h", 7200);
	dur_ok("1h30m", 5400);
	dur_ok("1H30M", 5400);
	dur_ok("45min", 2700);
	dur_ok("1d", 86400);
	dur_ok("30s", 30);
	dur_ok(" 2h ", 7200);
	dur_ok("PT2H", 7200);
	dur_ok("PT90M", 5400);
	dur_ok("PT1H30M", 5400);
	dur_ok("pt1h30m", 5400);
	dur_ok("P1D", 86400);
	dur_ok("P1DT2H", 93600);
	dur_ok("P1W", 604800);

	dur_bad("");
	dur_bad("90");
	dur_bad("m");
	dur_bad("h2");
	dur_bad("2h2h");
	dur_bad("30m1h");
	dur_bad("1.5h");
	dur_bad("-1h");
	dur_bad("0m");
	dur_bad("2x");
	dur_bad("2 h");
	dur_bad("P");
	dur_bad("PT");
	dur_bad("P2H");
	dur_bad("PT2D");
	dur_bad("PT1M2H");
	dur_bad("9999999999h");
	dur_bad("400d");

	durfmt(5400, buf, sizeof buf);
	assert_string_equal(buf, "PT1H30M");
	durfmt(7200, buf, sizeof buf);
	assert_string_equal(buf, "PT2H");
	durfmt(1800, buf, sizeof buf);
	assert_string_equal(buf, "PT30M");
	durfmt(90061, buf, sizeof buf);
	assert_string_equal(buf, "PT25H1M1S");
}

/* Run every case; cmocka prints TAP with CMOCKA_MESSAGE_OUTPUT=TAP. */
int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_weekdays),
		cmocka_unit_test(test_impossible),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_zone_restored),
		cmocka_unit_test(test_zoned),
		cmocka_unit_test(test_timefmt),
		cmocka_unit_test(test_durations),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
