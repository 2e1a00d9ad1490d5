#!/bin/sh
# feeds-cache.sh: the feed cache (daemon/feedcache.c) never serves a stale
# or another viewer's event.  A feed is fetched, a booking changed (moved,
# cancelled, approved, its institute turned private, its instrument's room
# changed), and the feed fetched again must show the change; two viewers
# with different visibility fetch the same feed alternately and each always
# gets its own variant, as does a manager of one of the instruments; and a daemon with the cache off
# (feed_cache_mb = 0) and one with a cache too small for the feed
# (1 MiB against ~3,000 events) serve byte for byte the same feeds as the
# cached one.  A feed whose events are not kept yet is built in slices of
# the loop (the log says how many), and comes out the same.

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic || not_ok "basic set-up"

api POST /api/v1/institutes '{"code":"OPEN","name":"Open Lab Institute","district":"hechuan"}'
api POST /api/v1/users '{"login":"zhao","name":"Zhao Lei","institute":"OPEN"}'
api POST /api/v1/users/zhao/tokens '{}'
ZHAO_TOKEN=$(jq -r .token "$T/body")
api POST /api/v1/instruments '{"code":"TEM-1","name":"TEM","category":"microscopy","site":"HC-HTZ","owner":"CQU","rules":{"requires_approval":true}}'
is "an instrument that needs approval" "$STATUS" 201

# Feed tokens: wang (a member: others' bookings are busy), the admin (all).
TOKEN=$MEMBER_TOKEN api POST /api/v1/users/wang/feed-token
WF=$(jq -r .token "$T/body")
api POST /api/v1/users/admin/feed-token
AF=$(jq -r .token "$T/body")
[ -n "$WF" ] && [ -n "$AF" ] || not_ok "feed tokens"

D1=$(day 3)
TOKEN=$ZHAO_TOKEN api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"start\":\"${D1}T09:00:00+08:00\",\"end\":\"${D1}T11:00:00+08:00\",\"purpose\":\"zhao secret purpose\"}"
is "zhao books (201)" "$STATUS" 201
ZB=$(jq -r .id "$T/body")
TOKEN=$ZHAO_TOKEN api POST /api/v1/reservations "{\"instrument\":\"TEM-1\",\"start\":\"${D1}T13:00:00+08:00\",\"end\":\"${D1}T14:00:00+08:00\",\"purpose\":\"zhao tem session\"}"
is "a booking that waits for approval (201)" "$STATUS" 201
ZP=$(jq -r .id "$T/body")
TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"start\":\"${D1}T15:00:00+08:00\",\"end\":\"${D1}T16:00:00+08:00\",\"purpose\":\"wang own run\"}"
is "wang books (201)" "$STATUS" 201

# feed TOKEN OUT: fetch the site feed into $T/OUT; status in $STATUS.
feed() {
	STATUS=$(curl -s -o "$T/$2" -w '%{http_code}' \
	    "$SERVER/feeds/sites/HC-HTZ.ics?token=$1")
}
# unfold OUT: the feed's logical lines (RFC 5545 unfolding), no CR.
unfold() {
	tr -d '\r' < "$T/$1" | awk '/^ / { l = l substr($0, 2); next }
	    { if (NR > 1) print l; l = $0 } END { print l }'
}
# event OUT UID-PART PROPERTY: the property's line in the event whose
# SUMMARY or UID mentions UID-PART.
event() {
	unfold "$1" | awk -v id="$2" -v p="$3" '
	    /^BEGIN:VEVENT/ { n = 0; hit = 0 }
	    { ev[n++] = $0; if (index($0, id)) hit = 1 }
	    /^END:VEVENT/ && hit { for (i = 0; i < n; i++)
		if (index(ev[i], p ":") == 1 || index(ev[i], p ";") == 1)
			print ev[i] }'
}
ZUID=$(TOKEN=$ADMIN_TOKEN api GET /api/v1/reservations/$ZB; jq -r .uid "$T/body")
PUID=$(TOKEN=$ADMIN_TOKEN api GET /api/v1/reservations/$ZP; jq -r .uid "$T/body")

