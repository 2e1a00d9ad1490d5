#!/bin/sh
# concurrency.sh: the booking guarantee under contention.  60 real yiqi
# clients are released at once to book overlapping slots on three
# instruments (one with a 30-minute buffer).  Afterwards the database must
# hold no two overlapping slot-holding bookings of an instrument (buffer
# included), and every client must have been told the truth: each one
# told "booked" (exit 0) has exactly that booking on disk, each one told
# "clash" (exit 3) asked for time that a stored booking really holds.

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
check "set-up" setup_basic
for c in C1 C2 C3; do
	buf=0
	[ "$c" = C2 ] && buf=30
	api POST /api/v1/instruments "{\"code\":\"$c\",\"name\":\"Contended $c\",\"site\":\"HC-HTZ\",\"owner\":\"CQU\",\"rules\":{\"buffer_min\":$buf}}"
	is "instrument $c created" "$STATUS" 201
done

D=$(day 3)
N=${STRESS_CLIENTS:-60}
mkdir "$T/c"
k=0
while [ $k -lt $N ]; do
	inst=C$((k % 3 + 1))
	h=$((9 + (k / 3) % 4))
	m=$(( (k / 12) % 2 * 30 ))
	dur=$((1 + k % 2))h
	start=$(printf '%sT%02d:%02d+08:00' "$D" $h $m)
	echo "$inst $start $dur" > "$T/c/req.$k"
	(
		while [ ! -e "$T/c/go" ]; do sleep 0.01; done
		"$YIQI" --token "$MEMBER_TOKEN" book "$inst" --start "$start" \
		    --duration "$dur" --purpose "client $k" --json \
		    > "$T/c/out.$k" 2> "$T/c/err.$k"
		echo $? > "$T/c/rc.$k"
	) &
	pids="${pids:-} $!"
	k=$((k + 1))
done
sleep 0.3
touch "$T/c/go"
# shellcheck disable=SC2086
wait $pids

# What the clients were told.
booked=0 clashed=0 other=0
k=0
while [ $k -lt $N ]; do
	rc=$(cat "$T/c/rc.$k")
	case $rc in
	0) booked=$((booked + 1)) ;;
	3) clashed=$((clashed + 1)) ;;
	*) other=$((other + 1)); diag "client $k: exit $rc: $(cat "$T/c/err.$k")" ;;
	esac
	k=$((k + 1))
done
diag "$booked booked, $clashed told clash, $other other"
is "every client got a booking or a clash" "$other" 0
check "some clients booked" [ "$booked" -gt 3 ]
check "some clients clashed" [ "$clashed" -gt 3 ]

# The database afterwards.
overlaps=$(sqlite3 "$DB" "SELECT count(*) FROM reservations a JOIN reservations b
    ON a.instrument_id = b.instrument_id AND a.id < b.id
    JOIN instruments i ON i.id = a.instrument_id
    WHERE a.status IN ('pending','confirmed') AND b.status IN ('pending','confirmed')
    AND a.start < b.\"end\" + i.buffer_min * 60 AND b.start < a.\"end\" + i.buffer_min * 60")
is "no two holding bookings overlap (buffer included)" "$overlaps" 0
rows=$(sqlite3 "$DB" "SELECT count(*) FROM reservations")
is "one stored booking per client told booked" "$rows" "$booked"

# Each client told "booked" has that booking; each told "clash" hit one.
lies=0
k=0
while [ $k -lt $N ]; do
	set -- $(cat "$T/c/req.$k")
	rc=$(cat "$T/c/rc.$k")
	if [ "$rc" = 0 ]; then
		id=$(jq -r .id "$T/c/out.$k")
		got=$(sqlite3 "$DB" "SELECT i.code || ' ' || r.purpose FROM reservations r
		    JOIN instruments i ON i.id = r.instrument_id WHERE r.id = '$id'
		    AND r.status = 'confirmed'")
		if [ "$got" != "$1 client $k" ]; then
			lies=$((lies + 1)); diag "client $k was told booked (#$id), db has '$got'"
		fi
	elif [ "$rc" = 3 ]; then
		s=$(date -d "$2" +%s)
		case $3 in 1h) e=$((s + 3600)) ;; *) e=$((s + 7200)) ;; esac
		hit=$(sqlite3 "$DB" "SELECT count(*) FROM reservations r JOIN instruments i
		    ON i.id = r.instrument_id WHERE i.code = '$1' AND r.status = 'confirmed'
		    AND r.start < $e + i.buffer_min * 60 AND r.\"end\" > $s - i.buffer_min * 60")
		if [ "$hit" -lt 1 ]; then
			lies=$((lies + 1)); diag "client $k was told clash, but nothing holds $2"
		fi
	fi
	k=$((k + 1))
done
is "every client was told the truth" "$lies" 0

# Raw HTTP at once: 100 identical requests for one free slot, one wins.
body="{\"instrument\":\"C3\",\"start\":\"$(day 4)T09:00:00+08:00\",\"duration\":\"PT1H\"}"
seq 1 100 | xargs -P 50 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    -H "Authorization: Bearer $MEMBER_TOKEN" -H 'Content-Type: application/json' \
    --data-binary "$body" "$SERVER/api/v1/reservations" > "$T/codes"
