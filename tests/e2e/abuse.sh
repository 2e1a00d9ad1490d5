#!/bin/sh
# abuse.sh: slow and abusive clients (idle connections by the thousand,
# trickled headers, oversized headers, clients that never read, binary
# garbage) and the per-token rate limit.  The daemon must keep serving
# everyone else, close idle connections after the configured timeout,
# answer 429 with Retry-After beyond the rate limit, and stop cleanly
# (under the sanitizers: without a leak).

. "$top_srcdir/tests/e2e/lib.sh"

printf '[yiqid]\ntimeout = 2\nrate_limit = 1\nrate_burst = 10\n' > "$T/yiqid.conf"
init_db
start_daemon -c "$T/yiqid.conf" || { not_ok "yiqid starts"; done_testing; }
check "set-up" setup_basic

# The listen backlog: SOMAXCONN (4096), as far as the kernel allows, not
# libevent's 128, so that a burst of connections is not dropped and
# retried a second later.
want=$(awk '{ print ($1 < 4096 ? $1 : 4096) }' /proc/sys/net/core/somaxconn)
is "yiqid listens with a backlog of min(SOMAXCONN, net.core.somaxconn)" \
    "$(ss -ltnH "sport = :$PORT" | awk '{ print $3 }')" "$want"

# Rate limit: a burst of 10, then 429 with Retry-After; others unaffected.
served=0 limited=0 i=0
while [ $i -lt 60 ] && [ $limited -eq 0 ]; do
	code=$(curl -s -D "$T/headers" -o "$T/body" -w '%{http_code}' \
	    -H "Authorization: Bearer $MEMBER_TOKEN" "$SERVER/api/v1/me")
	case $code in
	200) served=$((served + 1)) ;;
	429) limited=1 ;;
	esac
	i=$((i + 1))
done
check "the burst is served ($served)" [ "$served" -ge 10 ]
is "beyond the burst: 429" "$limited" 1
check "429 carries Retry-After" grep -qi '^Retry-After: [0-9]' "$T/headers"
is "429 is a JSON error" "$(jq -r .error.code "$T/body")" rate_limited
api GET /api/v1/me
is "another token is not limited" "$STATUS" 200
sleep 1.5
TOKEN=$MEMBER_TOKEN api GET /api/v1/me
is "the bucket refills" "$STATUS" 200

/usr/bin/python3 "$top_srcdir/tests/e2e/abuse.py" "$PORT" "$ADMIN_TOKEN" 2 > "$T/abuse.out" 2>&1
sed -n '/^\(not \)\{0,1\}ok /p' "$T/abuse.out" | while read -r line; do
	echo "$line"
done > "$T/abuse.tap"
while read -r line; do
	case $line in
	"ok "*) ok "${line#ok [0-9]* - }" ;;
	*) not_ok "${line#not ok [0-9]* - }" ;;
	esac
done < "$T/abuse.tap"
check "the abuse script ran to its end" grep -q '^COUNT 8$' "$T/abuse.out" ||
    sed 's/^/# /' "$T/abuse.out"
check "yiqid is still running" kill -0 "$DPID"
check "yiqid stops cleanly" stop_daemon
done_testing
