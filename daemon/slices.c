/*
 * slices.c: requests answered in slices of the event loop.
 *
 * A request whose work can take longer than a few milliseconds of the loop
 * (a find over every instrument, a walk of the audit log) does it a slice
 * at a time, so that bookings are not held up meanwhile: its pass function
 * works until slice_over() says its slice is used up, and says whether it
 * has answered.  If not, the request is deferred and the next pass runs
 * from a timer at the group commit's priority, the lowest (loop_later()),
 * so that whatever else is ready runs first.  Before each later pass the
 * client's socket is peeked: the work of a client that left is dropped and
 * logged with status 499.  At SIGTERM the drain waits for slices
 * (slices_busy()); what is still unanswered when it runs out is answered
 * 503 (slices_stop()).
 */

#include "config.h"

#include <sys/queue.h>

#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "yiqid.h"

/* One request being answered in slices. */
struct slice_job {
	struct req		*r;
	int			(*pass)(void *);	/* 1 once answered */
	void			(*free)(void *);
	void			*arg;
	int			 gap_ms;	/* between passes (tests) */
	struct event		*ev;
	LIST_ENTRY(slice_job)	 entry;		/* in ctx->slices */
};

static void
slice_free(struct slice_job *s)
{
	s->free(s->arg);
	if (s->ev != NULL)
		event_free(s->ev);
	free(s);
}

/* The next pass of a deferred request. */
static void
slice_next(evutil_socket_t fd, short what, void *arg)
{
	struct slice_job	*s = arg;
	struct req		*r = s->r;

	(void)fd;
	(void)what;
	if (req_client_left(r)) {
		/* No one to answer: stop, and log it as nginx would. */
		api_error(r, 499, "client_left", "the client left");
	} else if (!s->pass(s->arg)) {
		loop_later(r->ctx, &s->ev, slice_next, s, s->gap_ms);
		return;
	}
	LIST_REMOVE(s, entry);
	slice_free(s);
	req_finish(r);
}

/*
 * Answer r by calling pass(arg) until it returns 1 (it has answered), the
 * first time now, the next ones gap_ms apart (0 or less: in the loop's
 * next round; tests pass what test_ms() read, -1 when unset); free(arg) is
 * called after the last, or when the daemon stops.
 */
void
slice_run(struct req *r, int (*pass)(void *), void (*free_arg)(void *),
    void *arg, int gap_ms)
{
	struct slice_job	*s;

	if (pass(arg)) {
		free_arg(arg);
		return;
	}
	s = xcalloc(1, sizeof *s);
	s->r = r;
	s->pass = pass;
	s->free = free_arg;
	s->arg = arg;
	s->gap_ms = gap_ms > 0 ? gap_ms : 0;
	r->deferred = 1;
	LIST_INSERT_HEAD(&r->ctx->slices, s, entry);
	loop_later(r->ctx, &s->ev, slice_next, s, gap_ms);
}

/* Has the slice that began at t0 been used up? */
int
slice_over(const struct timespec *t0)
{
	struct timespec	t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ((t.tv_sec - t0->tv_sec) * 1000000L +
	    (t.tv_nsec - t0->tv_nsec) / 1000 >= SLICE_US);
}

/* Is a request still being answered in slices?  (The drain waits.) */
int
slices_busy(struct yiqid *ctx)
{
	return (!LIST_EMPTY(&ctx->slices));
}

/* The daemon stops: answer what is still being worked on 503. */
void
slices_stop(struct yiqid *ctx)
{
	struct slice_job	*s;
	struct req		*r;

	while ((s = LIST_FIRST(&ctx->slices)) != NULL) {
		LIST_REMOVE(s, entry);
		r = s->r;
		api_error(r, 503, "unavailable", "the server is stopping");
		slice_free(s);
		req_finish(r);
	}
}
