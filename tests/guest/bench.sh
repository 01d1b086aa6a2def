#!/bin/bash
# The benchmark (make bench), run in the QEMU guest: ktls-serve against
# nginx with userspace TLS, nginx with kernel TLS, plain-HTTP sendfile, and
# the AES-GCM speed of the kernel and of OpenSSL, all in one boot with the
# same certificate (ECDSA P-256), TLS 1.3 and AES-256-GCM.  Servers run on
# vCPU 0 (one worker), clients on vCPU 1.  Raw samples go to
# $KTLS_OUT/bench.raw; tests/bench/report.py turns them into JSON, Markdown
# and a chart.  --quick: a seconds-long smoke pass with tiny sizes.
# KTLS_BENCH_PART=handshake (make bench-handshake): the handshake rates
# alone.
set -u
. "$KTLS_SRC/tests/lib/pki.sh"
quick=0
[ "${1:-}" = --quick ] && quick=1
part=${KTLS_BENCH_PART:-all}
case $part in all|handshake) ;; *) echo "bench: unknown part '$part'" >&2; exit 2 ;; esac
in_part() { [ "$part" = all ] || [ "$part" = "$1" ]; }
out=${KTLS_OUT:-/tmp}
dir=/tmp/bench
rm -rf "$dir"
mkdir -p "$dir/www" "$dir/nginx-tmp"
cd "$dir" || exit 1
make_pki "$dir"
raw=$out/bench.raw
: >"$raw"
: >"$out/bench.passes"
B=$KTLS_BUILD

if [ $quick = 1 ]; then
	# 1 s per load run, but 5 s for the 32-connection runs: 32 handshakes
	# come first (a slower CI machine got no 16 KiB response within 1 s;
	# a quick pass on 6.12 alone measured about 100 handshakes/s through
	# the agent, and 1.4 s per 1 MiB response among 32),
	# and 3 s for the handshake runs (on a loaded machine a new connection
	# through the agent can take over 1 s)
	big_mb=16 big_reps=1 secs=1 c32_secs=5 hs_secs=3 reps=1 hs_reps=1 idle=50 nic_mb=2 nic_reps=1
	nfs_secs=2 nfs_mb=4 nfs_reps=1
else
	# the large file five times per contender, interleaved (A B C D A B
	# ...), so that a neighbour's load lands on every contender alike:
	# 256 MiB, as 1 GiB takes about a minute under emulation; load runs
	# three times, 3 s each, 4 s with 32 connections; the handshake rates,
	# which targets read, five times, each of them from two runs of 3 s
	# (below)
	big_mb=256 big_reps=5 secs=3 c32_secs=4 hs_secs=3 reps=3 hs_reps=5 idle=1000
	# the simulated NIC encrypts with the generic GCM (ctr and GHASH):
	# a few MiB/s under emulation, so 8 MiB, interleaved, five times
	nic_mb=8 nic_reps=5
	# NFS over TLS: mount cycles for 5 s and a 64 MiB read, each contender
	# three times, interleaved
	nfs_secs=5 nfs_mb=64 nfs_reps=3
fi
phase() { echo "# bench: $1 done, $SECONDS s in" >&2; }	# where the time goes
[ "$part" = handshake ] || head -c $((big_mb << 20)) /dev/urandom >www/big.bin
head -c 1048576 /dev/urandom >www/1m.bin
head -c 16384 /dev/urandom >www/16k.bin
echo ok >www/index.html
phase "files"
echo "# bench: big file ${big_mb} MiB x $big_reps, ${secs}s per load run, $reps repetitions, $idle idle connections" >&2

sample() { echo "$*" >>"$raw"; }	# sample WORKLOAD CONTENDER METRIC VALUE
ticks() {	# ticks PID...: CPU time (user + system) in clock ticks
	local t=0 p
	for p in "$@"; do
		[ -r /proc/$p/stat ] && t=$((t + $(awk '{ print $14 + $15 }' /proc/$p/stat)))
	done
	echo $t
}
rss_kb() {	# rss_kb PID...: resident memory in KiB
	local t=0 p
	for p in "$@"; do
		[ -r /proc/$p/status ] && t=$((t + $(awk '/^VmRSS:/ { print $2 }' /proc/$p/status)))
	done
	echo $t
}
hz=$(getconf CLK_TCK)
vcpu_ticks() {	# busy and idle clock ticks of vCPU 0 (servers) and vCPU 1 (clients)
	awk '/^cpu[01] / { printf "%d %d ", $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat
}
wait_port() {	# PORT [NETNS]: until something listens there (10 s)
	wait_until 10 eval "${2:+ip netns exec $2} ss -Hltn 'sport = :$1' | grep -q ."
}

