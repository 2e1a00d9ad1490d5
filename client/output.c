/*
 * output.c: what the client prints on stdout.
 *
 * Humans get aligned tables and "label  value" lines; columns are padded by
 * display width, not bytes, so a Chinese name (two columns a character)
 * lines up: LC_CTYPE is set to C.UTF-8 and widths come from mbrtowc() and
 * wcwidth().  Every string from the server passes output_clean() first, so
 * control characters cannot reach the terminal.  With --json the server's
 * body is printed as it came, indented by two spaces.  Times from the server
 * already carry the site's offset, so they are shown by reformatting their
 * wall-clock part, as 2026-12-01 09:00.
 */

#include "yiqi.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define OUTPUT_LABEL_WIDTH	16

/* Set the character type locale so that widths can be measured. */
void
output_init(void)
{
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL &&
	    setlocale(LC_CTYPE, "C.utf8") == NULL)
		setlocale(LC_CTYPE, "");
}

/* Print a JSON value on stdout, indented by two spaces; NULL prints none. */
void
output_json(json_t *value)
{
	if (value == NULL)
		return;
	json_dumpf(value, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

/* Return how many terminal columns s takes. */
size_t
output_width(const char *s)
{
	mbstate_t	ps;
	wchar_t		wc;
	size_t		n, len, width = 0;
	int		w;

	memset(&ps, 0, sizeof ps);
	len = strlen(s);
	while (len > 0) {
		n = mbrtowc(&wc, s, len, &ps);
		if (n == (size_t)-1 || n == (size_t)-2) {
			memset(&ps, 0, sizeof ps);
			width++;
			s++;
			len--;
			continue;
		}
		if (n == 0)
			break;
		if ((w = wcwidth(wc)) > 0)
			width += w;
		s += n;
		len -= n;
	}
	return (width);
}

/* Copy s with control characters replaced by '?', allocated. */
char *
output_clean(const char *s)
{
	const unsigned char	*p;
	char			*out, *q;

	out = q = xmalloc(strlen(s) + 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*q++ = '?';
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			*q++ = '?';	/* C1 controls */
			p++;
		} else
			*q++ = *p;
	}
	*q = '\0';
	return (out);
}

/*
 * Show an RFC 3339 time as its wall-clock part, 2026-12-01 09:00; anything
 * else is shown as it is.  Returns buf.
 */
const char *
output_time(const char *rfc, char *buf, size_t len)
{
	if (rfc == NULL)
		rfc = "";
	if (strlen(rfc) >= 16 && rfc[4] == '-' && rfc[7] == '-' &&
	    (rfc[10] == 'T' || rfc[10] == 't' || rfc[10] == ' ') &&
	    rfc[13] == ':')
		snprintf(buf, len, "%.10s %.5s", rfc, rfc + 11);
	else
		snprintf(buf, len, "%s", rfc);
	return (buf);
}

/* Show an interval as 2026-12-01 09:00–11:00 (or with both dates), allocated. */
char *
output_interval(const char *start, const char *end)
{
	char	 a[64], b[64], *out;

	output_time(start, a, sizeof a);
	output_time(end, b, sizeof b);
	if (strlen(a) == 16 && strlen(b) == 16 && strncmp(a, b, 11) == 0)
		xasprintf(&out, "%s\xe2\x80\x93%s", a, b + 11);
	else
		xasprintf(&out, "%s\xe2\x80\x93%s", a, b);
	return (out);
}

/* Show an amount in fen as yuan, 12.50 CNY, allocated. */
char *
output_money(json_t *fen)
{
	json_int_t	 v;
	char		*out;

	if (!json_is_integer(fen))
		return (xstrdup("-"));
	v = json_integer_value(fen);
	xasprintf(&out, "%s%lld.%02lld CNY", v < 0 ? "-" : "",
	    (long long)(v < 0 ? -(v / 100) : v / 100),
	    (long long)(v < 0 ? -(v % 100) : v % 100));
	return (out);
}

/* Return the string member key of obj, or "" if it is missing or not one. */
const char *
output_str(json_t *obj, const char *key)
{
	const char	*s;

	if ((s = json_string_value(json_object_get(obj, key))) == NULL)
		return ("");
	return (s);
}

/* Print "label  value" with the values aligned in one column. */
void
output_field(const char *label, const char *value)
{
	char	*clean;
	size_t	 w;

	if (value == NULL || *value == '\0') {
		printf("%s\n", label);
		return;
	}
	clean = output_clean(value);
	w = output_width(label);
	printf("%s%*s%s\n", label, (int)(w < OUTPUT_LABEL_WIDTH ?
	    OUTPUT_LABEL_WIDTH - w : 1), "", clean);
	free(clean);
}

/*
 * After a page of a paged list (cmd_entry.page) of which shown items were
 * printed: say which of how many they were and how to get the next page,
 * if there may be more.  With a "total" in the answer that is known; without
 * one, a full page may be followed by more.  Past the command's largest
 * offset only narrowing (the hint narrow, if not NULL) helps.
 */
void
output_page_note(struct client *c, const struct cmd_entry *e, json_t *resp,
    size_t shown, const char *narrow)
{
	json_t		*jt = json_object_get(resp, "total");
	long long	 off = c->offset > 0 ? c->offset : 0;
	long long	 limit = c->limit != -1 ? c->limit : e->page;
	long long	 next = off + (long long)shown;
	char		 of[64] = "";
	int		 more, capped;

	if (json_is_integer(jt)) {
		capped = json_is_true(json_object_get(resp, "total_capped"));
		more = capped || next < json_integer_value(jt);
		snprintf(of, sizeof of, " of %s%lld", capped ?
		    "more than " : "", (long long)json_integer_value(jt));
	} else
		more = (long long)shown == limit;
	if (shown == 0) {
		if (off > 0)
			printf("(none past the first %lld%s)\n", off, of);
		return;
	}
	if (!more && off == 0)
		return;
	if (off == 0)
		printf("(%zu%s shown", shown, of);
	else
		printf("(%lld\xe2\x80\x93%lld%s shown", off + 1, next, of);
	if (more && e->page_max != 0 && next > e->page_max) {
		if (narrow != NULL)
			printf("; narrow with %s", narrow);
	} else if (more) {
		printf("; %s: --offset %lld", *of != '\0' ? "the next" :
		    "there may be more", next);
		if (narrow != NULL)
			printf(", or narrow with %s", narrow);
	}
	printf(")\n");
}

/* Start a table with ncols columns, whose headings follow as arguments. */
struct table *
table_create(unsigned int ncols, ...)
{
	struct table	*t;
	va_list		 ap;
	unsigned int	 i;

	t = xcalloc(1, sizeof *t);
	t->ncols = ncols;
	t->head = xcalloc(ncols, sizeof *t->head);
	va_start(ap, ncols);
	for (i = 0; i < ncols; i++)
		t->head[i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	return (t);
}

/* Add a row: ncols strings follow (NULL is shown empty); they are copied. */
void
table_add(struct table *t, ...)
{
	va_list		 ap;
	const char	*s;
	unsigned int	 i;

	t->cells = xreallocarray(t->cells, (size_t)(t->nrows + 1) * t->ncols,
	    sizeof *t->cells);
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		s = va_arg(ap, const char *);
		t->cells[t->nrows * t->ncols + i] = output_clean(s != NULL ?
		    s : "");
	}
	va_end(ap);
	t->nrows++;
}

static void
table_row(struct table *t, char **row, const size_t *widths, FILE *f)
{
	unsigned int	i, last;
	size_t		w;

	/* Trailing empty cells are not padded, so no line ends in blanks. */
	for (last = t->ncols - 1; last > 0 && *row[last] == '\0'; last--)
		;
	for (i = 0; i <= last; i++) {
		fputs(row[i], f);
		if (i == last)
			break;
		w = output_width(row[i]);
		fprintf(f, "%*s", (int)(widths[i] - w + 2), "");
	}
	fputc('\n', f);
}

/* Print the table: a heading row, then the rows, columns aligned. */
void
table_print(struct table *t, FILE *f)
{
	size_t		*widths, w;
	unsigned int	 i, r;

	widths = xcalloc(t->ncols, sizeof *widths);
	for (i = 0; i < t->ncols; i++)
		widths[i] = output_width(t->head[i]);
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			w = output_width(t->cells[r * t->ncols + i]);
			if (w > widths[i])
				widths[i] = w;
		}
	}
	table_row(t, t->head, widths, f);
	for (r = 0; r < t->nrows; r++)
		table_row(t, t->cells + r * t->ncols, widths, f);
	free(widths);
}

/* Free a table and every cell. */
void
table_free(struct table *t)
{
	unsigned int	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncols; i++)
		free(t->head[i]);
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->head);
	free(t->cells);
	free(t);
}

/* Join a JSON array of strings as "A, B", allocated ("" if none). */
char *
output_join(json_t *array)
{
	json_t		*item;
	size_t		 i;
	char		*out, *tmp;

	out = xstrdup("");
	json_array_foreach(array, i, item) {
		if (!json_is_string(item))
			continue;
		xasprintf(&tmp, "%s%s%s", out, *out != '\0' ? ", " : "",
		    json_string_value(item));
		free(out);
		out = tmp;
	}
	return (out);
}
