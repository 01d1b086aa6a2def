#!/bin/sh
# The man pages render without warnings, and each program's --help and its
# man page name the same options.
. "$KTLS_SRC/tests/lib/tap.sh"

for page in "$KTLS_SRC"/doc/*.[1-8]; do
	out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	is "$(basename "$page") renders without warnings" "$out" ""
done
same_options() {	# same_options PROGRAM PAGE
	help_opts=$("$KTLS_BUILD/bin/$1" --help | grep -o -- '--[a-z-]*' | sort -u | tr '\n' ' ')
	man_opts=$(MANWIDTH=200 man -l "$KTLS_SRC/doc/$2" 2>/dev/null | grep -o -- '--[a-z-]*' |
		sort -u | tr '\n' ' ')
	is "$1 --help and $2 list the same long options" "$help_opts" "$man_opts"
}
same_options ktls-agent ktls-agent.8
same_options ktls-serve ktls-serve.1
same_options ktlsctl ktlsctl.8
out=$("$KTLS_BUILD/bin/ktls-agent" --bogus 2>&1); rc=$?
like "an unknown option: usage on stderr, exit 2" "rc=$rc $out" "^rc=2 .*unrecognized option"
plan $_tap_n
