#!/bin/sh
# list-cap.sh: the reservations list counts at most 10,000 bookings (so a
# list without filters at a million bookings answers in milliseconds, not
# half a second of the event loop): past that "total" is 10,000 and
# "total_capped" is true, which the client reads as "more than"; below it
# the total is exact and total_capped absent; offset past 10,000 is 400.
# Lists by status (a walk of a partial index per status, merged in start
# order) list exactly what they should: one status, several, confirmed
# (not checked in and checked in) among them or alone.

. "${top_srcdir:-.}/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic
stop_daemon || not_ok "yiqid stops"

NOW=$(date +%s)
seed_bookings 10050 wang $((NOW - 10000 * 3600)) 3600 1800 ||
    not_ok "seeding 10,050 bookings"
start_daemon || { not_ok "yiqid starts with the bookings"; done_testing; }

TOKEN=$MEMBER_TOKEN api GET /api/v1/reservations
is "the whole list answers" "$STATUS" 200
is "its total stops at 10,000 and says so" \
    "$(jq -c '[.total, .total_capped, (.items | length), .limit, .offset]' "$T/body")" \
    "[10000,true,100,100,0]"
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?instrument=ICPMS-1&user=me"
is "so does a filtered one that matches more" \
    "$(jq -c '[.total, .total_capped]' "$T/body")" "[10000,true]"
FROM=$(date -u -d "@$((NOW - 60 * 3600))" +%Y-%m-%dT%H:%M:%SZ)
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?from=$FROM"
is "below the cap the total is exact, and total_capped absent" \
    "$(jq -c '[.total, .total_capped, (.items | length)]' "$T/body")" "[110,null,100]"
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?offset=10000&limit=100"
is "offset 10,000 is the last page one may ask" "$(jq -c '[.offset, (.items | length)]' "$T/body")" "[10000,50]"
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?offset=10001"
is "offset past 10,000 is 400" "$STATUS" 400
is "naming the field" "$(jq -r .error.field "$T/body")" offset

YIQI_TOKEN=$MEMBER_TOKEN "$YIQI" list --limit 3 > "$T/out" 2> "$T/err"
is "yiqi list exits 0" "$?" 0
check "and says how many more, roughly" grep -q "^(3 of more than 10000 shown" "$T/out"
YIQI_TOKEN=$MEMBER_TOKEN "$YIQI" list --from "$(TZ=Asia/Shanghai date -d "@$((NOW - 60 * 3600))" '+%F %H:%M')" --limit 3 > "$T/out" 2> "$T/err"
check "below the cap, exactly" grep -q "^(3 of 110 shown" "$T/out"

# Lists of one status other than confirmed go through the partial index
# reservations_status (migration 0010); they must list exactly what the
# general query lists, in start order, with exact totals and pages.
check "yiqid stops before the statuses change" stop_daemon
check "the status index exists" sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM
    sqlite_master WHERE name = 'reservations_status'\")\" = 1 ]"
sqlite3 "$DB" "UPDATE reservations SET status = 'no_show' WHERE uid LIKE 'seed-%'
    AND CAST(substr(uid, 6) AS INTEGER) % 1000 = 7;
    UPDATE reservations SET status = 'cancelled' WHERE uid LIKE 'seed-%' AND CAST(substr(uid, 6) AS INTEGER) % 500 = 3" ||
    not_ok "changing statuses"
# db_ids CONDITION [LIMIT]: how many bookings meet it (up to LIMIT,
# default 100) and their ids in the list's order, from the database.
db_ids() {
	sqlite3 "$DB" "SELECT count(*), group_concat(id) FROM (SELECT id FROM
	    reservations WHERE $1 ORDER BY start, id LIMIT ${2:-100})" | tr '|' ' '
}
# listed: the answer's total and its ids in order, as [TOTAL,"ID,ID,..."].
listed() { jq -c '[.total, ([.items[].id] | join(","))]' "$T/body"; }
set -- $(db_ids "status = 'no_show'")
NS=$2
start_daemon || { not_ok "yiqid starts again"; done_testing; }
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=no_show"
is "status=no_show lists them all, in start order" \
    "$(jq -c '[.total, .total_capped, ([.items[].id] | join(","))]' "$T/body")" \
    "[11,null,\"$NS\"]"
