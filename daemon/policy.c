/*
 * policy.c: the booking policies that need the database and who books:
 * suspensions (violations.c), home priority (an instrument's
 * priority_days) and quotas (quotas.c).
 *
 * policy_check() runs inside the booking's write transaction, after the
 * slot was found free, for a new booking, a move and every occurrence of
 * a series; counting inside the same BEGIN IMMEDIATE transaction is what
 * keeps two concurrent bookings from both squeezing under a quota.  It
 * fills a struct refusal that policy_reply() sends (403 for a suspension,
 * 422 naming the rule otherwise).
 */

#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

/* Set *ref to a refusal; msg is formatted, extra (may be NULL) stolen. */
static int
refuse(struct refusal *ref, int status, const char *rule, json_t *extra,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
refuse(struct refusal *ref, int status, const char *rule, json_t *extra,
    const char *fmt, ...)
{
	va_list	ap;

	ref->status = status;
	ref->rule = rule;
	ref->extra = extra != NULL ? extra : json_object();
	json_object_set_new(ref->extra, "rule", json_string(rule));
	va_start(ap, fmt);
	xvasprintf(&ref->msg, fmt, ap);
	va_end(ap);
	return (1);
}

/* Who a move's booking belongs to: its user and billed institute. */
static int
booking_owner(struct yiqid *ctx, int64_t id, int64_t *uid, int64_t *inst)
{
	static const char *const q =
	    "SELECT user_id, institute_id FROM reservations WHERE id = :id";
	sqlite3_stmt	*st;
	int		 rc;

	st = db_prepare(ctx, q);
	db_bind_int(st, ":id", id);
	if ((rc = db_step(st)) == SQLITE_ROW) {
		*uid = sqlite3_column_int64(st, 0);
		*inst = sqlite3_column_int64(st, 1);
		rc = SQLITE_OK;
	}
	sqlite3_reset(st);
	return (rc);
}

/*
 * Home priority: may institute inst book a slot starting at start?  1 and
 * a refusal if not, 0 if so, -1 on a database error (rc in ref->rc).
 */
static int
priority_check(struct yiqid *ctx, const struct instrument *in, int64_t inst,
    time_t start, struct refusal *ref)
{
	static const char *const q =
	    "SELECT b.id = o.id, b.district_id = o.district_id, o.code, "
	    "d.code FROM institutes b, institutes o JOIN districts d ON "
	    "d.id = o.district_id WHERE b.id = :b AND o.id = :o";
	sqlite3_stmt	*st;
	time_t		 window, from;
	char		*when, *home;
	int		 ok;

	if (in->rules.priority_days <= 0)
		return (0);
	window = in->rules.priority_days * 86400L;
	if (start <= db_now(ctx) + window)
		return (0);
	st = db_prepare(ctx, q);
	db_bind_int(st, ":b", inst);
	db_bind_int(st, ":o", in->owner_id);
	if ((ref->rc = db_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (-1);
	}
	ok = sqlite3_column_int(st, in->rules.priority_district ? 1 : 0);
	if (in->rules.priority_district)
		xasprintf(&home, "district %s", sqlite3_column_text(st, 3));
	else
		xasprintf(&home, "%s", sqlite3_column_text(st, 2));
	sqlite3_reset(st);
	if (ok) {
		free(home);
		return (0);
	}
	from = start - window;
	when = time_format(from, in->zone);
	refuse(ref, 422, "priority", json_pack("{s:s,s:i}", "from", when,
	    "priority_days", in->rules.priority_days), "slots of %s more than "
	    "%d days ahead are kept for users of %s; you may book this one "
	    "from %s", in->code, in->rules.priority_days, home, when);
	free(when);
	free(home);
	return (1);
}

/*
 * Inside the write transaction: may user uid of institute inst (0: take
 * both from the booking exclude that is being moved) hold [start, end) of
 * instrument in?  Returns 0 if so, 1 with *ref filled if a policy refuses
 * it, -1 with a database error in ref->rc.  The caller frees *ref with
 * policy_reply() or refusal_free().
 */
int
policy_check(struct yiqid *ctx, const struct instrument *in, int64_t uid,
    int64_t inst, time_t start, time_t end, int64_t exclude,
    struct refusal *ref)
{
	time_t	until;
	char	*when;
	int	 rc;

	memset(ref, 0, sizeof *ref);
	if (inst == 0 && (ref->rc = booking_owner(ctx, exclude, &uid,
	    &inst)) != SQLITE_OK)
		return (-1);
	if ((until = suspended_until(ctx, uid, &ref->rc)) == -1)
		return (-1);
	if (until != 0) {
		when = time_format(until, in->zone);
		refuse(ref, 403, "suspended", json_pack("{s:s}", "until", when),
		    "booking is suspended until %s after repeated no-shows or "
		    "late cancellations", when);
		free(when);
		return (1);
	}
	if ((rc = priority_check(ctx, in, inst, start, ref)) != 0)
		return (rc);
	return (quota_check(ctx, in, uid, inst, start, end, exclude, ref));
}

/* Fill a refusal (for quotas.c and violations.c); returns 1. */
int
refusal_set(struct refusal *ref, int status, const char *rule, json_t *extra,
    const char *msg)
{
	return (refuse(ref, status, rule, extra, "%s", msg));
}

/* Free what a refusal holds. */
void
refusal_free(struct refusal *ref)
{
	free(ref->msg);
	json_decref(ref->extra);
	memset(ref, 0, sizeof *ref);
}

/* Answer a refusal (403 or 422), or the database error, and free it. */
void
policy_reply(struct req *r, struct refusal *ref)
{
	if (ref->msg == NULL)
		api_db_error(r, ref->rc != SQLITE_OK ? ref->rc : SQLITE_ERROR);
	else {
		api_error_json(r, ref->status, ref->status == 403 ?
		    "forbidden" : "rule", ref->extra, "%s", ref->msg);
		ref->extra = NULL;
	}
	refusal_free(ref);
}

/*
 * Inside the write transaction: policy_check() for a booking or a move
 * (exclude), answering a refusal or a database error.  Returns 0 if the
 * booking may go on, -1 after answering.
 */
int
policy_check_reply(struct req *r, const struct instrument *in, int64_t uid,
    int64_t inst, time_t start, time_t end, int64_t exclude)
{
	struct refusal	ref;

	if (policy_check(r->ctx, in, uid, inst, start, end, exclude,
	    &ref) == 0)
		return (0);
	policy_reply(r, &ref);
	return (-1);
}

/*
 * Inside the write transaction: policy_check() for one occurrence of a
 * series.  Returns 0 if it may be booked; otherwise -1 with the rule in
 * *rule and an allocated sentence in *msg (the caller's), or with *rule
 * NULL and a database error in *rc.
 */
int
policy_series(struct yiqid *ctx, const struct instrument *in, int64_t uid,
    int64_t inst, time_t start, time_t end, const char **rule, char **msg,
    int *rc)
{
	struct refusal	ref;

	switch (policy_check(ctx, in, uid, inst, start, end, 0, &ref)) {
	case 0:
		return (0);
	case 1:
		*rule = ref.rule;
		*msg = ref.msg;
		ref.msg = NULL;
		break;
	default:
		*rule = NULL;
		*rc = ref.rc != SQLITE_OK && ref.rc != SQLITE_DONE &&
		    ref.rc != SQLITE_ROW ? ref.rc : SQLITE_ERROR;
		break;
	}
	refusal_free(&ref);
	return (-1);
}
