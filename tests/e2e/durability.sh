#!/bin/sh
# durability.sh: an acknowledged booking is never lost.  Four real yiqi
# clients book slot after slot while the daemon is killed with SIGKILL at
# a random moment, three rounds over one database.  After each restart
# every booking a client was told about (exit 0, with its id) must be on
# disk with its times, and PRAGMA integrity_check must pass.

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
check "set-up" setup_basic
for c in D1 D2 D3 D4; do
	api POST /api/v1/instruments "{\"code\":\"$c\",\"name\":\"Durable $c\",\"site\":\"HC-HTZ\",\"owner\":\"CQU\",\"rules\":{\"advance_days\":365}}"
	is "instrument $c created" "$STATUS" 201
done

base=$(date -d "$(day 1)T00:00+08:00" +%s)

# loader INSTRUMENT ROUND: book consecutive 30-minute slots until the
# server goes away; record "id start" of each acknowledged booking.
loader() {
	i=0
	while [ $i -lt 3000 ]; do
		s=$((base + ($2 * 3000 + i) * 1800))
		start=$(TZ=Asia/Shanghai date -d "@$s" +%Y-%m-%dT%H:%M+08:00)
		out=$("$YIQI" --token "$MEMBER_TOKEN" --json book "$1" \
		    --start "$start" --duration 30m 2>/dev/null)
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "$(echo "$out" | jq -r .id) $s" >> "$T/acked.$1"
		elif [ $rc -eq 7 ] || [ $rc -eq 1 ]; then
			return 0	# the server is gone
		fi
		i=$((i + 1))
	done
}

round=0
while [ $round -lt "${STRESS_ROUNDS:-3}" ]; do
	for c in D1 D2 D3 D4; do
		loader $c $round &
	done
	# Kill at a random moment once this round has acknowledged some.
	want=$(( $(cat "$T"/acked.* 2>/dev/null | wc -l) + 10 ))
	i=0
	while [ $i -lt 300 ] && [ "$(cat "$T"/acked.* 2>/dev/null | wc -l)" -lt $want ]; do
		sleep 0.05
		i=$((i + 1))
	done
	sleep "0.$(shuf -i 0-4 -n 1)"
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
	wait
	diag "round $round: killed with $(cat "$T"/acked.* | wc -l) acknowledged so far"
	start_daemon || { not_ok "yiqid restarts after SIGKILL"; done_testing; }
	round=$((round + 1))
done

acked=$(cat "$T"/acked.* | wc -l)
check "the clients got acknowledgements ($acked)" [ "$acked" -ge 20 ]
lost=0
cat "$T"/acked.* > "$T/all"
while read -r id s; do
	got=$(sqlite3 "$DB" "SELECT start FROM reservations WHERE id = $id AND status = 'confirmed'")
	if [ "$got" != "$s" ]; then
		lost=$((lost + 1))
		diag "booking #$id (start $s) acknowledged but db has '$got'"
	fi
done < "$T/all"
is "every acknowledged booking survived SIGKILL" "$lost" 0
is "integrity_check" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
overlaps=$(sqlite3 "$DB" "SELECT count(*) FROM reservations a JOIN reservations b
    ON a.instrument_id = b.instrument_id AND a.id < b.id
    WHERE a.status = 'confirmed' AND b.status = 'confirmed'
    AND a.start < b.\"end\" AND b.start < a.\"end\"")
is "no overlaps after recovery" "$overlaps" 0
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?user=me&limit=1"
is "the daemon serves after recovery" "$STATUS" 200
check "yiqid stops cleanly" stop_daemon
done_testing
