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

# One kernel's guest pass: its results in guest-SERIES/, its time in
# guest-SERIES.time.  6.1 runs the ASan+UBSan build (any report fails the
# run), the others the normal build, so that both builds meet real clients
# and real kernels in one make check.
guest_pass() {
	local s=$1 b=() t0 t
	# 6.1: the ASan+UBSan build, and one vCPU.  Two guests of two vCPUs
	# side by side on this machine's two cores ran each test 1.3 to 3.4
	# times slower than alone (four vCPU threads on two cores: a vCPU
	# spins on a lock whose holder's thread is not running); with 6.1 on
	# one vCPU the slowest pair ran 1.1 to 1.9 times.  The newest kernel,
	# where the module's KeyUpdate code runs, keeps two, as 6.12 and the
	# debug kernel do for the module's races (doc/testing.md).
	[ "$s" = 6.1 ] && b=(-b build/asan -c 1)
	# after the first pass, the kernel-interface checks only (README,
	# "Which test runs where"; those passes run in subshells of their own)
	[ "$s" = 6.12 ] || export KTLS_PASS=kernel KTLS_BIG_MIB=16
	echo "== guest tests on Linux $s${b[*]:+ (${b[1]}, ${b[3]} vCPU)}"
	t0=$(date +%s)
	"$top/tests/vm/run-guest" --no-prove -k "$s" "${b[@]}" -o "$results/guest-$s" all
	t=$(( $(date +%s) - t0 ))
	echo "$t" >"$results/guest-$s.time"
	echo "== the Linux $s pass took $((t / 60)) min $((t % 60)) s"
}

if [ $host_only = 0 ]; then
	# 6.12 first and alone: every test, the load and timing ones among
	# them.  Then the other kernels side by side, each taking the tests
	# that touch a kernel interface (the "# guest-kernels:" lines; README,
	# "The two commands"): each guest uses about one of this machine's two cores
	# and its tests leave room for a busy neighbour.
	series=$("$top/tests/vm/kernels.sh" --series)
	guest_pass 6.12
	for s in $series; do
		[ "$s" = 6.12 ] && continue
		guest_pass "$s" >"$results/guest-$s.out" 2>&1 &
	done
	wait
	for s in $series; do
		[ "$s" = 6.12 ] || cat "$results/guest-$s.out"
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
if [ $host_only = 0 ]; then
	echo "== time of each kernel pass (the ones after 6.12 side by side)"
	for s in $series; do
		t=$(cat "build/results/guest-$s.time" 2>/dev/null) || t=
		if [ -n "$t" ]; then
			printf '   Linux %-7s %3d min %2d s\n' "$s" $((t / 60)) $((t % 60))
		else
			printf '   Linux %-7s did not finish\n' "$s"
		fi
	done
fi
if [ $prc != 0 ] || [ $src != 0 ]; then
	# last, so that a log cut to its tail still says what failed and why
	echo "== what failed (each file's failed checks and the comments around them)"
	# shellcheck disable=SC2086
	tests/tap-failures $files
fi
[ $prc = 0 ] && [ $src = 0 ]
