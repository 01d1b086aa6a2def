#!/bin/bash
# `make bench`: boots Debian's 6.12 kernel in QEMU, runs tests/guest/bench.sh
# there (every contender in the same boot), then writes bench.json,
# bench.md and bench.png under build/bench/ and prints the table.
# Usage: tests/bench/run.sh [--quick | --handshake]
# --handshake (make bench-handshake): the handshake rates alone, in about
# two and a half minutes.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench
mode=${1:-}
mkdir -p "$out"
case $mode in
--handshake) export KTLS_BENCH_PART=handshake
	echo "bench: booting the 6.12 guest for the handshake rates alone" >&2 ;;
*) echo "bench: booting the 6.12 guest; the full run takes about 14 minutes" >&2 ;;
esac
# what else ran on the host: load average, and steal time (a hypervisor
# beneath us running others on our CPUs), start to end
cpu_ticks() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $9 }' /proc/stat; }
load0=$(cut -d' ' -f1 /proc/loadavg)
read -r tot0 steal0 < <(cpu_ticks)
KTLS_TEST_TIMEOUT=1500 "$top/tests/vm/run-guest" --no-prove -t 1700 -m 4096 -k 6.12 -o "$out/guest" \
	bench >/dev/null || { echo "bench: the guest failed (see $out/guest)" >&2; exit 1; }
# run-guest ran bench.sh without arguments; --quick is for the smoke test
[ -s "$out/guest/bench.raw" ] || { echo "bench: no samples (see $out/guest/bench.log)" >&2; exit 1; }
read -r tot1 steal1 < <(cpu_ticks)
host="host load average $load0 at the start, $(cut -d' ' -f1 /proc/loadavg) at the end, steal time \
$(awk -v s=$((steal1 - steal0)) -v t=$((tot1 - tot0)) 'BEGIN { printf "%.1f", t ? 100 * s / t : 0 }')%"
env="$(date -u +%Y-%m-%d), QEMU TCG software emulation (no KVM), 2 vCPUs on $(nproc) host CPUs \
($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), guest Linux \
$("$top/tests/vm/kernels.sh" --release 6.12), nginx $(dpkg-query -W -f '${Version}' nginx 2>/dev/null), \
OpenSSL $(openssl version | cut -d' ' -f2), GnuTLS $(dpkg-query -W -f '${Version}' libgnutls30 2>/dev/null); $host"
cp "$out/guest/bench.raw" "$out/bench.raw"
[ -f "$out/guest/bench.passes" ] && cp "$out/guest/bench.passes" "$out/bench.passes"
python3 "$top/tests/bench/report.py" "$out/bench.raw" "$out" "$env"
[ "$mode" = --quick ] || echo "bench: results in $out/bench.{json,md,png}" >&2
