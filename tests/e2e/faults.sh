#!/bin/sh
# faults.sh: the disk fills up.  The daemon must answer 503 (not crash,
# not lie with a 201), keep serving reads, recover by itself when space
# returns, and leave a
# database that passes integrity_check with every acknowledged booking.
# The database lives on a small tmpfs mounted for the test (needs root,
# as CI has; skipped where mounting is not allowed).

. "$top_srcdir/tests/e2e/lib.sh"

MNT=$T/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null; then
	echo "1..0 # SKIP cannot mount a tmpfs here (needs root)"
	exit 0
fi
trap 'umount "$MNT" 2>/dev/null; cleanup' EXIT
DB=$MNT/yiqi.db

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
check "set-up" setup_basic
api POST /api/v1/instruments '{"code":"F1","name":"Full disk","site":"HC-HTZ","owner":"CQU","rules":{"advance_days":365}}'
D=$(day 2)

book() {
	TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations \
	    "{\"instrument\":\"F1\",\"start\":\"$1\",\"duration\":\"PT30M\",\"purpose\":\"$(head -c 3000 /dev/zero | tr '\0' p)\"}"
}

book "${D}T09:00:00+08:00"
is "a booking before the disk fills" "$STATUS" 201
ACK1=$(jq -r .id "$T/body")

# Fill the file system.
dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
i=0 full=0
while [ $i -lt 40 ]; do
	book "$(TZ=Asia/Shanghai date -d "@$(( $(date -d "${D}T10:00+08:00" +%s) + i * 1800 ))" +%Y-%m-%dT%H:%M:%S+08:00)"
	if [ "$STATUS" = 503 ]; then full=1; break; fi
	[ "$STATUS" = 201 ] && echo "$(jq -r .id "$T/body")" >> "$T/acked"
	i=$((i + 1))
done
is "a full disk answers 503" "$full" 1
is "the 503 is a JSON error" "$(jq -r .error.code "$T/body")" unavailable
check "yiqid is still running" kill -0 "$DPID"
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations/$ACK1"
is "reads still work on a full disk" "$STATUS" 200
check "the full disk is logged" grep -q "database" "$T/yiqid.log.new"

rm -f "$MNT/filler"
book "${D}T20:00:00+08:00"
is "bookings work again once space returns" "$STATUS" 201
ACK2=$(jq -r .id "$T/body")

check "yiqid stops cleanly" stop_daemon
is "integrity_check after the faults" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
lost=0
for id in $ACK1 $ACK2 $(cat "$T/acked" 2>/dev/null); do
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM reservations WHERE id = $id")" = 1 ] ||
	    lost=$((lost + 1))
done
is "every acknowledged booking is there" "$lost" 0
overlap=$(sqlite3 "$DB" "SELECT count(*) FROM reservations a JOIN reservations b ON
    a.instrument_id = b.instrument_id AND a.id < b.id WHERE a.status = 'confirmed'
    AND b.status = 'confirmed' AND a.start < b.\"end\" AND b.start < a.\"end\"")
is "no overlaps" "$overlap" 0
done_testing