# --- servers ------------------------------------------------------------------
insmod "$KTLS_MODULE" || { echo "bench: insmod failed" >&2; exit 1; }
cat >agent.conf <<EOF
[global]
workers = 1
socket = $dir/agent.sock
log_level = warning
[profile default]
cert = $dir/server.pem
key = $dir/server.key
priority = NORMAL:-CIPHER-ALL:+AES-256-GCM
alpn = http/1.1
EOF
# the 2-worker agents, pinned to vCPU 0 like the rest of the server side:
# one for the socket path (module = no: were it an agent of the module too,
# the module path's requests would go to either agent) and one for the
# module path in a network namespace of its own (hs2), where it is the
# module's only agent
sed 's/^workers = 1/workers = 2\nmodule = no/; s|agent.sock|agent2.sock|' agent.conf >agent2.conf
sed 's/^workers = 1/workers = 2/; s|agent.sock|agent-ns2.sock|' agent.conf >agent-ns2.conf
taskset -c 0 "$B/bin/ktls-agent" -c agent.conf 2>agent.log &
agent_pid=$!
sleep 0.5
taskset -c 0 "$B/bin/ktls-serve" -w 1 -p 8443 --path module www 2>serve.log &
serve_pid=$!
taskset -c 0 "$B/bin/ktls-serve" -w 1 -p 8080 --plain www 2>plain.log &
plain_pid=$!
cat >nginx.conf <<EOF
worker_processes 1;
daemon off;
user root;
pid $dir/nginx.pid;
error_log $dir/nginx.err;
events { worker_connections 20000; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	client_body_temp_path $dir/nginx-tmp/body;
	proxy_temp_path $dir/nginx-tmp/proxy;
	fastcgi_temp_path $dir/nginx-tmp/fastcgi;
	uwsgi_temp_path $dir/nginx-tmp/uwsgi;
	scgi_temp_path $dir/nginx-tmp/scgi;
	ssl_certificate $dir/server.pem;
	ssl_certificate_key $dir/server.key;
	ssl_protocols TLSv1.3;
	ssl_conf_command Ciphersuites TLS_AES_256_GCM_SHA384;
	server { listen 127.0.0.1:8444 ssl; root $dir/www; }
	server { listen 127.0.0.1:8445 ssl; root $dir/www; ssl_conf_command Options KTLS; }
}
EOF
start_nginx() {
	taskset -c 0 nginx -e "$dir/nginx.err" -p "$dir" -c "$dir/nginx.conf" &
	nginx_pid=$!
}
start_nginx
trap 'kill $agent_pid $serve_pid $plain_pid $nginx_pid $sock_pid $sock2_pid $agent2_pid $inproc_pid $ns2_serve_pid $ns2_agent_pid 2>/dev/null; wait 2>/dev/null; ip netns del hs2 2>/dev/null; rmmod ktls_offload 2>/dev/null' EXIT
for p in 8443 8080 8444 8445; do wait_port $p; done
phase "servers"
nginx_pids() { echo "$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')"; }

