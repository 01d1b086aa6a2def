#!/bin/sh
# ktlsctl's command line: help, usage errors, and a clear message when the
# module is not loaded (this host has no ktls_offload module).
. "$KTLS_SRC/tests/lib/tap.sh"
ctl=$KTLS_BUILD/bin/ktlsctl
plan 6

out=$("$ctl" help); rc=$?
like "help exits 0 and lists the version command" "rc=$rc $out" '^ +version +show'
out=$("$ctl" 2>&1); rc=$?
like "no command: usage on stderr, exit 2" "rc=$rc $out" '^rc=2 Usage: ktlsctl <command>'
out=$("$ctl" frobnicate 2>&1); rc=$?
like "unknown command is named, exit 2" "rc=$rc $out" "^rc=2 ktlsctl: unknown command 'frobnicate'"
out=$("$ctl" version extra 2>&1); rc=$?
like "version takes no arguments, exit 2" "rc=$rc $out" "^rc=2 ktlsctl: 'version' takes no arguments"
if grep -q '^ktls_offload ' /proc/modules 2>/dev/null; then
	echo "ok 5 - # SKIP the module is loaded on this host"
	echo "ok 6 - # SKIP the module is loaded on this host"
else
	out=$("$ctl" version 2>&1); rc=$?
	like "version without the module exits 1" "rc=$rc" '^rc=1$'
	like "and says the module is not loaded" "$out" 'the ktls_offload module is not loaded'
fi
