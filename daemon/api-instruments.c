/*
 * api-instruments.c: the instrument resource (SPEC §3): list and search,
 * read, create and change.
 *
 * Every column an instrument has is described once, in ifields[] below:
 * its name, type, range and default, and whether it is a booking rule
 * (nested under "rules" in JSON, a plain column in CSV) and whether a
 * manager of the instrument may change it.  instrument_apply() checks a
 * set of fields against that table and writes the row with its audit
 * record inside the caller's transaction; the JSON routes and the CSV
 * import (api-import.c) both go through it, so they accept exactly the
 * same things.  instrument_json() writes the same table back out.
 */

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yiqid.h"

#define RATE_MAX	100000000LL	/* fen per hour: 1 000 000 CNY */
#define VALUE_MAX	10000000000000LL /* fen: 100 000 000 000 CNY */

enum ifield_type {
	IF_CODE,
	IF_NAME,	/* text that must not be empty */
	IF_TEXT,
	IF_SITE,
	IF_OWNER,
	IF_STATUS,
	IF_INT,
	IF_BOOL,
	IF_HOURS,
	IF_DATE,		/* YYYY-MM-DD, or '' */
	IF_SCOPE	/* priority_scope: institute or district */
};

/* One column of an instrument. */
struct ifield {
	const char		*name;
	enum ifield_type	 type;
	int			 rule;	/* a member of "rules" */
	int			 manager; /* a manager may change it */
	int64_t			 min;
	int64_t			 max;
	int64_t			 defn;	/* default of numbers */
	const char		*defs;	/* default of text, or NULL */
};

/* The columns, in table (and CSV documentation) order; see enum below. */
static const struct ifield ifields[] = {
	{ "code", IF_CODE, 0, 0, 0, 0, 0, NULL },
	{ "name", IF_NAME, 0, 0, 0, 0, 0, NULL },
	{ "category", IF_TEXT, 0, 0, 0, 0, 0, "" },
	{ "manufacturer", IF_TEXT, 0, 0, 0, 0, 0, "" },
	{ "model", IF_TEXT, 0, 0, 0, 0, 0, "" },
	{ "site", IF_SITE, 0, 0, 0, 0, 0, NULL },
	{ "room", IF_TEXT, 0, 1, 0, 0, 0, "" },
	{ "owner", IF_OWNER, 0, 0, 0, 0, 0, NULL },
	{ "status", IF_STATUS, 0, 1, 0, 0, 0, "active" },
	{ "description", IF_TEXT, 0, 1, 0, 0, 0, "" },
	{ "granularity_min", IF_INT, 1, 1, 1, 1440, 30, NULL },
	{ "min_duration_min", IF_INT, 1, 1, 1, 10080, 30, NULL },
	{ "max_duration_min", IF_INT, 1, 1, 1, 10080, 480, NULL },
	{ "advance_days", IF_INT, 1, 1, 0, 3650, 90, NULL },
	{ "buffer_min", IF_INT, 1, 1, 0, 1440, 0, NULL },
	{ "opening_hours", IF_HOURS, 1, 1, 0, 0, 0, "24/7" },
	{ "requires_approval", IF_BOOL, 1, 1, 0, 1, 0, NULL },
	{ "requires_qualification", IF_BOOL, 1, 1, 0, 1, 0, NULL },
	{ "rate_internal", IF_INT, 1, 1, 0, RATE_MAX, 0, NULL },
	{ "rate_external", IF_INT, 1, 1, 0, RATE_MAX, 0, NULL },
	{ "purchase_value", IF_INT, 0, 0, 0, VALUE_MAX, 0, NULL },
	{ "acquisition_date", IF_DATE, 0, 0, 0, 0, 0, "" },
	{ "classification_code", IF_TEXT, 0, 0, 0, 0, 0, "" },
	{ "responsible_person", IF_TEXT, 0, 0, 0, 0, 0, "" },
	{ "priority_days", IF_INT, 1, 1, 0, 3650, 0, NULL },
	{ "priority_scope", IF_SCOPE, 1, 1, 0, 0, 0, "institute" },
};
#define NIFIELDS	((int)(sizeof ifields / sizeof ifields[0]))

