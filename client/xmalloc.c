/*
 * xmalloc.c: allocation wrappers that print a message and exit when memory
 * runs out, so that call sites stay short (as tmux's xmalloc.c does).  The
 * client has nothing to save on the way out, so exiting is the whole story.
 */

#include "yiqi.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void __attribute__((noreturn))
xfatal(const char *what, size_t size)
{
	fprintf(stderr, "yiqi: out of memory (%s of %zu bytes)\n", what, size);
	exit(YIQI_EXIT_FAIL);
}

/* Allocate size bytes (at least one) or exit. */
void *
xmalloc(size_t size)
{
	void	*ptr;

	if (size == 0)
		size = 1;
	if ((ptr = malloc(size)) == NULL)
		xfatal("malloc", size);
	return (ptr);
}

/* Allocate nmemb zeroed elements of size bytes or exit. */
void *
xcalloc(size_t nmemb, size_t size)
{
	void	*ptr;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((ptr = calloc(nmemb, size)) == NULL)
		xfatal("calloc", nmemb * size);
	return (ptr);
}

/* Resize ptr to nmemb elements of size bytes, checking overflow, or exit. */
void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*new;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (SIZE_MAX / nmemb < size)
		xfatal("reallocarray", SIZE_MAX);
	if ((new = realloc(ptr, nmemb * size)) == NULL)
		xfatal("realloc", nmemb * size);
	return (new);
}

/* Copy a string or exit. */
char *
xstrdup(const char *s)
{
	char	*cp;

	if ((cp = strdup(s)) == NULL)
		xfatal("strdup", strlen(s) + 1);
	return (cp);
}

/* Print into a new string or exit; returns its length. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	ap;
	int	i;

	va_start(ap, fmt);
	i = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return (i);
}

/* Print a va_list into a new string or exit; returns its length. */
int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int	i;

	i = vasprintf(ret, fmt, ap);
	if (i == -1)
		xfatal("vasprintf", strlen(fmt));
	return (i);
}
