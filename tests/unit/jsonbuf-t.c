/*
 * jsonbuf-t.c: unit tests of daemon/jsonbuf.c and time_format_r(): what
 * the direct writer produces must be byte for byte what jansson's
 * json_dumps() and the strftime-based formatter it replaced produce, for
 * every byte that can occur in a string and for times across DST changes
 * (tz_offset() included: it no longer goes through gmtime_r).
 */

#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <libical/ical.h>

#include "yiqid.h"

/* jansson's text of a string (or null), compact, as api_reply() writes it. */
static char *
jansson_text(const char *s)
{
	json_t	*a = json_array();
	char	*out;
	size_t	 n;

	json_array_append_new(a, s != NULL ? json_string(s) : json_null());
	if (json_array_size(a) == 0)	/* refused: not UTF-8 */
		json_array_append_new(a, json_null());
	out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	n = strlen(out);	/* strip the [ ] */
	memmove(out, out + 1, n - 2);
	out[n - 2] = '\0';
	return (out);
}

static void
check_str(const char *s)
{
	struct jsonbuf	 jb = { NULL, 0, 0 };
	char		*want = jansson_text(s);

	jb_str(&jb, s);
	jb_raw(&jb, "", 1);
	if (strcmp(jb.p, want) != 0)
		fail_msg("jb_str wrote %s, jansson %s", jb.p, want);
	free(want);
	jb_free(&jb);
}

static void
strings_as_jansson(void **state)
{
	static const char *const fixed[] = {
		"", "plain", "Institute 1", "quote \" back \\ slash /",
		"tab\tnl\ncr\rbs\bff\f", "\x01\x1f\x7f", "\xc3\xa9t\xc3\xa9",
		"\xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x94\xac", "\xc3",
		"\xc3\x28", "\xe4\xb8", "\xed\xa0\x80", "\xc0\x80",
		"\xf4\x90\x80\x80", "\xff", "end\xe4", NULL
	};
	char	one[4];
	int	i, c;

	for (i = 0; fixed[i] != NULL; i++)
		check_str(fixed[i]);
	check_str(NULL);
	for (c = 1; c < 256; c++) {	/* every byte alone and in context */
		one[0] = (char)c;
		one[1] = '\0';
		check_str(one);
		one[0] = 'a';
		one[1] = (char)c;
		one[2] = 'b';
		one[3] = '\0';
		check_str(one);
	}
}

static void
ints(void **state)
{
	static const int64_t	v[] = { 0, 1, -1, 9, 10, 16802, -42,
		INT64_MAX, INT64_MIN };
	struct jsonbuf		jb = { NULL, 0, 0 };
	char			want[32];
	size_t			i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		jb.len = 0;
		jb_int(&jb, v[i]);
		jb_raw(&jb, "", 1);
		snprintf(want, sizeof want, "%lld", (long long)v[i]);
		assert_string_equal(jb.p, want);
	}
	jb_free(&jb);
}

/* The offset as tz_offset() computed it before: through gmtime_r. */
static int
old_offset(const char *zone, time_t t)
{
	struct icaltimetype	tt;
	int			dst;

	if (strcmp(zone, "UTC") == 0)
		return (0);
	tt = icaltime_from_timet_with_zone(t, 0,
	    icaltimezone_get_utc_timezone());
	return (icaltimezone_get_utc_offset_of_utc_time(
	    icaltimezone_get_builtin_timezone(zone), &tt, &dst));
}

/* The formatter time_format_r() replaced: gmtime_r and strftime. */
static void
old_format(time_t t, const char *zone, char *out, size_t len)
{
	struct tm	tm;
	time_t		local;
	char		buf[40];
	int		off, a;

	off = old_offset(zone, t);
	local = t + off;
	gmtime_r(&local, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (zone == NULL || strcmp(zone, "UTC") == 0) {
		snprintf(out, len, "%sZ", buf);
		return;
	}
	a = off < 0 ? -off : off;
	snprintf(out, len, "%s%c%02d:%02d", buf, off < 0 ? '-' : '+',
	    a / 3600, (a % 3600) / 60);
}

static void
times_as_before(void **state)
{
	static const char *const zones[] = { "UTC", "Asia/Shanghai",
		"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
		"Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", NULL };
	struct jsonbuf	 jb = { NULL, 0, 0 };
	char		 want[96], got[TIME_FORMAT_LEN], q[112];
	time_t		 t;
	size_t		 n;
	int		 i, k;

	srandom(6);
	for (i = 0; zones[i] != NULL; i++) {
		for (k = 0; k < 3000; k++) {
			/* 1970 .. 2100, and every 15 minutes of 2026. */
			t = k < 2000 ? (time_t)(random() % 4102444800L) :
			    1767225600 + (time_t)(k - 2000) * 900 * 35;
			old_format(t, zones[i], want, sizeof want);
			n = time_format_r(t, zones[i], got);
			assert_int_equal(n, strlen(want));
			if (strcmp(got, want) != 0)
				fail_msg("%lld in %s: %s, was %s",
				    (long long)t, zones[i], got, want);
			jb.len = 0;
			jb_time(&jb, t, zones[i]);
			jb_raw(&jb, "", 1);
			snprintf(q, sizeof q, "\"%s\"", want);
			assert_string_equal(jb.p, q);
		}
	}
	/* Before 1970, and years strftime writes unpadded. */
	for (t = -86400 * 400; t < 0; t += 86400 * 7 + 3601) {
		old_format(t, "Europe/Berlin", want, sizeof want);
		time_format_r(t, "Europe/Berlin", got);
		assert_string_equal(got, want);
	}
	t = -62135596800 - 86400;	/* year 0 */
	old_format(t, "UTC", want, sizeof want);
	time_format_r(t, "UTC", got);
	assert_string_equal(got, want);
	jb_free(&jb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strings_as_jansson),
		cmocka_unit_test(ints),
		cmocka_unit_test(times_as_before),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
