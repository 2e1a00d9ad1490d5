#!/bin/sh
# bench/soak.sh: issue 6 target 6, memory over time.  Seeds BOOKINGS
# existing bookings (default 1,000,000 on 2,000 instruments, as run.sh),
# then loads yiqid for SOAK_WARMUP + SOAK_SECONDS (default 300 + 600) with
# a mix of bookings, availability, instrument feeds and health checks
# (bench/mix.lua, 32 connections) while a site feed and a year's report are
# requested over and over, and samples yiqid's RSS every second.  Prints
# every tenth sample, the peak of all of them against the target (64 MiB + the
# configured cache_mb, all the caches' memory: CACHE_MB, default 64 as
# yiqid's own default), the growth over the SOAK_SECONDS after the warm-up
# (the median of the second half of those samples minus that of the first;
# target: none, 2 MiB of slack for allocator noise), and the WAL's peak
# size (it must keep starting again: at most 256 MiB).  Exits 1 if any is
# missed.  The warm-up is the time the caches take to fill to their
# budgets at this load (~7 minutes from an empty daemon; bench/README.md):
# growth within it is the caches filling, not a leak, and the peak still
# counts it.  SOAK_WARMUP=0 judges the growth from the first sample.
#
#   [CACHE_MB=64] [SOAK_WARMUP=300] [SOAK_CONF="log_level = debug"] sh bench/soak.sh [BOOKINGS [INSTRUMENTS]]
#   (or: make soak)

set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000000}
M=${2:-2000}
SOAK=${SOAK_SECONDS:-600}
WARM=${SOAK_WARMUP:-300}
CACHE_MB=${CACHE_MB:-64}
C=32
THREADS=2
. "$TOP/bench/lib.sh"
seed

start "$DB1" "cache_mb = $CACHE_MB" "${SOAK_CONF:-}"
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
echo "soaking for $WARM s of warm-up and $SOAK s ..."
TOKEN=$MEMBER FEEDTOKEN=$FEEDTOK INSTRUMENTS=$M THREADS=$THREADS \
    BASE=$(( NOW + 40 * 86400 )) FROM=$(iso $((NOW + 86400))) TO=$(iso $((NOW + 8 * 86400))) \
    wrk -t$THREADS -c$C -d"$((WARM + SOAK))s" -s "$TOP/bench/mix.lua" "$URL" > "$T/soak.wrk" &
W=$!
: > "$T/rss"
i=0
while kill -0 $W 2>/dev/null; do
	sleep 1
	i=$((i + 1))
	echo "$i $(ps -o rss= -p "$PID") $(( $(stat -c %s "$DB1-wal" 2>/dev/null || echo 0) / 1024 ))" >> "$T/rss"
done
wait $W
touch "$T/stop"
wait $C1 $C2
stop

echo
echo "== yiqi soak, $(date -u +%F), $(nproc) cores, ${WARM}s of warm-up + ${SOAK}s, $N bookings at the start, cache_mb = $CACHE_MB"
echo "requests/s (mix): $(rps "$T/soak.wrk"); not 2xx: $(non2xx "$T/soak.wrk" | grep . || echo 0)"
echo "site feeds: $(wc -l < "$T/feeds.t") ($(grep -vc '^200 ' "$T/feeds.t" || true) not 200); reports: $(wc -l < "$T/reports.t") ($(grep -vc '^200 ' "$T/reports.t" || true) not 200)"
echo "RSS samples, every tenth (s KiB): $(awk '$1 % 10 == 0 { print $1, $2 }' "$T/rss" | tr '\n' ' ')"
echo "WAL samples, every tenth (s KiB): $(awk '$1 % 10 == 0 { print $1, $3 }' "$T/rss" | tr '\n' ' ')"
# Growth: the median of each half's samples, not their peaks: RSS swings by
# ±15 MiB from one sample to the next as feeds' and reports' buffers come
# and go, so the peaks of two halves differ by that much with no trend;
# a leak moves the whole second half, and its median with it.  Sampled
# every second, each half's median rests on 300 samples; with 30, ten
# seconds apart, the medians of neighbouring 100-s windows differed by up
# to 9 MiB.
median() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }
w=0
line=
while [ $w -lt $((WARM + SOAK)) ]; do
	m=$(awk -v a=$w -v b=$((w + 100)) '$1 > a && $1 <= b { print $2 }' "$T/rss" | median)
	line="$line $(awk -v m="$m" 'BEGIN { printf "%.1f", m / 1024 }')"
	w=$((w + 100))
done
echo "RSS medians per 100 s (MiB):$line"
awk -v w=$WARM '$1 > w' "$T/rss" > "$T/rss.after"
H=$(( $(wc -l < "$T/rss.after") / 2 ))
M1=$(head -n "$H" "$T/rss.after" | cut -d' ' -f2 | median)
M2=$(tail -n +"$((H + 1))" "$T/rss.after" | cut -d' ' -f2 | median)
HA=$(( $(wc -l < "$T/rss") / 2 ))
A1=$(head -n "$HA" "$T/rss" | cut -d' ' -f2 | median)
A2=$(tail -n +"$((HA + 1))" "$T/rss" | cut -d' ' -f2 | median)
awk -v lim=$(( (64 + CACHE_MB) * 1024 )) -v c=$CACHE_MB -v m1="$M1" -v m2="$M2" \
    -v a1="$A1" -v a2="$A2" '
	{ t[NR] = $1; r[NR] = $2; if ($2 > peak) peak = $2; if ($3 > wal) wal = $3 }
	END {
		b = m2; a = m1
		printf "%-44s %8.1f MiB   <= %d MiB (64 + cache_mb %d)\n", "peak RSS",
		    peak / 1024, lim / 1024, c
		printf "%-44s %8.1f MiB   <= 2 MiB (no growth)\n",
		    "growth after the warm-up (medians of halves)", (b - a) / 1024
		printf "%-44s %8.1f MiB   (for information)\n",
		    "  the same over the whole run, warm-up too", (a2 - a1) / 1024
		printf "%-44s %8.1f MiB   <= 256 MiB (it starts again)\n",
		    "peak WAL", wal / 1024
		exit !(peak <= lim && b - a <= 2048 && wal <= 262144)
	}' "$T/rss"
