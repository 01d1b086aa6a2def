#!/bin/sh
# libktls.so.1's ABI against the one released (dist/abi/libktls.abi, made
# with abidw from the release's library): abidiff (abigail-tools) fails
# the test on any incompatible change: a function gone or changed, a
# struct that shrank or whose members moved.  Compatible changes (a new
# function) pass, and are shown.  After a release, store its ABI anew:
#   abidw --headers-dir include/ktls-offload --no-corpus-path \
#         --out-file dist/abi/libktls.abi build/lib/libktls.so.1
. "$KTLS_SRC/tests/lib/tap.sh"
lib=$KTLS_BUILD/lib/libktls.so.1
base=$KTLS_SRC/dist/abi/libktls.abi
ok "abidiff is installed (abigail-tools, make deps)" command -v abidiff
ok "the released ABI is stored" test -s "$base"
ok "libktls.so.1 is built, with debug information" sh -c "readelf -S '$lib' | grep -q debug_info"
out=$(abidiff --headers-dir2 "$KTLS_SRC/include/ktls-offload" "$base" "$lib" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
# abidiff's status bits: 1 error, 2 usage, 4 a change, 8 an incompatible one
is "abidiff ran" "$(( rc & 3 ))" 0
is "no incompatible change to the released ABI" "$(( rc & 8 ))" 0
# the check itself: a library with a function less is caught
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
sed '/ktls_cipher_name;/d' "$KTLS_SRC/dist/libktls.map" >"$stage/less.map"
objs=$(sed -n 's/^libktls_OBJS := //p' "$KTLS_SRC/Makefile")
# shellcheck disable=SC2046
cc -shared -Wl,--version-script="$stage/less.map" -o "$stage/libktls.so.1" \
	$(for o in $objs; do echo "$KTLS_BUILD/lib/obj/$o"; done) \
	$(pkg-config --libs libnl-genl-3.0)
abidiff "$base" "$stage/libktls.so.1" >/dev/null 2>&1
is "... which would fail it for a removed function" "$(( $? & 8 ))" 8
plan $_tap_n
