#!/bin/sh
# workflow.sh: the booking workflow of issue 4 against a real yiqid:
# approvals (and who may give them), check-in and check-out, the no-show
# timer with a short grace period, late cancellations, qualifications
# (granted, expired, revoked, by the right manager only) and recurring
# bookings (all or nothing, skip_conflicts, a month end in Asia/Shanghai,
# cancelling one occurrence or the rest of the series).

. "$top_srcdir/tests/e2e/lib.sh"

cat > "$T/yiqid.conf" <<CONF
noshow_grace = 40
timer_interval = 1
late_cancel_hours = 24
CONF
init_db
start_daemon -c "$T/yiqid.conf" || { not_ok "yiqid starts"; done_testing; }
Y=$YIQI

# at EPOCH: that time as the client reads it, in Asia/Shanghai.
at() {
	TZ=Asia/Shanghai date -d "@$1" '+%F %H:%M'
}

# Set-up: one site, two institutes, instruments, a manager for each of two
# instruments, and two members.
api POST /api/v1/sites '{"code":"HC-HTZ","name":"Hechuan Hi-tech Zone","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"CQU","name":"Chongqing University","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"HCF","name":"Hechuan Food Testing","district":"hechuan"}'
api POST /api/v1/instruments '{"code":"SEM-1","name":"SEM","category":"electron-microscopy","site":"HC-HTZ","owner":"CQU","rules":{"requires_approval":true}}'
is "an approval instrument is created" "$STATUS" 201
api POST /api/v1/instruments '{"code":"XRD-1","name":"XRD","category":"xrd","site":"HC-HTZ","owner":"CQU"}'
api POST /api/v1/instruments '{"code":"NMR-1","name":"NMR 400","category":"nmr","site":"HC-HTZ","owner":"CQU","rules":{"requires_qualification":true}}'
api POST /api/v1/instruments '{"code":"NMR-2","name":"NMR 600","category":"nmr","site":"HC-HTZ","owner":"CQU","rules":{"requires_qualification":true}}'
is "a qualification instrument is created" "$STATUS" 201
api POST /api/v1/users '{"login":"liu","name":"Liu Yang","institute":"CQU","role":"manager","manages":["SEM-1","NMR-1"]}'
api POST /api/v1/users '{"login":"chen","name":"Chen Jie","institute":"CQU","role":"manager","manages":["XRD-1"]}'
api POST /api/v1/users '{"login":"wang","name":"Wang Fang","institute":"CQU"}'
api POST /api/v1/users '{"login":"li","name":"Li Jun","institute":"HCF"}'
is "users are created" "$STATUS" 201
LIU=$(new_token liu)
CHEN=$(new_token chen)
WANG=$(new_token wang)
LI=$(new_token li)
D3=$(day 3)
D4=$(day 4)

# --- Approvals -----------------------------------------------------------
y 0 "a member books an approval instrument" --token "$WANG" --json book SEM-1 --start "$D3 09:00" --duration 2h --purpose "grain size"
P1=$(jq -r .id "$T/out")
is "the booking is pending" "$(jq -r .status "$T/out")" pending
y 3 "a pending booking holds its slot" --token "$LI" book SEM-1 --start "$D3 10:00" --duration 1h
y 0 "the member sees it among their pending ones" --token "$WANG" --json list --mine --status pending
is "one pending booking for wang" "$(jq -r '.items | length' "$T/out")" 1
y 0 "the manager lists what waits for them" --token "$LIU" --json list --managed --status pending
is "the manager sees the pending booking in full" "$(jq -r '.items[0].id,.items[0].user' "$T/out" | tr '\n' ' ')" "$P1 wang "
y 0 "another manager's list of what waits is empty" --token "$CHEN" --json list --managed --status pending
is "chen manages nothing pending" "$(jq -r '.items | length' "$T/out")" 0
y 4 "a member cannot approve" --token "$LI" approve "$P1"
y 4 "the owner cannot approve their own booking" --token "$WANG" approve "$P1"
y 4 "a manager of another instrument cannot approve" --token "$CHEN" approve "$P1"
y 0 "the instrument's manager approves" --token "$LIU" --json approve "$P1"
is "the booking is confirmed" "$(jq -r .status "$T/out")" confirmed
is "approval bumps the sequence" "$(jq -r .sequence "$T/out")" 1
y 6 "a confirmed booking cannot be approved again" --token "$LIU" approve "$P1"
y 0 "a second booking, pending" --token "$LI" --json book SEM-1 --start "$D3 13:00" --duration 1h
P2=$(jq -r .id "$T/out")
y 4 "a manager of another instrument cannot reject" --token "$CHEN" reject "$P2" --reason "no"
y 0 "an admin rejects with a reason" --token "$ADMIN_TOKEN" --json reject "$P2" --reason "sample not declared"
is "rejected, with the reason" "$(jq -r '.status + "/" + .cancel_reason' "$T/out")" "rejected/sample not declared"
y 0 "a rejected booking no longer holds its slot" --token "$WANG" --json book SEM-1 --start "$D3 13:00" --duration 1h
is "the freed slot is booked (pending)" "$(jq -r .status "$T/out")" pending
TOKEN=$LIU api POST "/api/v1/reservations/$P1/approve" '{"reason":"x"}'
is "approve takes no reason (400)" "$STATUS" 400
TOKEN=$LIU api POST /api/v1/reservations/999999/approve
is "approving an unknown booking is 404" "$STATUS" 404
n=$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action IN ('reservation.approve','reservation.reject')")
is "approval and rejection are audited" "$n" 2

