#!/bin/sh
# booking.sh: every yiqi command against a real yiqid, the way people use
# it: log in, look around, book, clash, break rules, move, list, cancel,
# and the admin commands, each with the exit status SPEC §7 gives it and,
# where it matters, the redaction of other people's bookings (SPEC §4).

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
Y=$YIQI

# Admin set-up through the client.
export YIQI_TOKEN=$ADMIN_TOKEN
y 0 "admin sites add" admin sites add HC-HTZ --name "Hechuan Hi-tech Industrial Development Zone" --district hechuan --timezone Asia/Chongqing
y 0 "sites" --json sites
is "an alias zone is stored canonically" "$(jq -r '.items[0].timezone' "$T/out")" Asia/Shanghai
y 0 "admin sites add WS-JZ" admin sites add WS-JZ --name "Wusheng Jiezi Industrial Park" --district wusheng
y 0 "admin institutes add" admin institutes add CQU --name "重庆大学分析测试中心" --district hechuan
y 0 "admin institutes add (private)" admin institutes add SP --name "Sichuan Pharma" --district wusheng --private
y 0 "admin institutes add (third)" admin institutes add HCF --name "Hechuan Food Testing Centre" --district hechuan
y 0 "institutes" institutes
check "institutes table shows the Chinese name" grep -q "重庆大学分析测试中心" "$T/out"
y 0 "admin instruments add" admin instruments add HC-ICPMS-01 --name "ICP-MS" --site HC-HTZ --owner CQU --category mass-spectrometry --manufacturer Agilent --model 7900 --opening-hours "Mon-Sun 08:00-20:00" --buffer 30 --max-duration 240
y 0 "admin instruments add (NMR)" admin instruments add WS-NMR-600 --name "600 MHz NMR" --site WS-JZ --owner SP --category nmr --granularity 60
y 3 "admin instruments add: duplicate code is a clash" admin instruments add WS-NMR-600 --name "again" --site WS-JZ --owner SP
printf 'code,name,category,site,owner,opening_hours\nHC-SEM-01,Field-emission SEM,electron-microscopy,HC-HTZ,CQU,"Mon-Fri 09:00-17:00"\nHC-XRD-01,X-ray diffractometer,xrd,HC-HTZ,CQU,24/7\n' > "$T/inv.csv"
y 0 "admin import" admin import "$T/inv.csv"
printf 'code,name,site,owner,buffer_min\nBAD-1,Bad,HC-HTZ,CQU,-5\n' > "$T/bad.csv"
y 1 "admin import of a bad CSV fails" admin import "$T/bad.csv"
check "the import error names the line" grep -q "line 2" "$T/err"
y 0 "admin users add (member)" admin users add wang.fang --name "Wang Fang" --institute CQU
y 0 "admin users add (second member)" admin users add li.jun --name "Li Jun" --institute HCF
y 0 "admin users add (private institute member)" admin users add zhao.min --name "Zhao Min" --institute SP
y 0 "admin users add (manager)" admin users add liu.yang --name "Liu Yang" --institute CQU --role manager --manages HC-ICPMS-01
y 1 "admin users add: an unknown institute is refused (400)" admin users add x.y --name X --institute NOPE
check "the error names the institute" grep -q NOPE "$T/err"
y 0 "admin tokens create" admin tokens create wang.fang --label laptop
WANG=$(cat "$T/out")
check "the token is printed alone" sh -c "[ \$(wc -l < '$T/out') -eq 1 ]"
y 0 "admin tokens create (li.jun)" admin tokens create li.jun
LI=$(cat "$T/out")
y 0 "admin tokens create (zhao.min)" admin tokens create zhao.min
ZHAO=$(cat "$T/out")
y 0 "admin tokens create (liu.yang)" admin tokens create liu.yang
LIU=$(cat "$T/out")
y 0 "admin tokens list" --json admin tokens wang.fang
is "the list shows one token, no secret" "$(jq -r '.items | length' "$T/out")/$(grep -c "$WANG" "$T/out")" "1/0"

# login and whoami.
y 0 "login" login --server "$SERVER" --token "$WANG"
check "the config file is 0600" sh -c "[ \$(stat -c %a '$XDG_CONFIG_HOME/yiqi/config') = 600 ]"
unset YIQI_TOKEN YIQI_SERVER
y 0 "whoami from the saved config" whoami
check "whoami names the user" grep -q wang.fang "$T/out"
y 4 "a bad token exits 4" --token nonsense whoami
y 7 "an unreachable server exits 7" --server http://127.0.0.1:1 whoami

