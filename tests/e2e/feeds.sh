#!/bin/sh
# feeds.sh: the iCalendar feeds (issue 3) against a real yiqid.  Every feed
# type is parsed back by an independent parser (tests/ical-check.py, with
# python3-icalendar): required properties, unique UIDs, every TZID
# defined, 75-octet folding that never cuts a character, CRLF.  Then what
# SPEC §4 says each viewer may see, feed tokens (API tokens never open
# feeds, feed tokens never open the API, rotation and revocation kill the
# old token), cancellation as STATUS:CANCELLED with a higher SEQUENCE, and
# conditional GET (304 while unchanged, 200 with a new ETag after a change,
# never a 304 for a revoked token).

. "$top_srcdir/tests/e2e/lib.sh"

CHECK="/usr/bin/python3 $top_srcdir/tests/ical-check.py"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic || not_ok "basic set-up"

# A second site in another zone, a private-institute member, a park manager.
api POST /api/v1/sites '{"code":"EU-BER","name":"Berlin Partner Lab","district":"wusheng","timezone":"Europe/Berlin"}'
api POST /api/v1/instruments '{"code":"BER-1","name":"NMR 600","site":"EU-BER","owner":"CQU","room":"R 2.14"}'
api PATCH /api/v1/instruments/ICPMS-1 '{"room":"B-101"}'
api POST /api/v1/users '{"login":"li","name":"Li Mei","institute":"SECRET"}'
api POST /api/v1/users/li/tokens '{}'
LI_TOKEN=$(jq -r .token "$T/body")
api POST /api/v1/users '{"login":"pm","name":"Park Manager","institute":"CQU","role":"park_manager"}'

# feed GET-PATH TOKEN [CURL-ARGS]: fetch a feed; body in $T/feed, headers
# in $T/hdr, status in $STATUS.
feed() {
	p=$1
	tok=$2
	shift 2
	rm -f "$T/feed"
	STATUS=$(curl -s -D "$T/hdr" -o "$T/feed" -w '%{http_code}' "$@" \
	    "$SERVER$p?token=$tok")
}
hdr() {
	sed -n "s/^$1: *//Ip" "$T/hdr" | tr -d '\r'
}
# parse: run the checker on $T/feed, JSON into $T/ics; true if it passed.
parse() {
	$CHECK "$T/feed" > "$T/ics" 2> "$T/ics.err"
	rc=$?
	[ $rc -eq 0 ] || diag "ical-check: $(cat "$T/ics.err")"
	return $rc
}

# Feed tokens.
TOKEN=$MEMBER_TOKEN api POST /api/v1/users/wang/feed-token
is "a member creates its feed token (201)" "$STATUS" 201
WF=$(jq -r .token "$T/body")
is "the answer is not a rotation" "$(jq -r .rotated "$T/body")" false
is "the user URL is built on the server's address" \
    "$(jq -r .urls.user "$T/body")" "$SERVER/feeds/users/wang.ics?token=$WF"
is "the institute URL names the user's institute" \
    "$(jq -r .urls.institute "$T/body")" \
    "$SERVER/feeds/institutes/CQU.ics?token=$WF"
TOKEN=$MEMBER_TOKEN api POST /api/v1/users/li/feed-token
is "a member cannot make another user's feed token (403)" "$STATUS" 403
TOKEN=$LI_TOKEN api POST /api/v1/users/li/feed-token
LF=$(jq -r .token "$T/body")
api POST /api/v1/users/pm/feed-token
is "an admin makes a feed token for a user" "$STATUS" 201
PF=$(jq -r .token "$T/body")
api POST /api/v1/users/admin/feed-token
AF=$(jq -r .token "$T/body")
api POST /api/v1/users/nobody/feed-token
is "a feed token for an unknown user is 404" "$STATUS" 404
TOKEN=$WF api GET /api/v1/me
is "a feed token cannot call the API (401)" "$STATUS" 401

