/*
 * api-import.c: the inventory import, POST /api/v1/import/instruments.
 *
 * The body is CSV as RFC 4180 writes it (quoted fields, "" for a quote,
 * CRLF or LF line ends, an optional UTF-8 byte order mark) with a header
 * row that names instrument columns in any order.  The parser below is
 * small on purpose: it walks the buffer with an end pointer, never past
 * it, and refuses NUL bytes, text that is not UTF-8, over-long fields,
 * too many fields and too many rows.  Each row becomes a flat object of
 * text that goes through instrument_apply(), the same check as the JSON
 * API; all rows are written in one transaction, so one bad row answers 400
 * naming its line and field and changes nothing.
 */

#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define CSV_MAX_ROWS	10000
#define CSV_MAX_FIELDS	32

/* A CSV reader over one buffer. */
struct csv {
	const char	*p;		/* next byte */
	const char	*end;		/* one past the last byte */
	int		 line;	/* physical line of p, from 1 */
	char		 buf[TEXT_MAX + 1];
	size_t		 len;
};

/* One row: its fields (allocated) and the line it starts on. */
struct csv_row {
	char	*f[CSV_MAX_FIELDS];
	int	 n;
	int	 line;
};

static void	import_instruments(struct req *);

const struct route api_import_routes[] = {
	{ EVHTTP_REQ_POST, "/api/v1/import/instruments", R_ADMIN|R_RAW,
	    import_instruments },
	{ 0, NULL, 0, NULL }
};

static void
row_free(struct csv_row *row)
{
	while (row->n > 0)
		free(row->f[--row->n]);
}

static int
csv_put(struct csv *c, char ch, char **cause)
{
	if (c->len == TEXT_MAX) {
		*cause = xstrdup("a field is longer than 4096 bytes");
		return (-1);
	}
	c->buf[c->len++] = ch;
	return (0);
}

/* Read a quoted field, the opening quote already taken. */
static int
csv_quoted(struct csv *c, char **cause)
{
	for (;;) {
		if (c->p >= c->end) {
			*cause = xstrdup("a quoted field is not closed");
			return (-1);
		}
		if (*c->p == '"') {
			if (c->p + 1 < c->end && c->p[1] == '"') {
				if (csv_put(c, '"', cause) == -1)
					return (-1);
				c->p += 2;
				continue;
			}
			c->p++;
			break;
		}
		if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')
			c->p++;	/* CRLF inside a field: a newline */
		if (*c->p == '\n')
			c->line++;
		if (csv_put(c, *c->p++, cause) == -1)
			return (-1);
	}
	if (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
		*cause = xstrdup("text after a closing quote (write \"\" for a "
		    "quote inside a quoted field)");
		return (-1);
	}
	return (0);
}

/* Read an unquoted field up to a comma or the end of the line. */
static int
csv_plain(struct csv *c, char **cause)
{
	while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
	    *c->p != '\r') {
		if (*c->p == '"') {
			*cause = xstrdup("a quote inside an unquoted field "
			    "(quote the whole field)");
			return (-1);
		}
		if (csv_put(c, *c->p++, cause) == -1)
			return (-1);
	}
	return (0);
}

/* Take the end of a line (LF or CRLF) if one is next; -1 for a stray CR. */
static int
csv_eol(struct csv *c, char **cause)
{
	if (c->p < c->end && *c->p == '\r') {
		if (c->p + 1 >= c->end || c->p[1] != '\n') {
			*cause = xstrdup("a carriage return not followed by a "
			    "line feed");
			return (-1);
		}
		c->p++;
	}
	if (c->p < c->end && *c->p == '\n') {
		c->p++;
		c->line++;
	}
	return (0);
}

/*
 * Read the next row into *row.  Returns 1 for a row, 0 at the end of the
 * input, -1 on bad input with an allocated message in *cause.
 */
static int
csv_row(struct csv *c, struct csv_row *row, char **cause)
{
	row->n = 0;
	row->line = c->line;
	if (c->p >= c->end)
		return (0);
	for (;;) {
		if (row->n == CSV_MAX_FIELDS) {
			xasprintf(cause, "more than %d fields", CSV_MAX_FIELDS);
			return (-1);
		}
		c->len = 0;
		if (*c->p == '"') {
			c->p++;
			if (csv_quoted(c, cause) == -1)
				return (-1);
		} else if (csv_plain(c, cause) == -1)
			return (-1);
		c->buf[c->len] = '\0';
		if (!text_ok(c->buf)) {
			*cause = xstrdup("a field is not valid UTF-8 text or "
			    "holds control characters");
			return (-1);
		}
		row->f[row->n++] = xstrdup(c->buf);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		return (csv_eol(c, cause) == -1 ? -1 : 1);
	}
}

