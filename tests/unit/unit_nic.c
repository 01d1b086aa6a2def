// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host unit tests of agent/common/nic.c, the route and TLS-offload lookup
 * behind the agent's nic_offload: a loopback connection leaves through lo,
 * which offers no TLS offload; sockets without a peer, of other families,
 * of another network namespace, and devices that do not exist get their
 * errors.  (The devices that do
 * offer it are tested in the guest, tests/guest/nicsim_serve.t.)
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.h"
#include "nic.h"
#include "tap.h"

int main(void)
{
	struct nic_route r;
	bool tx = true, rx = true;
	int a, b, fd, ret;

	ret = loopback_tcp_pair(&a, &b);
	ok(ret == 0, "a loopback TCP pair (%s)", strerror(-ret));
	ret = nic_route_of(a, &r);
	ok(ret == 0 && !strcmp(r.ifname, "lo") && r.ifindex > 0,
	   "IPv4: the connected side's route leaves through lo (%d, '%s')", ret, r.ifname);
	ok(!r.tls_tx && !r.tls_rx, "lo offers no TLS offload");
	ret = nic_route_of(b, &r);
	ok(ret == 0 && !strcmp(r.ifname, "lo"), "the accepted side too (%d, '%s')", ret, r.ifname);
	close(a);
	close(b);

	ret = loopback_tcp_pair_family(AF_INET6, &a, &b);
	if (ret == 0) {
		ret = nic_route_of(b, &r);
		ok(ret == 0 && !strcmp(r.ifname, "lo"), "IPv6: through lo (%d, '%s')", ret,
		   r.ifname);
		close(a);
		close(b);
	} else {
		/* a host without ::1 (IPv6 disabled) */
		ok(ret == -EADDRNOTAVAIL || ret == -EAFNOSUPPORT,
		   "IPv6: no loopback address here, said as such (%s)", strerror(-ret));
	}

	fd = socket(AF_INET, SOCK_STREAM, 0);
	ret = nic_route_of(fd, &r);
	ok(ret == -ENOTCONN, "a socket without a peer: ENOTCONN (%s)", strerror(-ret));
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ret = nic_route_of(fd, &r);
	ok(ret < 0, "a UNIX socket: an error (%s)", strerror(-ret));
	close(fd);
	ret = nic_route_of(-1, &r);
	ok(ret == -EBADF, "no descriptor: EBADF (%s)", strerror(-ret));

	/* a connection of another network namespace: not looked up in ours */
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ret = fd >= 0 && !unshare(CLONE_NEWNET) ? 0 : -errno;
	ok(ret == 0, "a network namespace of our own, for a while (%s; root only)",
	   strerror(-ret));
	if (ret == 0) {
		struct ifreq ifr = { .ifr_name = "lo" };
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) ||
		    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr)) ||
		    loopback_tcp_pair(&a, &b))
			a = b = -1;
		if (s >= 0)
			close(s);
		ret = setns(fd, CLONE_NEWNET) ? -errno : 0;
		ok(a >= 0 && ret == 0, "a loopback pair there, and back home (%s)", strerror(-ret));
		ret = nic_route_of(a, &r);
		ok(ret == -EXDEV, "its route is not looked up here: EXDEV (%s)", strerror(-ret));
		close(a);
		close(b);
	}
	if (fd >= 0)
		close(fd);

	ret = nic_tls_features("lo", &tx, &rx);
	ok(ret == 0 && !tx && !rx, "lo's features: known, TLS offload off (%d)", ret);
	ret = nic_tls_features("ktls-nosuch0", &tx, &rx);
	ok(ret == -ENODEV && !tx && !rx, "a device that does not exist: ENODEV (%s)",
	   strerror(-ret));
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
