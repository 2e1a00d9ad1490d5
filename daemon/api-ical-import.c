/*
 * api-ical-import.c: iCalendar in.  A manager uploads an .ics file (a
 * vendor's service schedule, the parks' holiday calendar) and its VEVENTs
 * become blackouts of one instrument or one site.
 *
 *	POST /api/v1/blackouts/import?instrument=CODE | ?site=CODE
 *	     body: text/calendar
 *
 * libical parses the file; a file libical flags (X-LIC-ERROR), a truncated
 * one, one that is not UTF-8 text, an event without UID or DTSTART, an
 * end not after the start or a TZID that neither the file's VTIMEZONEs nor
 * the zone database define is refused with 400 naming the problem, and
 * nothing is written.  RRULE and RDATE are expanded (at most two years
 * ahead, IMPORT_OCCURRENCES_MAX in all), EXDATE and the instances that a
 * RECURRENCE-ID override replaces are left out, and STATUS:CANCELLED
 * events remove what an earlier import made of them.  Floating times and
 * all-day dates are read in the site's zone.
 *
 * Re-importing updates rather than duplicates: the blackouts of each UID
 * in the file (source "ics", external_uid the UID, same instrument or
 * site) are replaced in the one transaction that writes the new ones.
 * Events gone from a newer file are kept: an upload is not a sync.
 */

#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "yiqid.h"

#define IMPORT_EVENTS_MAX	1000	/* VEVENTs in one file */
#define IMPORT_OCCURRENCES_MAX	2000	/* blackouts from one file */
#define IMPORT_AHEAD_DAYS	731	/* expand recurrences this far */
#define IMPORT_BACK_DAYS	30	/* skip what ended longer ago */
#define IMPORT_REASON_MAX	200	/* octets of SUMMARY kept */
#define IMPORT_SPAN_MAX		(366L * 86400)	/* longest blackout */

static void	ical_import_blackouts(struct req *);

const struct route api_ical_import_routes[] = {
	{ EVHTTP_REQ_POST, "/api/v1/blackouts/import", R_RAW,
	    ical_import_blackouts },
	{ 0, NULL, 0, NULL }
};

/* One blackout to write. */
struct occurrence {
	const char	*uid;		/* borrowed from the parsed file */
	time_t		 start;
	time_t		 end;
	char		*reason;
};

/* What an import collects before it writes. */
struct import {
	struct yiqid		*ctx;
	const char		*raw;		/* NUL-terminated */
	size_t			 rawlen;
	int64_t			 user_id;	/* who imports (0: the poller) */
	const char		*source;	/* "ics" or "calendar:ID" */
	icalcomponent		*root;
	int64_t			 instrument_id;	/* 0 for a site */
	int64_t			 site_id;
	char			*zone;		/* the site's zone */
	const char		*code;
	time_t			 from;		/* keep what ends after */
	time_t			 to;		/* expand until */
	struct occurrence	*occ;
	size_t			 nocc;
	const char		**uids;		/* every UID in the file */
	size_t			 nuids;
	char			*error;		/* why the file is refused */
};

static void
import_free(struct import *im)
{
	size_t	i;

	for (i = 0; i < im->nocc; i++)
		free(im->occ[i].reason);
	free(im->occ);
	free(im->uids);
	free(im->zone);
	free(im->error);
	if (im->root != NULL)
		icalcomponent_free(im->root);
}

static int
import_fail(struct import *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record why the file is refused (the first reason wins); returns -1. */
static int
import_fail(struct import *im, const char *fmt, ...)
{
	va_list	ap;

	if (im->error == NULL) {
		va_start(ap, fmt);
		xvasprintf(&im->error, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* Resolve ?instrument= or ?site= and check the caller may black it out. */
static int
import_target(struct req *r, struct import *im)
{
	static const char *const q_zone =
	    "SELECT timezone FROM sites WHERE id = :id";
	const char		*instrument = req_query(r, "instrument");
	const char		*site = req_query(r, "site");
	struct instrument	 in;
	sqlite3_stmt		*st;

	if ((instrument == NULL) == (site == NULL)) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}", "field",
		    "instrument"), "give exactly one of ?instrument= or ?site=");
		return (-1);
	}
	if (instrument != NULL) {
		if (instrument_load(r->ctx, instrument, 0, &in) == -1) {
			api_error(r, 404, "not_found", "no instrument %s",
			    instrument);
			return (-1);
		}
		im->instrument_id = in.id;
		im->site_id = in.site_id;
		instrument_free(&in);
		im->code = instrument;
		if (!auth_manages(r, im->instrument_id) &&
		    !auth_covers_site(r, im->site_id)) {
			api_error(r, 403, "forbidden", "only a manager of %s or "
			    "a park manager of its site may black it out",
			    instrument);
			return (-1);
		}
	} else {
		if ((im->site_id = db_lookup_id(r->ctx, "sites", site)) == 0) {
			api_error(r, 404, "not_found", "no site %s", site);
			return (-1);
		}
		im->code = site;
		if (!auth_covers_site(r, im->site_id)) {
			api_error(r, 403, "forbidden", "only a park manager of "
			    "%s may close it", site);
			return (-1);
		}
	}
	st = db_prepare(r->ctx, q_zone);
	db_bind_int(st, ":id", im->site_id);
	im->zone = db_step(st) == SQLITE_ROW ? db_text(st, 0) :
	    xstrdup(YIQID_DEFAULT_ZONE);
	sqlite3_reset(st);
	return (0);
}

