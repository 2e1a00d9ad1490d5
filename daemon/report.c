/*
 * report.c: the utilisation report (docs/reports.md defines every figure).
 *
 * report_run() runs on a worker thread (api-reports.c starts it) with its
 * own read-only SQLite connection, so it touches nothing of the daemon's
 * context and never calls libical, whose zone cache is not safe to share
 * between threads: zone offsets come precomputed in struct tzmap, built on
 * the loop thread by tzmap_build().  It loads the places and instruments
 * in scope, walks the blackouts and the bookings that overlap the period
 * once, adds every booking's figures to its instrument (and its institute),
 * then rolls the instruments up into the groups asked for and renders the
 * answer as JSON, CSV or HTML (report-html.c).  Hours are kept as integer
 * seconds until they are written out, so sums reconcile exactly.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define REPORT_HEAT_MAX	5	/* instruments in the heat map */

struct r_district {
	int64_t	 id;
	char	*code;
};

struct r_site {
	int64_t	 id;
	char	*code;
	int	 district;	/* index */
	int	 zone;		/* index into params zones, or -1 */
};

struct r_institute {
	int64_t			 id;
	char			*code;
	int			 district;
	int			 used;
	struct report_figs	 f;
};

struct r_instrument {
	int64_t			 id;
	char			*code;
	char			*category;
	int			 site;		/* index */
	int			 owner;		/* institute index */
	int			 active;
	struct hours		 hours;
	int64_t			 rate_int, rate_ext;
	int			 listed;
	struct report_figs	 f;
	uint64_t		*served;	/* bit per institute served */
	char			*name, *model, *status;	/* evaluation */
	char			*acquired, *classification, *responsible;
	int64_t			 value;		/* purchase value, fen */
};

/* Row id to table index, direct when the ids are dense enough. */
struct r_idmap {
	int		*ix;		/* by id: index, or -1 */
	int64_t		 nix;		/* ids 0 .. nix - 1 */
};

struct r_pairs {
	struct report_pair	*v;
	size_t			 n, cap;
	size_t			*slot;		/* hash: index + 1, 0 empty */
	size_t			 nslot;
};

struct r_data {
	sqlite3			*db;
	const struct report_params *p;
	struct r_district	*dist;
	size_t			 ndist;
	struct r_site		*site;
	size_t			 nsite;
	struct r_institute	*inst;
	size_t			 ninst;
	struct r_instrument	*in;
	size_t			 nin;
	struct span		*black;
	int64_t			*black_site, *black_in;
	size_t			 nblack;
	struct r_idmap		 in_map, inst_map;
	struct r_pairs		 pairs;
	size_t			 nwords;	/* of each served bitmap */
	struct report		 rep;
	char			*cause;
};

static const char *const by_names[] = {
	"instrument", "site", "institute", "category", "district", "owner"
};

/* The name of a grouping as the API writes it. */
const char *
report_by_name(enum report_by by)
{
	return (by_names[by]);
}

/* Parse a grouping name; -1 if unknown. */
int
report_by_parse(const char *s, enum report_by *by)
{
	size_t	i;

	for (i = 0; i < sizeof by_names / sizeof by_names[0]; i++) {
		if (strcmp(s, by_names[i]) == 0) {
			*by = (enum report_by)i;
			return (0);
		}
	}
	return (-1);
}

/* The Content-Type of a report format. */
const char *
report_content_type(enum report_format fmt)
{
	switch (fmt) {
	case REPORT_CSV:
		return ("text/csv; charset=utf-8");
	case REPORT_HTML:
		return ("text/html; charset=utf-8");
	case REPORT_EVALUATION:
		return ("text/csv; charset=utf-8");
	case REPORT_JSON:
		break;
	}
	return ("application/json; charset=utf-8");
}

static void
tzmap_push(struct tzmap *m, time_t t, int off)
{
	m->t = xreallocarray(m->t, m->n + 1, sizeof *m->t);
	m->off = xreallocarray(m->off, m->n + 1, sizeof *m->off);
	m->t[m->n] = t;
	m->off[m->n] = off;
	m->n++;
}

/*
 * Record zone's offsets over [from, to) (with a day's margin): sampled
 * daily, each change found to the second by bisection.  Loop thread only:
 * this calls libical.
 */
void
tzmap_build(struct tzmap *m, const char *zone, time_t from, time_t to)
{
	time_t	t, t2, lo, hi, mid;
	int	off, o2;

	memset(m, 0, sizeof *m);
	m->zone = xstrdup(zone);
	t = from - 86400;
	off = tz_offset(zone, t);
	tzmap_push(m, t, off);
	for (t2 = t + 86400; t < to + 86400; t = t2, t2 += 86400) {
		if ((o2 = tz_offset(zone, t2)) == off)
			continue;
		lo = t;
		hi = t2;
		while (hi - lo > 1) {
			mid = lo + (hi - lo) / 2;
			if (tz_offset(zone, mid) == off)
				lo = mid;
			else
				hi = mid;
		}
		off = o2;
		tzmap_push(m, hi, off);
	}
}

/* Free what the parameters own. */
void
report_params_free(struct report_params *p)
{
	size_t	i;

	for (i = 0; i < p->nzones; i++) {
		free(p->zones[i].zone);
		free(p->zones[i].t);
		free(p->zones[i].off);
	}
	free(p->zones);
	free(p->sites);
	free(p->site);
	free(p->category);
	free(p->from_text);
	free(p->to_text);
	memset(p, 0, sizeof *p);
}

