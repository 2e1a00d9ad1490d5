#!/usr/bin/python3
# ical-check.py: check one iCalendar feed the way strict calendar programs
# read it, with an independent parser (Debian's python3-icalendar), and
# print what it holds as JSON for the shell tests.
#
# usage: ical-check.py FILE
#
# Checks: strict UTF-8 without a BOM; every line ends in CRLF; every
# physical line is at most 75 octets and is valid UTF-8 on its own (a fold
# never cuts a character); none of U+2028, U+2029, U+0085, VT, FF; the
# calendar has VERSION, PRODID, NAME, X-WR-CALNAME, REFRESH-INTERVAL,
# X-PUBLISHED-TTL; every VEVENT has UID, DTSTAMP (UTC), DTSTART, DTEND,
# SEQUENCE, STATUS and SUMMARY, UIDs are unique, no DURATION; every TZID
# used is defined by a VTIMEZONE and no zoned time is also marked UTC.
# Exit 0 and a JSON summary on stdout, or exit 1 and the reasons on stderr.

import json
import re
import sys

import icalendar


def fail(msgs):
    for m in msgs:
        sys.stderr.write("ical-check: %s\n" % m)
    sys.exit(1)


def main():
    raw = open(sys.argv[1], "rb").read()
    errs = []
    if raw.startswith(b"\xef\xbb\xbf"):
        errs.append("body starts with a BOM")
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        fail(["body is not UTF-8: %s" % e])
    for bad in ("\u2028", "\u2029", "\u0085", "\x0b", "\x0c"):
        if bad in text:
            errs.append("body holds U+%04X" % ord(bad))
    if not raw.endswith(b"\r\n"):
        errs.append("body does not end in CRLF")
    lines = raw.split(b"\r\n")[:-1]
    for n, line in enumerate(lines, 1):
        if b"\n" in line or b"\r" in line:
            errs.append("line %d: bare CR or LF" % n)
        if len(line) > 75:
            errs.append("line %d: %d octets" % (n, len(line)))
        try:
            line.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            errs.append("line %d: a fold cuts a UTF-8 character" % n)
    # Zoned times must not carry a Z (the libical 3.0.16 pitfall).
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    tzids = set()
    for line in unfolded.split("\r\n"):
        m = re.match(r"^[A-Z-]+;(?:[^:]*;)?TZID=([^;:]+)[^:]*:(.*)$", line)
        if m:
            tzids.add(m.group(1))
            if m.group(2).endswith("Z"):
                errs.append("zoned time marked UTC: %s" % line)
    if errs:
        fail(errs)

    cal = icalendar.Calendar.from_ical(raw)
    for p in ("VERSION", "PRODID", "NAME", "X-WR-CALNAME",
              "REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        if p not in cal:
            errs.append("calendar lacks %s" % p)
    defined = set(str(tz["TZID"]) for tz in cal.walk("VTIMEZONE"))
    for tz in tzids - defined:
        errs.append("TZID %s has no VTIMEZONE" % tz)
    events = []
    uids = set()
    for ev in cal.walk("VEVENT"):
        for p in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE",
                  "STATUS", "SUMMARY"):
            if p not in ev:
                errs.append("VEVENT %s lacks %s" % (ev.get("UID"), p))
        if "DURATION" in ev:
            errs.append("VEVENT %s has DURATION" % ev.get("UID"))
        uid = str(ev.get("UID"))
        if uid in uids:
            errs.append("UID %s twice" % uid)
        uids.add(uid)
        if "DTSTAMP" in ev and ev["DTSTAMP"].dt.utcoffset() is None:
            errs.append("VEVENT %s: DTSTAMP not UTC" % uid)
        if "DTSTART" not in ev or "DTEND" not in ev:
            continue
        start = ev["DTSTART"].dt
        if ev["DTEND"].dt <= start:
            errs.append("VEVENT %s ends before it starts" % uid)
        events.append({
            "uid": uid,
            "summary": str(ev.get("SUMMARY")),
            "description": str(ev.get("DESCRIPTION", "")),
            "location": str(ev.get("LOCATION", "")),
            "status": str(ev.get("STATUS")),
            "sequence": int(ev.get("SEQUENCE", -1)),
            "dtstamp": ev["DTSTAMP"].dt.isoformat() if "DTSTAMP" in ev
            else None,
            "start": start.isoformat(),
            "end": ev["DTEND"].dt.isoformat(),
            "tzid": ev["DTSTART"].params.get("TZID"),
            "categories": ev.get("CATEGORIES").to_ical().decode()
            if ev.get("CATEGORIES") is not None else "",
        })
    freebusy = []
    for fb in cal.walk("VFREEBUSY"):
        for p in ("UID", "DTSTAMP", "DTSTART", "DTEND"):
            if p not in fb:
                errs.append("VFREEBUSY lacks %s" % p)
        for line in unfolded.split("\r\n"):
            if line.startswith("FREEBUSY"):
                params, _, value = line.partition(":")
                for per in value.split(","):
                    a, _, b = per.partition("/")
                    if not a.endswith("Z") or not b.endswith("Z"):
                        errs.append("FREEBUSY not in UTC: %s" % line)
                    freebusy.append({"start": a, "end": b,
                                     "type": params.split("FBTYPE=")[-1]
                                     if "FBTYPE=" in params else "BUSY"})
    if errs:
        fail(errs)
    json.dump({"name": str(cal.get("NAME")), "tzids": sorted(tzids),
               "vtimezones": sorted(defined), "events": events,
               "freebusy": freebusy}, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


main()
