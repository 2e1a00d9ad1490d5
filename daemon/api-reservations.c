/*
 * api-reservations.c: booking, the heart of yiqi.
 *
 *	POST   /api/v1/reservations		book
 *	GET    /api/v1/reservations		list (filters)
 *	GET    /api/v1/reservations/{id}	show
 *	PATCH  /api/v1/reservations/{id}	move / resize / edit
 *	DELETE /api/v1/reservations/{id}	cancel (one, or a series)
 *	POST   /api/v1/reservations/{id}/approve	a manager confirms a pending one
 *	POST   /api/v1/reservations/{id}/reject	a manager refuses a pending one
 *	POST   /api/v1/reservations/{id}/checkin	its user has arrived
 *	POST   /api/v1/reservations/{id}/checkout	its user has finished
 *
 * A POST with "repeat" books a recurring series (recur.c expands the
 * RRULE): every occurrence passes every rule, and all are written in one
 * transaction, all or nothing unless "skip_conflicts" says to book the
 * free ones and list the rest.
 * The guarantee of SPEC §5: the rule checks that need the database (the
 * blackouts, the overlap) and the write happen in one BEGIN IMMEDIATE
 * transaction on the daemon's one write connection, and the reply is sent
 * only after COMMIT returned (synchronous=FULL: the WAL is on disk).  The
 * schema's triggers refuse an overlapping row whatever path writes it.
 * Others' bookings are shown redacted (SPEC §4) by reservation_json().
 */

#include "config.h"

#include <sys/time.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "yiqid.h"

#define CONFLICTS_MAX	10
#define CHECKIN_EARLY	(15 * 60)	/* check-in opens this early, seconds */
#define LIST_TIME_FAR	(1LL << 50)	/* "no bound" for the list's from/to */
#define LIST_TOTAL_MAX	10000	/* the list counts this far, and pages */

/* Columns every reservation query selects, in reservation_json()'s order. */
#define RES_COLUMNS \
	"SELECT r.id, r.uid, i.code, s.code, s.timezone, u.login, ins.code, " \
	"ins.name, ins.private, r.start, r.\"end\", r.status, r.purpose, " \
	"r.project, r.series_id, r.created, r.updated, r.sequence, " \
	"r.checked_in, r.checked_out, r.affected_by_blackout, " \
	"r.cancel_reason, r.user_id, r.instrument_id, i.site_id, " \
	"r.late_cancellation, r.usage_type "
#define RES_JOINS \
	"JOIN instruments i ON i.id = r.instrument_id " \
	"JOIN sites s ON s.id = i.site_id JOIN users u ON u.id = r.user_id " \
	"JOIN institutes ins ON ins.id = r.institute_id "
#define RES_FROM	"FROM reservations r " RES_JOINS
#define RES_SELECT	RES_COLUMNS RES_FROM
enum {
	C_ID, C_UID, C_INSTRUMENT, C_SITE, C_ZONE, C_USER, C_INSTITUTE,
	C_INSTITUTE_NAME, C_PRIVATE, C_START, C_END, C_STATUS, C_PURPOSE,
	C_PROJECT, C_SERIES, C_CREATED, C_UPDATED, C_SEQUENCE, C_CHECKED_IN,
	C_CHECKED_OUT, C_AFFECTED, C_CANCEL_REASON, C_USER_ID,
	C_INSTRUMENT_ID, C_SITE_ID, C_LATE, C_USAGE_TYPE
};

static void	api_reservations_create(struct req *);
static void	api_reservations_list(struct req *);
static void	api_reservations_show(struct req *);
static void	api_reservations_patch(struct req *);
static void	api_reservations_cancel(struct req *);
static void	api_reservations_approve(struct req *);
static void	api_reservations_reject(struct req *);
static void	api_reservations_checkin(struct req *);
static void	api_reservations_checkout(struct req *);

const struct route api_reservations_routes[] = {
	{ EVHTTP_REQ_POST, "/api/v1/reservations", R_JSON,
	    api_reservations_create },
	{ EVHTTP_REQ_GET, "/api/v1/reservations", 0, api_reservations_list },
	{ EVHTTP_REQ_GET, "/api/v1/reservations/*", 0, api_reservations_show },
	{ EVHTTP_REQ_PATCH, "/api/v1/reservations/*", R_JSON,
	    api_reservations_patch },
	{ EVHTTP_REQ_DELETE, "/api/v1/reservations/*", R_JSON_OPT,
	    api_reservations_cancel },
	{ EVHTTP_REQ_POST, "/api/v1/reservations/*/approve", R_JSON_OPT,
	    api_reservations_approve },
	{ EVHTTP_REQ_POST, "/api/v1/reservations/*/reject", R_JSON_OPT,
	    api_reservations_reject },
	{ EVHTTP_REQ_POST, "/api/v1/reservations/*/checkin", R_JSON_OPT,
	    api_reservations_checkin },
	{ EVHTTP_REQ_POST, "/api/v1/reservations/*/checkout", R_JSON_OPT,
	    api_reservations_checkout },
	{ 0, NULL, 0, NULL }
};

static const char *const statuses[] = {
	"pending", "confirmed", "rejected", "cancelled", "completed", "no_show",
	NULL
};

/* Column col, text, as a JSON string ("" when NULL). */
static void
jb_col_text(struct jsonbuf *jb, sqlite3_stmt *st, int col)
{
	const unsigned char	*s = sqlite3_column_text(st, col);

	jb_str(jb, s != NULL ? (const char *)s : "");
}

/* Column col, a time, in zone (null when NULL). */
static void
jb_col_time(struct jsonbuf *jb, sqlite3_stmt *st, int col, const char *zone)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		JB_LIT(jb, "null");
	else
		jb_time(jb, sqlite3_column_int64(st, col), zone);
}

/* Column col, an integer, as true (not 0) or false. */
static void
jb_col_bool(struct jsonbuf *jb, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_int(st, col))
		JB_LIT(jb, "true");
	else
		JB_LIT(jb, "false");
}

/* How a member of a reservation's JSON is written from its column. */
enum jb_kind {
	JB_TEXT,		/* a string ("" when NULL) */
	JB_TIME,		/* a time in the site's zone, or null */
	JB_INT,
	JB_INT_NULL,		/* an integer, or null */
	JB_BOOL
};
struct jb_member {
	const char	*key;		/* with the separator before it */
	int		 col;
	enum jb_kind	 kind;
};

/* The members of the view both kinds of viewer get, in order ... */
static const struct jb_member jb_common[] = {
	{ "{\"id\":", C_ID, JB_INT },
	{ ",\"instrument\":", C_INSTRUMENT, JB_TEXT },
	{ ",\"site\":", C_SITE, JB_TEXT },
	{ ",\"start\":", C_START, JB_TIME },
	{ ",\"end\":", C_END, JB_TIME },
	{ ",\"status\":", C_STATUS, JB_TEXT },
};
/* ... and the rest of the full view. */
static const struct jb_member jb_full[] = {
	{ ",\"uid\":", C_UID, JB_TEXT },
	{ ",\"user\":", C_USER, JB_TEXT },
	{ ",\"institute\":", C_INSTITUTE, JB_TEXT },
	{ ",\"institute_name\":", C_INSTITUTE_NAME, JB_TEXT },
	{ ",\"purpose\":", C_PURPOSE, JB_TEXT },
	{ ",\"project\":", C_PROJECT, JB_TEXT },
	{ ",\"series\":", C_SERIES, JB_INT_NULL },
	{ ",\"created\":", C_CREATED, JB_TIME },
	{ ",\"updated\":", C_UPDATED, JB_TIME },
	{ ",\"sequence\":", C_SEQUENCE, JB_INT },
	{ ",\"checked_in\":", C_CHECKED_IN, JB_TIME },
	{ ",\"checked_out\":", C_CHECKED_OUT, JB_TIME },
	{ ",\"affected_by_blackout\":", C_AFFECTED, JB_BOOL },
	{ ",\"cancel_reason\":", C_CANCEL_REASON, JB_TEXT },
	{ ",\"late_cancellation\":", C_LATE, JB_BOOL },
	{ ",\"usage_type\":", C_USAGE_TYPE, JB_TEXT },
};

