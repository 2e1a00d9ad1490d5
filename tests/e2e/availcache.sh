#!/bin/sh
# availcache.sh: kept availability answers (daemon/availcache.c).  A
# repeated request is served from the cache (the daemon says so at debug
# level) and byte for byte the same; every kind of change drops the kept
# answer: a booking, a cancellation, a blackout, an instrument's status
# and rules, an institute's name, and a change made by another process
# (sqlite3); each caller has their own answer; a period that starts in the
# past or reaches past the advance window is never kept.

. "${top_srcdir:-.}/tests/e2e/lib.sh"

init_db
printf 'rate_limit = 0\nlog_level = debug\n' > "$T/debug.conf"
start_daemon -c "$T/debug.conf" || { not_ok "yiqid starts"; done_testing; }
setup_basic

D=$(day 3)
Q="/api/v1/instruments/ICPMS-1/availability?from=${D}T08:00:00%2B08:00&to=${D}T20:00:00%2B08:00"
hits() { grep -c "availability of ICPMS-1: the kept answer" "$T/yiqid.log.new"; }
busy() { jq -r '[.busy[] | .kind + " " + .start[11:16] + "-" + .end[11:16]] | join(", ")' "$T/body"; }
get() { TOKEN=$MEMBER_TOKEN api GET "$Q"; }

get
cp "$T/body" "$T/first"
is "a first answer is computed" "$(hits)" 0
get
is "the same request again is the kept answer" "$(hits)" 1
check "byte for byte the same" cmp -s "$T/body" "$T/first"

api POST /api/v1/reservations "{\"instrument\":\"ICPMS-1\",\"user\":\"wang\",\"start\":\"${D}T09:00:00+08:00\",\"end\":\"${D}T10:00:00+08:00\"}"
RB=$(jq -r .id "$T/body")
get
is "a new booking shows at once" "$(busy)" "reservation 09:00-10:00"
is "(not from the cache)" "$(hits)" 1
get
is "and is kept in turn" "$(hits)" 2

api POST /api/v1/blackouts "{\"instrument\":\"ICPMS-1\",\"start\":\"${D}T12:00:00+08:00\",\"end\":\"${D}T13:00:00+08:00\",\"reason\":\"service\"}"
get
is "a blackout shows at once" "$(busy)" "reservation 09:00-10:00, blackout 12:00-13:00"

api PATCH /api/v1/instruments/ICPMS-1 '{"rules":{"buffer_min":30}}'
get
is "a rule change shows at once" \
    "$(jq -r '[.free[] | .start[11:16]] | join(" ")' "$T/body")" "08:00 10:30 13:00"

api PATCH /api/v1/institutes/CQU '{"name":"Chongqing Univ."}'
get
is "an institute's new name shows at once" "$(jq -r '.busy[0].institute' "$T/body")" "Chongqing Univ."

get
n=$(hits)
sqlite3 "$DB" "UPDATE reservations SET status = 'cancelled' WHERE id = $RB"
get
is "a change by another process shows at once (data_version)" "$(busy)" "blackout 12:00-13:00"
is "(not from the cache)" "$(hits)" "$n"

sqlite3 "$DB" "UPDATE instruments SET status = 'maintenance' WHERE code = 'ICPMS-1'"
get
is "so does an instrument's status" "$(jq -r '.status + " " + (.free | length | tostring)' "$T/body")" "maintenance 0"
sqlite3 "$DB" "UPDATE instruments SET status = 'active' WHERE code = 'ICPMS-1'"

get
get
n=$(hits)
api GET "$Q"
is "another caller is not given the member's answer" "$(hits)" "$n"
api GET "$Q"
is "but their own, kept" "$(hits)" $((n + 1))

PAST=$(TZ=Asia/Shanghai date -d '-1 day' +%F)
QP="/api/v1/instruments/ICPMS-1/availability?from=${PAST}T08:00:00%2B08:00&to=${D}T20:00:00%2B08:00"
n=$(hits)
TOKEN=$MEMBER_TOKEN api GET "$QP"
TOKEN=$MEMBER_TOKEN api GET "$QP"
is "a period starting in the past is never kept (free starts at now)" "$(hits)" "$n"
FAR=$(day 80)
QF="/api/v1/instruments/ICPMS-1/availability?from=${FAR}T08:00:00%2B08:00&to=$(day 81)T08:00:00%2B08:00"
api PATCH /api/v1/instruments/ICPMS-1 '{"rules":{"advance_days":60}}'
TOKEN=$MEMBER_TOKEN api GET "$QF"
TOKEN=$MEMBER_TOKEN api GET "$QF"
is "nor one reaching past the advance window (it moves with now)" "$(hits)" "$n"

check "yiqid stops cleanly" stop_daemon
done_testing
