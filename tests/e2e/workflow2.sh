#!/bin/sh
# workflow2.sh: the rest of issue 4 against a real yiqid: checked-in
# bookings never checked out are completed by the timer, quotas (per user
# and per institute, per week and per month, a series crossing the cap, a
# move), home priority (inside and outside the window, home and away users,
# institute and district scope), violations and suspensions (three no-shows
# with a short window; lifted by an admin) and faults (a high fault blocks
# new bookings until resolved).

. "$top_srcdir/tests/e2e/lib.sh"

cat > "$T/yiqid.conf" <<CONF
noshow_grace = 1
timer_interval = 1
late_cancel_hours = 24
violation_limit = 3
violation_window_days = 1
suspension_days = 2
CONF
init_db
start_daemon -c "$T/yiqid.conf" || { not_ok "yiqid starts"; done_testing; }
Y=$YIQI

# wait_for SQL WANT: poll the database until SQL answers WANT (10 s).
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		got=$(sqlite3 "$DB" "$1")
		[ "$got" = "$2" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	printf '%s' "$got"
}

# past INSTRUMENT LOGIN START END STATUS [CHECKED_IN]: insert a booking
# behind the daemon's back (the API refuses the past); prints its id.
past() {
	sqlite3 "$DB" "INSERT INTO reservations (uid, instrument_id, user_id, institute_id, start, \"end\", status, created, updated, created_by, checked_in)
SELECT 'p$3$1@test', i.id, u.id, u.institute_id, $3, $4, '$5', $3, $3, u.id, ${6:-NULL} FROM instruments i, users u WHERE i.code = '$1' AND u.login = '$2';
SELECT last_insert_rowid();"
}

api POST /api/v1/sites '{"code":"HC-HTZ","name":"Hechuan Hi-tech Zone","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"CQU","name":"Chongqing University","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"HCF","name":"Hechuan Food Testing","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"WSU","name":"Wusheng University","district":"wusheng"}'
api POST /api/v1/instruments '{"code":"XRD-1","name":"XRD","category":"xrd","site":"HC-HTZ","owner":"CQU"}'
api POST /api/v1/instruments '{"code":"XRD-2","name":"XRD 2","category":"xrd","site":"HC-HTZ","owner":"CQU"}'
api POST /api/v1/instruments '{"code":"SEM-1","name":"SEM","category":"electron-microscopy","site":"HC-HTZ","owner":"CQU"}'
is "instruments are created" "$STATUS" 201
api POST /api/v1/users '{"login":"liu","name":"Liu Yang","institute":"CQU","role":"manager","manages":["XRD-1","XRD-2"]}'
api POST /api/v1/users '{"login":"chen","name":"Chen Jie","institute":"CQU","role":"manager","manages":["SEM-1"]}'
api POST /api/v1/users '{"login":"wang","name":"Wang Fang","institute":"CQU"}'
api POST /api/v1/users '{"login":"zhao","name":"Zhao Lei","institute":"CQU"}'
api POST /api/v1/users '{"login":"li","name":"Li Jun","institute":"HCF"}'
api POST /api/v1/users '{"login":"he","name":"He Min","institute":"WSU"}'
is "users are created" "$STATUS" 201
LIU=$(new_token liu)
CHEN=$(new_token chen)
WANG=$(new_token wang)
ZHAO=$(new_token zhao)
LI=$(new_token li)
HE=$(new_token he)

# --- Checked in, never checked out ---------------------------------------
NOW=$(date +%s)
S0=$(( (NOW / 1800) * 1800 - 7200 ))
OV=$(past SEM-1 wang $S0 $((S0 + 3600)) confirmed $((S0 + 60)))
LIVE=$(past SEM-1 wang $((S0 + 3600)) $((NOW + 7200)) confirmed $((S0 + 3660)))
is "the timer completes a checked-in booking past its end" \
    "$(wait_for "SELECT status FROM reservations WHERE id = $OV" completed)" completed
