/*
 * workers-t.c: unit tests of daemon/workers.c.  Jobs posted from worker
 * threads through a done pipe reach the loop's function on the loop
 * thread, each once, in the order a thread posted them; a read-only
 * connection opens on a database a writer holds, reads it and cannot
 * write it; a database that cannot be opened is an error that names it.
 */

#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "yiqid.h"

#define THREADS		4
#define PER_THREAD	5000	/* 160 KB of pointers: more than a pipe holds */

struct poster {
	struct donepipe	*dp;
	int		 base;		/* first value it posts */
	pthread_t	 thread;
	int		 values[PER_THREAD];
};

struct seen {
	struct event_base	*base;
	pthread_t		 loop;
	int			 n;
	int			 wrong_thread;
	int			 last[THREADS];	/* last index seen per thread */
	int			 out_of_order;
	int			 count[THREADS * PER_THREAD];
};

static void *
post_all(void *arg)
{
	struct poster	*p = arg;
	int		 i;

	for (i = 0; i < PER_THREAD; i++) {
		p->values[i] = p->base + i;
		donepipe_post(p->dp, &p->values[i]);
	}
	return (NULL);
}

static void
got(void *job, void *arg)
{
	struct seen	*s = arg;
	int		 v = *(int *)job, t = v / PER_THREAD;

	if (!pthread_equal(pthread_self(), s->loop))
		s->wrong_thread++;
	if (v % PER_THREAD != s->last[t] + 1)
		s->out_of_order++;
	s->last[t] = v % PER_THREAD;
	s->count[v]++;
	if (++s->n == THREADS * PER_THREAD)
		event_base_loopbreak(s->base);
}

static void
jobs_reach_the_loop_once_in_order(void **state)
{
	struct poster	 p[THREADS];
	struct seen	*s;
	struct donepipe	*dp;
	struct timeval	 limit = { 5, 0 };
	int		 i;

	(void)state;
	assert_non_null(s = calloc(1, sizeof *s));
	assert_non_null(s->base = event_base_new());
	s->loop = pthread_self();
	for (i = 0; i < THREADS; i++)
		s->last[i] = -1;
	assert_non_null(dp = donepipe_new(s->base, got, s));
	for (i = 0; i < THREADS; i++) {
		p[i].dp = dp;
		p[i].base = i * PER_THREAD;
		assert_int_equal(pthread_create(&p[i].thread, NULL, post_all,
		    &p[i]), 0);
	}
	usleep(200000);		/* the pipe fills before the loop reads */
	event_base_loopexit(s->base, &limit);	/* a hang fails, not blocks */
	event_base_dispatch(s->base);
	for (i = 0; i < THREADS; i++)
		pthread_join(p[i].thread, NULL);
	assert_int_equal(s->n, THREADS * PER_THREAD);
	assert_int_equal(s->wrong_thread, 0);
	assert_int_equal(s->out_of_order, 0);
	for (i = 0; i < THREADS * PER_THREAD; i++)
		assert_int_equal(s->count[i], 1);
	donepipe_free(dp);
	donepipe_free(NULL);
	event_base_free(s->base);
	free(s);
}

static void
read_only_connection(void **state)
{
	char		 dir[] = "/tmp/workers-t.XXXXXX", path[64];
	sqlite3		*w = NULL, *r = NULL;
	sqlite3_stmt	*st;
	char		*cause = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/t.db", dir);
	assert_int_equal(sqlite3_open(path, &w), SQLITE_OK);
	assert_int_equal(sqlite3_exec(w, "PRAGMA journal_mode = WAL; "
	    "CREATE TABLE t (x); INSERT INTO t VALUES (42)", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(worker_db_open(path, 1000, &r, &cause), SQLITE_OK);
	assert_null(cause);
	assert_int_equal(sqlite3_prepare_v2(r, "SELECT x FROM t", -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 42);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(r, "INSERT INTO t VALUES (1)", NULL, NULL,
	    NULL), SQLITE_READONLY);
	sqlite3_close(r);
	sqlite3_close(w);
	unlink(path);
	snprintf(path, sizeof path, "%s/t.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/t.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

static void
open_failure_names_the_file(void **state)
{
	sqlite3	*db = NULL;
	char	*cause = NULL;

	(void)state;
	assert_int_equal(worker_db_open("/nonexistent-dir/x/t.db", 1000, &db,
	    &cause), SQLITE_CANTOPEN);
	assert_null(db);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "/nonexistent-dir/x/t.db"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jobs_reach_the_loop_once_in_order),
		cmocka_unit_test(read_only_connection),
		cmocka_unit_test(open_failure_names_the_file),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
