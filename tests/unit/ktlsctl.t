#!/bin/sh
# ktlsctl's command line: help, usage errors, and a clear message when the
# module is not loaded (this host has no ktls_offload module).  Listener
# mode itself is tested in the guest (tests/guest/listener.t).
. "$KTLS_SRC/tests/lib/tap.sh"
ctl=$KTLS_BUILD/bin/ktlsctl
plan 14

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

out=$("$ctl" help); rc=$?
like "help lists attach, detach, status and sockets" "$(echo "$out" | grep -cE '^ +(attach|detach|status|sockets) ')" '^4$'
out=$("$ctl" attach 2>&1); rc=$?
like "attach without a target: usage, exit 2" "rc=$rc $out" '^rc=2 Usage: ktlsctl attach'
out=$("$ctl" detach --id 3 --port 443 2>&1); rc=$?
like "detach with two targets: usage, exit 2" "rc=$rc $out" '^rc=2 Usage:'
out=$("$ctl" attach --pid 1 2>&1); rc=$?
like "attach --pid without --fd: usage, exit 2" "rc=$rc $out" '^rc=2 Usage:'
out=$("$ctl" attach --port 70000 2>&1); rc=$?
like "a port over 65535 is named, exit 2" "rc=$rc $out" "^rc=2 ktlsctl: bad port '70000'"
out=$("$ctl" attach --port 443 --max-inflight x 2>&1); rc=$?
like "a bad --max-inflight is named, exit 2" "rc=$rc $out" "^rc=2 ktlsctl: bad max-inflight 'x'"
# a port nothing listens on: found out before the module is asked
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
out=$("$ctl" attach --port "$port" 2>&1); rc=$?
like "attach to a port nothing listens on: said, exit 1" "rc=$rc $out" "^rc=1 ktlsctl: nothing listens on TCP port $port"
out=$("$ctl" status 2>&1); rc=$?
like "status without the module: said, exit 1" "rc=$rc $out" '^rc=1 ktlsctl: the ktls_offload module is not loaded'
