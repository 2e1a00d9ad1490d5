/*
 * ical.c: iCalendar out, built with libical (no hand-written iCalendar).
 *
 * A struct ical is one VCALENDAR being filled: ical_new() sets the
 * calendar properties (RFC 7986 NAME and REFRESH-INTERVAL, and the
 * X-WR-CALNAME/X-PUBLISHED-TTL that older clients read), ical_event()
 * and ical_freebusy() add components, ical_finish() serializes (libical
 * writes CRLF and folds at 75 octets between UTF-8 characters) and frees.
 *
 * Each component is serialized by libical on its own as it is added
 * (ical_event_render(), which the feed cache keeps per booking) and its
 * text appended with ical_add_text(); ical_finish() serializes the
 * calendar's properties and VTIMEZONEs and puts the components' text
 * before its END:VCALENDAR.  The bytes are those libical writes for the
 * whole calendar, which serializes a component's children one after the
 * other in the same way.
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
#define ICAL_END	"END:VCALENDAR\r\n"

struct ical {
	icalcomponent	*cal;
	char		**zones;	/* zones with a VTIMEZONE */
	size_t		 nzones;
	char		*body;		/* the components' text, in order */
	size_t		 blen;
	size_t		 bsize;
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

/* The libical zone of an IANA name, or NULL for UTC and unknown ones. */
static icaltimezone *
zone_lookup(const char *zone)
{
	icaltimezone	*z;

	if (zone == NULL || strcmp(zone, "UTC") == 0 ||
	    (z = icaltimezone_get_builtin_timezone(zone)) == NULL ||
	    icaltimezone_get_component(z) == NULL)
		return (NULL);
	return (z);
}

/* Add the VTIMEZONE of zone to the calendar once. */
static void
ical_zone(struct ical *ic, const char *zone)
{
	icaltimezone	*z;
	icalcomponent	*vtz;
	icalproperty	*p;
	size_t		 i;

	if (zone == NULL)
		return;
	for (i = 0; i < ic->nzones; i++) {
		if (strcmp(ic->zones[i], zone) == 0)
			return;
	}
	if ((z = zone_lookup(zone)) == NULL)
		return;
	vtz = icalcomponent_new_clone(icaltimezone_get_component(z));
	p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
	if (p != NULL)
		icalproperty_set_tzid(p, zone);
	else
		icalcomponent_add_property(vtz, icalproperty_new_tzid(zone));
	icalcomponent_add_component(ic->cal, vtz);
	ic->zones = xreallocarray(ic->zones, ic->nzones + 1,
	    sizeof *ic->zones);
	ic->zones[ic->nzones++] = xstrdup(zone);
}

/* A date-time property at t: in zone with a TZID, or in UTC. */
static icalproperty *
time_property(icalproperty *(*make)(struct icaltimetype), time_t t,
    const char *zone)
{
	struct icaltimetype	 tt;
	icaltimezone		*z;
	icalproperty		*p;

	if ((z = zone_lookup(zone)) == NULL) {
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

/* Make room for n more bytes of components' text. */
void
ical_reserve(struct ical *ic, size_t n)
{
	if (ic->blen + n > ic->bsize) {
		ic->bsize = ic->blen + n;
		ic->body = xreallocarray(ic->body, 1, ic->bsize);
	}
}

/*
 * Append a component's text to the calendar; zone (or NULL) is the zone
 * its times are in, whose VTIMEZONE the calendar then holds.
 */
void
ical_add_text(struct ical *ic, const char *zone, const char *text, size_t len)
{
	size_t	 size;

	ical_zone(ic, zone);
	if (len == 0)
		return;
	if (ic->blen + len > ic->bsize) {
		size = ic->bsize == 0 ? 65536 : ic->bsize;
		while (size < ic->blen + len)
			size *= 2;
		ic->body = xreallocarray(ic->body, 1, size);
		ic->bsize = size;
	}
	memcpy(ic->body + ic->blen, text, len);
	ic->blen += len;
}

/* Serialize one component, free it and append its text. */
static void
ical_keep(struct ical *ic, icalcomponent *c, const char *zone)
{
	char	*text;

	if ((text = icalcomponent_as_ical_string_r(c)) == NULL)
		fatalx("%s: libical cannot serialize", __func__);
	icalcomponent_free(c);
	ical_add_text(ic, zone, text, strlen(text));
	free(text);
}

/*
 * One VEVENT on its own, as libical serializes it; the caller frees it.
 * Its text depends on e alone, so it can be kept and reused.
 */
char *
ical_event_render(const struct ical_event *e, size_t *len)
{
	icalcomponent	*ev;
	char		*text;
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
	icalcomponent_add_property(ev, time_property(icalproperty_new_dtstart,
	    e->start, e->zone));
	icalcomponent_add_property(ev, time_property(icalproperty_new_dtend,
	    e->end, e->zone));
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
	if ((text = icalcomponent_as_ical_string_r(ev)) == NULL)
		fatalx("%s: libical cannot serialize", __func__);
	icalcomponent_free(ev);
	*len = strlen(text);
	return (text);
}

/* Add one VEVENT. */
void
ical_event(struct ical *ic, const struct ical_event *e)
{
	char	*text;
	size_t	 len;

	text = ical_event_render(e, &len);
	ical_add_text(ic, e->zone, text, len);
	free(text);
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
	ical_keep(ic, fb, NULL);
}

/*
 * Serialize the calendar and free it; the caller frees the text.  The
 * text is made in the components' buffer, moved up for the head: a site
 * feed is megabytes, and a second buffer of its size was as many pages
 * more to fault in (and unmap) on the event loop.
 */
char *
ical_finish(struct ical *ic, size_t *len)
{
	char	*head, *text;
	size_t	 hlen, i, n = sizeof ICAL_END - 1;

	head = icalcomponent_as_ical_string_r(ic->cal);
	if (head == NULL)
		fatalx("%s: libical cannot serialize", __func__);
	hlen = strlen(head);
	if (hlen < n || strcmp(head + hlen - n, ICAL_END) != 0)
		fatalx("%s: libical wrote no %s", __func__, "END:VCALENDAR");
	hlen -= n;
	*len = hlen + ic->blen + n;
	text = xreallocarray(ic->body, 1, *len + 1);
	ic->body = NULL;
	if (ic->blen > 0)
		memmove(text + hlen, text, ic->blen);
	memcpy(text, head, hlen);
	memcpy(text + hlen + ic->blen, ICAL_END, n + 1);
	free(head);
	icalcomponent_free(ic->cal);
	for (i = 0; i < ic->nzones; i++)
		free(ic->zones[i]);
	free(ic->zones);
	free(ic->body);
	free(ic);
	return (text);
}
