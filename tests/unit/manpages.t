#!/bin/sh
# The man pages render without warnings, and ktls-agent's --help and its man
# page name the same options.
. "$KTLS_SRC/tests/lib/tap.sh"
plan 4
for page in "$KTLS_SRC"/doc/*.[1-8]; do
	out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	is "$(basename "$page") renders without warnings" "$out" ""
done
help_opts=$("$KTLS_BUILD/bin/ktls-agent" --help | grep -o -- '--[a-z-]*' | sort -u | tr '\n' ' ')
man_opts=$(MANWIDTH=200 man -l "$KTLS_SRC/doc/ktls-agent.8" 2>/dev/null | grep -o -- '--[a-z-]*' | sort -u | tr '\n' ' ')
is "ktls-agent --help and ktls-agent(8) list the same long options" "$help_opts" "$man_opts"
out=$("$KTLS_BUILD/bin/ktls-agent" --bogus 2>&1); rc=$?
like "an unknown option: usage on stderr, exit 2" "rc=$rc $out" "^rc=2 .*unrecognized option"
