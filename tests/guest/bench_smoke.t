#!/bin/bash
# guest-kernels: 6.12
# guest-timeout: 600
# A seconds-long pass of the benchmark (tests/guest/bench.sh --quick), so
# that `make bench` cannot rot: every contender and workload yields
# samples, nginx's kTLS mode really ran in kernel TLS and its userspace
# mode did not, and the report comes out as JSON, Markdown and a chart.
. "$KTLS_SRC/tests/lib/tap.sh"
out=$(mktemp -d)
KTLS_OUT=$out "$KTLS_SRC/tests/guest/bench.sh" --quick 2>"$out/bench.err"
raw=$out/bench.raw
has() { grep -q "^$1 $2 $3 " "$raw"; }
for c in ktls-serve nginx nginx-ktls plain; do
	for w in big 1m-c1 1m-c32 16k-c1 16k-c32; do
		ok "$w: $c has throughput and CPU samples" sh -c \
			"grep -q '^$w $c mbps ' $raw && grep -q '^$w $c cpu_s_per_gib ' $raw"
	done
done
fails "no wrk run failed" grep -q ' failed ' "$raw"
for c in ktls-serve ktls-serve-2w ktls-serve-socket ktls-serve-socket-2w in-process nginx-ktls; do
	ok "handshake rate of $c measured" has handshake "$c" rps
done
for c in ktls-serve ktls-serve-2w ktls-serve-socket ktls-serve-socket-2w; do
	ok "the agent's CPU per handshake of $c measured" has handshake "$c" agent_ms_per_req
	is "... and it is part of the server side's" "$(awk -v c=$c '$1 == "handshake" && $2 == c {
		v[$3] = $4 } END { print (v["agent_ms_per_req"] > 0 && v["agent_ms_per_req"] <= v["cpu_ms_per_req"]) }' "$raw")" 1
done
is "the cost of a switch of address space measured" \
	"$(awk '$1 == "switch" && $2 == "processes" { p = $4 } $1 == "switch" && $2 == "threads" { t = $4 }
		END { print (p > 0 && t > 0) }' "$raw")" 1
for c in ktls-serve nginx nginx-ktls; do
	ok "memory per idle connection of $c measured" has idle "$c" kib_per_conn
done
ok "the kernel's AES-GCM speed" has crypto kernel-aes-256-gcm mbps
ok "OpenSSL's AES-GCM speed" has crypto openssl-aes-256-gcm mbps
is "nginx with ssl_conf_command Options KTLS really used kernel TLS" \
	"$(awk '$1 == "big" && $2 == "nginx-ktls" && $3 == "ktls_sockets" { print ($4 > 0) }' "$raw")" 1
is "nginx without it did not" "$(awk '$1 == "big" && $2 == "nginx" && $3 == "ktls_sockets" { print $4 }' "$raw")" 0
is "ktls-serve did" "$(awk '$1 == "big" && $2 == "ktls-serve" && $3 == "ktls_sockets" { print $4 }' "$raw")" 1
for c in device software; do
	for m in mbps cpu_s_per_gib nic_cpu_s_per_gib host_cpu_s_per_gib; do
		ok "NIC offload row: $c has $m" has nic-offload "$c" "$m"
	done
done
is "the device contender ran on the simulated NIC" \
	"$(awk '$1 == "nic-offload" && $2 == "device" && $3 == "device_sockets" { print ($4 > 0) }' "$raw")" 1
is "the software contender did not" \
	"$(awk '$1 == "nic-offload" && $2 == "software" && $3 == "device_sockets" { print $4 }' "$raw")" 0
for c in nfs-tls nfs-plain; do
	ok "NFS: $c has mounts per second" has nfs-mount "$c" rps
	ok "NFS: $c has read throughput and CPU" sh -c \
		"grep -q '^nfs-read $c mbps ' $raw && grep -q '^nfs-read $c cpu_s_per_gib ' $raw"
done
is "NFS with TLS: its handshakes went through the agent" \
	"$(awk '$1 == "nfs-mount" && $2 == "nfs-tls" && $3 == "upcall_hs_per_s" { print ($4 > 0) }' "$raw")" 1
python3 "$KTLS_SRC/tests/bench/report.py" "$raw" "$out" "smoke test" >"$out/report.out" 2>&1
ok "the report: JSON" python3 -c "import json,sys; d=json.load(open('$out/bench.json')); sys.exit(not d['ratios'])"
ok "the report: Markdown table" grep -q '^| big | ktls-serve |' "$out/bench.md"
ok "the report: the NIC offload line" grep -q '^Simulated TLS-offload NIC' "$out/bench.md"
ok "the report: the CPU split per handshake" grep -q '^CPU per handshake on the server' "$out/bench.md"
ok "the report: the switch cost line" grep -q '^One switch of address space' "$out/bench.md"
ok "the report: the NFS line" grep -q '^Kernel TLS consumers through the handshake upcall' "$out/bench.md"
ok "the report: PNG chart" sh -c "head -c 8 $out/bench.png | grep -q PNG"
cp "$raw" "$out/bench.err" "$KTLS_OUT/" 2>/dev/null
rm -rf "$out"
plan $_tap_n
