#!/bin/sh
# bench/run.sh: the performance benchmark of issue 6, in one run.
#
#   sh bench/run.sh [BOOKINGS [INSTRUMENTS]]      (default 1000000 2000)
#
# Builds yiqid optimised in build-bench/ (or uses $YIQID), seeds a database
# with INSTRUMENTS instruments and one with BOOKINGS existing bookings on
# them (plain SQL, seconds), and loads yiqid with wrk (32 connections,
# $DURATION seconds per figure, default 10):
#   - durable bookings/s (synchronous = full, auth, rules, overlap, audit)
#     with 0 and with BOOKINGS existing, group commit on;
#   - the same with group_commit = off: the naive one-transaction-per-request
#     design, as the baseline, in the same run;
#   - GET /api/v1/health and a week's availability, requests/s.
# Every booking request asks for a distinct free slot, so all should be 201;
# wrk's "Non-2xx" line would show any that were not.  Prints each figure
# beside its target.

set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000000}
M=${2:-2000}
DUR=${DURATION:-10}
C=32
THREADS=2
command -v wrk >/dev/null || { echo "bench: wrk is needed (scripts/install-deps)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench: sqlite3 is needed" >&2; exit 1; }

if [ -z "${YIQID:-}" ]; then
	echo "building yiqid in build-bench/ ..."
	[ -x "$TOP/configure" ] || (cd "$TOP" && autoreconf -fi >/dev/null 2>&1)
	mkdir -p "$TOP/build-bench"
	(cd "$TOP/build-bench" && { [ -f Makefile ] ||
	    ../configure CFLAGS='-O2 -g' >/dev/null; } && make -j2 >/dev/null)
	YIQID=$TOP/build-bench/daemon/yiqid
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/yiqi-bench.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

start() {	# DB [CONFIG-LINE...]: start yiqid on it, set PID and URL
	db=$1
	shift
	printf 'rate_limit = 0\n' > "$T/yiqid.conf"
	for l in "$@"; do echo "$l" >> "$T/yiqid.conf"; done
	: > "$T/log"
	"$YIQID" -f -c "$T/yiqid.conf" -d "$db" -l 127.0.0.1:0 2>"$T/log" &
	PID=$!
	while ! grep -q serving "$T/log"; do
		kill -0 "$PID" || { cat "$T/log" >&2; exit 1; }
		sleep 0.05
	done
	URL=http://127.0.0.1:$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/log")
}

stop() {
	kill -TERM "$PID"
	wait "$PID" || true
	PID=
}

# wrk's requests/s, and its latency line for the percentile asked.
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
pct() { sed -n "s/^ *$2%  *\([0-9.]*[a-z]*\).*/\1/p" "$1"; }
non2xx() { sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1"; }

book() {	# OUT BASE: wrk the booking load
	TOKEN=$MEMBER INSTRUMENTS=$M BASE=$2 THREADS=$THREADS \
	    wrk -t$THREADS -c$C -d"${DUR}s" --latency -s "$TOP/bench/book.lua" \
	    "$URL" > "$T/$1"
	[ -z "$(non2xx "$T/$1")" ] || echo "  warning: $(non2xx "$T/$1") bookings not 201" >&2
}

NOW=$(( $(date +%s) / 86400 * 86400 ))
echo "seeding $M instruments ..."
DB0=$T/empty.db
ADMIN=$("$YIQID" init -d "$DB0" 2>/dev/null)
sqlite3 "$DB0" <<SQL
BEGIN;
INSERT INTO sites (code, name, district_id) VALUES
  ('HC-HTZ', 'Hechuan', 1), ('WS-JZ', 'Jiezi', 2), ('WS-APP', 'App', 2);
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < 19)
INSERT INTO institutes (code, name, district_id)
  SELECT 'INST-' || x, 'Institute ' || x, 1 + x % 2 FROM k;
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < $M - 1)
INSERT INTO instruments (id, code, name, category, site_id, owner_id,
  advance_days, max_duration_min, created, updated)
  SELECT x + 1, 'IN-' || x, 'Instrument ' || x, 'cat-' || (x % 12), 1 + x % 3,
    (SELECT min(id) FROM institutes WHERE code LIKE 'INST-%') + x % 20,
    3650, 480, 0, 0 FROM k;
INSERT INTO users (login, name, institute_id, created)
  SELECT 'u' || id, 'User ' || id, id, 0 FROM institutes
  WHERE code LIKE 'INST-%';