static int
tz_at(const struct tzmap *m, time_t t)
{
	int	lo = 0, hi, mid;

	if (m == NULL || m->n == 0)
		return (0);
	hi = m->n - 1;
	while (lo < hi) {
		mid = (lo + hi + 1) / 2;
		if (m->t[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return (m->off[lo]);
}

/* Open seconds of an instrument in [a, b), split at offset changes. */
static int64_t
open_between(struct r_data *d, const struct r_instrument *in, time_t a,
    time_t b)
{
	const struct tzmap	*m = NULL;
	int64_t			 sum = 0;
	time_t			 s, e;
	int			 i, z = d->site[in->site].zone;

	if (z >= 0)
		m = &d->p->zones[z];
	if (m == NULL || m->n == 0)
		return (hours_open_seconds(&in->hours, 0, a, b));
	for (i = 0; i < m->n; i++) {
		s = i == 0 ? a : m->t[i];
		e = i + 1 < m->n ? m->t[i + 1] : b;
		if (s < a)
			s = a;
		if (e > b)
			e = b;
		if (s < e)
			sum += hours_open_seconds(&in->hours, m->off[i], s, e);
	}
	return (sum);
}

static int
prep(struct r_data *d, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(d->db, sql, -1, st, NULL) != SQLITE_OK) {
		xasprintf(&d->cause, "preparing a report query: %s",
		    sqlite3_errmsg(d->db));
		return (-1);
	}
	return (0);
}

static int
step_done(struct r_data *d, sqlite3_stmt *st, int rc)
{
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(&d->cause, "reading for a report: %s",
		    sqlite3_errstr(rc));
		return (-1);
	}
	return (0);
}

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	return (xstrdup(s != NULL ? (const char *)s : ""));
}

/* Index of id in a table sorted by id (the id is each element's first member). */
static int
find_id(const void *base, size_t n, size_t size, int64_t id)
{
	size_t	lo = 0, hi = n, mid;
	int64_t	v;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		v = *(const int64_t *)((const char *)base + mid * size);
		if (v == id)
			return ((int)mid);
		if (v < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (-1);
}

/*
 * Build the direct id-to-index map of a table sorted by id, unless its
 * ids are too sparse for one (find_id() answers then).
 */
static void
idmap_build(struct r_idmap *m, const void *base, size_t n, size_t size)
{
	int64_t	id, max;
	size_t	i;

	m->ix = NULL;
	m->nix = 0;
	if (n == 0)
		return;
	max = *(const int64_t *)((const char *)base + (n - 1) * size);
	if (max < 0 || (uint64_t)max > 16 * (uint64_t)n + 65536)
		return;
	m->nix = max + 1;
	m->ix = xreallocarray(NULL, (size_t)m->nix, sizeof *m->ix);
	memset(m->ix, 0xff, (size_t)m->nix * sizeof *m->ix);
	for (i = 0; i < n; i++) {
		id = *(const int64_t *)((const char *)base + i * size);
		if (id >= 0)
			m->ix[id] = (int)i;
	}
}

/* Index of id through its map, else by binary search. */
static int
idmap_find(const struct r_idmap *m, const void *base, size_t n, size_t size,
    int64_t id)
{
	if (m->ix != NULL)
		return (id >= 0 && id < m->nix ? m->ix[id] : -1);
	return (find_id(base, n, size, id));
}

static int
load_places(struct r_data *d)
{
	static const char *const q_dist =
	    "SELECT id, code FROM districts ORDER BY id";
	static const char *const q_site =
	    "SELECT id, code, district_id, timezone FROM sites ORDER BY id";
	static const char *const q_inst =
	    "SELECT id, code, district_id FROM institutes ORDER BY id";
	sqlite3_stmt	*st;
	const char	*zone;
	size_t		 z;
	int		 rc;

	if (prep(d, q_dist, &st) == -1)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		d->dist = xreallocarray(d->dist, d->ndist + 1, sizeof *d->dist);
		d->dist[d->ndist].id = sqlite3_column_int64(st, 0);
		d->dist[d->ndist++].code = col_text(st, 1);
	}
	if (step_done(d, st, rc) == -1 || prep(d, q_site, &st) == -1)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct r_site	*s;

		d->site = xreallocarray(d->site, d->nsite + 1, sizeof *d->site);
		s = &d->site[d->nsite++];
		s->id = sqlite3_column_int64(st, 0);
		s->code = col_text(st, 1);
		s->district = find_id(d->dist, d->ndist, sizeof *d->dist,
		    sqlite3_column_int64(st, 2));
		zone = (const char *)sqlite3_column_text(st, 3);
		s->zone = -1;
		for (z = 0; zone != NULL && z < d->p->nzones; z++) {
			if (strcmp(d->p->zones[z].zone, zone) == 0)
				s->zone = (int)z;
		}
	}
	if (step_done(d, st, rc) == -1 || prep(d, q_inst, &st) == -1)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct r_institute	*n;

		d->inst = xreallocarray(d->inst, d->ninst + 1, sizeof *d->inst);
		n = &d->inst[d->ninst++];
		memset(n, 0, sizeof *n);
		n->id = sqlite3_column_int64(st, 0);
		n->code = col_text(st, 1);
		n->district = find_id(d->dist, d->ndist, sizeof *d->dist,
		    sqlite3_column_int64(st, 2));
	}
	return (step_done(d, st, rc));
}

/* Is the instrument in the report's scope (filters, covered sites)? */
static int
in_scope(struct r_data *d, int site, const char *category)
{
	const struct report_params	*p = d->p;
	size_t				 i;

	if (site < 0)
		return (0);
	if (p->site != NULL && strcmp(p->site, d->site[site].code) != 0)
		return (0);
	if (p->category != NULL && strcmp(p->category, category) != 0)
		return (0);
	if (!p->restricted)
		return (1);
	for (i = 0; i < p->nsites; i++) {
		if (p->sites[i] == d->site[site].id)
			return (1);
	}
	return (0);
}

