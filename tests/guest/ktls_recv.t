#!/bin/sh
# guest-timeout: 60
# ktls_recv() and control records (see tests/guest/ktls_recv.c).
exec "$KTLS_BUILD/tests/ktls_recv"
