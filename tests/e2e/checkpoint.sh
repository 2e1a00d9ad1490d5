#!/bin/sh
# checkpoint.sh: WAL checkpoints run off the event loop (checkpoint.c) and
# still happen: bookings made, then an idle second, are in the database
# file itself, not only in its WAL (with SQLite's own autocheckpoint a
# few bookings stay in the WAL until it holds 1000 pages).  New UIDs are
# time-ordered (32 hex digits, the first 12 the time in ms), distinct,
# and sort like the ids.  The daemon still stops cleanly (the thread
# joined, its connection closed).

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
check "set-up" setup_basic
D=$(day 2)
t0=$(date +%s)
for h in 09 10 11 12 13; do
	TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations \
	    "{\"instrument\":\"ICPMS-1\",\"start\":\"${D}T$h:00:00+08:00\",\"duration\":\"PT1H\",\"purpose\":\"ckpt $h\"}"
	is "booking at $h" "$STATUS" 201
done
n=$(sqlite3 "$DB" 'SELECT count(*) FROM reservations')
is "five bookings in the database" "$n" 5

sqlite3 "$DB" 'SELECT uid FROM reservations ORDER BY id' > "$T/uids"
is "every UID is 32 hex digits @yiqi" \
    "$(grep -c '^[0-9a-f]\{32\}@yiqi$' "$T/uids")" 5
is "the UIDs are distinct" "$(sort -u "$T/uids" | wc -l | tr -d ' ')" 5
if LC_ALL=C sort -c "$T/uids" 2>/dev/null; then
	ok "the UIDs sort like the ids (time-ordered)"
else
	not_ok "the UIDs sort like the ids (time-ordered)"
fi
ms=$(printf '%d' "0x$(head -1 "$T/uids" | cut -c1-12)")
s=$((ms / 1000))
if [ "$s" -ge $((t0 - 5)) ] && [ "$s" -le $(($(date +%s) + 5)) ]; then
	ok "a UID starts with its creation time in ms"
else
	not_ok "a UID starts with its creation time in ms ($s, now $t0)"
fi

# Idle: the checkpointer copies the WAL into the database file.
sleep 2.5
cp "$DB" "$T/main-only.db"
m=$(sqlite3 "$T/main-only.db" 'SELECT count(*) FROM reservations' 2>&1)
is "after an idle second the bookings are in the database file" "$m" 5
is "the copy passes integrity_check" \
    "$(sqlite3 "$T/main-only.db" 'PRAGMA integrity_check' 2>&1)" ok

TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations \
    "{\"instrument\":\"ICPMS-1\",\"start\":\"${D}T14:00:00+08:00\",\"duration\":\"PT1H\",\"purpose\":\"ckpt 14\"}"
is "booking after a checkpoint" "$STATUS" 201
check "yiqid stops cleanly" stop_daemon
is "six bookings after the stop" \
    "$(sqlite3 "$DB" 'SELECT count(*) FROM reservations')" 6
done_testing