# Bookings: wang (CQU) and li (SECRET, private), a blackout, a Berlin slot.
D2=$(day 2)
D3=$(day 3)
D5=$(day 5)
TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"start\":\"${D2}T09:00:00+08:00\",\"end\":\"${D2}T11:00:00+08:00\",\"purpose\":\"痕量金属分析：土壤样品，批次二〇二六年第十二号，共四十八个样品，含重复与空白对照 line\\u2028sep\",\"project\":\"NSFC-1234\"}"
is "wang books ICPMS-1" "$STATUS" 201
WANG_ID=$(jq -r .id "$T/body")
WANG_UID=$(jq -r .uid "$T/body")
TOKEN=$LI_TOKEN api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"start\":\"${D2}T13:00:00+08:00\",\"end\":\"${D2}T14:00:00+08:00\",\"purpose\":\"secret compound X\",\"project\":\"HUSH-1\"}"
is "li books ICPMS-1" "$STATUS" 201
TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations "{\"instrument\":\"BER-1\",\"start\":\"${D3}T09:00:00+01:00\",\"end\":\"${D3}T10:30:00+01:00\",\"purpose\":\"Berlin run\"}"
is "wang books BER-1 (Europe/Berlin)" "$STATUS" 201
api POST /api/v1/blackouts "{\"instrument\":\"ICPMS-1\",\"start\":\"${D5}T00:00:00+08:00\",\"end\":\"${D5}T12:00:00+08:00\",\"reason\":\"annual calibration\"}"
is "a blackout" "$STATUS" 201
api POST /api/v1/blackouts "{\"site\":\"HC-HTZ\",\"start\":\"$(day 6)T00:00:00+08:00\",\"end\":\"$(day 7)T00:00:00+08:00\",\"reason\":\"park closed\"}"
is "a site blackout" "$STATUS" 201

# Who may open what, and with which token.
feed /feeds/instruments/ICPMS-1.ics ""
is "no token: 401" "$STATUS" 401
check "no token: no calendar data" sh -c "! grep -q VCALENDAR '$T/feed'"
feed /feeds/instruments/ICPMS-1.ics "yq_wrongwrongwrongwrong"
is "an unknown token: 401" "$STATUS" 401
feed /feeds/instruments/ICPMS-1.ics "$MEMBER_TOKEN"
is "an API token does not open a feed (401)" "$STATUS" 401
check "an API token gets no calendar data" sh -c "! grep -q VCALENDAR '$T/feed'"
feed /feeds/instruments/NOPE.ics "$WF"
is "an unknown instrument: 404" "$STATUS" 404

# The instrument feed as wang.
feed /feeds/instruments/ICPMS-1.ics "$WF"
is "instrument feed: 200" "$STATUS" 200
is "instrument feed: content type" "$(hdr Content-Type)" "text/calendar; charset=utf-8"
check "instrument feed parses and passes the checks" parse
is "instrument feed: two bookings and two blackouts" \
    "$(jq '.events | length' "$T/ics")" 4
is "every TZID is the site's zone, defined once" \
    "$(jq -c '[.tzids, .vtimezones]' "$T/ics")" '[["Asia/Shanghai"],["Asia/Shanghai"]]'
is "wang's booking at the right local time" \
    "$(jq -r --arg u "$WANG_UID" '.events[] | select(.uid == $u) | .start' "$T/ics")" \
    "${D2}T09:00:00+08:00"
check "wang sees his own purpose" \
    sh -c "jq -r '.events[].summary' '$T/ics' | grep -q '痕量金属分析'"
check "U+2028 is gone from the text" \
    sh -c "jq -r '.events[].summary' '$T/ics' | grep -q 'line sep'"
is "LOCATION is room and site" \
    "$(jq -r --arg u "$WANG_UID" '.events[] | select(.uid == $u) | .location' "$T/ics")" \
    "B-101, Hechuan Hi-tech Industrial Development Zone"
is "a private institute's booking is just busy" \
    "$(jq -r '.events[] | select(.start | contains("T13:00")) | .summary' "$T/ics")" \
    "ICPMS-1: busy"
check "nothing of li's booking leaks" \
    sh -c "! grep -qi 'secret\|HUSH\|Li Mei\|SECRET' '$T/feed'"
is "blackouts are in the instrument feed" \
    "$(jq -r '[.events[] | select(.categories == "BLACKOUT")] | length' "$T/ics")" 2
is "blackout summary" \
    "$(jq -r '.events[] | select(.summary | contains("calibration")) | .summary' "$T/ics")" \
    "ICPMS-1: unavailable (annual calibration)"

# The same feed as li: wang's booking names only his institute.
feed /feeds/instruments/ICPMS-1.ics "$LF"
check "instrument feed as li parses" parse
is "li sees wang's booking as busy with his institute" \
    "$(jq -r --arg u "$WANG_UID" '.events[] | select(.uid == $u) | .summary' "$T/ics")" \
    "ICPMS-1: busy (Chongqing University)"
check "li does not see wang's purpose or project" \
    sh -c "! grep -q '痕量\|NSFC\|Wang Fang' '$T/feed'"
check "li sees her own purpose" grep -q "secret compound X" "$T/feed"

