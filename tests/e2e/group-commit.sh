#!/bin/sh
# group-commit.sh: requests that share a group commit keep their own fate.
# One burst of concurrent requests (held in one group by
# YIQID_GROUP_HOLD_MS) mixes valid bookings, bookings refused with 409 and
# 422, CSV imports that fail half-way through their transaction, duplicate
# users refused by the database, and reads.  Each must get its own right
# answer, and the database must hold exactly the valid writes: a refused
# or failing request rolls back only its own savepoint.  Then the naive
# mode (group_commit = off) still books, and a bad value is refused.

. "$top_srcdir/tests/e2e/lib.sh"

printf 'log_level = debug\n' > "$T/debug.conf"
init_db
YIQID_GROUP_HOLD_MS=1000
export YIQID_GROUP_HOLD_MS
start_daemon -c "$T/debug.conf" || { not_ok "yiqid starts"; done_testing; }
unset YIQID_GROUP_HOLD_MS
check "set-up" setup_basic
D=$(day 2)
TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations \
    "{\"instrument\":\"ICPMS-1\",\"start\":\"${D}T09:00:00+08:00\",\"duration\":\"PT1H\",\"purpose\":\"first\"}"
is "a booking before the burst" "$STATUS" 201

# One curl process, every transfer in parallel: a config block each.
: > "$T/burst.conf"
: > "$T/want"
add() {	# NAME STATUS METHOD PATH TOKEN CTYPE BODY
	{
		[ -s "$T/want" ] && echo "next"
		echo "url = \"$SERVER$4\""
		echo "request = \"$3\""
		echo "header = \"Authorization: Bearer $5\""
		if [ -n "$7" ]; then
			echo "header = \"Content-Type: $6\""
			printf 'data-binary = "%s"\n' "$7"
		fi
		echo "output = \"$T/out.$1\""
		printf 'write-out = "%%{http_code} %%{filename_effective}\\n"\n'
	} >> "$T/burst.conf"
	echo "$1 $2" >> "$T/want"
}
k=0
while [ $k -lt 20 ]; do
	m=$((600 + k * 30))
	s=$(printf '%sT%02d:%02d:00+08:00' "$D" $((m / 60)) $((m % 60)))
	add "ok$k" 201 POST /api/v1/reservations "$MEMBER_TOKEN" application/json \
	    "{\\\"instrument\\\":\\\"ICPMS-1\\\",\\\"start\\\":\\\"$s\\\",\\\"duration\\\":\\\"PT30M\\\",\\\"purpose\\\":\\\"burst $k\\\"}"
	k=$((k + 1))
done
for k in 0 1 2 3 4; do
	add "clash$k" 409 POST /api/v1/reservations "$MEMBER_TOKEN" application/json \
	    "{\\\"instrument\\\":\\\"ICPMS-1\\\",\\\"start\\\":\\\"${D}T09:30:00+08:00\\\",\\\"duration\\\":\\\"PT30M\\\",\\\"purpose\\\":\\\"clash $k\\\"}"
	add "rule$k" 422 POST /api/v1/reservations "$MEMBER_TOKEN" application/json \
	    "{\\\"instrument\\\":\\\"ICPMS-1\\\",\\\"start\\\":\\\"${D}T22:10:00+08:00\\\",\\\"duration\\\":\\\"PT30M\\\",\\\"purpose\\\":\\\"off grid $k\\\"}"
done
for k in 0 1 2; do
	# Two good rows are written, the third names no site: all rolled back.
	add "import$k" 400 POST /api/v1/import/instruments "$ADMIN_TOKEN" text/csv \
	    "code,name,site,owner\\nGC-$k-A,Good A,HC-HTZ,CQU\\nGC-$k-B,Good B,HC-HTZ,CQU\\nGC-$k-C,Bad C,NOWHERE,CQU\\n"
	add "dup$k" 409 POST /api/v1/users "$ADMIN_TOKEN" application/json \
	    '{\"login\":\"wang\",\"name\":\"Second Wang\",\"institute\":\"CQU\"}'
	add "read$k" 200 GET /api/v1/instruments/ICPMS-1 "$MEMBER_TOKEN" "" ""
done
add "good-import" 200 POST /api/v1/import/instruments "$ADMIN_TOKEN" text/csv \
    "code,name,site,owner\\nGC-OK-A,Good A,HC-HTZ,CQU\\nGC-OK-B,Good B,HC-HTZ,CQU\\n"
curl -s -Z --parallel-immediate --parallel-max 64 -K "$T/burst.conf" \
    > "$T/got"

wrong=0
while read -r name want; do
	got=$(sed -n "s|^\([0-9]*\) $T/out\.$name\$|\1|p" "$T/got")
	if [ "$got" != "$want" ]; then
		diag "$name: got $got, want $want: $(cat "$T/out.$name" 2>/dev/null)"
		wrong=$((wrong + 1))
	fi
done < "$T/want"
is "each request of the burst got its own answer" "$wrong" 0
is "the 409s are clashes" "$(cat "$T"/out.clash* | jq -r .error.code | sort -u)" conflict
is "the 422s name the rule" "$(cat "$T"/out.rule* | jq -r .error.code | sort -u)" rule
is "the failed imports name the bad line" "$(cat "$T"/out.import* | jq -r .error.line | sort -u)" 4

groups=$(sed -n 's/.*group commit: \([0-9]*\) request.*/\1/p' "$T/yiqid.log.new" | sort -n | tail -1)
diag "largest group: ${groups:-none} requests"
check "the burst's writes shared a group" [ "${groups:-0}" -ge 10 ]

is "stored: the first booking and the 20 valid ones" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM reservations")" 21
is "stored: each valid booking once, under its own purpose" \
    "$(sqlite3 "$DB" "SELECT count(DISTINCT purpose) FROM reservations WHERE purpose LIKE 'burst %'")" 20
is "stored: nothing of the failed imports" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM instruments WHERE code LIKE 'GC-_-%'")" 0
is "stored: the good import" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM instruments WHERE code LIKE 'GC-OK-%'")" 2
is "stored: one user wang" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM users WHERE login = 'wang'")" 1
is "audited: one reservation.create per booking" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action = 'reservation.create'")" 21
check "yiqid stops cleanly" stop_daemon

# The naive mode: one transaction and one fsync per request.
printf 'log_level = debug\ngroup_commit = off\n' > "$T/off.conf"
start_daemon -c "$T/off.conf" || { not_ok "yiqid starts with group_commit = off"; done_testing; }
TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations \
    "{\"instrument\":\"ICPMS-1\",\"start\":\"${D}T23:00:00+08:00\",\"duration\":\"PT30M\",\"purpose\":\"naive\"}"
is "group_commit = off: a booking" "$STATUS" 201
TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations \
    "{\"instrument\":\"ICPMS-1\",\"start\":\"${D}T23:00:00+08:00\",\"duration\":\"PT30M\",\"purpose\":\"naive\"}"
is "group_commit = off: a clash" "$STATUS" 409
check "group_commit = off: no group commits" sh -c "! grep -q 'group commit:' '$T/yiqid.log.new'"
check "yiqid stops cleanly (group_commit = off)" stop_daemon
is "group_commit = off: stored" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM reservations WHERE purpose = 'naive'")" 1

printf 'group_commit = maybe\n' > "$T/bad.conf"
"$YIQID" -f -c "$T/bad.conf" -d "$DB" -l 127.0.0.1:0 2> "$T/bad.err"
rc=$?
check "group_commit = maybe is refused" [ "$rc" -ne 0 ]
check "... naming the key" grep -q "group_commit must be on or off" "$T/bad.err"

done_testing
