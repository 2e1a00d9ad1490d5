#!/bin/sh
# report-png.sh: the HTML utilisation report, as a manager would open it,
# renders in a real browser: headless Debian chromium turns the page
# (demo data, a month, by site) into a PNG without errors, and the page is
# self-contained (it loads nothing: chromium runs with no network).
# Skipped, with a TAP skip, where chromium is not installed.

. "$top_srcdir/tests/e2e/lib.sh"

if ! command -v chromium > /dev/null 2>&1; then
	echo "1..0 # SKIP chromium is not installed"
	exit 0
fi

DB=$T/demo.db
"$YIQID" --demo -d "$DB" -l 127.0.0.1:0 > "$T/tokens" 2> "$T/yiqid.log.new" &
DPID=$!
i=0
while [ $i -lt 600 ] && ! grep -q serving "$T/yiqid.log.new"; do sleep 0.1; i=$((i + 1)); done
PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$T/yiqid.log.new")
export YIQI_SERVER=http://127.0.0.1:$PORT
AT=$(awk '$1 == "admin" { print $3; exit }' "$T/tokens")

"$YIQI" --token "$AT" report --from "$(day -20) 00:00" --to "$(day 10) 00:00" \
    --by site --format html -o "$T/report.html" 2> "$T/err"
is "yiqi report --format html writes the page" "$?" 0
check "the page has SVG charts" grep -q "<svg" "$T/report.html"
check "the page loads nothing from outside" sh -c "! grep -Eqi '<script|<link|src=\"http|url\\(http' '$T/report.html'"

timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --user-data-dir="$T/chromium" --window-size=1200,2400 \
    --screenshot="$T/report.png" "file://$T/report.html" > "$T/chromium.log" 2>&1
is "chromium renders the page" "$?" 0
check "it wrote a PNG" sh -c "head -c 8 '$T/report.png' | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a'"
size=$(wc -c < "$T/report.png" 2>/dev/null || echo 0)
check "the PNG is not blank ($size bytes)" [ "$size" -gt 30000 ]
w=$(od -An -tu1 -j16 -N4 "$T/report.png" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
is "at the window's width" "$w" 1200
check "yiqid stops cleanly" stop_daemon
done_testing
