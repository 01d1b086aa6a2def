#!/bin/sh
# guest-kernels: 6.12
# 45 seconds of the soak run (make soak runs it for longer).
exec "$KTLS_SRC/tests/guest/soak.sh" 45
