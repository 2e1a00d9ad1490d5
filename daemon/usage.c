/*
 * usage.c: the usage type of a booking (research, teaching, service,
 * open), as evaluations of open sharing split machine hours.  The names
 * are in the order reports list them; schema/0006-reports2.sql holds the
 * same list in a CHECK.  usage_type_take() reads one from a request body.
 */

#include "config.h"

#include <string.h>

#include "yiqid.h"

/* The usage types, in report order; NULL-terminated. */
const char *const usage_types[USAGE_TYPES + 1] = {
	"research", "teaching", "service", "open", NULL
};

/* The index of usage type s, or -1 if it is not one. */
int
usage_type_index(const char *s)
{
	int	i;

	for (i = 0; i < USAGE_TYPES; i++) {
		if (strcmp(usage_types[i], s) == 0)
			return (i);
	}
	return (-1);
}

/*
 * Read the optional "usage_type" of body into *out (borrowed from body).
 * Returns 1 if given, 0 if absent, -1 after answering 400.
 */
int
usage_type_take(struct req *r, json_t *body, const char **out)
{
	const char	*s = NULL;
	int		 rc;

	if ((rc = in_string(r, body, "usage_type", 0, &s)) != 1)
		return (rc);
	if (usage_type_index(s) == -1) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "usage_type"), "usage_type must be research, teaching, "
		    "service or open");
		return (-1);
	}
	*out = s;
	return (1);
}