is "checked_out is its end" "$(sqlite3 "$DB" "SELECT checked_out = \"end\" FROM reservations WHERE id = $OV")" 1
is "the completion is audited by the daemon" "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action = 'reservation.complete' AND object_id = '$OV' AND user_id IS NULL")" 1
is "a checked-in booking still running is untouched" "$(sqlite3 "$DB" "SELECT status FROM reservations WHERE id = $LIVE")" confirmed
is "a checked-in booking is not a no-show" "$(sqlite3 "$DB" "SELECT count(*) FROM reservations WHERE status = 'no_show'")" 0

# --- Quotas ---------------------------------------------------------------
# MON: a Monday at least a week ahead; M1: the 1st of next month.
MON=$(TZ=Asia/Shanghai date -d "next monday +7 days" +%F)
TUE=$(TZ=Asia/Shanghai date -d "$MON +1 day" +%F)
WED=$(TZ=Asia/Shanghai date -d "$MON +2 days" +%F)
MON2=$(TZ=Asia/Shanghai date -d "$MON +7 days" +%F)
SUN=$(TZ=Asia/Shanghai date -d "$MON -1 day" +%F)
y 0 "a manager adds a weekly hours quota per user on their instrument" --token "$LIU" --json admin quota add --instrument XRD-1 --per user --period week --max-hours 4
QU=$(jq -r .id "$T/out")
is "the quota is returned" "$(jq -r '.instrument + " " + .per + " " + .period + " " + (.max_hours|tostring)' "$T/out")" "XRD-1 user week 4"
y 4 "a member cannot add a quota" --token "$LI" admin quota add --instrument XRD-1 --per user --period week --max-hours 1
y 4 "a manager of another instrument cannot add one" --token "$CHEN" admin quota add --instrument XRD-1 --per user --period week --max-hours 1
TOKEN=$LIU api POST /api/v1/quotas '{"instrument":"XRD-1","per":"lab","period":"week","max_hours":1}'
is "per must be user or institute (400)" "$STATUS/$(jq -r .error.field "$T/body")" 400/per
TOKEN=$LIU api POST /api/v1/quotas '{"instrument":"XRD-1","per":"user","period":"week","max_hours":1,"max_bookings":1}'
is "hours and bookings together are refused (400)" "$STATUS" 400
TOKEN=$LIU api POST /api/v1/quotas '{"instrument":"XRD-1","per":"user","period":"year","max_hours":1}'
is "period must be week or month (400)" "$STATUS/$(jq -r .error.field "$T/body")" 400/period
y 0 "a member lists the quotas" --token "$WANG" admin quotas
check "the list shows the cap" grep -q "4 h" "$T/out"
y 0 "3 h on Monday is under the cap" --token "$WANG" --json book XRD-1 --start "$MON 09:00" --duration 3h
Q1=$(jq -r .id "$T/out")
y 0 "a booking on the Sunday before counts in the week before" --token "$WANG" book XRD-1 --start "$SUN 09:00" --duration 3h
y 6 "2 h more in the same week is over the cap" --token "$WANG" book XRD-1 --start "$TUE 10:00" --duration 2h
check "the refusal names the quota and what is left" grep -q "quota #$QU.*1h00m left" "$T/err"
TOKEN=$WANG api POST /api/v1/reservations "{\"instrument\":\"XRD-1\",\"start\":\"${TUE}T10:00:00+08:00\",\"duration\":\"PT2H\"}"
is "the API answers 422 rule quota with the hours left" "$STATUS $(jq -r '.error.rule + " " + (.error.quota|tostring) + " " + (.error.left_hours|tostring)' "$T/body")" "422 quota $QU 1"
y 0 "1 h fits exactly" --token "$WANG" --json book XRD-1 --start "$TUE 10:00" --duration 1h
Q2=$(jq -r .id "$T/out")
y 0 "the next week starts afresh" --token "$WANG" book XRD-1 --start "$MON2 09:00" --duration 3h
y 0 "another user of the same institute has their own cap" --token "$ZHAO" book XRD-1 --start "$WED 09:00" --duration 4h
y 6 "moving the 1 h booking to 2 h goes over" --token "$WANG" move "$Q2" --start "$TUE 10:00" --duration 2h
y 0 "moving it at the same length is fine (it is not counted twice)" --token "$WANG" move "$Q2" --start "$TUE 14:00"
y 0 "a cancelled booking no longer counts" --token "$WANG" cancel "$Q1"
y 0 "so 2 h fit again (3 h used, 1 h left)" --token "$WANG" book XRD-1 --start "$WED 14:00" --duration 2h
# Two bookings at once with 1 h left: the check is inside the write
# transaction, so exactly one gets through.
TOKEN=$ZHAO api POST /api/v1/quotas '{"instrument":"XRD-1","per":"user","period":"week","max_hours":1}'
is "a member cannot add a quota through the API either" "$STATUS" 403
for h in 18 20; do
	curl -s -o "$T/race$h" -w '%{http_code}\n' -X POST -H "Authorization: Bearer $WANG" \
	    -H 'Content-Type: application/json' --data-binary \
	    "{\"instrument\":\"XRD-1\",\"start\":\"${MON}T$h:00:00+08:00\",\"duration\":\"PT1H\"}" \
	    "$SERVER/api/v1/reservations" > "$T/race$h.code" &
	eval "RACE$h=\$!"
