#!/bin/sh
# Regression tests for the review's listener and unload findings (C1, H1,
# H2, H3, M2): hostile socket owners, DETACH racing close(), rmmod with
# accepts in flight, a user namespace's privileges, a long request against
# genetlink.  See tests/guest/kmod_hostile.c.  KTLS_HOSTILE_ONLY names the
# parts to run (default all).
# guest-timeout: 600
grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
# shellcheck disable=SC2086
"$KTLS_BUILD/tests/kmod_hostile" ${KTLS_HOSTILE_ONLY:-}
rc=$?
grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
exit $rc
