#!/bin/sh
# ical-import.sh: iCalendar in (issue 3).  An .ics file posted to
# /api/v1/blackouts/import (and through yiqi admin blackouts import)
# becomes blackouts: RRULE expanded, EXDATE and RECURRENCE-ID honoured,
# TZIDs resolved from the file or the zone database, all-day dates read in
# the site's zone; re-importing updates by UID; a cancelled event removes
# its blackouts; a bad file (unknown TZID, truncated, binary, no UID, too
# large) gets 400/413 and changes nothing; bookings under an imported
# blackout are flagged and listed.

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic || not_ok "basic set-up"
Y=$YIQI
export YIQI_TOKEN=$ADMIN_TOKEN

# ymd N: the date N days ahead as YYYYMMDD (Asia/Shanghai).
ymd() {
	TZ=Asia/Shanghai date -d "+$1 days" +%Y%m%d
}
# crlf FILE: turn LF line ends into CRLF, as iCalendar wants.
crlf() {
	sed -i 's/$/\r/' "$1"
}
# import FILE QUERY: POST the file; status in $STATUS, answer in $T/body.
import() {
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer ${TOKEN:-$ADMIN_TOKEN}" \
	    -H 'Content-Type: text/calendar' --data-binary "@$1" \
	    "$SERVER/api/v1/blackouts/import?$2")
}
count() {
	api GET "/api/v1/blackouts?instrument=ICPMS-1"
	jq '[.items[] | select(.source == "ics")] | length' "$T/body"
}

# A booking that a later import will cover.
D10=$(day 10)
TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"start\":\"${D10}T10:00:00+08:00\",\"end\":\"${D10}T11:00:00+08:00\"}"
BOOKING=$(jq -r .id "$T/body")

# Weekly service, five times, the second one cancelled by EXDATE; the
# third moved an hour later by a RECURRENCE-ID override.
S1=$(ymd 3)
S2=$(ymd 10)
S3=$(ymd 17)
cat > "$T/service.ics" <<EOF
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Vendor//Service//EN
BEGIN:VEVENT
UID:service-weekly@vendor.example
DTSTAMP:20260101T000000Z
DTSTART;TZID=Asia/Shanghai:${S1}T090000
DTEND;TZID=Asia/Shanghai:${S1}T120000
RRULE:FREQ=WEEKLY;COUNT=5
EXDATE;TZID=Asia/Shanghai:${S2}T090000
SUMMARY:Vendor service 厂家维护
END:VEVENT
BEGIN:VEVENT
UID:service-weekly@vendor.example
DTSTAMP:20260101T000000Z
RECURRENCE-ID;TZID=Asia/Shanghai:${S3}T090000
DTSTART;TZID=Asia/Shanghai:${S3}T100000
DTEND;TZID=Asia/Shanghai:${S3}T130000
SUMMARY:Vendor service (moved)
END:VEVENT
BEGIN:VEVENT
UID:one-off@vendor.example
DTSTAMP:20260101T000000Z
DTSTART:$(ymd 4)T020000Z
DURATION:PT2H
SUMMARY:Calibration
END:VEVENT
END:VCALENDAR
EOF
crlf "$T/service.ics"
import "$T/service.ics" instrument=ICPMS-1
is "import answers 200" "$STATUS" 200
is "two events, five blackouts" "$(jq -c '[.events, .blackouts, .replaced]' "$T/body")" "[2,5,0]"
is "five ics blackouts stored" "$(count)" 5
api GET "/api/v1/blackouts?instrument=ICPMS-1"
is "RRULE expanded at local times, EXDATE left out, override moved" \
    "$(jq -r '[.items[] | select(.source == "ics") | .start] | sort | join(" ")' "$T/body")" \
    "$(day 3)T09:00:00+08:00 $(day 4)T10:00:00+08:00 $(day 17)T10:00:00+08:00 $(day 24)T09:00:00+08:00 $(day 31)T09:00:00+08:00"
is "the reason is the SUMMARY" \
    "$(jq -r '[.items[] | select(.start | startswith("'"$(day 3)"'")) | .reason][0]' "$T/body")" \
    "Vendor service 厂家维护"
is "DURATION gives the end" \
    "$(jq -r '[.items[] | select(.reason == "Calibration") | .end][0]' "$T/body")" \
    "$(day 4)T12:00:00+08:00"

import "$T/service.ics" instrument=ICPMS-1
is "re-importing the same file replaces, not duplicates" \
    "$(jq -c '[.blackouts, .replaced]' "$T/body")/$(count)" "[5,5]/5"

# A newer version: the series shortened to two, the EXDATE gone, so the
# booking on day 10 is now under a blackout.
sed -e 's/COUNT=5/COUNT=2/' -e '/^EXDATE/d' "$T/service.ics" > "$T/v2.ics"
import "$T/v2.ics" instrument=ICPMS-1
is "the newer file is imported" "$STATUS" 200
is "the booking under the new blackout is listed" \
    "$(jq -r '[.affected[].id] | join(",")' "$T/body")" "$BOOKING"
is "two series blackouts, the override and the one-off" "$(count)" 4
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations/$BOOKING"
is "and flagged" "$(jq -r .affected_by_blackout "$T/body")" true