/* Indexes into ifields[] that the code needs by name. */
enum {
	F_CODE = 0,
	F_NAME = 1,
	F_SITE = 5,
	F_OWNER = 7,
	F_MIN_DURATION = 11,
	F_MAX_DURATION = 12
};

/* A value of one column: text, or a number (a row id for site/owner). */
struct ival {
	char	*s;
	int64_t	 n;
	int	 set;
};

static const char *const statuses[] = {
	"active", "maintenance", "retired", NULL
};

static void	instruments_list(struct req *);
static void	instruments_get(struct req *);
static void	instruments_create(struct req *);
static void	instruments_patch(struct req *);

const struct route api_instruments_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/instruments", 0, instruments_list },
	{ EVHTTP_REQ_POST, "/api/v1/instruments", R_ADMIN|R_JSON,
	    instruments_create },
	{ EVHTTP_REQ_GET, "/api/v1/instruments/*", 0, instruments_get },
	{ EVHTTP_REQ_PATCH, "/api/v1/instruments/*", R_JSON,
	    instruments_patch },
	{ 0, NULL, 0, NULL }
};

static const char *const q_load =
    "SELECT i.code, i.name, i.category, i.manufacturer, i.model, s.code, "
    "i.room, o.code, i.status, i.description, i.granularity_min, "
    "i.min_duration_min, i.max_duration_min, i.advance_days, i.buffer_min, "
    "i.opening_hours, i.requires_approval, i.requires_qualification, "
    "i.rate_internal, i.rate_external, i.purchase_value, "
    "i.acquisition_date, i.classification_code, i.responsible_person, "
    "i.priority_days, i.priority_scope, "
    "s.timezone, i.site_id, i.owner_id "
    "FROM instruments i JOIN sites s ON s.id = i.site_id "
    "JOIN institutes o ON o.id = i.owner_id WHERE i.id = :id";

static const char *const q_insert =
    "INSERT INTO instruments (code, name, category, manufacturer, model, "
    "site_id, room, owner_id, status, description, granularity_min, "
    "min_duration_min, max_duration_min, advance_days, buffer_min, "
    "opening_hours, requires_approval, requires_qualification, "
    "rate_internal, rate_external, purchase_value, acquisition_date, "
    "classification_code, responsible_person, priority_days, priority_scope, "
    "created, updated) VALUES "
    "(:code, :name, :category, :manufacturer, :model, :site, :room, :owner, "
    ":status, :description, :granularity_min, :min_duration_min, "
    ":max_duration_min, :advance_days, :buffer_min, :opening_hours, "
    ":requires_approval, :requires_qualification, :rate_internal, "
    ":rate_external, :purchase_value, :acquisition_date, "
    ":classification_code, :responsible_person, :priority_days, "
    ":priority_scope, :now, :now)";

static const char *const q_update =
    "UPDATE instruments SET code = :code, name = :name, category = :category, "
    "manufacturer = :manufacturer, model = :model, site_id = :site, "
    "room = :room, owner_id = :owner, status = :status, "
    "description = :description, granularity_min = :granularity_min, "
    "min_duration_min = :min_duration_min, "
    "max_duration_min = :max_duration_min, advance_days = :advance_days, "
    "buffer_min = :buffer_min, opening_hours = :opening_hours, "
    "requires_approval = :requires_approval, "
    "requires_qualification = :requires_qualification, "
    "rate_internal = :rate_internal, rate_external = :rate_external, "
    "purchase_value = :purchase_value, acquisition_date = :acquisition_date, "
    "classification_code = :classification_code, "
    "responsible_person = :responsible_person, "
    "priority_days = :priority_days, priority_scope = :priority_scope, "
    "updated = :now WHERE id = :id";

static int
numeric(const struct ifield *f)
{
	return (f->type == IF_INT || f->type == IF_BOOL || f->type == IF_SITE ||
	    f->type == IF_OWNER);
}

static void
ivals_free(struct ival *v)
{
	int	i;

	for (i = 0; i < NIFIELDS; i++)
		free(v[i].s);
}

