/*
 * ical.c: iCalendar out, built with libical (no hand-written iCalendar).
 *
 * A struct ical is one VCALENDAR being filled: ical_new() sets the
 * calendar properties (RFC 7986 NAME and REFRESH-INTERVAL, and the
 * X-WR-CALNAME/X-PUBLISHED-TTL that older clients read), ical_event()
 * and ical_freebusy() add components, ical_finish() serializes (libical
 * writes CRLF and folds at 75 octets between UTF-8 characters) and frees.
 *
 * Times in a zone get both the zone's wall clock and a TZID parameter
 * naming the IANA zone (libical 3.0.16 leaves icaltime_from_timet_with_zone
 * results marked UTC, and its builtin zones carry a
 * "/freeassociation.sourceforge.net/" TZID, so both are fixed here), and
 * the calendar gets one VTIMEZONE per zone used, its TZID rewritten to
 * the same IANA name: clients that trust VTIMEZONE and clients that take
 * the name from their own zone database then agree.  Text is cleaned of
 * the characters some clients split lines on (U+2028, U+2029, U+0085,
 * VT, FF) and of other controls.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "yiqid.h"

#define ICAL_PRODID	"-//yiqi//yiqid " YIQID_VERSION "//EN"
#define ICAL_ZONES_MAX	64

struct ical {
	icalcomponent	*cal;
	char		*zones[ICAL_ZONES_MAX];
	int		 nzones;
	icalcomponent	**comps;	/* events, added after the zones */
	size_t		 ncomps;
};

/*
 * Copy s without the characters that break some clients' line splitting
 * (U+2028, U+2029, U+0085) and without controls but tab and newline; CR
 * is dropped, VT and FF become spaces.  The caller frees the result.
 */
char *
ical_clean(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;

	o = out = xmalloc(strlen(s) + 1);
	while (*p != '\0') {
		if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 ||
		    p[2] == 0xa9)) {
			*o++ = ' ';
			p += 3;
			continue;
		}
		if (p[0] == 0xc2 && p[1] == 0x85) {
			*o++ = ' ';
			p += 2;
			continue;
		}
		if (*p == '\v' || *p == '\f')
			*o++ = ' ';
		else if ((*p >= 0x20 && *p != 0x7f) || *p == '\t' ||
		    *p == '\n' || *p >= 0x80)
			*o++ = (char)*p;
		p++;
	}
	*o = '\0';
	return (out);
}

static icalproperty *
text_property(icalproperty *(*make)(const char *), const char *s)
{
	icalproperty	*p;
	char		*clean;

	clean = ical_clean(s);
	p = make(clean);
	free(clean);
	return (p);
}