static void
import_error(struct req *r, int line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answer 400 naming the line (and field, if any). */
static void
import_error(struct req *r, int line, const char *field, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	json_t	*extra;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	extra = json_pack("{s:i}", "line", line);
	if (field != NULL)
		json_object_set_new(extra, "field", json_string(field));
	api_error_json(r, 400, "bad_request", extra, "line %d: %s", line, msg);
	free(msg);
}

/* Check the header row; -1 when refused (replied). */
static int
import_header(struct req *r, struct csv_row *h)
{
	int	i, j, code = 0;

	for (i = 0; i < h->n; i++) {
		if (!instrument_column(h->f[i])) {
			import_error(r, h->line, h->f[i], "unknown column "
			    "\"%s\"", h->f[i]);
			return (-1);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(h->f[i], h->f[j]) == 0) {
				import_error(r, h->line, h->f[i], "column "
				    "\"%s\" appears twice", h->f[i]);
				return (-1);
			}
		}
		code |= strcmp(h->f[i], "code") == 0;
	}
	if (!code) {
		import_error(r, h->line, "code", "the header has no \"code\" "
		    "column");
		return (-1);
	}
	return (0);
}

/* Write one row; -1 when refused (replied). */
static int
import_row(struct req *r, struct csv_row *h, struct csv_row *row,
    json_t *seen, json_t *items, int *created)
{
	json_t		*obj;
	const char	*code = NULL;
	char		*field, *cause;
	int64_t		 id, out;
	int		 i, rc;

	if (row->n != h->n) {
		import_error(r, row->line, NULL, "%d fields where the header "
		    "has %d", row->n, h->n);
		return (-1);
	}
	obj = json_object();
	for (i = 0; i < row->n; i++) {
		json_object_set_new(obj, h->f[i], json_string(row->f[i]));
		if (strcmp(h->f[i], "code") == 0)
			code = row->f[i];
	}
	if (json_object_get(seen, code) != NULL) {
		import_error(r, row->line, "code", "%s appears already on line "
		    "%lld", code, (long long)json_integer_value(
		    json_object_get(seen, code)));
		json_decref(obj);
		return (-1);
	}
	id = code_ok(code) ? db_lookup_id(r->ctx, "instruments", code) : 0;
	rc = instrument_apply(r->ctx, obj, IA_TEXT, id, r->user->id, &out,
	    &field, &cause);
	json_decref(obj);
	if (rc == 400 || rc == 409)
		import_error(r, row->line, field, "%s", cause);
	else if (rc != 0)
		api_db_error(r, sqlite3_extended_errcode(r->ctx->db));
	free(field);
	free(cause);
	if (rc != 0)
		return (-1);
	json_object_set_new(seen, code, json_integer(row->line));
	json_array_append_new(items, json_string(code));
	*created += id == 0;
	return (0);
}

/* Read and write every data row; -1 when refused (replied). */
static int
import_rows(struct req *r, struct csv *c, struct csv_row *h, json_t *items,
    int *created)
{
	struct csv_row	 row;
	json_t		*seen = json_object();
	char		*cause = NULL;
	int		 rc, nrows = 0;

	while ((rc = csv_row(c, &row, &cause)) == 1) {
		if (row.n == 1 && *row.f[0] == '\0') {	/* a blank line */
			row_free(&row);
			continue;
		}
		if (++nrows > CSV_MAX_ROWS) {
			import_error(r, row.line, NULL, "more than %d rows",
			    CSV_MAX_ROWS);
			rc = -2;
		} else if (import_row(r, h, &row, seen, items, created) == -1)
			rc = -2;
		row_free(&row);
		if (rc == -2)
			break;
	}
	if (rc == -1)
		import_error(r, c->line, NULL, "%s", cause);
	row_free(&row);
	free(cause);
	json_decref(seen);
	return (rc < 0 ? -1 : 0);
}

static void
import_instruments(struct req *r)
{
	struct csv	*c;
	struct csv_row	 h;
	json_t		*items = json_array();
	char		*cause = NULL;
	int		 rc, created = 0;

	memset(&h, 0, sizeof h);
	c = xcalloc(1, sizeof *c);
	c->p = r->raw;
	c->end = r->raw + r->rawlen;
	c->line = 1;
	if (memchr(r->raw, '\0', r->rawlen) != NULL) {
		api_error(r, 400, "bad_request",
		    "the CSV body holds a NUL byte");
		goto out;
	}
	if (r->rawlen >= 3 && memcmp(r->raw, "\xef\xbb\xbf", 3) == 0)
		c->p += 3;
	if ((rc = csv_row(c, &h, &cause)) != 1) {
		import_error(r, 1, NULL, "%s", rc == 0 ? "the CSV body is "
		    "empty (a header row naming the columns is needed)" :
		    cause);
		goto out;
	}
	if (import_header(r, &h) == -1)
		goto out;
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	if (import_rows(r, c, &h, items, &created) == -1) {
		db_rollback(r->ctx);
		goto out;
	}
	if ((rc = db_commit(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	api_reply(r, 200, json_pack("{s:i,s:i,s:O}", "created", created,
	    "updated", (int)json_array_size(items) - created, "items", items));
out:
	json_decref(items);
	row_free(&h);
	free(cause);
	free(c);
}