/* Write the n members m of the row st (times in zone) into jb. */
static void
jb_members(struct jsonbuf *jb, sqlite3_stmt *st, const char *zone,
    const struct jb_member *m, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		jb_raw(jb, m[i].key, strlen(m[i].key));
		switch (m[i].kind) {
		case JB_TEXT:
			jb_col_text(jb, st, m[i].col);
			break;
		case JB_TIME:
			jb_col_time(jb, st, m[i].col, zone);
			break;
		case JB_INT_NULL:
			if (sqlite3_column_type(st, m[i].col) == SQLITE_NULL) {
				JB_LIT(jb, "null");
				break;
			}
			/* FALLTHROUGH */
		case JB_INT:
			jb_int(jb, sqlite3_column_int64(st, m[i].col));
			break;
		case JB_BOOL:
			jb_col_bool(jb, st, m[i].col);
			break;
		}
	}
}

/*
 * A reservation row (selected with RES_SELECT) as the request's user may
 * see it, written as JSON into jb: in full for its owner, the
 * instrument's managers, park managers of the site and admins; otherwise
 * redacted to busy time and the booking institute's name (null where the
 * institute is private).  Written directly rather than built with
 * jansson: it is in every booking's reply and every list (the keys and
 * their order are what jansson's tree of the same object dumped).
 */
void
reservation_jb(struct req *r, sqlite3_stmt *st, struct jsonbuf *jb)
{
	const char	*zone = (const char *)sqlite3_column_text(st, C_ZONE);

	jb_members(jb, st, zone, jb_common,
	    sizeof jb_common / sizeof jb_common[0]);
	if (!auth_sees_booking(r, sqlite3_column_int64(st, C_USER_ID),
	    sqlite3_column_int64(st, C_INSTRUMENT_ID),
	    sqlite3_column_int64(st, C_SITE_ID))) {
		JB_LIT(jb, ",\"institute\":");
		if (sqlite3_column_int(st, C_PRIVATE))
			JB_LIT(jb, "null");
		else
			jb_col_text(jb, st, C_INSTITUTE_NAME);
		JB_LIT(jb, ",\"redacted\":true}");
		return;
	}
	jb_members(jb, st, zone, jb_full, sizeof jb_full / sizeof jb_full[0]);
	JB_LIT(jb, ",\"redacted\":false}");
}

/* The same as a jansson value, for answers built as a tree. */
json_t *
reservation_json(struct req *r, sqlite3_stmt *st)
{
	struct jsonbuf	 jb;
	json_error_t	 err;
	json_t		*j;

	memset(&jb, 0, sizeof jb);
	reservation_jb(r, st, &jb);
	if ((j = json_loadb(jb.p, jb.len, 0, &err)) == NULL) {
		log_warnx("%s: %s", __func__, err.text);	/* cannot be */
		j = json_null();
	}
	jb_free(&jb);
	return (j);
}

static const char *const q_res_by_id = RES_SELECT "WHERE r.id = :id";

/*
 * One reservation in the caller's view, or NULL with *rc SQLITE_NOTFOUND
 * (or a database error).
 */
json_t *
reservation_get(struct req *r, int64_t id, int *rc)
{
	sqlite3_stmt	*st;
	json_t		*j = NULL;

	st = db_prepare(r->ctx, q_res_by_id);
	db_bind_int(st, ":id", id);
	*rc = db_step(st);
	if (*rc == SQLITE_ROW) {
		j = reservation_json(r, st);
		*rc = SQLITE_OK;
	} else if (*rc == SQLITE_DONE)
		*rc = SQLITE_NOTFOUND;
	sqlite3_reset(st);
	return (j);
}

/*
 * Answer with reservation id in the caller's view and this status.
 * Returns SQLITE_OK, or SQLITE_NOTFOUND or a database error with nothing
 * sent.
 */
static int
reservation_reply(struct req *r, int64_t id, int status)
{
	struct jsonbuf	 jb;
	sqlite3_stmt	*st;
	int		 rc;

	memset(&jb, 0, sizeof jb);
	st = db_prepare(r->ctx, q_res_by_id);
	db_bind_int(st, ":id", id);
	if ((rc = db_step(st)) == SQLITE_ROW) {
		reservation_jb(r, st, &jb);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE)
		rc = SQLITE_NOTFOUND;
	sqlite3_reset(st);
	if (rc == SQLITE_OK)
		api_reply_data(r, status, "application/json; charset=utf-8",
		    jb.p, jb.len);
	jb_free(&jb);
	return (rc);
}

/* Parse the id of /reservations/{id}; answers 404 if it is not one. */
static int
path_id(struct req *r, int64_t *id)
{
	char	*end;

	*id = strtoll(r->args[0], &end, 10);
	if (*end != '\0' || *id <= 0) {
		api_error(r, 404, "not_found", "no reservation %s", r->args[0]);
		return (-1);
	}
	return (0);
}

/*
 * A new iCalendar UID: 32 hex digits, the first 12 the time in ms (as in
 * UUIDv7), the other 20 random, then "@yiqi".  Time-ordered UIDs append
 * to the UNIQUE index on reservations.uid instead of dirtying a random
 * leaf page of it per booking; 80 random bits per millisecond keep them
 * unique.
 */
static char *
uid_new(void)
{
	struct timeval	 tv;
	unsigned char	 raw[16];
	uint64_t	 ms;
	char		 hex[33], *out;
	int		 i;

	gettimeofday(&tv, NULL);
	ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	randombytes_buf(raw, sizeof raw);
	for (i = 5; i >= 0; i--) {
		raw[i] = (unsigned char)(ms & 0xff);
		ms >>= 8;
	}
	sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
	xasprintf(&out, "%s@yiqi", hex);
	return (out);
}

/* Answer 422 naming a booking rule. */
static void
rule_error(struct req *r, const char *rule, const char *msg)
{
	api_error_json(r, 422, "rule", json_pack("{s:s}", "rule", rule), "%s",
	    msg);
}

/*
 * The checks that need no database: instrument status and the rules of
 * SPEC §3.  Returns 0, or -1 with the rule's name in *rule and an
 * allocated sentence in *msg.
 */
static int
rules_failure(struct req *r, const struct instrument *in, time_t start,
    time_t end, const char **rule, char **msg)
{
	enum rule_result	 rr;
	char			*cause = NULL;

	if (strcmp(in->status, "active") != 0) {
		xasprintf(msg, "%s is %s and cannot be booked", in->code,
		    in->status);
		*rule = "instrument_status";
		return (-1);
	}
	rr = rules_check(&in->rules, in->zone, db_now(r->ctx), start, end,
	    &cause);
	if (rr != RULE_OK) {
		xasprintf(msg, "%s: %s", in->code, cause);
		*rule = rules_name(rr);
		free(cause);
		return (-1);
	}
	return (0);
}

/* As rules_failure(), but answers 422 when a rule fails. */
static int
check_rules(struct req *r, const struct instrument *in, time_t start,
    time_t end)
{
	const char	*rule;
	char		*msg;

	if (rules_failure(r, in, start, end, &rule, &msg) == -1) {
		rule_error(r, rule, msg);
		free(msg);
		return (-1);
	}
	return (0);
}

/*
 * Is user_id qualified to book the instrument for a slot from start?
 * Answers 403 (rule "qualification") or a database error and returns -1
 * if not.
 */
static int
check_qualified(struct req *r, const struct instrument *in, int64_t user_id,
    time_t start)
{
	char	*cause;
	int	 ok;

	if (!in->rules.requires_qualification)
		return (0);
	if ((ok = qualification_check(r->ctx, user_id, in->id, start,
	    &cause)) == 1)
		return (0);
	if (ok == -1)
		api_db_error(r, SQLITE_ERROR);
	else
		api_error_json(r, 403, "forbidden", json_pack("{s:s,s:s}", "rule",
		    "qualification", "instrument", in->code), "%s", cause);
	free(cause);
	return (-1);
}

