# bench/lib.sh: what the benchmark scripts share (sourced, not run):
# building an optimised yiqid, starting and stopping it, reading wrk's
# output, and seeding the two databases.
#
# The sourcing script sets TOP, N (bookings), M (instruments), C
# (connections), THREADS and DUR (seconds per figure) first.

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
NAIVE=${NAIVE:-$(dirname "$YIQID")/../bench/naive}
SLOWSYNC=${SLOWSYNC:-$(dirname "$NAIVE")/slowsync.so}
PRELOAD=	# start/start_naive: an object to preload into the server (slowsync)

T=$(mktemp -d "${TMPDIR:-/tmp}/yiqi-bench.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

start() {	# DB [CONFIG-LINE...]: start yiqid on it, set PID and URL
	db=$1
	shift
	# The previous step's writes (a 340-MB database copied, a WAL) are
	# flushed now, not during the figure (its fsyncs would queue behind).
	sync
	printf 'rate_limit = 0\n' > "$T/yiqid.conf"
	for l in "$@"; do [ -z "$l" ] || echo "$l" >> "$T/yiqid.conf"; done
	: > "$T/log"
	env ${PRELOAD:+LD_PRELOAD="$PRELOAD"} \
	    "$YIQID" -f -c "$T/yiqid.conf" -d "$db" -l 127.0.0.1:0 2>"$T/log" &
	PID=$!
	listening
}

start_naive() {	# DB: start the naive baseline server (bench/naive.c) on it
	sync
	: > "$T/log"
	env ${PRELOAD:+LD_PRELOAD="$PRELOAD"} \
	    "$NAIVE" -d "$1" -l 127.0.0.1:0 2>"$T/log" &
	PID=$!
	listening
}

listening() {	# wait for the server PID to say it serves; set URL
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
# Figures compared with each other are measured in alternating rounds,
# into $T/NAME.1, $T/NAME.2, ...: mid NAME names the file of the median
# round (by requests/s), rounds NAME prints each round's requests/s.
mid() { for f in "$T/$1".[0-9]*; do echo "$(rps "$f") $f"; done | sort -n |
	awk '{ f[NR] = $2 } END { print f[int((NR + 1) / 2)] }'; }
rounds() { for f in "$T/$1".[0-9]*; do printf ' %.0f' "$(rps "$f")"; done; }
# ratios A B: each round's requests/s of A over B's (measured minutes
# apart at most, so the VM's drift cancels better than between medians);
# middle: the middle of the numbers on its input.
ratios() {
	i=1
	while [ -f "$T/$1.$i" ] && [ -f "$T/$2.$i" ]; do
		awk -v a="$(rps "$T/$1.$i")" -v b="$(rps "$T/$2.$i")" \
		    'BEGIN { printf " %.2f", a / b }'
		i=$((i + 1))
	done
}
middle() { tr ' ' '\n' | grep . | sort -n |
	awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'; }

# churn OUT PAUSE URL [CURL-ARGS]: fetch URL until $T/stop exists, PAUSE
# seconds apart; a line "STATUS SECONDS BYTES" each time in OUT.
churn() {
	out=$1 pause=$2 u=$3
	shift 3
	while [ ! -e "$T/stop" ]; do
		curl -s -o /dev/null -w '%{http_code} %{time_total} %{size_download}\n' \
		    "$@" "$u" >> "$out"
		sleep "$pause"
	done
}

book() {	# OUT BASE: wrk the booking load (bench/book.lua; STRIDE)
	TOKEN=$MEMBER INSTRUMENTS=$M BASE=$2 THREADS=$THREADS STRIDE=${STRIDE:-} \
	    wrk -t$THREADS -c$C -d"${DUR}s" --latency -s "$TOP/bench/book.lua" \
	    "$URL" > "$T/$1"
	[ -z "$(non2xx "$T/$1")" ] || echo "  warning: $(non2xx "$T/$1") bookings not 201" >&2
}

# bookings_sql: the INSERT of N seeded bookings on instruments 1..M (per
# instrument bookings of 2 h every 6 h from S0; 80 % in the past,
# completed or cancelled, the rest confirmed and in the future), for
# seed() and feed-bench.sh.  The caller sets NOW and S0 (seed_s0).
seed_s0() { echo $(( NOW - ((N + M - 1) / M) * 4 / 5 * 21600 )); }
bookings_sql() {
	cat <<SQL
WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < $N - 1)
INSERT INTO reservations (uid, instrument_id, user_id, institute_id, start,
  "end", status, purpose, created, updated, checked_in, checked_out, created_by)
  SELECT 'b' || x || '@bench', 1 + x % $M, 2 + x % 20, 2 + x % 20,
    $S0 + (x / $M) * 21600, $S0 + (x / $M) * 21600 + 7200,
    CASE WHEN $S0 + (x / $M) * 21600 >= $NOW THEN 'confirmed'
      WHEN x % 10 = 0 THEN 'cancelled' ELSE 'completed' END,
    'seeded booking ' || x, $S0, $S0,
    CASE WHEN $S0 + (x / $M) * 21600 < $NOW AND x % 10 > 0
      THEN $S0 + (x / $M) * 21600 END,
    CASE WHEN $S0 + (x / $M) * 21600 < $NOW AND x % 10 > 0
      THEN $S0 + (x / $M) * 21600 + 7200 END,
    2 + x % 20 FROM k;
SQL
}

# seed: the empty database $DB0 (instruments, institutes, the member
# "bench" whose token is $MEMBER, the admin's token $ADMIN) and $DB1, the
# same with N existing bookings.  Sets NOW (today 00:00 UTC).
seed() {
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
	S0=$(seed_s0)
	t0=$(date +%s.%N)
	{ echo "PRAGMA journal_mode = WAL; BEGIN;"; bookings_sql
	  echo "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);"; } |
	    sqlite3 "$DB1" >/dev/null
	echo "  $(sqlite3 "$DB1" 'SELECT count(*) FROM reservations') bookings in $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s"
}
