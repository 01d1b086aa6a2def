# Unmodified third-party servers for the listener-mode and preload tests,
# and checks on them.  Source after tap.sh, pki.sh and serve.sh (after
# serve_setup: $dir is the test directory, www/ its document root with
# a.txt holding "plain text" and big.bin, whose SHA-256 is $big_sha).
#
# start_python PORT, start_lighttpd PORT, start_nginx PORT [LISTEN-EXTRA]:
#   start the server on 127.0.0.1:PORT, with the variables of the array
#   run_env (e.g. LD_PRELOAD=...) in its environment, wait until it
#   listens, and leave its pid in server_pid (also added to $pids).
#   nginx runs 2 workers with sendfile on; LISTEN-EXTRA goes into its
#   listen directive (reuseport).
# stop_server PID PORT: SIGTERM, and wait until the port is free.
run_env=()
C=(curl -sS --max-time 120 --cacert ca.pem)
tls_stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat; }
nfds() { ls "/proc/$1/fd" | wc -l; }
https_ok() { [ "$("${C[@]}" "https://localhost:$1/a.txt" 2>>curl.err)" = "plain text" ]; }
http_ok() { [ "$(curl -sS --max-time 20 "http://127.0.0.1:$1/a.txt" 2>>curl.err)" = "plain text" ]; }
big_ok() {
	[ "$("${C[@]}" "https://localhost:$1/big.bin" 2>>curl.err | sha256sum | cut -d' ' -f1)" = "$big_sha" ]
}
wait_port() {	# PORT: until something listens on it (10 s)
	for _ in $(seq 100); do
		ss -Htln "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
wait_closed() {	# PORT: until nothing listens on it (10 s)
	for _ in $(seq 100); do
		ss -Htln "sport = :$1" | grep -q . || return 0
		sleep 0.1
	done
	return 1
}
# no kTLS socket is left open (20 s for the last ones to close)
no_stray_tls() {
	for _ in $(seq 80); do
		[ "$(tls_stat TlsCurrTxSw)" = 0 ] && [ "$(tls_stat TlsCurrRxSw)" = 0 ] && return 0
		sleep 0.25
	done
	grep Curr /proc/net/tls_stat
	return 1
}
# stall PORT N: N connections that start a ClientHello and stop; their
# descriptors in the array "stalled"
stall() {
	local fd
	stalled=()
	for _ in $(seq "$2"); do
		exec {fd}<>/dev/tcp/127.0.0.1/"$1"
		printf '\026\003\001\002\000\001' >&$fd
		stalled+=("$fd")
	done
}
unstall() { local fd; for fd in "${stalled[@]}"; do exec {fd}>&-; done; }

_started() {
	server_pid=$1
	pids="$pids $1"
	wait_port "$2"
}

start_python() {
	env "${run_env[@]}" python3 -u -m http.server "$1" --bind 127.0.0.1 --directory www \
		>>"python-$1.log" 2>&1 &
	_started $! "$1"
}

start_lighttpd() {
	cat >"lighttpd-$1.conf" <<CONF
server.document-root = "$dir/www"
server.port = $1
server.bind = "127.0.0.1"
server.errorlog = "$dir/lighttpd-$1.log"
server.pid-file = "$dir/lighttpd-$1.pid"
server.network-backend = "sendfile"
CONF
	env "${run_env[@]}" lighttpd -D -f "lighttpd-$1.conf" >>"lighttpd-$1.log" 2>&1 &
	_started $! "$1"
}

start_nginx() {
	mkdir -p nginx-tmp
	cat >"nginx-$1.conf" <<CONF
worker_processes 2;
daemon off;
user root;
pid $dir/nginx-$1.pid;
error_log $dir/nginx-$1.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	client_body_temp_path $dir/nginx-tmp/body;
	proxy_temp_path $dir/nginx-tmp/proxy;
	fastcgi_temp_path $dir/nginx-tmp/fastcgi;
	uwsgi_temp_path $dir/nginx-tmp/uwsgi;
	scgi_temp_path $dir/nginx-tmp/scgi;
	server {
		listen 127.0.0.1:$1 ${2:-};
		root $dir/www;
	}
}
CONF
	# (the host's root file system is read-only in the guest: -e for the
	# log nginx opens before it reads its configuration)
	env "${run_env[@]}" nginx -e "$dir/nginx.err" -p "$dir" -c "$dir/nginx-$1.conf" \
		2>>nginx.err &
	_started $! "$1"
}

stop_server() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	wait_closed "$2"
}