/* Fill v with the defaults of a new instrument. */
static void
ivals_default(struct ival *v)
{
	int	i;

	memset(v, 0, NIFIELDS * sizeof *v);
	for (i = 0; i < NIFIELDS; i++) {
		v[i].n = ifields[i].defn;
		if (ifields[i].defs != NULL)
			v[i].s = xstrdup(ifields[i].defs);
	}
}

/* Fill v from instrument id (and *zone, if not NULL); -1 if none. */
static int
ivals_load(struct yiqid *ctx, int64_t id, struct ival *v, char **zone)
{
	sqlite3_stmt	*st;
	int		 i;

	memset(v, 0, NIFIELDS * sizeof *v);
	st = db_prepare(ctx, q_load);
	db_bind_int(st, ":id", id);
	if (db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (-1);
	}
	for (i = 0; i < NIFIELDS; i++) {
		if (ifields[i].type == IF_INT || ifields[i].type == IF_BOOL)
			v[i].n = sqlite3_column_int64(st, i);
		else
			v[i].s = db_text(st, i);
	}
	v[F_SITE].n = sqlite3_column_int64(st, NIFIELDS + 1);
	v[F_OWNER].n = sqlite3_column_int64(st, NIFIELDS + 2);
	if (zone != NULL)
		*zone = db_text(st, NIFIELDS);
	sqlite3_reset(st);
	return (0);
}

/* The instrument object of instrument id, or NULL; the caller owns it. */
json_t *
instrument_json(struct yiqid *ctx, int64_t id)
{
	struct ival	 v[NIFIELDS];
	json_t		*j, *rules, *e;
	char		*zone;
	int		 i;

	if (ivals_load(ctx, id, v, &zone) == -1)
		return (NULL);
	j = json_object();
	rules = json_object();
	for (i = 0; i < NIFIELDS; i++) {
		if (ifields[i].type == IF_INT)
			e = json_integer(v[i].n);
		else if (ifields[i].type == IF_BOOL)
			e = json_boolean(v[i].n);
		else
			e = json_string(v[i].s);
		json_object_set_new(ifields[i].rule ? rules : j,
		    ifields[i].name, e);
		if (i == F_SITE)
			json_object_set_new(j, "timezone", json_string(zone));
	}
	json_object_set_new(j, "rules", rules);
	free(zone);
	ivals_free(v);
	return (j);
}

/* Is name a column of an instrument (the flat form of a CSV header)? */
int
instrument_column(const char *name)
{
	int	i;

	for (i = 0; i < NIFIELDS; i++) {
		if (strcmp(ifields[i].name, name) == 0)
			return (1);
	}
	return (0);
}

