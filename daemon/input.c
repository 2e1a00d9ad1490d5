/*
 * input.c: checking what a request brings.  Each in_* helper takes one
 * field of a JSON body; when the field is wrong it answers 400 naming the
 * field and returns -1, so a handler only writes
 *	if (in_time(r, body, "start", 1, &start) == -1) return;
 * Absent optional fields leave the output untouched and return 0; present
 * ones return 1.  Strings returned are borrowed from the JSON body.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

static int
bad_field(struct req *r, const char *field, const char *fmt, const char *arg)
{
	char	*msg;

	xasprintf(&msg, fmt, field, arg);
	api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
	    field), "%s", msg);
	free(msg);
	return (-1);
}

/* Is s valid UTF-8 text of at most TEXT_MAX bytes without NUL or C0 controls
 * (tab and newline allowed)? */
int
text_ok(const char *s)
{
	json_t		*j;
	const char	*p;

	if (strlen(s) > TEXT_MAX)
		return (0);
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n')
			return (0);
		if (*p == 0x7f)
			return (0);
	}
	if ((j = json_string(s)) == NULL)	/* jansson checks UTF-8 */
		return (0);
	json_decref(j);
	return (1);
}

/* Refuse any member of obj not named in allowed (NULL-terminated). */
int
in_fields(struct req *r, json_t *obj, const char *const *allowed)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach(obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(key, allowed[i]) == 0)
				break;
		}
		if (allowed[i] == NULL)
			return (bad_field(r, key, "unknown field \"%s\"", NULL));
	}
	return (0);
}

/* Take a string field (text rules of text_ok). */
int
in_string(struct req *r, json_t *obj, const char *key, int required,
    const char **out)
{
	json_t	*v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v)) {
		if (required)
			return (bad_field(r, key, "%s is required", NULL));
		return (0);
	}
	if (!json_is_string(v))
		return (bad_field(r, key, "%s must be a string", NULL));
	if (json_string_length(v) > TEXT_MAX)
		return (bad_field(r, key, "%s is longer than 4096 bytes", NULL));
	if (!text_ok(json_string_value(v)))
		return (bad_field(r, key, "%s holds control characters", NULL));
	*out = json_string_value(v);
	return (1);
}

/* Take a boolean field. */
int
in_bool(struct req *r, json_t *obj, const char *key, int *out)
{
	json_t	*v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_boolean(v))
		return (bad_field(r, key, "%s must be true or false", NULL));
	*out = json_is_true(v);
	return (1);
}

/* Take an integer field within [min, max]. */
int
in_int(struct req *r, json_t *obj, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	json_t	*v = json_object_get(obj, key);
	char	 range[64];

	if (v == NULL || json_is_null(v))
		return (0);
	snprintf(range, sizeof range, "%lld to %lld", (long long)min,
	    (long long)max);
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return (bad_field(r, key, "%s must be an integer from %s", range));
	*out = json_integer_value(v);
	return (1);
}

/* Take an RFC 3339 time field (with an offset). */
int
in_time(struct req *r, json_t *obj, const char *key, int required, time_t *out)
{
	json_t	*v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v)) {
		if (required)
			return (bad_field(r, key, "%s is required", NULL));
		return (0);
	}
	if (!json_is_string(v) || time_parse(json_string_value(v), out) == -1)
		return (bad_field(r, key, "%s must be a valid RFC 3339 time with "
		    "an offset, e.g. 2026-12-01T09:00:00+08:00", NULL));
	return (1);
}

/* Take an ISO 8601 duration field (PT2H). */
int
in_duration(struct req *r, json_t *obj, const char *key, long *out)
{
	json_t	*v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_string(v) || duration_parse(json_string_value(v), out) == -1)
		return (bad_field(r, key, "%s must be an ISO 8601 duration such "
		    "as PT2H or PT90M", NULL));
	return (1);
}

/* Take an array of code strings (borrowed). */
int
in_code_list(struct req *r, json_t *obj, const char *key, json_t **out)
{
	json_t	*v = json_object_get(obj, key), *e;
	size_t	 i;

	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_array(v) || json_array_size(v) > 10000)
		return (bad_field(r, key, "%s must be a list of codes", NULL));
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || json_string_length(e) == 0 ||
		    json_string_length(e) > 64)
			return (bad_field(r, key, "%s must be a list of codes",
			    NULL));
	}
	*out = v;
	return (1);
}

/* Take a time from the query string; 1 if present, 0 if not, -1 if bad. */
int
q_time(struct req *r, const char *name, time_t *out)
{
	const char	*v = req_query(r, name);

	if (v == NULL || *v == '\0')
		return (0);
	if (time_parse(v, out) == -1)
		return (bad_field(r, name, "%s must be a valid RFC 3339 time with "
		    "an offset, e.g. 2026-12-01T09:00:00+08:00 (write + as %%2B)",
		    NULL));
	return (1);
}

static int
q_number(struct req *r, const char *name, int64_t min, int64_t max,
    int64_t *out)
{
	const char	*v = req_query(r, name);
	char		*end;
	long long	 n;

	if (v == NULL || *v == '\0')
		return (0);
	n = strtoll(v, &end, 10);
	if (*end != '\0' || n < min || n > max)
		return (bad_field(r, name, "%s is out of range", NULL));
	*out = n;
	return (1);
}

/* Take limit (1..1000, default 100) and offset (default 0). */
int
q_limit(struct req *r, int64_t *limit, int64_t *offset)
{
	*limit = LIST_LIMIT_DEFAULT;
	*offset = 0;
	if (q_number(r, "limit", 1, LIST_LIMIT_MAX, limit) == -1 ||
	    q_number(r, "offset", 0, INT64_MAX / 2, offset) == -1)
		return (-1);
	return (0);
}
