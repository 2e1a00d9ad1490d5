# tests/e2e/lib.sh: shared by the end-to-end tests (sourced, not run).
#
# Gives each test a temporary directory, TAP output (ok/not_ok/check,
# plan printed at the end), a real yiqid started on 127.0.0.1 with a free
# port and a fresh database (start_daemon/stop_daemon, stopped by PID),
# an admin token, and small helpers to call the API with curl for set-up.
# The tests drive the real client, $YIQI, for what they test.

set -u

: "${YIQI:?YIQI must name the client binary}"
: "${YIQID:?YIQID must name the daemon binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/yiqi-e2e.XXXXXX")
HOME=$T/home
XDG_CONFIG_HOME=$T/home/.config
export HOME XDG_CONFIG_HOME
unset YIQI_SERVER YIQI_TOKEN YIQI_TIMEZONE
mkdir -p "$HOME"
DB=$T/yiqi.db
DPID=
TAP_N=0
TAP_FAILED=0

# Tests write to the database behind the daemon's back with the sqlite3
# shell; wait for the daemon's write lock (its timer writes every second)
# rather than fail with "database is locked" and lose the write.
sqlite3() {
	command sqlite3 -cmd '.timeout 10000' "$@"
}

cleanup() {
	if [ -n "$DPID" ]; then
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

# y WANT DESCRIPTION ARGS...: run yiqi, check its exit status; the output
# is in $T/out and $T/err.
y() {
	want=$1
	desc=$2
	shift 2
	"$YIQI" "$@" > "$T/out" 2> "$T/err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$desc (exit $want)"
	else
		not_ok "$desc: exit $rc, want $want"
		diag "stdout: $(head -c 400 "$T/out")"
		diag "stderr: $(cat "$T/err")"
	fi
}

# new_token LOGIN: create an API token for LOGIN (as the admin) and print
# it.
new_token() {
	TOKEN= api POST "/api/v1/users/$1/tokens" '{}'
	jq -r .token "$T/body"
}

ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $*"
}

not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $*"
}

# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# is DESCRIPTION GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got:  '$2'"
		echo "#   want: '$3'"
	fi
}

diag() {
	echo "# $*"
}

# Print the plan and exit with the right status; the daemon log goes to
# the TAP diagnostics when something failed.
done_testing() {
	if [ "$TAP_FAILED" -gt 0 ] && [ -f "$T/yiqid.log" ]; then
		tail -40 "$T/yiqid.log" | sed 's/^/# yiqid: /'
	fi
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
	exit $?
}

# Initialise $DB and set ADMIN_TOKEN.
init_db() {
	ADMIN_TOKEN=$("$YIQID" init -d "$DB" 2>>"$T/yiqid.log")
}

# Start yiqid on a free port; sets DPID, PORT, SERVER.
start_daemon() {
	: > "$T/yiqid.log.new"
	"$YIQID" -f -d "$DB" -l 127.0.0.1:0 "$@" 2>"$T/yiqid.log.new" &
	DPID=$!
	PORT=
	i=0
	while [ $i -lt 600 ]; do
		PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
		    "$T/yiqid.log.new" | head -1)
		if [ -n "$PORT" ] && grep -q "serving" "$T/yiqid.log.new"; then
			break
		fi
		if ! kill -0 "$DPID" 2>/dev/null; then
			break
		fi
		sleep 0.05
		i=$((i + 1))
	done
	cat "$T/yiqid.log.new" >> "$T/yiqid.log"
	if [ -z "$PORT" ] || ! kill -0 "$DPID" 2>/dev/null; then
		diag "yiqid did not start"
		sed 's/^/# /' "$T/yiqid.log.new"
		return 1
	fi
	SERVER=http://127.0.0.1:$PORT
	export YIQI_SERVER=$SERVER
	return 0
}

# Stop yiqid with SIGTERM; returns its exit status (non-zero on a leak
# under the sanitizers).
stop_daemon() {
	kill -TERM "$DPID"
	wait "$DPID"
	rc=$?
	DPID=
	cat "$T/yiqid.log.new" >> "$T/yiqid.log" 2>/dev/null
	[ $rc -eq 0 ] || diag "yiqid exited with status $rc"
	return $rc
}

