#!/bin/sh
# tests/e2e/reports2.sh: the client side of the utilisation report and of
# the instrument registry.  "yiqi report"'s default table shows the
# sharing-platform figures (docs/reports.md) in a second table, checked
# against a small hand-computed fixture; "yiqi admin instruments add|set"
# set the registry fields (purchase value in yuan, acquisition date,
# classification code, responsible person) and refuse bad values.
#
# The week of 2026-03-02 (Mon) to 2026-03-09, Asia/Shanghai, both 24/7:
#   A (owner CQU): a1 cq 09:00-11:00 checked in 09:00-10:30 (1.5 h used),
#      a2 hx Tue 00:00-Wed 00:00 completed without check-in (24 h booked),
#      a3 sc Wed 08:00-10:00 no-show (0 h).
#      effective 25.5 h (mixed), external service 24 h, sharing 24/25.5,
#      served 1 (HCX; a no-show serves nobody), baseline 1,400 * 7 / 365 =
#      26.85 h, 25.5 / 26.85 = 95.0 %, saturated (>= 1,200 * 7 / 365).
#   B (owner HCX): b1 cq Thu 10:00-12:00 checked in 10:00-11:00: effective
#      1 h (used), all external, served 1 (CQU), 3.7 %, not saturated.
# Users: cq (CQU, hechuan), hx (HCX, hechuan), sc (SCU, wusheng).

. "${top_srcdir:-.}/tests/e2e/lib.sh"

ts() {
	date -d "$1" +%s
}

sql() {
	sqlite3 -cmd '.timeout 5000' "$DB" "$1"
}

# booking ID INSTRUMENT LOGIN START END STATUS [IN OUT]
booking() {
	ci=NULL
	co=NULL
	if [ $# -ge 8 ]; then
		ci=$(ts "$7")
		co=$(ts "$8")
	fi
	sql "INSERT INTO reservations (uid, instrument_id, user_id, institute_id,
	    start, \"end\", status, created, updated, checked_in, checked_out,
	    created_by) SELECT '$1@test', i.id, u.id, u.institute_id,
	    $(ts "$4"), $(ts "$5"), '$6', 0, 0, $ci, $co, u.id
	    FROM instruments i, users u WHERE i.code = '$2' AND u.login = '$3'"
}

# y STATUS NAME ARGS...: run yiqi as the admin, expect exit STATUS.
y() {
	want=$1
	name=$2
	shift 2
	"$YIQI" "$@" > "$T/out" 2> "$T/err"
	is "$name: exit $want" "$?" "$want"
}

reg() {
	api GET "/api/v1/instruments/$1"
	jq -r '[.purchase_value, .acquisition_date, .classification_code,
	    .responsible_person] | map(tostring) | join("|")' "$T/body"
}

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }
export YIQI_TOKEN=$ADMIN_TOKEN

api POST /api/v1/sites '{"code":"HC-HTZ","name":"Hechuan Hi-tech Zone","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"CQU","name":"Chongqing University","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"HCX","name":"Hechuan Instruments Co","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"SCU","name":"Sichuan Lab","district":"wusheng"}'
for u in cq:CQU hx:HCX sc:SCU; do
	api POST /api/v1/users "{\"login\":\"${u%%:*}\",\"name\":\"${u%%:*}\",\"institute\":\"${u#*:}\"}"
done

# --- The registry options of yiqi admin instruments -----------------------
y 0 "add with the registry options" admin instruments add A --name "Mass spec" \
    --site HC-HTZ --owner CQU --purchase-value 1250000.50 \
    --acquisition-date 2019-06-18 --classification-code 03040709 \
    --responsible-person "Li, Wei"
is "registry fields stored (yuan -> fen)" "$(reg A)" \
    "125000050|2019-06-18|03040709|Li, Wei"
y 0 "add without them" admin instruments add B --name "SEM" --site HC-HTZ \
    --owner HCX
is "registry defaults" "$(reg B)" "0|||"
y 0 "set a whole number of yuan" admin instruments set B --purchase-value 7
is "7 yuan is 700 fen" "$(reg B)" "700|||"
y 0 "set one decimal" admin instruments set B --purchase-value 0.5 \
    --responsible-person "王芳"
is "0.5 yuan is 50 fen; UTF-8 name" "$(reg B)" "50|||王芳"
y 0 "the largest value" admin instruments set B --purchase-value 100000000000
is "100,000,000,000 yuan" "$(reg B | cut -d'|' -f1)" 10000000000000
for bad in 12.345 -1 1. .5 1e5 "" 12,5 100000000000.01 " 1"; do
	y 2 "--purchase-value '$bad' is refused" admin instruments set B \
	    --purchase-value "$bad"
	check "--purchase-value '$bad': the message says what is expected" \
	    grep -q "^yiqi: --purchase-value must be an amount in yuan .*with at most 2 decimals" "$T/err"
done
is "nothing changed by the refused values" "$(reg B | cut -d'|' -f1)" 10000000000000
y 1 "an impossible acquisition date is refused by the server" \
    admin instruments set A --acquisition-date 2021-02-29
