#!/bin/sh
# find.sh: GET /api/v1/availability (yiqi find), the earliest free slots
# over many instruments.  The answer is the `limit` earliest slots over
# every matching active instrument, ordered by start, then instrument code
# (daemon/api-availability.c narrows each instrument's search once it
# holds `limit` slots; the expected answers here are computed apart).  An
# instrument whose code sorts after the first thousand counts as well.

. "${top_srcdir:-.}/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic || not_ok "basic set-up"
stop_daemon || not_ok "yiqid stops"

NOW=$(date +%s)
T0=$(( (NOW / 86400 + 2) * 86400 ))	# 08:00 in Shanghai, two days ahead
FROM=$(date -u -d "@$T0" +%Y-%m-%dT%H:%M:%SZ)
local_time() { TZ=Asia/Shanghai date -d "@$1" +%Y-%m-%dT%H:%M:%S+08:00; }

# 1,100 instruments of one category; all but the last (by code) booked
# for the two days from T0.  40 more of another, each booked from T0 for
# (k * 7) % 13 half hours (none when 0), so that many share a start; and
# one more in maintenance, free, which must not be offered; and two whose
# rules limit them (an hour at most; a day's advance window).
sqlite3 "$DB" "
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < 1099)
INSERT INTO instruments (code, name, category, site_id, owner_id, created, updated)
  SELECT printf('XRD-%04d', x), 'XRD ' || x, 'xrd', s.id, o.id, 0, 0 FROM k,
    (SELECT id FROM sites WHERE code = 'HC-HTZ') s,
    (SELECT id FROM institutes WHERE code = 'CQU') o;
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < 39)
INSERT INTO instruments (code, name, category, site_id, owner_id, created, updated)
  SELECT printf('NMR-%02d', x), 'NMR ' || x, 'nmr', s.id, o.id, 0, 0 FROM k,
    (SELECT id FROM sites WHERE code = 'HC-HTZ') s,
    (SELECT id FROM institutes WHERE code = 'CQU') o;
INSERT INTO instruments (code, name, category, site_id, owner_id, max_duration_min,
  advance_days, created, updated)
  SELECT v.code, v.code, 'short', s.id, o.id, v.maxd, v.adv, 0, 0
  FROM (SELECT 'SHORT-1' AS code, 60 AS maxd, 90 AS adv UNION ALL
    SELECT 'SHORT-2', 480, 1) v,
    (SELECT id FROM sites WHERE code = 'HC-HTZ') s,
    (SELECT id FROM institutes WHERE code = 'CQU') o;
INSERT INTO instruments (code, name, category, site_id, owner_id, status, created, updated)
  SELECT 'NMR-AA', 'NMR in maintenance', 'nmr', s.id, o.id, 'maintenance', 0, 0
  FROM (SELECT id FROM sites WHERE code = 'HC-HTZ') s,
    (SELECT id FROM institutes WHERE code = 'CQU') o;
INSERT INTO reservations (uid, instrument_id, user_id, institute_id, start,
  \"end\", status, created, updated, created_by)
  SELECT 'find-' || i.code || '@test', i.id, u.id, u.institute_id, $T0,
    $T0 + CASE WHEN i.category = 'xrd' THEN 2 * 86400
      ELSE (CAST(substr(i.code, 5) AS INTEGER) * 7 % 13) * 1800 END,
    'confirmed', 0, 0, u.id
  FROM instruments i, (SELECT id, institute_id FROM users WHERE login = 'wang') u
  WHERE (i.category = 'xrd' AND i.code <> 'XRD-1099') OR (i.category = 'nmr'
    AND i.status = 'active' AND CAST(substr(i.code, 5) AS INTEGER) * 7 % 13 > 0);
" || not_ok "seeding instruments and bookings"
start_daemon || { not_ok "yiqid starts with them"; done_testing; }

# The 40: expected slots computed here, sorted by start then code.
expect() {	# LIMIT
	k=0
	while [ $k -lt 40 ]; do
		printf '%d NMR-%02d\n' $((T0 + (k * 7 % 13) * 1800)) $k
		k=$((k + 1))
	done | sort -n -k1,1 -k2,2 | head -n "$1" | while read -r t c; do
		printf '%s %s\n' "$c" "$(local_time "$t")"
	done | jq -R . | jq -sc .
}

find_get() {	# QUERY: GET /api/v1/availability?QUERY as a member
	TOKEN=$MEMBER_TOKEN api GET "/api/v1/availability?$1"
}
slots() {	# the answer's items, as "CODE START" strings
	jq -c '[.items[] | .instrument + " " + .start]' "$T/body"
}

answers() {	# LABEL: the checks of the answers, named with LABEL
	# The 1,100: the free one, whose code sorts last, comes first.
	find_get "duration=PT2H&category=xrd&from=$FROM"
	is "$1: find over 1,100 instruments answers" "$STATUS" 200
	is "$1: ... the one free at once first, though its code sorts last" \
	    "$(jq -c '[.items[0].instrument, .items[0].start]' "$T/body")" \
	    "[\"XRD-1099\",\"$(local_time $T0)\"]"
	is "$1: ... then nine of the others in code order, after their two days" \
	    "$(jq -c '[.items[1:][] | .instrument + " " + .start]' "$T/body")" \
	    "$(awk -v s="$(local_time $((T0 + 2 * 86400)))" 'BEGIN { printf "["
		for (k = 0; k < 9; k++) printf "%s\"XRD-%04d %s\"", k ? "," : "", k, s
		printf "]" }')"

	# The 40: sorted by start then code (expect, above).
	for n in 1 3 10 39 40 1000; do
		find_get "duration=PT2H&category=nmr&from=$FROM&limit=$n"
		is "$1: find, limit $n: the earliest slots, by start then code" \
		    "$(slots)" "$(expect $n)"
	done
	find_get "duration=PT2H&category=nmr&from=$FROM&limit=40"
	is "$1: ... the instrument in maintenance is never offered" \
	    "$(jq '[.items[] | select(.instrument == "NMR-AA")] | length' "$T/body")" 0
	is "$1: ... each item ends its duration after it starts" \
	    "$(jq -c '[.items[] | (.end | sub("\\+08:00$"; "Z") | fromdate) -
		(.start | sub("\\+08:00$"; "Z") | fromdate)] | unique' "$T/body")" "[7200]"
	find_get "duration=PT2H&category=nmr&from=$FROM&to=$(date -u -d "@$((T0 + 5 * 3600))" +%Y-%m-%dT%H:%M:%SZ)&limit=100"
	is "$1: with to: only the slots that end by it" \
	    "$(slots)" \
	    "$(expect 40 | jq -c --arg last "$(local_time $((T0 + 3 * 3600)))" \
		'[.[] | select(.[7:] <= $last)]')"

	# The rules still hold: SHORT-1 takes at most an hour, SHORT-2 is booked
	# at most a day ahead (T0 is two days ahead).
	find_get "duration=PT2H&category=short&from=$FROM"
	is "$1: a slot longer than an instrument allows, or past its window: none" \
	    "$(jq -c '.items' "$T/body")" '[]'
	find_get "duration=PT1H&category=short&from=$FROM"
	is "$1: an hour: on the one that allows it" \
	    "$(slots)" \
	    "[\"SHORT-1 $(local_time $T0)\"]"
	find_get "duration=PT2H&category=short"
	is "$1: from now: the one within its window" \
	    "$(jq -c '[.items[].instrument]' "$T/body")" '["SHORT-2"]'

	# offset: the slots after the first offset, as any list.
	find_get "duration=PT2H&category=nmr&from=$FROM&limit=5&offset=3"
	is "$1: offset 3, limit 5: the fourth to eighth earliest" \
	    "$(slots)" \
	    "$(expect 8 | jq -c '.[3:]')"
	find_get "duration=PT2H&category=nmr&from=$FROM&offset=38"
	is "$1: offset 38 of 40: the last two" \
	    "$(slots)" \
	    "$(expect 40 | jq -c '.[38:]')"
	find_get "duration=PT2H&category=nmr&from=$FROM&offset=40"
	is "$1: offset 40 of 40: none" "$(jq -c '.items' "$T/body")" '[]'
	find_get "duration=PT2H&category=nmr&offset=10001"
	is "$1: offset past 10,000 (one slot per instrument): 400" \
	    "$STATUS $(jq -r .error.field "$T/body")" "400 offset"
}

