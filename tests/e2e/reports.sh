#!/bin/sh
# tests/e2e/reports.sh: the utilisation report (docs/reports.md) on a
# hand-computed fixture.  Places, users and instruments come through the
# API; bookings, check-in times, no-shows and blackouts are written with
# sqlite3 (the API cannot put them in the past).  Every figure of every
# grouping and of the settlement is asserted exactly, in JSON and in CSV;
# then permissions, bad input, the HTML page and the client.
#
# The week of 2026-03-02 (Mon) to 2026-03-09, Asia/Shanghai:
#   ICPMS-1  HC-HTZ (hechuan), owner CQU, Mon-Fri 08:00-18:00, 100/200 yuan/h
#            blackouts: Sun 20:00-Mon 09:00 (1 h open in period), Tue
#            12:00-14:00 + 13:00-15:00 (3 h union), site Wed 17:00-20:00
#            (1 h open): available 50 - 5 = 45 h
#   SEM-1    WS-JZ (wusheng), owner SCU, 24/7, 10/33.33 yuan/h;
#            site blackout Sat: available 168 - 24 = 144 h
#   NMR-1    WS-JZ, owner SCU, in maintenance: available 0, 20 yuan/h
# Users: cq (CQU, hechuan), hx (HCX, hechuan), sc (SCU, wusheng).

. "${top_srcdir:-.}/tests/e2e/lib.sh"

P3=/usr/bin/python3

ts() {
	date -d "$1" +%s
}

sql() {
	sqlite3 -cmd '.timeout 5000' "$DB" "$1"
}

token_of() {
	api POST "/api/v1/users/$1/tokens" '{}'
	sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$T/body"
}

# [LATE=1] [UT=TYPE] booking ID-PREFIX INSTRUMENT LOGIN START END STATUS
#     [UPDATED [IN OUT]]: LATE sets the late_cancellation flag the workflow
#     records at cancel time, UT the usage type (default research).
booking() {
	s=$(ts "$4")
	e=$(ts "$5")
	u=${7:+$(ts "$7")}
	u=${u:-$s}
	ci=NULL
	co=NULL
	if [ $# -ge 9 ]; then
		ci=$(ts "$8")
		co=$(ts "$9")
	fi
	sql "INSERT INTO reservations (uid, instrument_id, user_id, institute_id,
	    start, \"end\", status, created, updated, checked_in, checked_out,
	    created_by, late_cancellation, usage_type) SELECT '$1@test', i.id,
	    u.id, u.institute_id, $s, $e, '$6', $s - 86400 * 7, $u, $ci, $co,
	    u.id, ${LATE:-0}, '${UT:-research}' FROM instruments i, users u
	    WHERE i.code = '$2' AND u.login = '$3'"
}

blackout() {
	sql "INSERT INTO blackouts (instrument_id, site_id, start, \"end\",
	    created) VALUES ((SELECT id FROM instruments WHERE code = '$1'),
	    (SELECT id FROM sites WHERE code = '$2'), $(ts "$3"), $(ts "$4"), 0)"
}

init_db
start_daemon || { not_ok "yiqid starts"; done_testing; }

api POST /api/v1/sites '{"code":"HC-HTZ","name":"Hechuan Hi-tech Zone","district":"hechuan"}'
api POST /api/v1/sites '{"code":"WS-JZ","name":"Wusheng Jiezi","district":"wusheng"}'
api POST /api/v1/institutes '{"code":"CQU","name":"Chongqing University","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"HCX","name":"Hechuan Instruments Co","district":"hechuan"}'
api POST /api/v1/institutes '{"code":"SCU","name":"Sichuan Lab","district":"wusheng"}'
api POST /api/v1/instruments '{"code":"ICPMS-1","name":"ICP-MS","category":"mass-spectrometry","model":"7900","site":"HC-HTZ","owner":"CQU","purchase_value":285000000,"acquisition_date":"2019-06-18","classification_code":"03040709","responsible_person":"Li, Wei","rules":{"opening_hours":"Mon-Fri 08:00-18:00","rate_internal":10000,"rate_external":20000}}'
is "instrument with opening hours created" "$STATUS" 201
api POST /api/v1/instruments '{"code":"SEM-1","name":"SEM","category":"microscopy","site":"WS-JZ","owner":"SCU","rules":{"rate_internal":1000,"rate_external":3333}}'
api POST /api/v1/instruments '{"code":"NMR-1","name":"NMR","category":"nmr","site":"WS-JZ","owner":"SCU","rules":{"rate_internal":2000,"rate_external":4000}}'
sql "UPDATE instruments SET status = 'maintenance' WHERE code = 'NMR-1'"
for u in cq:CQU hx:HCX sc:SCU; do
	api POST /api/v1/users "{\"login\":\"${u%%:*}\",\"name\":\"${u%%:*}\",\"institute\":\"${u#*:}\"}"