# contender NAME -> "URL-BASE PIDS"
declare -A base=([ktls-serve]=https://127.0.0.1:8443 [nginx]=https://127.0.0.1:8444
		 [nginx-ktls]=https://127.0.0.1:8445 [plain]=http://127.0.0.1:8080)
sock_pid= sock2_pid= agent2_pid= inproc_pid= ns2_serve_pid= ns2_agent_pid=
# the agent of a contender, whose share of the server side's CPU is
# sampled on its own (agent_ms_per_req)
agent_of() {
	case $1 in
	ktls-serve|ktls-serve-socket) echo "$agent_pid" ;;
	ktls-serve-socket-2w) echo "$agent2_pid" ;;
	ktls-serve-2w) echo "$ns2_agent_pid" ;;
	esac
}
# where a contender's clients run: the module path's 2-worker contender
# listens in namespace hs2
declare -A netns=()
pids_of() {	# the processes whose CPU and memory count for a contender
	case $1 in
	ktls-serve) echo "$serve_pid $agent_pid" ;;
	ktls-serve-socket) echo "$sock_pid $agent_pid" ;;
	ktls-serve-socket-2w) echo "$sock2_pid $agent2_pid" ;;
	ktls-serve-2w) echo "$ns2_serve_pid $ns2_agent_pid" ;;
	in-process) echo "$inproc_pid" ;;
	plain) echo "$plain_pid" ;;
	*) nginx_pids ;;
	esac
}
contenders="ktls-serve nginx nginx-ktls plain"

# --- one big file on one connection ----------------------------------------------
in_part big && for r in $(seq $big_reps); do
	for c in $contenders; do
		tx0=$(tls_stat TlsTxSw)
		c0=$(ticks $(pids_of $c))
		t=$( { TIMEFORMAT='%R %U %S'; time taskset -c 1 curl -sk -o /dev/null "${base[$c]}/big.bin"; } 2>&1 | tail -n 1)
		c1=$(ticks $(pids_of $c))
		set -- $t
		sample big "$c" mbps "$(awk -v m=$big_mb -v s=$1 'BEGIN { printf "%.1f", m * 1.048576 / s }')"
		sample big "$c" cpu_s_per_gib "$(awk -v d=$((c1 - c0)) -v h=$hz -v m=$big_mb 'BEGIN { printf "%.3f", d / h / (m / 1024) }')"
		sample big "$c" client_cpu_s_per_gib "$(awk -v u=$2 -v s=$3 -v m=$big_mb 'BEGIN { printf "%.3f", (u + s) / (m / 1024) }')"
		sample big "$c" ktls_sockets "$(($(tls_stat TlsTxSw) - tx0))"
	done
done
in_part big && phase "big file"

# --- keep-alive loads with wrk ---------------------------------------------------
# wrk_run WORKLOAD CONTENDER PATH CONNECTIONS [HEADER]
# Throughput and CPU per GiB come from the bytes wrk read, responses still
# in flight at the end included: 32 connections sharing the link finish
# their 1 MiB together, so counting finished responses alone reads 0 or
# 32 from one short run.  Requests per second, CPU per request and
# latency come from finished responses.  wrk's default 2 s timeout would
# leave slower responses out of the latency percentiles: 60 s.
wrk_run() {
	local w=$1 c=$2 path=$3 conns=$4 hdr=${5:-} c0 c1 a0 a1 v0 v1 o secs=$secs ns=${netns[$2]:-}
	case $w in *-c32) secs=$c32_secs ;; handshake*) secs=$hs_secs ;; esac
	c0=$(ticks $(pids_of $c))
	a0=$(ticks $(agent_of $c))
	v0=$(vcpu_ticks)
	o=$(${ns:+ip netns exec $ns} taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --timeout 60s --latency \
		${hdr:+-H "$hdr"} "${base[$c]}/$path" 2>&1)
	v1=$(vcpu_ticks)
	c1=$(ticks $(pids_of $c))
	a1=$(ticks $(agent_of $c))
	echo "$o" >>wrk.log
	awk -v w="$w" -v c="$c" -v d=$((c1 - c0)) -v ad=$((a1 - a0)) -v agent="$(agent_of "$c")" -v h="$hz" \
		-v v0="$v0" -v v1="$v1" '
	function ms(v) {
		if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
		if (v ~ /m$/) return v * 60000; return v * 1000
	}
	function bytes(v) {	# wrk prints binary units: 1.50MB, 512.00KB, 100.00B
		if (v ~ /GB$/) return v * 1073741824; if (v ~ /MB$/) return v * 1048576
		if (v ~ /KB$/) return v * 1024; return v + 0
	}
	/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
	/requests in .* read$/ { n = $1; got = bytes($5) }
	/^Requests\/sec/ { rps = $2 }
	/^Transfer\/sec/ { bps = bytes($2) }
	END {
		if (w ~ /^handshake/ ? !n : !got) { print w, c, "failed 1"; exit }
		print w, c, "rps", rps
		if (w !~ /^handshake/) {
			print w, c, "mbps", sprintf("%.1f", bps / 1e6)
			print w, c, "cpu_s_per_gib", sprintf("%.3f", (d / h) / (got / 1073741824))
		}
		if (!n)
			exit
		print w, c, "cpu_ms_per_req", sprintf("%.3f", (d / h) * 1000 / n)
		if (agent != "")
			print w, c, "agent_ms_per_req", sprintf("%.3f", (ad / h) * 1000 / n)
		if (w ~ /^handshake/) {
			# how busy each side was: a client vCPU near 100% bounds
			# the rate whatever the server spends
			split(v0, a); split(v1, b)
			for (i = 1; i <= 3; i += 2) {
				busy = b[i] - a[i]; all = busy + b[i + 1] - a[i + 1]
				print w, c, (i == 1 ? "server" : "client") "_vcpu_pct", (all ? sprintf("%.1f", 100 * busy / all) : 0)
			}
		}
		print w, c, "p50_ms", p50
		print w, c, "p99_ms", p99
	}' <<<"$o" >>"${wrk_raw:-$raw}"
}
in_part loads && for r in $(seq $reps); do
	for c in $contenders; do
		wrk_run 1m-c1 "$c" 1m.bin 1
		wrk_run 1m-c32 "$c" 1m.bin 32
		wrk_run 16k-c1 "$c" 16k.bin 1
		wrk_run 16k-c32 "$c" 16k.bin 32
	done
