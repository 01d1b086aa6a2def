#!/bin/sh
# `make deb`: the Debian packages of debian/ into BUILD/deb/, built with
# dpkg-buildpackage -b from a copy of the tree (the checkout stays clean;
# uncommitted changes are included), then lintian over them: an error
# fails, warnings are shown.  Usage: scripts/make-deb.sh BUILD_DIR
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)/deb
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src=$out/ktls-offload-$version
start=$(date +%s)

rm -rf "$out"
mkdir -p "$src"
# the tracked and the new (not ignored) files; a tree without git: all
# but build/
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\n" "$f"; done' sh |
		tar -cf - -T -) | tar -xf - -C "$src"
else
	tar -C "$top" --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$src"
fi

echo "  DEB     dpkg-buildpackage in $src (log: $out/build.log)"
if ! (cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "make deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi
rm -rf "$src"
for d in "$out"/*.deb; do echo "  DEB     $d"; done

changes=$(ls "$out"/*.changes)
echo "  LINTIAN $changes"
# --fail-on error: warnings are reported, errors fail
lrc=0
lintian --fail-on error --display-info --tag-display-limit 0 "$changes" >"$out/lintian.txt" 2>&1 || lrc=$?
sed 's/^/  /' "$out/lintian.txt"
errors=$(grep -c '^E:' "$out/lintian.txt" || true)
warnings=$(grep -c '^W:' "$out/lintian.txt" || true)
echo "  lintian: $errors error(s), $warnings warning(s) (full list: $out/lintian.txt)"
echo "  make deb took $(( $(date +%s) - start )) s"
if [ "$lrc" != 0 ] || [ "$errors" != 0 ]; then
	echo "make deb: lintian reports errors" >&2
	exit 1
fi