/* Is the body UTF-8 text ending in END:VCALENDAR, without NUL bytes? */
static int
import_text_ok(struct import *im, const char *raw, size_t len)
{
	json_t	*j;
	size_t	 n = len;

	if (len == 0)
		return (import_fail(im, "the body is empty; send an iCalendar "
		    "(.ics) file"));
	if (strlen(raw) != len)
		return (import_fail(im, "the body holds NUL bytes: it is not "
		    "an iCalendar file"));
	if ((j = json_stringn(raw, len)) == NULL)
		return (import_fail(im, "the body is not UTF-8 text"));
	json_decref(j);
	while (n > 0 && strchr(" \t\r\n", raw[n - 1]) != NULL)
		n--;
	if (n < 13 || strncmp(raw + n - 13, "END:VCALENDAR", 13) != 0)
		return (import_fail(im, "the file does not end with "
		    "END:VCALENDAR: it is truncated or not iCalendar"));
	return (0);
}

/* The first X-LIC-ERROR libical left anywhere in c, or NULL. */
static const char *
import_parse_error(icalcomponent *c)
{
	icalcomponent	*sub;
	icalproperty	*p;
	const char	*e;

	p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
	if (p != NULL)
		return (icalproperty_get_xlicerror(p));
	for (sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	    sub != NULL;
	    sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
		if ((e = import_parse_error(sub)) != NULL)
			return (e);
	}
	return (NULL);
}

/*
 * The zone a date-time property is written in: its TZID (a VTIMEZONE of
 * the file or a zone of the database), UTC, or the site's zone for
 * floating times and dates.  NULL (and the error set) for an unknown TZID.
 */
static icaltimezone *
import_zone(struct import *im, icalproperty *p, struct icaltimetype tt,
    const char *uid)
{
	icalparameter	*tzp;
	icaltimezone	*z;
	const char	*tzid;

	if (icaltime_is_utc(tt))
		return (icaltimezone_get_utc_timezone());
	tzp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	if (tzp == NULL || (tzid = icalparameter_get_tzid(tzp)) == NULL) {
		if ((z = icaltimezone_get_builtin_timezone(im->zone)) == NULL)
			z = icaltimezone_get_utc_timezone();
		return (z);
	}
	if ((z = icalcomponent_get_timezone(im->root, tzid)) != NULL)
		return (z);
	if (strlen(tzid) < 64 && tz_known(tzid) &&
	    (z = icaltimezone_get_builtin_timezone(tzid)) != NULL)
		return (z);
	import_fail(im, "event %s: unknown TZID %s (no VTIMEZONE in the file "
	    "and not a zone of the time zone database)", uid, tzid);
	return (NULL);
}

/* A time of the file as UTC seconds; dates are midnight in zone. */
static time_t
import_time(struct icaltimetype tt, icaltimezone *zone)
{
	if (tt.is_date) {
		tt.is_date = 0;
		tt.hour = tt.minute = tt.second = 0;
	}
	if (icaltime_is_utc(tt))
		return (icaltime_as_timet(tt));
	tt.zone = NULL;
	return (icaltime_as_timet_with_zone(tt, zone));
}