/*
 * Inside the write transaction: is [start, end) free?  Returns 0 if so; 1
 * with an allocated sentence in *black if a blackout covers it; 2 with
 * the reservations it clashes with in *conflicts (the caller's); or -1
 * with a database error in *rc.
 */
static int
slot_state(struct req *r, const struct instrument *in, time_t start,
    time_t end, int64_t exclude, char **black, json_t **conflicts, int *rc)
{
	static const char *const q_black =
	    "SELECT reason FROM blackouts WHERE (instrument_id = :i OR "
	    "site_id = :s) AND \"end\" > :from AND start < :to LIMIT 1";
	/*
	 * The walk of reservations_instrument (instrument, start, end) is
	 * bounded on both sides: a booking ending after :from starts after
	 * :from minus the longest booking stored.  Without the lower bound it
	 * would read the instrument's whole history.
	 */
	static const char *const q_clash = RES_SELECT
	    "WHERE r.instrument_id = :i AND r.start > :from - " LONGEST_SQL
	    " AND r.start < :to AND r.\"end\" > :from AND r.status IN "
	    "('pending', 'confirmed') AND r.id != :x ORDER BY r.start "
	    "LIMIT :max";
	sqlite3_stmt	*st;
	long		 buf = in->rules.buffer_min * 60L;

	st = db_prepare(r->ctx, q_black);
	db_bind_int(st, ":i", in->id);
	db_bind_int(st, ":s", in->site_id);
	db_bind_int(st, ":from", start);
	db_bind_int(st, ":to", end);
	if ((*rc = db_step(st)) == SQLITE_ROW) {
		xasprintf(black, "%s is blacked out then (%s)", in->code,
		    sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		return (1);
	}
	sqlite3_reset(st);
	if (*rc != SQLITE_DONE)
		return (-1);

	*conflicts = json_array();
	st = db_prepare(r->ctx, q_clash);
	db_bind_int(st, ":i", in->id);
	db_bind_int(st, ":from", start - buf);
	db_bind_int(st, ":to", end + buf);
	db_bind_int(st, ":x", exclude);
	db_bind_int(st, ":max", CONFLICTS_MAX);
	while ((*rc = db_step(st)) == SQLITE_ROW)
		json_array_append_new(*conflicts, reservation_json(r, st));
	sqlite3_reset(st);
	if (*rc != SQLITE_DONE) {
		json_decref(*conflicts);
		*conflicts = NULL;
		return (-1);
	}
	if (json_array_size(*conflicts) == 0) {
		json_decref(*conflicts);
		*conflicts = NULL;
		return (0);
	}
	return (2);
}

/*
 * Inside the write transaction: refuse a slot in a blackout (422) or one
 * that clashes with a slot-holding reservation (409, with what it hits and
 * the next free slot of the same length).  Returns 0 if the slot is free,
 * -1 after answering.  exclude is the reservation being moved (or 0).
 */
static int
check_free(struct req *r, const struct instrument *in, time_t start,
    time_t end, int64_t exclude)
{
	struct span	*busy = NULL, slot;
	size_t		 nbusy;
	json_t		*conflicts = NULL, *extra;
	char		*a, *b, *black = NULL;
	long		 buf = in->rules.buffer_min * 60L;
	time_t		 now = db_now(r->ctx), limit;
	int		 rc = SQLITE_OK;

	switch (slot_state(r, in, start, end, exclude, &black, &conflicts,
	    &rc)) {
	case 0:
		return (0);
	case 1:
		rule_error(r, "blackout", black);
		free(black);
		return (-1);
	case -1:
		goto dberr;
	}

	limit = now + in->rules.advance_days * 86400L + (end - start);
	extra = json_pack("{s:o,s:n}", "conflicts", conflicts, "next_free");
	if ((rc = busy_load(r->ctx, in, start, limit, exclude, &busy,
	    &nbusy)) != SQLITE_OK) {
		json_decref(extra);
		goto dberr;
	}
	if (find_slot(&in->rules, in->zone, start, (long)(end - start), busy,
	    nbusy, now, limit, &slot) == 0) {
		a = time_format(slot.start, in->zone);
		b = time_format(slot.end, in->zone);
		json_object_set_new(extra, "next_free", json_pack("{s:s,s:s}",
		    "start", a, "end", b));
		free(a);
		free(b);
	}
	free(busy);
	a = time_format(start, in->zone);
	api_error_json(r, 409, "conflict", extra, "%s is already booked at %s%s",
	    in->code, a, buf > 0 ? " (counting the buffer between bookings)" :
	    "");
	free(a);
	return (-1);
dberr:
	api_db_error(r, rc);
	return (-1);
}

/* Read start and end (or duration) from a body; 400 when malformed. */
static int
in_interval(struct req *r, json_t *body, int required, time_t *start,
    time_t *end)
{
	long	dur;
	int	has_end, has_dur;

	if (in_time(r, body, "start", required, start) == -1 ||
	    (has_end = in_time(r, body, "end", 0, end)) == -1 ||
	    (has_dur = in_duration(r, body, "duration", &dur)) == -1)
		return (-1);
	if (has_end && has_dur) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "duration"), "give end or duration, not both");
		return (-1);
	}
	if (has_dur)
		*end = *start + dur;
	else if (!has_end && required) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "end"), "end or duration is required");
		return (-1);
	}
	if (*end <= *start) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "end"), "end must be after start");
		return (-1);
	}
	return (has_end || has_dur);
}

/* Who the booking is for: the caller, or "user" if a manager may do so. */
static int
booking_user(struct req *r, json_t *body, const struct instrument *in,
    int64_t *uid, int64_t *inst)
{
	static const char *const q =
	    "SELECT id, institute_id FROM users WHERE login = :l";
	sqlite3_stmt	*st;
	const char	*login = NULL;

	*uid = r->user->id;
	*inst = r->user->institute_id;
	if (in_string(r, body, "user", 0, &login) == -1)
		return (-1);
	if (login == NULL || strcmp(login, r->user->login) == 0)
		return (0);
	if (!auth_manages(r, in->id)) {
		api_error(r, 403, "forbidden", "only a manager of %s may book "
		    "for another user", in->code);
		return (-1);
	}
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":l", login);
	if (db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "user"), "no user %s", login);
		return (-1);
	}
	*uid = sqlite3_column_int64(st, 0);
	*inst = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return (0);
}

/* What a new booking holds besides its slot. */
struct booking {
	int64_t		 uid;		/* for whom */
	int64_t		 inst;		/* billed institute */
	const char	*purpose;
	const char	*project;
	int64_t		 series;	/* series id, or 0 */
	const char	*usage_type;	/* or NULL: research */
};

