#!/bin/sh
# feeds-queue.sh: at most 4 feed jobs run at once and 64 more wait; past
# that a feed request is answered 503 with Retry-After (daemon/feedjob.c).
# YIQID_FEEDJOB_HOLD_MS makes each job wait 500 ms before its query, so
# that 90 requests sent together surely fill the queue: 68 are answered
# with the whole calendar (each distinct window its own job), the other
# 22 with 503 and "Retry-After: 5".

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic || not_ok "basic set-up"
api POST /api/v1/users/admin/feed-token
AF=$(jq -r .token "$T/body")
D=$(day 2)
api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"user\":\"wang\",\"start\":\"${D}T09:00:00+08:00\",\"end\":\"${D}T10:00:00+08:00\"}"
is "one booking" "$STATUS" 201
stop_daemon || not_ok "yiqid stops"

YIQID_FEEDJOB_HOLD_MS=500 start_daemon ||
    { not_ok "yiqid starts with slow feed jobs"; done_testing; }
NOW=$(date +%s)
FROM=$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)
# 90 requests at once, each a distinct window (a distinct ETag: no
# whole-feed cache answer), written as "status|retry-after|bytes".
set --
i=1
while [ $i -le 90 ]; do
	set -- "$@" -o /dev/null "$SERVER/feeds/sites/HC-HTZ.ics?token=$AF&from=$FROM&to=$(date -u -d "@$((NOW + 30 * 86400 + i))" +%Y-%m-%dT%H:%M:%SZ)"
	i=$((i + 1))
done
curl -s --parallel --parallel-immediate --parallel-max 90 \
    -w '%{http_code}|%header{retry-after}|%{size_download}\n' "$@" > "$T/all"
is "90 answers" "$(wc -l < "$T/all")" 90
is "68 feeds built: 4 running and 64 waiting" "$(grep -c '^200|' "$T/all")" 68
is "the other 22 refused with 503 and Retry-After: 5" "$(grep -c '^503|5|' "$T/all")" 22
check "every 200 is a calendar with the booking" \
    [ "$(awk -F'|' '$1 == 200 && $3 > 1000' "$T/all" | wc -l)" -eq 68 ]
curl -s "$SERVER/feeds/sites/HC-HTZ.ics?token=$AF&from=$FROM&to=$(date -u -d "@$((NOW + 40 * 86400))" +%Y-%m-%dT%H:%M:%SZ)" > "$T/one"
is "once the queue has drained, a feed is built again" "$(grep -c '^BEGIN:VEVENT' "$T/one")" 1

check "yiqid stops cleanly" stop_daemon
done_testing
