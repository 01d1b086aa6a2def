#!/bin/bash
# guest-timeout: 900
# ktls-serve: HTTPS file serving through ktls-agent and kernel TLS, checked
# with curl and wget (certificates verified against the test CA): HEAD,
# ranges, conditional requests, 1,000 requests on one keep-alive
# connection, 200 concurrent connections, a 256 MiB file byte-exact (and
# 64 MiB over the UNIX-socket path; KTLS_BIG_MIB, default 64, scales both), traversal attempts, errors, both
# handoff paths, a stalled handshake that must not delay others, a client
# asking for 512-byte records (refused at its ClientHello: kernel TLS
# cannot send smaller records on these kernels), plain mode, graceful stop.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
agent=$KTLS_BUILD/bin/ktls-agent
serve=$KTLS_BUILD/bin/ktls-serve
dir=/tmp/serve-test
rm -rf "$dir"
mkdir -p "$dir/www/docs" "$dir/www/empty" "$dir/secret"
cd "$dir" || exit 1
make_pki "$dir"
export KTLS_AGENT_SOCKET=$dir/agent.sock
www=$dir/www
echo '<!DOCTYPE html><title>ktls-serve</title><p>hello' >www/index.html
echo 'docs index' >www/docs/index.html
printf 'plain text\n' >www/a.txt
echo 'top secret' >secret/key.txt
ln -s /etc www/etc-link
ln -s ../secret www/secret-link
ln -s a.txt www/inside-link.txt
printf 'x' >"www/with space.txt"
mid_mib=${KTLS_BIG_MIB:-64} big_mib=$((4 * ${KTLS_BIG_MIB:-64}))
head -c $((big_mib << 20)) /dev/urandom >www/big.bin
big_sha=$(sha256sum <www/big.bin | cut -d' ' -f1)
head -c 1048576 /dev/urandom >www/1m.bin
head -c $((mid_mib << 20)) www/big.bin >www/mid.bin
head -c 65536 www/big.bin >www/64k.bin
# bodies up to 16 KiB go out with their header in one sendmsg(), larger
# ones by sendfile(): both sides of that boundary
for n in 16383 16384 16385; do head -c $n www/1m.bin >www/s$n.bin; done

cat >agent.conf <<EOF
[global]
workers = 2
socket = $dir/agent.sock
log_level = info

[profile default]
cert = $dir/server.pem
key = $dir/server.key
alpn = http/1.1
; 200 handshakes at once take longer than 10 s under emulation
handshake_timeout = 60000
EOF