# api METHOD PATH [BODY]: call the API as $TOKEN (default the admin);
# the body goes to $T/body and the status to $STATUS.
api() {
	if [ $# -ge 3 ]; then
		STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$1" \
		    -H "Authorization: Bearer ${TOKEN:-$ADMIN_TOKEN}" \
		    -H 'Content-Type: application/json' --data-binary "$3" \
		    "$SERVER$2")
	else
		STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$1" \
		    -H "Authorization: Bearer ${TOKEN:-$ADMIN_TOKEN}" "$SERVER$2")
	fi
}

# api_bg PATH OUT: GET PATH as $TOKEN (default the admin) in the
# background, the status into OUT and the body into OUT.body; BGPID is
# curl's PID.
api_bg() {
	curl -s -o "$2.body" -w '%{http_code}' \
	    -H "Authorization: Bearer ${TOKEN:-$ADMIN_TOKEN}" "$SERVER$1" > "$2" &
	BGPID=$!
}

# book_meanwhile PID WHAT INSTRUMENT START DURATION: book as the member
# while the background request PID (WHAT, e.g. "a find is searched") is
# still being answered: the booking must be answered 201 with PID still
# running; then wait for PID.
book_meanwhile() {
	TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations \
	    "{\"instrument\":\"$3\",\"start\":\"$4\",\"duration\":\"$5\"}"
	is "a booking while $2: 201" "$STATUS" 201
	check "... answered while $2" kill -0 "$1"
	wait "$1"
}

# hang_up PID SECONDS: the client of the background request PID leaves
# after SECONDS (its curl is killed and reaped).
hang_up() {
	sleep "$2"
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# log_waits PATTERN: wait up to 2 s for a line matching PATTERN in the
# running daemon's log; fails if none came.
log_waits() {
	i=0
	while [ $i -lt 40 ] && ! grep -q "$1" "$T/yiqid.log.new"; do
		sleep 0.05
		i=$((i + 1))
	done
	grep -q "$1" "$T/yiqid.log.new"
}

# A date N days from today in Asia/Shanghai, as YYYY-MM-DD.
day() {
	TZ=Asia/Shanghai date -d "+$1 days" +%F
}

# seed_bookings N LOGIN FIRST STEP LENGTH: N confirmed bookings of LOGIN
# on ICPMS-1 (setup_basic), written straight into $DB while the daemon is
# stopped: the x-th (from 0) starts at FIRST + x * STEP and lasts LENGTH
# seconds; uid seed-x@test, purpose "seeded purpose x", project P-x.
seed_bookings() {
	sqlite3 "$DB" "WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1
	    FROM k WHERE x < $1 - 1) INSERT INTO reservations (uid, instrument_id,
	    user_id, institute_id, start, \"end\", status, purpose, project,
	    created, updated, created_by) SELECT 'seed-' || x || '@test', i.id,
	    u.id, u.institute_id, $3 + x * $4, $3 + x * $4 + $5, 'confirmed',
	    'seeded purpose ' || x, 'P-' || x, unixepoch(), unixepoch(), u.id
	    FROM k,
	    (SELECT id FROM instruments WHERE code = 'ICPMS-1') i,
	    (SELECT id, institute_id FROM users WHERE login = '$2') u"
}

# Create a site, an institute, an instrument (24/7, 30-minute grid,
# optional buffer) and a member with a token (MEMBER_TOKEN).
setup_basic() {
	api POST /api/v1/sites '{"code":"HC-HTZ","name":"Hechuan Hi-tech Industrial Development Zone","district":"hechuan"}'
	api POST /api/v1/institutes '{"code":"CQU","name":"Chongqing University","district":"hechuan"}'
	api POST /api/v1/institutes '{"code":"SECRET","name":"Secret Pharma","district":"wusheng","private":true}'
	api POST /api/v1/instruments '{"code":"ICPMS-1","name":"ICP-MS","category":"mass-spectrometry","site":"HC-HTZ","owner":"CQU"}'
	api POST /api/v1/users '{"login":"wang","name":"Wang Fang","institute":"CQU"}'
	api POST /api/v1/users/wang/tokens '{}'
	MEMBER_TOKEN=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$T/body")
	[ -n "$MEMBER_TOKEN" ]
}
