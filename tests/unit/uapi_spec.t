#!/bin/sh
# The UAPI header agrees with the YAML spec, and the checker notices when
# they drift apart (a renumbered command, a name the spec lacks).
. "$KTLS_SRC/tests/lib/tap.sh"
check=$KTLS_SRC/scripts/check-uapi.py
spec=$KTLS_SRC/include/ktls_offload.yaml
hdr=$KTLS_SRC/include/uapi/linux/ktls_offload.h
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plan 6

ok "include/uapi/linux/ktls_offload.h agrees with include/ktls_offload.yaml" "$check" "$spec" "$hdr"
sed 's/KTLS_OFFLOAD_CMD_SUBMIT,/KTLS_OFFLOAD_CMD_SUBMIT = 7,/' "$hdr" >"$tmp/renumbered.h"
fails "a renumbered command is caught" "$check" "$spec" "$tmp/renumbered.h"
sed 's/KTLS_OFFLOAD_A_REQUEST_PAD,/KTLS_OFFLOAD_A_REQUEST_PAD, KTLS_OFFLOAD_A_REQUEST_EXTRA,/' "$hdr" >"$tmp/extra.h"
fails "an attribute missing from the spec is caught" "$check" "$spec" "$tmp/extra.h"
sed 's/"agents"/"agent"/' "$hdr" >"$tmp/group.h"
fails "a renamed multicast group is caught" "$check" "$spec" "$tmp/group.h"
ok "kmod/netlink.c gives every command the permission the spec names" \
	"$check" "$spec" "$hdr" "$KTLS_SRC/kmod/netlink.c"
sed 's/GENL_ADMIN_PERM/GENL_UNS_ADMIN_PERM/' "$KTLS_SRC/kmod/netlink.c" >"$tmp/netlink.c"
fails "a command with a weaker permission than the spec's is caught" \
	"$check" "$spec" "$hdr" "$tmp/netlink.c"