done
wait "$RACE18" "$RACE20"
is "of two concurrent bookings squeezing under the cap exactly one is made" "$(cat "$T/race18.code" "$T/race20.code" | sort | tr '\n' ' ')" "201 422 "
y 4 "a member cannot remove the quota" --token "$LI" admin quota rm "$QU"
y 4 "nor a manager of another instrument" --token "$CHEN" admin quota rm "$QU"
y 0 "a manager removes the quota" --token "$LIU" admin quota rm "$QU"
y 5 "removing it twice is 404" --token "$LIU" admin quota rm "$QU"
y 0 "without it wang books more" --token "$WANG" book XRD-1 --start "$TUE 16:00" --duration 4h
is "quotas are audited" "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action IN ('quota.create','quota.delete')")" 2

# Per institute, per month, on a category: two bookings a month for all of HCF.
M1=$(TZ=Asia/Shanghai date -d "$(TZ=Asia/Shanghai date +%Y-%m-01) +1 month" +%F)
M1L=$(TZ=Asia/Shanghai date -d "$M1 -1 day" +%F)
y 0 "a category quota per institute per month" --token "$LIU" --json admin quota add --category xrd --per institute --period month --max-bookings 2
QC=$(jq -r .id "$T/out")
y 0 "HCF's first booking of the month" --token "$LI" book XRD-1 --start "$M1 10:00" --duration 1h
y 0 "its second, on another instrument of the category" --token "$LI" book XRD-2 --start "$(TZ=Asia/Shanghai date -d "$M1 +3 days" +%F) 10:00" --duration 1h
TOKEN=$LI api POST /api/v1/reservations "{\"instrument\":\"XRD-2\",\"start\":\"$(TZ=Asia/Shanghai date -d "$M1 +9 days" +%F)T10:00:00+08:00\",\"duration\":\"PT1H\"}"
is "a third in the month is over the institute's quota" "$STATUS $(jq -r '.error.rule + " " + (.error.left_bookings|tostring)' "$T/body")" "422 quota 0"
y 0 "the last day of the month before is another month" --token "$LI" book XRD-2 --start "$M1L 23:00" --duration 1h
y 0 "another institute's member is not counted with HCF" --token "$HE" book XRD-2 --start "$(TZ=Asia/Shanghai date -d "$M1 +9 days" +%F) 10:00" --duration 1h
TOKEN=$LIU api DELETE "/api/v1/quotas/$QC"
is "the category quota is removed" "$STATUS" 204