done
in_part loads && phase "keep-alive loads"

# --- handshakes: a new connection per request -----------------------------------
# Every server side on vCPU 0 alone, 4 clients on vCPU 1, contenders
# interleaved: the module path and the UNIX-socket path each with a 1- and
# a 2-worker agent, the in-process reference and nginx with kTLS.
taskset -c 0 "$B/bin/ktls-serve" -w 1 -p 9443 --path socket --socket "$dir/agent.sock" www 2>serve-sock.log &
sock_pid=$!
taskset -c 0 "$B/bin/ktls-agent" -c agent2.conf 2>agent2.log &
agent2_pid=$!
taskset -c 0 "$B/tests/inproc_serve" agent.conf 9445 www/index.html 2>inproc.log &
inproc_pid=$!
wait_until 5 test -S "$dir/agent2.sock"
# two server workers: each holds one connection to the agent, and the agent
# serves a connection from the worker that accepted it, so with one server
# worker only one agent worker would ever see a request (with two, each
# agent worker usually takes one)
taskset -c 0 "$B/bin/ktls-serve" -w 2 -p 9444 --path socket --socket "$dir/agent2.sock" www 2>serve-sock2.log &
sock2_pid=$!
ip netns add hs2
ip -n hs2 link set lo up
ip netns exec hs2 taskset -c 0 "$B/bin/ktls-agent" -c agent-ns2.conf 2>agent-ns2.log &
ns2_agent_pid=$!
wait_until 5 test -S "$dir/agent-ns2.sock"
ip netns exec hs2 taskset -c 0 "$B/bin/ktls-serve" -w 1 -p 8443 --path module www 2>serve-ns2.log &
ns2_serve_pid=$!
for p in 9443 9444 9445; do wait_port $p; done
wait_port 8443 hs2
base[ktls-serve-socket]=https://127.0.0.1:9443
base[ktls-serve-socket-2w]=https://127.0.0.1:9444
base[in-process]=https://127.0.0.1:9445
base[ktls-serve-2w]=https://127.0.0.1:8443
netns[ktls-serve-2w]=hs2
# Each repetition runs every contender twice, hs_secs each, in the order
# A B C ... C B A, and records the mean of its two runs: a drift in the
# host's speed during the repetition (a neighbour's load rising or
# falling) then lands on all contenders alike, as the two runs of each
# centre on the repetition's middle.  (One pass in order A B C ... put the
# first and the last contender half a minute apart, and a drift between
# them into their ratio.)
hs_order="ktls-serve ktls-serve-2w ktls-serve-socket ktls-serve-socket-2w in-process nginx-ktls"
for r in $(seq $hs_reps); do
	: >"$raw.pass"
	for c in $hs_order $(tr ' ' '\n' <<<"$hs_order" | tac); do
		wrk_raw=$raw.pass wrk_run handshake "$c" index.html 4 "Connection: close"
	done
	# a contender with a failed run gets one "failed" line and no figures
	# for this repetition; the others, the means of their two runs
	awk '$3 == "failed" { f[$1 " " $2] = 1; next }
	     { k = $1 " " $2 " " $3; if (!(k in n)) keys[++m] = k; s[k] += $4; n[k]++ }
	     END {
		for (c in f) print c, "failed 1"
		for (i = 1; i <= m; i++) {
			split(keys[i], kk, " ")
			if (!((kk[1] " " kk[2]) in f))
				printf "%s %.3f\n", keys[i], s[keys[i]] / n[keys[i]]
		}
	     }' "$raw.pass" >>"$raw"
	sed "s/^/$r /" "$raw.pass" >>"$out/bench.passes"	# each run, for a closer look
