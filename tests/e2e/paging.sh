#!/bin/sh
# paging.sh: the client's paged lists.  Every command that lists a paged
# resource (instruments, list, find, and the admin lists) takes --limit and
# --offset, sends them as the API's limit and offset, and under its table
# says which of how many it showed and how to get the next page when there
# may be more; before, `yiqi instruments` showed the first 100 of 105 and
# said nothing.  Each page is compared with the API's own answer.

. "${top_srcdir:-.}/tests/e2e/lib.sh"

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
setup_basic || not_ok "setting up"

# 104 more instruments, PG-000 to PG-103 (105 with ICPMS-1, listed first).
i=0
while [ $i -lt 104 ]; do
	code=$(printf 'PG-%03d' $i)
	api POST /api/v1/instruments "{\"code\":\"$code\",\"name\":\"Gauge $i\",\"category\":\"mass-spectrometry\",\"site\":\"HC-HTZ\",\"owner\":\"CQU\"}"
	[ "$STATUS" = 201 ] || not_ok "creating $code: $STATUS"
	i=$((i + 1))
done
export YIQI_TOKEN=$MEMBER_TOKEN

# codes FILE: the first column of a table's rows (not its heading), joined.
codes() {
	sed -n '2,$p' "$1" | grep -v '^(' | awk '{ print $1 }' | paste -sd' '
}
# api_codes PATH FIELD: the FIELD of each item the API lists at PATH.
api_codes() {
	TOKEN=$MEMBER_TOKEN api GET "$1"
	jq -r ".items[].$2" "$T/body" | paste -sd' '
}

y 0 "instruments" instruments
is "the first page is the API's first 100" "$(codes "$T/out")" \
    "$(api_codes "/api/v1/instruments" code)"
is "and under it, how many of how many, and the next page" \
    "$(tail -1 "$T/out")" "(100 of 105 shown; the next: --offset 100)"
y 0 "instruments --offset 100" instruments --offset 100
is "the last page" "$(codes "$T/out")" "PG-099 PG-100 PG-101 PG-102 PG-103"
is "says which they were, and no next page" "$(tail -1 "$T/out")" \
    "(101–105 of 105 shown)"
y 0 "instruments --limit 2 --offset 50" instruments --limit 2 --offset 50
is "a page in the middle" "$(codes "$T/out")" \
    "$(api_codes "/api/v1/instruments?limit=2&offset=50" code)"
is "with its next" "$(tail -1 "$T/out")" \
    "(51–52 of 105 shown; the next: --offset 52)"
y 0 "instruments --offset 105" instruments --offset 105
is "past the end: nothing, and why" "$(cat "$T/out")" \
    "No instruments match.
(none past the first 105 of 105)"
y 0 "instruments --search ICP (one page)" instruments --search ICP
check "a whole list says nothing more" sh -c "! grep -q '^(' '$T/out'"
y 0 "instruments --json --limit 3 --offset 4" --json instruments --limit 3 --offset 4
is "--json passes the page to the API and prints its answer" \
    "$(jq -c '[.limit, .offset, .total, [.items[].code]]' "$T/out")" \
    '[3,4,105,["PG-003","PG-004","PG-005"]]'

# The usage errors: before anything is sent, exit 2.
y 2 "--limit 0" instruments --limit 0
check "says the range" grep -q "from 1 to 1000" "$T/err"
y 2 "--offset -1" instruments --offset -1
check "says what it must be" grep -q -- "--offset must be a whole number of at least 0" "$T/err"
y 2 "--offset 1x" list --offset 1x
y 2 "list --offset past the API's 10,000" list --offset 10001
check "says the range" grep -q "from 0 to 10000" "$T/err"
y 2 "show takes no --offset" show ICPMS-1 --offset 1

# yiqi list: bookings of the member, paged.
NOW=$(date +%s)
BASE=$(( (NOW / 86400 + 2) * 86400 ))
k=0
while [ $k -lt 7 ]; do
	s=$(date -u -d "@$((BASE + k * 3600))" +%Y-%m-%dT%H:%M:%SZ)
	TOKEN=$MEMBER_TOKEN api POST /api/v1/reservations "{\"instrument\":\"PG-00$k\",\"start\":\"$s\",\"duration\":\"PT1H\"}"
	[ "$STATUS" = 201 ] || not_ok "booking $k: $STATUS"
	k=$((k + 1))