# --- Check-in, check-out, no-show ---------------------------------------
y 0 "book XRD-1 in three days" --token "$WANG" --json book XRD-1 --start "$D3 09:00" --duration 1h
X1=$(jq -r .id "$T/out")
y 6 "check-in is refused long before the start" --token "$WANG" checkin "$X1"
check "the refusal names the window" grep -q "minutes before" "$T/err"
# Bookings in the past (and just now) can only be made behind the daemon's back.
# ci@test starts on the last grid point (up to 30 min ago), so the grace
# (40 min) must outlast it; ns@test started 50 min ago and is a no-show.
NOW=$(date +%s)
# It started 30 s ago: inside the 1-minute grace, so the timer leaves it.
S0=$((NOW - 30))
sqlite3 "$DB" "INSERT INTO reservations (uid, instrument_id, user_id, institute_id, start, \"end\", status, created, updated, created_by)
SELECT 'ci@test', i.id, u.id, u.institute_id, $S0, $S0 + 7200, 'confirmed', $NOW, $NOW, u.id FROM instruments i, users u WHERE i.code = 'XRD-1' AND u.login = 'wang';
INSERT INTO reservations (uid, instrument_id, user_id, institute_id, start, \"end\", status, created, updated, created_by)
SELECT 'ns@test', i.id, u.id, u.institute_id, $NOW - 3000, $NOW + 7200, 'confirmed', $NOW, $NOW, u.id FROM instruments i, users u WHERE i.code = 'NMR-2' AND u.login = 'li';"
CI=$(sqlite3 "$DB" "SELECT id FROM reservations WHERE uid = 'ci@test'")
NS=$(sqlite3 "$DB" "SELECT id FROM reservations WHERE uid = 'ns@test'")
y 4 "another member cannot check in someone's booking" --token "$LI" checkin "$CI"
y 6 "check-out before check-in is refused" --token "$WANG" checkout "$CI"
y 0 "the owner checks in" --token "$WANG" --json checkin "$CI"
is "checked_in is recorded" "$(jq -r '.checked_in != null' "$T/out")" true
y 6 "a second check-in is refused" --token "$WANG" checkin "$CI"
y 0 "a manager of the instrument checks out" --token "$CHEN" --json checkout "$CI"
is "checked out: completed" "$(jq -r .status "$T/out")" completed
END=$(jq -r .end "$T/out")
ENDS=$(date -d "$END" +%s)
check "an early check-out ends the booking on the next grid point" [ "$ENDS" -ge "$NOW" ] && [ "$ENDS" -lt $((NOW + 1801)) ] && [ $((ENDS % 1800)) -eq 0 ]
i=0
while [ $i -lt 100 ]; do
	st=$(sqlite3 "$DB" "SELECT status FROM reservations WHERE id = $NS")
	[ "$st" = no_show ] && break
	sleep 0.1
	i=$((i + 1))
done
is "the timer marks a booking not checked in within the grace as no_show" "$st" no_show
is "the checked-in booking is not a no-show" "$(sqlite3 "$DB" "SELECT status FROM reservations WHERE id = $CI")" completed
is "checking out after using far less than booked is an underuse violation" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM violations WHERE reservation_id = $CI AND kind = 'underuse'")" 1
# Used 90 of 120 minutes: not a violation.
sqlite3 "$DB" "INSERT INTO reservations (uid, instrument_id, user_id, institute_id, start, \"end\", status, created, updated, created_by, checked_in)
SELECT 'used@test', i.id, u.id, u.institute_id, $NOW - 5400, $NOW + 1800, 'confirmed', $NOW, $NOW, u.id, $NOW - 5400 FROM instruments i, users u WHERE i.code = 'NMR-2' AND u.login = 'wang';"
USED=$(sqlite3 "$DB" "SELECT id FROM reservations WHERE uid = 'used@test'")
y 0 "checking out after most of the booking" --token "$WANG" checkout "$USED"
is "using most of the booking is no violation" \
    "$(sqlite3 "$DB" "SELECT count(*) FROM violations WHERE reservation_id = $USED")" 0
is "the no-show is audited by the daemon" "$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action = 'reservation.no_show' AND object_id = '$NS' AND user_id IS NULL")" 1
is "a future booking is untouched" "$(sqlite3 "$DB" "SELECT status FROM reservations WHERE id = $X1")" confirmed
y 0 "the rest of a no-show's slot can be booked again" --token "$ADMIN_TOKEN" --json book NMR-2 --start "$(at $(( (NOW / 1800 + 1) * 1800 )))" --duration 30m
if [ "$(cat "$T/out" | jq -r .status 2>/dev/null)" != confirmed ]; then diag "$(cat "$T/err")"; fi