static int
load_instruments(struct r_data *d)
{
	static const char *const q =
	    "SELECT id, code, category, site_id, owner_id, status, "
	    "opening_hours, rate_internal, rate_external, name, model, "
	    "purchase_value, acquisition_date, classification_code, "
	    "responsible_person FROM instruments ORDER BY id";
	sqlite3_stmt		*st;
	struct r_instrument	*in;
	const char		*cat, *hours;
	char			*cause;
	int			 rc, site;

	if (prep(d, q, &st) == -1)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		site = find_id(d->site, d->nsite, sizeof *d->site,
		    sqlite3_column_int64(st, 3));
		cat = (const char *)sqlite3_column_text(st, 2);
		if (!in_scope(d, site, cat != NULL ? cat : ""))
			continue;
		d->in = xreallocarray(d->in, d->nin + 1, sizeof *d->in);
		in = &d->in[d->nin++];
		memset(in, 0, sizeof *in);
		in->id = sqlite3_column_int64(st, 0);
		in->code = col_text(st, 1);
		in->category = col_text(st, 2);
		in->site = site;
		in->owner = find_id(d->inst, d->ninst, sizeof *d->inst,
		    sqlite3_column_int64(st, 4));
		in->active = strcmp((const char *)sqlite3_column_text(st, 5),
		    "active") == 0;
		hours = (const char *)sqlite3_column_text(st, 6);
		cause = NULL;
		if (hours_parse(hours != NULL ? hours : "", &in->hours,
		    &cause) == -1) {
			free(cause);
			memset(&in->hours, 0, sizeof in->hours);
		}
		in->rate_int = sqlite3_column_int64(st, 7);
		in->rate_ext = sqlite3_column_int64(st, 8);
		in->status = col_text(st, 5);
		in->name = col_text(st, 9);
		in->model = col_text(st, 10);
		in->value = sqlite3_column_int64(st, 11);
		in->acquired = col_text(st, 12);
		in->classification = col_text(st, 13);
		in->responsible = col_text(st, 14);
		in->served = xcalloc(d->nwords, sizeof *in->served);
	}
	return (step_done(d, st, rc));
}

static int
span_cmp(const void *a, const void *b)
{
	const struct span	*x = a, *y = b;

	return (x->start < y->start ? -1 : x->start > y->start);
}

/* Available seconds: open hours minus the union of its blackouts. */
static int64_t
available(struct r_data *d, const struct r_instrument *in)
{
	struct span	*v;
	size_t		 i, n = 0, j;
	int64_t		 avail;
	time_t		 from = d->p->from, to = d->p->to;

	if (!in->active)
		return (0);
	avail = open_between(d, in, from, to);
	if (d->nblack == 0)
		return (avail);
	v = xcalloc(d->nblack, sizeof *v);
	for (i = 0; i < d->nblack; i++) {
		if (d->black_in[i] != in->id &&
		    d->black_site[i] != d->site[in->site].id)
			continue;
		v[n].start = d->black[i].start < from ? from : d->black[i].start;
		v[n].end = d->black[i].end > to ? to : d->black[i].end;
		n++;
	}
	qsort(v, n, sizeof *v, span_cmp);
	for (i = 0, j = 0; i < n; i++) {
		if (j > 0 && v[i].start <= v[j - 1].end) {
			if (v[i].end > v[j - 1].end)
				v[j - 1].end = v[i].end;
		} else
			v[j++] = v[i];
	}
	for (i = 0; i < j; i++)
		avail -= open_between(d, in, v[i].start, v[i].end);
	free(v);
	return (avail);
}

static int
load_blackouts(struct r_data *d)
{
	static const char *const q =
	    "SELECT coalesce(instrument_id, 0), coalesce(site_id, 0), start, "
	    "\"end\" FROM blackouts WHERE \"end\" > :from AND start < :to";
	sqlite3_stmt	*st;
	size_t		 n;
	int		 rc;

	if (prep(d, q, &st) == -1)
		return (-1);
	sqlite3_bind_int64(st, 1, d->p->from);
	sqlite3_bind_int64(st, 2, d->p->to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = d->nblack + 1;
		d->black = xreallocarray(d->black, n, sizeof *d->black);
		d->black_in = xreallocarray(d->black_in, n, sizeof *d->black_in);
		d->black_site = xreallocarray(d->black_site, n,
		    sizeof *d->black_site);
		d->black_in[d->nblack] = sqlite3_column_int64(st, 0);
		d->black_site[d->nblack] = sqlite3_column_int64(st, 1);
		d->black[d->nblack].start = sqlite3_column_int64(st, 2);
		d->black[d->nblack].end = sqlite3_column_int64(st, 3);
		d->nblack++;
	}
	return (step_done(d, st, rc));
}

static size_t
pair_hash(int level, const char *payer, const char *payee, size_t mask)
{
	uintptr_t	h;

	h = (uintptr_t)payer * 31 + (uintptr_t)payee * 17 + (uintptr_t)level;
	return ((size_t)(h ^ (h >> 7) ^ (h >> 17)) & mask);
}

/* Rebuild the hash of pair indices at twice the size. */
static void
pair_grow(struct r_pairs *ps)
{
	struct report_pair	*p;
	size_t			 i, j, mask;

	free(ps->slot);
	ps->nslot = ps->nslot == 0 ? 64 : ps->nslot * 2;
	ps->slot = xcalloc(ps->nslot, sizeof *ps->slot);
	mask = ps->nslot - 1;
	for (i = 0; i < ps->n; i++) {
		p = &ps->v[i];
		j = pair_hash(p->level, p->payer, p->payee, mask);
		while (ps->slot[j] != 0)
			j = (j + 1) & mask;
		ps->slot[j] = i + 1;
	}
}

/* Add a booking's hours and money to what payer owes payee. */
static void
pair_add(struct r_pairs *ps, int level, const char *payer, const char *payee,
    int64_t sec, int64_t charge)
{
	struct report_pair	*p;
	size_t			 j, mask;

	if (ps->n * 2 >= ps->nslot)
		pair_grow(ps);
	mask = ps->nslot - 1;
	j = pair_hash(level, payer, payee, mask);
	for (; ps->slot[j] != 0; j = (j + 1) & mask) {
		p = &ps->v[ps->slot[j] - 1];
		if (p->level == level && p->payer == payer &&
		    p->payee == payee)
			goto add;
	}
	if (ps->n == ps->cap) {
		ps->cap = ps->cap == 0 ? 16 : ps->cap * 2;
		ps->v = xreallocarray(ps->v, ps->cap, sizeof *ps->v);
	}
	ps->slot[j] = ps->n + 1;
	p = &ps->v[ps->n++];
	memset(p, 0, sizeof *p);
	p->level = level;
	p->payer = payer;
	p->payee = payee;
add:
	p->bookings++;
	p->booked_s += sec;
	p->charges += charge;
}

