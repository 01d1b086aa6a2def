# Setup shared by the guest tests that run ktls-agent and ktls-serve
# (hostile, faults, load, soak, valgrind).  Source after tap.sh and pki.sh.
#
# serve_setup NAME: a fresh /tmp/NAME-test with www/ and the test PKI, as
#   the current directory; KTLS_AGENT_SOCKET points into it.  On exit the
#   processes in $pids (and $agent_pid) are killed, the logs (*.log, *.err,
#   *.out, *.conf) copied to $KTLS_OUT/NAME-logs, the module unloaded.
# agent_conf TIMEOUT_MS [LINE...]: writes agent.conf, two workers, the
#   socket in the test directory, a default profile with the server
#   certificate and the handshake timeout; LINEs are appended (more
#   settings of the default profile, or further sections).
agent=$KTLS_BUILD/bin/ktls-agent
serve=$KTLS_BUILD/bin/ktls-serve
pids=""
agent_pid=

serve_setup() {
	serve_name=$1
	dir=/tmp/$1-test
	rm -rf "$dir"
	mkdir -p "$dir/www"
	cd "$dir" || exit 1
	make_pki "$dir"
	export KTLS_AGENT_SOCKET=$dir/agent.sock
	trap serve_cleanup EXIT
}

serve_cleanup() {
	mkdir -p "$KTLS_OUT/$serve_name-logs"
	cp ./*.log ./*.err ./*.out ./*.conf "$KTLS_OUT/$serve_name-logs/" 2>/dev/null
	kill $pids $agent_pid 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir/www"
	grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
}

agent_conf() {
	local timeout=$1
	shift
	{
		printf '[global]\nworkers = 2\nsocket = %s/agent.sock\n\n' "$dir"
		printf '[profile default]\ncert = %s/server.pem\nkey = %s/server.key\n' "$dir" "$dir"
		printf 'handshake_timeout = %s\n' "$timeout"
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} >agent.conf
}
