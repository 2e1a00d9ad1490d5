#!/bin/sh
# waits.sh: work the loop puts off, and stopping while it waits.
#
# A report waits (at most 2 s) for a long WAL to start again before it
# begins (daemon/api-reports.c); YIQID_REPORT_WAL_LONG=1 makes the WAL
# always count as long, so the report waits the whole 2 s and is then
# made anyway, and SIGTERM during the wait still lets it finish.  A feed
# whose events are not kept is built in slices of the loop
# (daemon/api-feeds.c); YIQID_FEED_SLICE_MS spaces them out, so that a
# feed is still being built when SIGTERM's 5-s drain runs out: it is then
# answered 503, the daemon exits cleanly (no leak under the sanitizers),
# and a slow-sliced feed that is left to finish is the very same calendar.

. "$top_srcdir/tests/e2e/lib.sh"

NEVENTS=3000

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic || not_ok "basic set-up"
TOKEN=$MEMBER_TOKEN api POST /api/v1/users/wang/feed-token
WF=$(jq -r .token "$T/body")
[ -n "$WF" ] && [ "$WF" != null ] || not_ok "a feed token"
stop_daemon || not_ok "yiqid stops"
NOW=$(date +%s)
seed_bookings $NEVENTS wang $((NOW + 86400)) 7200 3600 ||
    not_ok "seeding bookings"
FROM=$(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d "@$((NOW + 400 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
FEED="/feeds/sites/HC-HTZ.ics?token=$WF&from=$FROM&to=$TO"
REPORT="/api/v1/reports/utilisation?from=$FROM&to=$TO"
printf 'log_level = debug\n' > "$T/debug.conf"

# The reference feed, built at full speed.
start_daemon -c "$T/debug.conf" || { not_ok "yiqid starts"; done_testing; }
curl -s -o "$T/ref.ics" "$SERVER$FEED"
is "the reference feed holds every booking" \
    "$(grep -c '^BEGIN:VEVENT' "$T/ref.ics")" "$NEVENTS"
t0=$(date +%s.%N)
api GET "$REPORT"
t1=$(date +%s.%N)
is "a report on a short WAL (200)" "$STATUS" 200
check "... does not wait" awk "BEGIN { exit !($t1 - $t0 < 1.5) }"
stop_daemon || not_ok "yiqid stops"

# Reports that wait for the WAL.
YIQID_REPORT_WAL_LONG=1 start_daemon -c "$T/debug.conf" ||
    { not_ok "yiqid starts (reports wait)"; done_testing; }
t0=$(date +%s.%N)
api GET "$REPORT"
t1=$(date +%s.%N)
is "a report that waited for the WAL is made anyway (200)" "$STATUS" 200
check "... after its 2 s" awk "BEGIN { exit !($t1 - $t0 >= 1.9) }"
cp "$T/body" "$T/report1"
curl -s -o "$T/report2" -w '%{http_code}' -H "Authorization: Bearer $ADMIN_TOKEN" \
    "$SERVER$REPORT" > "$T/report2.st" &
CURL=$!
sleep 0.5
kill -TERM "$DPID"
wait $CURL
is "SIGTERM while a report waits: it is still made (200)" "$(cat "$T/report2.st")" 200
check "... the same report" cmp -s "$T/report1" "$T/report2"
wait "$DPID"
is "yiqid exits cleanly after it" "$?" 0
cat "$T/yiqid.log.new" >> "$T/yiqid.log"
check "the log says how long it waited" \
    grep -q "report: waited 2000 ms for the WAL" "$T/yiqid.log"

# Feeds built in slow slices: 3,000 events at 128 a slice, 300 ms apart,
# take some 7 s; left alone the feed is the same calendar.
YIQID_FEED_SLICE_MS=300 start_daemon -c "$T/debug.conf" ||
    { not_ok "yiqid starts (slow slices)"; done_testing; }
curl -s -o "$T/slow.ics" -w '%{http_code}' "$SERVER$FEED" > "$T/slow.st"
is "a feed built in slow slices (200)" "$(cat "$T/slow.st")" 200
check "... is the reference feed, byte for byte" cmp -s "$T/ref.ics" "$T/slow.ics"
check "... built in 24 slices" \
    grep -Eq "feed site HC-HTZ: [0-9]+ bytes in 24 slices" "$T/yiqid.log.new"
stop_daemon || not_ok "yiqid stops"

# SIGTERM while such a feed is being built: the 5-s drain runs out first.
YIQID_FEED_SLICE_MS=300 start_daemon -c "$T/debug.conf" ||
    { not_ok "yiqid starts (slow slices again)"; done_testing; }
curl -s -o "$T/cut.ics" -w '%{http_code}' "$SERVER$FEED" > "$T/cut.st" &
CURL=$!
sleep 1
t0=$(date +%s.%N)
kill -TERM "$DPID"
wait $CURL
is "SIGTERM while a feed is built in slices: 503" "$(cat "$T/cut.st")" 503
check "... saying the server stops" grep -q "stopping" "$T/cut.ics"
wait "$DPID"
rc=$?
t1=$(date +%s.%N)
is "yiqid exits cleanly (nothing leaked)" "$rc" 0
check "... after the drain's 5 s, not the feed's 7" \
    awk "BEGIN { d = $t1 - $t0; exit !(d >= 4.5 && d < 6.9) }"
cat "$T/yiqid.log.new" >> "$T/yiqid.log"

done_testing
