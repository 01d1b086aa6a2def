#!/bin/sh
# libktls as a user gets it: `make install` into a staging prefix, then a
# program built with pkg-config against the installed header, linked once
# with the shared and once with the static library; the shared library
# and the static library export only the API of <ktls-offload/ktls.h>, the
# shared one with the symbol versions of dist/libktls.map.
. "$KTLS_SRC/tests/lib/tap.sh"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -s -C "$KTLS_SRC" BUILD="$KTLS_BUILD" install PREFIX="$stage/opt/ktls" >"$stage/install.log" 2>&1
ok "make install PREFIX=..." test -f "$stage/opt/ktls/lib/pkgconfig/ktls.pc"
export PKG_CONFIG_PATH=$stage/opt/ktls/lib/pkgconfig
ok "ktls.pc validates" pkg-config --validate ktls
is "pkg-config --modversion" "$(pkg-config --modversion ktls)" \
	"$(sed -n 's/.*KTLS_OFFLOAD_VERSION "\(.*\)"/\1/p' "$KTLS_SRC/include/ktls-offload/version.h")"
cat >"$stage/use.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <ktls-offload/ktls.h>

int main(void)
{
	struct ktls_ctx *k;

	printf("%d %s\n", ktls_open(&k, KTLS_PATH_SOCKET, "/nonexistent/sock") == -ENOENT,
	       ktls_cipher_name(52));
	return 0;
}
C
# shellcheck disable=SC2046
ok "a program compiles against the installed header and links the shared library" \
	cc -Wall -Werror -o "$stage/use" "$stage/use.c" $(pkg-config --cflags --libs ktls)
is "and runs with it" "$(LD_LIBRARY_PATH=$stage/opt/ktls/lib "$stage/use")" "1 AES-256-GCM"
# shellcheck disable=SC2046
ok "the static library links too (with its private requirements)" \
	cc -Wall -Werror -static-libgcc -o "$stage/use-static" "$stage/use.c" \
	$(pkg-config --cflags ktls) "$stage/opt/ktls/lib/libktls.a" $(pkg-config --libs libnl-genl-3.0)
is "and runs" "$("$stage/use-static")" "1 AES-256-GCM"
is "the shared library's soname" "$(objdump -p "$stage/opt/ktls/lib/libktls.so.1" | awk '/SONAME/ { print $2 }')" \
	libktls.so.1
api=$(sed -n 's/^[a-z].* \**\(ktls_[a-z_]*\)(.*/\1/p' "$KTLS_SRC/include/ktls-offload/ktls.h" | sort | tr '\n' ' ')
exported=$(nm -D --defined-only "$stage/opt/ktls/lib/libktls.so.1" |
	awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort | tr '\n' ' ')
is "it exports exactly the functions the header declares" "$exported" "$api"
versions=$(nm -D --defined-only --with-symbol-versions "$stage/opt/ktls/lib/libktls.so.1" |
	awk '$2 != "A" { sub(/^[^@]*@@/, "", $3); print $3 }' | sort -u | tr '\n' ' ')
is "... every one of them at version KTLS_1.0" "$versions" "KTLS_1.0 "
mapped=$(sed -n 's/^[[:space:]]*\(ktls_[a-z0-9_]*\);.*/\1/p' "$KTLS_SRC/dist/libktls.map" | sort | tr '\n' ' ')
is "dist/libktls.map lists the header's functions" "$mapped" "$api"
static=$(nm --defined-only "$stage/opt/ktls/lib/libktls.a" | awk '$2 ~ /^[A-Z]$/ { print $3 }' | sort | tr '\n' ' ')
is "the static library's global symbols are the header's functions too" "$static" "$api"
plan $_tap_n
