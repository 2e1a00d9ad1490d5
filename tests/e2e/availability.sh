#!/bin/sh
# availability.sh: GET /api/v1/instruments/{code}/availability, whose
# answer is written directly (daemon/jsonbuf.c) from one query for the
# reservations and one for the blackouts: a booking outside the period
# whose buffer reaches in cuts the free list but is not listed, a private
# institute is null except for those who may see it, a blackout's reason
# is escaped as JSON, times take the zone's offset on each side of a DST
# change, and a rule change shows on the next request.

. "${top_srcdir:-.}/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic
api POST /api/v1/users '{"login":"li","name":"Li Na","institute":"SECRET"}'
api POST /api/v1/users/li/tokens '{}'
LI=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$T/body")
api PATCH /api/v1/instruments/ICPMS-1 '{"rules":{"buffer_min":60}}'
is "a 60-minute buffer is set" "$STATUS" 200

D=$(day 3)
api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"user\":\"wang\",\"start\":\"${D}T09:00:00+08:00\",\"end\":\"${D}T10:00:00+08:00\"}"
is "wang's booking 09:00-10:00" "$STATUS" 201
api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"user\":\"li\",\"start\":\"${D}T13:00:00+08:00\",\"end\":\"${D}T14:00:00+08:00\"}"
is "li's booking 13:00-14:00 (a private institute)" "$STATUS" 201
RB=$(jq -r .id "$T/body")
api POST /api/v1/blackouts "{\"instrument\":\"ICPMS-1\",\"start\":\"${D}T16:00:00+08:00\",\"end\":\"${D}T17:00:00+08:00\",\"reason\":\"a \\\"quoted\\\" \\\\ reason\\nwith 中文 and a tab\\t\"}"
is "a blackout 16:00-17:00 with an awkward reason" "$STATUS" 201

Q="/api/v1/instruments/ICPMS-1/availability?from=${D}T10:00:00%2B08:00&to=${D}T18:00:00%2B08:00"
TOKEN=$MEMBER_TOKEN api GET "$Q"
is "availability answers 200" "$STATUS" 200
is "the head" "$(jq -r '[.instrument, .status, .timezone, .from, .to] | join(" ")' "$T/body")" \
    "ICPMS-1 active Asia/Shanghai ${D}T10:00:00+08:00 ${D}T18:00:00+08:00"
is "busy: li's booking and the blackout, not wang's (it ended at from)" \
    "$(jq -r '[.busy[] | .kind + " " + .start + " " + .end] | join(", ")' "$T/body")" \
    "reservation ${D}T13:00:00+08:00 ${D}T14:00:00+08:00, blackout ${D}T16:00:00+08:00 ${D}T17:00:00+08:00"
is "the buffers cut the free list (wang's reaches in from before from)" \
    "$(jq -r '[.free[] | .start[11:16] + "-" + .end[11:16]] | join(" ")' "$T/body")" \
    "11:00-12:00 15:00-16:00 17:00-18:00"
is "a member sees the private institute as null" \
    "$(jq -r '.busy[0] | [.reservation, .status, .institute] | map(tostring) | join(" ")' "$T/body")" \
    "$RB confirmed null"
is "the blackout's reason survives escaping" \
    "$(jq -r '.busy[1].reason' "$T/body")" "$(printf 'a "quoted" \\ reason\nwith 中文 and a tab\t')"
check "the answer is compact JSON in jansson's key order" \
    grep -q '^{"instrument":"ICPMS-1","status":"active","timezone":"Asia/Shanghai","from":' "$T/body"
check "controls are escaped as jansson does" grep -q 'reason\\nwith 中文 and a tab\\t"}' "$T/body"
TOKEN=$LI api GET "$Q"
is "li sees her own institute" "$(jq -r '.busy[0].institute' "$T/body")" "Secret Pharma"
api GET "$Q"
is "an admin sees it" "$(jq -r '.busy[0].institute' "$T/body")" "Secret Pharma"

api PATCH /api/v1/instruments/ICPMS-1 '{"rules":{"buffer_min":0}}'
TOKEN=$MEMBER_TOKEN api GET "$Q"
is "a rule change shows on the next request" \
    "$(jq -r '[.free[] | .start[11:16] + "-" + .end[11:16]] | join(" ")' "$T/body")" \
    "10:00-13:00 14:00-16:00 17:00-18:00"
api DELETE "/api/v1/reservations/$RB"
TOKEN=$MEMBER_TOKEN api GET "$Q"
is "a cancelled booking frees its slot on the next request" \
    "$(jq -r '[.free[] | .start[11:16] + "-" + .end[11:16]] | join(" ")' "$T/body")" \
    "10:00-16:00 17:00-18:00"

# A zone with DST: the offset of each time is its own.
api POST /api/v1/sites '{"code":"DE-B","name":"Berlin","district":"wusheng","timezone":"Europe/Berlin"}'
api POST /api/v1/instruments '{"code":"NMR-B","name":"NMR","category":"nmr","site":"DE-B","owner":"CQU","rules":{"advance_days":3650}}'
is "an instrument in Berlin" "$STATUS" 201
Y=$(( $(date -u +%Y) + 1 ))
MAR=$(for d in 25 26 27 28 29 30 31; do [ "$(date -u -d "$Y-03-$d" +%u)" = 7 ] && echo "$Y-03-$d"; done)
SAT=$(date -u -d "$MAR -1 day" +%F)
MON=$(date -u -d "$MAR +1 day" +%F)
TOKEN=$MEMBER_TOKEN api GET "/api/v1/instruments/NMR-B/availability?from=${SAT}T12:00:00%2B01:00&to=${MON}T12:00:00%2B02:00"
is "from and to keep their own offsets across the change to summer time" \
    "$(jq -r '[.from, .to] | join(" ")' "$T/body")" \
    "${SAT}T12:00:00+01:00 ${MON}T12:00:00+02:00"
is "the free span runs across it" \
    "$(jq -r '[.free[] | .start + " " + .end] | join(", ")' "$T/body")" \
    "${SAT}T12:00:00+01:00 ${MON}T12:00:00+02:00"
api POST /api/v1/reservations "{\"instrument\":\"NMR-B\",\"user\":\"wang\",\"start\":\"${MAR}T01:00:00+01:00\",\"end\":\"${MAR}T04:00:00+02:00\"}"
is "a booking across the change" "$STATUS" 201
TOKEN=$MEMBER_TOKEN api GET "/api/v1/instruments/NMR-B/availability?from=${SAT}T12:00:00%2B01:00&to=${MON}T12:00:00%2B02:00"
is "its ends are written in their own offsets" \
    "$(jq -r '.busy[0] | .start + " " + .end' "$T/body")" \
    "${MAR}T01:00:00+01:00 ${MAR}T04:00:00+02:00"
is "and the free list around it too" \
    "$(jq -r '[.free[] | .start + " " + .end] | join(", ")' "$T/body")" \
    "${SAT}T12:00:00+01:00 ${MAR}T01:00:00+01:00, ${MAR}T04:00:00+02:00 ${MON}T12:00:00+02:00"

check "yiqid stops cleanly" stop_daemon
done_testing