static int
insert_reservation(struct req *r, const struct instrument *in,
    const struct booking *bk, time_t start, time_t end, int64_t *id)
{
	static const char *const q =
	    "INSERT INTO reservations (uid, instrument_id, user_id, "
	    "institute_id, start, \"end\", status, purpose, project, created, "
	    "updated, created_by, series_id, usage_type) VALUES (:uid, :i, :u, "
	    ":inst, :s, :e, :st, :p, :proj, :now, :now, :by, :series, "
	    "coalesce(:ut, 'research'))";
	struct jsonbuf	 jb;
	sqlite3_stmt	*st;
	char		*uidtext, idtext[32];
	int		 rc;

	uidtext = uid_new();
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":uid", uidtext);
	db_bind_int(st, ":i", in->id);
	db_bind_int(st, ":u", bk->uid);
	db_bind_int(st, ":inst", bk->inst);
	db_bind_int(st, ":s", start);
	db_bind_int(st, ":e", end);
	db_bind_text(st, ":st", in->rules.requires_approval ? "pending" :
	    "confirmed");
	db_bind_text(st, ":p", bk->purpose != NULL ? bk->purpose : "");
	db_bind_text(st, ":proj", bk->project != NULL ? bk->project : "");
	db_bind_int(st, ":now", db_now(r->ctx));
	db_bind_int(st, ":by", r->user->id);
	if (bk->series != 0)
		db_bind_int(st, ":series", bk->series);
	db_bind_text(st, ":ut", bk->usage_type);
	rc = db_step(st);
	sqlite3_reset(st);
	free(uidtext);
	if (rc != SQLITE_DONE)
		return (rc);
	*id = sqlite3_last_insert_rowid(r->ctx->db);
	snprintf(idtext, sizeof idtext, "%lld", (long long)*id);
	memset(&jb, 0, sizeof jb);	/* what json_pack() made of it */
	JB_LIT(&jb, "{\"instrument\":");
	jb_str(&jb, in->code);
	JB_LIT(&jb, ",\"user\":");
	jb_int(&jb, bk->uid);
	JB_LIT(&jb, ",\"start\":");
	jb_int(&jb, start);
	JB_LIT(&jb, ",\"end\":");
	jb_int(&jb, end);
	JB_LIT(&jb, ",\"series\":");
	jb_int(&jb, bk->series);
	jb_raw(&jb, "}", 2);		/* with its NUL */
	rc = db_audit_text(r->ctx, r->user->id, "reservation.create",
	    "reservation", idtext, jb.p);
	jb_free(&jb);
	return (rc);
}

/* One occurrence of a series being booked. */
struct occurrence {
	time_t		 start;
	time_t		 end;
	const char	*rule;		/* why it cannot be booked, or NULL */
	char		*msg;		/* a sentence saying so */
	json_t		*conflicts;	/* what it clashes with, or NULL */
	int64_t		 id;		/* the reservation made, or 0 */
};

static json_t *
occurrence_json(const struct instrument *in, const struct occurrence *o,
    size_t i)
{
	json_t	*j;
	char	*a, *b;

	a = time_format(o->start, in->zone);
	b = time_format(o->end, in->zone);
	j = json_pack("{s:I,s:s,s:s,s:s,s:s}", "occurrence", (json_int_t)i + 1,
	    "start", a, "end", b, "reason", o->rule, "message", o->msg);
	free(a);
	free(b);
	return (j);
}

/* The rules and qualification of each occurrence, before any write. */
static size_t
series_rules(struct req *r, const struct instrument *in, int64_t uid,
    struct occurrence *o, size_t n)
{
	size_t	i, failed = 0;
	int	ok;

	for (i = 0; i < n; i++) {
		if (rules_failure(r, in, o[i].start, o[i].end, &o[i].rule,
		    &o[i].msg) == 0 && in->rules.requires_qualification) {
			ok = qualification_check(r->ctx, uid, in->id,
			    o[i].start, &o[i].msg);
			if (ok != 1) {
				o[i].rule = "qualification";
				if (o[i].msg == NULL)
					o[i].msg = xstrdup("qualification "
					    "unknown");
			}
		}
		if (o[i].rule != NULL)
			failed++;
	}
	return (failed);
}

/*
 * Inside the write transaction: record the series and book every
 * occurrence that passed the rules and is free, counting the others by
 * kind.  Returns SQLITE_OK or a database error.
 */
static int
series_book(struct req *r, const struct instrument *in, struct booking *bk,
    const char *rrule, struct occurrence *o, size_t n, size_t *nrule,
    size_t *nclash)
{
	static const char *const q =
	    "INSERT INTO series (rrule, created) VALUES (:r, :now)";
	sqlite3_stmt	*st;
	char		*black, idtext[32];
	size_t		 i;
	int		 rc = SQLITE_OK;

	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":r", rrule);
	db_bind_int(st, ":now", db_now(r->ctx));
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	bk->series = sqlite3_last_insert_rowid(r->ctx->db);
	snprintf(idtext, sizeof idtext, "%lld", (long long)bk->series);
	if ((rc = db_audit(r->ctx, r->user->id, "series.create", "series",
	    idtext, json_pack("{s:s,s:s,s:I}", "instrument", in->code, "rrule",
	    rrule, "occurrences", (json_int_t)n))) != SQLITE_OK)
		return (rc);
	for (i = 0; i < n; i++) {
		if (o[i].rule != NULL)
			continue;
		black = NULL;
		switch (slot_state(r, in, o[i].start, o[i].end, 0, &black,
		    &o[i].conflicts, &rc)) {
		case -1:
			return (rc);
		case 1:
			o[i].rule = "blackout";
			o[i].msg = black;
			(*nrule)++;
			continue;
		case 2:
			o[i].rule = "conflict";
			xasprintf(&o[i].msg, "%s is already booked then",
			    in->code);
			(*nclash)++;
			continue;
		}
		if (policy_series(r->ctx, in, bk->uid, bk->inst, o[i].start,
		    o[i].end, &o[i].rule, &o[i].msg, &rc) != 0) {
			if (o[i].rule == NULL)
				return (rc);
			(*nrule)++;
			continue;
		}
		if ((rc = insert_reservation(r, in, bk, o[i].start, o[i].end,
		    &o[i].id)) != SQLITE_OK)
			return (rc);
	}
	return (SQLITE_OK);
}

/* Answer 422 (a rule) or 409 (clashes) listing every failed occurrence. */
static void
series_refuse(struct req *r, const struct instrument *in,
    struct occurrence *o, size_t n, size_t nrule, size_t nfail)
{
	json_t		*list, *conflicts, *extra;
	size_t		 i, first = n;
	char		*when;
	int		 suspended;

	list = json_array();
	conflicts = json_array();
	for (i = 0; i < n; i++) {
		if (o[i].rule == NULL)
			continue;
		json_array_append_new(list, occurrence_json(in, &o[i], i));
		if (o[i].conflicts != NULL)
			json_array_extend(conflicts, o[i].conflicts);
		if (first == n && (nrule == 0 || strcmp(o[i].rule,
		    "conflict") != 0))
			first = i;
	}
	when = time_format(o[first].start, in->zone);
	if (nrule > 0) {
		json_decref(conflicts);
		extra = json_pack("{s:s,s:I,s:o}", "rule", o[first].rule,
		    "occurrence", (json_int_t)first + 1, "occurrences", list);
		suspended = strcmp(o[first].rule, "suspended") == 0;
		api_error_json(r, suspended ? 403 : 422, suspended ?
		    "forbidden" : "rule", extra, "occurrence %zu of %zu "
		    "(%s) cannot be booked: %s%s", first + 1, n, when,
		    o[first].msg, nfail > 1 ? "; see occurrences for the "
		    "others" : "");
	} else {
		extra = json_pack("{s:o,s:o,s:n}", "conflicts", conflicts,
		    "occurrences", list, "next_free");
		api_error_json(r, 409, "conflict", extra, "%zu of %zu "
		    "occurrences clash, the first at %s; nothing was booked "
		    "(use skip_conflicts to book the free ones)", nfail, n,
		    when);
	}
	free(when);
}

/* Answer 201 {"series", "items", "skipped"} after the commit. */
static void
series_reply(struct req *r, const struct instrument *in, int64_t series,
    struct occurrence *o, size_t n)
{
	json_t	*items, *skipped, *j;
	size_t	 i;
	int	 rc;

	items = json_array();
	skipped = json_array();
	for (i = 0; i < n; i++) {
		if (o[i].id == 0) {
			json_array_append_new(skipped, occurrence_json(in, &o[i],
			    i));
			continue;
		}
		if ((j = reservation_get(r, o[i].id, &rc)) == NULL) {
			json_decref(items);
			json_decref(skipped);
			api_db_error(r, rc);
			return;
		}
		json_array_append_new(items, j);
	}
	api_reply(r, 201, json_pack("{s:I,s:o,s:o}", "series",
	    (json_int_t)series, "items", items, "skipped", skipped));
}

/*
 * Book the series that rrule makes of [start, end): all or nothing, or
 * with skip the occurrences that pass every rule and are free.  Sends the
 * reply.
 */
