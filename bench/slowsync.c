/*
 * slowsync.c: a disk whose fsync is as slow as the one issue 6 measured,
 * for bench/run.sh's second ratio against the naive program.
 *
 * Issue 6's machine class syncs ~4,500 times a second (~222 µs each); the
 * VM the benchmark usually runs on syncs in ~70 µs, which turns the naive
 * one-fsync-per-booking design from fsync-bound (as the issue describes
 * it) into CPU-bound.  Preloaded (LD_PRELOAD) into a server, this object
 * wraps fsync(2) and fdatasync(2): the real call is made, then the caller
 * sleeps until SLOWSYNC_US microseconds (default 222) have passed since
 * the call began (with the thread's timer slack at 1 ns, so that the
 * sleep ends on time).  Nothing is skipped, only delayed; every other call is
 * untouched.  It is the same for both servers measured, yiqid and
 * bench/naive.  Unlike a real slow disk it does not queue concurrent
 * syncs behind each other (the checkpointer's and the loop's overlap).
 */

#define _GNU_SOURCE

#include <sys/prctl.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SLOWSYNC_DEFAULT_US	222

int	fsync(int);
int	fdatasync(int);

/* The configured sync time in µs: SLOWSYNC_US (0 to 1 s), else the default. */
static long
sync_us(void)
{
	const char	*s;
	char		*end;
	long		 v;

	if ((s = getenv("SLOWSYNC_US")) == NULL)
		return (SLOWSYNC_DEFAULT_US);
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0 || v > 1000000)
		return (SLOWSYNC_DEFAULT_US);
	return (v);
}

/* Sleep until the sync time has passed since t0. */
static void
pad(const struct timespec *t0)
{
	struct timespec	now, left;
	long		us, want;

	want = sync_us();
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (now.tv_sec - t0->tv_sec) * 1000000L +
	    (now.tv_nsec - t0->tv_nsec) / 1000;
	if (us >= want)
		return;
	prctl(PR_SET_TIMERSLACK, 1UL);	/* else sleeps overshoot by ~50 µs */
	left.tv_sec = (want - us) / 1000000L;
	left.tv_nsec = (want - us) % 1000000L * 1000L;
	while (nanosleep(&left, &left) == -1 && errno == EINTR)
		continue;
}

/* Call the real function name of fd, padded; its result and errno kept. */
static int
padded(const char *name, int fd)
{
	int		(*real)(int);
	struct timespec	t0;
	int		rc, saved;

	*(void **)&real = dlsym(RTLD_NEXT, name);
	if (real == NULL) {
		errno = ENOSYS;
		return (-1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = real(fd);
	saved = errno;
	pad(&t0);
	errno = saved;
	return (rc);
}

int
fsync(int fd)
{
	return (padded("fsync", fd));
}

int
fdatasync(int fd)
{
	return (padded("fdatasync", fd));
}
