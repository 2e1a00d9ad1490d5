#!/bin/sh
# bench/report-bench.sh: generate a year of 1,000,000 bookings on 2,000
# instruments (3 sites, 20 institutes in both districts) and time the
# utilisation report, and a health request made while it runs.
#
#   sh bench/report-bench.sh [BOOKINGS] [INSTRUMENTS]   (YIQID= to use a built yiqid)
#
# Every variant (by= and format=) is timed RUNS times (default 5); the
# median and the range are printed beside issue 6's target 7 (<= 1 s).
# DB=FILE keeps the seeded database in FILE and reuses it on the next run
# (it must have been seeded with the same BOOKINGS and INSTRUMENTS).
#
# Bookings are written with sqlite3 as 'completed' (so the overlap trigger
# does not run): each instrument gets back-to-back 2-hour slots with a
# 6-hour stride from 2025-01-01, a tenth of them cancelled or no-shows.

set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000000}
I=${2:-2000}
M=$I
RUNS=${RUNS:-5}
. "$TOP/bench/lib.sh"
DB=${DB:-$T/bench.db}
if [ -s "$DB" ] && [ -s "$DB.token" ]; then
	TOKEN=$(cat "$DB.token")
else
rm -f "$DB" "$DB-wal" "$DB-shm"
TOKEN=$("$YIQID" init -d "$DB" 2>/dev/null)
echo "$TOKEN" >"$DB.token"
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
INSERT INTO sites (code, name, district_id) VALUES
  ('HC-HTZ', 'Hechuan', 1), ('WS-JZ', 'Jiezi', 2), ('WS-APP', 'App', 2);
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < 19)
INSERT INTO institutes (code, name, district_id)
  SELECT 'INST-' || x, 'Institute ' || x, 1 + x % 2 FROM k;
INSERT INTO users (login, name, institute_id, created)
  SELECT 'u' || id, 'User ' || id, id, 0 FROM institutes;
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < $I - 1)
INSERT INTO instruments (code, name, category, site_id, owner_id, opening_hours,
  rate_internal, rate_external, created, updated)
  SELECT 'IN-' || x, 'Instrument ' || x, 'cat-' || (x % 12), 1 + x % 3,
    (SELECT min(id) FROM institutes) + x % 20,
    CASE x % 2 WHEN 0 THEN '24/7' ELSE 'Mon-Fri 08:00-20:00; Sat 09:00-13:00' END,
    5000 + x % 7 * 1000, 8000 + x % 5 * 1333, 0, 0 FROM k;
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < $N - 1)
INSERT INTO reservations (uid, instrument_id, user_id, institute_id, start,
  "end", status, created, updated, checked_in, checked_out, created_by)
  SELECT 'b' || x || '@bench', 1 + x % $I, 2 + x % 20, 2 + x % 20,
    1735660800 + (x / $I) * 21600, 1735660800 + (x / $I) * 21600 + 7200,
    CASE x % 10 WHEN 0 THEN 'cancelled' WHEN 1 THEN 'no_show' ELSE 'completed' END,
    0, 1735660800 + (x / $I) * 21600 - (x % 3) * 43200,
    CASE WHEN x % 10 > 1 THEN 1735660800 + (x / $I) * 21600 + 300 END,
    CASE WHEN x % 10 > 1 THEN 1735660800 + (x / $I) * 21600 + 6900 END,
    2 + x % 20 FROM k;
COMMIT;
SQL
fi
start "$DB"
BASE=$URL
URL="$BASE/api/v1/reports/utilisation?from=2025-01-01T00:00:00%2B08:00&to=2026-01-01T00:00:00%2B08:00"
echo "bookings: $(sqlite3 "$DB" 'SELECT count(*) FROM reservations'), instruments: $I"
echo "target 7 (issue 6): a report over a year of 1M bookings <= 1 s;" \
    "median of $RUNS runs [min-max]"
# One variant: RUNS timed requests, the median printed beside the target.
variant() {
	: >"$T/times"
	i=0
	while [ $i -lt "$RUNS" ]; do
		curl -s -o "$T/out" -w "%{http_code} %{time_total} %{size_download}\n" \
		    -H "Authorization: Bearer $TOKEN" "$URL&$1" >>"$T/times"
		i=$((i + 1))
	done
	sort -k2 -n "$T/times" | awk -v v="$1" -v n="$RUNS" '
	    { c[NR] = $1; t[NR] = $2; b = $3 }
	    END {
		m = t[int((n + 1) / 2)]
		for (i = 1; i <= n; i++) if (c[i] != 200) bad = bad " " c[i]
		printf "%-32s %6.3f s [%.3f-%.3f] %9d bytes  target <= 1 s: %s%s\n",
		    v, m, t[1], t[n], b, m <= 1 ? "met" : "MISSED",
		    bad != "" ? " (status" bad ")" : ""
	    }'
}
for by in instrument site institute category district owner; do
	for fmt in json csv html; do
		variant "by=$by&format=$fmt"
	done
done
variant "format=evaluation"
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL&by=institute" &
BG=$!
sleep 0.05
curl -s -o /dev/null -w "health while a report runs: %{time_total}s\n" \
    "$BASE/api/v1/health"
wait $BG
