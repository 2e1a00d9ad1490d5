/*
 * jsonbuf.c: JSON written straight into a growing buffer, for answers that
 * are hot enough that building a jansson tree (an allocation per value)
 * and dumping it costs more than the rest of the request.  Strings are
 * escaped exactly as json_dumps() escapes them (", \, \b \f \n \r \t,
 * other controls as \u00XX, everything else as is), so an answer written
 * here is byte for byte what jansson would have written.
 */

#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

/* Make room for n more bytes. */
static char *
jb_room(struct jsonbuf *jb, size_t n)
{
	size_t	want;

	if (jb->len + n > jb->cap) {
		want = jb->cap == 0 ? 4096 : jb->cap;
		while (want < jb->len + n)
			want *= 2;
		jb->p = xreallocarray(jb->p, want, 1);
		jb->cap = want;
	}
	return (jb->p + jb->len);
}

/* Free a buffer's text and empty it. */
void
jb_free(struct jsonbuf *jb)
{
	free(jb->p);
	memset(jb, 0, sizeof *jb);
}

/* Append n bytes as they are (punctuation, keys already quoted). */
void
jb_raw(struct jsonbuf *jb, const char *s, size_t n)
{
	memcpy(jb_room(jb, n), s, n);
	jb->len += n;
}

/* Is s (NUL-terminated) valid UTF-8, as jansson demands of a string? */
static int
utf8_ok(const unsigned char *s)
{
	unsigned int	c, min;
	int		n;

	while (*s != '\0') {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			n = 1;
			c = *s & 0x1f;
			min = 0x80;
		} else if ((*s & 0xf0) == 0xe0) {
			n = 2;
			c = *s & 0x0f;
			min = 0x800;
		} else if ((*s & 0xf8) == 0xf0) {
			n = 3;
			c = *s & 0x07;
			min = 0x10000;
		} else
			return (0);
		for (s++; n > 0; n--, s++) {
			if ((*s & 0xc0) != 0x80)
				return (0);
			c = (c << 6) | (*s & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return (0);
	}
	return (1);
}

/*
 * Append s as a JSON string, or null if s is NULL or not UTF-8 (jansson
 * refuses such a string too).
 */
void
jb_str(struct jsonbuf *jb, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*u = (const unsigned char *)s, *run;
	char			*p;
	size_t			 n;

	if (s == NULL || !utf8_ok(u)) {
		jb_raw(jb, "null", 4);
		return;
	}
	jb_raw(jb, "\"", 1);
	for (;;) {
		for (run = u; *u >= 0x20 && *u != '"' && *u != '\\'; u++)
			;
		if (u > run)
			jb_raw(jb, (const char *)run, (size_t)(u - run));
		if (*u == '\0')
			break;
		p = jb_room(jb, 6);
		*p++ = '\\';
		n = 2;
		switch (*u) {
		case '"':
		case '\\':
			*p = (char)*u;
			break;
		case '\b':
			*p = 'b';
			break;
		case '\f':
			*p = 'f';
			break;
		case '\n':
			*p = 'n';
			break;
		case '\r':
			*p = 'r';
			break;
		case '\t':
			*p = 't';
			break;
		default:
			p[0] = 'u';
			p[1] = '0';
			p[2] = '0';
			p[3] = hex[*u >> 4];
			p[4] = hex[*u & 0xf];
			n = 6;
			break;
		}
		jb->len += n;
		u++;
	}
	jb_raw(jb, "\"", 1);
}

/* Append an integer. */
void
jb_int(struct jsonbuf *jb, int64_t v)
{
	char	buf[24], *p = buf + sizeof buf;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		*--p = '0' + (char)(u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	jb_raw(jb, p, (size_t)(buf + sizeof buf - p));
}

/* Append t as a quoted RFC 3339 time in zone (see time_format_r()). */
void
jb_time(struct jsonbuf *jb, time_t t, const char *zone)
{
	char	*p = jb_room(jb, TIME_FORMAT_LEN + 2);
	size_t	 n;

	p[0] = '"';
	n = time_format_r(t, zone, p + 1);
	p[n + 1] = '"';
	jb->len += n + 2;
}