/* Spread booked seconds [s, e) of an instrument over local weekday x hour cells. */
static void
heat_add(struct r_data *d, const struct r_instrument *in, int64_t *cell,
    time_t s, time_t e)
{
	const struct tzmap	*m = NULL;
	int64_t			 l, days, hours, chunk;
	int			 z = d->site[in->site].zone, wd, h;

	if (z >= 0)
		m = &d->p->zones[z];
	while (s < e) {
		l = (int64_t)s + tz_at(m, s);
		hours = l >= 0 ? l / 3600 : (l - 3599) / 3600;
		days = hours >= 0 ? hours / 24 : (hours - 23) / 24;
		wd = (int)(((days + 3) % 7 + 7) % 7);	/* 1970-01-01: Thu */
		h = (int)(hours - days * 24);
		chunk = (hours + 1) * 3600 - l;
		if (chunk > e - s)
			chunk = e - s;
		cell[wd * 24 + h] += chunk;
		s += chunk;
	}
}

/* Add a booked booking's hours to the figures of one side. */
static void
figs_book(struct report_figs *f, int64_t sec, int64_t eff, int ext,
    int cross, int64_t charge, int usage)
{
	f->bookings++;
	f->booked_s += sec;
	f->usage_s[usage] += sec;
	f->effective_s += eff;
	f->charges += charge;
	if (ext) {
		f->external_s += sec;
		f->service_s += eff;
	}
	if (cross)
		f->cross_s += sec;
}

/*
 * A booking's used seconds inside the period from its check-in and
 * check-out, or -1 when it has not both.
 */
static int64_t
used_seconds(struct r_data *d, sqlite3_stmt *st)
{
	time_t	ci, co;

	if (sqlite3_column_type(st, 6) == SQLITE_NULL ||
	    sqlite3_column_type(st, 7) == SQLITE_NULL)
		return (-1);
	ci = sqlite3_column_int64(st, 6);
	co = sqlite3_column_int64(st, 7);
	if (ci < d->p->from)
		ci = d->p->from;
	if (co > d->p->to)
		co = d->p->to;
	return (co > ci ? co - ci : 0);
}

/* Add one booking row's figures to its instrument and institute. */
static void
booking_add(struct r_data *d, sqlite3_stmt *st)
{
	struct r_instrument	*in;
	struct r_institute	*ui, *oi;
	const char		*status, *usage;
	time_t			 start, end, s, e;
	int64_t			 sec, rate, charge, used, eff;
	__int128		 wide;
	int			 k, ext, cross, noshow, u;

	status = (const char *)sqlite3_column_text(st, 4);
	if (status == NULL || strcmp(status, "pending") == 0 ||
	    strcmp(status, "rejected") == 0)
		return;		/* counted nowhere */
	if ((k = idmap_find(&d->in_map, d->in, d->nin, sizeof *d->in,
	    sqlite3_column_int64(st, 0))) == -1)
		return;
	in = &d->in[k];
	if ((k = idmap_find(&d->inst_map, d->inst, d->ninst, sizeof *d->inst,
	    sqlite3_column_int64(st, 1))) == -1)
		return;
	ui = &d->inst[k];
	ui->used = 1;
	in->listed = 1;
	start = sqlite3_column_int64(st, 2);
	end = sqlite3_column_int64(st, 3);
	s = start < d->p->from ? d->p->from : start;
	e = end > d->p->to ? d->p->to : end;
	sec = e - s;
	if (strcmp(status, "cancelled") == 0) {
		in->f.cancellations++;
		ui->f.cancellations++;
		if (sqlite3_column_int(st, 5) != 0) {
			in->f.late++;
			ui->f.late++;
		}
		return;
	}
	noshow = strcmp(status, "no_show") == 0;
	if (noshow) {
		in->f.no_shows++;
		ui->f.no_shows++;
	}
	usage = (const char *)sqlite3_column_text(st, 8);
	if ((u = usage_type_index(usage != NULL ? usage : "")) == -1)
		u = 0;
	oi = in->owner >= 0 ? &d->inst[in->owner] : NULL;
	ext = oi != ui;
	cross = ui->district != d->site[in->site].district;
	rate = ext ? in->rate_ext : in->rate_int;
	wide = ((__int128)sec * rate + 1800) / 3600;
	charge = (int64_t)wide;
	/* Effective hours: used, else booked; a no-show has none. */
	eff = 0;
	if ((used = used_seconds(d, st)) >= 0) {
		in->f.used_s += used;
		ui->f.used_s += used;
	}
	if (noshow)
		;
	else if (used >= 0) {
		eff = used;
		in->f.measured++;
		ui->f.measured++;
	} else {
		eff = sec;
		in->f.fallback++;
		ui->f.fallback++;
		in->f.fallback_s += sec;
		ui->f.fallback_s += sec;
	}
	figs_book(&in->f, sec, eff, ext, cross, charge, u);
	figs_book(&ui->f, sec, eff, ext, cross, charge, u);
	if (ext && !noshow)
		in->served[(ui - d->inst) / 64] |= (uint64_t)1 <<
		    ((ui - d->inst) % 64);
	if (oi != NULL && ui->district != oi->district && ui->district >= 0 &&
	    oi->district >= 0)
		pair_add(&d->pairs, 0, d->dist[ui->district].code,
		    d->dist[oi->district].code, sec, charge);
	if (oi != NULL && ext && d->p->by == REPORT_BY_INSTITUTE)
		pair_add(&d->pairs, 1, ui->code, oi->code, sec, charge);
}

static int
load_bookings(struct r_data *d, volatile int *cancel)
{
	static const char *const q =
	    "SELECT instrument_id, institute_id, start, \"end\", status, "
	    "late_cancellation, checked_in, checked_out, usage_type "
	    "FROM reservations WHERE \"end\" > ?1 AND start < ?2 AND "
	    "start > ?1 - " LONGEST_SQL;
	sqlite3_stmt	*st;
	unsigned long	 n = 0;
	int		 rc;

	if (prep(d, q, &st) == -1)
		return (-1);
	sqlite3_bind_int64(st, 1, d->p->from);
	sqlite3_bind_int64(st, 2, d->p->to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((++n & 0xfff) == 0 && *cancel) {
			sqlite3_finalize(st);
			d->cause = xstrdup("the server is stopping");
			return (-1);
		}
		booking_add(d, st);
	}
	return (step_done(d, st, rc));
}