# --- Late cancellation ----------------------------------------------------
y 0 "book XRD-1 tomorrow-ish (within 24 h)" --token "$WANG" --json book XRD-1 --start "$(at $(( (NOW / 1800 + 4) * 1800 )))" --duration 1h
L1=$(jq -r .id "$T/out")
y 0 "cancel it" --token "$WANG" --json cancel "$L1" --reason "sample broke"
is "a cancellation within 24 h is late" "$(jq -r .late_cancellation "$T/out")" true
y 0 "cancel the booking three days ahead" --token "$WANG" --json cancel "$X1"
is "a cancellation days ahead is not late" "$(jq -r .late_cancellation "$T/out")" false
y 6 "a past booking cannot be cancelled" --token "$WANG" cancel "$CI"

# --- Qualifications -----------------------------------------------------
TOKEN=$WANG api POST /api/v1/reservations "{\"instrument\":\"NMR-1\",\"start\":\"${D4}T09:00:00+08:00\",\"duration\":\"PT1H\"}"
is "booking without a qualification is 403" "$STATUS" 403
is "the 403 names the rule" "$(jq -r .error.rule "$T/body")" qualification
check "the 403 names the instrument and category" grep -q "NMR-1.*nmr" "$T/body"
y 4 "the client exits 4 on a missing qualification" --token "$WANG" book NMR-1 --start "$D4 09:00" --duration 1h
y 4 "a member cannot qualify anyone" --token "$LI" admin qualify wang --instrument NMR-1
y 4 "a manager of another instrument cannot qualify on NMR-1" --token "$CHEN" admin qualify wang --instrument NMR-1
y 4 "nor on a category they manage nothing of" --token "$CHEN" admin qualify wang --category nmr
y 0 "NMR-1's manager qualifies wang on it, with an expiry in the past" --token "$LIU" --json admin qualify wang --instrument NMR-1 --until 2020-01-31
is "an expired qualification is not valid" "$(jq -r .valid "$T/out")" false
TOKEN=$WANG api POST /api/v1/reservations "{\"instrument\":\"NMR-1\",\"start\":\"${D4}T09:00:00+08:00\",\"duration\":\"PT1H\"}"
is "an expired qualification does not let one book (403)" "$STATUS" 403
check "the 403 says when it ran out" grep -q "2020-01-31" "$T/body"
y 0 "the manager renews it" --token "$LIU" --json admin qualify wang --instrument NMR-1 --until "$(day 30)"
is "renewed and valid" "$(jq -r .valid "$T/out")" true
y 0 "now wang books NMR-1" --token "$WANG" book NMR-1 --start "$D4 09:00" --duration 1h
y 4 "but not NMR-2 (another instrument of the category)" --token "$WANG" book NMR-2 --start "$D4 09:00" --duration 1h
y 0 "a manager of an nmr instrument qualifies li on the whole category" --token "$LIU" admin qualify li --category nmr
y 0 "li books NMR-2 by the category" --token "$LI" book NMR-2 --start "$D4 11:00" --duration 1h
y 0 "a member lists their qualifications" --token "$LI" --json admin qualifications
is "li sees only their own" "$(jq -r '[.items[].user] | unique | join(",")' "$T/out")" li
TOKEN=$LI api GET '/api/v1/qualifications?user=wang'
is "a member cannot list another's qualifications" "$STATUS" 403
y 0 "admin lists wang's qualifications" --token "$ADMIN_TOKEN" --json admin qualifications --user wang
is "wang holds one" "$(jq -r '.items | length' "$T/out")" 1
y 4 "chen cannot revoke li's category qualification" --token "$CHEN" admin unqualify li --category nmr
y 0 "liu revokes it" --token "$LIU" admin unqualify li --category nmr
y 4 "li can no longer book NMR-2" --token "$LI" book NMR-2 --start "$D4 13:00" --duration 1h
y 5 "revoking what is not there is 404" --token "$LIU" admin unqualify li --category nmr
TOKEN=$LIU api POST /api/v1/qualifications '{"user":"li","instrument":"NMR-1","category":"nmr"}'
is "instrument and category together are refused (400)" "$STATUS" 400
TOKEN=$LIU api POST /api/v1/qualifications '{"user":"li","instrument":"NMR-1","until":"2026-02-30"}'
is "an impossible date is refused (400 naming until)" "$STATUS/$(jq -r .error.field "$T/body")" "400/until"
n=$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action LIKE 'qualification.%'")
is "grants, renewals and revocations are audited" "$n" 4

