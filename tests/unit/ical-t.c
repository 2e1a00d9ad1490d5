/*
 * ical-t.c: unit tests of daemon/ical.c: text cleaning, zoned times that
 * carry a TZID and the zone's wall clock (not a "Z"), one VTIMEZONE per
 * zone named by its IANA name, CRLF, and folding at 75 octets that never
 * cuts a UTF-8 character whatever the offset of the multi-byte text.
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
clean(void **state)
{
	char	*s;

	s = ical_clean("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\xc2\x85" "d\ve\ff\rg\n"
	    "仪器");
	assert_string_equal(s, "a b c d e fg\n仪器");
	free(s);
}

/* Is every line CRLF-terminated, at most 75 octets, valid UTF-8 alone? */
static void
check_lines(const char *text)
{
	const char	*p = text, *e;
	size_t		 n, i;
	unsigned char	 c;

	while (*p != '\0') {
		e = strstr(p, "\r\n");
		assert_non_null(e);
		n = e - p;
		assert_true(n <= 75);
		assert_null(memchr(p, '\n', n));
		/* The line neither starts nor ends inside a character. */
		if (n > 0) {
			c = p[0];
			assert_false((c & 0xc0) == 0x80);
			for (i = n; i > 0 && (p[i - 1] & 0xc0) == 0x80; i--)
				;
			if (i > 0 && ((unsigned char)p[i - 1] & 0x80)) {
				c = p[i - 1];
				assert_int_equal(n - i + 1, (c & 0xf0) == 0xe0 ?
				    3 : (c & 0xe0) == 0xc0 ? 2 : 4);
			}
		}
		p = e + 2;
	}
}

static void
fold_and_zone(void **state)
{
	struct ical_event	 e;
	struct ical		*ic;
	char			 summary[600], *text;
	size_t			 len, pad;

	for (pad = 0; pad < 4; pad++) {
		memset(summary, 'x', pad);
		summary[pad] = '\0';
		strcat(summary, "测试样品分析测试样品分析测试样品分析测试样品分析"
		    "测试样品分析测试样品分析测试样品分析测试样品分析 痕量金属");
		memset(&e, 0, sizeof e);
		e.uid = "u1@yiqi";
		e.start = 1796086800;		/* 2026-12-01 09:00 +08:00 */
		e.end = 1796094000;
		e.zone = "Asia/Shanghai";
		e.summary = summary;
		e.description = summary;
		e.stamp = 1796000000;
		ic = ical_new("测试 calendar", "Asia/Shanghai", 60);
		ical_event(ic, &e);
		e.uid = "u2@yiqi";
		e.zone = "Europe/Berlin";
		ical_event(ic, &e);
		text = ical_finish(ic, &len);
		assert_int_equal(strlen(text), len);
		check_lines(text);
		assert_non_null(strstr(text,
		    "DTSTART;TZID=Asia/Shanghai:20261201T090000\r\n"));
		assert_non_null(strstr(text,
		    "DTSTART;TZID=Europe/Berlin:20261201T020000\r\n"));
		assert_non_null(strstr(text, "TZID:Asia/Shanghai\r\n"));
		assert_non_null(strstr(text, "TZID:Europe/Berlin\r\n"));
		assert_null(strstr(text, "freeassociation"));
		assert_non_null(strstr(text, "DTSTAMP:20261130T005320Z\r\n"));
		assert_non_null(strstr(text, "REFRESH-INTERVAL;VALUE=DURATION:"
		    "PT1H\r\n"));
		/* The zones come before the events. */
		assert_true(strstr(text, "BEGIN:VTIMEZONE") <
		    strstr(text, "BEGIN:VEVENT"));
		free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean),
		cmocka_unit_test(fold_and_zone),
	};
	int	rc;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	icaltimezone_free_builtin_timezones();
	return (rc);
}
