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
CONF
init_db
start_daemon -c "$T/yiqid.conf" || { not_ok "yiqid starts"; done_testing; }
Y=$YIQI

# y WANT DESCRIPTION ARGS...: run yiqi, check the exit status; output in
# $T/out and $T/err.
y() {
	want=$1
	desc=$2
	shift 2
	"$Y" "$@" > "$T/out" 2> "$T/err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$desc (exit $want)"
	else
		not_ok "$desc: exit $rc, want $want"
		diag "stdout: $(head -c 400 "$T/out")"
		diag "stderr: $(cat "$T/err")"
	fi
}

# tok LOGIN: create an API token for LOGIN and print it.
tok() {
	TOKEN= api POST "/api/v1/users/$1/tokens" '{}'
	jq -r .token "$T/body"
}

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
LIU=$(tok liu)
CHEN=$(tok chen)
WANG=$(tok wang)
ZHAO=$(tok zhao)
LI=$(tok li)
HE=$(tok he)

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

#@MORE@

check "yiqid stops cleanly" stop_daemon
done_testing
