#!/bin/sh
# authz.sh: the authorization matrix.  Every route is called as nobody,
# a member, a manager of the instrument, a manager of another instrument,
# a park manager of the instrument's site, a park manager of another site,
# an admin and a revoked token, and each answer's status is asserted.
# Denials must not leak: another user's record is 403 whether or not it
# exists, and others' bookings are answered redacted (SPEC §4).

. "$top_srcdir/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
api POST /api/v1/sites '{"code":"S1","name":"Site one","district":"hechuan"}'
api POST /api/v1/sites '{"code":"S2","name":"Site two","district":"wusheng"}'
api POST /api/v1/institutes '{"code":"CQU","name":"Chongqing University","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"SP","name":"Secret Pharma","district":"wusheng","private":true}'
api POST /api/v1/instruments '{"code":"A","name":"Instrument A","site":"S1","owner":"CQU"}'
api POST /api/v1/instruments '{"code":"B","name":"Instrument B","site":"S2","owner":"SP"}'
mkuser() {	# LOGIN INSTITUTE ROLE EXTRA-JSON -> prints a token
	api POST /api/v1/users "{\"login\":\"$1\",\"name\":\"$1\",\"institute\":\"$2\",\"role\":\"$3\"$4}"
	api POST "/api/v1/users/$1/tokens" '{}'
	jq -r .token "$T/body"
}
MEM=$(mkuser mem CQU member '')
MEM2=$(mkuser mem2 SP member '')
MGRA=$(mkuser mgra CQU manager ',"manages":["A"]')
MGRB=$(mkuser mgrb SP manager ',"manages":["B"]')
PMS1=$(mkuser pms1 CQU park_manager ',"sites":["S1"]')
PMS2=$(mkuser pms2 SP park_manager ',"sites":["S2"]')
REV=$(mkuser rev CQU admin '')
api DELETE /api/v1/users/rev/tokens/"$(TOKEN=$REV api GET /api/v1/users/rev/tokens; jq -r '.items[0].id' "$T/body")"
is "set-up: the revoked admin token is revoked" "$STATUS" 204
D=$(day 3)
TOKEN=$MEM2 api POST /api/v1/reservations "{\"instrument\":\"A\",\"start\":\"${D}T08:00:00+08:00\",\"duration\":\"PT1H\",\"purpose\":\"secret compound\"}"
RA=$(jq -r .id "$T/body")
is "set-up: a booking by a private institute's member" "$STATUS" 201

WHO="anon mem mgra mgrb pms1 pms2 admin rev"
tok() {
	case $1 in
	anon) echo "" ;; mem) echo "$MEM" ;; mgra) echo "$MGRA" ;;
	mgrb) echo "$MGRB" ;; pms1) echo "$PMS1" ;; pms2) echo "$PMS2" ;;
	admin) echo "$ADMIN_TOKEN" ;; rev) echo "$REV" ;;
	esac
}

# row METHOD PATH BODY EXPECTED...: one status per identity in $WHO.  In
# PATH and BODY, @N is replaced by the identity's column number, so that
# allowed writes do not collide.
row() {
	m=$1 p=$2 b=$3
	shift 3
	col=0
	for who in $WHO; do
		col=$((col + 1))
		want=$1
		shift
		path=$(echo "$p" | sed "s/@N/$col/g")
		body=$(echo "$b" | sed "s/@N/$col/g")
		t=$(tok $who)
		if [ -n "$body" ]; then
			got=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" \
			    ${t:+-H "Authorization: Bearer $t"} \
			    -H 'Content-Type: application/json' --data-binary "$body" \
			    "$SERVER$path")
		else
			got=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" \
			    ${t:+-H "Authorization: Bearer $t"} "$SERVER$path")
		fi
		if [ "$got" = "$want" ]; then
			ok "$m $path as $who: $want"
		else
			not_ok "$m $path as $who: $got, want $want"
			diag "$(head -c 200 "$T/body")"
		fi
	done
}

slot() {	# column -> a start time of its own
	printf '%sT%02d:00:00+08:00' "$D" $((9 + $1))
}
#                                                         anon mem mgra mgrb pms1 pms2 admin rev
row GET /api/v1/health ''                                  200 200 200 200 200 200 200 200
row GET /api/v1/me ''                                      401 200 200 200 200 200 200 401
row GET /api/v1/sites ''                                   401 200 200 200 200 200 200 401
row GET /api/v1/institutes ''                              401 200 200 200 200 200 200 401
row GET /api/v1/instruments ''                             401 200 200 200 200 200 200 401
row GET /api/v1/instruments/A/availability ''              401 200 200 200 200 200 200 401
row GET "/api/v1/availability?duration=PT1H" ''            401 200 200 200 200 200 200 401
row GET /api/v1/reservations ''                            401 200 200 200 200 200 200 401
row GET /api/v1/reservations/$RA ''                        401 200 200 200 200 200 200 401
row GET /api/v1/blackouts ''                               401 200 200 200 200 200 200 401
row POST /api/v1/sites '{"code":"X@N","name":"x","district":"hechuan"}' \
                                                           401 403 403 403 403 403 201 401
row PATCH /api/v1/sites/S1 '{"name":"Site one"}'           401 403 403 403 403 403 200 401
row POST /api/v1/institutes '{"code":"I@N","name":"x","district":"hechuan"}' \
                                                           401 403 403 403 403 403 201 401
