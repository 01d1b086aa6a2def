#!/bin/sh
# A short pass of every libFuzzer target (make fuzz runs them longer):
# first each seed in tests/fuzz/corpus/ once, so that inputs which once
# crashed stay fixed, then FUZZ_CHECK_SECONDS (default 10) of fuzzing.
. "$KTLS_SRC/tests/lib/tap.sh"
secs=${FUZZ_CHECK_SECONDS:-10}
targets="http config netlink sockmsg"
plan 8
for t in $targets; do
	bin=$KTLS_BUILD/fuzz/fuzz_$t
	ok "fuzz_$t: every seed of tests/fuzz/corpus/$t runs clean" \
		"$bin" -runs=0 "$KTLS_SRC/tests/fuzz/corpus/$t"
	ok "fuzz_$t: ${secs}s of fuzzing find no crash, leak or undefined behaviour" \
		env BUILD="$KTLS_BUILD" "$KTLS_SRC/tests/fuzz/run.sh" "$secs" "$t"
done