/* Start a calendar called name; zone (or NULL) is its default zone. */
struct ical *
ical_new(const char *name, const char *zone, int refresh_min)
{
	struct ical		*ic;
	struct icaldurationtype	 d;
	icalproperty		*p;
	char			*ttl;

	ic = xcalloc(1, sizeof *ic);
	ic->cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(ic->cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(ic->cal, icalproperty_new_prodid(
	    ICAL_PRODID));
	icalcomponent_add_property(ic->cal, icalproperty_new_calscale(
	    "GREGORIAN"));
	icalcomponent_add_property(ic->cal, icalproperty_new_method(
	    ICAL_METHOD_PUBLISH));
	icalcomponent_add_property(ic->cal, text_property(icalproperty_new_name,
	    name));
	p = text_property(icalproperty_new_x, name);
	icalproperty_set_x_name(p, "X-WR-CALNAME");
	icalcomponent_add_property(ic->cal, p);
	if (zone != NULL) {
		p = icalproperty_new_x(zone);
		icalproperty_set_x_name(p, "X-WR-TIMEZONE");
		icalcomponent_add_property(ic->cal, p);
	}
	d = icaldurationtype_from_int(refresh_min * 60);
	icalcomponent_add_property(ic->cal,
	    icalproperty_new_refreshinterval(d));
	ttl = icaldurationtype_as_ical_string_r(d);
	p = icalproperty_new_x(ttl);
	icalproperty_set_x_name(p, "X-PUBLISHED-TTL");
	icalcomponent_add_property(ic->cal, p);
	free(ttl);
	return (ic);
}

/* Add the VTIMEZONE of zone once; returns the libical zone or NULL. */
static icaltimezone *
ical_zone(struct ical *ic, const char *zone)
{
	icaltimezone	*z;
	icalcomponent	*vtz;
	icalproperty	*p;
	int		 i;

	if (zone == NULL || strcmp(zone, "UTC") == 0 ||
	    (z = icaltimezone_get_builtin_timezone(zone)) == NULL)
		return (NULL);
	for (i = 0; i < ic->nzones; i++) {
		if (strcmp(ic->zones[i], zone) == 0)
			return (z);
	}
	if (ic->nzones == ICAL_ZONES_MAX ||
	    (vtz = icaltimezone_get_component(z)) == NULL)
		return (NULL);
	vtz = icalcomponent_new_clone(vtz);
	p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
	if (p != NULL)
		icalproperty_set_tzid(p, zone);
	else
		icalcomponent_add_property(vtz, icalproperty_new_tzid(zone));
	icalcomponent_add_component(ic->cal, vtz);
	ic->zones[ic->nzones++] = xstrdup(zone);
	return (z);
}

/* A date-time property at t: in zone with a TZID, or in UTC. */
static icalproperty *
time_property(struct ical *ic, icalproperty *(*make)(struct icaltimetype),
    time_t t, const char *zone)
{
	struct icaltimetype	 tt;
	icaltimezone		*z;
	icalproperty		*p;

	if ((z = ical_zone(ic, zone)) == NULL) {
		tt = icaltime_from_timet_with_zone(t, 0,
		    icaltimezone_get_utc_timezone());
		return (make(tt));
	}
	tt = icaltime_from_timet_with_zone(t, 0, z);
	tt = icaltime_set_timezone(&tt, z);
	p = make(tt);
	icalproperty_remove_parameter_by_kind(p, ICAL_TZID_PARAMETER);
	icalproperty_add_parameter(p, icalparameter_new_tzid(zone));
	return (p);
}

static icalproperty *
utc_property(icalproperty *(*make)(struct icaltimetype), time_t t)
{
	return (make(icaltime_from_timet_with_zone(t, 0,
	    icaltimezone_get_utc_timezone())));
}

/* Keep a component to add after the VTIMEZONEs, which clients want first. */
static void
ical_keep(struct ical *ic, icalcomponent *c)
{
	ic->comps = xreallocarray(ic->comps, ic->ncomps + 1, sizeof *ic->comps);
	ic->comps[ic->ncomps++] = c;
}

/* Add one VEVENT. */
void
ical_event(struct ical *ic, const struct ical_event *e)
{
	icalcomponent	*ev;
	icalproperty_status status;

	ev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	icalcomponent_add_property(ev, icalproperty_new_uid(e->uid));
	icalcomponent_add_property(ev, utc_property(icalproperty_new_dtstamp,
	    e->stamp));
	icalcomponent_add_property(ev, utc_property(
	    icalproperty_new_lastmodified, e->stamp));
	if (e->created != 0)
		icalcomponent_add_property(ev, utc_property(
		    icalproperty_new_created, e->created));
	icalcomponent_add_property(ev, icalproperty_new_sequence(
	    (int)e->sequence));
	icalcomponent_add_property(ev, time_property(ic,
	    icalproperty_new_dtstart, e->start, e->zone));
	icalcomponent_add_property(ev, time_property(ic,
	    icalproperty_new_dtend, e->end, e->zone));
	icalcomponent_add_property(ev, text_property(icalproperty_new_summary,
	    e->summary));
	if (e->description != NULL && *e->description != '\0')
		icalcomponent_add_property(ev, text_property(
		    icalproperty_new_description, e->description));
	if (e->location != NULL && *e->location != '\0')
		icalcomponent_add_property(ev, text_property(
		    icalproperty_new_location, e->location));
	switch (e->status) {
	case ICAL_EV_TENTATIVE:
		status = ICAL_STATUS_TENTATIVE;
		break;
	case ICAL_EV_CANCELLED:
		status = ICAL_STATUS_CANCELLED;
		break;
	default:
		status = ICAL_STATUS_CONFIRMED;
		break;
	}
	icalcomponent_add_property(ev, icalproperty_new_status(status));
	icalcomponent_add_property(ev, icalproperty_new_transp(
	    status == ICAL_STATUS_CANCELLED ? ICAL_TRANSP_TRANSPARENT :
	    ICAL_TRANSP_OPAQUE));
	if (e->categories != NULL)
		icalcomponent_add_property(ev, text_property(
		    icalproperty_new_categories, e->categories));
	ical_keep(ic, ev);
}

/*
 * Add one VFREEBUSY for [from, to) stamped stamp, with a FREEBUSY line per
 * busy interval (all in UTC, as RFC 5545 wants); kinds[i] is one of
 * ICAL_FB_*.
 */
void
ical_freebusy(struct ical *ic, const char *uid, time_t stamp, time_t from,
    time_t to, const struct span *busy, const int *kinds, size_t n)
{
	struct icalperiodtype	 per;
	icalcomponent		*fb;
	icalproperty		*p;
	icalparameter_fbtype	 type;
	size_t			 i;

	fb = icalcomponent_new(ICAL_VFREEBUSY_COMPONENT);
	icalcomponent_add_property(fb, icalproperty_new_uid(uid));
	icalcomponent_add_property(fb, utc_property(icalproperty_new_dtstamp,
	    stamp));
	icalcomponent_add_property(fb, utc_property(icalproperty_new_dtstart,
	    from));
	icalcomponent_add_property(fb, utc_property(icalproperty_new_dtend,
	    to));
	for (i = 0; i < n; i++) {
		memset(&per, 0, sizeof per);
		per.start = icaltime_from_timet_with_zone(busy[i].start, 0,
		    icaltimezone_get_utc_timezone());
		per.end = icaltime_from_timet_with_zone(busy[i].end, 0,
		    icaltimezone_get_utc_timezone());
		per.duration = icaldurationtype_null_duration();
		p = icalproperty_new_freebusy(per);
		switch (kinds[i]) {
		case ICAL_FB_TENTATIVE:
			type = ICAL_FBTYPE_BUSYTENTATIVE;
			break;
		case ICAL_FB_UNAVAILABLE:
			type = ICAL_FBTYPE_BUSYUNAVAILABLE;
			break;
		default:
			type = ICAL_FBTYPE_BUSY;
			break;
		}
		icalproperty_add_parameter(p, icalparameter_new_fbtype(type));
		icalcomponent_add_property(fb, p);
	}
	ical_keep(ic, fb);
}

/* Serialize the calendar and free it; the caller frees the text. */
char *
ical_finish(struct ical *ic, size_t *len)
{
	char	*text;
	size_t	 i;

	for (i = 0; i < ic->ncomps; i++)
		icalcomponent_add_component(ic->cal, ic->comps[i]);
	free(ic->comps);
	text = icalcomponent_as_ical_string_r(ic->cal);
	if (text == NULL)
		fatalx("%s: libical cannot serialize", __func__);
	*len = strlen(text);
	icalcomponent_free(ic->cal);
	for (i = 0; i < (size_t)ic->nzones; i++)
		free(ic->zones[i]);
	free(ic);
	return (text);
}