static void
create_series(struct req *r, const struct instrument *in,
    const struct booking *bk0, const char *rrule, int skip, time_t start,
    time_t end)
{
	struct booking		 bk = *bk0;
	struct occurrence	*o;
	time_t			*starts;
	size_t			 n, i, nrule, nclash = 0;
	char			*cause = NULL;
	int			 rc;

	if (recur_expand(rrule, in->zone, start, SERIES_MAX, &starts, &n,
	    &cause) == -1) {
		if (n > SERIES_MAX)
			api_error_json(r, 422, "rule", json_pack("{s:s,s:i}",
			    "rule", "series_max", "max", SERIES_MAX), "%s",
			    cause);
		else
			api_error_json(r, 400, "bad_request", json_pack("{s:s}",
			    "field", "repeat"), "%s", cause);
		free(cause);
		return;
	}
	if (check_qualified(r, in, bk.uid, start) == -1) {
		free(starts);
		return;
	}
	o = xcalloc(n, sizeof *o);
	for (i = 0; i < n; i++) {
		o[i].start = starts[i];
		o[i].end = starts[i] + (end - start);
	}
	free(starts);
	nrule = series_rules(r, in, bk.uid, o, n);
	if (nrule > 0 && (!skip || nrule == n)) {
		series_refuse(r, in, o, n, nrule, nrule);
		goto out;
	}
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	if ((rc = series_book(r, in, &bk, rrule, o, n, &nrule,
	    &nclash)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		goto out;
	}
	if ((nrule + nclash > 0 && !skip) || nrule + nclash == n) {
		db_rollback(r->ctx);
		series_refuse(r, in, o, n, nrule, nrule + nclash);
		goto out;
	}
	if ((rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		goto out;
	}
	series_reply(r, in, bk.series, o, n);
out:
	for (i = 0; i < n; i++) {
		free(o[i].msg);
		json_decref(o[i].conflicts);
	}
	free(o);
}

static void
api_reservations_create(struct req *r)
{
	static const char *const fields[] = { "instrument", "start", "end",
	    "duration", "purpose", "project", "user", "repeat",
	    "skip_conflicts", "usage_type", NULL };
	struct instrument	 in;
	struct booking		 bk;
	const char		*code, *repeat = NULL;
	time_t			 start, end;
	int64_t			 id = 0;
	int			 rc, skip = 0;

	memset(&bk, 0, sizeof bk);
	if (in_fields(r, r->body, fields) == -1 ||
	    in_string(r, r->body, "instrument", 1, &code) == -1 ||
	    in_interval(r, r->body, 1, &start, &end) == -1 ||
	    in_string(r, r->body, "purpose", 0, &bk.purpose) == -1 ||
	    in_string(r, r->body, "project", 0, &bk.project) == -1 ||
	    in_string(r, r->body, "repeat", 0, &repeat) == -1 ||
	    in_bool(r, r->body, "skip_conflicts", &skip) == -1 ||
	    usage_type_take(r, r->body, &bk.usage_type) == -1)
		return;
	if (skip && repeat == NULL) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "skip_conflicts"), "skip_conflicts goes with repeat");
		return;
	}
	if (instrument_load(r->ctx, code, 0, &in) == -1) {
		api_error(r, 404, "not_found", "no instrument %s", code);
		return;
	}
	if (booking_user(r, r->body, &in, &bk.uid, &bk.inst) == -1)
		goto out;
	if (repeat != NULL) {
		create_series(r, &in, &bk, repeat, skip, start, end);
		goto out;
	}
	if (check_rules(r, &in, start, end) == -1 ||
	    check_qualified(r, &in, bk.uid, start) == -1)
		goto out;
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	if (check_free(r, &in, start, end, 0) == -1 ||
	    policy_check_reply(r, &in, bk.uid, bk.inst, start, end, 0) == -1) {
		db_rollback(r->ctx);
		goto out;
	}
	if ((rc = insert_reservation(r, &in, &bk, start, end, &id)) !=
	    SQLITE_OK || (rc = db_commit(r->ctx)) !=
	    SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		goto out;
	}
	if ((rc = reservation_reply(r, id, 201)) != SQLITE_OK)
		api_db_error(r, rc);
out:
	instrument_free(&in);
}

/* Check a comma list of statuses; wrap it in commas for instr(). */
static int
q_statuses(struct req *r, char **out)
{
	const char	*v = req_query(r, "status");
	char		*copy, *p, *tok;
	size_t		 i;

	*out = NULL;
	if (v == NULL || *v == '\0')
		return (0);
	copy = xstrdup(v);
	for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
		for (i = 0; statuses[i] != NULL; i++) {
			if (strcmp(tok, statuses[i]) == 0)
				break;
		}
		if (statuses[i] == NULL) {
			free(copy);
			api_error_json(r, 400, "bad_request", json_pack("{s:s}",
			    "field", "status"), "status must be pending, "
			    "confirmed, rejected, cancelled, completed or no_show");
			return (-1);
		}
	}
	free(copy);
	xasprintf(out, ",%s,", v);
	return (0);
}

static void
bind_filters(struct req *r, sqlite3_stmt *st, const char *user,
    const char *statuses_csv, time_t from, int has_from, time_t to, int has_to)
{
	db_bind_text(st, ":inst", req_query(r, "instrument"));
	db_bind_text(st, ":site", req_query(r, "site"));
	db_bind_text(st, ":user", user);
	db_bind_text(st, ":institute", req_query(r, "institute"));
	db_bind_text(st, ":status", statuses_csv);
	/*
	 * Always bound, to far-away sentinels when not given, so that the
	 * start bounds are plain ranges on the (..., start) indexes.
	 */
	db_bind_int(st, ":from", has_from ? from : -LIST_TIME_FAR);
	db_bind_int(st, ":to", has_to ? to : LIST_TIME_FAR);
	if (req_query(r, "manages") != NULL) {
		db_bind_int(st, ":manages", r->user->id);
		db_bind_int(st, ":mall", r->user->role == ROLE_ADMIN);
	} else
		db_bind_int(st, ":mall", 0);
}

#define RES_FILTER \
	"WHERE (:inst IS NULL OR i.code = :inst) AND " \
	"(:site IS NULL OR s.code = :site) AND " \
	"(:user IS NULL OR u.login = :user) AND " \
	"(:institute IS NULL OR ins.code = :institute) AND " \
	"(:status IS NULL OR instr(:status, ',' || r.status || ',') > 0) AND " \
	"r.\"end\" > :from AND r.start < :to AND " \
	"r.start > :from - " LONGEST_SQL " AND " \
	"(:manages IS NULL OR :mall OR r.instrument_id IN (SELECT " \
	"instrument_id FROM user_instruments WHERE user_id = :manages)) "

/*
 * The list's statements, by the most selective filter given: with an
 * instrument, a user or an institute, an equality on its id (a constant
 * subquery) lets SQLite walk that column's (id, start) index in start
 * order and stop at the page, instead of scanning every booking by start;
 * the optional filters of RES_FILTER stay as residual terms.  Index 0 is
 * the general case.  With none of those but statuses, index 4: ST_ARMS,
 * below.
 */
#define RES_ORDER	"ORDER BY r.start, r.id LIMIT :limit OFFSET :offset"
#define RES_COUNT	"SELECT count(*) FROM (SELECT 1 " RES_FROM RES_FILTER
#define RES_COUNT_END	"LIMIT :cap)"
#define BY_INSTRUMENT \
	"AND r.instrument_id = (SELECT id FROM instruments WHERE code = :inst) "
#define BY_USER	"AND r.user_id = (SELECT id FROM users WHERE login = :user) "
#define BY_INSTITUTE \
	"AND r.institute_id = (SELECT id FROM institutes WHERE code = " \
	":institute) "

