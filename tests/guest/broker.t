#!/bin/sh
# The handoff broker: every command and error of the ktls_offload family,
# request lifetimes, limits, 10,000 cycles without leaks, rmmod under load.
insmod "$KTLS_MODULE" || { echo "Bail out! insmod $KTLS_MODULE failed"; exit 1; }
"$KTLS_BUILD/tests/broker_test"
rc=$?
# The test unloads the module itself; a leftover means it stopped early.
grep -q '^ktls_offload ' /proc/modules && rmmod ktls_offload
exit $rc