static void
figs_add(struct report_figs *to, const struct report_figs *f)
{
	int	i;

	to->avail_s += f->avail_s;
	to->booked_s += f->booked_s;
	to->used_s += f->used_s;
	to->external_s += f->external_s;
	to->cross_s += f->cross_s;
	to->charges += f->charges;
	to->bookings += f->bookings;
	to->cancellations += f->cancellations;
	to->late += f->late;
	to->no_shows += f->no_shows;
	to->effective_s += f->effective_s;
	to->service_s += f->service_s;
	to->fallback_s += f->fallback_s;
	to->measured += f->measured;
	to->fallback += f->fallback;
	for (i = 0; i < USAGE_TYPES; i++)
		to->usage_s[i] += f->usage_s[i];
	to->nbase += f->nbase;
}

static const char *
instrument_key(struct r_data *d, const struct r_instrument *in,
    enum report_by by)
{
	int	dist;

	switch (by) {
	case REPORT_BY_SITE:
		return (d->site[in->site].code);
	case REPORT_BY_CATEGORY:
		return (in->category);
	case REPORT_BY_DISTRICT:
		dist = d->site[in->site].district;
		return (dist >= 0 ? d->dist[dist].code : "");
	case REPORT_BY_OWNER:
		return (in->owner >= 0 ? d->inst[in->owner].code : "");
	default:
		break;
	}
	return (in->code);
}

static int
row_cmp(const void *a, const void *b)
{
	const struct report_row	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->key, y->key)) != 0)
		return (c);
	return (x->src < y->src ? -1 : x->src > y->src);
}

/* The number of bits set in a served bitmap. */
static int64_t
served_count(const uint64_t *w, size_t n)
{
	int64_t	c = 0;
	size_t	i;

	for (i = 0; i < n; i++)
		c += __builtin_popcountll(w[i]);
	return (c);
}

/* Roll the listed instruments up into rows keyed by the grouping. */
static struct report_row *
rollup(struct r_data *d, enum report_by by, size_t *nrows)
{
	struct report_row	*v;
	uint64_t		*u;
	size_t			 i, n = 0, j, w;

	v = xcalloc(d->nin + 1, sizeof *v);
	u = xcalloc(d->nwords, sizeof *u);
	for (i = 0; i < d->nin; i++) {
		if (!d->in[i].listed)
			continue;
		v[n].key = instrument_key(d, &d->in[i], by);
		v[n].has_avail = 1;
		v[n].f = d->in[i].f;
		v[n].src = i;
		n++;
	}
	qsort(v, n, sizeof *v, row_cmp);
	for (i = 0, j = 0; i < n; i++) {
		if (j == 0 || strcmp(v[j - 1].key, v[i].key) != 0) {
			if (j > 0)
				v[j - 1].f.served = served_count(u, d->nwords);
			memset(u, 0, d->nwords * sizeof *u);
			v[j++] = v[i];
		} else
			figs_add(&v[j - 1].f, &v[i].f);
		for (w = 0; w < d->nwords; w++)
			u[w] |= d->in[v[i].src].served[w];
	}
	if (j > 0)
		v[j - 1].f.served = served_count(u, d->nwords);
	free(u);
	*nrows = j;
	return (v);
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct report_pair	*x = a, *y = b;
	int				 c;

	if (x->level != y->level)
		return (x->level - y->level);
	if ((c = strcmp(x->payer, y->payer)) != 0)
		return (c);
	return (strcmp(x->payee, y->payee));
}

static int
heat_cmp(const void *a, const void *b)
{
	const struct report_heat	*x = a, *y = b;

	if (x->booked_s != y->booked_s)
		return (x->booked_s > y->booked_s ? -1 : 1);
	return (strcmp(x->code, y->code));
}

/* Read one instrument's booked slots in the period into its heat map. */
static int
heat_load(struct r_data *d, const struct r_instrument *in,
    struct report_heat *hm)
{
	static const char *const q =
	    "SELECT start, \"end\" FROM reservations "
	    "WHERE instrument_id = ?1 AND start < ?3 AND \"end\" > ?2 "
	    "AND start > ?2 - " LONGEST_SQL " "
	    "AND status IN ('confirmed', 'completed', 'no_show')";
	sqlite3_stmt	*st;
	time_t		 s, e;
	int		 rc;

	if (prep(d, q, &st) == -1)
		return (-1);
	sqlite3_bind_int64(st, 1, in->id);
	sqlite3_bind_int64(st, 2, d->p->from);
	sqlite3_bind_int64(st, 3, d->p->to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = sqlite3_column_int64(st, 0);
		e = sqlite3_column_int64(st, 1);
		heat_add(d, in, &hm->cell[0][0], s < d->p->from ? d->p->from :
		    s, e > d->p->to ? d->p->to : e);
	}
	return (step_done(d, st, rc));
}

/*
 * The heat maps of the busiest instruments (HTML only): chosen from the
 * figures of the one pass, then only their bookings are read again, so
 * the pass itself spends nothing on the map.
 */
static int
build_heat(struct r_data *d)
{
	struct report	*rep = &d->rep;
	size_t		 i, j, n = 0;

	if (d->p->format != REPORT_HTML)
		return (0);
	rep->heat = xcalloc(d->nin + 1, sizeof *rep->heat);
	for (i = 0; i < d->nin; i++) {
		if (d->in[i].f.booked_s == 0)
			continue;
		rep->heat[n].code = d->in[i].code;
		rep->heat[n].booked_s = d->in[i].f.booked_s;
		n++;
	}
	if (n > 0)
		qsort(rep->heat, n, sizeof *rep->heat, heat_cmp);
	rep->nheat = n < REPORT_HEAT_MAX ? n : REPORT_HEAT_MAX;
	for (i = 0; i < rep->nheat; i++) {
		for (j = 0; d->in[j].code != rep->heat[i].code; j++)
			;	/* the code is the instrument's own string */
		if (heat_load(d, &d->in[j], &rep->heat[i]) == -1)
			return (-1);
	}
	return (0);
}

