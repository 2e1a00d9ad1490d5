#!/bin/sh
# bench/feed-bench.sh: issue 6 target 4, the calendar feeds, in one run.
#
#   sh bench/feed-bench.sh [BOOKINGS [INSTRUMENTS]]   (default 1000000 2000)
#
# Builds yiqid optimised in build-bench/ (or uses $YIQID), seeds with
# sqlite3 a database of BOOKINGS bookings on INSTRUMENTS instruments (2 h
# every 6 h per instrument, 80 % in the past) where the first 50
# instruments are the site HC-HTZ, so that its default feed window (30
# days back, a year ahead) holds ~10,000 events, and then measures:
#   - the cold site feed (the first request after the daemon started);
#   - the site feed right after one booking was changed through the API
#     (PATCH of its purpose, REPS times, median and max of curl's
#     time_total), for a member (others' bookings "busy") and an admin
#     (every booking in full, the larger feed);
#   - the unchanged feed sent again without a conditional header;
#   - wrk on the unchanged feed with If-None-Match (bench/feed.lua, every
#     answer must be 304) against GET /api/v1/health, in the same run, in
#     ROUNDS alternating rounds (default 3), each figure its median round.
# Every status is checked.  Prints each figure beside its target.

set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000000}
M=${2:-2000}
DUR=${DURATION:-5}
REPS=${REPS:-9}
C=32
THREADS=2
. "$TOP/bench/lib.sh"
fail() { echo "bench: $*" >&2; exit 1; }

# get OUT PATH [CURL-ARGS]: GET a feed; "STATUS SECONDS" on stdout.
get() {
	out=$1
	p=$2
	shift 2
	curl -s -D "$T/hdr" -o "$T/$out" -w '%{http_code} %{time_total}\n' \
	    "$@" "$URL$p"
}
etag() { sed -n 's/^ETag: *//Ip' "$T/hdr" | tr -d '\r'; }
ms() { awk "BEGIN { printf \"%.1f\", $1 * 1000 }"; }
# median and max (ms) of the numbers in a file, one a line
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] * 1000 }'; }
max() { sort -n "$1" | tail -1 | awk '{ printf "%.1f", $1 * 1000 }'; }

NOW=$(( $(date +%s) / 86400 * 86400 ))
DB=$T/full.db
ADMIN=$("$YIQID" init -d "$DB" 2>/dev/null)
[ -n "$ADMIN" ] || fail "yiqid init failed"
echo "seeding $N bookings on $M instruments ..."
S0=$(seed_s0)
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
INSERT INTO sites (code, name, district_id) VALUES
  ('HC-HTZ', 'Hechuan', 1), ('WS-JZ', 'Jiezi', 2), ('WS-APP', 'App', 2);
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < 19)
INSERT INTO institutes (code, name, district_id, private)
  SELECT 'INST-' || x, 'Institute ' || x, 1 + x % 2, x % 7 = 0 FROM k;
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < $M - 1)
INSERT INTO instruments (id, code, name, category, site_id, owner_id,
  advance_days, max_duration_min, room, created, updated)
  SELECT x + 1, 'IN-' || x, 'Instrument ' || x, 'cat-' || (x % 12),
    CASE WHEN x < 50 THEN 1 ELSE 2 + x % 2 END,
    (SELECT min(id) FROM institutes WHERE code LIKE 'INST-%') + x % 20,
    3650, 480, 'B-' || (100 + x), 0, 0 FROM k;
INSERT INTO users (login, name, institute_id, created)
  SELECT 'u' || id, 'User ' || id, id, 0 FROM institutes
  WHERE code LIKE 'INST-%';
$(bookings_sql)
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
# The future bookings of the feed's site, to change one at a time.
sqlite3 "$DB" "SELECT r.id FROM reservations r JOIN instruments i ON
    i.id = r.instrument_id WHERE i.site_id = 1 AND r.start > $NOW + 86400
    ORDER BY r.id LIMIT $REPS" > "$T/ids"
[ "$(wc -l < "$T/ids")" -eq "$REPS" ] || fail "too few future bookings"

start "$DB"
A() {	# METHOD PATH [BODY]: the API as admin; the status on stdout
	curl -s -o "$T/api" -w '%{http_code}' -X "$1" \
	    -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
	    ${3:+--data-binary "$3"} "$URL$2"
}
[ "$(A POST /api/v1/users '{"login":"bench","name":"Bench User","institute":"INST-3"}')" = 201 ] ||
    fail "cannot create the bench user: $(cat "$T/api")"
[ "$(A POST /api/v1/users/bench/feed-token)" = 201 ] || fail "no member feed token"
MF=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$T/api")
[ "$(A POST /api/v1/users/admin/feed-token)" = 201 ] || fail "no admin feed token"
AF=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$T/api")
echo "$ADMIN $MF $AF" > "$T/tokens"	# admin API token, member and admin feed tokens
stop