answers "in 2-ms slices"
stop_daemon || not_ok "yiqid stops"

# The same answers when each instrument is searched in a turn of its own.
YIQID_FIND_STEP_MS=0
export YIQID_FIND_STEP_MS
start_daemon || { not_ok "yiqid starts"; done_testing; }
answers "one instrument a slice"
stop_daemon || not_ok "yiqid stops"

# And with group commit off (no replies held: a deferred find answers
# straight from its last slice).
printf '[yiqid]\ngroup_commit = off\n' > "$T/yiqid.conf"
start_daemon -c "$T/yiqid.conf" || { not_ok "yiqid starts"; done_testing; }
find_get "duration=PT2H&category=nmr&from=$FROM&limit=40"
is "group commit off, one instrument a slice: the same 40 slots" "$(slots)" "$(expect 40)"
stop_daemon || not_ok "yiqid stops"

# While a find is searched, the loop serves others: 40 instruments, 20 ms
# apart, take at least 0.8 s; a booking made 0.3 s in is answered before,
# and the find, reaching NMR-39 (free from T0) after it, sees it.
YIQID_FIND_STEP_MS=20
start_daemon || { not_ok "yiqid starts"; done_testing; }
find_bg() {	# QUERY OUT: GET availability?QUERY in the background, status into OUT
	TOKEN=$MEMBER_TOKEN api_bg "/api/v1/availability?$1" "$2"
	FPID=$BGPID
}
find_bg "duration=PT2H&category=nmr&from=$FROM&limit=40" "$T/find"
sleep 0.3
book_meanwhile "$FPID" "a find is searched" NMR-39 "$(local_time $T0)" PT2H
is "... the find answers" "$(cat "$T/find")" 200
is "... with NMR-39 after the booking made meanwhile" \
    "$(jq -c '[.items[] | select(.instrument == "NMR-39") | .start]' "$T/find.body")" \
    "[\"$(local_time $((T0 + 7200)))\"]"

# A client that leaves mid-search: its find stops at the next slice
# (logged 499) rather than search the 1,100 XRD instruments for 22 s.
find_bg "duration=PT2H&category=xrd&from=$FROM" "$T/gone"
hang_up "$FPID" 0.3
check "a find whose client left stops within 2 s (499 in the log)" \
    log_waits 'availability?.*category=xrd.* 499 '
api GET /api/v1/health
is "... and yiqid goes on" "$STATUS" 200

# A daemon stopped mid-search (the 1,100 take 22 s): the drain waits its
# 5 s, then the find is answered 503; nothing leaks (the sanitizer build
# checks at exit).
find_bg "duration=PT2H&category=xrd&from=$FROM" "$T/find"
sleep 0.3
check "yiqid stops cleanly, a find still searched" stop_daemon
wait "$FPID"
is "... which is answered 503" "$(cat "$T/find") $(jq -r .error.code "$T/find.body")" \
    "503 unavailable"
done_testing
