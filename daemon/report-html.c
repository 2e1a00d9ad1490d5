/*
 * report-html.c: the utilisation report as one self-contained HTML page
 * that a park manager can open or print: inline CSS and SVG, no scripts,
 * no external assets.  It shows the headline figures, utilisation per site
 * and per category as bar charts, a weekday x hour heat map of booked
 * hours for the busiest instruments, the settlement and the groups table.
 *
 * The page is also well-formed XML (every element closed, only the five
 * XML entities), so it can be checked with an XML parser.  Every text
 * that comes from the database goes through html_text(), which escapes it.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define BAR_W		560	/* width of the longest bar, px */
#define BAR_H		22
#define LABEL_W		170
#define CELL		18	/* heat map cell, px */

static const char *const weekdays[] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
};

static const char css[] =
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}"
    "table{border-collapse:collapse;font-size:.9em}"
    "th,td{border:1px solid #bbb;padding:.25em .5em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    ".head td{border:none;padding:.2em 1.2em .2em 0;font-size:1.05em}"
    ".head b{font-size:1.3em}"
    "svg text{font-family:sans-serif;font-size:12px}"
    "@media print{body{margin:0}}";

/* Write s escaped for HTML text and attribute values. */
static void
html_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static void
html_hours(FILE *f, int64_t sec)
{
	fprintf(f, "%.1f", sec / 3600.0);
}

static void
html_ratio(FILE *f, int64_t num, int64_t den, int valid)
{
	if (!valid || den == 0)
		fputs("–", f);
	else
		fprintf(f, "%.1f%%", 100.0 * (double)num / (double)den);
}

static void
html_money(FILE *f, int64_t fen)
{
	fprintf(f, "%s%lld.%02lld", fen < 0 ? "-" : "",
	    (long long)(fen < 0 ? -fen : fen) / 100,
	    (long long)(fen < 0 ? -fen : fen) % 100);
}

static void
headline(FILE *f, const struct report *rep)
{
	const struct report_figs	*t = &rep->totals.f;

	fputs("<table class=\"head\"><tr><td>Available<br/><b>", f);
	html_hours(f, t->avail_s);
	fputs(" h</b></td><td>Booked<br/><b>", f);
	html_hours(f, t->booked_s);
	fputs(" h</b></td><td>Utilisation<br/><b>", f);
	html_ratio(f, t->booked_s, t->avail_s, 1);
	fputs("</b></td><td>Used (checked in)<br/><b>", f);
	html_hours(f, t->used_s);
	fputs(" h</b></td><td>Sharing rate<br/><b>", f);
	html_ratio(f, t->external_s, t->booked_s, 1);
	fputs("</b></td><td>Cross-district<br/><b>", f);
	html_hours(f, t->cross_s);
	fputs(" h</b></td><td>Charges<br/><b>¥", f);
	html_money(f, t->charges);
	fprintf(f, "</b></td></tr></table>\n<p>%lld bookings, %lld "
	    "cancellations (%lld late), %lld no-shows, %zu instruments.</p>\n",
	    (long long)t->bookings, (long long)t->cancellations,
	    (long long)t->late, (long long)t->no_shows, rep->ninstruments);
}