done
y 0 "list --limit 3 --offset 3" list --mine --limit 3 --offset 3
is "the page's bookings are the API's" "$(codes "$T/out")" \
    "$(api_codes "/api/v1/reservations?user=me&limit=3&offset=3" id)"
is "the note names the range, the total and the next page" \
    "$(tail -1 "$T/out")" \
    "(4–6 of 7 shown; the next: --offset 6, or narrow with --from and --to)"
y 0 "list --offset 6" list --mine --offset 6
is "the last one" "$(tail -1 "$T/out")" "(7–7 of 7 shown)"

# find: no total in the answer, so a full page may have more after it.
y 0 "find --limit 4" find --category mass-spectrometry --duration 1h --limit 4
is "four instruments, the API's" "$(codes "$T/out")" \
    "$(api_codes "/api/v1/availability?category=mass-spectrometry&duration=PT1H&limit=4" instrument)"
is "a full page: there may be more" "$(tail -1 "$T/out")" \
    "(4 shown; there may be more: --offset 4)"
y 0 "find --offset 100 --limit 10" find --category mass-spectrometry --duration 1h --offset 100 --limit 10
is "the last five" "$(codes "$T/out")" \
    "$(api_codes "/api/v1/availability?category=mass-spectrometry&duration=PT1H&limit=10&offset=100" instrument)"
is "a short page: the end" "$(tail -1 "$T/out")" "(101–105 shown)"
check "five of them" sh -c "[ \$(sed -n '2,\$p' '$T/out' | grep -vc '^(') -eq 5 ]"

# The admin lists.
unset YIQI_TOKEN
y 0 "admin audit --limit 2 --offset 1" --token "$ADMIN_TOKEN" admin audit --limit 2 --offset 1
is "two entries, after the first" "$(sed -n '2,3p' "$T/out" | awk '{ print $4, $5, $6 }' | paste -sd' ')" \
    "$(TOKEN= api GET "/api/v1/audit?limit=2&offset=1"; jq -r '.items[] | "\(.action) \(.object) \(.object_id)"' "$T/body" | paste -sd' ')"
is "there may be more" "$(tail -1 "$T/out")" \
    "(2–3 shown; there may be more: --offset 3)"
TOKEN= api GET "/api/v1/audit?limit=2&offset=1"
is "the audit answer says its page" "$(jq -c '[.limit, .offset]' "$T/body")" "[2,1]"

for k in 1 2 3; do
	s=$(date -u -d "@$((BASE + 86400 * k))" +%Y-%m-%dT%H:%M:%SZ)
	e=$(date -u -d "@$((BASE + 86400 * k + 3600))" +%Y-%m-%dT%H:%M:%SZ)
	TOKEN= api POST /api/v1/blackouts "{\"instrument\":\"ICPMS-1\",\"start\":\"$s\",\"end\":\"$e\",\"reason\":\"service $k\"}"
	[ "$STATUS" = 201 ] || not_ok "blackout $k: $STATUS"
done
y 0 "admin blackouts --limit 2" --token "$ADMIN_TOKEN" admin blackouts --instrument ICPMS-1 --limit 2
is "a full page of blackouts" "$(tail -1 "$T/out")" \
    "(2 shown; there may be more: --offset 2, or narrow with --from and --to)"
y 0 "admin blackouts --offset 2" --token "$ADMIN_TOKEN" admin blackouts --instrument ICPMS-1 --offset 2
check "the third" grep -q "service 3" "$T/out"
check "alone" sh -c "! grep -q 'service [12]' '$T/out'"
TOKEN= api GET "/api/v1/blackouts?instrument=ICPMS-1&limit=2"
is "the blackouts answer says its page" "$(jq -c '[.limit, .offset, (.items | length)]' "$T/body")" "[2,0,2]"

for code in PG-001 PG-002 PG-003; do
	TOKEN= api POST /api/v1/qualifications "{\"user\":\"wang\",\"instrument\":\"$code\"}"
	[ "$STATUS" = 201 ] || not_ok "qualifying on $code: $STATUS"
done
y 0 "admin qualifications --limit 2 --offset 1" --token "$ADMIN_TOKEN" admin qualifications --limit 2 --offset 1
is "the page's qualifications" "$(sed -n '2,$p' "$T/out" | grep -v '^(' | awk '{ print $3 }' | paste -sd' ')" "PG-002 PG-003"
is "the note" "$(tail -1 "$T/out")" "(2–3 shown; there may be more: --offset 3)"

check "yiqid stops cleanly" stop_daemon
done_testing
