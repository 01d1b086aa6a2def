#!/bin/bash
# guest-timeout: 900
# Protocol conformance after the handoff (issue 17): a peer that completes
# a real handshake with ktls-serve and then misbehaves (tests/guest/
# conform_client.c) must get the alert RFC 8446 / RFC 5246 name, and then
# the end of the connection: damaged records (bad_record_mac), oversized
# ones (record_overflow), alerts of the wrong length, stray
# ChangeCipherSpec, unknown record and handshake types, bad KeyUpdates,
# TLS 1.2 renegotiation (no_renegotiation, and the connection goes on),
# valid KeyUpdates (internal_error and a log line where kernel TLS cannot
# rekey or the socket path was taken; where it can, the module path
# carries them out and a request works after them), a damaged Finished (the agent's bad_record_mac, and the
# requester learns why); a handshake message cut after its first byte
# (refused at once, not waited for), messages only a server sends, six
# control records in a row (unexpected_message).  TLS 1.3 and 1.2, AES-GCM and ChaCha20-Poly1305,
# on both handoff paths.
. "$KTLS_SRC/tests/lib/tap.sh"
. "$KTLS_SRC/tests/lib/pki.sh"
. "$KTLS_SRC/tests/lib/serve.sh"
client=$KTLS_BUILD/tests/conform_client
scale=${KTLS_TIME_SCALE:-1}
serve_setup conform
printf 'plain text\n' >www/a.txt
agent_conf $((60000 * scale))

insmod "$KTLS_MODULE" || { echo "Bail out! insmod failed"; exit 1; }
"$agent" -c agent.conf 2>agent.log &
pids="$pids $!"
wait_for_line agent.log "ready:" $((30 * scale)) || echo "# the agent did not start"
"$serve" -v -p 8443 -w 1 --handshake-timeout $((60 * scale)) "$dir/www" 2>serve-module.log &
pids="$pids $!"
"$serve" -v -p 9443 -w 1 --handshake-timeout $((60 * scale)) --path socket "$dir/www" \
	2>serve-socket.log &
pids="$pids $!"
ok "ktls-serve on the module path" wait_for_line serve-module.log "via the ktls_offload module" $((30 * scale))
ok "ktls-serve on the agent's UNIX socket" \
	wait_for_line serve-socket.log "via the agent's UNIX socket" $((30 * scale))

both="bad-tag bad-tag-first oversized huge-header bad-version alert-empty alert-short
      alert-long alert-fatal alert-warning user-canceled ccs unknown-type handshake-empty
      handshake-unknown close-notify close-notify-answered bad-finished handshake-split
      control-flood key-update-unaligned"
tls13="$both key-update-value key-update-length key-update-empty new-session-ticket"
tls12="$both renegotiate hello-request"
# Kernel TLS that takes new keys (6.14 on: its tls_stat counts rekeys):
# on the module path the module carries out valid KeyUpdates; elsewhere
# they end the connection with internal_error.
rekey=no
modprobe tls 2>/dev/null
grep -q '^TlsRxRekeyOk' /proc/net/tls_stat && rekey=yes
echo "# kernel TLS rekey: $rekey"
for port in 8443 9443; do
	path=module
	[ $port = 9443 ] && path=socket
	if [ $path = module ] && [ $rekey = yes ]; then
		ku="key-update-works key-update-requested-works"
	else
		ku="key-update key-update-requested"
	fi
	run() {	# VERSION CIPHER CASE...
		v=$1 c=$2
		shift 2
		for t in "$@"; do
			ok "$path path, TLS $v $c: $t" "$client" $port ca.pem "$v" "$c" "$t"
		done
	}
	run 1.3 AES-128-GCM $tls13 $ku
	run 1.3 AES-256-GCM bad-tag oversized $ku
	run 1.3 CHACHA20-POLY1305 bad-tag oversized alert-short ${ku%% *}
	run 1.2 AES-128-GCM $tls12
	run 1.2 AES-256-GCM bad-tag
	run 1.2 CHACHA20-POLY1305 bad-tag oversized renegotiate
done

if [ $rekey = yes ]; then
	unlike "ktls-serve never met a KeyUpdate on the module path (the module took them)" \
		"$(cat serve-module.log)" "KeyUpdate"
else
	like "ktls-serve logs each KeyUpdate it could not follow (module path)" \
		"$(cat serve-module.log)" "sent a TLS 1.3 KeyUpdate, which this kernel's TLS cannot follow"
fi
like "and on the socket path" \
	"$(cat serve-socket.log)" "sent a TLS 1.3 KeyUpdate, which this kernel's TLS cannot follow"
like "a damaged Finished: the requester learns the reason (module path)" \
	"$(cat serve-module.log)" "handshake with .* failed: Bad message"
like "and on the socket path" \
	"$(cat serve-socket.log)" "handshake with .* failed: Bad message"
like "the agent logs the record error" "$(cat agent.log)" "failed: .*(Decryption has failed|MAC verification failed)"
plan $_tap_n