done
rm -f "$raw.pass"
kill $ns2_serve_pid $ns2_agent_pid $sock2_pid $agent2_pid 2>/dev/null
wait $ns2_serve_pid $ns2_agent_pid $sock2_pid $agent2_pid 2>/dev/null
ns2_serve_pid= ns2_agent_pid= sock2_pid= agent2_pid=
ip netns del hs2
phase "handshakes"
# what one switch of address space costs on the server's vCPU, with a
# working set of 4 MiB per side: the handoff's two processes pay it where
# the in-process server does not
set -- $(taskset -c 0 "$B/tests/switch_cost" 1024 $((hs_reps * 200)))
sample switch threads us_per_handover "$1"
sample switch processes us_per_handover "$2"
sample switch extra us_per_switch "$3"

if [ "$part" = handshake ]; then
	echo "bench: done (handshakes only)" >&2
	exit 0
fi

# --- memory per idle TLS connection ------------------------------------------------
# nginx is started afresh for each of its two contenders: memory freed by
# one run would otherwise be reused by the next and not show in its RSS
for c in ktls-serve nginx nginx-ktls; do
	port=${base[$c]##*:}
	if [ "$c" != ktls-serve ]; then
		kill $(nginx_pids) 2>/dev/null
		wait $nginx_pid 2>/dev/null
		start_nginx
		wait_port 8444
		wait_port 8445
		sleep 0.5
	fi
	m0=$(rss_kb $(pids_of $c))
	coproc IDLE { taskset -c 1 "$B/tests/idle_client" "$port" "$idle"; }
	read -r line <&"${IDLE[0]}"
	sleep 0.5
	m1=$(rss_kb $(pids_of $c))
	sample idle "$c" kib_per_conn "$(awk -v a=$m0 -v b=$m1 -v n=$idle 'BEGIN { printf "%.2f", (b - a) / n }')"
	sample idle "$c" connected "${line#ready }"
	exec {IDLE[1]}>&-
	wait $IDLE_PID 2>/dev/null
	sleep 0.5
done
phase "idle memory"

# --- the crypto floor ------------------------------------------------------------
modprobe -q algif_aead 2>/dev/null	# AF_ALG's AEAD interface
set -- $(taskset -c 1 "$B/tests/aead_speed" $((secs / 2 + 2)))
sample crypto kernel-aes-256-gcm mbps "$1"
sample crypto kernel-aes-256-gcm cpu_s_per_gib "$2"
o=$(taskset -c 1 openssl speed -evp aes-256-gcm -bytes 16384 -seconds $((secs / 2 + 2)) 2>/dev/null | tail -n 1)
sample crypto openssl-aes-256-gcm mbps "$(echo "$o" | awk '{ v = $NF; sub(/k$/, "", v); printf "%.1f", v / 1000 }')"

phase "crypto floor"

# --- NIC offload, on the simulated NIC -----------------------------------------
# ktls-serve and an agent with nic_offload = tls12 in namespace B behind
# nsap, curl in A behind nsa; TLS 1.2 AES-256-GCM either way.  "device":
# kernel TLS on nsap; "software": the same pair with nsap refusing
# tls_dev_add.  Interleaved, a new connection each time.  Server CPU is all
# of vCPU 0 (the server, its softirqs, and the receiving stack of the pair,
# which runs on the sender's CPU: the same for both); nic_cpu is the
# simulated NIC's own encryption and decryption time (ethtool -S
# tx_encrypt_ns + rx_decrypt_ns), which a real NIC does in hardware, and
# host_cpu = cpu - nic_cpu what would be left on the host.
# busy LINE: busy clock ticks (user, nice, system, irq, softirq) of
# /proc/stat's LINE: cpu0, or cpu for all vCPUs
busy() { awk -v l="$1" '$1 == l { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
nic_ns() {
	ip netns exec B ethtool -S nsap |
		awk '$1 == "tx_encrypt_ns:" || $1 == "rx_decrypt_ns:" { t += $2 } END { print t + 0 }'
}
if [ -e "${KTLS_NICSIM_MODULE:-}" ] && modprobe -q ctr && { ! modinfo -n ghash_generic >/dev/null 2>&1 || modprobe -q ghash_generic; } &&
   insmod "$KTLS_NICSIM_MODULE"; then
	ip netns add A && ip netns add B
	ip -n A link set lo up; ip -n B link set lo up
	ip link add nsa type ktls_nicsim && ip link set nsa netns A && ip link set nsap netns B &&
		ip -n A addr add 10.77.0.1/24 dev nsa && ip -n B addr add 10.77.0.2/24 dev nsap &&
		ip -n A link set nsa up && ip -n B link set nsap up
	sed "s|agent.sock|agent-nic.sock|; s|^alpn|nic_offload = tls12\nalpn|" agent.conf >agent-nic.conf
	ip netns exec B taskset -c 0 "$B/bin/ktls-agent" -c agent-nic.conf 2>agent-nic.log &
	nic_agent=$!
	sleep 0.5
	ip netns exec B taskset -c 0 "$B/bin/ktls-serve" -w 1 -p 8446 --path module www 2>serve-nic.log &
	nic_serve=$!
	head -c $((nic_mb << 20)) www/big.bin >www/nic.bin
	wait_port 8446 B
	for r in $(seq $nic_reps); do
		for c in device software; do
			[ $c = software ] && v=1 || v=0
			ip netns exec B sh -c "echo $v > /sys/class/net/nsap/ktls_nicsim/refuse_add"
			dev0=$(ip netns exec B awk '$1 == "TlsTxDevice" { print $2 }' /proc/net/tls_stat)
			c0=$(busy cpu0) n0=$(nic_ns)
			t=$( { TIMEFORMAT='%R'; time ip netns exec A taskset -c 1 curl -sk -o /dev/null \
				--resolve localhost:8446:10.77.0.2 https://localhost:8446/nic.bin; } 2>&1 | tail -n 1)
			c1=$(busy cpu0) n1=$(nic_ns)
			dev1=$(ip netns exec B awk '$1 == "TlsTxDevice" { print $2 }' /proc/net/tls_stat)
			sample nic-offload "$c" mbps "$(awk -v m=$nic_mb -v s="$t" 'BEGIN { printf "%.1f", m * 1.048576 / s }')"
			sample nic-offload "$c" cpu_s_per_gib "$(awk -v d=$((c1 - c0)) -v h=$hz -v m=$nic_mb 'BEGIN { printf "%.3f", d / h / (m / 1024) }')"
			sample nic-offload "$c" nic_cpu_s_per_gib "$(awk -v n=$((n1 - n0)) -v m=$nic_mb 'BEGIN { printf "%.3f", n / 1e9 / (m / 1024) }')"
			sample nic-offload "$c" host_cpu_s_per_gib "$(awk -v d=$((c1 - c0)) -v h=$hz -v n=$((n1 - n0)) -v m=$nic_mb 'BEGIN { v = (d / h - n / 1e9) / (m / 1024); printf "%.3f", v < 0 ? 0 : v }')"
			sample nic-offload "$c" device_sockets "$((dev1 - dev0))"
		done
	done
	kill $nic_serve $nic_agent 2>/dev/null
	wait $nic_serve $nic_agent 2>/dev/null
	ip netns del A; ip netns del B
	rmmod ktls_nicsim
	phase "NIC offload"
else
	echo "# bench: no ktls_nicsim.ko for this kernel, no NIC offload row" >&2
fi

# --- the kernel's own TLS consumers: NFS over TLS through the handshake upcall ---
# nfsd exports a tmpfs over loopback; an agent with one worker answers both
# ends of every mount.  nfs-mount: mount, stat and umount cycles for
# $nfs_secs s, xprtsec=tls ("nfs-tls": two handshakes through the upcall
# per mount, counted from the agent's log) against no TLS ("nfs-plain").
# nfs-read: a $nfs_mb MiB file read over a fresh mount (the umount drops the
# client's cache); CPU is the whole guest's (nfsd and the client are kernel
# threads) per GiB.  Contenders interleaved.
. "$KTLS_SRC/tests/lib/nfs.sh"
nfs_opts() { [ "$1" = nfs-tls ] && echo vers=4.2,xprtsec=tls || echo vers=4.2; }
if nfsd_start /tmp/bench-nfs-export; then
	{
		printf '[global]\nworkers = 1\nsocket =\nmodule = no\n\n'
		printf '[profile nfs-server]\nupcall = server\nupcall_ports = 2049\n'
		printf 'cert = %s/server.pem\nkey = %s/server.key\n\n' "$dir" "$dir"
		printf '[profile nfs-client]\nroles = client\nupcall = client\nupcall_ports = 2049\n'
		printf 'ca = %s/ca.pem\n' "$dir"
	} >agent-nfs.conf
	"$B/bin/ktls-agent" -c agent-nfs.conf 2>agent-nfs.log &
	nfs_agent=$!
	for _ in $(seq 100); do grep -q ready: agent-nfs.log && break; sleep 0.1; done
	head -c $((nfs_mb << 20)) /dev/urandom >/tmp/bench-nfs-export/read.bin
	mkdir -p /tmp/bench-nfs
	for r in $(seq $nfs_reps); do
		for c in nfs-tls nfs-plain; do
			n=0 h0=$(grep -c 'kernel TLS on' agent-nfs.log)
			t0=$(date +%s.%N) end=$(( $(date +%s) + nfs_secs ))
			while [ "$(date +%s)" -lt $end ]; do
				mount -t nfs4 -o "$(nfs_opts $c)" 127.0.0.1:/ /tmp/bench-nfs &&
					stat /tmp/bench-nfs/read.bin >/dev/null &&
					umount /tmp/bench-nfs && n=$((n + 1)) || break
			done
			t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
			h=$(( $(grep -c 'kernel TLS on' agent-nfs.log) - h0 ))
			sample nfs-mount "$c" rps "$(awk -v n=$n -v t="$t" 'BEGIN { printf "%.2f", n / t }')"
			[ $c = nfs-tls ] && sample nfs-mount "$c" upcall_hs_per_s \
				"$(awk -v n=$h -v t="$t" 'BEGIN { printf "%.2f", n / t }')"
		done
		for c in nfs-tls nfs-plain; do
			mount -t nfs4 -o "$(nfs_opts $c)" 127.0.0.1:/ /tmp/bench-nfs || continue
			c0=$(busy cpu) t0=$(date +%s.%N)
			cat /tmp/bench-nfs/read.bin >/dev/null
			t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
			c1=$(busy cpu)
			sum=$(sha256sum </tmp/bench-nfs/read.bin | cut -c1-16)	# from the cache
			umount /tmp/bench-nfs
			[ "$sum" = "$(sha256sum </tmp/bench-nfs-export/read.bin | cut -c1-16)" ] ||
				{ echo "# bench: nfs-read $c: the file read back differs" >&2; continue; }
			sample nfs-read "$c" mbps "$(awk -v m=$nfs_mb -v s="$t" 'BEGIN { printf "%.1f", m * 1.048576 / s }')"
			sample nfs-read "$c" cpu_s_per_gib "$(awk -v d=$((c1 - c0)) -v h=$hz -v m=$nfs_mb 'BEGIN { printf "%.3f", d / h / (m / 1024) }')"
		done
	done
	kill $nfs_agent 2>/dev/null
	wait $nfs_agent 2>/dev/null
	nfsd_stop
	phase "NFS over TLS"
else
	echo "# bench: nfsd did not start, no NFS rows" >&2
fi
echo "bench: done" >&2