is "100 racing requests for one slot: one 201" "$(grep -c '^201$' "$T/codes")" 1
is "100 racing requests for one slot: 99 409s" "$(grep -c '^409$' "$T/codes")" 99

# The database itself refuses an overlap, whatever writes it.
row=$(sqlite3 "$DB" "SELECT instrument_id, user_id, institute_id, start, \"end\"
    FROM reservations WHERE status = 'confirmed' LIMIT 1" | tr '|' ' ')
set -- $row
sqlite3 "$DB" "INSERT INTO reservations (uid, instrument_id, user_id, institute_id,
    start, \"end\", status, created, updated, created_by) VALUES ('x@test', $1, $2, $3,
    $4 + 60, $5 + 60, 'confirmed', 0, 0, $2)" 2> "$T/trigger.err"
check "a direct overlapping INSERT is refused by the trigger" [ $? -ne 0 ]
check "refused as an overlap" grep -q overlap "$T/trigger.err"
sqlite3 "$DB" "UPDATE reservations SET start = start + 60, \"end\" = \"end\" + 60
    WHERE id = (SELECT max(id) FROM reservations WHERE instrument_id = $1 AND
    status = 'confirmed' AND id != (SELECT min(id) FROM reservations WHERE
    instrument_id = $1 AND status = 'confirmed'))" 2> /dev/null
rc=$?
overlaps=$(sqlite3 "$DB" "SELECT count(*) FROM reservations a JOIN reservations b
    ON a.instrument_id = b.instrument_id AND a.id < b.id
    JOIN instruments i ON i.id = a.instrument_id
    WHERE a.status IN ('pending','confirmed') AND b.status IN ('pending','confirmed')
    AND a.start < b.\"end\" + i.buffer_min * 60 AND b.start < a.\"end\" + i.buffer_min * 60")
is "a direct UPDATE cannot create an overlap (exit $rc)" "$overlaps" 0

# The overlap checks walk an instrument's bookings by start, bounded below
# by the longest booking ever stored (booking_span): a booking far longer
# than the rest must still be found by a booking in its tail, by the
# daemon (409) and by the triggers, and the triggers must not lose their
# bound (and let everything through) if the booking_span row is gone.
c3=$(sqlite3 "$DB" "SELECT id FROM instruments WHERE code = 'C3'")
uid=$(sqlite3 "$DB" "SELECT id FROM users WHERE login = 'wang'")
ls=$(sqlite3 "$DB" "SELECT unixepoch('$(day 20)T00:00:00Z')")
# raw UID START END: a confirmed booking of wang's on C3, written directly.
raw() {
	sqlite3 "$DB" "INSERT INTO reservations (uid, instrument_id, user_id,
	    institute_id, start, \"end\", status, created, updated, created_by)
	    VALUES ('$1', $c3, $uid, 1, $2, $3, 'confirmed', 0, 0, $uid)"
}
raw long@test $ls $((ls + 30 * 86400))
is "a 30-day booking raises booking_span" \
    "$(sqlite3 "$DB" "SELECT longest >= 30 * 86400 FROM booking_span")" 1
api POST /api/v1/reservations "{\"instrument\":\"C3\",\"start\":\"$(day 48)T09:00:00Z\",\"duration\":\"PT1H\"}"
is "a booking in the 30-day booking's last days: 409" "$STATUS" 409
check "the 409 names the 30-day booking" grep -q "$(day 20)" "$T/body"
is "its next free slot is after the 30-day booking, not inside it" \
    "$(jq -r --arg e "$(day 50)T08:00:00+08:00" '.error.next_free.start >= $e' "$T/body")" true
raw tail@test $((ls + 28 * 86400)) $((ls + 28 * 86400 + 3600)) 2> "$T/trigger2.err"
check "the trigger refuses an INSERT in its last days" [ $? -ne 0 ]
check "refused as an overlap (2)" grep -q overlap "$T/trigger2.err"
api POST /api/v1/reservations "{\"instrument\":\"C3\",\"start\":\"$(day 52)T09:00:00Z\",\"duration\":\"PT1H\"}"
is "a booking after it: 201" "$STATUS" 201
moved=$(grep -o '"id":[0-9]*' "$T/body" | head -1 | cut -d: -f2)
sqlite3 "$DB" "UPDATE reservations SET start = start - 4 * 86400,
    \"end\" = \"end\" - 4 * 86400 WHERE id = $moved" 2> "$T/trigger3.err"
check "the trigger refuses an UPDATE into its last days" [ $? -ne 0 ]
sqlite3 "$DB" "DELETE FROM booking_span"
raw tail2@test $((ls + 29 * 86400)) $((ls + 29 * 86400 + 3600)) 2> "$T/trigger4.err"
check "without the booking_span row the trigger still refuses" [ $? -ne 0 ]
is "no two holding bookings of C3 overlap" "$(sqlite3 "$DB" "SELECT count(*)
    FROM reservations a JOIN reservations b ON a.instrument_id = b.instrument_id
    AND a.id < b.id WHERE a.instrument_id = $c3 AND a.status IN ('pending',
    'confirmed') AND b.status IN ('pending', 'confirmed') AND a.start < b.\"end\"
    AND b.start < a.\"end\"")" 0

check "yiqid stops cleanly" stop_daemon
done_testing