static int
fail(char **field, char **cause, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Is s a real calendar date written YYYY-MM-DD (years 1900 to 9999)? */
static int
date_ok(const char *s)
{
	static const int days[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int	y, m, d, n, leap;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    strspn(s, "0123456789-") != 10 ||
	    sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
		return (0);
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return (0);
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return (d <= days[m - 1] + (m == 2 && leap));
}

/* Set *field and *cause (allocated) and return 400. */
static int
fail(char **field, char **cause, const char *name, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	xvasprintf(cause, fmt, ap);
	va_end(ap);
	*field = xstrdup(name);
	return (400);
}

/* Refuse members that are not columns; 0 or 400. */
static int
check_members(json_t *in, int flags, char **field, char **cause)
{
	const char	*key, *rkey;
	json_t		*e, *re;
	int		 i;
	char		*name;

	json_object_foreach(in, key, e) {
		if (!(flags & IA_TEXT) && strcmp(key, "rules") == 0) {
			if (!json_is_object(e))
				return (fail(field, cause, "rules",
				    "rules must be an object"));
			json_object_foreach(e, rkey, re) {
				for (i = 0; i < NIFIELDS; i++)
					if (ifields[i].rule &&
					    strcmp(ifields[i].name, rkey) == 0)
						break;
				if (i == NIFIELDS) {
					xasprintf(&name, "rules.%s", rkey);
					i = fail(field, cause, name,
					    "unknown field \"rules.%s\"", rkey);
					free(name);
					return (i);
				}
			}
			continue;
		}
		for (i = 0; i < NIFIELDS; i++)
			if (strcmp(ifields[i].name, key) == 0 &&
			    ((flags & IA_TEXT) || !ifields[i].rule))
				break;
		if (i == NIFIELDS)
			return (fail(field, cause, key, "unknown field \"%s\"",
			    key));
	}
	return (0);
}

/* Read a number from CSV text: an integer or a boolean word. */
static int
text_number(const struct ifield *f, const char *s, int64_t *out)
{
	static const char *const yes[] = { "true", "yes", "1", NULL };
	static const char *const no[] = { "false", "no", "0", NULL };
	char		*end;
	long long	 n;
	int		 i;

	if (f->type == IF_BOOL) {
		for (i = 0; yes[i] != NULL; i++) {
			if (strcasecmp(s, yes[i]) == 0)
				return (*out = 1, 0);
			if (strcasecmp(s, no[i]) == 0)
				return (*out = 0, 0);
		}
		return (-1);
	}
	if (strspn(s, "-0123456789") != strlen(s) || strlen(s) > 18)
		return (-1);
	n = strtoll(s, &end, 10);
	if (*end != '\0' || end == s)
		return (-1);
	*out = n;
	return (0);
}

/* Take a number or boolean of column f from e; 0 or 400. */
static int
take_number(const struct ifield *f, const char *name, json_t *e, int flags,
    struct ival *v, char **field, char **cause)
{
	int64_t	n = 0;

	if (f->type == IF_BOOL && json_is_boolean(e))
		n = json_is_true(e);
	else if (f->type == IF_INT && json_is_integer(e))
		n = json_integer_value(e);
	else if (!(flags & IA_TEXT) || !json_is_string(e) ||
	    text_number(f, json_string_value(e), &n) == -1)
		return (fail(field, cause, name, f->type == IF_BOOL ?
		    "%s must be true or false" : "%s must be an integer",
		    name));
	if (n < f->min || n > f->max)
		return (fail(field, cause, name, "%s must be from %lld to %lld",
		    name, (long long)f->min, (long long)f->max));
	v->n = n;
	return (0);
}

/* Check a text value s of column f and keep it in *v; 0 or 400. */
static int
take_text(struct yiqid *ctx, const struct ifield *f, const char *name,
    const char *s, struct ival *v, char **field, char **cause)
{
	struct hours	 h;
	char		*why = NULL;
	int		 i;

	if (!text_ok(s))
		return (fail(field, cause, name, "%s must be UTF-8 text of at "
		    "most 4096 bytes without control characters", name));
	switch (f->type) {
	case IF_CODE:
		if (!code_ok(s))
			return (fail(field, cause, name, "%s must be 1 to 64 "
			    "letters, digits, '.', '_' or '-'", name));
		break;
	case IF_NAME:
		if (*s == '\0')
			return (fail(field, cause, name, "%s must not be empty",
			    name));
		break;
	case IF_SITE:
	case IF_OWNER:
		v->n = db_lookup_id(ctx, f->type == IF_SITE ? "sites" :
		    "institutes", s);
		if (v->n == 0)
			return (fail(field, cause, name, "unknown %s %s",
			    f->type == IF_SITE ? "site" : "institute", s));
		break;
	case IF_STATUS:
		for (i = 0; statuses[i] != NULL; i++)
			if (strcmp(s, statuses[i]) == 0)
				break;
		if (statuses[i] == NULL)
			return (fail(field, cause, name, "%s must be active, "
			    "maintenance or retired", name));
		break;
	case IF_DATE:
		if (*s != '\0' && !date_ok(s))
			return (fail(field, cause, name, "%s must be a date "
			    "YYYY-MM-DD", name));
		break;
	case IF_SCOPE:
		if (strcmp(s, "institute") != 0 && strcmp(s, "district") != 0)
			return (fail(field, cause, name, "%s must be institute "
			    "or district", name));
		break;
	case IF_HOURS:
		if (hours_parse(s, &h, &why) == -1) {
			i = fail(field, cause, name, "%s: %s", name, why);
			free(why);
			return (i);
		}
		break;
	default:
		break;
	}
	free(v->s);
	v->s = xstrdup(s);
	return (0);
}

/* Take member e (may be JSON null) of column f; 0 or 400. */
static int
take(struct yiqid *ctx, const struct ifield *f, json_t *e, int flags,
    struct ival *v, char **field, char **cause)
{
	char	name[64];
	int	rc;

	snprintf(name, sizeof name, "%s%s", f->rule && !(flags & IA_TEXT) ?
	    "rules." : "", f->name);
	if (json_is_null(e)) {
		if (f->type == IF_CODE || f->type == IF_NAME ||
		    f->type == IF_SITE || f->type == IF_OWNER)
			return (fail(field, cause, name, "%s cannot be cleared",
			    name));
		free(v->s);
		v->s = f->defs != NULL ? xstrdup(f->defs) : NULL;
		v->n = f->defn;
		return (0);
	}
	/* An empty CSV cell of a rule, status, site or owner: no change. */
	if ((flags & IA_TEXT) && json_is_string(e) && f->type != IF_TEXT &&
	    f->type != IF_CODE && f->type != IF_NAME &&
	    *json_string_value(e) == '\0')
		return (0);
	if (numeric(f) && f->type != IF_SITE && f->type != IF_OWNER)
		rc = take_number(f, name, e, flags, v, field, cause);
	else if (!json_is_string(e))
		rc = fail(field, cause, name, "%s must be a string", name);
	else
		rc = take_text(ctx, f, name, json_string_value(e), v, field,
		    cause);
	v->set = 1;
	return (rc);
}

/* Take every member the input has; 0 or 400. */
static int
take_all(struct yiqid *ctx, json_t *in, int flags, struct ival *v,
    char **field, char **cause)
{
	json_t	*rules = json_object_get(in, "rules"), *e;
	int	 i, rc;

	for (i = 0; i < NIFIELDS; i++) {
		if (ifields[i].rule && !(flags & IA_TEXT))
			e = rules != NULL ? json_object_get(rules,
			    ifields[i].name) : NULL;
		else
			e = json_object_get(in, ifields[i].name);
		if (e == NULL)
			continue;
		if ((rc = take(ctx, &ifields[i], e, flags, &v[i], field,
		    cause)) != 0)
			return (rc);
	}
	return (0);
}

/* Write v as instrument id (0: a new one); returns the SQLite code. */
static int
store(struct yiqid *ctx, struct ival *v, int64_t id)
{
	sqlite3_stmt	*st;
	char		 param[64];
	int		 i, rc;

	st = db_prepare(ctx, id == 0 ? q_insert : q_update);
	for (i = 0; i < NIFIELDS; i++) {
		snprintf(param, sizeof param, ":%s", ifields[i].name);
		if (numeric(&ifields[i]))
			db_bind_int(st, param, v[i].n);
		else
			db_bind_text(st, param, v[i].s);
	}
	db_bind_int(st, ":now", db_now(ctx));
	if (id != 0)
		db_bind_int(st, ":id", id);
	rc = db_step(st);
	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* Check what a new instrument needs, or that a change keeps its code. */
static int
check_row(struct yiqid *ctx, struct ival *v, const char *old_code,
    int flags, char **field, char **cause)
{
	static const int need[] = { F_CODE, F_NAME, F_SITE, F_OWNER };
	size_t	i;

	if (old_code == NULL) {
		for (i = 0; i < sizeof need / sizeof need[0]; i++)
			if (!v[need[i]].set)
				return (fail(field, cause,
				    ifields[need[i]].name, "%s is required",
				    ifields[need[i]].name));
		if (db_lookup_id(ctx, "instruments", v[F_CODE].s) != 0) {
			fail(field, cause, "code", "instrument %s exists "
			    "already", v[F_CODE].s);
			return (409);
		}
	} else if (strcmp(old_code, v[F_CODE].s) != 0)
		return (fail(field, cause, "code", "a code cannot be changed "
		    "(%s)", old_code));
	if (v[F_MAX_DURATION].n < v[F_MIN_DURATION].n)
		return (fail(field, cause, (flags & IA_TEXT) ?
		    "max_duration_min" : "rules.max_duration_min",
		    "max_duration_min (%lld) is less than min_duration_min "
		    "(%lld)", (long long)v[F_MAX_DURATION].n,
		    (long long)v[F_MIN_DURATION].n));
	return (0);
}

/*
 * Check the fields of in (the JSON form, or with IA_TEXT a flat object of
 * CSV text) and create the instrument (id 0) or change instrument id,
 * with an audit record by actor, inside the caller's transaction.
 * Returns 0 and the instrument's id in *out; 400 (bad input) or 409 (the
 * code exists) with *field and *cause allocated for the caller to free;
 * 404 if id does not exist; or -1 if the database failed.
 */
int
instrument_apply(struct yiqid *ctx, json_t *in, int flags, int64_t id,
    int64_t actor, int64_t *out, char **field, char **cause)
{
	struct ival	 v[NIFIELDS];
	char		*old = NULL;
	int		 rc;

	*field = *cause = NULL;
	if ((rc = check_members(in, flags, field, cause)) != 0)
		return (rc);
	if (id == 0)
		ivals_default(v);
	else if (ivals_load(ctx, id, v, NULL) == -1)
		return (404);
	else
		old = xstrdup(v[F_CODE].s);
	if ((rc = take_all(ctx, in, flags, v, field, cause)) != 0 ||
	    (rc = check_row(ctx, v, old, flags, field, cause)) != 0)
		goto out;
	rc = -1;
	if (store(ctx, v, id) != SQLITE_OK)
		goto out;
	*out = id != 0 ? id : sqlite3_last_insert_rowid(ctx->db);
	if (db_audit(ctx, actor, id == 0 ? "instrument.create" :
	    "instrument.update", "instrument", v[F_CODE].s,
	    json_incref(in)) != SQLITE_OK)
		goto out;
	rc = 0;
out:
	free(old);
	ivals_free(v);
	return (rc);
}

/* Bind the list filters to a list or count statement. */
static void
bind_filters(sqlite3_stmt *st, const char *site, const char *category,
    const char *status, const char *like)
{
	db_bind_text(st, ":site", site);
	db_bind_text(st, ":category", category);
	db_bind_text(st, ":status", status);
	db_bind_text(st, ":q", like);
}

/* A LIKE pattern matching text anywhere, with % _ and \ escaped. */
static char *
like_pattern(const char *text)
{
	char	*out, *p;

	out = p = xmalloc(2 * strlen(text) + 3);
	*p++ = '%';
	for (; *text != '\0'; text++) {
		if (*text == '%' || *text == '_' || *text == '\\')
			*p++ = '\\';
		*p++ = *text;
	}
	*p++ = '%';
	*p = '\0';
	return (out);
}

/* A query parameter, or NULL when absent or empty. */
static const char *
query(struct req *r, const char *name)
{
	const char	*v = req_query(r, name);

	return (v != NULL && *v != '\0' ? v : NULL);
}

#define LIST_WHERE \
	"FROM instruments i JOIN sites s ON s.id = i.site_id WHERE " \
	"(:site IS NULL OR s.code = :site) AND " \
	"(:category IS NULL OR i.category = :category) AND " \
	"(CASE WHEN :status IS NULL THEN i.status != 'retired' " \
	"WHEN :status = 'all' THEN 1 ELSE i.status = :status END) AND " \
	"(:q IS NULL OR i.code LIKE :q ESCAPE '\\' OR " \
	"i.name LIKE :q ESCAPE '\\' OR i.manufacturer LIKE :q ESCAPE '\\' OR " \
	"i.model LIKE :q ESCAPE '\\' OR i.description LIKE :q ESCAPE '\\')"

static void
instruments_list(struct req *r)
{
	static const char *const q_list =
	    "SELECT i.id " LIST_WHERE " ORDER BY i.code LIMIT :limit "
	    "OFFSET :offset";
	static const char *const q_count = "SELECT count(*) " LIST_WHERE;
	sqlite3_stmt	*st;
	const char	*site, *cat, *status, *q;
	char		*like = NULL;
	json_t		*items;
	int64_t		 limit, offset, total = 0, *ids = NULL;
	size_t		 n = 0, i;

	if (q_limit(r, &limit, &offset) == -1)
		return;
	site = query(r, "site");
	cat = query(r, "category");
	status = query(r, "status");
	if ((q = query(r, "q")) != NULL)
		like = like_pattern(q);
	if (status != NULL && strcmp(status, "all") != 0 &&
	    strcmp(status, "active") != 0 && strcmp(status, "maintenance") != 0
	    && strcmp(status, "retired") != 0) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}",
		    "field", "status"), "status must be active, maintenance, "
		    "retired or all");
		free(like);
		return;
	}
	st = db_prepare(r->ctx, q_count);
	bind_filters(st, site, cat, status, like);
	if (db_step(st) == SQLITE_ROW)
		total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	st = db_prepare(r->ctx, q_list);
	bind_filters(st, site, cat, status, like);
	db_bind_int(st, ":limit", limit);
	db_bind_int(st, ":offset", offset);
	while (db_step(st) == SQLITE_ROW) {
		ids = xreallocarray(ids, n + 1, sizeof *ids);
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	free(like);
	items = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(items, instrument_json(r->ctx, ids[i]));
	free(ids);
	api_reply(r, 200, json_pack("{s:o,s:I,s:I,s:I}", "items", items,
	    "total", (json_int_t)total, "limit", (json_int_t)limit, "offset",
	    (json_int_t)offset));
}