is "... each of them no_show" "$(jq -c '[.items[].status] | unique' "$T/body")" \
    '["no_show"]'
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=no_show&limit=3&offset=3"
is "a page of them" "$(listed)" "[11,\"$(echo "$NS" | cut -d, -f4-6)\"]"
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=no_show&instrument=ICPMS-1"
is "the same through the instrument's index" "$(listed)" "[11,\"$NS\"]"
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=cancelled"
is "status=cancelled: 21" "$(jq -c '[.total, (.items | length)]' "$T/body")" "[21,21]"
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=cancelled,no_show"
is "two statuses: 32" "$(jq -c '[.total, (.items | length)]' "$T/body")" "[32,32]"
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=rejected"
is "none rejected" "$(jq -c '[.total, .items]' "$T/body")" "[0,[]]"
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=no_show&from=$FROM"
is "with from: the one not yet past" "$(jq -c '[.total, .items[0].id]' "$T/body")" \
    "[1,$(echo "$NS" | cut -d, -f11)]"

# Lists of several statuses: one walk per status (a partial index each;
# confirmed is two, not checked in and checked in) merged in start order.
# They must list what the general query lists: the bookings of those
# statuses, in start order (the last cancellation, moved before every
# other booking, first), pages and totals exact.
check "yiqid stops before more statuses change" stop_daemon
sqlite3 "$DB" "UPDATE reservations SET status = 'rejected' WHERE uid = 'seed-4000@test';
    UPDATE reservations SET status = 'pending' WHERE uid = 'seed-9000@test';
    UPDATE reservations SET checked_in = start WHERE uid = 'seed-20@test';
    UPDATE reservations SET start = start - 20000 * 3600, \"end\" = \"end\" - 20000 * 3600
      WHERE id = (SELECT max(id) FROM reservations WHERE status = 'cancelled')" ||
    not_ok "a rejection, a pending booking, a check-in, a cancellation moved first"
start_daemon || { not_ok "yiqid starts again"; done_testing; }
for q in cancelled,no_show no_show,rejected rejected,no_show,no_show \
    pending,confirmed confirmed,cancelled \
    pending,rejected,cancelled,completed,no_show,confirmed; do
	c="status IN ('$(echo "$q" | sed "s/,/', '/g")')"
	set -- $(db_ids "$c")
	n=$(sqlite3 "$DB" "SELECT min(count(*), 10000) FROM reservations WHERE $c")
	TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=$q"
	is "status=$q: those bookings, in start order" \
	    "$(listed)" "[$n,\"$2\"]"
done
set -- $(db_ids "status IN ('cancelled', 'no_show')")
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=no_show,cancelled&limit=5&offset=7"
is "a page of two statuses" "$(listed)" \
    "[$1,\"$(echo "$2" | cut -d, -f8-12)\"]"
set -- $(db_ids "status IN ('pending', 'confirmed') AND \"end\" > $((NOW - 60 * 3600))" 1000)
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=pending,confirmed&from=$FROM&limit=1000"
is "two statuses with from" "$(listed)" "[$1,\"$2\"]"
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=rejected,pending&limit=1"
is "the rarest two, one page of one" \
    "$(jq -c '[.total, .items[0].status, .items[0].uid]' "$T/body")" \
    '[2,"rejected","seed-4000@test"]'

# Lists of confirmed alone: the two walks of confirmed bookings (not
# checked in, checked in) merged; exactly the confirmed ones, in start
# order, the earliest checked in among them.
check "yiqid stops before a booking is checked in" stop_daemon
sqlite3 "$DB" "UPDATE reservations SET checked_in = start WHERE uid = 'seed-0@test'" ||
    not_ok "checking in the earliest booking"
set -- $(db_ids "status = 'confirmed'")
C0=$2
start_daemon || { not_ok "yiqid starts again"; done_testing; }
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=confirmed"
is "status=confirmed: the first page, from the checked-in earliest one" \
    "$(jq -c '[.total, .total_capped, ([.items[].id] | join(","))]' "$T/body")" \
    "[10000,true,\"$C0\"]"
is "... each of them confirmed" "$(jq -c '[.items[].status] | unique' "$T/body")" \
    '["confirmed"]'
set -- $(db_ids "status = 'confirmed' AND \"end\" > $((NOW - 60 * 3600))" 1000)
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=confirmed&from=$FROM&limit=1000"
is "with from: exactly those ending after it" \
    "$(listed)" "[$1,\"$2\"]"
check "yiqid stops before nothing is confirmed" stop_daemon
sqlite3 "$DB" "UPDATE reservations SET status = 'completed' WHERE status = 'confirmed'" ||
    not_ok "completing every booking"
start_daemon || { not_ok "yiqid starts again"; done_testing; }
TOKEN=$MEMBER_TOKEN api GET "/api/v1/reservations?status=confirmed"
is "none confirmed: an empty list" "$(jq -c '[.total, .items]' "$T/body")" "[0,[]]"

check "yiqid stops cleanly" stop_daemon
done_testing