# A series crossing the cap: three SEM bookings a week per user.
y 0 "a weekly bookings quota on SEM-1" --token "$CHEN" admin quota add --instrument SEM-1 --per user --period week --max-bookings 3
y 6 "a daily series of five is over the cap at its fourth" --token "$HE" --json book SEM-1 --start "$MON 09:00" --duration 1h --repeat "FREQ=DAILY;COUNT=5"
TOKEN=$HE api POST /api/v1/reservations "{\"instrument\":\"SEM-1\",\"start\":\"${MON}T09:00:00+08:00\",\"duration\":\"PT1H\",\"repeat\":\"FREQ=DAILY;COUNT=5\"}"
is "the refusal names the quota and the occurrence" "$STATUS $(jq -r '.error.rule + " " + (.error.occurrence|tostring)' "$T/body")" "422 quota 4"
is "nothing of it was booked" "$(sqlite3 "$DB" "SELECT count(*) FROM reservations WHERE user_id = (SELECT id FROM users WHERE login = 'he') AND instrument_id = (SELECT id FROM instruments WHERE code = 'SEM-1')")" 0
y 0 "with --skip-conflicts the first three are booked" --token "$HE" --json book SEM-1 --start "$MON 09:00" --duration 1h --repeat "FREQ=DAILY;COUNT=5" --skip-conflicts
is "three booked, two skipped for the quota" "$(jq -r '(.items|length|tostring) + "/" + (.skipped|length|tostring) + "/" + .skipped[0].reason' "$T/out")" 3/2/quota

# --- Home priority --------------------------------------------------------
y 0 "a manager sets a 14-day priority window" --token "$CHEN" --json admin instruments set SEM-1 --priority-days 14
is "the rules show it, scope institute by default" "$(jq -r '.rules.priority_days|tostring' "$T/out") $(jq -r .rules.priority_scope "$T/out")" "14 institute"
D20=$(day 20)
D10=$(day 10)
TOKEN=$LI api POST /api/v1/reservations "{\"instrument\":\"SEM-1\",\"start\":\"${D20}T09:00:00+08:00\",\"duration\":\"PT1H\"}"
is "an away user is refused a slot 20 days ahead (422 priority)" "$STATUS $(jq -r .error.rule "$T/body")" "422 priority"
is "the refusal says from when" "$(jq -r .error.from "$T/body" | cut -c1-16)" "$(TZ=Asia/Shanghai date -d "@$(( $(TZ=Asia/Shanghai date -d "$D20 09:00" +%s) - 14 * 86400 ))" +%FT%H:%M)"
y 6 "the client shows it too" --token "$HE" book SEM-1 --start "$D20 11:00" --duration 1h
check "the message says when they may book" grep -q "may book this one from" "$T/err"
y 0 "a home user books 20 days ahead" --token "$ZHAO" book SEM-1 --start "$D20 09:00" --duration 1h
y 0 "an away user books inside the window" --token "$LI" book SEM-1 --start "$D10 06:00" --duration 1h
TOKEN=$CHEN api PATCH /api/v1/instruments/SEM-1 '{"rules":{"priority_scope":"planet"}}'
is "a bad scope is refused (400)" "$STATUS/$(jq -r .error.field "$T/body")" 400/rules.priority_scope
y 0 "the scope becomes the owner's district" --token "$CHEN" admin instruments set SEM-1 --priority-scope district
y 0 "a user of another institute of the district is home now" --token "$LI" book SEM-1 --start "$D20 11:00" --duration 1h
y 6 "a user of the other district is still away" --token "$HE" book SEM-1 --start "$D20 13:00" --duration 1h
y 0 "priority off again" --token "$CHEN" admin instruments set SEM-1 --priority-days 0
y 0 "then anyone books far ahead" --token "$HE" book SEM-1 --start "$D20 13:00" --duration 1h

# --- Violations and suspensions ----------------------------------------------
NOW=$(date +%s)
for k in 1 2 3; do
	past XRD-2 zhao $((NOW - 600 - k * 7200)) $((NOW - k * 7200 + 3600)) confirmed > /dev/null
