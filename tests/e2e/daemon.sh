#!/bin/sh
# daemon.sh: yiqid as an operator meets it: init prints only the token,
# options and usage, configuration files (every bad one refused with
# file:line), health without a token, a log line per request with no
# token in it, SIGHUP, SIGTERM, and the demo data.

. "$top_srcdir/tests/e2e/lib.sh"

CONF=$top_srcdir/tests/data/config

out=$("$YIQID" init -d "$DB" 2>"$T/init.err")
is "init exits 0" "$?" 0
is "init prints one line" "$(printf '%s\n' "$out" | wc -l)" 1
check "init prints a token" sh -c "printf '%s\n' '$out' | grep -Eq '^yq_[A-Za-z0-9_-]{32}$'"
ADMIN_TOKEN=$out
is "the database is created private (0600)" "$(stat -c %a "$DB")" 600
"$YIQID" init -d "$DB" > "$T/out2" 2>&1
is "a second init is refused" "$?" 1
is "a refused init prints no token" "$(grep -c '^yq_' "$T/out2")" 0

"$YIQID" --help > "$T/help" 2>&1
is "--help exits 0" "$?" 0
check "--help names init and --demo" grep -q 'yiqid --demo' "$T/help"
"$YIQID" -Z > /dev/null 2>&1
is "an unknown option exits 2" "$?" 2
"$YIQID" -l nowhere -d "$DB" > /dev/null 2>&1
is "a bad -l exits 2" "$?" 2
"$YIQID" -V | grep -q '^yiqid [0-9]'
is "-V prints the version" "$?" 0

for f in "$CONF"/bad-*.conf; do
	name=$(basename "$f")
	"$YIQID" -f -c "$f" -d "$DB" > /dev/null 2> "$T/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q "$name:[0-9][0-9]*: " "$T/err"; then
		ok "$name refused with file:line ($(head -c 80 "$T/err"))"
	else
		not_ok "$name: exit $rc, $(cat "$T/err")"
	fi
done
# The budget: the line named is where the pair stopped fitting.
"$YIQID" -f -c "$CONF/bad-budget.conf" -d "$DB" > /dev/null 2> "$T/err"
check "feed_cache_mb over half of cache_mb: cache_mb's later line named" \
    grep -q "bad-budget.conf:4: feed_cache_mb (20) must be at most half of cache_mb (32)" "$T/err"
"$YIQID" -f -c "$CONF/bad-budget-default.conf" -d "$DB" > /dev/null 2> "$T/err"
check "feed_cache_mb over half of the default cache_mb: its line named" \
    grep -q "bad-budget-default.conf:4: feed_cache_mb (33) .* cache_mb (64)" "$T/err"
"$YIQID" -f -c "$T/missing.conf" -d "$DB" > /dev/null 2>&1
is "a missing config file exits 1" "$?" 1

cp "$CONF/good.conf" "$T/yiqid.conf"
start_daemon -c "$T/yiqid.conf" || { not_ok "yiqid starts"; done_testing; }
ok "yiqid starts with a good configuration"
check "cache_mb 16 shared: 3 MiB page cache, feed_cache_mb's 8, 1 MiB per feed worker, 1 MiB of availability" \
    grep -q "cache_mb 16: page cache 3072 KiB, feed events 8192 KiB, 4 feed workers 1024 KiB each, availability answers 1024 KiB" "$T/yiqid.log.new"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "$SERVER/api/v1/health")
is "health answers without a token" "$STATUS" 200
is "health gives the status" "$(jq -r .status "$T/body")" ok
is "health gives the version" "$(jq -r .version "$T/body")" "$("$YIQID" -V | cut -d' ' -f2)"
api GET /api/v1/me
is "me as the admin" "$(jq -r .login "$T/body")" admin
is "me gives the role" "$(jq -r .role "$T/body")" admin
curl -s -o /dev/null "$SERVER/api/v1/me?token=$ADMIN_TOKEN"
sleep 0.2
check "one log line per request" grep -q 'GET /api/v1/me 200 .* admin' "$T/yiqid.log.new"
check "no token in the log" sh -c "! grep -q '$ADMIN_TOKEN' '$T/yiqid.log.new'"
head -c 70000 /dev/zero | tr '\0' ' ' > "$T/big"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN_TOKEN" \
    --data-binary @"$T/big" "$SERVER/api/v1/reservations")
is "max_body from the file (64k) is enforced" "$STATUS" 413

