#!/bin/sh
# audit-walk.sh: the audit log listed in slices of the event loop.
#
# At a million bookings the log holds millions of entries, and a list by
# user, by time or far down the log read them in one statement: 80-160 ms
# of the loop, every booking waiting.  Such lists now walk the log 4,096
# ids a statement in slices (daemon/api-audit.c, daemon/slices.c);
# YIQID_AUDIT_STEP_MS makes each slice one statement, that many ms apart.
# Checked: every kind of list answers exactly what one SQL statement over
# the whole log answers (pages across the statements' boundaries
# included), entries written during a walk are not in it, a booking made
# during a walk is answered before it, a walk whose client left stops
# (499), and a daemon stopped mid-walk answers it 503 and exits cleanly.

. "${top_srcdir:-.}/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic || not_ok "setting up"
stop_daemon || not_ok "yiqid stops"

# 20,000 entries: by the admin, by wang and by the daemon in turn, on
# instruments and bookings, at times that go back now and then.
BASE=1790000000
SETUP=$(sqlite3 "$DB" 'SELECT count(*) FROM audit')
sqlite3 "$DB" "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k
    WHERE x < 20000) INSERT INTO audit (at, user_id, action, object,
    object_id, detail) SELECT $BASE + x - (x % 7) * 50, CASE x % 3 WHEN 0
    THEN (SELECT id FROM users WHERE login = 'wang') WHEN 1 THEN 1 ELSE
    NULL END, 'test.' || (x % 5), CASE WHEN x % 4 = 0 THEN 'instrument' ELSE
    'reservation' END, CAST(x % 977 AS TEXT), '{\"x\":' || x || '}' FROM k" ||
    not_ok "seeding the log"
start_daemon || { not_ok "yiqid starts with 20,000 entries"; done_testing; }

# ref WHERE LIMIT OFFSET: the ids one statement over the whole log lists.
ref() {
	sqlite3 "$DB" "SELECT coalesce(group_concat(id), '') FROM (SELECT a.id
	    FROM audit a LEFT JOIN users u ON u.id = a.user_id WHERE $1
	    ORDER BY a.id LIMIT $2 OFFSET $3)"
}
# got QUERY: the ids the API lists.
got() {
	api GET "/api/v1/audit?$1"
	jq -r '[.items[].id | tostring] | join(",")' "$T/body"
}
SINCE=$(date -u -d "@$((BASE + 15000))" +%Y-%m-%dT%H:%M:%SZ)

is "the first page" "$(got "limit=100")" "$(ref 1 100 0)"
is "a page across two statements' ranges" "$(got "limit=10&offset=4090")" \
    "$(ref 1 10 4090)"
is "a user's changes, far down" "$(got "user=wang&limit=7&offset=5000")" \
    "$(ref "u.login = 'wang'" 7 5000)"
is "the changes since a time that went back and forth" \
    "$(got "since=$SINCE&limit=50&offset=3")" \
    "$(ref "a.at >= $((BASE + 15000))" 50 3)"
is "one kind of object, across ranges" \
    "$(got "object=instrument&limit=1000&offset=1500")" \
    "$(ref "a.object = 'instrument'" 1000 1500)"
is "an id of any object" "$(got "id=55&limit=1000")" \
    "$(ref "a.object_id = '55'" 1000 0)"
is "one object's history (its index)" \
    "$(got "object=reservation&id=55&user=wang")" \
    "$(ref "a.object = 'reservation' AND a.object_id = '55' AND u.login = 'wang'" 100 0)"
is "... and its page" "$(got "object=reservation&id=55&limit=3&offset=2")" \
    "$(ref "a.object = 'reservation' AND a.object_id = '55'" 3 2)"
is "the daemon's own changes are there, user null" \
    "$(api GET "/api/v1/audit?limit=3&offset=$SETUP"; jq -c '[.items[].user]' "$T/body")" \
    "[\"admin\",null,\"wang\"]"
is "no one's" "$(got "user=nobody")" ""
is "past the end" "$(got "offset=30000")" ""
is "the last entry" "$(got "offset=$(sqlite3 "$DB" 'SELECT count(*) - 1 FROM audit')")" \
    "$(sqlite3 "$DB" 'SELECT max(id) FROM audit')"
api GET "/api/v1/audit?limit=2&offset=4095"
is "the answer says its page" "$(jq -c '[.limit, .offset, (.items | length)]' "$T/body")" \
    "[2,4095,2]"
api GET "/api/v1/audit?offset=-1"
is "a bad offset is still 400" "$STATUS" 400
check "yiqid stops" stop_daemon

# Slow walks: one statement a slice, 300 ms apart (5 ranges: 1.2 s).
YIQID_AUDIT_STEP_MS=300
export YIQID_AUDIT_STEP_MS
start_daemon || { not_ok "yiqid starts again"; done_testing; }
walk_bg() {	# QUERY OUT: GET audit?QUERY in the background, status into OUT
	api_bg "/api/v1/audit?$1" "$2"
	WPID=$BGPID
}
LAST=$(sqlite3 "$DB" 'SELECT max(id) FROM audit')
walk_bg "user=wang&limit=1000&offset=6000" "$T/walk"
sleep 0.2
NOW=$(date +%s)
START=$(date -u -d "@$(( (NOW / 3600 + 30) * 3600 ))" +%Y-%m-%dT%H:%M:%SZ)
book_meanwhile "$WPID" "the log is walked" ICPMS-1 "$START" PT1H
is "... the walk answers" "$(cat "$T/walk")" 200
is "... without wang's booking made meanwhile (the log as it was)" \
    "$(jq -r '[.items[].id | tostring] | join(",")' "$T/walk.body")" \
    "$(ref "u.login = 'wang' AND a.id <= $LAST" 1000 6000)"
check "... which is in the log" sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*)
    FROM audit WHERE id > $LAST AND action = 'reservation.create'\")\" = 1 ]"

walk_bg "user=nobody" "$T/gone"
hang_up "$WPID" 0.2
check "a walk whose client left stops (499 in the log)" \
    log_waits 'audit?user=nobody 499 '
check "yiqid stops" stop_daemon

# Stopped mid-walk (5 statements 3 s apart, past the drain's 5 s): 503.
YIQID_AUDIT_STEP_MS=3000
start_daemon || { not_ok "yiqid starts a third time"; done_testing; }
walk_bg "user=nobody" "$T/walk"
sleep 0.3
check "yiqid stops cleanly, a walk still going" stop_daemon
wait "$WPID"
is "... the walk is answered 503" "$(cat "$T/walk") $(jq -r .error.code "$T/walk.body")" \
    "503 unavailable"
done_testing
