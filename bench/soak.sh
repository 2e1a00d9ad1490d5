#!/bin/sh
# bench/soak.sh: issue 6 target 6, memory over time.  Seeds BOOKINGS
# existing bookings (default 1,000,000 on 2,000 instruments, as run.sh),
# then loads yiqid for SOAK_SECONDS (default 600) with a mix of bookings,
# availability, instrument feeds and health checks (bench/mix.lua, 32
# connections) while a site feed and a year's report are requested over
# and over, and samples yiqid's RSS every 10 s.  Prints the samples, the
# peak against the target (64 MiB + the configured cache_mb, all the
# caches' memory: CACHE_MB, default 64 as yiqid's own default) and the
# growth between the first and the second half of the run (target: none;
# 2 MiB of slack for allocator noise), and the WAL's peak size (it must
# keep starting again: at most 256 MiB).  Exits 1 if any is missed.
#
#   [CACHE_MB=64] sh bench/soak.sh [BOOKINGS [INSTRUMENTS]]   (or: make soak)

set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000000}
M=${2:-2000}
SOAK=${SOAK_SECONDS:-600}
CACHE_MB=${CACHE_MB:-64}
C=32
THREADS=2
. "$TOP/bench/lib.sh"
seed

start "$DB1" "cache_mb = $CACHE_MB"
FEEDTOK=$(curl -s -X POST -H "Authorization: Bearer $MEMBER" \
    "$URL/api/v1/users/bench/feed-token" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[ -n "$FEEDTOK" ] || { echo "soak: no feed token" >&2; exit 1; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
rm -f "$T/stop"
churn "$T/feeds.t" 1 "$URL/feeds/sites/WS-APP.ics?token=$FEEDTOK&from=$(iso $((NOW - 2 * 86400)))&to=$(iso $((NOW + 2 * 86400)))" &
C1=$!
churn "$T/reports.t" 1 "$URL/api/v1/reports/utilisation?from=$(iso $((NOW - 365 * 86400)))&to=$(iso $NOW)" \
    -H "Authorization: Bearer $ADMIN" &
C2=$!
echo "soaking for $SOAK s ..."
TOKEN=$MEMBER FEEDTOKEN=$FEEDTOK INSTRUMENTS=$M THREADS=$THREADS \
    BASE=$(( NOW + 40 * 86400 )) FROM=$(iso $((NOW + 86400))) TO=$(iso $((NOW + 8 * 86400))) \
    wrk -t$THREADS -c$C -d"${SOAK}s" -s "$TOP/bench/mix.lua" "$URL" > "$T/soak.wrk" &
W=$!
: > "$T/rss"
i=0
while kill -0 $W 2>/dev/null; do
	sleep 10
	i=$((i + 10))
	echo "$i $(ps -o rss= -p "$PID") $(( $(stat -c %s "$DB1-wal" 2>/dev/null || echo 0) / 1024 ))" >> "$T/rss"
done
wait $W
touch "$T/stop"
wait $C1 $C2
stop

echo
echo "== yiqi soak, $(date -u +%F), $(nproc) cores, ${SOAK}s, $N bookings at the start, cache_mb = $CACHE_MB"
echo "requests/s (mix): $(rps "$T/soak.wrk"); not 2xx: $(non2xx "$T/soak.wrk" | grep . || echo 0)"
echo "site feeds: $(wc -l < "$T/feeds.t") ($(grep -vc '^200 ' "$T/feeds.t" || true) not 200); reports: $(wc -l < "$T/reports.t") ($(grep -vc '^200 ' "$T/reports.t" || true) not 200)"
echo "RSS samples (s KiB): $(cut -d' ' -f1,2 "$T/rss" | tr '\n' ' ')"
echo "WAL samples (s KiB): $(cut -d' ' -f1,3 "$T/rss" | tr '\n' ' ')"
awk -v lim=$(( (64 + CACHE_MB) * 1024 )) -v c=$CACHE_MB '
	{ t[NR] = $1; r[NR] = $2; if ($2 > peak) peak = $2; if ($3 > wal) wal = $3 }
	END {
		h = int(NR / 2)
		for (i = 1; i <= NR; i++)
			if (i <= h) { if (r[i] > a) a = r[i] } else if (r[i] > b) b = r[i]
		printf "%-44s %8.1f MiB   <= %d MiB (64 + cache_mb %d)\n", "peak RSS",
		    peak / 1024, lim / 1024, c
		printf "%-44s %8.1f MiB   <= 2 MiB (no growth)\n",
		    "growth, peak 2nd half - peak 1st half", (b - a) / 1024
		printf "%-44s %8.1f MiB   <= 256 MiB (it starts again)\n",
		    "peak WAL", wal / 1024
		exit !(peak <= lim && b - a <= 2048 && wal <= 262144)
	}' "$T/rss"
