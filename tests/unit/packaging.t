#!/bin/sh
# The Debian packaging (debian/, dkms.conf) against the tree, without
# building a package (make deb and make check-packages do that): versions
# agree, the library package is named for the soname, every file `make
# install` installs goes into some package and every .install line finds
# its file, the packaged unit gets the packaged path, and the module's
# DKMS source (Kbuild, kmod/, include/) has every header kmod/ includes.
. "$KTLS_SRC/tests/lib/tap.sh"
cd "$KTLS_SRC" || exit 1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

version=$(sed -n 's/.*KTLS_OFFLOAD_VERSION "\(.*\)"/\1/p' include/ktls-offload/version.h)
is "debian/changelog's version is version.h's" \
	"$(sed -n '1s/^ktls-offload (\([^)]*\)).*/\1/p' debian/changelog)" "$version"
is "dkms.conf's PACKAGE_VERSION is version.h's" \
	"$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)" "$version"
is "dkms.conf builds the module kmod/Kbuild makes" \
	"$(sed -n 's/^BUILT_MODULE_NAME\[0\]="\(.*\)"$/\1/p' dkms.conf).o" \
	"$(sed -n 's/^obj-m *:*= *//p' kmod/Kbuild)"
like "dkms.conf: from kmod/, into updates/dkms, for every kernel (AUTOINSTALL)" \
	"$(grep -E '^(BUILT_MODULE_LOCATION|DEST_MODULE_LOCATION|AUTOINSTALL)' dkms.conf | sort | tr '\n' ' ')" \
	'^AUTOINSTALL="yes" BUILT_MODULE_LOCATION\[0\]="kmod/" DEST_MODULE_LOCATION\[0\]="/updates/dkms" $'

# libktls: package libktlsN for soname libktls.so.N (a new soname: rename
# the package in debian/control and its debian/libktlsN.* files)
sov=$(sed -n 's/^LIBKTLS_SOVERSION *:*= *//p' Makefile)
libpkg=$(sed -n 's/^Package: \(libktls[0-9][0-9a-z.]*\)$/\1/p' debian/control)
is "the library package is named for the soname (LIBKTLS_SOVERSION $sov)" "$libpkg" "libktls$sov"
ok "... and has its .install file" test -f "debian/libktls$sov.install"
like "libktls-dev depends on exactly that version of it" \
	"$(sed -n '/^Package: libktls-dev$/,/^$/p' debian/control)" "Depends:.*libktls$sov \(= \\$\{binary:Version\}\)"

# every installed file in some package
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
make -s BUILD="$KTLS_BUILD" install DESTDIR="$stage/tmp" PREFIX=/usr LIBDIR="/usr/lib/$ma" \
	>"$stage/install.log" 2>&1
ok "make install DESTDIR=... PREFIX=/usr LIBDIR=/usr/lib/$ma" test -x "$stage/tmp/usr/sbin/ktls-agent"
# the first word of each .install line: a pattern, in debian/tmp or the tree
for f in debian/*.install; do
	grep -v '^#' "$f" | awk 'NF { print $1 }' | sed "s|\${DEB_HOST_MULTIARCH}|$ma|g"
done >"$stage/patterns"
(cd "$stage/tmp" && find . ! -type d | sed 's|^\./||' | sort) >"$stage/installed"
unpackaged=$(while read -r file; do
	found=
	while read -r pat; do
		# shellcheck disable=SC2254
		case $file in $pat) found=1; break ;; esac
	done <"$stage/patterns"
	[ -n "$found" ] || echo "$file"
done <"$stage/installed")
is "every file make install installs is in a package's .install" "$unpackaged" ""
unmatched=$(while read -r pat; do
	# shellcheck disable=SC2086
	(cd "$stage/tmp" && ls -d $pat) >/dev/null 2>&1 || ls -d $pat >/dev/null 2>&1 || echo "$pat"
done <"$stage/patterns")
is "every .install line finds its file (debian/tmp or the tree)" "$unmatched" ""
pkgs=$(sed -n 's/^Package: //p' debian/control | sort | tr '\n' ' ')
with=$( (ls debian/*.install | sed 's|debian/||; s|\.install$||'; echo ktls-offload-dkms) | sort | tr '\n' ' ')
is "every binary package has its .install (the -dkms one: debian/rules)" "$with" "$pkgs"
ok "every man page of doc/ is packaged" sh -c '
	for m in doc/*.[1-8]; do grep -q "/man[1-8]/$(basename "$m")\$" "$1" || { echo "$m"; exit 1; }; done' sh "$stage/installed"

# the unit: debian/rules rewrites dist/'s ExecStart for /usr/sbin
from=$(sed -n "s/^	sed 's|\([^|]*\)|\([^|]*\)|' dist\/ktls-agent.service.*/\1/p" debian/rules)
like "debian/rules rewrites the unit's program path to /usr/sbin" \
	"$(sed "s|$from|/usr/sbin/ktls-agent|" dist/ktls-agent.service | grep '^ExecStart=')" \
	"^ExecStart=/usr/sbin/ktls-agent "

# the DKMS source: debian/rules copies Kbuild, kmod/ and include/
like "debian/rules puts Kbuild, kmod/ and include/ into /usr/src/ktls-offload-VERSION" \
	"$(cat debian/rules)" "cp -R Kbuild kmod include "
missing=$(grep -ho '#include <\(ktls-offload\|linux/ktls_offload\)[^>]*>' kmod/*.[ch] | sort -u |
	sed 's/#include <\(.*\)>/\1/' | while read -r h; do
		[ -f "include/$h" ] || [ -f "include/uapi/$h" ] || echo "$h"
	done)
is "every project header kmod/ includes is under include/" "$missing" ""
plan $_tap_n