static void
instruments_get(struct req *r)
{
	json_t	*j;
	int64_t	 id;

	if ((id = db_lookup_id(r->ctx, "instruments", r->args[0])) == 0 ||
	    (j = instrument_json(r->ctx, id)) == NULL) {
		api_error(r, 404, "not_found", "no such instrument: %s",
		    r->args[0]);
		return;
	}
	api_reply(r, 200, j);
}

/* Create (id 0) or change instrument id from the body, and reply. */
static void
instruments_write(struct req *r, int64_t id)
{
	char	*field = NULL, *cause = NULL;
	int64_t	 out = 0;
	int	 rc;

	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	rc = instrument_apply(r->ctx, r->body, 0, id, r->user->id, &out,
	    &field, &cause);
	if (rc == 0 && (rc = db_commit(r->ctx)) == SQLITE_OK) {
		api_reply(r, id == 0 ? 201 : 200, instrument_json(r->ctx, out));
		return;
	}
	if (rc == 400 || rc == 409)
		api_error_json(r, rc, rc == 400 ? "bad_request" : "exists",
		    json_pack("{s:s}", "field", field), "%s", cause);
	else if (rc == 404)
		api_error(r, 404, "not_found", "no such instrument");
	else
		api_db_error(r, rc == -1 ?
		    sqlite3_extended_errcode(r->ctx->db) : rc);
	db_rollback(r->ctx);
	free(field);
	free(cause);
}