/*
 * Lists by status with nothing narrower (ST_ARMS): one arm per status,
 * each walking in start order a partial index that holds only bookings of
 * that status, merged by SQLite in start order (a compound SELECT whose
 * ORDER BY every arm already delivers: "MERGE (UNION ALL)" in the plan),
 * so that a page reads the page and the count what it counts, however
 * rare the statuses: walking every booking in start order, a list of the
 * no-shows and rejections took ~0.5 s of the loop at a million bookings.
 * Statuses other than confirmed are in reservations_status (migration
 * 0010; its condition is repeated word for word, as SQLite uses a partial
 * index only for a query that states it).  Confirmed bookings are those
 * not checked in (reservations_noshow, by start) and the few checked in
 * and not yet completed (reservations_in_use, by end, then sorted; named
 * with INDEXED BY, as SQLite would rather walk reservations_report by
 * start looking for them).  An arm whose status is not asked is switched
 * off by its parameter: :s0 .. :s4 left NULL (status = NULL matches
 * nothing), :c bound to 0.  So one statement serves every set of
 * statuses.  The ORDER BY names the columns by number: C_START and C_ID.
 */
#define ST_OTHER(k) \
	"AND r.status = :s" #k " AND r.status <> 'confirmed' UNION ALL "
#define ST_WAITING \
	"AND :c AND r.status = 'confirmed' AND r.checked_in IS NULL UNION ALL "
#define ST_IN_USE \
	"AND :c AND r.status = 'confirmed' AND r.checked_in IS NOT NULL "
#define ST_ARMS(sel) \
	sel RES_FROM RES_FILTER ST_OTHER(0) sel RES_FROM RES_FILTER ST_OTHER(1) \
	sel RES_FROM RES_FILTER ST_OTHER(2) sel RES_FROM RES_FILTER ST_OTHER(3) \
	sel RES_FROM RES_FILTER ST_OTHER(4) sel RES_FROM RES_FILTER ST_WAITING \
	sel "FROM reservations r INDEXED BY reservations_in_use " RES_JOINS \
	RES_FILTER ST_IN_USE
#define ST_ORDER	"ORDER BY 10, 1 LIMIT :limit OFFSET :offset"
_Static_assert(C_START == 9 && C_ID == 0, "ST_ORDER is by start, then id");

/* The statuses of ST_ARMS' parameters :s0 .. :s4, in order. */
static const char *const st_arm_status[] = {
	"pending", "rejected", "cancelled", "completed", "no_show"
};
static const char *const q_list[] = {
	RES_SELECT RES_FILTER RES_ORDER,
	RES_SELECT RES_FILTER BY_INSTRUMENT RES_ORDER,
	RES_SELECT RES_FILTER BY_USER RES_ORDER,
	RES_SELECT RES_FILTER BY_INSTITUTE RES_ORDER,
	ST_ARMS(RES_COLUMNS) ST_ORDER,
};
static const char *const q_list_count[] = {
	RES_COUNT RES_COUNT_END,
	RES_COUNT BY_INSTRUMENT RES_COUNT_END,
	RES_COUNT BY_USER RES_COUNT_END,
	RES_COUNT BY_INSTITUTE RES_COUNT_END,
	"SELECT count(*) FROM (" ST_ARMS("SELECT 1 ") RES_COUNT_END,
};

/* Switch on the arms of ST_ARMS for the statuses asked (",a,b,"). */
static void
bind_statuses(sqlite3_stmt *st, const char *statuses_csv)
{
	char	name[32], want[40];
	size_t	k;

	for (k = 0; k < sizeof st_arm_status / sizeof st_arm_status[0]; k++) {
		snprintf(want, sizeof want, ",%s,", st_arm_status[k]);
		if (strstr(statuses_csv, want) == NULL)
			continue;
		snprintf(name, sizeof name, ":s%zu", k);
		db_bind_text(st, name, st_arm_status[k]);
	}
	db_bind_int(st, ":c", strstr(statuses_csv, ",confirmed,") != NULL);
}

static void
api_reservations_list(struct req *r)
{
	sqlite3_stmt	*st;
	struct jsonbuf	 jb;
	const char	*user = req_query(r, "user");
	char		*sts = NULL;
	time_t		 from = 0, to = 0;
	int64_t		 limit, offset, total = 0;
	int		 has_from, has_to, rc, n, by = 0;

	if ((has_from = q_time(r, "from", &from)) == -1 ||
	    (has_to = q_time(r, "to", &to)) == -1 ||
	    q_limit(r, &limit, &offset) == -1 || q_statuses(r, &sts) == -1)
		return;
	if (offset > LIST_TOTAL_MAX) {
		free(sts);
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "offset"), "offset may be at most %d; narrow the list with "
		    "from and to", LIST_TOTAL_MAX);
		return;
	}
	if (req_query(r, "manages") != NULL &&
	    strcmp(req_query(r, "manages"), "me") != 0) {
		free(sts);
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "manages"), "manages takes only \"me\"");
		return;
	}
	if (user != NULL && strcmp(user, "me") == 0)
		user = r->user->login;
	if (req_query(r, "instrument") != NULL)
		by = 1;
	else if (user != NULL)
		by = 2;
	else if (req_query(r, "institute") != NULL)
		by = 3;
	else if (sts != NULL)
		by = 4;
	st = db_prepare(r->ctx, q_list_count[by]);
	bind_filters(r, st, user, sts, from, has_from, to, has_to);
	if (by == 4)
		bind_statuses(st, sts);
	db_bind_int(st, ":cap", LIST_TOTAL_MAX + 1);
	if ((rc = db_step(st)) == SQLITE_ROW)
		total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		goto fail;
	memset(&jb, 0, sizeof jb);
	JB_LIT(&jb, "{\"items\":[");
	st = db_prepare(r->ctx, q_list[by]);
	bind_filters(r, st, user, sts, from, has_from, to, has_to);
	if (by == 4)
		bind_statuses(st, sts);
	db_bind_int(st, ":limit", limit);
	db_bind_int(st, ":offset", offset);
	for (n = 0; (rc = db_step(st)) == SQLITE_ROW; n++) {
		if (n > 0)
			JB_LIT(&jb, ",");
		reservation_jb(r, st, &jb);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		jb_free(&jb);
		goto fail;
	}
	free(sts);
	JB_LIT(&jb, "],\"total\":");
	jb_int(&jb, total > LIST_TOTAL_MAX ? LIST_TOTAL_MAX : total);
	if (total > LIST_TOTAL_MAX)
		JB_LIT(&jb, ",\"total_capped\":true");
	JB_LIT(&jb, ",\"limit\":");
	jb_int(&jb, limit);
	JB_LIT(&jb, ",\"offset\":");
	jb_int(&jb, offset);
	JB_LIT(&jb, "}");
	api_reply_data(r, 200, "application/json; charset=utf-8", jb.p, jb.len);
	jb_free(&jb);
	return;
fail:
	free(sts);
	api_db_error(r, rc);
}

static void
api_reservations_show(struct req *r)
{
	int64_t	 id;
	int	 rc;

	if (path_id(r, &id) == -1)
		return;
	if ((rc = reservation_reply(r, id, 200)) == SQLITE_OK)
		return;
	if (rc == SQLITE_NOTFOUND)
		api_error(r, 404, "not_found", "no reservation %lld",
		    (long long)id);
	else
		api_db_error(r, rc);
}

/* What a change needs to know of the reservation it changes. */
struct current {
	int64_t	 id;
	int64_t	 instrument_id;
	int64_t	 user_id;
	time_t	 start;
	time_t	 end;
	char	*status;
	int64_t	 series;	/* series id, or 0 */
	time_t	 checked_in;	/* or 0 */
};

/*
 * Load reservation id for a change by the request's user: 404 if none,
 * 403 unless its owner, a manager of the instrument or an admin, 422 if
 * it no longer holds its slot.  Returns 0, or -1 after answering.
 */
static int
current_load(struct req *r, int64_t id, struct current *c,
    struct instrument *in)
{
	static const char *const q =
	    "SELECT instrument_id, user_id, start, \"end\", status, "
	    "coalesce(series_id, 0), coalesce(checked_in, 0) FROM "
	    "reservations WHERE id = :id";
	sqlite3_stmt	*st;

