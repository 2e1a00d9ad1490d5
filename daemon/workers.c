/*
 * workers.c: what the daemon's worker threads share (reports in
 * api-reports.c, feed queries in feedjob.c).
 *
 * A worker runs long reading off the event loop with its own read-only
 * SQLite connection (WAL lets it read one consistent snapshot while the
 * loop writes), below the loop's priority, and hands its finished job
 * back through a done pipe: the worker writes the job's address to the
 * pipe, and the loop, which watches the read end with an ordinary
 * libevent read event (so libevent needs no locking), calls the owner's
 * function with each job it reads there, on the loop thread.  What the
 * job holds and who frees it stay the owner's.
 */

#include "config.h"

#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "yiqid.h"

struct donepipe {
	int		 fds[2];
	struct event	*ev;
	void		(*done)(void *, void *);
	void		*arg;
};

static void
donepipe_read(evutil_socket_t fd, short events, void *arg)
{
	struct donepipe	*dp = arg;
	void		*job;

	while (read(fd, &job, sizeof job) == (ssize_t)sizeof job)
		dp->done(job, dp->arg);
}

/*
 * A pipe whose jobs reach done(job, arg) on the loop of base.  Returns
 * NULL (logged) if no pipe could be made.
 */
struct donepipe *
donepipe_new(struct event_base *base, void (*done)(void *, void *),
    void *arg)
{
	struct donepipe	*dp;

	dp = xcalloc(1, sizeof *dp);
	if (pipe2(dp->fds, O_CLOEXEC) == -1) {
		log_warn("worker pipe");
		free(dp);
		return (NULL);
	}
	/*
	 * The loop reads without blocking; a worker writes blocking (a
	 * pointer is far below PIPE_BUF, so each write is whole), so that a
	 * full pipe delays the worker instead of losing its job.
	 */
	if (fcntl(dp->fds[0], F_SETFL, O_NONBLOCK) == -1)
		fatal("worker pipe: fcntl");
	dp->done = done;
	dp->arg = arg;
	dp->ev = event_new(base, dp->fds[0], EV_READ | EV_PERSIST,
	    donepipe_read, dp);
	if (dp->ev == NULL || event_add(dp->ev, NULL) == -1)
		fatalx("cannot watch a worker pipe");
	return (dp);
}

/* From a worker thread: hand job to the loop. */
void
donepipe_post(struct donepipe *dp, void *job)
{
	while (write(dp->fds[1], &job, sizeof job) == -1 && errno == EINTR)
		continue;
}

/* Close the pipe; jobs posted and not yet read are the caller's. */
void
donepipe_free(struct donepipe *dp)
{
	if (dp == NULL)
		return;
	event_free(dp->ev);
	close(dp->fds[0]);
	close(dp->fds[1]);
	free(dp);
}

/*
 * In a worker thread: run below the loop's priority, so that on a busy
 * machine the work takes longer rather than delaying bookings (Linux
 * nices threads one by one).
 */
void
worker_nice(int nice)
{
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

/*
 * In a worker thread: open path read-only for this thread alone.  Returns
 * SQLITE_OK, or an SQLite error with the reason in *cause (allocated).
 */
int
worker_db_open(const char *path, int busy_timeout, sqlite3 **db,
    char **cause)
{
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		xasprintf(cause, "opening %s read-only: %s", path, *db != NULL ?
		    sqlite3_errmsg(*db) : "no memory");
		sqlite3_close(*db);
		*db = NULL;
		return (SQLITE_CANTOPEN);
	}
	sqlite3_busy_timeout(*db, busy_timeout);
	return (SQLITE_OK);
}
