#!/bin/bash
# dist/ktls-agent.service and ktls-agent-tlshd.service: the agent runs as
# its own user with CAP_NET_ADMIN alone (modprobe in ExecStartPre with
# "+"), no core files, and systemd-analyze security rates its exposure low;
# the tlshd replacement conflicts with tlshd.service and may use keyrings.
# Skipped without systemd-analyze (systemd >= 250 for --offline).
. "$KTLS_SRC/tests/lib/tap.sh"
key() { sed -n "s/^$1=//p" "$unit" | tr '\n' ' ' | sed 's/ $//'; }
for unit in "$KTLS_SRC/dist/ktls-agent.service" "$KTLS_SRC/dist/ktls-agent-tlshd.service"; do
echo "# $(basename "$unit")"

is "User= is the agent's own" "$(key User)" ktls-agent
is "the bounding set is CAP_NET_ADMIN alone" "$(key CapabilityBoundingSet)" CAP_NET_ADMIN
is "and so are the ambient capabilities" "$(key AmbientCapabilities)" CAP_NET_ADMIN
like "modprobe runs with full privileges for itself only (+)" "$(key ExecStartPre)" "^\+/sbin/modprobe"
is "no new privileges" "$(key NoNewPrivileges)" yes
is "no core files" "$(key LimitCORE)" 0
like "a system call filter" "$(key SystemCallFilter)" "@system-service"
is "ProtectSystem=strict" "$(key ProtectSystem)" strict
is "PrivateTmp" "$(key PrivateTmp)" yes
if ! command -v systemd-analyze >/dev/null ||
   ! systemd-analyze security --offline=true "$unit" >/dev/null 2>&1; then
	echo "ok $((_tap_n + 1)) # SKIP systemd-analyze security --offline not available"
	_tap_n=$((_tap_n + 1))
else
	out=$(systemd-analyze security --offline=true "$unit" 2>&1)
	level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	printf '%s\n' "$out" | grep '✗' | sed 's/^/# /'
	ok "systemd-analyze security: exposure $level, at most 2.0" \
		awk -v l="$level" 'BEGIN { exit !(l != "" && l <= 2.0) }'
fi
done
unit=$KTLS_SRC/dist/ktls-agent-tlshd.service
is "the tlshd replacement conflicts with tlshd" "$(key Conflicts)" tlshd.service
like "... and may read keys from keyrings (PSK, key serials)" "$(key SystemCallFilter)" "@keyring"
like "... and runs from its own configuration" "$(key ExecStart)" "ktls-agent-tlshd.conf"
# (the shipped file as --check takes it here: no user, no tlshd.conf, a profile)
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
sed '/^user = /d; /^tlshd_config/d' "$KTLS_SRC/dist/ktls-agent-tlshd.conf" >"$conf"
printf '[profile p]\nupcall = client\nca = system\n' >>"$conf"
ok "that configuration loads (ktls-agent --check)" "$KTLS_BUILD/bin/ktls-agent" --check -c "$conf"
plan $_tap_n