static void
instruments_create(struct req *r)
{
	instruments_write(r, 0);
}

/* Admins change anything; a manager of it only status, room, description
 * and rules. */
static void
instruments_patch(struct req *r)
{
	const char	*key;
	json_t		*e;
	int64_t		 id;
	int		 i;

	if ((id = db_lookup_id(r->ctx, "instruments", r->args[0])) == 0) {
		api_error(r, 404, "not_found", "no such instrument: %s",
		    r->args[0]);
		return;
	}
	if (r->user->role != ROLE_ADMIN && !auth_manages(r, id)) {
		api_error(r, 403, "forbidden", "only an admin or a manager of "
		    "%s may change it", r->args[0]);
		return;
	}
	json_object_foreach(r->body, key, e) {
		if (r->user->role == ROLE_ADMIN || strcmp(key, "rules") == 0)
			continue;
		for (i = 0; i < NIFIELDS; i++)
			if (strcmp(ifields[i].name, key) == 0)
				break;
		if (i < NIFIELDS && ifields[i].manager && !ifields[i].rule)
			continue;
		api_error_json(r, 403, "forbidden", json_pack("{s:s}", "field",
		    key), "a manager may change only status, room, "
		    "description and rules, not %s", key);
		return;
	}
	instruments_write(r, id);
}
