/*
 * fuzz-time.c: libFuzzer target for the daemon's text parsers that need
 * no server: RFC 3339 times, ISO 8601 durations and opening hours, and
 * the rule checks and slot search fed with what they produce.  A parsed
 * time is formatted and parsed again and must come back the same.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "yiqid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules	 r;
	struct span	 slot, busy = { 1800000000, 1800003600 };
	char		*s, *cause = NULL, *back;
	time_t		 t, t2;
	long		 d;

	if (size > 4096)
		return (0);
	s = xstrndup((const char *)data, size);
	if (time_parse(s, &t) == 0) {
		back = time_format(t, "Asia/Shanghai");
		if (time_parse(back, &t2) != 0 || t2 != t)
			abort();
		free(back);
	}
	if (duration_parse(s, &d) == 0 && (d <= 0 || d > 366L * 86400))
		abort();
	rules_defaults(&r);
	if (hours_parse(s, &r.hours, &cause) == 0) {
		(void)rules_check(&r, "Asia/Shanghai", 1790000000, 1790006400,
		    1790010000, &cause);
		free(cause);
		cause = NULL;
		if (find_slot(&r, "Asia/Shanghai", 1790000000, 3600, &busy, 1,
		    1790000000, 1790000000 + 90 * 86400L, &slot) == 0 &&
		    !hours_contains(&r.hours, "Asia/Shanghai", slot.start,
		    slot.end))
			abort();
	}
	free(cause);
	free(s);
	return (0);
}
