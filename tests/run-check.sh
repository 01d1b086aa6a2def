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

# One guest pass: NAME, a kernel SERIES and the tests (run-guest's
# all/shared/own or names); its results in guest-NAME/, its time in
# guest-NAME.time.  6.1 runs the ASan+UBSan build (any report fails the
# run), the others the normal build, so that both builds meet real clients
# and real kernels in one make check.
guest_pass() {
	local name=$1 s=$2 b=() t0 t
	shift 2
	[ "$s" = 6.1 ] && b=(-b build/asan)
	echo "== guest tests on Linux $s${b[*]:+ (${b[1]})}: $*"
	t0=$(date +%s)
	"$top/tests/vm/run-guest" --no-prove -k "$s" "${b[@]}" -o "$results/guest-$name" "$@"
	t=$(( $(date +%s) - t0 ))
	echo "$t" >"$results/guest-$name.time"
	echo "== the Linux $s pass ($*) took $((t / 60)) min $((t % 60)) s"
}

# The passes in two lanes side by side, each guest using about one of this
# machine's two cores (every test leaves room for a busy neighbour):
#   lane 1: 6.12's shared tests (those that touch a kernel interface and
#           run on every kernel), then 6.1's
#   lane 2: the newest kernel's shared tests, then 6.12's own (the
#           userspace-only stress and measurement tests: load, scan, ...)
# about half an hour of work each (README, "The two commands").  The 6.12
# passes are started in different lanes at different times, so that only
# one of them builds that kernel's initramfs.
passes="6.12:shared 6.1:shared newest:shared 6.12-own:own"
lane1="6.12:shared 6.1:shared"
lane2="newest:shared 6.12-own:own"
run_lane() {
	local p name
	for p in "$@"; do
		name=${p%%:*}
		guest_pass "$name" "${name%-own}" "${p#*:}" >"$results/guest-$name.out" 2>&1
		cat "$results/guest-$name.out"
	done
}

if [ $host_only = 0 ]; then
	lanes_t0=$(date +%s)
	# shellcheck disable=SC2086
	run_lane $lane1 &
	# shellcheck disable=SC2086
	run_lane $lane2 &
	wait
	lanes_t=$(( $(date +%s) - lanes_t0 ))
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
if [ $host_only = 0 ]; then
	echo "== time of each kernel pass (two lanes side by side: $lane1 | $lane2)"
	for p in $passes; do
		name=${p%%:*}
		t=$(cat "build/results/guest-$name.time" 2>/dev/null) || t=
		label="Linux ${name%-own} (${p#*:})"
		if [ -n "$t" ]; then
			printf '   %-22s %3d min %2d s\n' "$label" $((t / 60)) $((t % 60))
		else
			printf '   %-22s did not finish\n' "$label"
		fi
	done
	printf '   %-22s %3d min %2d s\n' "all guest passes" $((lanes_t / 60)) $((lanes_t % 60))
fi
[ $prc = 0 ] && [ $src = 0 ]