/* Compute every figure into d->rep (inside the read transaction). */
static int
compute(struct r_data *d)
{
	struct report	*rep = &d->rep;
	uint64_t	*u;
	int64_t		 avail, nbase;
	size_t		 i, n = 0, w;

	rep->p = d->p;
	rep->ninstruments = d->nin;
	u = xcalloc(d->nwords, sizeof *u);
	for (i = 0; i < d->nin; i++) {
		d->in[i].f.avail_s = available(d, &d->in[i]);
		d->in[i].f.nbase = d->in[i].active;
		if (d->in[i].active)
			d->in[i].listed = 1;
		if (!d->in[i].listed)
			continue;
		rep->totals.f.avail_s += d->in[i].f.avail_s;
		rep->totals.f.nbase += d->in[i].f.nbase;
		for (w = 0; w < d->nwords; w++)
			u[w] |= d->in[i].served[w];
	}
	rep->totals.f.served = served_count(u, d->nwords);
	free(u);
	rep->totals.key = "total";
	rep->totals.has_avail = 1;
	if (d->p->by == REPORT_BY_INSTITUTE) {
		rep->groups = xcalloc(d->ninst + 1, sizeof *rep->groups);
		for (i = 0; i < d->ninst; i++) {
			if (!d->inst[i].used)
				continue;
			rep->groups[n].key = d->inst[i].code;
			rep->groups[n].f = d->inst[i].f;
			n++;
		}
		if (n > 0)
			qsort(rep->groups, n, sizeof *rep->groups, row_cmp);
		rep->ngroups = n;
	} else
		rep->groups = rollup(d, d->p->by, &rep->ngroups);
	avail = rep->totals.f.avail_s;
	nbase = rep->totals.f.nbase;
	for (i = 0; i < rep->ngroups; i++)
		figs_add(&rep->totals.f, &rep->groups[i].f);
	rep->totals.f.avail_s = avail;
	rep->totals.f.nbase = nbase;
	if (d->pairs.n > 0)	/* none: v is NULL, which qsort() may not get */
		qsort(d->pairs.v, d->pairs.n, sizeof *d->pairs.v, pair_cmp);
	rep->pairs = d->pairs.v;
	rep->npairs = d->pairs.n;
	if (d->p->format == REPORT_HTML) {
		rep->sites = rollup(d, REPORT_BY_SITE, &rep->nsites);
		rep->categories = rollup(d, REPORT_BY_CATEGORY,
		    &rep->ncategories);
	}
	return (build_heat(d));
}

/* A number written as the shortest text that reads back as the same double. */
char *
report_num(double v)
{
	char	*s;
	int	 prec;

	if (v == (double)(int64_t)v && v > -1e15 && v < 1e15) {
		xasprintf(&s, "%.0f", v);
		return (s);
	}
	/*
	 * When a text of 15 digits or fewer reads back as v, %.15g is that
	 * text: v is within half an ulp (~1.1e-16 of v) of it, well inside
	 * half a step of the 15-digit grid (>= 5e-16 of v), and %g drops
	 * trailing zeros.  So the search starts at 15, not 1.
	 */
	for (prec = 15; prec <= 17; prec++) {
		xasprintf(&s, "%.*g", prec, v);
		if (strchr(s, 'e') == NULL && strtod(s, NULL) == v)
			return (s);
		free(s);
	}
	xasprintf(&s, "%.17g", v);
	return (s);
}

static json_t *
ratio_json(int64_t num, int64_t den, int valid)
{
	if (!valid || den == 0)
		return (json_null());
	return (json_real((double)num / (double)den));
}

/* Which hours effective_h holds: "used", "booked", "mixed" or "none". */
const char *
report_effective_basis(const struct report_figs *f)
{
	if (f->measured > 0)
		return (f->fallback > 0 ? "mixed" : "used");
	return (f->fallback > 0 ? "booked" : "none");
}

/* The baseline hours of nbase instruments prorated to the period. */
double
report_baseline_h(const struct report_params *p, int64_t nbase)
{
	return ((double)((int64_t)p->baseline_hours * (p->to - p->from) *
	    nbase) / (365.0 * 86400));
}

/* Did effective hours reach the prorated "saturated" threshold? */
int
report_saturated(const struct report_params *p, const struct report_figs *f)
{
	return ((__int128)f->effective_s * 365 * 86400 >=
	    (__int128)p->saturated_hours * 3600 * (p->to - p->from) * f->nbase);
}

/* Baseline figures apply to instruments, never to users' institutes. */
static int
has_baseline(const struct report_row *row)
{
	return (row->has_avail && row->f.nbase > 0);
}

static json_t *
usage_json(const struct report_figs *f)
{
	json_t	*j = json_object();
	int	 i;

	for (i = 0; i < USAGE_TYPES; i++)
		json_object_set_new(j, usage_types[i],
		    json_real(f->usage_s[i] / 3600.0));
	return (j);
}

/* The sharing-platform figures of a row, added to j. */
static void
row_json_platform(json_t *j, const struct report_params *p,
    const struct report_row *row)
{
	const struct report_figs	*f = &row->f;
	double				 b;

	json_object_set_new(j, "effective_h", json_real(f->effective_s /
	    3600.0));
	json_object_set_new(j, "effective_basis",
	    json_string(report_effective_basis(f)));
	json_object_set_new(j, "effective_booked_h", json_real(f->fallback_s /
	    3600.0));
	json_object_set_new(j, "external_service_h", json_real(f->service_s /
	    3600.0));
	json_object_set_new(j, "effective_sharing_rate",
	    ratio_json(f->service_s, f->effective_s, 1));
	json_object_set_new(j, "institutes_served", row->has_avail ?
	    json_integer(f->served) : json_null());
	if (has_baseline(row)) {
		b = report_baseline_h(p, f->nbase);
		json_object_set_new(j, "baseline_h", json_real(b));
		json_object_set_new(j, "baseline_utilisation",
		    json_real(f->effective_s / 3600.0 / b));
		json_object_set_new(j, "saturated",
		    json_boolean(report_saturated(p, f)));
	} else {
		json_object_set_new(j, "baseline_h", json_null());
		json_object_set_new(j, "baseline_utilisation", json_null());
		json_object_set_new(j, "saturated", json_null());
	}
	json_object_set_new(j, "usage_h", usage_json(f));
}