# Two viewers, alternately: each always gets its own variant.
feed "$WF" w1; feed "$AF" a1; feed "$WF" w2; feed "$AF" a2; feed "$WF" w3
is "wang's feed (200)" "$STATUS" 200
check "wang sees zhao's booking as busy with the institute" \
    grep -q "^SUMMARY:ICPMS-1: busy (Open Lab Institute)" "$T/w1"
check "the admin sees zhao's booking in full" \
    grep -q "zhao secret purpose" "$T/a1"
check "wang sees his own booking in full" grep -q "wang own run" "$T/w1"
ok=1
for f in w1 w2 w3; do
	grep -q "zhao secret purpose\|zhao tem session\|Zhao Lei" "$T/$f" && ok=0
done
is "wang never gets the admin's variant, fetched alternately" "$ok" 1
check "wang's fetches are identical" cmp -s "$T/w1" "$T/w3"
check "the admin's fetches are identical" cmp -s "$T/a1" "$T/a2"
check "the admin's second fetch still holds zhao's purpose" \
    grep -q "zhao secret purpose" "$T/a2"

# A manager of ICPMS-1 sees its bookings in full and TEM-1's as busy, in
# one feed (what a manager may see is remembered per instrument).
api POST /api/v1/users '{"login":"mgr","name":"Ma Guo","institute":"CQU","role":"manager","manages":["ICPMS-1"]}'
is "a manager of ICPMS-1 (201)" "$STATUS" 201
api POST /api/v1/users/mgr/feed-token
MGF=$(jq -r .token "$T/body")
feed "$MGF" m1
is "the manager sees zhao's ICPMS-1 booking in full" \
    "$(event m1 "$ZUID" SUMMARY)" "SUMMARY:ICPMS-1: zhao secret purpose (Zhao Lei)"
is "... and zhao's TEM-1 booking as busy" "$(event m1 "$PUID" SUMMARY)" \
    "SUMMARY:TEM-1: busy (Open Lab Institute)"

# Move zhao's booking: the new times and a higher SEQUENCE.
SEQ0=$(event w1 "$ZUID" SEQUENCE)
api PATCH /api/v1/reservations/$ZB "{\"start\":\"${D1}T10:00:00+08:00\",\"end\":\"${D1}T12:00:00+08:00\"}"
is "the admin moves zhao's booking (200)" "$STATUS" 200
feed "$WF" w4
is "the moved booking's DTSTART" "$(event w4 "$ZUID" DTSTART)" \
    "DTSTART;TZID=Asia/Shanghai:$(echo "$D1" | tr -d -)T100000"
is "the moved booking's DTEND" "$(event w4 "$ZUID" DTEND)" \
    "DTEND;TZID=Asia/Shanghai:$(echo "$D1" | tr -d -)T120000"
check "its SEQUENCE went up" [ "$(event w4 "$ZUID" SEQUENCE | cut -d: -f2)" -gt \
    "$(echo "$SEQ0" | cut -d: -f2)" ]

# The institute turns private: the booking row is unchanged, its event not.
api PATCH /api/v1/institutes/OPEN '{"private":true}'
is "OPEN turns private (200)" "$STATUS" 200
feed "$WF" w5
is "wang now sees zhao's booking as just busy" "$(event w5 "$ZUID" SUMMARY)" \
    "SUMMARY:ICPMS-1: busy"
check "the institute's name is gone from wang's feed" \
    sh -c "! grep -q 'Open Lab Institute' '$T/w5'"

# The instrument's room changes: every event's LOCATION follows.
api PATCH /api/v1/instruments/ICPMS-1 '{"room":"C-303"}'
feed "$AF" a3
is "the new room in the admin's feed" "$(event a3 "$ZUID" LOCATION)" \
    "LOCATION:C-303\\, Hechuan Hi-tech Industrial Development Zone"

# Approve: TENTATIVE becomes CONFIRMED.
is "the pending booking is TENTATIVE" "$(event a3 "$PUID" STATUS)" \
    "STATUS:TENTATIVE"
