#!/bin/sh
# calpoll.sh: external calendars polled into blackouts (issue 3), against a
# local test server (tests/calendar-server.py).  New events appear, removed
# ones go, a conditional request gets 304 and keeps them, a 500 or a
# garbage body keeps the last good state and shows in the API, and a
# server that hangs does not stall the daemon: a booking made while the
# poll hangs is answered promptly, and yiqid still stops cleanly.

. "$top_srcdir/tests/e2e/lib.sh"

SPID=
trap 'if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; fi; cleanup' EXIT

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic || not_ok "basic set-up"

C=$T/cal
mkdir -p "$C"
echo ok > "$C/mode"
# calendar UID:SUMMARY:DAY...: write $C/cal.ics with one event per argument.
calendar() {
	{
		printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Vendor//Test//EN\r\n'
		for ev in "$@"; do
			uid=${ev%%:*}
			rest=${ev#*:}
			sum=${rest%%:*}
			d=$(TZ=Asia/Shanghai date -d "+${rest#*:} days" +%Y%m%d)
			printf 'BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\n' "$uid"
			printf 'DTSTART;TZID=Asia/Shanghai:%sT090000\r\n' "$d"
			printf 'DTEND;TZID=Asia/Shanghai:%sT120000\r\n' "$d"
			printf 'SUMMARY:%s\r\nEND:VEVENT\r\n' "$sum"
		done
		printf 'END:VCALENDAR\r\n'
	} > "$C/cal.ics"
}
calendar "a@v:Service A:3" "b@v:Service B:5"

/usr/bin/python3 "$top_srcdir/tests/calendar-server.py" "$C" > "$C/port" &
SPID=$!
i=0
while [ $i -lt 100 ] && [ ! -s "$C/port" ]; do sleep 0.05; i=$((i + 1)); done
CAL=http://127.0.0.1:$(cat "$C/port")
check "the test calendar server runs" [ -s "$C/port" ]

# wait_for DESCRIPTION COMMAND...: ok once the command succeeds (10 s).
wait_for() {
	desc=$1
	shift
	i=0
	while [ $i -lt 100 ]; do
		if "$@"; then ok "$desc"; return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	not_ok "$desc"
	return 1
}
reasons() {
	api GET "/api/v1/blackouts?instrument=ICPMS-1"
	jq -r '[.items[] | select(.source == "calendar:'"$1"'") | .reason] | sort | join(",")' "$T/body"
}
state() {
	api GET "/api/v1/calendars/$1"
	jq -r "$2" "$T/body"
}

TOKEN=$MEMBER_TOKEN api POST /api/v1/calendars "{\"instrument\":\"ICPMS-1\",\"url\":\"$CAL/cal.ics\"}"
is "a member may not subscribe an instrument (403)" "$STATUS" 403
api POST /api/v1/calendars '{"instrument":"ICPMS-1","url":"ftp://example.org/x.ics"}'
is "a non-http URL: 400" "$STATUS" 400
is "naming the field" "$(jq -r .error.field "$T/body")" url
api POST /api/v1/calendars "{\"instrument\":\"ICPMS-1\",\"url\":\"$CAL/cal.ics\"}"
is "an admin subscribes ICPMS-1 to the vendor calendar (201)" "$STATUS" 201
ID=$(jq -r .id "$T/body")

i=0
while [ $i -lt 100 ] && [ "$(reasons "$ID")" != "Service A,Service B" ]; do
	sleep 0.1
	i=$((i + 1))
done
is "both events are blackouts" "$(reasons "$ID")" "Service A,Service B"
is "the API shows a good poll" \
    "$(state "$ID" '[.last_status, .failures, .blackouts, .last_error] | @text')" \
    '[200,0,2,""]'

# Unchanged upstream: a conditional request, 304, nothing changes.
api POST "/api/v1/calendars/$ID/poll"
is "poll now: 202" "$STATUS" 202
wait_for "the second poll is conditional and gets 304" grep -q "^/cal.ics 304" "$C/log"
sleep 0.2
is "304 keeps the blackouts" "$(reasons "$ID")" "Service A,Service B"

# Upstream changed: B removed, C added.
calendar "a@v:Service A:3" "c@v:Service C:7"
api POST "/api/v1/calendars/$ID/poll"
i=0
while [ $i -lt 100 ] && [ "$(reasons "$ID")" != "Service A,Service C" ]; do
	sleep 0.1
	i=$((i + 1))
done
is "a removed event goes, a new one comes" "$(reasons "$ID")" "Service A,Service C"

# A 500 keeps the last good state and shows in the API.
echo 500 > "$C/mode"
api POST "/api/v1/calendars/$ID/poll"
i=0
while [ $i -lt 100 ] && [ "$(state "$ID" .failures)" != 1 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "a 500 counts as a failure" "$(state "$ID" .failures)" 1
check "and the error says so" grep -q "HTTP 500" "$T/body"
is "a 500 keeps the last good blackouts" "$(reasons "$ID")" "Service A,Service C"
next=$(date -d "$(state "$ID" .next_poll)" +%s)
now=$(date +%s)
check "the retry backs off a minute, not the whole interval ($((next - now)) s)" \
    sh -c "[ $((next - now)) -ge 50 ] && [ $((next - now)) -le 70 ]"

# A garbage body: the same.
echo garbage > "$C/mode"
api POST "/api/v1/calendars/$ID/poll"
i=0
while [ $i -lt 100 ] && [ "$(state "$ID" .failures)" != 2 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "a garbage body counts as a failure" "$(state "$ID" .failures)" 2
check "the error says malformed" grep -q malformed "$T/body"
is "garbage keeps the last good blackouts" "$(reasons "$ID")" "Service A,Service C"
check "the failures are logged" grep -q "calendar $ID: .*keeping the last good state" "$T/yiqid.log.new"

# A server that hangs does not stall the daemon.
api POST /api/v1/sites '{"code":"WS-JZ","name":"Wusheng Jiezi Industrial Park","district":"wusheng"}'
api POST /api/v1/calendars "{\"site\":\"WS-JZ\",\"url\":\"$CAL/slow.ics\"}"
is "a second calendar, on a server that hangs" "$STATUS" 201
SLOW=$(jq -r .id "$T/body")
wait_for "its poll is in flight" grep -q "^/slow.ics 0" "$C/log"
t0=$(date +%s%N)
TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"start\":\"$(day 2)T09:00:00+08:00\",\"end\":\"$(day 2)T10:00:00+08:00\"}"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
is "a booking while the poll hangs succeeds" "$STATUS" 201
check "and is answered promptly (${ms} ms < 1000 ms)" [ "$ms" -lt 1000 ]
is "the hanging poll has not finished" "$(state "$SLOW" .last_poll)" null

api DELETE "/api/v1/calendars/$ID"
is "deleting a calendar: 204" "$STATUS" 204
is "its blackouts go with it" "$(reasons "$ID")" ""

stop_daemon
is "yiqid stops cleanly with a transfer in flight" "$?" 0
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=
done_testing