/* Keep one occurrence [start, end) of uid, if it is in the window. */
static int
import_add(struct import *im, const char *uid, time_t start, time_t end,
    const char *summary)
{
	struct occurrence	*o;
	char			*reason;
	size_t			 n;

	if (end <= im->from || start >= im->to)
		return (0);
	if (im->nocc == IMPORT_OCCURRENCES_MAX)
		return (import_fail(im, "the file makes more than %d "
		    "blackouts; split it", IMPORT_OCCURRENCES_MAX));
	reason = ical_clean(summary != NULL && *summary != '\0' ? summary :
	    "imported");
	if ((n = strlen(reason)) > IMPORT_REASON_MAX) {
		n = IMPORT_REASON_MAX;
		while (n > 0 && ((unsigned char)reason[n] & 0xc0) == 0x80)
			n--;
		reason[n] = '\0';
	}
	im->occ = xreallocarray(im->occ, im->nocc + 1, sizeof *im->occ);
	o = &im->occ[im->nocc++];
	o->uid = uid;
	o->start = start;
	o->end = end;
	o->reason = reason;
	return (0);
}

/* Is t the RECURRENCE-ID of an override of uid (replacing that instance)? */
static int
import_overridden(struct import *im, const char *uid, time_t t)
{
	icalcompiter		 it;
	icalcomponent		*ev;
	icalproperty		*p;
	struct icaltimetype	 rid;
	icaltimezone		*z;

	/* An iterator of its own: the caller walks the events too. */
	for (it = icalcomponent_begin_component(im->root,
	    ICAL_VEVENT_COMPONENT); (ev = icalcompiter_deref(&it)) != NULL;
	    icalcompiter_next(&it)) {
		p = icalcomponent_get_first_property(ev,
		    ICAL_RECURRENCEID_PROPERTY);
		if (p == NULL || icalcomponent_get_uid(ev) == NULL ||
		    strcmp(icalcomponent_get_uid(ev), uid) != 0)
			continue;
		rid = icalproperty_get_recurrenceid(p);
		if ((z = import_zone(im, p, rid, uid)) == NULL)
			return (0);
		if (import_time(rid, z) == t)
			return (1);
	}
	return (0);
}

