#!/bin/bash
# The body of `make demo`, run in the QEMU guest (or natively on a kernel
# with kTLS): a demo CA, ktls-agent, ktls-serve on a sample directory, curl
# fetching with verification, the SHA-256 comparison and the kernel's TLS
# counters.  Prints for a human; the last line is "DEMO OK" or "DEMO FAILED".
set -u
if [ -n "${KTLS_OUT:-}" ] && [ -z "${DEMO_TEED:-}" ]; then
	# in the guest: keep a copy of what is shown for the host to print
	DEMO_TEED=1 "$0" "$@" 2>&1 | tee "$KTLS_OUT/demo.txt"
	exit "${PIPESTATUS[0]}"
fi
. "$KTLS_SRC/tests/lib/pki.sh"
dir=/tmp/ktls-demo
rm -rf "$dir"
mkdir -p "$dir/www"
cd "$dir" || exit 1
failed=0
step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
check() {	# check DESCRIPTION COMMAND...
	if "${@:2}"; then say "ok: $1"; else say "FAILED: $1"; failed=1; fi
}
counters() {	# the counters that tell who encrypted what
	awk '$1 ~ /^Tls(Tx|Rx)(Sw|Device)$|^TlsDecryptError$/ { printf "%s=%s ", $1, $2 }' /proc/net/tls_stat
}
pids=""
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; grep -q "^ktls_offload " /proc/modules && rmmod ktls_offload' EXIT

step "1. A demo certificate authority and a certificate for localhost (GnuTLS certtool)"
make_pki "$dir"
say "$(certtool -i --infile server.pem | grep -m1 'Subject:' | sed 's/^[[:space:]]*//')," \
	"issued by $(certtool -i --infile server.pem | grep -m1 'Issuer:' | sed 's/.*Issuer: //')"

step "2. A sample directory with an index page and a 256 MiB file"
echo '<!DOCTYPE html><title>ktls-offload demo</title><p>Served through kernel TLS.' >www/index.html
head -c 268435456 /dev/urandom >www/big.bin
sum=$(sha256sum <www/big.bin | cut -d' ' -f1)
say "big.bin  SHA-256 $sum"

step "3. Load the ktls_offload module and start ktls-agent (the only process with the key)"
insmod "$KTLS_MODULE" || { say "FAILED: insmod"; echo "DEMO FAILED"; exit 1; }
cat >agent.conf <<EOF
[global]
socket = $dir/agent.sock
[profile default]
cert = $dir/server.pem
key = $dir/server.key
alpn = http/1.1
EOF
"$KTLS_BUILD/bin/ktls-agent" -c agent.conf 2>agent.log &
pids="$pids $!"
wait_for_line agent.log "ready:" 20 && say "$(grep -m1 'ready:' agent.log | sed 's/^ktls-agent: info: //')"

step "4. Start ktls-serve on port 8443: no TLS library, no key; each connection goes to the agent"
"$KTLS_BUILD/bin/ktls-serve" -p 8443 --access-log access.log www 2>serve.log &
pids="$pids $!"
wait_for_line serve.log "serving" 20 && say "$(head -n 1 serve.log)"

step "5. curl fetches both files over HTTPS, verifying the certificate against the demo CA"
before=$(counters)
curl -sS -v --cacert ca.pem https://localhost:8443/ 2>curl.log | sed 's/^/   page: /'
grep -E '^\* (SSL connection using|.*certificate verify ok|ALPN: server accepted)' curl.log |
	sed 's/^\* /   curl: /'
start=$(date +%s.%N)
got=$(curl -sS --cacert ca.pem https://localhost:8443/big.bin | sha256sum | cut -d' ' -f1)
end=$(date +%s.%N)
after=$(counters)
say "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "big.bin: 256 MiB in %.1f s (an emulated CPU: slow, but every byte went through the kernel)", e - s }')"

step "6. The file arrived intact"
say "sent     SHA-256 $sum"
say "received SHA-256 $got"
check "the SHA-256 sums match" test "$got" = "$sum"

step "7. The kernel did the encryption: /proc/net/tls_stat before and after"
say "(TlsTxSw/TlsRxSw: sockets whose sending/receiving ran kernel TLS in software;"
say " ...Device: on a TLS-offload NIC, which this emulated machine does not have)"
say "before: $before"
say "after:  $after"
tx=$(( $(awk '$1 == "TlsTxSw" { print $2 }' /proc/net/tls_stat) - $(echo "$before" | sed 's/.*TlsTxSw=\([0-9]*\).*/\1/') ))
check "two more sockets with kernel TLS transmit (TlsTxSw +$tx)" test "$tx" -eq 2
say "access log:"
sed 's/^/     /' access.log

step "8. Shut down"
kill -TERM $pids
wait
say "ktls-serve and ktls-agent stopped"
rmmod ktls_offload && say "module unloaded"
trap - EXIT
[ $failed = 0 ] && echo "DEMO OK" || echo "DEMO FAILED"
