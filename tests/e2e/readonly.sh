#!/bin/sh
# readonly.sh: the database turns read-only under the daemon (its files
# made immutable with chattr +i, which makes every write through an open
# descriptor fail, as a file system remounted read-only would).  Writes
# must answer 503 and change nothing, reads go on, and once the files are
# writable again bookings work and nothing acknowledged is lost.  Skipped
# where the file system has no immutable attribute (tmpfs) or chattr is
# not allowed.

. "$top_srcdir/tests/e2e/lib.sh"

unlock() {
	chattr -i "$DB" "$DB-wal" "$DB-shm" 2>/dev/null
}
trap 'unlock; cleanup' EXIT

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
check "set-up" setup_basic
if ! chattr +i "$DB-wal" 2>/dev/null; then
	echo "1..0 # SKIP no immutable attribute here (chattr +i failed)"
	exit 0
fi
chattr -i "$DB-wal"
D=$(day 2)

book() {
	TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations \
	    "{\"instrument\":\"ICPMS-1\",\"start\":\"${D}T$1:00+08:00\",\"duration\":\"PT1H\"}"
}
book 09:00
is "a booking while writable" "$STATUS" 201
ACK1=$(jq -r .id "$T/body")

chattr +i "$DB" "$DB-wal"
book 11:00
is "a booking on a read-only database: 503" "$STATUS" 503
is "the 503 is a JSON error" "$(jq -r .error.code "$T/body")" unavailable
book 13:00
is "and again: 503" "$STATUS" 503
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations/$ACK1"
is "reads go on" "$STATUS" 200
check "yiqid is still running" kill -0 "$DPID"

unlock
i=0
while [ $i -lt 20 ]; do
	book 11:00
	[ "$STATUS" = 201 ] && break
	sleep 0.2
	i=$((i + 1))
done
is "bookings work again once writable" "$STATUS" 201
ACK2=$(jq -r .id "$T/body")
check "yiqid stops cleanly" stop_daemon
is "integrity_check" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok
is "the acknowledged bookings are there, the refused ones not" \
    "$(sqlite3 "$DB" "SELECT group_concat(id) FROM (SELECT id FROM reservations ORDER BY id)")" \
    "$ACK1,$ACK2"
done_testing
