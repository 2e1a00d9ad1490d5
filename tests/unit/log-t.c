/*
 * log-t.c: unit tests of daemon/log.c writing to standard error: each line
 * whole (time stamp, "yiqid: ", text, newline), lines longer than the
 * formatting buffer intact, the level respected, and lines logged by
 * several threads at once never interleaved (8 threads, 2,000 lines each:
 * the former three writes per line failed this every time).
 */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "yiqid.h"

#define THREADS		8
#define LINES		2000
#define LONG		100

/* Send stderr to a fresh temporary file; returns its stream for reading. */
static FILE *
capture(void)
{
	FILE	*f;

	assert_non_null(f = tmpfile());
	assert_int_not_equal(dup2(fileno(f), STDERR_FILENO), -1);
	return (f);
}

/* Read line i (0-based) of f into a new string, without its newline. */
static char *
line_at(FILE *f, int i)
{
	char	*l = NULL;
	size_t	 n = 0;
	ssize_t	 len = -1;

	rewind(f);
	while (i-- >= 0)
		assert_true((len = getline(&l, &n, f)) > 0);
	assert_int_equal(l[len - 1], '\n');
	l[len - 1] = '\0';
	return (l);
}

/* "2026-11-28T18:00:00Z yiqid: " then the text. */
static const char *
text_of(const char *l)
{
	assert_true(strlen(l) >= 28);
	assert_int_equal(l[4], '-');
	assert_int_equal(l[10], 'T');
	assert_int_equal(l[19], 'Z');
	assert_memory_equal(l + 20, " yiqid: ", 8);
	return (l + 28);
}

static void
lines_whole(void **state)
{
	FILE	*f = capture();
	char	*big, *l;

	(void)state;
	big = malloc(5001);
	memset(big, 'b', 5000);
	big[5000] = '\0';
	log_init(0, LOG_INFO);
	log_info("short %d", 42);
	log_debug("not at this level");
	log_info("%s|end", big);
	errno = ENOENT;
	log_warn("open %s", "x");
	l = line_at(f, 0);
	assert_string_equal(text_of(l), "short 42");
	free(l);
	l = line_at(f, 1);
	assert_int_equal(strlen(text_of(l)), 5004);
	assert_memory_equal(text_of(l), big, 5000);
	assert_string_equal(text_of(l) + 5000, "|end");
	free(l);
	l = line_at(f, 2);
	assert_string_equal(text_of(l), "open x: No such file or directory");
	free(l);
	free(big);
	fclose(f);
}

static void *
writer(void *arg)
{
	char	 s[LONG + 1];
	int	 i;

	memset(s, 'a' + (int)(intptr_t)arg, LONG);
	s[LONG] = '\0';
	for (i = 0; i < LINES; i++)
		log_info("%s", s);
	return (NULL);
}

static void
threads_never_interleave(void **state)
{
	FILE		*f = capture();
	pthread_t	 t[THREADS];
	char		*l = NULL;
	const char	*x;
	size_t		 n = 0, j;
	ssize_t		 len;
	int		 i, count = 0;

	(void)state;
	log_init(0, LOG_INFO);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	rewind(f);
	while ((len = getline(&l, &n, f)) > 0) {
		assert_int_equal(l[len - 1], '\n');
		l[len - 1] = '\0';
		x = text_of(l);
		assert_int_equal(strlen(x), LONG);
		for (j = 0; j < LONG; j++)
			assert_int_equal(x[j], x[0]);
		count++;
	}
	assert_int_equal(count, THREADS * LINES);
	free(l);
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_whole),
		cmocka_unit_test(threads_never_interleave),
	};
	int	saved, rc;

	/* The tests take stderr: keep cmocka's report on the real one. */
	saved = dup(STDERR_FILENO);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	dup2(saved, STDERR_FILENO);
	return (rc);
}
