# nfsd in the guest, for the handshake-upcall tests and the bench.
# nfsd_start DIR: a fresh tmpfs at DIR exported to 127.0.0.1 as the NFSv4
# root (fsid=0), rpc.mountd and rpc.nfsd for NFSv4 only, their state on a
# tmpfs (the guest's root is the host's, read-only for them); true once
# nfsd listens on 2049, else false with the step that failed on stderr.
# No service of the host is started.
nfsd_start() {
	modprobe -a nfsd nfsv4 || return 1
	exportfs -ua 2>/dev/null	# what an earlier test left
	mountpoint -q /var/lib/nfs || mount -t tmpfs tmpfs /var/lib/nfs ||
		{ echo "nfsd_start: no tmpfs on /var/lib/nfs" >&2; return 1; }
	mkdir -p /var/lib/nfs/v4recovery && touch /var/lib/nfs/etab /var/lib/nfs/rmtab
	mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd ||
		{ echo "nfsd_start: cannot mount /proc/fs/nfsd" >&2; return 1; }
	mkdir -p "$1" && { mountpoint -q "$1" || mount -t tmpfs tmpfs "$1"; } ||
		{ echo "nfsd_start: no tmpfs on $1" >&2; return 1; }
	exportfs -o rw,fsid=0,no_root_squash,insecure,no_subtree_check "127.0.0.1:$1" ||
		{ echo "nfsd_start: exportfs failed" >&2; return 1; }
	# the shortest grace period nfsd takes, for kernels that will not end
	# it early (below)
	echo 10 2>/dev/null >/proc/fs/nfsd/nfsv4gracetime
	{ pgrep -x rpc.mountd >/dev/null || rpc.mountd -N 3 -u; } &&
		rpc.nfsd -N 3 -U 4 && grep -q 2049 /proc/fs/nfsd/portlist ||
		{ echo "nfsd_start: nfsd does not listen on 2049" >&2; return 1; }
	# no client state to recover: without this, every OPEN waits out
	# NFSv4's grace period.  7.x ends it from its laundromat, a moment
	# later, and refuses (EBUSY) when no client tracking runs (nfsdcld, or
	# the legacy tracking Debian's 7.x leaves out): then the 10 s run out.
	echo Y 2>/dev/null >/proc/fs/nfsd/v4_end_grace
	local i=$((20 * ${KTLS_TIME_SCALE:-1}))
	until grep -q Y /proc/fs/nfsd/v4_end_grace; do
		i=$((i - 1))
		[ $i -gt 0 ] || { echo "nfsd_start: the grace period does not end" >&2; return 1; }
		sleep 1
	done
}

# nfsd_stop: nothing exported, nfsd's threads and rpc.mountd stopped
nfsd_stop() {
	exportfs -ua 2>/dev/null
	rpc.nfsd 0 >/dev/null 2>&1
	pkill -x rpc.mountd
}