	memset(c, 0, sizeof *c);
	memset(in, 0, sizeof *in);
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":id", id);
	if (db_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		api_error(r, 404, "not_found", "no reservation %lld",
		    (long long)id);
		return (-1);
	}
	c->id = id;
	c->instrument_id = sqlite3_column_int64(st, 0);
	c->user_id = sqlite3_column_int64(st, 1);
	c->start = sqlite3_column_int64(st, 2);
	c->end = sqlite3_column_int64(st, 3);
	c->status = db_text(st, 4);
	c->series = sqlite3_column_int64(st, 5);
	c->checked_in = sqlite3_column_int64(st, 6);
	sqlite3_reset(st);
	if (instrument_load(r->ctx, NULL, c->instrument_id, in) == -1)
		fatalx("%s: reservation %lld has no instrument", __func__,
		    (long long)id);
	if (c->user_id != r->user->id && !auth_manages(r, in->id)) {
		api_error(r, 403, "forbidden", "only the booking's owner or a "
		    "manager of %s may change it", in->code);
		return (-1);
	}
	if (strcmp(c->status, "pending") != 0 &&
	    strcmp(c->status, "confirmed") != 0) {
		char *msg;

		xasprintf(&msg, "reservation %lld is %s and can no longer be "
		    "changed", (long long)id, c->status);
		rule_error(r, "status", msg);
		free(msg);
		return (-1);
	}
	return (0);
}

static int
update_times(struct req *r, struct current *c, time_t start, time_t end,
    const char *purpose, const char *project, const char *usage_type)
{
	static const char *const q =
	    "UPDATE reservations SET start = :s, \"end\" = :e, purpose = "
	    "coalesce(:p, purpose), project = coalesce(:proj, project), "
	    "usage_type = coalesce(:ut, usage_type), updated = :now, sequence = sequence + 1, affected_by_blackout = "
	    "CASE WHEN :moved THEN 0 ELSE affected_by_blackout END "
	    "WHERE id = :id";
	sqlite3_stmt	*st;
	char		 idtext[32];
	int		 rc;

	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":s", start);
	db_bind_int(st, ":e", end);
	db_bind_text(st, ":p", purpose);
	db_bind_text(st, ":proj", project);
	db_bind_text(st, ":ut", usage_type);
	db_bind_int(st, ":now", db_now(r->ctx));
	db_bind_int(st, ":moved", start != c->start || end != c->end);
	db_bind_int(st, ":id", c->id);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	snprintf(idtext, sizeof idtext, "%lld", (long long)c->id);
	return (db_audit(r->ctx, r->user->id, "reservation.update",
	    "reservation", idtext, json_pack("{s:I,s:I,s:I,s:I,s:s?}",
	    "old_start", (json_int_t)c->start, "old_end", (json_int_t)c->end,
	    "start", (json_int_t)start, "end", (json_int_t)end, "usage_type",
	    usage_type)));
}

static void
api_reservations_patch(struct req *r)
{
	static const char *const fields[] = { "start", "end", "duration",
	    "purpose", "project", "usage_type", NULL };
	struct current		 c;
	struct instrument	 in;
	const char		*purpose = NULL, *project = NULL;
	const char		*usage_type = NULL;
	time_t			 start, end;
	int64_t			 id;
	int			 rc, moved;

	if (path_id(r, &id) == -1 || in_fields(r, r->body, fields) == -1 ||
	    in_string(r, r->body, "purpose", 0, &purpose) == -1 ||
	    in_string(r, r->body, "project", 0, &project) == -1 ||
	    usage_type_take(r, r->body, &usage_type) == -1)
		return;
	if (current_load(r, id, &c, &in) == -1)
		goto out;
	start = c.start;
	end = c.end;
	if (json_object_get(r->body, "start") != NULL &&
	    json_object_get(r->body, "end") == NULL &&
	    json_object_get(r->body, "duration") == NULL) {
		if (in_time(r, r->body, "start", 1, &start) == -1)
			goto out;
		end = start + (c.end - c.start);
	} else if (in_interval(r, r->body, 0, &start, &end) == -1)
		goto out;
	moved = start != c.start || end != c.end;
	if (moved && check_rules(r, &in, start, end) == -1)
		goto out;
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	if (moved && (check_free(r, &in, start, end, c.id) == -1 ||
	    policy_check_reply(r, &in, c.user_id, 0, start, end, c.id) == -1)) {
		db_rollback(r->ctx);
		goto out;
	}
	if ((rc = update_times(r, &c, start, end, purpose, project,
	    usage_type)) !=
	    SQLITE_OK || (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		goto out;
	}
	if ((rc = reservation_reply(r, id, 200)) != SQLITE_OK)
		api_db_error(r, rc);
out:
	free(c.status);
	instrument_free(&in);
}

/*
 * Cancel one reservation (inside the caller's transaction).  A cancellation
 * by the booking's own user less than late_cancel_hours before its start is
 * recorded as late.  Returns SQLITE_OK or a database error.
 */
static int
cancel_one(struct req *r, int64_t id, int64_t user_id, time_t start,
    const char *reason)
{
	static const char *const q =
	    "UPDATE reservations SET status = 'cancelled', cancel_reason = :why, "
	    "late_cancellation = :late, updated = :now, sequence = sequence + 1 "
	    "WHERE id = :id";
	sqlite3_stmt	*st;
	char		 idtext[32];
	time_t		 now = db_now(r->ctx);
	int		 rc, late;

	late = user_id == r->user->id &&
	    start - now < r->ctx->cfg.late_cancel_hours * 3600L;
	st = db_prepare(r->ctx, q);
	db_bind_text(st, ":why", reason != NULL ? reason : "");
	db_bind_int(st, ":late", late);
	db_bind_int(st, ":now", now);
	db_bind_int(st, ":id", id);
	rc = db_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	snprintf(idtext, sizeof idtext, "%lld", (long long)id);
	return (db_audit(r->ctx, r->user->id, "reservation.cancel",
	    "reservation", idtext, json_pack("{s:s,s:b}", "reason",
	    reason != NULL ? reason : "", "late", late)));
}

/*
 * Cancel every future slot-holding occurrence of series (those starting
 * after now), inside the caller's transaction; their ids go to *ids.
 */
static int
cancel_series(struct req *r, int64_t series, const char *reason,
    json_t *ids)
{
	static const char *const q =
	    "SELECT id, user_id, start FROM reservations WHERE series_id = :s "
	    "AND status IN ('pending', 'confirmed') AND start > :now "
	    "ORDER BY start";
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":s", series);
	db_bind_int(st, ":now", db_now(r->ctx));
	while ((rc = db_step(st)) == SQLITE_ROW)
		json_array_append_new(ids, json_pack("[I,I,I]",
		    (json_int_t)sqlite3_column_int64(st, 0),
		    (json_int_t)sqlite3_column_int64(st, 1),
		    (json_int_t)sqlite3_column_int64(st, 2)));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (rc);
	for (i = 0; i < json_array_size(ids); i++) {
		json_t *row = json_array_get(ids, i);

		if ((rc = cancel_one(r, json_integer_value(json_array_get(row,
		    0)), json_integer_value(json_array_get(row, 1)),
		    json_integer_value(json_array_get(row, 2)), reason)) !=
		    SQLITE_OK)
			return (rc);
	}
	return (SQLITE_OK);
}

/* Answer {"series", "items"} with the reservations cancelled. */
static void
series_cancel_reply(struct req *r, int64_t series, json_t *ids)
{
	json_t	*items, *j;
	size_t	 i;
	int	 rc;

	items = json_array();
	for (i = 0; i < json_array_size(ids); i++) {
		if ((j = reservation_get(r, json_integer_value(json_array_get(
		    json_array_get(ids, i), 0)), &rc)) == NULL) {
			json_decref(items);
			api_db_error(r, rc);
			return;
		}
		json_array_append_new(items, j);
	}
	api_reply(r, 200, json_pack("{s:I,s:o}", "series", (json_int_t)series,
	    "items", items));
}