COMMIT;
SQL
start "$DB0"
curl -s -o /dev/null -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d '{"login":"bench","name":"Bench User","institute":"INST-3"}' "$URL/api/v1/users"
MEMBER=$(curl -s -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d '{}' "$URL/api/v1/users/bench/tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
stop
[ -n "$MEMBER" ] || { echo "bench: no member token" >&2; exit 1; }
echo "$MEMBER" > "$T/token"

echo "seeding $N existing bookings ..."
DB1=$T/full.db
sqlite3 "$DB0" "VACUUM INTO '$DB1'"
# Per instrument N/M bookings of 2 h every 6 h; 80 % are in the past
# (completed or cancelled), the rest confirmed and in the future.
PER=$(( (N + M - 1) / M ))
S0=$(( NOW - PER * 4 / 5 * 21600 ))
t0=$(date +%s.%N)
sqlite3 "$DB1" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < $N - 1)
INSERT INTO reservations (uid, instrument_id, user_id, institute_id, start,
  "end", status, purpose, created, updated, checked_in, checked_out, created_by)
  SELECT 'b' || x || '@bench', 1 + x % $M, 2 + x % 20, 2 + x % 20,
    $S0 + (x / $M) * 21600, $S0 + (x / $M) * 21600 + 7200,
    CASE WHEN $S0 + (x / $M) * 21600 >= $NOW THEN 'confirmed'
      WHEN x % 10 = 0 THEN 'cancelled' ELSE 'completed' END,
    'seeded', 0, 0,
    CASE WHEN $S0 + (x / $M) * 21600 < $NOW AND x % 10 > 0
      THEN $S0 + (x / $M) * 21600 END,
    CASE WHEN $S0 + (x / $M) * 21600 < $NOW AND x % 10 > 0
      THEN $S0 + (x / $M) * 21600 + 7200 END,
    2 + x % 20 FROM k;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
echo "  $(sqlite3 "$DB1" 'SELECT count(*) FROM reservations') bookings in $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s"

BASE=$(( NOW + 40 * 86400 ))	# after every seeded booking

echo "booking with 0 existing (group commit) ..."
start "$DB0"
book b0 $BASE
stop
echo "booking with $N existing (group commit) ..."
start "$DB1"
book b1 $BASE
echo "GET /api/v1/health ..."
wrk -t$THREADS -c$C -d"${DUR}s" "$URL/api/v1/health" > "$T/health"
echo "GET availability (a week) ..."
F=$(date -u -d "@$(( NOW + 86400 ))" +%Y-%m-%dT%H:%M:%SZ)
U=$(date -u -d "@$(( NOW + 8 * 86400 ))" +%Y-%m-%dT%H:%M:%SZ)
P=
for i in 0 1 7 42 99 123 500 777 1000 1999; do
	[ $i -lt $M ] && P="$P /api/v1/instruments/IN-$i/availability?from=$F&to=$U"
done
curl -s -o "$T/avail" -w '' -H "Authorization: Bearer $MEMBER" \
    "$URL/api/v1/instruments/IN-1/availability?from=$F&to=$U"
grep -q '"free"\|"busy"\|"slots"\|\[' "$T/avail" || echo "  warning: availability: $(head -c 200 "$T/avail")" >&2
TOKEN=$MEMBER PATHS=$P wrk -t$THREADS -c$C -d"${DUR}s" -s "$TOP/bench/get.lua" \
    "$URL" > "$T/avail.wrk"
RSS=$(ps -o rss= -p "$PID")
stop
echo "booking with $N existing (group_commit = off, the naive baseline) ..."
start "$DB1" "group_commit = off"
book bn $(( BASE + 400 * 86400 ))
stop

b0=$(rps "$T/b0"); b1=$(rps "$T/b1"); bn=$(rps "$T/bn")
h=$(rps "$T/health"); a=$(rps "$T/avail.wrk")
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
echo
echo "== yiqi benchmark, $(date -u +%F), $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
echo "   $C connections, ${DUR}s per figure, wrk on the same machine"
printf '%-58s %10s   %s\n' "figure" "measured" "target"
printf '%-58s %10.0f   %s\n' "bookings/s, $N existing, group commit" "$b1" ">= 6000"
printf '%-58s %10s   %s\n' "  p50 / p99 latency" "$(pct "$T/b1" 50) / $(pct "$T/b1" 99)" ""
printf '%-58s %10.0f   %s\n' "bookings/s, 0 existing, group commit" "$b0" ""
printf '%-58s %10.0f   %s\n' "bookings/s, $N existing, naive (group_commit = off)" "$bn" ""
printf '%-58s %10s   %s\n' "group commit / naive (same run)" "$(ratio "$b1" "$bn")" ">= 2.0"
printf '%-58s %10s   %s\n' "flat cost: $N existing / 0 existing" "$(ratio "$b1" "$b0")" ">= 0.80"
printf '%-58s %10.0f   %s\n' "GET /api/v1/health req/s" "$h" ""
printf '%-58s %10.0f   %s\n' "GET availability (a week) req/s" "$a" ""
printf '%-58s %10s   %s\n' "availability / health" "$(ratio "$a" "$h")" ">= 0.50"
printf '%-58s %10s   %s\n' "yiqid RSS after the loads, MiB ($N bookings)" "$((RSS / 1024))" "<= 64 + page cache (64)"