# Site feed, institute feed, user feed, free/busy.
feed /feeds/sites/HC-HTZ.ics "$WF"
is "site feed: 200" "$STATUS" 200
check "site feed parses and passes the checks" parse
is "site feed: bookings and blackouts of the park" \
    "$(jq '.events | length' "$T/ics")" 4
feed /feeds/institutes/CQU.ics "$WF"
is "institute feed with a member's token: 200" "$STATUS" 200
check "institute feed parses and passes the checks" parse
is "institute feed: the members' bookings in both zones" \
    "$(jq -c '[(.events | length), .tzids, .vtimezones]' "$T/ics")" \
    '[2,["Asia/Shanghai","Europe/Berlin"],["Asia/Shanghai","Europe/Berlin"]]'
is "the Berlin booking at Berlin time" \
    "$(jq -r '.events[] | select(.tzid == "Europe/Berlin") | .start' "$T/ics")" \
    "${D3}T09:00:00+01:00"
feed /feeds/institutes/CQU.ics "$LF"
is "another institute's member: 403" "$STATUS" 403
check "and no calendar data" sh -c "! grep -q VCALENDAR '$T/feed'"
feed /feeds/institutes/SECRET.ics "$WF"
is "a member's token never opens another institute's feed" "$STATUS" 403
feed /feeds/institutes/SECRET.ics "$PF"
is "a park manager opens any institute's feed" "$STATUS" 200
check "the park manager's institute feed parses" parse
check "a park manager sees the details" grep -q "secret compound X" "$T/feed"
feed /feeds/users/wang.ics "$WF"
is "own user feed: 200" "$STATUS" 200
check "user feed parses and passes the checks" parse
is "user feed: both bookings, both zones" \
    "$(jq -c '[(.events | length), .vtimezones]' "$T/ics")" \
    '[2,["Asia/Shanghai","Europe/Berlin"]]'
feed /feeds/users/wang.ics "$LF"
is "another user's feed: 403" "$STATUS" 403
feed /feeds/users/wang.ics "$AF"
is "an admin opens any user's feed" "$STATUS" 200
feed /feeds/instruments/ICPMS-1/freebusy.ics "$LF"
is "free/busy feed: 200" "$STATUS" 200
check "free/busy feed parses and passes the checks" parse
is "free/busy: two bookings and the two blackouts, typed" \
    "$(jq -r '[.freebusy[].type] | sort | join(",")' "$T/ics")" \
    "BUSY,BUSY,BUSY-UNAVAILABLE,BUSY-UNAVAILABLE"
check "free/busy holds no personal data" \
    sh -c "! grep -q 'SUMMARY\|痕量\|secret\|Chongqing' '$T/feed'"

# The window.
feed /feeds/instruments/ICPMS-1.ics "$WF" -G --data-urlencode "from=${D5}T00:00:00+08:00" --data-urlencode "to=$(day 8)T00:00:00+08:00"
check "a narrowed window parses" parse
is "a narrowed window holds only the blackouts" \
    "$(jq '.events | length' "$T/ics")" 2
feed /feeds/instruments/ICPMS-1.ics "$WF" -G --data-urlencode "from=${D5}T00:00:00+08:00" --data-urlencode "to=${D2}T00:00:00+08:00"
is "to before from: 400" "$STATUS" 400
feed /feeds/instruments/ICPMS-1.ics "$WF" -G --data-urlencode "from=yesterday"
is "a malformed from: 400" "$STATUS" 400
# A window that opens in the middle of a booking still holds it (the query
# bounds its walk by start with the longest booking stored).
feed /feeds/instruments/ICPMS-1.ics "$WF" -G --data-urlencode "from=${D2}T10:00:00+08:00" --data-urlencode "to=${D2}T10:30:00+08:00"
check "a window inside a booking parses" parse
is "it holds the booking that began before it" \
    "$(jq -r '[.events[].start] | join(",")' "$T/ics")" "${D2}T09:00:00+08:00"
feed /feeds/sites/HC-HTZ.ics "$WF" -G --data-urlencode "from=${D2}T10:59:00+08:00" --data-urlencode "to=${D2}T11:00:00+08:00"
check "a site feed of one minute parses" parse
is "the site feed holds it too" "$(jq '.events | length' "$T/ics")" 1

