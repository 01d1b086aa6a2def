#!/bin/sh
# The harness itself: tap-finish turns exit status, bad plans, bail-outs and
# (under CI=true) skips into failures; tap-summary counts what prove saw;
# tap-failures shows what failed and the comments that say why.
. "$KTLS_SRC/tests/lib/tap.sh"
fin=$KTLS_SRC/tests/tap-finish
sum=$KTLS_SRC/tests/tap-summary
plan 13

t=$(printf '1..2\nok 1 - a\nok 2 - b\n' | CI= "$fin" x 0)
is "clean output passes through with the plan moved last" "$t" "$(printf 'ok 1 - a\nok 2 - b\n1..2')"
t=$(printf '1..1\nok 1 - a\n' | CI= "$fin" x 1)
like "a non-zero exit adds a failure" "$t" '^not ok 2 - x exited with status 1$'
t=$(printf '1..3\nok 1 - a\n' | CI= "$fin" x 0)
like "fewer tests than planned is a failure" "$t" '^not ok 2 - x planned 3 tests but ran 1$'
t=$(printf 'ok 1 - a\n' | CI= "$fin" x 0)
like "no plan is a failure" "$t" '^not ok 2 - x printed no TAP plan$'
t=$(printf '1..2\nok 1 - a\nBail out! broken\n' | CI= "$fin" x 0)
like "Bail out! fails this file only" "$t" '^not ok 2 - x: Bail out! broken$'
t=$(printf '1..1\nok 1 - a # SKIP no kernel\n' | CI= "$fin" x 0)
like "outside CI a skip stays a skip" "$t" '^ok 1 - a # SKIP no kernel$'
t=$(printf '1..1\nok 1 - a # SKIP no kernel\n' | CI=true "$fin" x 0)
like "under CI=true a skipped test fails" "$t" '^not ok 1 - a \(skipped, and CI=true forbids skips: no kernel\)$'
t=$(printf '1..0 # SKIP no kernel\n' | CI=true "$fin" x 0)
like "under CI=true a skipped file fails" "$t" '^not ok 1 - x skipped everything, and CI=true forbids skips: no kernel$'

tmp=$(mktemp)
printf 'ok 1 - a\nnot ok 2 - b\nok 3 - c # SKIP s\n1..3\n' >"$tmp"
t=$("$sum" "$tmp"); rc=$?
is "tap-summary counts passed, failed and skipped" "$t rc=$rc" "1 passed, 1 failed, 1 skipped rc=1"
printf 'ok 1 - a\n1..1\n' >"$tmp"
t=$("$sum" "$tmp"); rc=$?
is "tap-summary exits 0 when nothing failed" "$t rc=$rc" "1 passed, 0 failed, 0 skipped rc=0"
fails=$KTLS_SRC/tests/tap-failures
printf 'ok 1 - a\n# seed 7\n# 2 lifetime: late\nok 2 - b\nnot ok 3 - c\n# got 1\nok 4 - d\n# tail\n1..4\n' >"$tmp"
good=$(mktemp)
printf 'ok 1 - a\n# noise\n1..1\n' >"$good"
t=$("$fails" "$good" "$tmp" "$good")
is "tap-failures names only the failed file, with its failed check and comments" "$t" \
	"$(printf -- '-- %s\n   # seed 7\n   # 2 lifetime: late\n   not ok 3 - c\n   # got 1' "$tmp")"
t=$("$fails" "$good")
is "tap-failures prints nothing when nothing failed" "$t" ""
{ i=0; while [ $i -lt 60 ]; do echo "not ok $i"; i=$((i + 1)); done; } >"$tmp"
t=$("$fails" "$tmp" | tail -n 1)
is "tap-failures keeps at most 40 lines per file" "$t" "   (20 more lines in the file)"
rm -f "$tmp" "$good"
