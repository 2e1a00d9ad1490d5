#!/bin/sh
# bench/report-bench.sh: generate a year of 1,000,000 bookings on 2,000
# instruments (3 sites, 20 institutes in both districts) and time the
# utilisation report, and a health request made while it runs.
#
#   YIQID=build/daemon/yiqid sh bench/report-bench.sh [BOOKINGS] [INSTRUMENTS]
#
# Bookings are written with sqlite3 as 'completed' (so the overlap trigger
# does not run): each instrument gets back-to-back 2-hour slots with a
# 6-hour stride from 2025-01-01, a tenth of them cancelled or no-shows.

set -eu
: "${YIQID:?YIQID must name the daemon binary}"
N=${1:-1000000}
I=${2:-2000}
T=$(mktemp -d "${TMPDIR:-/tmp}/yiqi-bench.XXXXXX")
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
DB=$T/bench.db
TOKEN=$("$YIQID" init -d "$DB" 2>/dev/null)
sqlite3 "$DB" <<SQL
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
"$YIQID" -f -d "$DB" -l 127.0.0.1:0 2>"$T/log" &
PID=$!
while ! grep -q serving "$T/log"; do sleep 0.1; done
PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/log")
URL="http://127.0.0.1:$PORT/api/v1/reports/utilisation?from=2025-01-01T00:00:00%2B08:00&to=2026-01-01T00:00:00%2B08:00"
echo "bookings: $(sqlite3 "$DB" 'SELECT count(*) FROM reservations'), instruments: $I"
for by in instrument site institute district; do
	for fmt in json html; do
		curl -s -o "$T/out" -w "by=$by format=$fmt: %{http_code} %{time_total}s %{size_download} bytes\n" \
		    -H "Authorization: Bearer $TOKEN" "$URL&by=$by&format=$fmt"
	done
done
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL&by=institute" &
BG=$!
sleep 0.05
curl -s -o /dev/null -w "health while a report runs: %{time_total}s\n" \
    "http://127.0.0.1:$PORT/api/v1/health"
wait $BG
