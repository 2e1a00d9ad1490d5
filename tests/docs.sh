#!/bin/sh
# docs.sh: everything a user can call is written down.  Every yiqi command
# (from yiqi --help) is in yiqi(1); every yiqid option and command is in
# yiqid(8); every configuration key (from config.c's table) is in
# yiqid.conf(5); every API route (from the daemon's route tables) is in
# docs/api.md.

. "$top_srcdir/tests/e2e/lib.sh"

D=$top_srcdir/docs

"$YIQI" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p' > "$T/commands"
check "yiqi --help lists commands" [ "$(wc -l < "$T/commands")" -ge 15 ]
while read -r c; do
	check "yiqi(1) documents '$c'" grep -q "^\.It Cm $c\b\|Cm $c\b" "$D/yiqi.1"
done < "$T/commands"

for o in '-c' '-d' '-f' '-l' '-h' '-V' '--demo' 'init' 'backup'; do
	case $o in
	init|backup) pat="^\.It Cm $o" ;;
	--demo) pat='^\.It Fl -demo' ;;
	*) pat="^\.It Fl ${o#-}\b" ;;
	esac
	check "yiqid(8) documents $o" grep -q -- "$pat" "$D/yiqid.8"
done

sed -n 's/^	{ "\([a-z_]*\)", set_.*/\1/p' "$top_srcdir/daemon/config.c" > "$T/keys"
check "config.c has keys" [ "$(wc -l < "$T/keys")" -ge 10 ]
while read -r k; do
	check "yiqid.conf(5) documents $k" grep -q "^\.It Ic $k\b" "$D/yiqid.conf.5"
done < "$T/keys"

grep -ho '"/api/v1[^"]*"' "$top_srcdir"/daemon/api-*.c | tr -d '"' | sort -u \
    > "$T/routes"
check "the daemon has routes" [ "$(wc -l < "$T/routes")" -ge 15 ]
while read -r r; do
	pat=$(printf '%s' "$r" | sed 's/\*/{[a-z]*}/g')
	check "api.md documents $r" grep -q "$pat" "$D/api.md"
done < "$T/routes"
done_testing