api POST /api/v1/reservations/$ZP/approve
is "the admin approves (200)" "$STATUS" 200
feed "$AF" a4
is "the approved booking is CONFIRMED" "$(event a4 "$PUID" STATUS)" \
    "STATUS:CONFIRMED"

# Cancel: STATUS:CANCELLED, in both variants.
api DELETE /api/v1/reservations/$ZB
is "the admin cancels zhao's booking (200)" "$STATUS" 200
feed "$AF" a5
feed "$WF" w6
is "cancelled in the admin's feed" "$(event a5 "$ZUID" STATUS)" \
    "STATUS:CANCELLED"
is "cancelled in wang's feed" "$(event w6 "$ZUID" STATUS)" "STATUS:CANCELLED"

# Many bookings, then the same feeds from a daemon without the cache and
# from one whose cache is far too small for them.
stop_daemon || not_ok "yiqid stops"
NOW=$(date +%s)
seed_bookings 3000 zhao $((NOW + 30 * 86400)) 7200 3600 ||
    not_ok "seeding bookings"
# fetch TAG: the admin's and wang's site feeds and wang's instrument feed.
fetch() {
	feed "$AF" "$1.a"
	feed "$WF" "$1.w"
	curl -s -o "$T/$1.i" \
	    "$SERVER/feeds/instruments/ICPMS-1.ics?token=$WF"
}
printf 'log_level = debug\n' > "$T/debug.conf"
start_daemon -c "$T/debug.conf" || not_ok "yiqid starts with the cache"
fetch c1
fetch c2
api PATCH /api/v1/reservations/$(sqlite3 "$DB" "SELECT id FROM reservations WHERE uid = 'seed-7@test'") '{"purpose":"changed seven"}'
is "a seeded booking changes (200)" "$STATUS" 200
fetch c3
stop_daemon || not_ok "yiqid (cache) exits cleanly"
check "the seeded feed holds them all" \
    [ "$(grep -c '^BEGIN:VEVENT' "$T/c1.a")" -ge 3000 ]
check "the change is in the cached daemon's feed" \
    grep -q "changed seven" "$T/c3.a"
# 3,000 events none of which was rendered: built in slices of the loop
# (128 renders each), and once kept, in one.
check "the first feed is built in slices" \
    grep -Eq "feed site HC-HTZ: [0-9]+ bytes in (2[4-9]|[3-9][0-9]) slices" \
    "$T/yiqid.log"
check "... the next in one" \
    grep -Eq "feed instrument ICPMS-1: [0-9]+ bytes in 1 slice," "$T/yiqid.log"

printf 'feed_cache_mb = 0\n' > "$T/off.conf"
start_daemon -c "$T/off.conf" || not_ok "yiqid starts without the cache"
fetch u3
stop_daemon || not_ok "yiqid (no cache) exits cleanly"
for v in a w i; do
	check "feed $v: cached and uncached daemons agree byte for byte" \
	    cmp -s "$T/c3.$v" "$T/u3.$v"
done

printf 'feed_cache_mb = 1\n' > "$T/tiny.conf"
start_daemon -c "$T/tiny.conf" || not_ok "yiqid starts with a 1 MiB cache"
fetch t1
fetch t2
api PATCH /api/v1/reservations/$(sqlite3 "$DB" "SELECT id FROM reservations WHERE uid = 'seed-8@test'") '{"purpose":"changed eight"}'
is "another seeded booking changes (200)" "$STATUS" 200
fetch t3
stop_daemon || not_ok "yiqid (tiny cache) exits cleanly"
for v in a w i; do
	check "feed $v: the tiny cache agrees with no cache" \
	    cmp -s "$T/t1.$v" "$T/u3.$v"
	check "feed $v: ... and again" cmp -s "$T/t2.$v" "$T/u3.$v"
done
check "the tiny cache shows the later change" grep -q "changed eight" "$T/t3.a"
is "... in the changed booking's event" "$(event t3.a seed-8@test SUMMARY)" \
    "SUMMARY:ICPMS-1: changed eight (Zhao Lei)"
check "wang's feed never shows seeded purposes" \
    sh -c "! grep -q 'seeded purpose' '$T/t3.w'"

done_testing