static json_t *
row_json(const struct report_params *p, const struct report_row *row)
{
	const struct report_figs	*f = &row->f;
	json_t				*j;

	j = json_pack("{s:s,s:o,s:f,s:f,s:o,s:o,s:I,s:I,s:I,s:I,s:f,s:o,"
	    "s:f,s:I}",
	    "key", row->key,
	    "available_h", row->has_avail ? json_real(f->avail_s / 3600.0) :
	    json_null(),
	    "booked_h", f->booked_s / 3600.0,
	    "used_h", f->used_s / 3600.0,
	    "utilisation", ratio_json(f->booked_s, f->avail_s, row->has_avail),
	    "use_rate", ratio_json(f->used_s, f->avail_s, row->has_avail),
	    "bookings", (json_int_t)f->bookings,
	    "cancellations", (json_int_t)f->cancellations,
	    "late_cancellations", (json_int_t)f->late,
	    "no_shows", (json_int_t)f->no_shows,
	    "external_h", f->external_s / 3600.0,
	    "sharing_rate", ratio_json(f->external_s, f->booked_s, 1),
	    "cross_district_h", f->cross_s / 3600.0,
	    "charges", (json_int_t)f->charges);
	if (j != NULL)
		row_json_platform(j, p, row);
	return (j);
}

static char *
render_json(const struct report *rep, size_t *len)
{
	json_t	*top, *groups, *settle, *row;
	char	*text;
	size_t	 i;

	groups = json_array();
	for (i = 0; i < rep->ngroups; i++)
		json_array_append_new(groups, row_json(rep->p,
		    &rep->groups[i]));
	settle = json_array();
	for (i = 0; i < rep->npairs; i++) {
		const struct report_pair *p = &rep->pairs[i];

		json_array_append_new(settle, json_pack("{s:s,s:s,s:s,s:I,s:f,"
		    "s:I}", "level", p->level == 0 ? "district" : "institute",
		    "payer", p->payer, "payee", p->payee,
		    "bookings", (json_int_t)p->bookings,
		    "booked_h", p->booked_s / 3600.0,
		    "charges", (json_int_t)p->charges));
	}
	row = row_json(rep->p, &rep->totals);
	json_object_del(row, "key");
	top = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:{s:i,s:i,s:f}}", "from",
	    rep->p->from_text, "to", rep->p->to_text,
	    "by", report_by_name(rep->p->by), "groups", groups, "totals", row,
	    "settlement", settle, "baseline", "hours_per_year",
	    rep->p->baseline_hours, "saturated_hours_per_year",
	    rep->p->saturated_hours, "days",
	    (double)(rep->p->to - rep->p->from) / 86400);
	text = json_dumps(top, JSON_COMPACT);
	json_decref(top);
	if (text == NULL)
		return (NULL);
	*len = strlen(text);
	return (text);
}

/* Append one CSV field, quoted when it holds a comma, quote or newline. */
static void
csv_field(FILE *f, const char *s, int last)
{
	const char	*p;

	if (strpbrk(s, ",\"\r\n") != NULL) {
		fputc('"', f);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fputc('"', f);
	} else
		fputs(s, f);
	fputs(last ? "\r\n" : ",", f);
}

static void
csv_hours(FILE *f, int64_t sec)
{
	char	*s = report_num(sec / 3600.0);

	fprintf(f, "%s,", s);
	free(s);
}

static void
csv_ratio(FILE *f, int64_t num, int64_t den, int valid)
{
	char	*s;

	if (!valid || den == 0) {
		fputc(',', f);
		return;
	}
	s = report_num((double)num / (double)den);
	fprintf(f, "%s,", s);
	free(s);
}

static void
csv_num(FILE *f, double v, const char *sep)
{
	char	*s = report_num(v);

	fprintf(f, "%s%s", s, sep);
	free(s);
}

/* The sharing-platform columns of a row (CSV_PLATFORM names them). */
static void
csv_platform(FILE *f, const struct report_params *p,
    const struct report_row *row)
{
	const struct report_figs	*x = &row->f;
	double				 b;
	int				 i;

	csv_hours(f, x->effective_s);
	fprintf(f, "%s,", report_effective_basis(x));
	csv_hours(f, x->fallback_s);
	csv_hours(f, x->service_s);
	csv_ratio(f, x->service_s, x->effective_s, 1);
	if (row->has_avail)
		fprintf(f, "%lld,", (long long)x->served);
	else
		fputc(',', f);
	if (has_baseline(row)) {
		b = report_baseline_h(p, x->nbase);
		csv_num(f, b, ",");
		csv_num(f, x->effective_s / 3600.0 / b, ",");
		fputs(report_saturated(p, x) ? "true," : "false,", f);
	} else
		fputs(",,,", f);
	for (i = 0; i < USAGE_TYPES; i++)
		csv_num(f, x->usage_s[i] / 3600.0, i + 1 < USAGE_TYPES ? "," :
		    "");
}

#define CSV_PLATFORM \
	"effective_h,effective_basis,effective_booked_h,external_service_h," \
	"effective_sharing_rate,institutes_served,baseline_h," \
	"baseline_utilisation,saturated,usage_research_h,usage_teaching_h," \
	"usage_service_h,usage_open_h"

static void
csv_row(FILE *f, const struct report_params *p, const struct report_row *row)
{
	const struct report_figs	*x = &row->f;

	csv_field(f, row->key, 0);
	if (row->has_avail)
		csv_hours(f, x->avail_s);
	else
		fputc(',', f);
	csv_hours(f, x->booked_s);
	csv_hours(f, x->used_s);
	csv_ratio(f, x->booked_s, x->avail_s, row->has_avail);
	csv_ratio(f, x->used_s, x->avail_s, row->has_avail);
	fprintf(f, "%lld,%lld,%lld,%lld,", (long long)x->bookings,
	    (long long)x->cancellations, (long long)x->late,
	    (long long)x->no_shows);
	csv_hours(f, x->external_s);
	csv_ratio(f, x->external_s, x->booked_s, 1);
	csv_hours(f, x->cross_s);
	fprintf(f, "%lld,", (long long)x->charges);
	csv_platform(f, p, row);
	fputs("\r\n", f);
}

