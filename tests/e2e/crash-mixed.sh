#!/bin/sh
# crash-mixed.sh: kill -9 at random points of a mixed load, and restart
# under load.  Three clients each book, move and cancel their own bookings
# while the daemon is killed and restarted five times; the clients keep
# going across the restarts.  Each client logs every change it tries
# ("try") and every one it was told succeeded ("ack").  Afterwards every
# booking must be in the state of its last acknowledged change or of a
# later one it tried (a change can commit and the daemon die before the
# answer leaves) — never older, never something nobody asked for — and
# the database must pass integrity_check with no overlap.

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
check "set-up" setup_basic
for c in M1 M2 M3; do
	api POST /api/v1/instruments "{\"code\":\"$c\",\"name\":\"Mixed $c\",\"site\":\"HC-HTZ\",\"owner\":\"CQU\",\"rules\":{\"advance_days\":365}}"
done
# Two days ahead: cancelling is not late (late cancellations suspend).
base=$(date -d "$(day 3)T00:00+08:00" +%s)

at() {	# slot number -> local time text
	TZ=Asia/Shanghai date -d "@$((base + $1 * 1800))" +%Y-%m-%dT%H:%M+08:00
}

# client INSTRUMENT: book a slot, move it two slots on, cancel every third.
client() {
	log=$T/log.$1
	k=0 seq=0
	while [ ! -e "$T/stop" ] && [ $k -lt 3000 ]; do
		slot=$((k * 4))
		seq=$((seq + 1))
		if ! out=$("$YIQI" --token "$MEMBER_TOKEN" --json book "$1" \
		    --start "$(at $slot)" --duration 30m 2>/dev/null); then
			k=$((k + 1)); sleep 0.05; continue
		fi
		id=$(echo "$out" | jq -r .id)
		echo "ack $id $seq confirmed $((base + slot * 1800))" >> "$log"
		seq=$((seq + 1))
		echo "try $id $seq confirmed $((base + (slot + 2) * 1800))" >> "$log"
		"$YIQI" --token "$MEMBER_TOKEN" move "$id" --start "$(at $((slot + 2)))" \
		    > /dev/null 2>&1 &&
		    echo "ack $id $seq confirmed $((base + (slot + 2) * 1800))" >> "$log"
		if [ $((k % 3)) -eq 0 ]; then
			seq=$((seq + 1))
			echo "try $id $seq cancelled -" >> "$log"
			"$YIQI" --token "$MEMBER_TOKEN" cancel "$id" > /dev/null 2>&1 &&
			    echo "ack $id $seq cancelled -" >> "$log"
		fi
		k=$((k + 1))
	done
}
client M1 & C1=$!
client M2 & C2=$!
client M3 & C3=$!

acks() {
	cat "$T"/log.* 2>/dev/null | grep -c '^ack'
}
round=0
while [ $round -lt 5 ]; do
	want=$(( $(acks) + 15 ))
	i=0
	while [ $i -lt 400 ] && [ "$(acks)" -lt $want ]; do sleep 0.05; i=$((i + 1)); done
	sleep "0.$(shuf -i 0-3 -n 1)"
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
	sleep 0.2
	# The same port: the clients go on talking to it across restarts.
	start_daemon -l "127.0.0.1:$PORT" ||
	    { not_ok "yiqid restarts under load"; touch "$T/stop"; done_testing; }
	round=$((round + 1))
done
sleep 0.5
touch "$T/stop"
wait $C1 $C2 $C3
check "yiqid stops cleanly" stop_daemon
diag "$(acks) acknowledged changes over 5 kills"
check "the clients were acknowledged many changes" [ "$(acks)" -ge 60 ]

# Check every booking against its log.
cat "$T"/log.* > "$T/all"
bad=0
for id in $(awk '$1 == "ack" { print $2 }' "$T/all" | sort -u); do
	db=$(sqlite3 "$DB" "SELECT status || ' ' || CASE status WHEN 'cancelled' THEN '-' ELSE start END FROM reservations WHERE id = $id")
	last=$(awk -v id="$id" '$1 == "ack" && $2 == id { s = $3 } END { print s }' "$T/all")
	okstate=$(awk -v id="$id" -v last="$last" -v db="$db" '
	    $2 == id && $3 >= last && ($4 " " $5) == db { found = 1 }
	    END { print found + 0 }' "$T/all")
	if [ "$okstate" != 1 ]; then
		bad=$((bad + 1))
		diag "booking $id: db has '$db'; log: $(grep " $id " "$T/all" | tr '\n' ';')"
	fi
done
is "every booking is in its last acknowledged state or a later tried one" "$bad" 0
is "integrity_check" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
overlaps=$(sqlite3 "$DB" "SELECT count(*) FROM reservations a JOIN reservations b
    ON a.instrument_id = b.instrument_id AND a.id < b.id
    WHERE a.status = 'confirmed' AND b.status = 'confirmed'
    AND a.start < b.\"end\" AND b.start < a.\"end\"")
is "no overlaps" "$overlaps" 0
unknown=$(sqlite3 "$DB" "SELECT count(*) FROM reservations WHERE purpose != ''")
is "nothing nobody asked for" "$unknown" 0
done_testing