# Conditional GET.
feed /feeds/instruments/ICPMS-1.ics "$WF"
ETAG=$(hdr ETag)
LASTMOD=$(hdr Last-Modified)
check "an ETag is sent" [ -n "$ETAG" ]
check "a Last-Modified is sent" [ -n "$LASTMOD" ]
feed /feeds/instruments/ICPMS-1.ics "$WF"
is "the ETag is stable while nothing changes" "$(hdr ETag)" "$ETAG"
feed /feeds/instruments/ICPMS-1.ics "$WF" -H "If-None-Match: $ETAG"
is "If-None-Match with the current ETag: 304" "$STATUS" 304
check "a 304 has no body" sh -c "[ ! -s '$T/feed' ]"
feed /feeds/instruments/ICPMS-1.ics "$WF" -H "If-Modified-Since: $LASTMOD"
is "If-Modified-Since the last change: 304" "$STATUS" 304
feed /feeds/instruments/ICPMS-1.ics "$LF"
check "another viewer gets another ETag" [ "$(hdr ETag)" != "$ETAG" ]
feed /feeds/instruments/ICPMS-1.ics "$LF" -H "If-None-Match: $ETAG"
is "another viewer's ETag gives no 304" "$STATUS" 200
feed /feeds/instruments/ICPMS-1.ics "$WF"
size=$(wc -c < "$T/feed")
feed /feeds/instruments/ICPMS-1.ics "$WF" -I
is "HEAD answers 200" "$STATUS" 200
is "HEAD gives the feed's length" "$(hdr Content-Length)" "$size"
# curl would not read a body after HEAD: count what the daemon really sends.
after=$(/usr/bin/python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(("HEAD /feeds/instruments/ICPMS-1.ics?token=%s HTTP/1.1\r\n"
    "Host: x\r\nConnection: close\r\n\r\n" % sys.argv[2]).encode())
d = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    d += c
print(len(d.partition(b"\r\n\r\n")[2]))' "$PORT" "$WF")
is "HEAD sends no body" "$after" 0

# Cancel: the feed shows STATUS:CANCELLED with a higher SEQUENCE.
feed /feeds/instruments/ICPMS-1.ics "$WF"
parse
SEQ0=$(jq -r --arg u "$WANG_UID" '.events[] | select(.uid == $u) | .sequence' "$T/ics")
STAMP0=$(jq -r --arg u "$WANG_UID" '.events[] | select(.uid == $u) | .dtstamp' "$T/ics")
sleep 1
TOKEN=$MEMBER_TOKEN api DELETE /api/v1/reservations/$WANG_ID
is "wang cancels" "$STATUS" 200
feed /feeds/instruments/ICPMS-1.ics "$WF" -H "If-None-Match: $ETAG"
is "after a change the old ETag gets 200" "$STATUS" 200
check "and a new ETag" [ "$(hdr ETag)" != "$ETAG" ]
check "the feed after the cancellation parses" parse
is "the cancelled booking stays, as CANCELLED" \
    "$(jq -r --arg u "$WANG_UID" '.events[] | select(.uid == $u) | .status' "$T/ics")" \
    CANCELLED
SEQ1=$(jq -r --arg u "$WANG_UID" '.events[] | select(.uid == $u) | .sequence' "$T/ics")
check "its SEQUENCE went up ($SEQ0 -> $SEQ1)" [ "$SEQ1" -gt "$SEQ0" ]
check "its DTSTAMP is the change, not the request" \
    [ "$(jq -r --arg u "$WANG_UID" '.events[] | select(.uid == $u) | .dtstamp' "$T/ics")" != "$STAMP0" ]
feed /feeds/users/wang.ics "$WF"
parse
is "the user feed shows the cancellation too" \
    "$(jq -r --arg u "$WANG_UID" '.events[] | select(.uid == $u) | .status' "$T/ics")" \
    CANCELLED

# Rotation and revocation.
feed /feeds/instruments/ICPMS-1.ics "$WF"
ETAG=$(hdr ETag)
TOKEN=$MEMBER_TOKEN api POST /api/v1/users/wang/feed-token
is "rotating answers 201" "$STATUS" 201
is "and says it rotated" "$(jq -r .rotated "$T/body")" true
WF2=$(jq -r .token "$T/body")
feed /feeds/instruments/ICPMS-1.ics "$WF" -H "If-None-Match: $ETAG"
is "the rotated-out token gets 401, not 304" "$STATUS" 401
feed /feeds/instruments/ICPMS-1.ics "$WF2"
is "the new token opens the feed" "$STATUS" 200
TOKEN=$MEMBER_TOKEN api DELETE /api/v1/users/wang/feed-token
is "revoking answers 204" "$STATUS" 204
feed /feeds/instruments/ICPMS-1.ics "$WF2"
is "a revoked token gets 401" "$STATUS" 401
check "and no calendar data" sh -c "! grep -q VCALENDAR '$T/feed'"
TOKEN=$MEMBER_TOKEN api DELETE /api/v1/users/wang/feed-token
is "revoking again: 404" "$STATUS" 404
TOKEN=$LI_TOKEN api DELETE /api/v1/users/wang/feed-token
is "another member cannot revoke it: 403" "$STATUS" 403

# The client: feed-url and export, with li's API token.
# (lib.sh's y() runs the client; li's token for all that follows)
export YIQI_TOKEN=$LI_TOKEN
y 2 "feed-url needs one scope" feed-url
y 2 "feed-url takes only one scope" feed-url --mine --site HC-HTZ
y 2 "--freebusy goes with --instrument" feed-url --site HC-HTZ --freebusy
y 0 "feed-url --instrument" feed-url --instrument ICPMS-1
URL1=$(cat "$T/out")
C1=${URL1##*token=}
is "the URL is the instrument feed on the server" "${URL1%%\?*}" \
    "$SERVER/feeds/instruments/ICPMS-1.ics"
check "a new token replaced li's old one, and it says so" \
    grep -q "stop working" "$T/err"
feed /feeds/instruments/ICPMS-1.ics "$LF"
is "so li's earlier feed token is dead (401)" "$STATUS" 401
STATUS=$(curl -s -o "$T/feed" -w '%{http_code}' "$URL1")
is "the printed URL opens the feed" "$STATUS" 200
check "and it parses" parse
check "the feed token is kept with mode 0600" \
    sh -c "[ \$(stat -c %a '$XDG_CONFIG_HOME/yiqi/feed-tokens') = 600 ]"
y 0 "feed-url --mine" feed-url --mine
is "a second call reuses the token" "$(cat "$T/out")" \
    "$SERVER/feeds/users/li.ics?token=$C1"
check "and says nothing of a new token" [ ! -s "$T/err" ]
y 0 "feed-url --webcal" feed-url --instrument ICPMS-1 --freebusy --webcal
is "a webcal:// URL for the free/busy feed" "$(cat "$T/out")" \
    "webcal://127.0.0.1:$PORT/feeds/instruments/ICPMS-1/freebusy.ics?token=$C1"
y 0 "feed-url --json" --json feed-url --site HC-HTZ
is "--json gives the URL" "$(jq -r .url "$T/out")" \
    "$SERVER/feeds/sites/HC-HTZ.ics?token=$C1"
y 4 "feed-url for another institute is refused" feed-url --institute CQU
y 5 "feed-url for an unknown instrument" feed-url --instrument NOPE
y 0 "export -o FILE" export --instrument ICPMS-1 -o "$T/export.ics"
cp "$T/export.ics" "$T/feed"
check "the exported file parses and passes the checks" parse
check "the export shows li's own booking in full" \
    grep -q "secret compound X" "$T/export.ics"
y 0 "export --mine to standard output" export --mine
cp "$T/out" "$T/feed"
check "the exported calendar parses" parse
is "it holds li's booking" "$(jq '.events | length' "$T/ics")" 1
y 0 "export with a window" export --site HC-HTZ --from "$(day 5) 00:00" --to "$(day 8) 00:00"
cp "$T/out" "$T/feed"
parse
is "the window holds the two blackouts only" "$(jq '.events | length' "$T/ics")" 2
y 2 "export with a bad time" export --site HC-HTZ --from "someday"
y 0 "feed-url --rotate" feed-url --mine --rotate
C2=$(sed 's/.*token=//' "$T/out")
check "rotating gives a new token" [ "$C2" != "$C1" ]
STATUS=$(curl -s -o "$T/feed" -w '%{http_code}' "$URL1")
is "the old URL is dead after --rotate" "$STATUS" 401
TOKEN=$LI_TOKEN api DELETE /api/v1/users/li/feed-token
y 0 "export after the token was revoked elsewhere makes a new one" export --mine -o "$T/again.ics"
C3=$(jq -r '.[]?.token' "$XDG_CONFIG_HOME/yiqi/feed-tokens")
check "the kept token was replaced" sh -c "[ -n '$C3' ] && [ '$C3' != '$C2' ]"

check "no feed token reaches the log" \
    sh -c "! grep -q '$WF\|$WF2\|$LF\|$PF\|$AF\|$C1\|$C2\|$C3' '$T/yiqid.log.new'"
check "the log shows the masked feed requests" grep -q "token=(masked)" "$T/yiqid.log.new"

stop_daemon
is "yiqid exits cleanly" "$?" 0
done_testing