/* A horizontal bar chart of utilisation (booked / available) per row. */
static void
bar_chart(FILE *f, const char *title, const struct report_row *rows,
    size_t n)
{
	double	u, max = 1.0;
	size_t	i;
	int	h = (int)n * BAR_H + 10, w;

	for (i = 0; i < n; i++) {
		if (rows[i].f.avail_s > 0) {
			u = (double)rows[i].f.booked_s / rows[i].f.avail_s;
			if (u > max)
				max = u;
		}
	}
	fprintf(f, "<h2>Utilisation per ");
	html_text(f, title);
	fprintf(f, "</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "class=\"chart\" width=\"%d\" height=\"%d\" role=\"img\">\n",
	    LABEL_W + BAR_W + 80, h);
	for (i = 0; i < n; i++) {
		u = rows[i].f.avail_s > 0 ?
		    (double)rows[i].f.booked_s / rows[i].f.avail_s : 0;
		w = (int)(u / max * BAR_W + 0.5);
		fprintf(f, "<text x=\"0\" y=\"%zu\">", i * BAR_H + 16);
		html_text(f, *rows[i].key != '\0' ? rows[i].key : "(none)");
		fprintf(f, "</text><rect x=\"%d\" y=\"%zu\" width=\"%d\" "
		    "height=\"%d\" fill=\"#3b7dd8\"/><text x=\"%d\" y=\"%zu\">",
		    LABEL_W, i * BAR_H + 3, w, BAR_H - 6, LABEL_W + w + 6,
		    i * BAR_H + 16);
		html_ratio(f, rows[i].f.booked_s, rows[i].f.avail_s, 1);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
}

/* One instrument's weekday x hour heat map of booked hours. */
static void
heat_map(FILE *f, const struct report_heat *hm)
{
	int64_t	max = 0;
	int	d, h, x0 = 40, y0 = 16;
	double	a;

	for (d = 0; d < 7; d++)
		for (h = 0; h < 24; h++)
			if (hm->cell[d][h] > max)
				max = hm->cell[d][h];
	fputs("<h3>", f);
	html_text(f, hm->code);
	fputs(" (", f);
	html_hours(f, hm->booked_s);
	fprintf(f, " h)</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "class=\"heat\" width=\"%d\" height=\"%d\" role=\"img\">\n",
	    x0 + 24 * CELL + 4, y0 + 7 * CELL + 4);
	for (h = 0; h < 24; h += 3)
		fprintf(f, "<text x=\"%d\" y=\"12\">%02d</text>", x0 + h * CELL,
		    h);
	fputc('\n', f);
	for (d = 0; d < 7; d++) {
		fprintf(f, "<text x=\"0\" y=\"%d\">%s</text>", y0 + d * CELL + 13,
		    weekdays[d]);
		for (h = 0; h < 24; h++) {
			a = max > 0 ? (double)hm->cell[d][h] / max : 0;
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
			    "height=\"%d\" fill=\"#d8433b\" fill-opacity=\"%.3f\" "
			    "stroke=\"#eee\"><title>%s %02d:00 %.2f h</title>"
			    "</rect>", x0 + h * CELL, y0 + d * CELL, CELL, CELL,
			    0.05 + 0.95 * a, weekdays[d], h,
			    hm->cell[d][h] / 3600.0);
		}
		fputc('\n', f);
	}
	fputs("</svg>\n", f);
}

