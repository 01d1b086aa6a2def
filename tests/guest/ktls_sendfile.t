#!/bin/sh
# Kernel TLS smoke test: sendfile() of 16 MiB through kTLS TX with fixed
# keys, received by kTLS RX and by a userspace decryptor, for TLS 1.3
# AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 and TLS 1.2 AES-128-GCM.
set -e
f=/tmp/ktls-sendfile.bin
head -c 16777216 /dev/urandom >"$f"
exec "$KTLS_BUILD/tests/ktls_sendfile" "$f"