# --- Recurring bookings ---------------------------------------------------
# A Monday at least a week ahead, and weekly on it for four weeks.
MON=$(TZ=Asia/Shanghai date -d "$(day 8) -$(( ($(TZ=Asia/Shanghai date -d "$(day 8)" +%u) + 6) % 7 )) days" +%F)
y 0 "a weekly series of four" --token "$WANG" --json book XRD-1 --start "$MON 10:00" --duration 2h --repeat "FREQ=WEEKLY;COUNT=4"
is "four bookings in one series" "$(jq -r '.items | length' "$T/out")/$(jq -r '[.items[].series] | unique | length' "$T/out")" 4/1
S1=$(jq -r .series "$T/out")
is "each keeps the 10:00 local start" "$(jq -r '[.items[].start[11:16]] | unique | join(",")' "$T/out")" 10:00
M3=$(jq -r '.items[2].start' "$T/out")
W2=$(jq -r '.items[1].id' "$T/out")
# Li takes the slot of a daily series' third day; then all-or-nothing fails.
TUE=$(TZ=Asia/Shanghai date -d "$MON +1 day" +%F)
THU=$(TZ=Asia/Shanghai date -d "$MON +3 days" +%F)
y 0 "li books the middle day" --token "$LI" book XRD-1 --start "$THU 14:00" --duration 1h
y 3 "a daily series with one clash in the middle is refused whole" --token "$WANG" --json book XRD-1 --start "$TUE 14:00" --duration 1h --repeat "FREQ=DAILY;COUNT=5"
is "the 409 lists the clashing occurrence" "$(jq -r '.error.occurrences | map(.occurrence) | join(",")' "$T/out")" 3
is "nothing of it was booked" "$(sqlite3 "$DB" "SELECT count(*) FROM reservations r JOIN users u ON u.id = r.user_id WHERE u.login = 'wang' AND r.status = 'confirmed' AND r.instrument_id = (SELECT id FROM instruments WHERE code = 'XRD-1') AND r.start >= strftime('%s', '$TUE 14:00:00', '-8 hours') AND r.start < strftime('%s', '$TUE 14:00:00', '-8 hours', '+5 days')")" 0
y 0 "with --skip-conflicts the free ones are booked" --token "$WANG" --json book XRD-1 --start "$TUE 14:00" --duration 1h --repeat "FREQ=DAILY;COUNT=5" --skip-conflicts
is "four booked, one skipped" "$(jq -r '(.items | length|tostring) + "/" + (.skipped | length|tostring) + "/" + .skipped[0].reason' "$T/out")" 4/1/conflict
S2=$(jq -r .series "$T/out")
y 0 "the client lists the skipped occurrence" --token "$WANG" book XRD-1 --start "$(TZ=Asia/Shanghai date -d "$TUE +7 days" +%F) 14:00" --duration 1h --repeat "FREQ=DAILY;COUNT=3" --skip-conflicts
check "the series output names what was booked" grep -q "Booked series" "$T/out"
# Every occurrence passes every rule: weekly for 20 weeks runs past the
# 90-day advance window.
y 6 "a series reaching past the advance window is a rule failure (422)" --token "$WANG" --json book XRD-1 --start "$MON 18:00" --duration 1h --repeat "FREQ=WEEKLY;COUNT=20"
is "the 422 names the rule and occurrence" "$(jq -r '.error.rule' "$T/out")/$(jq -r '.error.occurrence > 1' "$T/out")" advance_days/true
y 0 "with --skip-conflicts the rule failures are skipped" --token "$WANG" --json book XRD-1 --start "$MON 18:00" --duration 1h --repeat "FREQ=WEEKLY;COUNT=20" --skip-conflicts
is "skipped ones say why" "$(jq -r '[.skipped[].reason] | unique | join(",")' "$T/out")" advance_days
TOKEN=$WANG api POST /api/v1/reservations "{\"instrument\":\"XRD-1\",\"start\":\"${MON}T06:00:00+08:00\",\"duration\":\"PT30M\",\"repeat\":\"FREQ=MINUTELY;INTERVAL=30\"}"
is "more than 100 occurrences is a 422 (series_max)" "$STATUS/$(jq -r .error.rule "$T/body")" 422/series_max
TOKEN=$WANG api POST /api/v1/reservations "{\"instrument\":\"XRD-1\",\"start\":\"${MON}T06:00:00+08:00\",\"duration\":\"PT30M\",\"repeat\":\"FREQ=SOMETIMES\"}"
is "a malformed RRULE is 400 naming repeat" "$STATUS/$(jq -r .error.field "$T/body")" 400/repeat
TOKEN=$WANG api POST /api/v1/reservations "{\"instrument\":\"XRD-1\",\"start\":\"${MON}T06:00:00+08:00\",\"duration\":\"PT30M\",\"skip_conflicts\":true}"
is "skip_conflicts without repeat is 400" "$STATUS" 400
# A series crossing a month end, in the site's zone (Asia/Shanghai).
Y0=$(TZ=Asia/Shanghai date -d "$(day 20)" +%Y)
M0=$(TZ=Asia/Shanghai date -d "$(day 20)" +%m)
LAST=$(TZ=Asia/Shanghai date -d "$Y0-$M0-01 +1 month -1 day" +%F)
FIRST=$(TZ=Asia/Shanghai date -d "$LAST +1 day" +%F)
y 0 "a daily series over a month end, late evening local time" --token "$WANG" --json book XRD-1 --start "$(TZ=Asia/Shanghai date -d "$LAST -1 day" +%F) 23:00" --duration 30m --repeat "FREQ=DAILY;COUNT=3"
is "the occurrences fall on the last two days and the first, at 23:00 +08:00" "$(jq -r '[.items[].start] | join(" ")' "$T/out")" "$(TZ=Asia/Shanghai date -d "$LAST -1 day" +%F)T23:00:00+08:00 ${LAST}T23:00:00+08:00 ${FIRST}T23:00:00+08:00"
# Cancel one occurrence, then the rest of the series.
y 0 "cancel one occurrence" --token "$WANG" --json cancel "$W2"
is "only it is cancelled" "$(sqlite3 "$DB" "SELECT group_concat(status) FROM (SELECT status FROM reservations WHERE series_id = $S1 ORDER BY start)")" "confirmed,cancelled,confirmed,confirmed"
y 4 "another member cannot cancel the series" --token "$LI" cancel "$(sqlite3 "$DB" "SELECT id FROM reservations WHERE series_id = $S1 ORDER BY start LIMIT 1")" --series
y 0 "cancel the rest of the series" --token "$WANG" --json cancel "$(sqlite3 "$DB" "SELECT id FROM reservations WHERE series_id = $S1 ORDER BY start LIMIT 1")" --series
is "three more cancelled" "$(jq -r '.items | length' "$T/out")" 3
is "no occurrence of the series holds a slot" "$(sqlite3 "$DB" "SELECT count(*) FROM reservations WHERE series_id = $S1 AND status IN ('pending','confirmed')")" 0
y 1 "--series on a single booking is refused (400)" --token "$LI" cancel "$(sqlite3 "$DB" "SELECT id FROM reservations WHERE series_id IS NULL AND status = 'confirmed' AND user_id = (SELECT id FROM users WHERE login = 'li') LIMIT 1")" --series
# Approval instruments: a series is pending as a whole.
y 0 "a series on an approval instrument" --token "$WANG" --json book SEM-1 --start "$MON 09:00" --duration 1h --repeat "FREQ=WEEKLY;COUNT=2"
is "its occurrences are pending" "$(jq -r '[.items[].status] | unique | join(",")' "$T/out")" pending
# Move keeps id/uid and bumps the sequence.
SID=$(jq -r '.items[0].id' "$T/out")
UID0=$(jq -r '.items[0].uid' "$T/out")
y 0 "move a pending occurrence" --token "$WANG" --json move "$SID" --start "$MON 11:00"
is "same id and uid, sequence bumped, still pending" "$(jq -r '"\(.id) \(.uid) \(.sequence) \(.status)"' "$T/out")" "$SID $UID0 1 pending"

check "yiqid stops cleanly" stop_daemon
done_testing