pids=""
cleanup() {
	mkdir -p "$KTLS_OUT/serve-logs"
	cp ./*.log ./*.err ./*.conf "$KTLS_OUT/serve-logs/" 2>/dev/null
	kill $pids 2>/dev/null
	wait 2>/dev/null
	rm -f www/big.bin www/mid.bin
	grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
}
trap cleanup EXIT

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
"$agent" -c agent.conf 2>agent.log &
pids="$pids $!"
wait_for_line agent.log "ready:" || echo "# the agent did not start"
"$serve" -p 8443 -w 2 --handshake-timeout 60 --grace 120 --access-log access.log "$www" 2>serve.log &
serve_pid=$!
pids="$pids $serve_pid"
"$serve" -p 9443 -w 2 --handshake-timeout 60 --path socket "$www" 2>serve-socket.log &
pids="$pids $!"
"$serve" -p 8080 -w 1 --plain "$www" 2>serve-plain.log &
pids="$pids $!"
ok "ktls-serve starts on the module path" wait_for_line serve.log "via the ktls_offload module"
ok "and on the agent's UNIX socket" wait_for_line serve-socket.log "via the agent's UNIX socket"
wait_for_line serve-plain.log "plain HTTP"

U=https://localhost:8443
C=(curl -sS --max-time 120 --cacert ca.pem)
code() { "${C[@]}" -o /dev/null -w '%{http_code}' "$@" 2>>curl.err; }

# --- the basics -------------------------------------------------------------
tx0=$(tls_stat TlsTxSw)
is "GET / serves index.html" "$("${C[@]}" $U/ 2>>curl.err)" \
	'<!DOCTYPE html><title>ktls-serve</title><p>hello'
# curl (OpenSSL) sends one key share, X25519: the agent's default priority
# takes it, with no HelloRetryRequest (a second ClientHello, one more round trip)
hellos=$("${C[@]}" -v -o /dev/null $U/a.txt 2>&1 | grep -c 'TLS handshake, Client hello')
is "curl's X25519 key share is taken: one ClientHello, no HelloRetryRequest" "$hellos" 1
like "Content-Type by extension" "$("${C[@]}" -I $U/a.txt 2>>curl.err | tr -d '\r')" \
	"Content-Type: text/plain; charset=utf-8"
h=$("${C[@]}" -I $U/1m.bin 2>>curl.err | tr -d '\r')
like "HEAD: status and length, no body" "$(echo "$h" | tr '\n' ' ')" \
	"^HTTP/1.1 200 OK .*Content-Length: 1048576 "
etag=$(echo "$h" | sed -n 's/^ETag: //p')
lm=$(echo "$h" | sed -n 's/^Last-Modified: //p')
is "HEAD sends no body bytes" "$("${C[@]}" -I -o /dev/null -w '%{size_download}' $U/1m.bin)" 0
got=$("${C[@]}" -r 1000-1999 $U/1m.bin 2>>curl.err | sha256sum | cut -d' ' -f1)
is "a range request returns those 1,000 bytes" "$got" \
	"$(tail -c +1001 www/1m.bin | head -c 1000 | sha256sum | cut -d' ' -f1)"
for n in 16383 16384 16385; do
	for u in $U http://localhost:8080; do
		is "a $n-byte file over ${u%%:*} arrives intact" \
			"$("${C[@]}" $u/s$n.bin 2>>curl.err | sha256sum | cut -d' ' -f1)" \
			"$(sha256sum <www/s$n.bin | cut -d' ' -f1)"
	done
done
got=$("${C[@]}" -r 16380-16390 $U/s16385.bin 2>>curl.err | od -An -tx1 | tr -d ' \n')
is "a small range at the end of a small file" "$got" "$(tail -c 5 www/s16385.bin | od -An -tx1 | tr -d ' \n')"
like "with 206 and Content-Range" "$("${C[@]}" -r 1000-1999 -D - -o /dev/null $U/1m.bin | tr -d '\r' | tr '\n' ' ')" \
	"^HTTP/1.1 206 .*Content-Range: bytes 1000-1999/1048576"
is "a suffix range (last 500 bytes)" "$("${C[@]}" -r -500 $U/1m.bin | sha256sum | cut -d' ' -f1)" \
	"$(tail -c 500 www/1m.bin | sha256sum | cut -d' ' -f1)"
is "a range past the end: 416" "$(code -r 2000000-2000010 $U/1m.bin)" 416
is "If-None-Match with the ETag: 304" "$(code -H "If-None-Match: $etag" $U/1m.bin)" 304
is "If-Modified-Since the Last-Modified: 304" "$(code -H "If-Modified-Since: $lm" $U/1m.bin)" 304
is "If-Modified-Since long ago: 200" \
	"$(code -H 'If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT' $U/1m.bin)" 200
is "a directory without a slash redirects" "$(code $U/docs)" 301
is "a directory with a slash serves its index.html" "$("${C[@]}" $U/docs/)" "docs index"
is "a directory without index.html is not listed" "$(code $U/empty/)" 403
is "percent-decoding: /with%20space.txt" "$("${C[@]}" "$U/with%20space.txt")" x
is "a symlink inside the root is followed" "$("${C[@]}" $U/inside-link.txt)" "plain text"
is "a missing file: 404" "$(code $U/nope)" 404
is "POST: 405" "$(code -X POST -d x $U/a.txt)" 405
like "POST with a body: 405, and the connection closes (its body is not read)" \
	"$("${C[@]}" -D - -o /dev/null -X POST -d x $U/a.txt | tr -d '\r' | tr '\n' ' ')" \
	"^HTTP/1.1 405 .*Connection: close"
is "DELETE: 405" "$(code -X DELETE $U/a.txt)" 405
is "a GET with a body: 413" "$(code -X GET -d 'some body' $U/a.txt)" 413
is "headers over 8 KiB: 431" "$(code -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" $U/a.txt)" 431
got=$(wget -q -O - --ca-certificate=ca.pem $U/a.txt 2>>wget.err)
is "wget fetches with verification" "$got" "plain text"
fails "wget refuses the server without the test CA" wget -q -O /dev/null $U/a.txt

# --- no way out of the root -------------------------------------------------
for path in '/../secret/key.txt' '/docs/../../secret/key.txt' '/%2e%2e/secret/key.txt' \
	'/%2E%2E%2fsecret%2fkey.txt' '/a.txt%00.html' '/..%5csecret%5ckey.txt' \
	'//etc/passwd' '/etc-link/passwd' '/secret-link/key.txt' '/./a.txt'; do
	resp=$("${C[@]}" --path-as-is -w ' %{http_code}' "$U$path" 2>>curl.err)
	like "traversal $path is refused" "$resp" " (400|403|404)$"
	case $resp in *secret*|*root:*) echo "not ok - $path leaked: $resp" ;; esac
done
resp=$(printf 'GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n' | timeout 10 openssl s_client -quiet \
	-connect 127.0.0.1:8443 2>/dev/null | head -1 | tr -d '\r')
is "an absolute path inside the root is just a path under it: 404" "$resp" "HTTP/1.1 404 Not Found"
resp=$(printf 'GET http://localhost/a.txt HTTP/1.1\r\nHost: x\r\n\r\n' | timeout 10 openssl s_client \
	-quiet -connect 127.0.0.1:8443 2>/dev/null | head -1 | tr -d '\r')
is "an absolute-form target: 400" "$resp" "HTTP/1.1 400 Bad Request"
fails "nothing outside the root reached the access log as a 200" \
	grep -E '"GET [^"]*(secret|passwd|etc-link)[^"]*" 200' access.log

# --- keep-alive, pipelining, close_notify -----------------------------------
for i in $(seq 1000); do echo "url = \"$U/a.txt?$i\""; echo 'output = "/dev/null"'; done >k1000.cfg
tx1=$(tls_stat TlsTxSw)
out=$("${C[@]}" -K k1000.cfg -w '%{http_code} %{num_connects}\n' 2>>curl.err)
is "1,000 requests over keep-alive: all 200" "$(echo "$out" | grep -c '^200 ')" 1000
is "on one connection" "$(echo "$out" | awk '{ s += $2 } END { print s }')" 1
is "one kernel TLS socket for them" "$(($(tls_stat TlsTxSw) - tx1))" 1
resp=$( (printf 'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /docs/ HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'; sleep 3) |
	timeout 20 openssl s_client -quiet -CAfile ca.pem -connect 127.0.0.1:8443 2>/dev/null | tr -d '\r' | grep '^HTTP/' | tr '\n' ' ')
is "three pipelined requests, answered in order" "$resp" \
	"HTTP/1.1 200 OK HTTP/1.1 200 OK HTTP/1.1 404 Not Found "
# (the pause before stdin's end, and so before s_client's close_notify, is
# long enough for a handshake under emulation on a loaded machine)
resp=$( (printf 'GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 6) | timeout 30 openssl s_client \
	-quiet -no_ign_eof -CAfile ca.pem -connect 127.0.0.1:8443 2>/dev/null | tr -d '\r' |
	grep -c '^plain text')
is "a keep-alive request, then the client's close_notify: answered" "$resp" 1
sleep 1
is "and the server closed its side at once, not at the idle timeout" \
	"$(ss -Htn state established '( sport = :8443 )' | wc -l)" 0
# a half-close: request, close_notify and FIN right behind the Finished,
# in before the agent hands the socket over
for v in 1.3 1.2; do
	like "TLS $v: Finished, GET, close_notify and FIN in one write: answered in full" \
		"$(timeout 60 "$KTLS_BUILD/tests/flight_client" 8443 ca.pem $v close 2>&1 | tr '\n' ' ')" \
		"then FIN response: HTTP/1.1 200 OK body 49 of 49 bytes"
done

# --- concurrency and the big file -------------------------------------------
for i in $(seq 200); do echo "url = \"$U/1m.bin?c=$i\""; echo 'output = "/dev/null"'; done >p200.cfg
tx1=$(tls_stat TlsTxSw)
out=$("${C[@]}" --parallel --parallel-max 200 --parallel-immediate -K p200.cfg \
	-w '%{http_code} %{size_download}\n' 2>>curl.err)
is "200 concurrent connections: all 200 with the whole 1 MiB" \
	"$(echo "$out" | grep -c '^200 1048576$')" 200
is "200 kernel TLS sockets" "$(($(tls_stat TlsTxSw) - tx1))" 200
got=$("${C[@]}" $U/big.bin 2>>curl.err | sha256sum | cut -d' ' -f1)
is "$big_mib MiB over the module path: SHA-256 matches" "$got" "$big_sha"
got=$("${C[@]}" https://localhost:9443/mid.bin 2>>curl.err | sha256sum | cut -d' ' -f1)
is "$mid_mib MiB over the UNIX-socket path: SHA-256 matches" "$got" "$(sha256sum <www/mid.bin | cut -d' ' -f1)"
got=$(wget -q -O - --ca-certificate=ca.pem https://localhost:9443/1m.bin | sha256sum | cut -d' ' -f1)
is "wget over the UNIX-socket path" "$got" "$(sha256sum <www/1m.bin | cut -d' ' -f1)"
like "the access log has a line per response, with the TLS version" \
	"$(grep '"GET /big.bin HTTP/1.1" 200 ' access.log)" "TLSv1.3 AES-256-GCM|TLSv1.3 AES-128-GCM|TLSv1.3 ChaCha"
is "the kernel encrypted the bytes (TlsTxSw counts the 200 and the rest)" \
	"$(($(tls_stat TlsTxSw) - tx0 > 220))" 1

# --- record size limits -----------------------------------------------------
# gnutls-cli --recordsize 512 asks for max_fragment_length 512 (and
# record_size_limit): refused with a handshake_failure alert, not served
# 16 KiB records it would have to reject mid-response.
# (gnutls-cli's stdin stays open until the server has closed: once its
# stdin ends, gnutls-cli gives up after 2 s without a byte from the
# server, which a loaded guest can exceed.)
get64k() {	# get64k [GNUTLS-CLI-OPTIONS]: the body of GET /64k.bin
	local pid w
	rm -f get.fifo
	mkfifo get.fifo
	timeout 60 gnutls-cli --logfile=gnutls-cli.log --x509cafile ca.pem -p 8443 "$@" localhost \
		<get.fifo >get64k.out 2>>gnutls-cli.err &
	pid=$!
	exec {w}>get.fifo
	printf 'GET /64k.bin HTTP/1.0\r\nHost: localhost\r\n\r\n' >&$w
	wait "$pid"
	exec {w}>&-
	sed '1,/^\r*$/d' get64k.out
}
for v in 1.3 1.2; do
	p="NORMAL:-VERS-ALL:+VERS-TLS$v"
	is "TLS $v, gnutls-cli: GET of 64 KiB arrives intact" \
		"$(get64k --priority "$p" | sha256sum | cut -d' ' -f1)" \
		"$(sha256sum <www/64k.bin | cut -d' ' -f1)"
	out=$(printf 'GET /64k.bin HTTP/1.0\r\n\r\n' | timeout 60 gnutls-cli --x509cafile ca.pem \
		-p 8443 --priority "$p" --recordsize 512 localhost 2>&1)
	like "TLS $v, gnutls-cli --recordsize 512: refused with a handshake_failure alert" "$out" \
		"Handshake failed|[Hh]andshake failure"
	unlike "and no response" "$out" "HTTP/1.1 200"
done
ok "the agent logs why" grep -q "asks for records of at most 512 bytes (max_fragment_length)" \
	agent.log

# --- handshakes that never finish -------------------------------------------
# 20 connections on each port send the start of a ClientHello, then nothing:
# the agent's workers hold 40 stalled handshakes (60 s timeout here).
stalled=()
for i in $(seq 20); do
	for port in 8443 9443; do
		exec {fd}<>/dev/tcp/127.0.0.1/$port
		printf '\026\003\001\002\000\001' >&$fd
		stalled+=("$fd")
	done
done
slowest=0
for i in 1 2 3 4 5; do
	for url in $U/a.txt https://localhost:9443/a.txt; do
		r=$("${C[@]}" -o /dev/null -w '%{http_code} %{time_total}' "$url" 2>>curl.err)
		is "with 40 stalled handshakes open, request $i to ${url%/a.txt} is served" "${r% *}" 200
		slowest=$(awk -v a="$slowest" -v b="${r#* }" 'BEGIN { print (b > a) ? b : a }')
	done
done
ok "each within 5 s (the stalled ones wait for their 60 s timeout): slowest ${slowest}s" \
	awk -v s="$slowest" 'BEGIN { exit !(s < 5) }'
for fd in "${stalled[@]}"; do exec {fd}>&-; done

# --- segments on the wire ---------------------------------------------------
# The agent's first flight (ServerHello to Finished, which GnuTLS writes in
# two parts) leaves in one TCP segment, and a connection's last response
# leaves with its close_notify and the FIN in one: a client takes 4
# segments fewer than before.  And a client that sends nothing after its
# Finished, to a server that sends nothing, still gets its session ticket
# at once: the agent pushes it out before the handoff (a GnuTLS client
# waits 50 ms for one; agent.t's gnutls-cli -r).
wire() {	# wire PCAP: "c LEN FLAGS" / "s LEN FLAGS" per segment with data or FIN
	tcpdump -r "$1" -n 2>/dev/null | awk '{
		dir = ($5 ~ /\.8443:$/) ? "c" : "s"
		match($0, /Flags \[[^]]*\]/); fl = substr($0, RSTART + 7, RLENGTH - 8)
		len = $NF
		if (len > 0 || fl ~ /F/) print dir, len, fl
	}'
}
tcpdump -i lo -n -U -w wire.pcap "tcp port 8443" 2>tcpdump.err &
tcpd=$!
wait_for_line tcpdump.err "listening on" || echo "# tcpdump did not start: $(cat tcpdump.err)"
r=$("${C[@]}" --http1.1 -H 'Connection: close' -o /dev/null -w '%{http_code}' $U/a.txt 2>>curl.err)
sleep 1
kill -INT $tcpd; wait $tcpd
is "a request with Connection: close, captured" "$r" 200
wire wire.pcap >wire.txt
sed 's/^/# /' wire.txt
# the server's segments between the client's first (ClientHello) and second
n=$(awk '$1 == "c" && $2 > 0 { c++ } c == 1 && $1 == "s" { n++ } END { print n + 0 }' wire.txt)
is "the server's first flight (ServerHello to Finished) in one segment" "$n" 1
like "the FIN rides on the response and its close_notify (over 24 bytes)" \
	"$(awk '$1 == "s" && $3 ~ /F/ { print "FIN on " $2 " bytes" }' wire.txt)" \
	"^FIN on ([3-9][0-9]|[1-9][0-9]{2,}) bytes$"
is "and no segment of its own for the close_notify" \
	"$(awk '$1 == "s" && $2 == 24' wire.txt | wc -l)" 0
rm -f sess.pem
t0=$SECONDS
# (-ign_eof: s_client stays connected after its empty stdin, sending nothing)
timeout 60 openssl s_client -connect 127.0.0.1:8443 -tls1_3 -CAfile ca.pem -ign_eof \
	-sess_out sess.pem </dev/null >s_client.out 2>&1 &
sc=$!
ok "a client that sends nothing after its Finished gets its session ticket" \
	wait_until $((10 * ${KTLS_TIME_SCALE:-1})) grep -q "BEGIN SSL SESSION" sess.pem
ok "... within a few seconds ($((SECONDS - t0)) s; limit $((5 * ${KTLS_TIME_SCALE:-1})))" \
	test $((SECONDS - t0)) -le $((5 * ${KTLS_TIME_SCALE:-1}))
kill $sc 2>/dev/null
wait $sc

# --- plain mode and shutdown ------------------------------------------------
got=$(curl -sS http://127.0.0.1:8080/1m.bin | sha256sum | cut -d' ' -f1)
is "plain mode serves the same files" "$got" "$(sha256sum <www/1m.bin | cut -d' ' -f1)"

# slowloris: a header byte every half second does not keep a request alive
# past the 2 s timeout; the redirect of //docs stays on this host; the
# access log escapes what clients send
"$serve" -p 8082 -w 1 --plain --idle-timeout 2 --access-log access-8082.log "$www" \
	2>serve-8082.log &
pids="$pids $!"
wait_for_line serve-8082.log "plain HTTP"
out=$(timeout 30 python3 - <<'PY'
import socket, time
s = socket.create_connection(("127.0.0.1", 8082))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
t0, data = time.time(), b""
s.settimeout(0.5)
while time.time() - t0 < 12:
    try:
        s.sendall(b"X")
        d = s.recv(4096)
        if not d:
            break
        data += d
    except socket.timeout:
        pass
    except OSError:
        break
print(int(time.time() - t0), data.split(b"\r\n")[0].decode())
PY
)
like "a request trickling a byte every 0.5 s: 408 after the 2 s timeout, then closed" \
	"$out" "^[234] HTTP/1.1 408 Request Timeout$"
ok "logged with status 408" grep -q '"-" 408 ' access-8082.log
loc=$(curl -sS -o /dev/null -w '%{redirect_url}' --path-as-is "http://127.0.0.1:8082//docs" \
	2>>curl.err)
is "GET //docs redirects to /docs/ on this host, not to //docs/" "$loc" "http://127.0.0.1:8082/docs/"
curl -sS -o /dev/null -A "$(printf 'a" 200 0 "\033[31mFORGED\\')" http://127.0.0.1:8082/a.txt 2>>curl.err
like "the access log escapes quotes, escapes and backslashes in the User-Agent" \
	"$(tail -n 1 access-8082.log)" '"a\\x22 200 0 \\x22\\x1B\[31mFORGED\\x5C"'
unlike "no raw escape character in the log" "$(cat access-8082.log)" "$(printf '\033')"
# (--grace 120 above: the default 10 s is too short for 64 MiB when the
# emulated guest runs slowly)
"${C[@]}" --limit-rate 16M -o slow.bin $U/mid.bin 2>>curl.err &
slow=$!
wait_nonempty slow.bin
kill -TERM "$serve_pid"
wait $slow
is "SIGTERM during a download: the response in flight completes" \
	"$(sha256sum <slow.bin | cut -d' ' -f1)" "$(sha256sum <www/mid.bin | cut -d' ' -f1)"
rm -f slow.bin
wait "$serve_pid"
is "then ktls-serve exits 0" "$?" 0
fails "and no longer accepts" curl -sS --max-time 5 --cacert ca.pem -o /dev/null $U/a.txt

# --grace 1: a download still going after a second is cut off, and the
# server exits 0 without waiting for it
"$serve" -p 8081 -w 1 --plain --grace 1 "$www" 2>serve-grace.log &
grace_pid=$!
wait_for_line serve-grace.log "plain HTTP"
# (the big file: what the socket buffers hold, about 10 MiB on loopback,
# still reaches the client after the server's exit, so 16 MiB could)
curl -sS --max-time 120 --limit-rate 1M -o cut.bin http://127.0.0.1:8081/big.bin 2>>curl.err &
cut=$!
wait_nonempty cut.bin
t0=$SECONDS
kill -TERM "$grace_pid"
wait "$grace_pid"
rc=$?
is "--grace 1: ktls-serve exits 0 with a download in flight" "$rc" 0
ok "... within a few seconds ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 5
wait $cut
like "... and the client sees its download cut short" "rc=$? size=$(stat -c %s cut.bin)" \
	"^rc=(18|56) size=[0-9]+$"
ok "... short of the file's $big_mib MiB" test "$(stat -c %s cut.bin)" -lt $((big_mib << 20))
rm -f cut.bin
plan $_tap_n