row GET /api/v1/users ''                                   401 403 403 403 403 403 200 401
row GET /api/v1/users/mem ''                               401 200 403 403 403 403 200 401
row GET /api/v1/users/nobody ''                            401 403 403 403 403 403 404 401
row POST /api/v1/users '{"login":"u@N","name":"x","institute":"CQU"}' \
                                                           401 403 403 403 403 403 201 401
row PATCH /api/v1/users/mem '{"email":"m@example.org"}'    401 403 403 403 403 403 200 401
row GET /api/v1/users/mem/tokens ''                        401 200 403 403 403 403 200 401
row POST /api/v1/users/mem/tokens '{}'                     401 201 403 403 403 403 201 401
row DELETE /api/v1/users/mem/tokens/999 ''                 401 404 403 403 403 403 404 401
row POST /api/v1/instruments '{"code":"N@N","name":"x","site":"S1","owner":"CQU"}' \
                                                           401 403 403 403 403 403 201 401
row PATCH /api/v1/instruments/A '{"room":"R@N"}'           401 403 200 403 403 403 200 401
row PATCH /api/v1/instruments/A '{"name":"renamed"}'       401 403 403 403 403 403 200 401
row POST /api/v1/blackouts "{\"instrument\":\"A\",\"start\":\"$(day 20)T0@N:00:00+08:00\",\"end\":\"$(day 20)T0@N:30:00+08:00\"}" \
                                                           401 403 201 403 201 403 201 401
row POST /api/v1/blackouts "{\"site\":\"S1\",\"start\":\"$(day 21)T0@N:00:00+08:00\",\"end\":\"$(day 21)T0@N:30:00+08:00\"}" \
                                                           401 403 403 403 201 403 201 401
row POST /api/v1/reservations "{\"instrument\":\"A\",\"start\":\"${D}T1@N:00:00+08:00\",\"duration\":\"PT30M\",\"user\":\"mem2\"}" \
                                                           401 403 201 403 403 403 201 401
row PATCH /api/v1/reservations/$RA '{"purpose":"changed @N"}' \
                                                           401 403 200 403 403 403 200 401
# The instrument's manager may cancel it; the admin then finds it cancelled.
row DELETE /api/v1/reservations/$RA '{"reason":"x"}'       401 403 200 403 403 403 422 401
row GET /api/v1/reservations/999999 ''                     401 404 404 404 404 404 404 401
row GET /api/v1/audit ''                                   401 403 403 403 403 403 200 401
printf 'code,name,site,owner\nC1,x,S1,CQU\n' > "$T/inv.csv"
for who in $WHO; do
	t=$(tok $who)
	got=$(curl -s -o /dev/null -w '%{http_code}' ${t:+-H "Authorization: Bearer $t"} \
	    -H 'Content-Type: text/csv' --data-binary @"$T/inv.csv" "$SERVER/api/v1/import/instruments")
	case $who in anon|rev) want=401 ;; admin) want=200 ;; *) want=403 ;; esac
	is "POST /api/v1/import/instruments as $who" "$got" "$want"
done

# A feed token opens feeds only: every API route answers 401 to it.
api POST /api/v1/users/mem/feed-token '{}'
FEED=$(jq -r .token "$T/body")
check "a feed token for mem" [ -n "$FEED" ] && [ "$FEED" != null ]
for route in "GET /api/v1/me" "GET /api/v1/instruments" "GET /api/v1/reservations" \
    "GET /api/v1/reservations/$RA" "POST /api/v1/reservations" "GET /api/v1/users/mem" \
    "POST /api/v1/users/mem/tokens" "GET /api/v1/audit"; do
	set -- $route
	got=$(curl -s -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $FEED" \
	    -H 'Content-Type: application/json' ${2:+--data-binary "{}"} "$SERVER$2")
	is "$route with a feed token: 401" "$got" 401
done
got=$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/feeds/users/mem.ics?token=$FEED")
is "the feed token opens mem's feed" "$got" 200
got=$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/feeds/users/mem.ics?token=$MEM")
is "an API token does not open a feed" "$got" 401
got=$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/feeds/users/mem2.ics?token=$FEED")
check "mem's feed token does not open mem2's feed ($got)" [ "$got" = 403 ] || [ "$got" = 404 ] || [ "$got" = 401 ]

# What each identity sees of another's booking (SPEC §4).
for who in mem mgra mgrb pms1 pms2 admin; do
	TOKEN=$(tok $who) api GET "/api/v1/reservations/$RA"
	case $who in mgra|pms1|admin) want=false ;; *) want=true ;; esac
	is "booking of a private institute's member as $who: redacted=$want" \
	    "$(jq -r .redacted "$T/body")" "$want"
	if [ "$want" = true ]; then
		is "  ... as $who: no purpose, no user, no institute name" \
		    "$(jq -r '[.purpose, .user, .institute] | map(tostring) | join(",")' "$T/body")" \
		    "null,null,null"
	else
		is "  ... as $who: the user" "$(jq -r .user "$T/body")" mem2
	fi
done
TOKEN=$MEM api GET "/api/v1/reservations?instrument=A"
is "lists redact too: no purposes for a member" \
    "$(jq -r '[.items[] | select(.redacted == false)] | length' "$T/body")" 0
TOKEN=$MEM api GET "/api/v1/instruments/A/availability?from=${D}T00:00:00%2B08:00"
is "availability shows a private institute as null" \
    "$(jq -r '[.busy[] | select(.kind == "reservation") | .institute] | unique | join(",")' "$T/body")" ""
check "yiqid stops cleanly" stop_daemon
done_testing
