/*
 * fuzz-timeparse.c: libFuzzer target for the client's friendly time and
 * duration parser (client/timeparse.c): "tomorrow 9:00", "mon 14:00",
 * "2026-12-01 09:00", offsets, "1h30m".  What parses must be a time
 * between 1970 and 9999 (the client refuses earlier dates; the API takes
 * none) and a positive duration; nothing may read out of bounds or leak.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yiqi.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const zones[] = { "Asia/Shanghai", "UTC",
	    "America/New_York" };
	char	*s, *cause = NULL;
	time_t	 t;
	long	 d;

	if (size > 256)
		return (0);
	if ((s = strndup((const char *)data, size)) == NULL)
		return (0);
	if (timeparse(s, zones[size % 3], 1796086800, &t, &cause) == 0 &&
	    (t < 0 || t > 253402300800LL))
		abort();
	free(cause);
	cause = NULL;
	if (durparse(s, &d, &cause) == 0 && d <= 0)
		abort();
	free(cause);
	free(s);
	return (0);
}
