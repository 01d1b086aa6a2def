#!/bin/sh
# Runs each libFuzzer target for SECONDS (default 60), starting from the
# seed corpus in tests/fuzz/corpus/ and the inputs earlier runs found
# (kept in build/fuzz/corpus/, outside the checkout).  A crash, leak or
# sanitizer report stops that target, keeps the input in
# build/fuzz/artifacts/, and makes the run fail.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     (make fuzz FUZZ_SECONDS=N)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build}
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-http config netlink sockmsg}
failed=

for t in $targets; do
	bin=$build/fuzz/fuzz_$t
	[ -x "$bin" ] || { echo "fuzz: $bin is not built (make fuzzers)" >&2; exit 2; }
	work=$build/fuzz/corpus/$t
	mkdir -p "$work" "$build/fuzz/artifacts"
	seeds=$top/tests/fuzz/corpus/$t
	extra=
	[ "$t" = config ] && extra=$top/dist
	log=$build/fuzz/$t.log
	printf 'fuzz: %-8s %ss ... ' "$t" "$secs"
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	   "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz/artifacts/$t-" \
		"$work" "$seeds" $extra >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
		echo "ok ($runs runs, $cov, corpus $(ls "$work" | wc -l))"
	else
		echo "FAILED (see $log)"
		grep -m 5 -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "$log" | sed 's/^/    /'
		failed="$failed $t"
	fi
done
[ -z "$failed" ] || { echo "fuzz: failed:$failed" >&2; exit 1; }
