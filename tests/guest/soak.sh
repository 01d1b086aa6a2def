#!/bin/bash
# guest-timeout: 7200
# The soak run (make soak; soak_smoke.t runs 45 s of it in make check):
# ktls-agent and ktls-serve on both handoff paths under a mixed load of
# four clients (tests/guest/soak_client.py: new connections, keep-alive,
# ranges, HEAD; every body SHA-256-checked) for SOAK_SECONDS (default 60,
# or $1), on loopback only.  Samples both processes' RSS and descriptors
# every 5 s into $KTLS_OUT/soak-samples.txt.  TAP: no lost or corrupted
# response, descriptors back where they were, RSS flat.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
secs=${1:-${SOAK_SECONDS:-60}}
. "$KTLS_SRC/tests/lib/serve.sh"
serve_setup soak
head -c 1048576 /dev/urandom >www/1m.bin
head -c 65536 /dev/urandom >www/64k.bin
head -c 16384 /dev/urandom >www/16k.bin
head -c 1000 /dev/urandom >www/1k.bin
printf 'plain text\n' >www/a.txt
plan 10
agent_conf 60000

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
"$agent" -c agent.conf 2>agent.log &
agent_pid=$!
wait_for_line agent.log "ready:"
"$serve" -p 8443 -w 2 --handshake-timeout 60 "$dir/www" 2>serve.log &
serve_pid=$!
"$serve" -p 9443 -w 2 --handshake-timeout 60 --path socket "$dir/www" 2>serve-socket.log &
sock_pid=$!
pids="$agent_pid $serve_pid $sock_pid"
wait_for_line serve.log "via the ktls_offload module"
wait_for_line serve-socket.log "via the agent's UNIX socket"

nfds() { ls "/proc/$1/fd" | wc -l; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
sample() { echo "$(date +%s) agent $(rss $agent_pid) $(nfds $agent_pid)" \
	"serve $(rss $serve_pid) $(nfds $serve_pid) socket $(rss $sock_pid) $(nfds $sock_pid)"; }

# warm-up: every worker's allocations and libktls contexts exist afterwards
python3 "$KTLS_SRC/tests/guest/soak_client.py" 8443 ca.pem www 5 1 >warm1.out
python3 "$KTLS_SRC/tests/guest/soak_client.py" 9443 ca.pem www 5 2 >warm2.out
sleep 1
first=$(sample)
echo "# ${secs}s of mixed load; samples: time, then RSS (KiB) and descriptors of each"
echo "# $first"
echo "$first" >"$KTLS_OUT/soak-samples.txt"
tx0=$(tls_stat TlsTxSw)
cpids=""
for i in 1 2 3 4; do
	python3 "$KTLS_SRC/tests/guest/soak_client.py" $((i % 2 ? 8443 : 9443)) ca.pem www \
		"$secs" "$i" >client$i.out 2>&1 &
	cpids="$cpids $!"
done
end=$(( $(date +%s) + secs ))
while [ "$(date +%s)" -lt "$end" ]; do
	sleep 5
	sample >>"$KTLS_OUT/soak-samples.txt"
done
wait $cpids
sleep 2
last=$(sample)
echo "$last" >>"$KTLS_OUT/soak-samples.txt"
echo "# $last"

ok "ktls-agent and both ktls-serve are still running" kill -0 $agent_pid $serve_pid $sock_pid
total=$(cat client*.out | awk '/^requests/ { n += $2 } END { print n + 0 }')
errors=$(cat client*.out | awk '/^requests/ { e += $4; c++ } END { print (c == 4) ? e : "missing" }')
grep -h '^#' client*.out | head -n 10
ok "the four clients made requests ($total)" test "$total" -gt 0
is "no lost or corrupted response (SHA-256 of every body checked)" "$errors" 0
ok "kernel TLS carried them ($(($(tls_stat TlsTxSw) - tx0)) new kTLS sockets)" \
	test $(($(tls_stat TlsTxSw) - tx0)) -gt 0
set -- $first
a_rss=$3 a_fd=$4 s_rss=$6 s_fd=$7 k_rss=${9} k_fd=${10}
set -- $last
is "the agent's descriptors are where they were" "$4" "$a_fd"
is "ktls-serve's (module path)" "$7" "$s_fd"
is "ktls-serve's (socket path)" "${10}" "$k_fd"
flat() { [ $(($2 - $1)) -lt 4096 ]; }	# flat BEFORE AFTER: grew by under 4 MiB
ok "the agent's RSS is flat ($a_rss -> $3 KiB)" flat "$a_rss" "$3"
ok "ktls-serve's RSS is flat (module path: $s_rss -> $6 KiB)" flat "$s_rss" "$6"
ok "ktls-serve's RSS is flat (socket path: $k_rss -> ${9} KiB)" flat "$k_rss" "${9}"
