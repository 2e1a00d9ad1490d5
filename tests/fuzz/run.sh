#!/bin/sh
# run.sh: build the libFuzzer targets with clang (ASan + UBSan + fuzzer)
# and run each for FUZZ_SECONDS (default 60) from its seed corpus in
# tests/fuzz/corpus/TARGET.  A crash, a leak or a sanitizer report fails
# the run and leaves the reproducer in $FUZZ_OUT (default ./fuzz-out);
# turn it into a regression test by adding it to the corpus.
# Usage: tests/fuzz/run.sh [TARGET...]   (from the top of a build tree or
# the source tree; "make fuzz" runs it).
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-$PWD/fuzz-out}
secs=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
mkdir -p "$out"

command -v "$CC" > /dev/null || { echo "run.sh: $CC is needed (apt-get install clang)"; exit 1; }
PKGS="libevent sqlite3 libical libcurl jansson inih libsodium"
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
DEFS="-DPACKAGE_VERSION=\"fuzz\" -D_GNU_SOURCE -DSYSCONFDIR=\"/nonexistent\""
printf '#define PACKAGE_VERSION "fuzz"\n' > "$out/config.h"
sh "$src/build-aux/sql2c.sh" "$out/schema-sql.c" "$src"/schema/*.sql

daemon_sources=$(ls "$src"/daemon/*.c | grep -v '/yiqid\.c$')

build() {
	case $1 in
	fuzz-api|fuzz-time)
		# shellcheck disable=SC2086
		$CC $FLAGS $DEFS -I"$out" -I"$src/daemon" $(pkg-config --cflags $PKGS) \
		    "$src/tests/fuzz/$1.c" $daemon_sources "$out/schema-sql.c" \
		    $(pkg-config --libs $PKGS) -lpthread -o "$out/$1" ;;
	fuzz-timeparse)
		# shellcheck disable=SC2086
		$CC $FLAGS $DEFS -I"$out" -I"$src/client" $(pkg-config --cflags jansson) \
		    "$src/tests/fuzz/$1.c" "$src/client/timeparse.c" \
		    $(pkg-config --libs jansson) -o "$out/$1" ;;
	*)
		echo "run.sh: unknown target $1"; exit 2 ;;
	esac
}

targets=${*:-fuzz-time fuzz-timeparse fuzz-api}
status=0
for t in $targets; do
	echo "== $t: building"
	build "$t"
	mkdir -p "$out/corpus-$t"
	echo "== $t: running for ${secs}s"
	if "$out/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$out/$t-" \
	    "$out/corpus-$t" "$src/tests/fuzz/corpus/$t" > "$out/$t.log" 2>&1; then
		echo "== $t: ok ($(grep -E '^stat::number_of_executed_units' "$out/$t.log" | awk '{print $2}') runs)"
	else
		echo "== $t: FAILED (see $out/$t.log)"
		tail -40 "$out/$t.log"
		status=1
	fi
done
exit $status