done
is "three no-shows are violations" "$(wait_for "SELECT count(*) FROM violations v JOIN users u ON u.id = v.user_id WHERE u.login = 'zhao' AND kind = 'no_show'" 3)" 3
is "they suspend the user" "$(wait_for "SELECT count(*) FROM suspensions s JOIN users u ON u.id = s.user_id WHERE u.login = 'zhao'" 1)" 1
TOKEN=$ZHAO api POST /api/v1/reservations "{\"instrument\":\"XRD-2\",\"start\":\"${D10}T15:00:00+08:00\",\"duration\":\"PT1H\"}"
is "a suspended user's booking is refused (403 suspended)" "$STATUS $(jq -r .error.rule "$T/body")" "403 suspended"
UNTIL=$(jq -r .error.until "$T/body")
check "the refusal gives the end date, two days on" [ "$(( $(date -d "$UNTIL" +%s) - NOW ))" -gt $((2 * 86400 - 4 * 7200 - 60)) ]
y 4 "the client exits 4" --token "$ZHAO" book XRD-2 --start "$D10 15:00" --duration 1h
check "and says until when" grep -q "suspended until" "$T/err"
TOKEN=$ZHAO api POST /api/v1/reservations "{\"instrument\":\"XRD-2\",\"start\":\"${D10}T15:00:00+08:00\",\"duration\":\"PT1H\",\"repeat\":\"FREQ=DAILY;COUNT=2\"}"
is "a series is refused with 403 too" "$STATUS $(jq -r .error.rule "$T/body")" "403 suspended"
y 0 "the user sees it in whoami" --token "$ZHAO" --json whoami
is "GET /me has suspended_until" "$(jq -r .suspended_until "$T/out")" "$UNTIL"
y 0 "a manager sees the suspension" --token "$LIU" --json admin suspensions
SU=$(jq -r '.items[] | select(.user == "zhao") | .id' "$T/out")
check "it is listed as active" [ -n "$SU" ]
y 4 "a member cannot see another's suspensions" --token "$LI" admin suspensions --user zhao
y 0 "a member sees their own (none)" --token "$LI" --json admin suspensions
is "none for li" "$(jq -r '.items | length' "$T/out")" 0
y 0 "violations are listed for managers" --token "$LIU" --json admin suspensions --all
TOKEN=$LIU api GET "/api/v1/violations?user=zhao"
is "GET /violations lists the three no-shows" "$STATUS $(jq -r '[.items[].kind] | join(",")' "$T/body")" "200 no_show,no_show,no_show"
y 4 "a manager cannot lift a suspension" --token "$LIU" admin suspension lift "$SU"
y 0 "an admin lifts it" --token "$ADMIN_TOKEN" admin suspension lift "$SU"
y 0 "then the user books again" --token "$ZHAO" book XRD-2 --start "$D10 15:00" --duration 1h
is "whoami no longer shows it" "$(TOKEN=$ZHAO api GET /api/v1/me; jq -r .suspended_until "$T/body")" null
is "suspension and lifting are audited" "$(sqlite3 "$DB" "SELECT group_concat(action) FROM (SELECT action FROM audit WHERE object = 'suspension' ORDER BY id)")" "suspension.create,suspension.lift"
# Old violations outside the window do not count; a late cancellation does.
RID=$(past XRD-2 li $((NOW - 90000)) $((NOW - 86400)) completed)
sqlite3 "$DB" "INSERT INTO violations (user_id, reservation_id, kind, at, evaluated) SELECT u.id, $RID, 'no_show', $NOW - 3 * 86400, 1 FROM users u WHERE u.login = 'li';
INSERT INTO violations (user_id, reservation_id, kind, at, evaluated) SELECT u.id, $RID, 'late_cancellation', $NOW - 2 * 86400, 1 FROM users u WHERE u.login = 'li';"
SOON=$(TZ=Asia/Shanghai date -d "@$(( (NOW / 1800 + 4) * 1800 ))" '+%F %H:%M')
y 0 "li books a slot in two hours" --token "$LI" --json book XRD-2 --start "$SOON" --duration 30m
L1=$(jq -r .id "$T/out")
y 0 "and cancels it late" --token "$LI" cancel "$L1"
is "the late cancellation is a violation" "$(sqlite3 "$DB" "SELECT kind FROM violations WHERE reservation_id = $L1")" late_cancellation
y 0 "with two old ones outside the window li is not suspended" --token "$LI" book XRD-2 --start "$D10 17:00" --duration 1h