# Looking around.
y 0 "instruments" instruments
check "instruments lists the ICP-MS" grep -q HC-ICPMS-01 "$T/out"
y 0 "instruments --category" --json instruments --category nmr
is "category filter" "$(jq -r '[.items[].code] | join(" ")' "$T/out")" WS-NMR-600
y 0 "instruments --search" --json instruments --search diffract
is "search" "$(jq -r '[.items[].code] | join(" ")' "$T/out")" HC-XRD-01
y 0 "show" show HC-ICPMS-01
check "show gives the rules" grep -q "Mon-Sun 08:00-20:00" "$T/out"
y 5 "show an unknown instrument exits 5" show NOPE-01

D=$(day 2)
# Booking.
y 0 "book" --json book HC-ICPMS-01 --start "$D 09:00" --duration 2h --purpose "trace metals in soil" --project "NSFC-123"
B1=$(jq -r .id "$T/out")
is "booked in the site's zone" "$(jq -r .start "$T/out")" "${D}T09:00:00+08:00"
is "booked until" "$(jq -r .end "$T/out")" "${D}T11:00:00+08:00"
is "booked confirmed" "$(jq -r .status "$T/out")" confirmed
y 0 "book (human output)" book HC-ICPMS-01 --start "$D 15:00" --end "$D 16:00"
check "human output says Booked" grep -q "^Booked #" "$T/out"
B2=$(sed -n 's/^Booked #\([0-9]*\).*/\1/p' "$T/out")
y 3 "a clash exits 3" book HC-ICPMS-01 --start "$D 10:00" --duration 1h
check "the clash names the next free slot" grep -q "next free" "$T/err"
y 3 "the buffer counts: 11:00 right after 09:00-11:00 clashes" book HC-ICPMS-01 --start "$D 11:00" --duration 1h
TOKEN=$WANG api POST /api/v1/reservations "{\"instrument\":\"HC-ICPMS-01\",\"start\":\"${D}T10:00:00+08:00\",\"duration\":\"PT1H\"}"
is "409 body: conflicts" "$(jq -r '.error.conflicts[0].id' "$T/body")" "$B1"
is "409 body: next free slot after the buffer" "$(jq -r '.error.next_free.start' "$T/body")" "${D}T11:30:00+08:00"
y 6 "off the grid exits 6" book HC-ICPMS-01 --start "$D 12:10" --duration 1h
y 6 "too long exits 6" book HC-ICPMS-01 --start "$D 12:00" --duration 5h
y 6 "outside opening hours exits 6" book HC-ICPMS-01 --start "$D 19:30" --duration 1h
y 6 "too far ahead exits 6" book HC-ICPMS-01 --start "$(day 120) 09:00" --duration 1h
y 6 "in the past exits 6" book HC-ICPMS-01 --start "2025-01-06 09:00" --duration 1h
y 5 "an unknown instrument exits 5" book NOPE-01 --start "$D 09:00" --duration 1h
y 2 "a bad time exits 2" book HC-ICPMS-01 --start "$D 25:00" --duration 1h
y 2 "a missing --start exits 2" book HC-ICPMS-01 --duration 1h
y 4 "a member booking for another user exits 4" book HC-ICPMS-01 --start "$D 13:00" --duration 1h --for li.jun
y 0 "a manager books for another user" --token "$LIU" --json book HC-ICPMS-01 --start "$D 13:00" --duration 1h --for li.jun
is "the booking is li.jun's" "$(jq -r .user "$T/out")" li.jun
BLI=$(jq -r .id "$T/out")
y 0 "book the NMR (private institute's user)" --token "$ZHAO" --json book WS-NMR-600 --start "$D 09:00" --duration 3h --purpose "secret compound"
BNMR=$(jq -r .id "$T/out")

# Free and find.
y 0 "free" --json free HC-ICPMS-01 --from "$D 00:00" --to "$D 23:59"
is "free: first free interval" "$(jq -r '.free[0].start' "$T/out")" "${D}T08:00:00+08:00"
is "free: busy bookings" "$(jq -r '[.busy[] | select(.kind == "reservation")] | length' "$T/out")" 3
y 0 "free (table)" free HC-ICPMS-01 --from "$D 00:00" --to "$D 23:59"
y 0 "find" --json find --category mass-spectrometry --duration 2h --after "$D 09:00"
# 09:00-11:00, 13:00-14:00, 15:00-16:00 are booked, with a 30-minute buffer.
is "find: earliest 2-hour slot" "$(jq -r '.items[0].start' "$T/out")" "${D}T16:30:00+08:00"