done
api POST /api/v1/users '{"login":"pmws","name":"PM Wusheng","institute":"SCU","role":"park_manager","sites":["WS-JZ"]}'
is "park manager of one site created" "$STATUS" 201
api POST /api/v1/users '{"login":"pmall","name":"PM all","institute":"CQU","role":"park_manager"}'
api POST /api/v1/users '{"login":"mgr","name":"Manager","institute":"CQU","role":"manager","manages":["ICPMS-1"]}'
MEMBER=$(token_of cq)
PMWS=$(token_of pmws)
PMALL=$(token_of pmall)
MGR=$(token_of mgr)

Z=+08:00
blackout ICPMS-1 "" "2026-03-01T20:00$Z" "2026-03-02T09:00$Z"
blackout ICPMS-1 "" "2026-03-03T12:00$Z" "2026-03-03T14:00$Z"
blackout ICPMS-1 "" "2026-03-03T13:00$Z" "2026-03-03T15:00$Z"
blackout "" HC-HTZ "2026-03-04T17:00$Z" "2026-03-04T20:00$Z"
blackout "" WS-JZ "2026-03-07T00:00$Z" "2026-03-08T00:00$Z"

booking a1 ICPMS-1 cq "2026-03-02T09:00$Z" "2026-03-02T11:00$Z" completed "" \
    "2026-03-02T09:05$Z" "2026-03-02T10:50$Z"
UT=service booking a2 ICPMS-1 sc "2026-03-03T08:00$Z" "2026-03-03T10:00$Z" confirmed
UT=teaching booking a3 ICPMS-1 hx "2026-03-04T09:00$Z" "2026-03-04T10:30$Z" no_show
LATE=1 booking a5 ICPMS-1 cq "2026-03-05T09:00$Z" "2026-03-05T10:00$Z" cancelled \
    "2026-03-04T20:00$Z"
booking a6 ICPMS-1 hx "2026-03-06T09:00$Z" "2026-03-06T11:00$Z" cancelled \
    "2026-03-02T08:00$Z"
booking a7 ICPMS-1 cq "2026-03-06T14:00$Z" "2026-03-06T15:00$Z" pending
UT=open booking b1 SEM-1 sc "2026-03-01T22:00$Z" "2026-03-02T04:00$Z" completed "" \
    "2026-03-01T22:00$Z" "2026-03-02T03:30$Z"
UT=teaching booking b2 SEM-1 cq "2026-03-08T22:00$Z" "2026-03-09T01:30$Z" confirmed
UT=service booking b3 SEM-1 hx "2026-03-05T10:00$Z" "2026-03-05T10:30$Z" completed "" \
    "2026-03-05T10:00$Z" "2026-03-05T10:30$Z"
booking b4 SEM-1 hx "2026-03-05T11:00$Z" "2026-03-05T11:15$Z" confirmed
booking b5 SEM-1 sc "2026-03-05T12:00$Z" "2026-03-05T13:00$Z" rejected
booking b6 SEM-1 sc "2026-03-06T12:00$Z" "2026-03-06T13:00$Z" cancelled \
    "2026-03-06T12:30$Z"
booking b7 SEM-1 sc "2026-03-10T12:00$Z" "2026-03-10T13:00$Z" completed
booking c1 NMR-1 sc "2026-03-03T10:00$Z" "2026-03-03T12:00$Z" completed
is "fixture inserted" "$(sql 'SELECT count(*) FROM reservations')" 14

# The registry fields: JSON, validation, who may change them.
api PATCH /api/v1/instruments/SEM-1 '{"purchase_value":120000000,"acquisition_date":"2021-11-30","classification_code":"03040101","responsible_person":"王芳"}'
is "registry fields set by PATCH: 200" "$STATUS" 200
is "registry fields in the instrument's JSON" \
    "$("$P3" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["purchase_value"], d["acquisition_date"], d["classification_code"], d["responsible_person"], "purchase_value" in d["rules"])' "$T/body")" \
    "120000000 2021-11-30 03040101 王芳 False"
api GET /api/v1/instruments/NMR-1
is "registry defaults" \
    "$("$P3" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(repr((d["purchase_value"], d["acquisition_date"], d["classification_code"], d["responsible_person"])))' "$T/body")" \
    "(0, '', '', '')"
