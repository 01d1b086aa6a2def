#!/bin/sh
# The module loads on this kernel, its generic netlink family resolves
# through the controller, the version command answers, rmmod succeeds and
# takes the family with it.
. "$KTLS_SRC/tests/lib/tap.sh"
ctl=$KTLS_BUILD/bin/ktlsctl
plan 11

out=$("$ctl" version 2>&1); rc=$?
like "ktlsctl version without the module fails with a clear message" \
	"rc=$rc $out" '^rc=1 .*ktls_offload module is not loaded'
ok "insmod ktls_offload.ko" insmod "$KTLS_MODULE"
ok "/proc/modules lists ktls_offload" grep -q '^ktls_offload ' /proc/modules

ctrl=$(genl ctrl get name ktls_offload 2>&1)
like "genl controller resolves family ktls_offload" "$ctrl" 'Name: ktls_offload'
like "family version is 2" "$ctrl" 'Version: 0x2 '
like "family offers the GET_VERSION command (1)" "$ctrl" '#1: +ID-0x1'

out=$("$ctl" version 2>&1); rc=$?
want=$(modinfo -F version "$KTLS_MODULE")
is "ktlsctl version exits 0" "$rc" 0
like "the module reports the release it was built as ($want)" "$out" "^module $want \(protocol 2\)\$"

ok "rmmod ktls_offload" rmmod ktls_offload
fails "family is gone after rmmod" genl ctrl get name ktls_offload
ok "the module loads again after unloading" sh -c "insmod '$KTLS_MODULE' && rmmod ktls_offload"