static void
api_reservations_cancel(struct req *r)
{
	static const char *const fields[] = { "reason", "series", NULL };
	struct current		 c;
	struct instrument	 in;
	const char		*reason = NULL;
	json_t			*ids = NULL, *body = r->body;
	int64_t			 id;
	int			 rc, series = 0;

	if (body == NULL)
		body = r->body = json_object();
	if (path_id(r, &id) == -1 || in_fields(r, body, fields) == -1 ||
	    in_string(r, body, "reason", 0, &reason) == -1 ||
	    in_bool(r, body, "series", &series) == -1)
		return;
	if (current_load(r, id, &c, &in) == -1)
		goto out;
	if (series && c.series == 0) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "series"), "reservation %lld is not part of a series",
		    (long long)id);
		goto out;
	}
	if (!series && c.end <= db_now(r->ctx)) {
		rule_error(r, "in_past", "a booking that has ended cannot be "
		    "cancelled");
		goto out;
	}
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	if (series) {
		ids = json_array();
		rc = cancel_series(r, c.series, reason, ids);
	} else
		rc = cancel_one(r, id, c.user_id, c.start, reason);
	if (rc != SQLITE_OK || (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		goto out;
	}
	if (series)
		series_cancel_reply(r, c.series, ids);
	else if ((rc = reservation_reply(r, id, 200)) != SQLITE_OK)
		api_db_error(r, rc);
out:
	json_decref(ids);
	free(c.status);
	instrument_free(&in);
}

/*
 * Load a reservation for a workflow action and check who asks: a manager
 * of the instrument (or an admin), or with owner_too also its owner.
 * Takes the optional body's fields.  Returns 0, or -1 after answering.
 */
static int
action_load(struct req *r, const char *const *fields, int owner_too,
    struct current *c, struct instrument *in)
{
	int64_t	id;

	memset(c, 0, sizeof *c);
	memset(in, 0, sizeof *in);
	if (r->body == NULL)
		r->body = json_object();
	if (path_id(r, &id) == -1 || in_fields(r, r->body, fields) == -1)
		return (-1);
	if (current_load(r, id, c, in) == -1)
		return (-1);
	if (!auth_manages(r, in->id) && (!owner_too ||
	    c->user_id != r->user->id)) {
		api_error(r, 403, "forbidden", "only a manager of %s may do "
		    "this", in->code);
		return (-1);
	}
	return (0);
}

/* Run one UPDATE of reservation c and audit it; answer with the result. */
static void
action_write(struct req *r, const char *q, struct current *c, time_t end,
    const char *reason, const char *action)
{
	sqlite3_stmt	*st;
	char		 idtext[32];
	int		 rc;

	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		return;
	}
	st = db_prepare(r->ctx, q);
	db_bind_int(st, ":now", db_now(r->ctx));
	db_bind_int(st, ":id", c->id);
	if (sqlite3_bind_parameter_index(st, ":by") != 0)
		db_bind_int(st, ":by", r->user->id);
	if (sqlite3_bind_parameter_index(st, ":why") != 0)
		db_bind_text(st, ":why", reason != NULL ? reason : "");
	if (sqlite3_bind_parameter_index(st, ":e") != 0)
		db_bind_int(st, ":e", end);
	rc = db_step(st);
	sqlite3_reset(st);
	snprintf(idtext, sizeof idtext, "%lld", (long long)c->id);
	if (rc != SQLITE_DONE || (rc = db_audit(r->ctx, r->user->id, action,
	    "reservation", idtext, json_pack("{s:s?,s:I,s:I}", "reason",
	    reason, "old_end", (json_int_t)c->end, "end", (json_int_t)end))) !=
	    SQLITE_OK || (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		return;
	}
	if ((rc = reservation_reply(r, c->id, 200)) != SQLITE_OK)
		api_db_error(r, rc);
}

/* Approve or reject a pending reservation. */
static void
decide(struct req *r, int approve)
{
	static const char *const no_fields[] = { NULL };
	static const char *const reject_fields[] = { "reason", NULL };
	static const char *const q_approve =
	    "UPDATE reservations SET status = 'confirmed', decided = :now, "
	    "decided_by = :by, updated = :now, sequence = sequence + 1 "
	    "WHERE id = :id";
	static const char *const q_reject =
	    "UPDATE reservations SET status = 'rejected', cancel_reason = :why, "
	    "decided = :now, decided_by = :by, updated = :now, "
	    "sequence = sequence + 1 WHERE id = :id";
	struct current		 c;
	struct instrument	 in;
	const char		*reason = NULL;
	char			*msg;

	if (action_load(r, approve ? no_fields : reject_fields, 0, &c,
	    &in) == -1 || in_string(r, r->body, "reason", 0, &reason) == -1)
		goto out;
	if (strcmp(c.status, "pending") != 0) {
		xasprintf(&msg, "reservation %lld is %s, not pending",
		    (long long)c.id, c.status);
		rule_error(r, "status", msg);
		free(msg);
		goto out;
	}
	if (approve && c.end <= db_now(r->ctx)) {
		rule_error(r, "in_past", "a booking that has ended cannot be "
		    "approved");
		goto out;
	}
	action_write(r, approve ? q_approve : q_reject, &c, c.end, reason,
	    approve ? "reservation.approve" : "reservation.reject");
out:
	free(c.status);
	instrument_free(&in);
}

static void
api_reservations_approve(struct req *r)
{
	decide(r, 1);
}

static void
api_reservations_reject(struct req *r)
{
	decide(r, 0);
}

static void
api_reservations_checkin(struct req *r)
{
	static const char *const fields[] = { NULL };
	static const char *const q =
	    "UPDATE reservations SET checked_in = :now, updated = :now, "
	    "sequence = sequence + 1 WHERE id = :id";
	struct current		 c;
	struct instrument	 in;
	time_t			 now = db_now(r->ctx);
	char			*msg;

	if (action_load(r, fields, 1, &c, &in) == -1)
		goto out;
	if (strcmp(c.status, "confirmed") != 0) {
		xasprintf(&msg, "reservation %lld is %s; only a confirmed "
		    "booking can be checked in", (long long)c.id, c.status);
		rule_error(r, "status", msg);
		free(msg);
		goto out;
	}
	if (c.checked_in != 0) {
		rule_error(r, "checked_in", "this booking is already checked in");
		goto out;
	}
	if (now < c.start - CHECKIN_EARLY || now >= c.end) {
		xasprintf(&msg, "check-in is open from %d minutes before the "
		    "start until the end of the booking", CHECKIN_EARLY / 60);
		rule_error(r, "checkin_window", msg);
		free(msg);
		goto out;
	}
	action_write(r, q, &c, c.end, NULL, "reservation.checkin");
out:
	free(c.status);
	instrument_free(&in);
}

static void
api_reservations_checkout(struct req *r)
{
	static const char *const fields[] = { NULL };
	static const char *const q =
	    "UPDATE reservations SET status = 'completed', checked_out = :now, "
	    "\"end\" = :e, updated = :now, sequence = sequence + 1 "
	    "WHERE id = :id";
	struct current		 c;
	struct instrument	 in;
	time_t			 now = db_now(r->ctx), end;

	if (action_load(r, fields, 1, &c, &in) == -1)
		goto out;
	if (strcmp(c.status, "confirmed") != 0 || c.checked_in == 0) {
		rule_error(r, "not_checked_in", "only a checked-in booking can "
		    "be checked out; check in first");
		goto out;
	}
	/* An early check-out frees the rest: the end moves to the grid. */
	end = rules_align_up(&in.rules, in.zone, now);
	if (end <= c.start)
		end = c.start + in.rules.granularity_min * 60L;
	if (end > c.end)
		end = c.end;
	action_write(r, q, &c, end, NULL, "reservation.checkout");
out:
	free(c.status);
	instrument_free(&in);
}