FEED=/feeds/sites/HC-HTZ.ics
# log_level = debug: the daemon logs each feed build's CPU time (api-feeds.c).
start "$DB" "log_level = debug" "${CONF:-}"
set -- $(get cold "$FEED?token=$MF")
[ "$1" = 200 ] || fail "cold feed: status $1"
COLD=$2
EVENTS=$(grep -c '^BEGIN:VEVENT' "$T/cold")
BYTES=$(wc -c < "$T/cold")
set -- $(get cold-admin "$FEED?token=$AF")
[ "$1" = 200 ] || fail "cold admin feed: status $1"
COLD_A=$2
ABYTES=$(wc -c < "$T/cold-admin")

echo "changing one booking, then fetching the feed, $REPS times ..."
: > "$T/after-m"
: > "$T/after-a"
i=0
for id in $(cat "$T/ids"); do
	i=$((i + 1))
	s=$(A PATCH "/api/v1/reservations/$id" "{\"purpose\":\"changed $i\"}")
	[ "$s" = 200 ] || fail "PATCH $id: $s $(cat "$T/api")"
	set -- $(get after "$FEED?token=$MF")
	[ "$1" = 200 ] || fail "feed after a change: status $1"
	echo "$2" >> "$T/after-m"
	set -- $(get after-admin "$FEED?token=$AF")
	[ "$1" = 200 ] || fail "admin feed after a change: status $1"
	grep -q "changed $i" "$T/after-admin" || fail "the change is not in the admin feed"
	echo "$2" >> "$T/after-a"
done
ET=$(etag)
: > "$T/same.t"
for i in 1 2 3 4 5; do
	set -- $(get same "$FEED?token=$AF")
	[ "$1" = 200 ] || fail "unchanged feed: status $1"
	echo "$2" >> "$T/same.t"
done
cmp -s "$T/same" "$T/after-admin" || fail "unchanged feed differs from the last one"
set -- $(get none "$FEED?token=$AF" -H "If-None-Match: $ET")
[ "$1" = 304 ] || fail "conditional feed: status $1"

R=${ROUNDS:-3}
r=1
while [ $r -le "$R" ]; do
	echo "wrk: health, then the unchanged feed with If-None-Match (${DUR}s each), round $r of $R ..."
	wrk -t$THREADS -c$C -d"${DUR}s" "$URL/api/v1/health" > "$T/health.$r"
	ETAG=$ET wrk -t$THREADS -c$C -d"${DUR}s" -s "$TOP/bench/feed.lua" \
	    "$URL$FEED?token=$AF" > "$T/inm.$r"
	grep -q 'other: 0$' "$T/inm.$r" || fail "not every conditional answer was 304: $(grep status "$T/inm.$r")"
	r=$((r + 1))
done
RSS=$(ps -o rss= -p "$PID")
stop
h=$(rps "$(mid health)"); f=$(rps "$(mid inm)")

echo
echo "== yiqi feed benchmark, $(date -u +%F), $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
echo "   $N bookings on $M instruments; site feed $EVENTS events, $((BYTES / 1024)) KiB (member), $((ABYTES / 1024)) KiB (admin)"
printf '%-58s %12s   %s\n' "figure" "measured" "target"
printf '%-58s %12s   %s\n' "cold site feed, member / admin (ms)" "$(ms "$COLD") / $(ms "$COLD_A")" ""
printf '%-58s %12s   %s\n' "feed after one change, member: median / max (ms)" "$(median "$T/after-m") / $(max "$T/after-m")" "<= 60"
printf '%-58s %12s   %s\n' "feed after one change, admin: median / max (ms)" "$(median "$T/after-a") / $(max "$T/after-a")" "<= 60"
printf '%-58s %12s   %s\n' "unchanged feed, no conditional header: median (ms)" "$(median "$T/same.t")" ""
# CPU of the builds after a change, from the daemon's debug log (member, admin alternate).
sed -n 's/.* in \([0-9.]*\) ms CPU.*/\1/p' "$T/log" | sed -n '3,$p' | awk '{ print $1 / 1000 }' > "$T/cpu"
[ -s "$T/cpu" ] && printf '%-58s %12s   %s\n' "  build CPU after a change (daemon log): median / max (ms)" "$(median "$T/cpu") / $(max "$T/cpu")" ""
printf '%-58s %12.0f   %s\n' "GET /api/v1/health req/s (median round)" "$h" ""
printf '%-58s %s\n' "  rounds" "$(rounds health)"
printf '%-58s %12.0f   %s\n' "unchanged feed with If-None-Match (304) req/s (median round)" "$f" ""
printf '%-58s %s\n' "  rounds" "$(rounds inm)"
IH=$(ratios inm health)
printf '%-58s %12s   %s\n' "304 / health (median round)" "$(echo "$IH" | middle)" ">= 0.50"
printf '%-58s %s\n' "  each round's" "$IH"
printf '%-58s %12s   %s\n' "yiqid RSS after the loads, MiB" "$((RSS / 1024))" "<= 64 + cache_mb (64, all the caches)"
