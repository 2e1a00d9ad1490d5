#!/bin/sh
# backup.sh: "yiqid backup FILE" makes a consistent copy while the daemon
# serves a booking load, and restoring it gives back every booking that
# was acknowledged before the copy began.

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
check "set-up" setup_basic
for c in B1 B2; do
	api POST /api/v1/instruments "{\"code\":\"$c\",\"name\":\"Backed-up $c\",\"site\":\"HC-HTZ\",\"owner\":\"CQU\",\"rules\":{\"advance_days\":365}}"
done
base=$(date -d "$(day 1)T00:00+08:00" +%s)

# loader INSTRUMENT: book 30-minute slots until told to stop; log each
# acknowledged id.
loader() {
	i=0
	while [ ! -e "$T/stop" ] && [ $i -lt 2000 ]; do
		start=$(TZ=Asia/Shanghai date -d "@$((base + i * 1800))" +%Y-%m-%dT%H:%M+08:00)
		if out=$("$YIQI" --token "$MEMBER_TOKEN" --json book "$1" \
		    --start "$start" --duration 30m 2>/dev/null); then
			echo "$out" | jq -r .id >> "$T/acked.$1"
		fi
		i=$((i + 1))
	done
}
loader B1 & L1=$!
loader B2 & L2=$!
i=0
while [ $i -lt 600 ] && [ "$(cat "$T"/acked.* 2>/dev/null | wc -l)" -lt 10 ]; do
	sleep 0.05
	i=$((i + 1))
done
cat "$T"/acked.* > "$T/before"
"$YIQID" backup -d "$DB" "$T/copy.db" 2> "$T/backup.err"
is "backup under load exits 0" "$?" 0
sleep 0.5
touch "$T/stop"
wait $L1 $L2
"$YIQID" backup -d "$DB" "$T/copy.db" 2> /dev/null
is "backup refuses to overwrite a file" "$?" 1
"$YIQID" backup -d "$T/nonexistent.db" "$T/copy2.db" 2> /dev/null
is "backup of a missing database fails" "$?" 1
check "the copy has no WAL beside it" [ ! -e "$T/copy.db-wal" ]
is "the copy passes integrity_check" "$(sqlite3 "$T/copy.db" 'PRAGMA integrity_check')" ok
n=$(wc -l < "$T/before")
check "bookings were acknowledged before the copy ($n)" [ "$n" -gt 5 ]
missing=0
while read -r id; do
	[ "$(sqlite3 "$T/copy.db" "SELECT count(*) FROM reservations WHERE id = $id")" = 1 ] ||
	    missing=$((missing + 1))
done < "$T/before"
is "every booking acknowledged before the copy is in it" "$missing" 0
total=$(sqlite3 "$DB" 'SELECT count(*) FROM reservations')
incopy=$(sqlite3 "$T/copy.db" 'SELECT count(*) FROM reservations')
check "the load went on after the copy ($incopy < $total)" [ "$incopy" -lt "$total" ]
check "yiqid stops cleanly" stop_daemon

# Restore: serve the copy.
cp "$T/copy.db" "$DB"
rm -f "$DB-wal" "$DB-shm"
start_daemon || { not_ok "yiqid serves the restored copy"; done_testing; }
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?user=me&limit=1"
is "the restored database serves" "$STATUS" 200
is "with the copied bookings" "$(jq -r .total "$T/body")" "$incopy"
check "yiqid stops cleanly" stop_daemon
done_testing
