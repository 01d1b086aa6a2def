#!/bin/bash
# `make demo`: HTTPS file serving through ktls-agent and kernel TLS, shown
# step by step (tests/guest/demo.sh).  Natively when this kernel has kernel
# TLS and can load our module; otherwise in a QEMU guest running Debian's
# 6.12 kernel.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/demo

cat <<'TXT'
ktls-offload demo
=================
Kernel TLS (kTLS) lets the Linux kernel encrypt a TCP socket's TLS records
itself, so a web server can sendfile() a file from the page cache straight
into an encrypted connection, without copying it through the server.

ktls-offload splits the work: ktls-agent holds the certificate and key and
performs each TLS handshake with GnuTLS; then it installs the negotiated
keys into the socket's kernel TLS and hands the socket back.  ktls-serve,
our file server, has no TLS code at all: it passes each new connection to
the agent and then simply writes plain HTTP into the socket.
TXT

native=0
if [ "$(id -u)" = 0 ] && [ "$(cat /proc/sys/kernel/modules_disabled 2>/dev/null)" = 0 ] &&
   { [ -e /proc/net/tls_stat ] || modprobe -q tls 2>/dev/null; } && [ -e /proc/net/tls_stat ] &&
   [ -d "/lib/modules/$(uname -r)/build" ] &&
   make -s -C "$top" kmod KDIR="/lib/modules/$(uname -r)/build" >/dev/null 2>&1; then
	native=1
fi

if [ $native = 1 ]; then
	echo
	echo "This kernel ($(uname -r)) has kernel TLS: running here."
	KTLS_SRC=$top KTLS_BUILD=$top/build KTLS_OUT= \
	KTLS_MODULE=$top/build/kmod/$(uname -r)/kmod/ktls_offload.ko \
		"$top/tests/guest/demo.sh" | tee "$out.txt"
	result=$(tail -n 1 "$out.txt")
else
	echo
	echo "This machine's kernel has no kernel TLS (or cannot load modules), so the"
	echo "demo boots Debian's 6.12 kernel in a QEMU guest (software emulation: slow)."
	"$top/tests/vm/run-guest" --no-prove -t 600 -k 6.12 -o "$out" demo
	cat "$out/demo.txt" 2>/dev/null
	result=$(tail -n 1 "$out/demo.txt" 2>/dev/null)
fi
echo
if [ "$result" = "DEMO OK" ]; then
	echo "demo: the kernel encrypted every byte, and the file arrived intact."
	exit 0
fi
echo "demo: FAILED (logs in $out)"
exit 1