printf '[yiqid]\nlog_level = debug\nmax_body = 128k\ncache_mb = 8\n' > "$T/yiqid.conf"
kill -HUP "$DPID"
sleep 0.3
check "SIGHUP re-reads the configuration" grep -q 're-read' "$T/yiqid.log.new"
# (glibc's heap figures read 0 under the sanitizers, whose allocator is not glibc's.)
check "... and at log_level debug says where the memory is" \
    grep -Eq 'memory: rss [1-9][0-9]* KiB; page cache [0-9]+ KiB, feed events [0-9]+ KiB \(whole feeds [0-9]+ KiB\); heap in use [0-9]+ KiB' "$T/yiqid.log.new"
check "SIGHUP shares the new cache_mb (3/8 to events, 1/4 to workers, 1/16 to availability)" \
    grep -q "cache_mb 8: page cache 2560 KiB, feed events 3072 KiB, 4 feed workers 512 KiB each, availability answers 512 KiB" "$T/yiqid.log.new"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN_TOKEN" \
    --data-binary @"$T/big" "$SERVER/api/v1/reservations")
is "after SIGHUP the new max_body (128k) holds" "$STATUS" 400
printf 'nonsense\n' > "$T/yiqid.conf"
kill -HUP "$DPID"
sleep 0.3
check "a bad file on SIGHUP keeps the running configuration" grep -q 'keeping the running' "$T/yiqid.log.new"
printf '[yiqid]\ncache_mb = 8\nfeed_cache_mb = 5\n' > "$T/yiqid.conf"
kill -HUP "$DPID"
sleep 0.3
check "a budget that does not fit on SIGHUP is refused with file:line" \
    grep -q "yiqid.conf:3: feed_cache_mb (5) must be at most half of cache_mb (8); keeping the running" "$T/yiqid.log.new"
check "... and the running split stays" sh -c "! grep -q 'cache_mb 8: page cache 1024 KiB' '$T/yiqid.log.new'"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$SERVER/api/v1/health")
is "still serving after a bad SIGHUP" "$STATUS" 200
check "SIGTERM stops yiqid with status 0" stop_daemon
is "the database passes integrity_check" "$(sqlite3 "$DB" 'PRAGMA integrity_check')" ok

# Demo data.
DB=$T/demo.db
# Emptied here, not by the redirection in the child: the loop below must
# never see the previous daemon's "serving".
: > "$T/yiqid.log.new"
"$YIQID" --demo -d "$DB" -l 127.0.0.1:0 > "$T/tokens" 2> "$T/yiqid.log.new" &
DPID=$!
i=0
while [ $i -lt 600 ] && ! grep -q serving "$T/yiqid.log.new"; do sleep 0.1; i=$((i + 1)); done
PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$T/yiqid.log.new")
SERVER=http://127.0.0.1:$PORT
for role in admin manager park_manager member; do
	check "demo prints a $role token" grep -q "^$role [a-z.]* yq_" "$T/tokens"
done
MT=$(awk '$1 == "member" { print $3; exit }' "$T/tokens")
TOKEN=$MT api GET "/api/v1/instruments?limit=1000"
check "demo has at least 30 instruments" [ "$(jq '.items | length' "$T/body")" -ge 30 ]
TOKEN=$MT api GET /api/v1/sites
is "demo has the three parks" "$(jq -r '[.items[].code] | sort | join(" ")' "$T/body")" "HC-HTZ WS-APP WS-JZ"
TOKEN=$MT api GET /api/v1/institutes
check "demo has at least 8 institutes" [ "$(jq '.items | length' "$T/body")" -ge 8 ]
TOKEN=$MT api GET "/api/v1/reservations?limit=1000"
check "demo has bookings" [ "$(jq '.total' "$T/body")" -ge 50 ]
n1=$(sqlite3 "$DB" 'SELECT count(*) FROM instruments')
check "demo stops cleanly" stop_daemon
: > "$T/yiqid.log.new"
"$YIQID" --demo -d "$DB" -l 127.0.0.1:0 > "$T/tokens2" 2> "$T/yiqid.log.new" &
DPID=$!
i=0
while [ $i -lt 600 ] && ! grep -q serving "$T/yiqid.log.new" && kill -0 "$DPID" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
check "a second demo start serves" grep -q serving "$T/yiqid.log.new" ||
    sed 's/^/# second start: /' "$T/yiqid.log.new"
is "a second demo start adds no instruments" "$(sqlite3 "$DB" 'SELECT count(*) FROM instruments')" "$n1"
check "a second demo start prints fresh tokens" sh -c "! cmp -s '$T/tokens' '$T/tokens2'"
check "demo stops cleanly again" stop_daemon
done_testing