# Lists and redaction.
y 0 "list --mine" --json list --mine
is "list --mine holds my two bookings" "$(jq -r '[.items[].id] | join(",")' "$T/out")" "$B1,$B2"
y 0 "list --mine (table)" list --mine
check "the table has a header" grep -q "INSTRUMENT" "$T/out"
y 0 "list --instrument" --json list --instrument HC-ICPMS-01
is "another member's booking is redacted" "$(jq -r ".items[] | select(.id == $BLI) | .redacted" "$T/out")" true
is "a redacted booking shows no user" "$(jq -r ".items[] | select(.id == $BLI) | .user" "$T/out")" null
is "a redacted booking shows the institute's name" "$(jq -r ".items[] | select(.id == $BLI) | .institute" "$T/out")" "Hechuan Food Testing Centre"
y 0 "show-booking of a private institute's booking" --json show-booking "$BNMR"
is "a private institute shows only busy" "$(jq -r .institute "$T/out")/$(jq -r .purpose "$T/out")" "null/null"
y 0 "the manager sees the full booking" --token "$LIU" --json show-booking "$BLI"
is "manager's view has the user" "$(jq -r .user "$T/out")" li.jun
y 0 "list --status" --json list --instrument HC-ICPMS-01 --status confirmed --from "$D 00:00" --to "$D 12:00"
is "list with a period" "$(jq -r '.items | length' "$T/out")" 1
# The list bounds its walk by start with the longest booking stored: a long
# booking that began hours before --from is still listed, also once it was
# made longer by a move.
y 0 "a long booking" --json book HC-XRD-01 --start "$D 01:00" --duration 7h --purpose "long run"
BLONG=$(jq -r .id "$T/out")
y 0 "list from the middle of a long booking" --json list --instrument HC-XRD-01 --from "$D 07:00" --to "$D 07:30"
is "the long booking is listed" "$(jq -r '[.items[].id] | join(",")' "$T/out")" "$BLONG"
y 0 "the same without an instrument filter" --json list --from "$D 07:00" --to "$D 07:30"
check "the long booking is listed without a filter" sh -c "jq -e '.items[] | select(.id == $BLONG)' '$T/out' >/dev/null"
y 0 "made longer" --json move "$BLONG" --start "$D 00:00" --duration 8h
y 0 "list near its new end" --json list --from "$D 07:45" --to "$D 07:50"
check "the lengthened booking is listed" sh -c "jq -e '.items[] | select(.id == $BLONG)' '$T/out' >/dev/null"
is "the total counts it too" "$(jq -r .total "$T/out")" "$(jq -r '.items | length' "$T/out")"
y 0 "list after its end" --json list --instrument HC-XRD-01 --from "$D 08:00" --to "$D 09:00"
is "a booking ending at --from is not listed" "$(jq -r '.items | length' "$T/out")" 0
y 0 "cancel the long booking" cancel "$BLONG"
y 5 "show-booking of an unknown id exits 5" show-booking 999999

# Move, cancel.
y 0 "move keeps the length" --json move "$B1" --start "$D 17:00"
is "moved start" "$(jq -r .start "$T/out")" "${D}T17:00:00+08:00"
is "moved end" "$(jq -r .end "$T/out")" "${D}T19:00:00+08:00"
is "move bumps the sequence" "$(jq -r .sequence "$T/out")" 1
y 0 "move with a new duration" --json move "$B1" --start "$D 17:00" --duration 1h
is "resized" "$(jq -r .end "$T/out")" "${D}T18:00:00+08:00"
y 3 "moving onto another booking exits 3" move "$B1" --start "$D 15:00"
y 6 "moving outside the hours exits 6" move "$B1" --start "$D 19:30"
y 4 "moving someone else's booking exits 4" move "$BLI" --start "$D 08:00"
y 0 "cancel" --json cancel "$B1" --reason "sample not ready"
is "cancelled" "$(jq -r .status "$T/out")" cancelled
is "cancel reason kept" "$(jq -r .cancel_reason "$T/out")" "sample not ready"
y 6 "cancelling twice exits 6" cancel "$B1"
y 4 "cancelling someone else's booking exits 4" cancel "$BLI"
y 0 "admin audit --booking" --token "$ADMIN_TOKEN" --json admin audit --booking "$B1"
is "the audit log tells who did what to the booking" "$(jq -r '[.items[] | .user + ":" + .action] | join(" ")' "$T/out")" \
    "wang.fang:reservation.create wang.fang:reservation.update wang.fang:reservation.update wang.fang:reservation.cancel"
