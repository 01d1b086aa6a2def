#!/bin/sh
# Randomized stress of the module's interface for KSTRESS_SECONDS (default
# 60) seconds, seed KSTRESS_SEED (default random, printed): requesters,
# agents, attached listeners with servers and clients, dumps, hostile
# socket owners, user and network namespaces, rmmod/insmod at random
# moments.  See tests/guest/kstress.c.  The kernel log (kernel-log.tap) is
# the main oracle.
# guest-timeout: 400 +KSTRESS_SECONDS
grep -q '^ktls_offload ' /proc/modules || insmod "$KTLS_MODULE" ||
	{ echo "Bail out! insmod $KTLS_MODULE failed"; exit 1; }
"$KTLS_BUILD/tests/kstress"
rc=$?
grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
exit $rc
