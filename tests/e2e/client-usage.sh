#!/bin/sh
# tests/e2e/client-usage.sh: what the client does without a server.
#
# --help for every command and admin action, usage errors (exit 2 with the
# usage on stderr and nothing on stdout), bad times and durations, a server
# that does not listen (exit 7), no token (exit 4), the global options
# before or after the command, and where server and token come from.
# Prints TAP; needs only $YIQI.  A port nothing listens on stands in for
# an unreachable server.

set -u

: "${YIQI:?YIQI must name the client binary}"

T=$(mktemp -d "${TMPDIR:-/tmp}/yiqi-usage.XXXXXX")
trap 'rm -rf "$T"' EXIT
HOME=$T/home
XDG_CONFIG_HOME=$T/config
export HOME XDG_CONFIG_HOME
unset YIQI_SERVER YIQI_TOKEN YIQI_TIMEZONE
mkdir -p "$HOME"
DOWN=http://127.0.0.1:1

N=0
FAILED=0

ok() {
	N=$((N + 1))
	echo "ok $N - $*"
}

not_ok() {
	N=$((N + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $N - $*"
}

# run ARGS...: run the client, keeping status, stdout and stderr.
run() {
	"$YIQI" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# expect DESC STATUS ARGS...: the client exits with STATUS.
expect() {
	desc=$1
	want=$2
	shift 2
	run "$@"
	if [ "$RC" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc (exit $RC, want $want)"
		sed 's/^/#   /' "$T/err" | head -5
	fi
}

# usage DESC ARGS...: exit 2, one "yiqi: " line or usage on stderr, and
# nothing on stdout.
usage() {
	desc=$1
	shift
	run "$@"
	if [ "$RC" = 2 ] && [ ! -s "$T/out" ] && grep -q '^yiqi: \|^usage: ' "$T/err"
	then
		ok "$desc"
	else
		not_ok "$desc (exit $RC)"
		sed 's/^/#   /' "$T/err" "$T/out" | head -5
	fi
}

# stderr_has DESC TEXT: the last run's stderr contains TEXT.
stderr_has() {
	if grep -qF -- "$2" "$T/err"; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   stderr lacks '$2':"
		sed 's/^/#   /' "$T/err" | head -5
	fi
}

# help DESC WORDS...: "yiqi WORDS --help" exits 0 and prints the usage of
# WORDS on stdout.
help() {
	desc=$1
	shift
	run "$@" --help
	if [ "$RC" = 0 ] && head -1 "$T/out" | grep -qF "usage: yiqi $*"; then
		ok "$desc"
	else
		not_ok "$desc (exit $RC)"
		head -3 "$T/out" "$T/err" | sed 's/^/#   /'
	fi
}

# The top-level help lists every command.
run --help
if [ "$RC" = 0 ] && grep -q '^usage: yiqi' "$T/out"; then
	ok "--help exits 0 with usage on stdout"
else
	not_ok "--help exits 0 with usage on stdout"
fi
COMMANDS=$(sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p' "$T/out")
for c in admin approve book cancel checkin checkout find free help \
    institutes instruments list login move reject show show-booking sites \
    whoami; do
	if echo "$COMMANDS" | grep -qx "$c"; then
		ok "--help lists $c"
	else
		not_ok "--help lists $c"
	fi
done
expect "-h is --help" 0 -h
expect "--version" 0 --version
expect "help alone" 0 help

for c in $COMMANDS; do
	[ "$c" = admin ] && continue
	help "$c --help" "$c"
	run help "$c"
	if [ "$RC" = 0 ] && head -1 "$T/out" | grep -qF "usage: yiqi $c"; then
		ok "help $c"
	else
		not_ok "help $c (exit $RC)"
	fi
done
help "unique prefix: boo --help is book" book
run boo --help
if [ "$RC" = 0 ] && head -1 "$T/out" | grep -qF "usage: yiqi book"; then
	ok "a unique prefix finds the command"
else
	not_ok "a unique prefix finds the command"
fi

# admin: the list, and every action's help.
run admin --help
if [ "$RC" = 0 ] && grep -q 'yiqi admin tokens create' "$T/out"; then
	ok "admin --help lists the actions"
else
	not_ok "admin --help lists the actions"
fi
for a in "blackouts" "blackouts add" "blackouts rm" "import" \
    "institutes add" "instruments add" "instruments set" "sites add" \
    "tokens" "tokens create" "tokens revoke" "users" "users add" \
    "users set"; do
	# shellcheck disable=SC2086
	help "admin $a --help" admin $a
done
run admin token create --help
if [ "$RC" = 0 ] && head -1 "$T/out" | grep -qF "usage: yiqi admin tokens create"
then
	ok "admin token create (singular) finds tokens create"
else
	not_ok "admin token create (singular) finds tokens create"
fi
run help admin blackouts add
if [ "$RC" = 0 ] && head -1 "$T/out" | grep -qF "usage: yiqi admin blackouts add"
then
	ok "help admin blackouts add"
else
	not_ok "help admin blackouts add"
fi

# Usage errors: exit 2, nothing on stdout.
usage "no command" 
usage "unknown command" frobnicate
stderr_has "unknown command is named" "frobnicate"
usage "ambiguous prefix" ins
stderr_has "ambiguous prefix lists the candidates" "institutes, instruments"
usage "unknown global option" --bogus sites
usage "unknown command option" sites --bogus
stderr_has "unknown option is named" "--bogus"
usage "option without its value" book X --start
stderr_has "missing value is named" "--start needs a value"
usage "--json takes no value" whoami --json=yes
usage "extra argument" whoami extra
usage "book without instrument" book --start "tomorrow 9:00" --duration 1h
usage "book without --start" book X --duration 1h
usage "book with --end and --duration" book X --start "tomorrow 9:00" \
    --end "tomorrow 10:00" --duration 1h
usage "book without --end or --duration" book X --start "tomorrow 9:00"
usage "--skip-conflicts without --repeat" book X --start "tomorrow 9:00" \
    --duration 1h --skip-conflicts
usage "end before start" book X --start "2026-12-01T10:00+08:00" \
    --end "2026-12-01T09:00+08:00" --token t --server "$DOWN"
usage "find without --duration" find --category nmr
usage "find without --category" find --duration 2h
usage "list --mine with --user" list --mine --user bob
usage "--limit 0" list --limit 0
stderr_has "--limit range is explained" "from 1 to 1000"
usage "--limit not a number" list --limit 10x
usage "--limit overflow" find --category nmr --duration 1h --limit 99999999999999999999
usage "booking number not a number" cancel abc
usage "booking number zero" show-booking 0
usage "booking number negative" move -5 --start now
usage "move without a new time" move 12
usage "token revoke without number" admin tokens revoke bob
usage "admin without object" admin
usage "admin unknown object" admin frob
usage "admin object without action" admin instruments
usage "admin users bad role" admin users add bob --name B --institute I \
    --role boss
usage "admin users set with nothing to set" admin users set bob
usage "admin instruments bad number" admin instruments set X \
    --granularity fifteen
usage "admin instruments bad yes/no" admin instruments set X \
    --requires-approval maybe
usage "admin blackout without target" admin blackout add --start now \
    --duration 1h --reason x
usage "admin sites unknown zone" admin sites add X --name N --district d \
    --timezone Mars/Olympus
usage "login with unknown zone" login --server "$DOWN" --token t \
    --timezone Nowhere/Zone
usage "server not http" --server ftp://example.org --token t sites

# Bad times and durations: exit 2 with a sentence, before any request.
usage "Feb 30 refused" book X --start "2026-02-30 09:00" --duration 1h
stderr_has "Feb 30 says why" "February 2026 has 28 days"
usage "2027-02-29 refused" book X --start "2027-02-29 09:00" --duration 1h
stderr_has "2027-02-29 says why" "February 2027 has 28 days"
usage "25:00 refused" book X --start "2026-12-01 25:00" --duration 1h
stderr_has "25:00 says why" "hours run from 00 to 23"
usage "24:00 refused" book X --start "2026-12-01 24:00" --duration 1h
usage "nonsense time refused" book X --start "next tuesday-ish" --duration 1h
stderr_has "nonsense time shows the formats" "tomorrow 9:00"
usage "duration without unit refused" book X --start "tomorrow 9:00" \
    --duration 90
stderr_has "duration without unit says how" "write 90m"
usage "bad duration refused" book X --start "tomorrow 9:00" --duration 2x
usage "bad --from refused" list --from "2026-13-01"
usage "bad --after refused" find --category nmr --duration 1h --after soon
usage "bad time in move" move 12 --start "mon 26:00"
usage "bad time in blackout" admin blackout add --site S --start "2026-04-31 09:00" \
    --duration 1h --reason x
usage "bad time even with a server named" --server "$DOWN" --token t \
    book X --start "2026-02-30 09:00" --duration 1h

# A server that does not listen: exit 7, for global options anywhere.
expect "unreachable server exits 7" 7 --server "$DOWN" --token t sites
stderr_has "unreachable server says so" "cannot reach the server"
expect "options after the command" 7 sites --server "$DOWN" --token t
expect "--json before the command" 7 --json --server "$DOWN" --token t whoami
expect "--json after the command" 7 whoami --server "$DOWN" --token t --json
expect "--json between arguments" 7 show X --json --server "$DOWN" --token t
expect "good time with unreachable server" 7 --server "$DOWN" --token t \
    book X --start "tomorrow 9:00" --duration 90m
expect "login with unreachable server" 7 login --server "$DOWN" --token t
if [ ! -e "$XDG_CONFIG_HOME/yiqi/config" ]; then
	ok "a failed login writes no config"
else
	not_ok "a failed login writes no config"
fi
YIQI_SERVER=$DOWN
YIQI_TOKEN=t
export YIQI_SERVER YIQI_TOKEN
expect "YIQI_SERVER and YIQI_TOKEN" 7 sites
unset YIQI_SERVER YIQI_TOKEN

# No token anywhere: exit 4 with what to do.
expect "no token exits 4" 4 --server "$DOWN" sites
stderr_has "no token says yiqi login" "yiqi login"
expect "no token for admin actions" 4 --server "$DOWN" admin users

# The config file supplies server and token.
mkdir -p "$XDG_CONFIG_HOME/yiqi"
printf '{"server": "%s", "token": "t", "timezone": "Asia/Shanghai"}\n' \
    "$DOWN" >"$XDG_CONFIG_HOME/yiqi/config"
expect "server and token from the config file" 7 sites
expect "--server overrides the config file" 2 --server ftp://x sites
printf '{not json' >"$XDG_CONFIG_HOME/yiqi/config"
expect "a broken config file fails" 1 sites
stderr_has "a broken config file is named" "yiqi/config"
rm -f "$XDG_CONFIG_HOME/yiqi/config"

# An unknown configured zone is refused when a time needs it.
YIQI_TIMEZONE=Mars/Olympus
export YIQI_TIMEZONE
usage "unknown YIQI_TIMEZONE" --server "$DOWN" --token t list \
    --from "2026-12-01 09:00"
unset YIQI_TIMEZONE

echo "1..$N"
[ "$FAILED" = 0 ]