# --- Faults ---------------------------------------------------------------
y 0 "a member reports a low fault" --token "$LI" --json fault XRD-2 --severity low --description "fan is noisy"
is "a low fault leaves the instrument active" "$(jq -r .instrument_status "$T/out")" active
y 0 "a member reports a high fault" --token "$LI" --json fault XRD-1 --severity high --description "X-ray tube failed"
F1=$(jq -r .id "$T/out")
is "a high fault puts it in maintenance" "$(jq -r .instrument_status "$T/out")" maintenance
check "the answer lists the affected upcoming bookings" [ "$(jq -r '.affected | length' "$T/out")" -ge 3 ]
is "others' affected bookings are redacted for the reporter" "$(jq -r '[.affected[] | select(.redacted)] | length > 0' "$T/out")" true
y 6 "new bookings are refused" --token "$WANG" book XRD-1 --start "$D10 21:00" --duration 1h
check "naming the status" grep -q "maintenance" "$T/err"
y 0 "a second high fault" --token "$WANG" --json fault XRD-1 --severity high --description "door interlock"
F2=$(jq -r .id "$T/out")
TOKEN=$LIU api GET "/api/v1/faults?instrument=XRD-1&open=true"
is "the manager lists the open faults with the affected bookings in full" "$STATUS $(jq -r '.items | length' "$T/body") $(jq -r '[.items[0].affected[] | select(.redacted)] | length' "$T/body")" "200 2 0"
y 0 "admin faults shows them" --token "$LIU" admin faults --instrument XRD-1
check "with their description" grep -q "X-ray tube failed" "$T/out"
y 4 "a member cannot resolve a fault" --token "$LI" admin fault resolve "$F1"
y 4 "nor a manager of another instrument" --token "$CHEN" admin fault resolve "$F1"
y 0 "the manager resolves the first" --token "$LIU" --json admin fault resolve "$F1" --resolution "tube replaced"
is "another high fault is open: still maintenance" "$(jq -r .instrument_status "$T/out")" maintenance
y 6 "resolving it twice is refused" --token "$LIU" admin fault resolve "$F1"
y 0 "the manager resolves the second" --token "$LIU" --json admin fault resolve "$F2"
is "the instrument is active again" "$(jq -r .instrument_status "$T/out")" active
y 0 "bookings work again" --token "$WANG" book XRD-1 --start "$D10 21:00" --duration 1h
TOKEN=$LI api POST /api/v1/instruments/XRD-1/faults '{"severity":"urgent","description":"x"}'
is "a bad severity is refused (400)" "$STATUS/$(jq -r .error.field "$T/body")" 400/severity
TOKEN=$LI api POST /api/v1/instruments/XRD-1/faults '{"severity":"low","description":"x","colour":"red"}'
is "an unknown field is refused (400)" "$STATUS" 400
TOKEN=$LI api POST /api/v1/instruments/NOPE/faults '{"severity":"low","description":"x"}'
is "an unknown instrument is 404" "$STATUS" 404
api PATCH /api/v1/instruments/SEM-1 '{"status":"maintenance"}'
y 0 "a high fault on an instrument already in maintenance" --token "$LI" --json fault SEM-1 --severity high --description "vacuum leak"
F3=$(jq -r .id "$T/out")
y 0 "resolving it" --token "$CHEN" --json admin fault resolve "$F3"
is "leaves the maintenance an admin set" "$(jq -r .instrument_status "$T/out")" maintenance
is "faults and status changes are audited" "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action IN ('fault.report','fault.resolve','instrument.status')")" 9
TOKEN=$LI api GET "/api/v1/faults?open=maybe"
is "open must be true or false" "$STATUS" 400

check "yiqid stops cleanly" stop_daemon
done_testing