check "naming acquisition_date" grep -q "acquisition_date" "$T/err"
is "A unchanged after the refused date" "$(reg A)" \
    "125000050|2019-06-18|03040709|Li, Wei"
y 0 "an empty date clears it" admin instruments set A --acquisition-date ""
is "acquisition date cleared" "$(reg A | cut -d'|' -f2)" ""
y 0 "set the date again" admin instruments set A --acquisition-date 2024-02-29
is "a leap day is a date" "$(reg A | cut -d'|' -f2)" 2024-02-29
api POST /api/v1/users '{"login":"mgr","name":"Manager","institute":"CQU","role":"manager","manages":["A"]}'
is "a manager of A created" "$STATUS" 201
MGR=$(api POST /api/v1/users/mgr/tokens '{}'; jq -r .token "$T/body")
YIQI_TOKEN=$MGR "$YIQI" admin instruments set A --purchase-value 1 > /dev/null 2> "$T/err"
is "a manager may not change the purchase value: exit 4" "$?" 4
is "A's value unchanged" "$(reg A | cut -d'|' -f1)" 125000050
check "the options are in yiqi(1)" grep -q "^\.Fl -purchase-value" \
    "${top_srcdir:-.}/docs/yiqi.1"

# --- The sharing-platform table of yiqi report ----------------------------
api PATCH /api/v1/instruments/A '{"rules":{"opening_hours":"24/7"}}'
api PATCH /api/v1/instruments/B '{"rules":{"opening_hours":"24/7"}}'
Z=+08:00
booking a1 A cq "2026-03-02T09:00$Z" "2026-03-02T11:00$Z" completed \
    "2026-03-02T09:00$Z" "2026-03-02T10:30$Z"
booking a2 A hx "2026-03-03T00:00$Z" "2026-03-04T00:00$Z" completed
booking a3 A sc "2026-03-04T08:00$Z" "2026-03-04T10:00$Z" no_show
booking b1 B cq "2026-03-05T10:00$Z" "2026-03-05T12:00$Z" completed \
    "2026-03-05T10:00$Z" "2026-03-05T11:00$Z"
is "fixture inserted" "$(sql 'SELECT count(*) FROM reservations')" 4

F="--from 2026-03-02T00:00+08:00 --to 2026-03-09T00:00+08:00"
y 0 "yiqi report" report $F
cp "$T/out" "$T/table"
sed 's/^/# /' "$T/table"
check "the first table is unchanged: A's row" \
    grep -Eq "^A +168\.00 +28\.00 +16\.7% +1\.50 +3 +0 +0 +1 +26\.00 +92\.9% +2\.00 +0\.00$" "$T/table"
check "a second table headed by the sharing-platform figures" \
    grep -Eq "^instrument +effective_h +basis +ext_service_h +sharing +served +baseline_h +baseline_util +saturated$" "$T/table"
check "it names the baseline and threshold" \
    grep -q "baseline 1400 h/yr, saturated from 1200 h/yr" "$T/table"
check "A: 25.5 h effective (mixed), 24 h external, 94.1 %, 1 served, 26.85 h baseline, 95.0 %, saturated" \
    grep -Eq "^A +25\.50 +mixed +24\.00 +94\.1% +1 +26\.85 +95\.0% +yes$" "$T/table"
check "B: 1 h (used), 1 h external, 100 %, 1 served, 3.7 %, not saturated" \
    grep -Eq "^B +1\.00 +used +1\.00 +100\.0% +1 +26\.85 +3\.7% +no$" "$T/table"
check "total: 26.5 h, 2 institutes served, 53.70 h baseline, 49.3 %" \
    grep -Eq "^total +26\.50 +mixed +25\.00 +94\.3% +2 +53\.70 +49\.3% +no$" "$T/table"
W=$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/table")
check "no line wider than 120 columns ($W)" [ "$W" -le 120 ]
check "the first table's header" grep -Eq "^instrument +avail_h +booked_h +util +used_h +bookings +cancel +late +noshow +ext_h +sharing +cross_h +charges$" "$T/table"
y 0 "yiqi report --by institute" report $F --by institute
check "by institute: CQU 2.5 h (used), 1 h external, 40 %, no baseline" \
    grep -Eq "^CQU +2\.50 +used +1\.00 +40\.0% +- +- +- +-$" "$T/out"
check "by institute: HCX 24 h, all of it booked hours" \
    grep -Eq "^HCX +24\.00 +booked +24\.00 +100\.0% +- +- +- +-$" "$T/out"
check "by institute: SCU only a no-show: none" \
    grep -Eq "^SCU +0\.00 +none +0\.00 +- +- +- +- +-$" "$T/out"
y 0 "yiqi report --by owner -o FILE" report $F --by owner -o "$T/owner.txt"
check "by owner: CQU's row in the file" \
    grep -Eq "^CQU +25\.50 +mixed +24\.00 +94\.1% +1 +26\.85 +95\.0% +yes$" "$T/owner.txt"
y 0 "--format csv has no table" report $F --format csv
check "csv output has no sharing table" sh -c "! grep -q 'Open sharing' '$T/out'"

check "yiqid stops cleanly" stop_daemon
done_testing
