/*
 * workflow.c: the daemon's periodic work for the booking workflow.
 *
 * One persistent timer (ctx->ev_workflow) fires every timer_interval
 * seconds and marks confirmed bookings that were not checked in within
 * noshow_grace minutes of their start as no_show, and checked-in bookings
 * that were never checked out as completed at their end (checked_out =
 * end).  A no_show booking no longer holds its slot, so the rest of it can
 * be booked again.  The same transaction then evaluates new violations
 * (violations.c), so that a third no-show suspends its user.  The sweep
 * is one short BEGIN IMMEDIATE transaction; if the database is busy it is
 * simply tried again at the next tick.  Each change is audited with the
 * daemon itself (user NULL) as its author.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "yiqid.h"

#define SWEEP_MAX	500	/* bookings marked per tick at most */

/*
 * Inside the sweep's transaction: mark the rows q_find selects (at most
 * SWEEP_MAX) with q_mark and audit each as action.  Returns SQLITE_DONE
 * or a database error; *n counts the rows marked.
 */
static int
sweep_mark(struct yiqid *ctx, const char *q_find, const char *q_mark,
    time_t cut, time_t now, const char *action, int *n)
{
	sqlite3_stmt	*st, *up;
	char		 idtext[32];
	int64_t		 id;
	int		 rc;

	st = db_prepare(ctx, q_find);
	db_bind_int(st, ":cut", cut);
	db_bind_int(st, ":max", SWEEP_MAX);
	while ((rc = db_step(st)) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		up = db_prepare(ctx, q_mark);
		db_bind_int(up, ":now", now);
		db_bind_int(up, ":id", id);
		rc = db_step(up);
		sqlite3_reset(up);
		if (rc != SQLITE_DONE)
			break;
		snprintf(idtext, sizeof idtext, "%lld", (long long)id);
		if ((rc = db_audit(ctx, 0, action, "reservation", idtext,
		    json_pack("{s:i}", "grace_min", ctx->cfg.noshow_grace))) !=
		    SQLITE_OK)
			break;
		rc = SQLITE_ROW;
		(*n)++;
	}
	sqlite3_reset(st);
	return (rc);
}

/*
 * Mark overdue bookings as no_show, and checked-in bookings past their end
 * as completed, at time now.  Returns how many were marked, or -1 on a
 * database error (nothing changed).
 */
int
workflow_sweep(struct yiqid *ctx, time_t now)
{
	static const char *const q_noshow =
	    "SELECT id FROM reservations WHERE status = 'confirmed' AND "
	    "checked_in IS NULL AND start <= :cut ORDER BY start LIMIT :max";
	static const char *const q_mark_noshow =
	    "UPDATE reservations SET status = 'no_show', updated = :now, "
	    "sequence = sequence + 1 WHERE id = :id";
	static const char *const q_overrun =
	    "SELECT id FROM reservations WHERE status = 'confirmed' AND "
	    "checked_in IS NOT NULL AND \"end\" <= :cut ORDER BY \"end\" "
	    "LIMIT :max";
	static const char *const q_mark_done =
	    "UPDATE reservations SET status = 'completed', checked_out = "
	    "\"end\", updated = :now, sequence = sequence + 1 WHERE id = :id";
	int		 rc, n = 0;

	if ((rc = db_begin(ctx)) != SQLITE_OK)
		return (-1);
	rc = sweep_mark(ctx, q_noshow, q_mark_noshow,
	    now - ctx->cfg.noshow_grace * 60L, now, "reservation.no_show", &n);
	if (rc == SQLITE_DONE)
		rc = sweep_mark(ctx, q_overrun, q_mark_done, now, now,
		    "reservation.complete", &n);
	if (rc == SQLITE_DONE)
		rc = violations_sweep(ctx, now);
	if (rc != SQLITE_DONE || db_commit(ctx) != SQLITE_OK) {
		db_rollback(ctx);
		return (-1);
	}
	return (n);
}

static void
workflow_tick(evutil_socket_t fd, short events, void *arg)
{
	struct yiqid	*ctx = arg;
	int		 n;

	(void)fd;
	(void)events;
	if (ctx->stopping || ctx->txn_depth != 0)
		return;
	if ((n = workflow_sweep(ctx, db_now(ctx))) == -1)
		log_debug("%s: sweep deferred: %s", __func__,
		    sqlite3_errmsg(ctx->db));
	else if (n > 0)
		log_info("marked %d booking%s as no-show or completed", n, n == 1 ? "" : "s");
}

/* Start the periodic workflow timer on the daemon's event base. */
void
workflow_start(struct yiqid *ctx)
{
	ctx->ev_workflow = loop_every(ctx, ctx->cfg.timer_interval,
	    workflow_tick, ctx);
}

/* Stop and free the workflow timer, if it was started. */
void
workflow_stop(struct yiqid *ctx)
{
	if (ctx->ev_workflow != NULL) {
		event_free(ctx->ev_workflow);
		ctx->ev_workflow = NULL;
	}
}
