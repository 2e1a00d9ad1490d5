#!/bin/sh
# bad-input.sh: malformed and refused requests, table-driven.  Each one
# must get the right status (400 naming the field, 401, 403, 404, 405,
# 409, 413, 422) and the database must be exactly as before: no partial
# write from bad input, and the daemon keeps serving.

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
check "set-up" setup_basic
api POST /api/v1/instruments '{"code":"NMR-1","name":"600 MHz NMR","site":"HC-HTZ","owner":"CQU","rules":{"opening_hours":"Mon-Fri 08:00-20:00","max_duration_min":240}}'
D=$(day 2)
TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"start\":\"${D}T09:00:00+08:00\",\"duration\":\"PT2H\"}"
is "a booking to clash with" "$STATUS" 201

snapshot() {
	sqlite3 "$DB" "SELECT * FROM reservations ORDER BY id;
	    SELECT * FROM instruments ORDER BY id; SELECT * FROM sites;
	    SELECT * FROM institutes; SELECT * FROM districts;
	    SELECT id, login, name, email, institute_id, role FROM users;
	    SELECT id, user_id, kind, hex(hash), label, revoked FROM tokens;
	    SELECT * FROM blackouts; SELECT * FROM user_instruments;
	    SELECT * FROM user_sites; SELECT * FROM series;"
}
snapshot > "$T/before"

