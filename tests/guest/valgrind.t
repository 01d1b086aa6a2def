#!/bin/bash
# guest-kernels: 6.12
# ktls-agent under valgrind (memcheck): handshakes on both handoff paths,
# transfers through kernel TLS, a SIGHUP reload, a refused client, then
# SIGTERM.  Passes only with no memcheck error and nothing definitely or
# indirectly lost.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"
serve_setup valgrind
head -c 4194304 /dev/urandom >www/4m.bin
sum=$(sha256sum <www/4m.bin | cut -d' ' -f1)
plan 9
agent_conf 120000 "alpn = http/1.1"

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
# --child-silent-after-fork: the agent does not fork, but be sure; the
# suppressions are none: GnuTLS, libnl and inih are clean under memcheck
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--log-file=valgrind.log "$agent" -c agent.conf 2>agent.log &
agent_pid=$!
pids="$agent_pid"
ok "the agent starts under valgrind" wait_for_line agent.log "ready:" 240
"$serve" -p 8443 -w 1 --handshake-timeout 120 "$dir/www" 2>serve.log &
pids="$pids $!"
"$serve" -p 9443 -w 1 --handshake-timeout 120 --path socket "$dir/www" 2>serve-socket.log &
pids="$pids $!"
wait_for_line serve.log "via the ktls_offload module" 30
wait_for_line serve-socket.log "via the agent's UNIX socket" 30

C=(curl -sS --max-time 300 --cacert ca.pem)
tx0=$(tls_stat TlsTxSw)
is "a 4 MiB transfer over the module path" \
	"$("${C[@]}" https://localhost:8443/4m.bin 2>>curl.err | sha256sum | cut -d' ' -f1)" "$sum"
is "and over the UNIX-socket path" \
	"$("${C[@]}" https://localhost:9443/4m.bin 2>>curl.err | sha256sum | cut -d' ' -f1)" "$sum"
kill -HUP $agent_pid
wait_for_line agent.log "reloaded\|configuration" 120
is "after SIGHUP, another handshake" \
	"$("${C[@]}" https://localhost:8443/4m.bin 2>>curl.err | sha256sum | cut -d' ' -f1)" "$sum"
is "all three went through kernel TLS" "$(($(tls_stat TlsTxSw) - tx0))" 3
# after the count: whether this one reaches kernel TLS is a race between
# curl closing the connection and the agent installing the keys
fails "a client that fails verification (wrong name) is refused" \
	curl -sS --max-time 300 --cacert ca.pem --resolve wrong.name:8443:127.0.0.1 \
	https://wrong.name:8443/4m.bin -o /dev/null
kill -TERM $agent_pid
wait $agent_pid
is "after SIGTERM the agent exits 0 (valgrind's exit status 99 would mean errors)" "$?" 0
like "memcheck: no errors" "$(cat valgrind.log)" "ERROR SUMMARY: 0 errors"
unlike "memcheck: nothing definitely or indirectly lost" "$(cat valgrind.log)" \
	"(definitely|indirectly) lost: [1-9]"