y 0 "admin audit (table)" --token "$ADMIN_TOKEN" admin audit --user wang.fang --limit 5
check "the table shows the actions" grep -q "reservation.create" "$T/out"
y 4 "a member cannot read the audit log" admin audit
y 0 "the freed slot can be booked again" book HC-ICPMS-01 --start "$D 17:00" --duration 1h
y 0 "the manager cancels a member's booking" --token "$LIU" cancel "$BLI"

# Blackouts.
export YIQI_TOKEN=$ADMIN_TOKEN
y 0 "admin blackouts add over a booking" --json admin blackouts add --instrument HC-ICPMS-01 --start "$D 14:00" --end "$D 18:00" --reason "cone cleaning"
is "the answer lists the affected bookings" "$(jq -r '.affected | length' "$T/out")" 2
BO=$(jq -r .id "$T/out")
AFF=$(jq -r '[.affected[].id] | join(",")' "$T/out")
is "the affected bookings are flagged" \
    "$(sqlite3 "$DB" "SELECT sum(affected_by_blackout) FROM reservations WHERE id IN ($AFF)")" 2
unset YIQI_TOKEN
y 6 "booking into a blackout exits 6" book HC-ICPMS-01 --start "$D 14:00" --duration 1h
y 0 "but after it is fine" book HC-ICPMS-01 --start "$(day 3) 18:00" --duration 1h
y 0 "admin blackouts (list)" --token "$ADMIN_TOKEN" admin blackouts --instrument HC-ICPMS-01
check "the list shows the reason" grep -q "cone cleaning" "$T/out"
y 4 "a member cannot add a blackout" admin blackouts add --instrument HC-ICPMS-01 --start "$D 08:00" --end "$D 09:00" --reason x
y 0 "admin blackouts rm" --token "$ADMIN_TOKEN" admin blackouts rm "$BO"
is "removing it clears their flag" \
    "$(sqlite3 "$DB" "SELECT sum(affected_by_blackout) FROM reservations WHERE id IN ($AFF)")" 0
y 0 "site blackout by the admin" --token "$ADMIN_TOKEN" admin blackouts add --site WS-JZ --start "$(day 5) 00:00" --end "$(day 6) 00:00" --reason "park closure"
y 6 "booking in a closed park exits 6" --token "$ZHAO" book WS-NMR-600 --start "$(day 5) 10:00" --duration 1h

# Admin changes.
y 0 "admin instruments set --status maintenance" --token "$ADMIN_TOKEN" admin instruments set HC-XRD-01 --status maintenance
y 6 "an instrument in maintenance cannot be booked" book HC-XRD-01 --start "$D 10:00" --duration 1h
y 0 "the manager changes the rules of their instrument" --token "$LIU" admin instruments set HC-ICPMS-01 --buffer 0
y 4 "the manager cannot change another instrument" --token "$LIU" admin instruments set WS-NMR-600 --buffer 0
y 0 "admin users set" --token "$ADMIN_TOKEN" admin users set wang.fang --email wang@example.org
y 0 "admin users list" --token "$ADMIN_TOKEN" --json admin users
is "users list" "$(jq -r '[.items[].login] | sort | join(" ")' "$T/out")" "admin li.jun liu.yang wang.fang zhao.min"
y 4 "a member cannot list users" admin users
TID=$("$Y" --token "$ADMIN_TOKEN" --json admin tokens wang.fang | jq -r '.items[0].id')
y 0 "admin tokens revoke" --token "$ADMIN_TOKEN" admin tokens revoke wang.fang "$TID"
y 4 "a revoked token exits 4 at once" whoami

# A booking reads the same however it is fetched: the 201, GET by id and
# the list item are one writer's bytes (daemon/api-reservations.c).
api POST /api/v1/reservations "{\"instrument\":\"HC-ICPMS-01\",\"start\":\"$(day 3)T17:00:00+08:00\",\"duration\":\"PT1H\",\"purpose\":\"tab\\t quote\\\" \\u4e2d\"}"
is "an admin books for themself" "$STATUS" 201
cp "$T/body" "$T/created"
BA=$(jq -r .id "$T/created")
api GET "/api/v1/reservations/$BA"
check "GET by id answers the 201's bytes" cmp -s "$T/body" "$T/created"
api GET "/api/v1/reservations?instrument=HC-ICPMS-01&limit=500"
is "the list item is the same booking" "$(jq -c ".items[] | select(.id == $BA)" "$T/body")" "$(jq -c . "$T/created")"
is "the purpose kept its tab, quote and CJK" "$(jq -r .purpose "$T/created")" "$(printf 'tab\t quote" \344\270\255')"

check "yiqid stops cleanly" stop_daemon
done_testing