for bad in '"acquisition_date":"2021-02-29":acquisition_date' \
    '"acquisition_date":"2021-6-1":acquisition_date' \
    '"acquisition_date":"2024-02-30":acquisition_date' \
    '"purchase_value":-1:purchase_value' \
    '"purchase_value":"100":purchase_value' \
    '"responsible_person":7:responsible_person'; do
	api PATCH /api/v1/instruments/NMR-1 "{${bad%:*}}"
	is "bad ${bad%:*}: 400 naming ${bad##*:}" \
	    "$STATUS $(sed -n 's/.*"field":"\([^"]*\)".*/\1/p' "$T/body")" \
	    "400 ${bad##*:}"
done
api PATCH /api/v1/instruments/NMR-1 '{"acquisition_date":"2024-02-29"}'
is "a leap day is a date" "$STATUS" 200
api PATCH /api/v1/instruments/NMR-1 '{"acquisition_date":null}'
is "acquisition_date cleared with null" \
    "$STATUS $(sed -n 's/.*"acquisition_date":"\([^"]*\)".*/[\1]/p' "$T/body")" "200 []"
TOKEN=$MGR api PATCH /api/v1/instruments/ICPMS-1 '{"purchase_value":1}'
is "a manager may not change the purchase value" "$STATUS" 403
printf 'code,name,site,owner,purchase_value,acquisition_date,classification_code,responsible_person\r\nXRD-9,XRD,HC-HTZ,CQU,99900,2020-01-02,03040202,"Zhao, Lei"\r\n' > "$T/inv.csv"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: text/csv' --data-binary @"$T/inv.csv" "$SERVER/api/v1/import/instruments")
is "CSV import takes the registry columns" "$STATUS" 200
api GET /api/v1/instruments/XRD-9
is "imported registry fields" \
    "$("$P3" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["purchase_value"], d["acquisition_date"], d["classification_code"], d["responsible_person"])' "$T/body")" \
    "99900 2020-01-02 03040202 Zhao, Lei"
api PATCH /api/v1/instruments/XRD-9 '{"status":"retired"}'


Q="from=2026-03-02T00:00:00%2B08:00&to=2026-03-09T00:00:00%2B08:00"

# The expected figures, as Python literals: (key, available_h, booked_h,
# used_h, bookings, cancellations, late, no_shows, external_h,
# cross_district_h, charges); ratios are derived from them.  Late
# cancellations are the flags recorded at cancel time: a5 (its owner, 13 h
# ahead) is late; a6 (4 days ahead) and b6 (cancelled after its start by a
# manager: flag 0) are not, whatever "updated" says.
# The sharing-platform figures, per instrument: (effective_h, basis,
# effective_booked_h, external_service_h, institutes served, active
# instruments for the baseline, booked hours by usage type (research,
# teaching, service, open)).  Effective hours are the checked-in hours of
# a1, b1, b3 and the booked hours of a2, b2, b4, c1 (no check-in); the
# no-show a3 has none.
cat > "$T/expect.py" <<'EOF'
A = ("ICPMS-1", 45, 5.5, 1.75, 3, 2, 1, 1, 3.5, 2, 90000)
B = ("SEM-1", 144, 6.75, 4.0, 4, 1, 0, 0, 2.75, 2.75, 13166)
C = ("NMR-1", 0, 2, 0, 1, 0, 0, 0, 0, 0, 4000)
PLAT = {
    "ICPMS-1": (3.75, "mixed", 2, 2, {"SCU"}, 1, (2, 1.5, 2, 0)),
    "SEM-1": (6.25, "mixed", 2.25, 2.75, {"CQU", "HCX"}, 1, (.25, 2, .5, 4)),
    "NMR-1": (2, "booked", 2, 0, set(), 0, (2, 0, 0, 0)),
    # the users' institutes: no institutes served, no baseline
    "CQU": (3.75, "mixed", 2, 2, None, None, (2, 2, 0, 0)),
    "HCX": (0.75, "mixed", 0.25, 0.75, None, None, (0.25, 1.5, 0.5, 0)),
    "SCU": (7.5, "mixed", 4, 2, None, None, (2, 0, 2, 4)),
}
import os
BASE = int(os.environ.get("BASE", 1400))
SAT = int(os.environ.get("SAT", 1200))
PERIOD = 7 * 86400
def basis(bs):
    bs = set(bs) - {"none"}
    return "none" if not bs else bs.pop() if len(bs) == 1 else "mixed"
def pplus(*keys):
    ps = [PLAT[k] for k in keys]
    return (sum(p[0] for p in ps), basis(p[1] for p in ps),
        sum(p[2] for p in ps), sum(p[3] for p in ps),
        set().union(*[p[4] for p in ps]), sum(p[5] for p in ps),
        tuple(sum(p[6][i] for p in ps) for i in range(4)))
def plus(key, *rows):
    if key is not None and key not in PLAT:
        PLAT[key] = pplus(*[r[0] for r in rows])
    return (key,) + tuple(sum(r[i] for r in rows) for i in range(1, 11))
TOTAL = plus(None, A, B, C)
PTOTAL = pplus("ICPMS-1", "SEM-1", "NMR-1")
PLAT_OWNER = {"CQU": pplus("ICPMS-1"), "SCU": pplus("SEM-1", "NMR-1")}
GROUPS = {
    "instrument": [A, C, B],
    "site": [plus("HC-HTZ", A), plus("WS-JZ", B, C)],
    "category": [plus("mass-spectrometry", A), plus("microscopy", B),
        plus("nmr", C)],
    "district": [plus("hechuan", A), plus("wusheng", B, C)],
    "owner": [("CQU",) + plus(None, A)[1:], ("SCU",) + plus(None, B, C)[1:]],
    "institute": [("CQU", None, 4, 1.75, 2, 1, 1, 0, 2, 2, 26666),
        ("HCX", None, 2.25, 0.5, 3, 1, 0, 1, 2.25, 0.75, 32500),
        ("SCU", None, 8, 3.5, 3, 1, 0, 0, 2, 2, 48000)],
}
DISTRICT = [("district", "hechuan", "wusheng", 3, 2.75, 9166),
    ("district", "wusheng", "hechuan", 1, 2, 40000)]
INSTITUTE = [("institute", "CQU", "SCU", 1, 2, 6666),
    ("institute", "HCX", "CQU", 1, 1.5, 30000),
    ("institute", "HCX", "SCU", 2, 0.75, 2500),
    ("institute", "SCU", "CQU", 1, 2, 40000)]
# The park manager of WS-JZ sees only SEM-1 and NMR-1.
PM = {"site": [plus("WS-JZ", B, C)]}
PM_TOTAL = plus(None, B, C)
PM_PTOTAL = pplus("SEM-1", "NMR-1")
PM_DISTRICT = [DISTRICT[0]]
USAGE = ("research", "teaching", "service", "open")

def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b

def platform(p):
    eff, bas, fb, svc, served, nb, use = p
    d = {"effective_h": eff, "effective_basis": bas,
        "effective_booked_h": fb, "external_service_h": svc,
        "effective_sharing_rate": ratio(svc, eff),
        "institutes_served": None if served is None else len(served),
        "baseline_h": None, "baseline_utilisation": None, "saturated": None,
        "usage_h": dict(zip(USAGE, use))}
    if nb:
        d["baseline_h"] = BASE * PERIOD * nb / (365 * 86400)
        d["baseline_utilisation"] = eff / d["baseline_h"]
        d["saturated"] = eff * 365 * 86400 >= SAT * PERIOD * nb
    return d

def figures(e, p):
    key, av, bk, us, n, ca, la, ns, ex, cr, ch = e
    d = {"key": key, "available_h": av, "booked_h": bk, "used_h": us,
        "utilisation": ratio(bk, av), "use_rate": ratio(us, av),
        "bookings": n, "cancellations": ca, "late_cancellations": la,
        "no_shows": ns, "external_h": ex, "sharing_rate": ratio(ex, bk),
        "cross_district_h": cr, "charges": ch}
    d.update(platform(p))
    return d
EOF

# check_report MODE BY FILE: compare a JSON or CSV answer with expect.py;
# prints the differences, exits non-zero on any.
cat > "$T/check.py" <<'EOF'
import csv, io, json, sys
sys.path.insert(0, sys.argv[4])
from expect import *
mode, by, path = sys.argv[1], sys.argv[2], sys.argv[3]
pm = len(sys.argv) > 5
groups = (PM if pm else GROUPS)[by]
total = PM_TOTAL if pm else TOTAL
ptotal = PM_PTOTAL if pm else PTOTAL
plat = PLAT_OWNER if by == "owner" else PLAT
settle = (PM_DISTRICT if pm else DISTRICT) + \
    (INSTITUTE if by == "institute" else [])
bad = []
def cmp(where, got, want):
    for k, v in want.items():
        if k == "key" and v is None:
            continue
        g = got.get(k, "missing")
        if g != v or (v is None) != (g is None) or \
            (type(v) is bool) != (type(g) is bool):
            bad.append("%s %s: got %r want %r" % (where, k, g, v))
def num(s, integer):
    if s == "":
        return None
    return int(s) if integer else float(s)
INTS = ("bookings", "cancellations", "late_cancellations", "no_shows",
    "charges", "institutes_served")
TEXT = ("effective_basis",)
want_total = figures(total, ptotal)
if mode == "json":
    d = json.load(open(path))
    if d.get("by") != by:
        bad.append("by: %r" % d.get("by"))
    if d.get("from") != "2026-03-02T00:00:00+08:00" or \
        d.get("to") != "2026-03-09T00:00:00+08:00":
        bad.append("period: %r %r" % (d.get("from"), d.get("to")))
    if d.get("baseline") != {"hours_per_year": BASE,
        "saturated_hours_per_year": SAT, "days": 7}:
        bad.append("baseline: %r" % d.get("baseline"))
    if len(d["groups"]) != len(groups):
        bad.append("groups: %r" % [g["key"] for g in d["groups"]])
    for g, e in zip(d["groups"], groups):
        cmp(e[0], g, figures(e, plat[e[0]]))
        for k in INTS:
            if g[k] is not None and type(g[k]) is not int:
                bad.append("%s %s is not an integer" % (e[0], k))
    cmp("totals", d["totals"], want_total)
    got = [(s["level"], s["payer"], s["payee"], s["bookings"], s["booked_h"],
        s["charges"]) for s in d["settlement"]]
    if got != settle:
        bad.append("settlement: %r" % got)
else:
    text = open(path, newline="").read()
    head, _, tail = text.partition("\r\n\r\n")
    rows = list(csv.DictReader(io.StringIO(head)))
    cols = list(rows[0].keys())
    if cols[0] != by:
        bad.append("first column: %r" % cols[0])
    want_cols = [k for k in want_total if k not in ("key", "usage_h")] + \
        ["usage_%s_h" % u for u in USAGE]
    if cols[1:] != want_cols:
        bad.append("columns: %r" % cols[1:])
    keyed = []
    for r in rows:
        f = {"key": r[by]}
        for k in want_total:
            if k in ("key", "usage_h"):
                continue
            if k in TEXT:
                f[k] = r[k]
            elif k == "saturated":
                f[k] = {"true": True, "false": False, "": None}[r[k]]
            else:
                f[k] = num(r[k], k in INTS)
        f["usage_h"] = {u: float(r["usage_%s_h" % u]) for u in USAGE}
        keyed.append(f)
    if [r["key"] for r in keyed] != [g[0] for g in groups] + ["(total)"]:
        bad.append("rows: %r" % [r["key"] for r in keyed])
    for r, e in zip(keyed, groups):
        cmp("csv " + e[0], r, figures(e, plat[e[0]]))
    cmp("csv totals", keyed[-1], want_total)
    srows = list(csv.reader(io.StringIO(tail)))
    if srows[0] != ["level", "payer", "payee", "bookings", "booked_h",
        "charges"]:
        bad.append("settlement header %r" % srows[0])
    got = [(a, b, c, int(d), float(e), int(f)) for a, b, c, d, e, f in
        srows[1:]]
    if got != settle:
        bad.append("csv settlement: %r" % got)
for b in bad:
    print("#   " + b)
sys.exit(1 if bad else 0)
EOF

for by in instrument site institute category district owner; do
	api GET "/api/v1/reports/utilisation?$Q&by=$by"
	is "by=$by: 200" "$STATUS" 200
	cp "$T/body" "$T/$by.json"
	check "by=$by: every JSON figure and the settlement" \
	    "$P3" "$T/check.py" json "$by" "$T/$by.json" "$T"
	api GET "/api/v1/reports/utilisation?$Q&by=$by&format=csv"
	is "by=$by csv: 200" "$STATUS" 200
	check "by=$by: every CSV figure and the settlement" \
	    "$P3" "$T/check.py" csv "$by" "$T/body" "$T"
done
TYPE=$(curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $ADMIN_TOKEN" \
    "$SERVER/api/v1/reports/utilisation?$Q&format=csv")
is "csv content type" "$TYPE" "text/csv; charset=utf-8"

# The annual evaluation: one CSV row per instrument, every column checked.
api GET "/api/v1/reports/utilisation?$Q&format=evaluation"
is "evaluation: 200" "$STATUS" 200
cp "$T/body" "$T/eval.csv"
cat > "$T/eval.py" <<'EOF'
import csv, io, sys
sys.path.insert(0, sys.argv[2])
from expect import *
text = open(sys.argv[1], newline="", encoding="utf-8").read()
rows = list(csv.reader(io.StringIO(text)))
COLS = ["code", "name", "category", "model", "site", "owner", "status",
    "purchase_value", "acquisition_date", "classification_code",
    "responsible_person", "available_h", "booked_h", "used_h", "bookings",
    "charges", "effective_h", "effective_basis", "effective_booked_h",
    "external_service_h", "effective_sharing_rate", "institutes_served",
    "baseline_h", "baseline_utilisation", "saturated", "usage_research_h",
    "usage_teaching_h", "usage_service_h", "usage_open_h"]
REG = {
    "ICPMS-1": ["ICPMS-1", "ICP-MS", "mass-spectrometry", "7900", "HC-HTZ",
        "CQU", "active", 285000000, "2019-06-18", "03040709", "Li, Wei"],
    "NMR-1": ["NMR-1", "NMR", "nmr", "", "WS-JZ", "SCU", "maintenance", 0,
        "", "", ""],
    "SEM-1": ["SEM-1", "SEM", "microscopy", "", "WS-JZ", "SCU", "active",
        120000000, "2021-11-30", "03040101", "\u738b\u82b3"],
}
FIG = {e[0]: e for e in (A, B, C)}
bad = []
if rows[0] != COLS:
    bad.append("header %r" % rows[0])
if [r[0] for r in rows[1:]] != ["ICPMS-1", "NMR-1", "SEM-1"]:
    bad.append("rows %r" % [r[0] for r in rows[1:]])
def cell(s):
    if s == "":
        return None
    if s in ("true", "false"):
        return s == "true"
    return float(s)
for r in rows[1:]:
    if r[0] not in REG or len(r) != len(COLS):
        bad.append("row %r" % r)
        continue
    e = FIG[r[0]]
    f = figures(e, PLAT[r[0]])
    want = REG[r[0]] + [e[1], e[2], e[3], e[4], e[10]] + \
        [f[k] for k in COLS[16:25]] + [f["usage_h"][u] for u in USAGE]
    for i, (c, w) in enumerate(zip(r, want)):
        if COLS[i] == "purchase_value" or COLS[i] in ("bookings", "charges",
            "institutes_served") and w is not None:
            ok = c == str(w)
        elif isinstance(w, str):
            ok = c == w
        else:
            ok = cell(c) == w and (w is None) == (c == "") and \
                (type(w) is bool) == (c in ("true", "false"))
        if not ok:
            bad.append("%s %s: got %r want %r" % (r[0], COLS[i], c, w))
for b in bad:
    print("#   " + b)
sys.exit(1 if bad else 0)
EOF
check "evaluation: every column of every instrument" \
    "$P3" "$T/eval.py" "$T/eval.csv" "$T"
TYPE=$(curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $ADMIN_TOKEN" \
    "$SERVER/api/v1/reports/utilisation?$Q&format=evaluation")
is "evaluation content type" "$TYPE" "text/csv; charset=utf-8"
api GET "/api/v1/reports/utilisation?$Q&format=evaluation&by=site"
is "evaluation by=site: 400" "$STATUS" 400
is "evaluation by=site: names by" \
    "$(sed -n 's/.*"field":"\([^"]*\)".*/\1/p' "$T/body")" by
TOKEN=$PMWS api GET "/api/v1/reports/utilisation?$Q&format=evaluation"
is "evaluation for the park manager of WS-JZ: only its instruments" \
    "$(cut -d, -f1 "$T/body" | tr -d '\r' | tr '\n' ' ')" "code NMR-1 SEM-1 "

# A filter narrows the instruments.
api GET "/api/v1/reports/utilisation?$Q&by=instrument&category=microscopy"
is "category filter" "$("$P3" -c 'import json,sys; d=json.load(open(sys.argv[1])); print([g["key"] for g in d["groups"]], d["totals"]["charges"])' "$T/body")" \
    "['SEM-1'] 13166"

# Permissions.
TOKEN=$MEMBER api GET "/api/v1/reports/utilisation?$Q"
is "a member gets 403" "$STATUS" 403
TOKEN=$MGR api GET "/api/v1/reports/utilisation?$Q"
is "an instrument manager gets 403" "$STATUS" 403
TOKEN=$PMWS api GET "/api/v1/reports/utilisation?$Q&by=site"
is "park manager of WS-JZ: 200" "$STATUS" 200
check "park manager of WS-JZ sees only WS-JZ, exactly" \
    "$P3" "$T/check.py" json site "$T/body" "$T" pm
TOKEN=$PMWS api GET "/api/v1/reports/utilisation?$Q&by=site&format=csv"
check "park manager of WS-JZ, CSV" \
    "$P3" "$T/check.py" csv site "$T/body" "$T" pm
TOKEN=$PMWS api GET "/api/v1/reports/utilisation?$Q&site=HC-HTZ"
is "park manager asking for another site gets 403" "$STATUS" 403
TOKEN=$PMALL api GET "/api/v1/reports/utilisation?$Q&by=site"
check "park manager with no sites listed sees all" \
    "$P3" "$T/check.py" json site "$T/body" "$T"
api GET "/api/v1/reports/utilisation?$Q&by=site&site=WS-JZ"
check "site=WS-JZ gives the same figures as its park manager's view" \
    "$P3" "$T/check.py" json site "$T/body" "$T" pm

# Bad input: 400 naming the field, 404 for an unknown site.
for bad in "by=user:by" "format=xml:format" "color=red:color" \
    "from=2026-03-09T00:00:00%2B08:00&to=2026-03-02T00:00:00%2B08:00:to" \
    "from=yesterday:from" \
    "from=2020-01-01T00:00:00Z&to=2031-01-01T00:00:00Z:to"; do
	api GET "/api/v1/reports/utilisation?${bad%:*}"
	is "bad ${bad%:*}: 400" "$STATUS" 400
	is "bad ${bad%:*}: names ${bad##*:}" \
	    "$(sed -n 's/.*"field":"\([^"]*\)".*/\1/p' "$T/body")" "${bad##*:}"
done
api GET "/api/v1/reports/utilisation?$Q&site=NOPE"
is "unknown site: 404" "$STATUS" 404
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/api/v1/reports/utilisation")
is "no token: 401" "$STATUS" 401

# HTML: well-formed, self-contained, with the charts and escaped text.
sql "UPDATE instruments SET category = 'x<y&\"z' WHERE code = 'NMR-1'"
api GET "/api/v1/reports/utilisation?$Q&format=html"
is "html: 200" "$STATUS" 200
cp "$T/body" "$T/report.html"
cat > "$T/page.py" <<'EOF'
import sys, xml.etree.ElementTree as ET
from html.parser import HTMLParser
text = open(sys.argv[1], encoding="utf-8").read()
root = ET.fromstring(text.split("\n", 1)[1])
ns = {"h": "http://www.w3.org/1999/xhtml", "s": "http://www.w3.org/2000/svg"}
charts = root.findall(".//s:svg", ns)
bars = [c for c in charts if c.get("class") == "chart"]
heat = [c for c in charts if c.get("class") == "heat"]
fail = []
if len(bars) != 2: fail.append("bar charts: %d" % len(bars))
if len(heat) != 3: fail.append("heat maps: %d" % len(heat))
if len(heat) and len(heat[0].findall("s:rect", ns)) != 168:
    fail.append("heat cells")
labels = [t.text for t in bars[1].findall("s:text", ns)] if bars else []
if 'x<y&"z' not in labels: fail.append("escaped category: %r" % labels)
low = text.lower()
for bad in ("<script", "src=", "href=", "url(", "@import"):
    if bad in low: fail.append("external or script: " + bad)
class P(HTMLParser):
    pass
P().feed(text)
for f in fail:
    print("#   " + f)
sys.exit(1 if fail else 0)
EOF
check "html is well-formed XML with 2 bar charts, 3 heat maps, escaped text, no scripts or links" \
    "$P3" "$T/page.py" "$T/report.html"
TYPE=$(curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $ADMIN_TOKEN" \
    "$SERVER/api/v1/reports/utilisation?$Q&format=html")
is "html content type" "$TYPE" "text/html; charset=utf-8"

# The client: table with totals, csv and json as the API gives them, -o.
export YIQI_TOKEN=$ADMIN_TOKEN
F="--from 2026-03-02T00:00+08:00 --to 2026-03-09T00:00+08:00"
"$YIQI" report $F --by site > "$T/table" 2>"$T/err"
is "yiqi report: exit 0" "$?" 0
check "table has a header, both sites and a total line" \
    grep -q "^site " "$T/table"
check "table row HC-HTZ" grep -Eq "^HC-HTZ +45\.00 +5\.50 +12\.2% +1\.75 +3 +2 +1 +1 +3\.50 +63\.6% +2\.00 +900\.00$" "$T/table"
check "table total" grep -Eq "^total +189\.00 +14\.25 +7\.5% +5\.75 +8 +3 +1 +1 +6\.25 +43\.9% +4\.75 +1071\.66$" "$T/table"
check "table settlement" grep -Eq "^district +hechuan +wusheng +3 +2\.75 +91\.66$" "$T/table"
"$YIQI" report $F --by institute --format csv > "$T/c.csv"
is "yiqi report --format csv: exit 0" "$?" 0
check "yiqi report --format csv: every figure" \
    "$P3" "$T/check.py" csv institute "$T/c.csv" "$T"
"$YIQI" report $F --by district --format json > "$T/c.json"
check "yiqi report --format json: every figure" \
    "$P3" "$T/check.py" json district "$T/c.json" "$T"
"$YIQI" report $F --format html -o "$T/c.html"
is "yiqi report -o: exit 0" "$?" 0
check "yiqi report -o writes the html page" \
    "$P3" "$T/page.py" "$T/c.html"
sql "UPDATE instruments SET category = 'nmr' WHERE code = 'NMR-1'"
YIQI_TOKEN=$MEMBER "$YIQI" report $F > /dev/null 2>"$T/err"
is "yiqi report as a member: exit 4" "$?" 4
"$YIQI" report --by user > /dev/null 2>&1
is "yiqi report --by user: exit 2" "$?" 2
"$YIQI" report $F --by owner --format csv > "$T/o.csv"
check "yiqi report --by owner --format csv: every figure" \
    "$P3" "$T/check.py" csv owner "$T/o.csv" "$T"
"$YIQI" report $F --format evaluation -o "$T/e.csv"
check "yiqi report --format evaluation -o: every column" \
    "$P3" "$T/eval.py" "$T/e.csv" "$T"
"$YIQI" report --format pdf > /dev/null 2>&1
is "yiqi report --format pdf: exit 2" "$?" 2

# Usage types and late cancellations through the API, in the next hours.
NOW=$(date +%s)
S=$(( (NOW / 1800 + 3) * 1800 ))
iso() {
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}
TOKEN=$MEMBER api POST /api/v1/reservations "{\"instrument\":\"SEM-1\",\"start\":\"$(iso $S)\",\"duration\":\"PT1H\",\"usage_type\":\"teaching\"}"
is "book with usage_type teaching: 201" "$STATUS" 201
R1=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$T/body")
is "the booking shows usage_type teaching" \
    "$(sed -n 's/.*"usage_type":"\([^"]*\)".*/\1/p' "$T/body")" teaching
TOKEN=$(token_of hx) api GET "/api/v1/reservations/$R1"
is "another member's view is redacted, without usage_type" \
    "$("$P3" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["redacted"], "usage_type" in d)' "$T/body")" \
    "True False"
TOKEN=$MEMBER api PATCH "/api/v1/reservations/$R1" '{"usage_type":"open"}'
is "PATCH usage_type open" \
    "$STATUS $(sed -n 's/.*"usage_type":"\([^"]*\)".*/\1/p' "$T/body")" "200 open"
for bad in '"fun"' '5' '""'; do
	TOKEN=$MEMBER api PATCH "/api/v1/reservations/$R1" "{\"usage_type\":$bad}"
	is "PATCH usage_type $bad: 400 naming usage_type" \
	    "$STATUS $(sed -n 's/.*"field":"\([^"]*\)".*/\1/p' "$T/body")" \
	    "400 usage_type"
done
TOKEN=$MEMBER api POST /api/v1/reservations "{\"instrument\":\"SEM-1\",\"start\":\"$(iso $((S + 7200)))\",\"duration\":\"PT1H\",\"usage_type\":\"lecture\"}"
is "book with an unknown usage_type: 400" "$STATUS" 400
is "unchanged after a refused PATCH" "$(sql "SELECT usage_type FROM reservations WHERE id = $R1")" open
YIQI_TOKEN=$MEMBER "$YIQI" --json book SEM-1 --start "$(iso $((S + 3600)))" \
    --duration 1h --usage-type service > "$T/b.json"
is "yiqi book --usage-type service: exit 0" "$?" 0
R2=$("$P3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/b.json")
is "yiqi book --usage-type: stored" \
    "$(sql "SELECT usage_type FROM reservations WHERE id = $R2")" service
TOKEN=$MEMBER api POST /api/v1/reservations "{\"instrument\":\"SEM-1\",\"start\":\"$(iso $((S + 7200)))\",\"duration\":\"PT1H\"}"
R3=$(sed -n 's/^{"id":\([0-9]*\).*/\1/p' "$T/body")
is "a booking without usage_type is research" \
    "$(sed -n 's/.*"usage_type":"\([^"]*\)".*/\1/p' "$T/body")" research
TOKEN=$MEMBER api DELETE "/api/v1/reservations/$R1"
is "the owner cancels 1.5 h ahead: late" \
    "$STATUS $(sed -n 's/.*"late_cancellation":\([a-z]*\).*/\1/p' "$T/body")" "200 true"
api DELETE "/api/v1/reservations/$R2"
is "an admin cancels a member's booking 2.5 h ahead: not late" \
    "$STATUS $(sed -n 's/.*"late_cancellation":\([a-z]*\).*/\1/p' "$T/body")" "200 false"
L="from=$(iso $((S - 86400)))&to=$(iso $((S + 86400)))"
api GET "/api/v1/reports/utilisation?$L&by=instrument&category=microscopy"
is "report: two cancellations, only the owner's is late; R3 is research" \
    "$("$P3" -c 'import json,sys; g=json.load(open(sys.argv[1]))["groups"][0]; print(g["cancellations"], g["late_cancellations"], g["bookings"], g["usage_h"])' "$T/body")" \
    "2 1 1 {'research': 1.0, 'teaching': 0.0, 'service': 0.0, 'open': 0.0}"
api DELETE "/api/v1/reservations/$R3"

check "yiqid stops cleanly" stop_daemon

# The late flag is fixed when a booking is cancelled: a later change of
# late_cancel_hours does not change past reports.  The baseline and the
# saturated threshold come from the configuration.
printf '[yiqid]\nlate_cancel_hours = 12\nreport_baseline_hours = 100\nreport_saturated_hours = 200\n' > "$T/yiqid.conf"
start_daemon -c "$T/yiqid.conf" || not_ok "yiqid restarts with a config"
api GET "/api/v1/reports/utilisation?$Q&by=instrument"
is "late_cancel_hours = 12: a5 stays late (recorded when it was cancelled)" \
    "$("$P3" -c 'import json,sys; d=json.load(open(sys.argv[1])); print([(g["key"], g["late_cancellations"]) for g in d["groups"]])' "$T/body")" \
    "[('ICPMS-1', 1), ('NMR-1', 0), ('SEM-1', 0)]"
check "baseline 100 h, saturated 200 h: every figure (SEM-1 saturated, ICPMS-1 not)" \
    env BASE=100 SAT=200 "$P3" "$T/check.py" json instrument "$T/body" "$T"
is "saturated flags" \
    "$("$P3" -c 'import json,sys; d=json.load(open(sys.argv[1])); print([(g["key"], g["saturated"]) for g in d["groups"]])' "$T/body")" \
    "[('ICPMS-1', False), ('NMR-1', None), ('SEM-1', True)]"
check "yiqid stops cleanly again" stop_daemon

done_testing