# A cancelled event removes what an earlier import made of it.
cat > "$T/cancel.ics" <<EOF
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Vendor//Service//EN
BEGIN:VEVENT
UID:service-weekly@vendor.example
DTSTAMP:20260102T000000Z
DTSTART;TZID=Asia/Shanghai:${S1}T090000
DTEND;TZID=Asia/Shanghai:${S1}T120000
STATUS:CANCELLED
SUMMARY:Vendor service
END:VEVENT
END:VCALENDAR
EOF
crlf "$T/cancel.ics"
import "$T/cancel.ics" instrument=ICPMS-1
is "a cancelled event removes its blackouts (and its override's)" "$(count)" 1
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations/$BOOKING"
is "and the booking is no longer flagged" "$(jq -r .affected_by_blackout "$T/body")" false

# Bad files change nothing.
before=$(count)
sed 's/TZID=Asia\/Shanghai/TZID=Mars\/Olympus_Mons/g' "$T/service.ics" > "$T/bad-tz.ics"
import "$T/bad-tz.ics" instrument=ICPMS-1
is "an unknown TZID: 400" "$STATUS" 400
check "the error names the TZID" grep -q "Mars/Olympus_Mons" "$T/body"
head -c 300 "$T/service.ics" > "$T/truncated.ics"
import "$T/truncated.ics" instrument=ICPMS-1
is "a truncated file: 400" "$STATUS" 400
check "the error says truncated" grep -q "truncated" "$T/body"
head -c 4000 /dev/urandom > "$T/binary.ics"
import "$T/binary.ics" instrument=ICPMS-1
is "a binary file: 400" "$STATUS" 400
grep -v '^UID:one-off' "$T/service.ics" > "$T/no-uid.ics"
import "$T/no-uid.ics" instrument=ICPMS-1
is "an event without UID: 400" "$STATUS" 400
check "the error says UID" grep -q "UID" "$T/body"
sed "s/^DTEND;TZID=Asia\/Shanghai:${S1}T120000/DTEND;TZID=Asia\/Shanghai:${S1}T080000/" "$T/service.ics" > "$T/backwards.ics"
import "$T/backwards.ics" instrument=ICPMS-1
is "an end before the start: 400" "$STATUS" 400
printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n' > "$T/empty.ics"
import "$T/empty.ics" instrument=ICPMS-1
is "a calendar without events: 400" "$STATUS" 400
head -c 1100000 /dev/zero | tr '\0' 'x' > "$T/huge.ics"
import "$T/huge.ics" instrument=ICPMS-1
is "a file over the body limit: 413" "$STATUS" 413
is "none of the bad files changed anything" "$(count)" "$before"
import "$T/service.ics" ""
is "no instrument or site: 400" "$STATUS" 400
import "$T/service.ics" instrument=NOPE
is "an unknown instrument: 404" "$STATUS" 404
TOKEN=$MEMBER_TOKEN import "$T/service.ics" instrument=ICPMS-1
is "a member may not import blackouts: 403" "$STATUS" 403
is "still nothing changed" "$(count)" "$before"

# A site calendar: all-day holidays and a zone defined in the file.
H=$(ymd 40)
H2=$(ymd 41)
cat > "$T/holidays.ics" <<EOF
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Park//Holidays//EN
BEGIN:VTIMEZONE
TZID:China Standard Time
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:+0800
TZOFFSETTO:+0800
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:holiday-1@park.example
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:${H}
DTEND;VALUE=DATE:${H2}
SUMMARY:Park holiday
END:VEVENT
BEGIN:VEVENT
UID:drill@park.example
DTSTAMP:20260101T000000Z
DTSTART;TZID=China Standard Time:${H2}T140000
DTEND;TZID=China Standard Time:${H2}T160000
SUMMARY:Fire drill
END:VEVENT
END:VCALENDAR
EOF
crlf "$T/holidays.ics"
"$Y" admin blackouts import --site HC-HTZ "$T/holidays.ics" > "$T/out" 2> "$T/err"
is "yiqi admin blackouts import --site (exit 0)" "$?" 0
check "it reports what it imported" grep -q "2 events, 2 blackouts" "$T/out"
api GET "/api/v1/blackouts?site=HC-HTZ"
is "an all-day date is local midnight to midnight" \
    "$(jq -r '.items[] | select(.reason == "Park holiday") | .start + " " + .end' "$T/body")" \
    "$(day 40)T00:00:00+08:00 $(day 41)T00:00:00+08:00"
is "a TZID defined by the file's VTIMEZONE" \
    "$(jq -r '.items[] | select(.reason == "Fire drill") | .start' "$T/body")" \
    "$(day 41)T14:00:00+08:00"
"$Y" admin blackouts import ICPMS-1 "$T/bad-tz.ics" > "$T/out" 2> "$T/err"
is "the client exits 1 on a bad file" "$?" 1
check "and says why" grep -q "Mars/Olympus_Mons" "$T/err"
"$Y" admin blackouts import ICPMS-1 > "$T/out" 2> "$T/err"
is "the client needs a file (usage, exit 2)" "$?" 2

stop_daemon
is "yiqid exits cleanly" "$?" 0
done_testing
