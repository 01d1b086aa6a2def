#!/bin/bash
# `make check`: host unit tests, then the guest tests on every test kernel,
# all judged by one prove run over the finished TAP, then the closing line
# "N passed, N failed, N skipped".  Exits non-zero on any failure.
#   --host-only   leave out the guest tests (never under CI=true)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
results=$top/build/results
host_only=0
[ "${1:-}" = --host-only ] && host_only=1
if [ $host_only = 1 ] && [ "${CI:-}" = true ]; then
	echo "run-check: --host-only is not allowed with CI=true" >&2
	exit 2
fi

rm -rf "$results"
mkdir -p "$results/host"
export KTLS_SRC=$top KTLS_BUILD=$top/build

echo "== host unit tests"
for t in "$top"/build/tests/unit_* "$top"/build/asan/tests/unit_* "$top"/tests/unit/*.t; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	case $t in *.o|*.d) continue ;; esac
	name=$(basename "$t"); name=${name%.t}
	case $t in */asan/*) name=asan-$name ;; esac
	out=$("$t" 2>&1 </dev/null); rc=$?
	printf '%s\n' "$out" | "$top/tests/tap-finish" "$name" "$rc" >"$results/host/$name.tap"
done

if [ $host_only = 0 ]; then
	# The newest kernel runs the programs of the normal build; the older
	# one those of the ASan+UBSan build (any report fails the run), so
	# that both builds meet real clients and real kernels in one pass.
	newest=$("$top/tests/vm/kernels.sh" --series | head -n 1)
	for s in $("$top/tests/vm/kernels.sh" --series); do
		b=()
		[ "$s" = "$newest" ] || b=(-b build/asan)
		echo "== guest tests on Linux $s${b[*]:+ (${b[1]})}"
		t0=$(date +%s)
		"$top/tests/vm/run-guest" --no-prove -k "$s" "${b[@]}" -o "$results/guest-$s" all
		t=$(( $(date +%s) - t0 ))
		echo "== the Linux $s pass took $((t / 60)) min $((t % 60)) s"
	done
fi

echo "== results"
cd "$top" || exit 1
files=$(find build/results -name '*.tap' | sort)
# shellcheck disable=SC2086
prove --exec cat $files
prc=$?
# shellcheck disable=SC2086
tests/tap-summary $files
src=$?
[ $prc = 0 ] && [ $src = 0 ]