/* Is t one of the event's EXDATEs? */
static int
import_excluded(struct import *im, icalcomponent *ev, const char *uid,
    time_t t)
{
	icalproperty		*p;
	struct icaltimetype	 ex;
	icaltimezone		*z;

	for (p = icalcomponent_get_first_property(ev, ICAL_EXDATE_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(ev, ICAL_EXDATE_PROPERTY)) {
		ex = icalproperty_get_exdate(p);
		if ((z = import_zone(im, p, ex, uid)) == NULL)
			return (0);
		if (import_time(ex, z) == t)
			return (1);
	}
	return (0);
}

/* Expand the RRULE and RDATEs of a master event of length len. */
static int
import_expand(struct import *im, icalcomponent *ev, const char *uid,
    struct icaltimetype dt, icaltimezone *zone, long len,
    const char *summary)
{
	struct icalrecurrencetype	 rule;
	icalrecur_iterator		*it;
	struct icaltimetype		 next;
	struct icaldatetimeperiodtype	 rd;
	icalproperty			*p;
	time_t				 t;
	int				 n = 0;

	p = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
	if (p != NULL) {
		rule = icalproperty_get_rrule(p);
		if (rule.freq == ICAL_NO_RECURRENCE ||
		    (it = icalrecur_iterator_new(rule, dt)) == NULL)
			return (import_fail(im, "event %s: the RRULE cannot be "
			    "read", uid));
		for (next = icalrecur_iterator_next(it);
		    !icaltime_is_null_time(next);
		    next = icalrecur_iterator_next(it)) {
			t = import_time(next, zone);
			if (t >= im->to || ++n > 100000)
				break;
			if (import_excluded(im, ev, uid, t) ||
			    import_overridden(im, uid, t))
				continue;
			if (import_add(im, uid, t, t + len, summary) == -1)
				break;
		}
		icalrecur_iterator_free(it);
		if (im->error != NULL)
			return (-1);
	} else {
		t = import_time(dt, zone);
		if (!import_excluded(im, ev, uid, t) &&
		    import_add(im, uid, t, t + len, summary) == -1)
			return (-1);
	}
	for (p = icalcomponent_get_first_property(ev, ICAL_RDATE_PROPERTY);
	    p != NULL;
	    p = icalcomponent_get_next_property(ev, ICAL_RDATE_PROPERTY)) {
		rd = icalproperty_get_rdate(p);
		if (icaltime_is_null_time(rd.time))
			return (import_fail(im, "event %s: RDATE periods are "
			    "not supported", uid));
		t = import_time(rd.time, zone);
		if (import_add(im, uid, t, t + len, summary) == -1)
			return (-1);
	}
	return (0);
}

/* Remember a UID of the file once. */
static void
import_uid(struct import *im, const char *uid)
{
	size_t	i;

	for (i = 0; i < im->nuids; i++) {
		if (strcmp(im->uids[i], uid) == 0)
			return;
	}
	im->uids = xreallocarray(im->uids, im->nuids + 1, sizeof *im->uids);
	im->uids[im->nuids++] = uid;
}

/* Turn one VEVENT into occurrences; -1 with the error set. */
static int
import_event(struct import *im, icalcomponent *ev)
{
	struct icaltimetype	 dts, dte;
	struct icaldurationtype	 dur;
	icalproperty		*ps, *pe;
	icaltimezone		*zs, *ze;
	const char		*uid, *summary;
	time_t			 start, end;

	if ((uid = icalcomponent_get_uid(ev)) == NULL || *uid == '\0')
		return (import_fail(im, "an event has no UID"));
	if (strlen(uid) > 255 || !text_ok(uid))
		return (import_fail(im, "an event's UID is not valid text of "
		    "at most 255 octets"));
	import_uid(im, uid);
	if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED)
		return (0);	/* removes what an earlier import made */
	if ((ps = icalcomponent_get_first_property(ev,
	    ICAL_DTSTART_PROPERTY)) == NULL)
		return (import_fail(im, "event %s has no DTSTART", uid));
	dts = icalproperty_get_dtstart(ps);
	if (icaltime_is_null_time(dts) || !icaltime_is_valid_time(dts))
		return (import_fail(im, "event %s: DTSTART is not a time", uid));
	if ((zs = import_zone(im, ps, dts, uid)) == NULL)
		return (-1);
	start = import_time(dts, zs);
	if ((pe = icalcomponent_get_first_property(ev,
	    ICAL_DTEND_PROPERTY)) != NULL) {
		dte = icalproperty_get_dtend(pe);
		if ((ze = import_zone(im, pe, dte, uid)) == NULL)
			return (-1);
		end = import_time(dte, ze);
	} else if (icalcomponent_get_first_property(ev,
	    ICAL_DURATION_PROPERTY) != NULL) {
		dur = icalcomponent_get_duration(ev);
		end = start + icaldurationtype_as_int(dur);
	} else
		end = start + (dts.is_date ? 86400 : 0);
	if (end <= start)
		return (import_fail(im, "event %s ends before it starts", uid));
	if (end - start > IMPORT_SPAN_MAX)
		return (import_fail(im, "event %s is longer than a year", uid));
	summary = icalcomponent_get_summary(ev);
	if (icalcomponent_get_first_property(ev,
	    ICAL_RECURRENCEID_PROPERTY) != NULL)
		return (import_add(im, uid, start, end, summary));
	return (import_expand(im, ev, uid, dts, zs, (long)(end - start),
	    summary));
}

/* Parse the body into im->occ; -1 with im->error set. */
static int
import_parse(struct import *im)
{
	icalcomponent	*ev;
	const char	*err;
	int		 n = 0;

	if (import_text_ok(im, im->raw, im->rawlen) == -1)
		return (-1);
	icalerror_clear_errno();
	im->root = icalparser_parse_string(im->raw);
	if (im->root == NULL ||
	    icalcomponent_isa(im->root) != ICAL_VCALENDAR_COMPONENT)
		return (import_fail(im, "the body is not one iCalendar "
		    "VCALENDAR"));
	if ((err = import_parse_error(im->root)) != NULL)
		return (import_fail(im, "the file is malformed: %s", err));
	for (ev = icalcomponent_get_first_component(im->root,
	    ICAL_VEVENT_COMPONENT); ev != NULL;
	    ev = icalcomponent_get_next_component(im->root,
	    ICAL_VEVENT_COMPONENT)) {
		if (++n > IMPORT_EVENTS_MAX)
			return (import_fail(im, "the file has more than %d "
			    "events; split it", IMPORT_EVENTS_MAX));
		if (import_event(im, ev) == -1)
			return (-1);
	}
	if (n == 0)
		return (import_fail(im, "the file has no VEVENT"));
	return (0);
}

/*
 * Drop the blackouts an earlier import made of the file's UIDs (an upload)
 * or every blackout of the source (a polled calendar: what is gone
 * upstream goes here too).
 */