# t WANT METHOD PATH BODY DESCRIPTION [FIELD]: as the member (or $AS).
t() {
	TOKEN=${AS:-$MEMBER_TOKEN} api "$2" "$3" "$4"
	if [ "$STATUS" != "$1" ]; then
		not_ok "$5: $STATUS, want $1"
		diag "$(head -c 300 "$T/body")"
		return
	fi
	if [ $# -ge 6 ]; then
		f=$(jq -r .error.field "$T/body")
		is "$5: $1 naming $6" "$f" "$6"
	else
		code=$(jq -r .error.code "$T/body" 2>/dev/null)
		if [ -n "$code" ] && [ "$code" != null ]; then
			ok "$5: $1 ($code)"
		else
			not_ok "$5: $1 without a JSON error body"
		fi
	fi
}

R=/api/v1/reservations
S="\"instrument\":\"ICPMS-1\""
t 400 POST $R 'not json' "not JSON"
t 400 POST $R '[1,2]' "an array, not an object"
t 400 POST $R '' "no body"
t 400 POST $R "{$S}" "start missing" start
t 400 POST $R "{$S,\"start\":\"${D}T13:00:00+08:00\"}" "neither end nor duration" end
t 400 POST $R "{$S,\"start\":\"${D}T25:00:00+08:00\",\"duration\":\"PT1H\"}" "25:00" start
t 400 POST $R "{$S,\"start\":\"2027-02-30T09:00:00+08:00\",\"duration\":\"PT1H\"}" "Feb 30" start
t 400 POST $R "{$S,\"start\":\"2027-02-29T09:00:00+08:00\",\"duration\":\"PT1H\"}" "Feb 29 of 2027" start
t 400 POST $R "{$S,\"start\":\"${D}T13:00:00\",\"duration\":\"PT1H\"}" "no offset" start
t 400 POST $R "{$S,\"start\":\"${D}T13:00:00+08:00\",\"end\":\"${D}T12:00:00+08:00\"}" "end before start" end
t 400 POST $R "{$S,\"start\":\"${D}T13:00:00+08:00\",\"end\":\"${D}T13:00:00+08:00\"}" "end equal to start" end
t 400 POST $R "{$S,\"start\":\"${D}T13:00:00+08:00\",\"duration\":\"2h\"}" "duration not ISO 8601" duration
t 400 POST $R "{$S,\"start\":\"${D}T13:00:00+08:00\",\"end\":\"${D}T14:00:00+08:00\",\"duration\":\"PT1H\"}" "end and duration" duration
t 400 POST $R "{\"instrument\":42,\"start\":\"${D}T13:00:00+08:00\",\"duration\":\"PT1H\"}" "instrument a number" instrument
t 400 POST $R "{$S,\"start\":1796086800,\"duration\":\"PT1H\"}" "start a number" start
t 400 POST $R "{$S,\"start\":\"${D}T13:00:00+08:00\",\"duration\":\"PT1H\",\"purpose\":5}" "purpose a number" purpose
t 400 POST $R "{$S,\"start\":\"${D}T13:00:00+08:00\",\"duration\":\"PT1H\",\"purpse\":\"x\"}" "unknown field" purpse
t 400 POST $R "{$S,\"start\":\"${D}T13:00:00+08:00\",\"duration\":\"PT1H\",\"purpose\":\"a\\u0000b\"}" "NUL in text"
t 400 POST $R "{$S,$S,\"start\":\"${D}T13:00:00+08:00\",\"duration\":\"PT1H\"}" "duplicate key"
long=$(head -c 5000 /dev/zero | tr '\0' 'x')
t 400 POST $R "{$S,\"start\":\"${D}T13:00:00+08:00\",\"duration\":\"PT1H\",\"purpose\":\"$long\"}" "purpose over 4 KiB" purpose
t 400 POST $R "$(printf '{%s,"start":"%sT13:00:00+08:00","duration":"PT1H","purpose":"\377\376"}' "$S" "$D")" "invalid UTF-8"
t 404 POST $R "{\"instrument\":\"NOPE\",\"start\":\"${D}T13:00:00+08:00\",\"duration\":\"PT1H\"}" "unknown instrument"
t 409 POST $R "{$S,\"start\":\"${D}T10:00:00+08:00\",\"duration\":\"PT1H\"}" "clash"
t 422 POST $R "{$S,\"start\":\"${D}T13:10:00+08:00\",\"duration\":\"PT1H\"}" "off the 30-minute grid"
t 422 POST $R "{$S,\"start\":\"${D}T13:00:00+08:00\",\"duration\":\"PT9H\"}" "longer than 480 minutes"
t 422 POST $R "{$S,\"start\":\"$(day 200)T13:00:00+08:00\",\"duration\":\"PT1H\"}" "beyond the advance window"
t 422 POST $R "{$S,\"start\":\"2020-01-06T13:00:00+08:00\",\"duration\":\"PT1H\"}" "in the past"
t 422 POST $R "{\"instrument\":\"NMR-1\",\"start\":\"${D}T21:00:00+08:00\",\"duration\":\"PT1H\"}" "outside opening hours"
t 403 POST $R "{$S,\"start\":\"${D}T15:00:00+08:00\",\"duration\":\"PT1H\",\"user\":\"admin\"}" "member booking for another user"
t 404 GET $R/999999 '' "unknown reservation"
t 404 GET $R/abc '' "reservation id not a number"
t 400 PATCH $R/1 '{"colour":"red"}' "PATCH unknown field" colour
t 400 PATCH $R/1 "{\"start\":\"${D}T09:00:00+08:00\",\"end\":\"${D}T08:00:00+08:00\"}" "PATCH end before start" end
t 400 GET "$R?from=yesterday" '' "list: bad from" from
t 400 GET "$R?limit=0" '' "list: limit 0" limit
t 400 GET "$R?limit=5000" '' "list: limit over 1000" limit
t 400 GET "$R?status=done" '' "list: unknown status" status
t 400 GET "$R?instrument=%01x" '' "control character in a query"
t 400 GET "/api/v1/instruments/ICPMS-1/availability?from=${D}T10:00:00%2B08:00&to=${D}T09:00:00%2B08:00" '' "availability: to before from" to
t 400 GET "/api/v1/availability?duration=2h" '' "find: bad duration" duration
t 404 GET /api/v1/nothing '' "unknown route"
t 405 PUT /api/v1/health '' "wrong method"
t 403 POST /api/v1/instruments '{"code":"X","name":"X","site":"HC-HTZ","owner":"CQU"}' "member creating an instrument"
t 403 POST /api/v1/blackouts "{$S,\"start\":\"${D}T09:00:00+08:00\",\"end\":\"${D}T10:00:00+08:00\"}" "member blacking out"
AS=$ADMIN_TOKEN t 400 POST /api/v1/instruments '{"code":"X","name":"X","site":"HC-HTZ","owner":"CQU","rules":{"opening_hours":"Mon-Fri 8-20"}}' "bad opening hours"
AS=$ADMIN_TOKEN t 400 POST /api/v1/instruments '{"code":"X","name":"X","site":"HC-HTZ","owner":"CQU","rules":{"granularity_min":0}}' "granularity 0"
AS=$ADMIN_TOKEN t 400 POST /api/v1/instruments '{"code":"X","name":"X","site":"NOWHERE","owner":"CQU"}' "unknown site"
AS=$ADMIN_TOKEN t 409 POST /api/v1/instruments '{"code":"ICPMS-1","name":"X","site":"HC-HTZ","owner":"CQU"}' "duplicate instrument code"
AS=$ADMIN_TOKEN t 400 POST /api/v1/sites '{"code":"XX","name":"X","district":"hechuan","timezone":"Mars/Olympus"}' "unknown time zone" timezone
AS=$ADMIN_TOKEN t 400 POST /api/v1/users '{"login":"zhao","name":"Zhao","institute":"CQU","role":"boss"}' "unknown role" role
AS=$ADMIN_TOKEN t 400 POST /api/v1/blackouts "{\"start\":\"${D}T09:00:00+08:00\",\"end\":\"${D}T10:00:00+08:00\"}" "blackout without target"
AS=bogus t 401 GET /api/v1/me '' "unknown token"

# A CSV import with one bad row changes nothing.
printf 'code,name,site,owner,granularity_min\nOK-1,Fine,HC-HTZ,CQU,30\nBAD-1,Broken,HC-HTZ,CQU,zero\n' > "$T/bad.csv"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: text/csv' --data-binary @"$T/bad.csv" "$SERVER/api/v1/import/instruments")
is "CSV with a bad row: 400" "$STATUS" 400
is "CSV error names the line" "$(jq -r .error.line "$T/body")" 3

# A body over the 1 MiB limit.
head -c 1200000 /dev/zero | tr '\0' ' ' > "$T/big"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $MEMBER_TOKEN" \
    -H 'Content-Type: application/json' --data-binary @"$T/big" "$SERVER$R")
is "body over 1 MiB: 413" "$STATUS" 413

snapshot > "$T/after"
check "the database is unchanged by all of it" cmp -s "$T/before" "$T/after"
TOKEN=$MEMBER_TOKEN api GET /api/v1/health
is "still serving" "$STATUS" 200
check "yiqid stops cleanly" stop_daemon
done_testing