static void
settlement(FILE *f, const struct report *rep)
{
	size_t	i;

	fputs("<h2>Settlement</h2>\n", f);
	if (rep->npairs == 0) {
		fputs("<p>Nobody owes anybody for this period.</p>\n", f);
		return;
	}
	fputs("<table><tr><th>Level</th><th>Users of</th><th>owe the owners "
	    "in</th><th>Bookings</th><th>Hours</th><th>Charges (¥)</th></tr>\n",
	    f);
	for (i = 0; i < rep->npairs; i++) {
		fprintf(f, "<tr><td>%s</td><td>", rep->pairs[i].level == 0 ?
		    "district" : "institute");
		html_text(f, rep->pairs[i].payer);
		fputs("</td><td>", f);
		html_text(f, rep->pairs[i].payee);
		fprintf(f, "</td><td>%lld</td><td>",
		    (long long)rep->pairs[i].bookings);
		html_hours(f, rep->pairs[i].booked_s);
		fputs("</td><td>", f);
		html_money(f, rep->pairs[i].charges);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
group_row(FILE *f, const struct report_params *p, const struct report_row *row)
{
	const struct report_figs	*x = &row->f;
	int				 i;

	fputs("<tr><td>", f);
	html_text(f, row->key);
	fputs("</td><td>", f);
	if (row->has_avail)
		html_hours(f, x->avail_s);
	else
		fputs("–", f);
	fputs("</td><td>", f);
	html_hours(f, x->booked_s);
	fputs("</td><td>", f);
	html_ratio(f, x->booked_s, x->avail_s, row->has_avail);
	fputs("</td><td>", f);
	html_hours(f, x->used_s);
	fprintf(f, "</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld"
	    "</td><td>", (long long)x->bookings, (long long)x->cancellations,
	    (long long)x->late, (long long)x->no_shows);
	html_hours(f, x->external_s);
	fputs("</td><td>", f);
	html_ratio(f, x->external_s, x->booked_s, 1);
	fputs("</td><td>", f);
	html_hours(f, x->cross_s);
	fputs("</td><td>", f);
	html_money(f, x->charges);
	fputs("</td><td>", f);
	html_hours(f, x->effective_s);
	fprintf(f, " (%s)</td><td>", report_effective_basis(x));
	html_hours(f, x->service_s);
	fputs("</td><td>", f);
	if (row->has_avail)
		fprintf(f, "%lld", (long long)x->served);
	else
		fputs("–", f);
	fputs("</td><td>", f);
	if (row->has_avail && x->nbase > 0)
		fprintf(f, "%.1f%%%s", 100.0 * (x->effective_s / 3600.0) /
		    report_baseline_h(p, x->nbase), report_saturated(p, x) ?
		    " saturated" : "");
	else
		fputs("–", f);
	for (i = 0; i < USAGE_TYPES; i++) {
		fputs("</td><td>", f);
		html_hours(f, x->usage_s[i]);
	}
	fputs("</td></tr>\n", f);
}

static void
groups(FILE *f, const struct report *rep)
{
	size_t	i;

	fprintf(f, "<h2>By %s</h2>\n<table><tr><th>%s</th><th>Available h"
	    "</th><th>Booked h</th><th>Utilisation</th><th>Used h</th>"
	    "<th>Bookings</th><th>Cancelled</th><th>Late</th><th>No-shows</th>"
	    "<th>External h</th><th>Sharing</th><th>Cross-district h</th>"
	    "<th>Charges (¥)</th><th>Effective h (basis)</th>"
	    "<th>External service h</th><th>Institutes served</th>"
	    "<th>Of baseline</th><th>Research h</th><th>Teaching h</th>"
	    "<th>Service h</th><th>Open h</th></tr>\n",
	    report_by_name(rep->p->by), report_by_name(rep->p->by));
	for (i = 0; i < rep->ngroups; i++)
		group_row(f, rep->p, &rep->groups[i]);
	group_row(f, rep->p, &rep->totals);
	fputs("</table>\n", f);
}

/*
 * Render the report as an HTML page; returns it allocated (length in
 * *len), or NULL.
 */
char *
report_html(const struct report *rep, size_t *len)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 i;

	if ((f = open_memstream(&buf, len)) == NULL)
		return (NULL);
	fprintf(f, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/"
	    "xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	    "<title>Instrument utilisation ");
	html_text(f, rep->p->from_text);
	fputs(" – ", f);
	html_text(f, rep->p->to_text);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n"
	    "<h1>Instrument utilisation</h1>\n<p>", css);
	html_text(f, rep->p->from_text);
	fputs(" to ", f);
	html_text(f, rep->p->to_text);
	if (rep->p->site != NULL) {
		fputs(" · site ", f);
		html_text(f, rep->p->site);
	}
	if (rep->p->category != NULL) {
		fputs(" · category ", f);
		html_text(f, rep->p->category);
	}
	fputs("</p>\n", f);
	headline(f, rep);
	bar_chart(f, "site", rep->sites, rep->nsites);
	bar_chart(f, "category", rep->categories, rep->ncategories);
	fputs("<h2>Booked hours by weekday and hour (busiest instruments)"
	    "</h2>\n", f);
	if (rep->nheat == 0)
		fputs("<p>No bookings in this period.</p>\n", f);
	for (i = 0; i < rep->nheat; i++)
		heat_map(f, &rep->heat[i]);
	settlement(f, rep);
	groups(f, rep);
	fputs("<p><small>Definitions: docs/reports.md. Hours in the site's "
	    "local time; money in yuan.</small></p>\n</body>\n</html>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return (NULL);
	}
	return (buf);
}