static int
import_replace(struct import *im, int *replaced)
{
	static const char *const q_uid =
	    "DELETE FROM blackouts WHERE source = :src AND external_uid = :u "
	    "AND coalesce(instrument_id, 0) = :i AND coalesce(site_id, 0) = :s";
	static const char *const q_all =
	    "DELETE FROM blackouts WHERE source = :src";
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc = SQLITE_DONE;

	*replaced = 0;
	if (strcmp(im->source, "ics") != 0) {
		st = db_prepare(im->ctx, q_all);
		db_bind_text(st, ":src", im->source);
		rc = db_step(st);
		sqlite3_reset(st);
		*replaced = sqlite3_changes(im->ctx->db);
		return (rc == SQLITE_DONE ? SQLITE_OK : rc);
	}
	for (i = 0; i < im->nuids && rc == SQLITE_DONE; i++) {
		st = db_prepare(im->ctx, q_uid);
		db_bind_text(st, ":src", im->source);
		db_bind_text(st, ":u", im->uids[i]);
		db_bind_int(st, ":i", im->instrument_id);
		db_bind_int(st, ":s", im->instrument_id != 0 ? 0 : im->site_id);
		rc = db_step(st);
		sqlite3_reset(st);
		*replaced += sqlite3_changes(im->ctx->db);
	}
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/* Write the occurrences as blackouts. */
static int
import_insert(struct import *im)
{
	static const char *const q =
	    "INSERT INTO blackouts (instrument_id, site_id, start, \"end\", "
	    "reason, source, external_uid, created_by, created) VALUES "
	    "(:i, :s, :from, :to, :why, :src, :u, :by, :now)";
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc = SQLITE_DONE;

	for (i = 0; i < im->nocc && rc == SQLITE_DONE; i++) {
		st = db_prepare(im->ctx, q);
		if (im->instrument_id != 0) {
			db_bind_int(st, ":i", im->instrument_id);
			db_bind_null(st, ":s");
		} else {
			db_bind_null(st, ":i");
			db_bind_int(st, ":s", im->site_id);
		}
		db_bind_int(st, ":from", im->occ[i].start);
		db_bind_int(st, ":to", im->occ[i].end);
		db_bind_text(st, ":why", im->occ[i].reason);
		db_bind_text(st, ":u", im->occ[i].uid);
		db_bind_text(st, ":src", im->source);
		if (im->user_id != 0)
			db_bind_int(st, ":by", im->user_id);
		else
			db_bind_null(st, ":by");
		db_bind_int(st, ":now", db_now(im->ctx));
		rc = db_step(st);
		sqlite3_reset(st);
	}
	return (rc == SQLITE_DONE ? SQLITE_OK : rc);
}

/*
 * Set affected_by_blackout on the holding bookings of the target's
 * instruments to whether any blackout now covers them; list the flagged.
 */
static int
import_flag(struct import *im, json_t *ids)
{
	static const char *const q_flag =
	    "UPDATE reservations AS r SET affected_by_blackout = EXISTS "
	    "(SELECT 1 FROM blackouts b, instruments i WHERE i.id = "
	    "r.instrument_id AND (b.instrument_id = i.id OR b.site_id = "
	    "i.site_id) AND b.\"end\" > r.start AND b.start < r.\"end\") "
	    "WHERE r.status IN ('pending', 'confirmed') AND r.\"end\" > :now "
	    "AND r.start > :now - " LONGEST_SQL " "
	    "AND r.instrument_id IN (SELECT id FROM instruments WHERE "
	    "id = :i OR site_id = :s)";
	static const char *const q_list =
	    "SELECT r.id FROM reservations r WHERE r.status IN ('pending', "
	    "'confirmed') AND r.\"end\" > :now AND r.affected_by_blackout = 1 "
	    "AND r.start > :now - " LONGEST_SQL " "
	    "AND r.instrument_id IN (SELECT id FROM instruments WHERE "
	    "id = :i OR site_id = :s) ORDER BY r.start LIMIT 100";
	sqlite3_stmt	*st;
	int		 pass, rc;

	for (pass = 0; pass < 2; pass++) {
		st = db_prepare(im->ctx, pass == 0 ? q_flag : q_list);
		db_bind_int(st, ":now", db_now(im->ctx));
		db_bind_int(st, ":i", im->instrument_id);
		db_bind_int(st, ":s", im->instrument_id != 0 ? 0 : im->site_id);
		while ((rc = db_step(st)) == SQLITE_ROW)
			json_array_append_new(ids,
			    json_integer(sqlite3_column_int64(st, 0)));
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return (rc);
	}
	return (SQLITE_OK);
}

static void
ical_import_blackouts(struct req *r)
{
	struct import	 im;
	json_t		*ids = NULL, *affected, *v, *j;
	time_t		 now = db_now(r->ctx);
	size_t		 i;
	int		 rc, replaced = 0;

	memset(&im, 0, sizeof im);
	im.ctx = r->ctx;
	im.raw = r->raw;
	im.rawlen = r->rawlen;
	im.user_id = r->user->id;
	im.source = "ics";
	im.from = now - IMPORT_BACK_DAYS * 86400L;
	im.to = now + IMPORT_AHEAD_DAYS * 86400L;
	if (import_target(r, &im) == -1)
		goto out;
	if (import_parse(&im) == -1) {
		api_error_json(r, 400, "bad_request", json_pack("{s:s}",
		    "field", "body"), "%s", im.error);
		goto out;
	}
	if ((rc = db_begin(r->ctx)) != SQLITE_OK) {
		api_db_error(r, rc);
		goto out;
	}
	ids = json_array();
	if ((rc = import_replace(&im, &replaced)) != SQLITE_OK ||
	    (rc = import_insert(&im)) != SQLITE_OK ||
	    (rc = import_flag(&im, ids)) != SQLITE_OK ||
	    (rc = db_audit(r->ctx, r->user->id, "blackout.import",
	    im.instrument_id != 0 ? "instrument" : "site", im.code,
	    json_pack("{s:I,s:I,s:i}", "events", (json_int_t)im.nuids,
	    "blackouts", (json_int_t)im.nocc, "replaced", replaced))) !=
	    SQLITE_OK || (rc = db_commit(r->ctx)) != SQLITE_OK) {
		db_rollback(r->ctx);
		api_db_error(r, rc);
		goto out;
	}
	affected = json_array();
	json_array_foreach(ids, i, v) {
		if ((j = reservation_get(r, json_integer_value(v), &rc)) != NULL)
			json_array_append_new(affected, j);
	}
	api_reply(r, 200, json_pack("{s:I,s:I,s:i,s:o}", "events",
	    (json_int_t)im.nuids, "blackouts", (json_int_t)im.nocc,
	    "replaced", replaced, "affected", affected));
out:
	json_decref(ids);
	import_free(&im);
}

/*
 * Replace every blackout of source (a polled calendar, "calendar:ID") of
 * one instrument or site with the events of data, in one transaction.
 * Returns 0 and *n blackouts; -1 and *cause for a bad file (nothing
 * written); or a SQLite error code with *cause.
 */
int
ical_import_sync(struct yiqid *ctx, int64_t instrument_id, int64_t site_id,
    const char *source, const char *data, size_t len, int *n, char **cause)
{
	static const char *const q_zone =
	    "SELECT timezone FROM sites WHERE id = :id";
	struct import	 im;
	sqlite3_stmt	*st;
	json_t		*ids;
	time_t		 now = db_now(ctx);
	int		 rc, replaced;

	*cause = NULL;
	memset(&im, 0, sizeof im);
	im.ctx = ctx;
	im.raw = data;
	im.rawlen = len;
	im.source = source;
	im.instrument_id = instrument_id;
	im.site_id = site_id;
	im.from = now - IMPORT_BACK_DAYS * 86400L;
	im.to = now + IMPORT_AHEAD_DAYS * 86400L;
	st = db_prepare(ctx, q_zone);
	db_bind_int(st, ":id", site_id);
	im.zone = db_step(st) == SQLITE_ROW ? db_text(st, 0) :
	    xstrdup(YIQID_DEFAULT_ZONE);
	sqlite3_reset(st);
	if (import_parse(&im) == -1) {
		*cause = im.error;
		im.error = NULL;
		import_free(&im);
		return (-1);
	}
	ids = json_array();
	if ((rc = db_begin(ctx)) != SQLITE_OK ||
	    (rc = import_replace(&im, &replaced)) != SQLITE_OK ||
	    (rc = import_insert(&im)) != SQLITE_OK ||
	    (rc = import_flag(&im, ids)) != SQLITE_OK ||
	    (rc = db_audit(ctx, 0, "blackout.sync", "calendar", source,
	    json_pack("{s:I,s:i}", "blackouts", (json_int_t)im.nocc,
	    "replaced", replaced))) != SQLITE_OK ||
	    (rc = db_commit(ctx)) != SQLITE_OK) {
		if (ctx->txn_depth > 0)
			db_rollback(ctx);
		xasprintf(cause, "database: %s", sqlite3_errstr(rc));
	} else
		*n = (int)im.nocc;
	json_decref(ids);
	import_free(&im);
	return (rc);
}