static char *
render_csv(const struct report *rep, size_t *len)
{
	struct report_row	 total = rep->totals;
	FILE			*f;
	char			*buf = NULL, *h;
	size_t			 i;

	if ((f = open_memstream(&buf, len)) == NULL)
		return (NULL);
	fprintf(f, "%s,available_h,booked_h,used_h,utilisation,use_rate,"
	    "bookings,cancellations,late_cancellations,no_shows,external_h,"
	    "sharing_rate,cross_district_h,charges," CSV_PLATFORM "\r\n",
	    report_by_name(rep->p->by));
	for (i = 0; i < rep->ngroups; i++)
		csv_row(f, rep->p, &rep->groups[i]);
	total.key = "(total)";
	csv_row(f, rep->p, &total);
	fputs("\r\nlevel,payer,payee,bookings,booked_h,charges\r\n", f);
	for (i = 0; i < rep->npairs; i++) {
		const struct report_pair *p = &rep->pairs[i];

		fprintf(f, "%s,", p->level == 0 ? "district" : "institute");
		csv_field(f, p->payer, 0);
		csv_field(f, p->payee, 0);
		h = report_num(p->booked_s / 3600.0);
		fprintf(f, "%lld,%s,%lld\r\n", (long long)p->bookings, h,
		    (long long)p->charges);
		free(h);
	}
	if (fclose(f) != 0) {
		free(buf);
		return (NULL);
	}
	return (buf);
}

/*
 * The annual evaluation: one CSV row per instrument with its registry
 * fields and figures (docs/reports.md names the columns in Chinese too).
 */
static char *
render_evaluation(struct r_data *d, size_t *len)
{
	const struct report	*rep = &d->rep;
	const struct r_instrument *in;
	FILE			*f;
	char			*buf = NULL;
	size_t			 i;

	if ((f = open_memstream(&buf, len)) == NULL)
		return (NULL);
	fputs("code,name,category,model,site,owner,status,purchase_value,"
	    "acquisition_date,classification_code,responsible_person,"
	    "available_h,booked_h,used_h,bookings,charges," CSV_PLATFORM "\r\n",
	    f);
	for (i = 0; i < rep->ngroups; i++) {
		in = &d->in[rep->groups[i].src];
		csv_field(f, in->code, 0);
		csv_field(f, in->name, 0);
		csv_field(f, in->category, 0);
		csv_field(f, in->model, 0);
		csv_field(f, d->site[in->site].code, 0);
		csv_field(f, in->owner >= 0 ? d->inst[in->owner].code : "", 0);
		csv_field(f, in->status, 0);
		fprintf(f, "%lld,", (long long)in->value);
		csv_field(f, in->acquired, 0);
		csv_field(f, in->classification, 0);
		csv_field(f, in->responsible, 0);
		csv_hours(f, rep->groups[i].f.avail_s);
		csv_hours(f, rep->groups[i].f.booked_s);
		csv_hours(f, rep->groups[i].f.used_s);
		fprintf(f, "%lld,%lld,", (long long)rep->groups[i].f.bookings,
		    (long long)rep->groups[i].f.charges);
		csv_platform(f, rep->p, &rep->groups[i]);
		fputs("\r\n", f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return (NULL);
	}
	return (buf);
}

static void
data_free(struct r_data *d)
{
	size_t	i;

	for (i = 0; i < d->ndist; i++)
		free(d->dist[i].code);
	for (i = 0; i < d->nsite; i++)
		free(d->site[i].code);
	for (i = 0; i < d->ninst; i++)
		free(d->inst[i].code);
	for (i = 0; i < d->nin; i++) {
		free(d->in[i].code);
		free(d->in[i].category);
		free(d->in[i].served);
		free(d->in[i].name);
		free(d->in[i].model);
		free(d->in[i].status);
		free(d->in[i].acquired);
		free(d->in[i].classification);
		free(d->in[i].responsible);
	}
	free(d->dist);
	free(d->site);
	free(d->inst);
	free(d->in);
	free(d->black);
	free(d->black_in);
	free(d->black_site);
	free(d->in_map.ix);
	free(d->inst_map.ix);
	free(d->pairs.v);
	free(d->pairs.slot);
	free(d->rep.groups);
	free(d->rep.sites);
	free(d->rep.categories);
	free(d->rep.heat);
}

/*
 * Compute the report p describes from db (a connection this thread owns)
 * and render it.  Returns 0 with the allocated text in *out (length *len),
 * or -1 with an allocated reason in *cause.  *cancel set by another thread
 * stops it early.
 */
int
report_run(sqlite3 *db, const struct report_params *p, volatile int *cancel,
    char **out, size_t *len, char **cause)
{
	struct r_data	d;
	int		rc = -1;

	memset(&d, 0, sizeof d);
	d.db = db;
	d.p = p;
	*out = NULL;
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		xasprintf(&d.cause, "%s", sqlite3_errmsg(db));
		goto done;
	}
	if (load_places(&d) == -1)
		goto fail;
	d.nwords = (d.ninst + 63) / 64 + 1;
	if (load_instruments(&d) == -1 || load_blackouts(&d) == -1)
		goto fail;
	idmap_build(&d.in_map, d.in, d.nin, sizeof *d.in);
	idmap_build(&d.inst_map, d.inst, d.ninst, sizeof *d.inst);
	if (load_bookings(&d, cancel) == -1 || compute(&d) == -1)
		goto fail;
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	switch (p->format) {
	case REPORT_JSON:
		*out = render_json(&d.rep, len);
		break;
	case REPORT_CSV:
		*out = render_csv(&d.rep, len);
		break;
	case REPORT_HTML:
		*out = report_html(&d.rep, len);
		break;
	case REPORT_EVALUATION:
		*out = render_evaluation(&d, len);
		break;
	}
	if (*out == NULL)
		d.cause = xstrdup("cannot render the report");
	else
		rc = 0;
	goto done;
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
done:
	*cause = d.cause;
	data_free(&d);
	return (rc);
}
