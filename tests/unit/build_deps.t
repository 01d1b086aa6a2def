#!/bin/sh
# `make` and `make install` need only the build dependencies (compiler,
# GnuTLS, libnl, inih, libcap, libkeyutils): they check for those packages alone and
# build no test program; `make check` checks for everything.
. "$KTLS_SRC/tests/lib/tap.sh"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
out=$(make -n -C "$KTLS_SRC" BUILD="$stage/b" all install PREFIX="$stage/p" 2>&1)
like "make and make install check for the build packages" "$out" "scripts/deps.sh --build"
unlike "... and not for the test packages or kernels" "$out" "scripts/deps.sh( *$|;|&)"
unlike "... and build no test program or fuzzer" "$out" "$stage/b/(tests|fuzz|asan)/"
like "they build the programs and libraries" "$out" "$stage/b/bin/ktls-agent"
out=$(make -n -C "$KTLS_SRC" BUILD="$stage/b" check 2>&1)
like "make check checks for everything" "$out" "scripts/deps.sh( *$|;|&)"
like "... and builds the test programs" "$out" "$stage/b/tests/unit_http"
# the list of build packages
like "scripts/deps.sh --build lists the compiler and libraries" \
	"$(sed -n '/^BUILD_PACKAGES="/,/"/p' "$KTLS_SRC/scripts/deps.sh" | tr '\n' ' ')" \
	"gcc .*libgnutls28-dev .*libnl-genl-3-dev .*libinih-dev .*libcap-dev .*libkeyutils-dev"
unlike "... and no test tool" "$(sed -n '/^BUILD_PACKAGES="/,/"/p' "$KTLS_SRC/scripts/deps.sh")" \
	"qemu|nginx|clang|curl|testssl"
plan $_tap_n
