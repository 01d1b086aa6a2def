// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host unit tests of agent/common/nic.c, the route and TLS-offload lookup
 * behind the agent's nic_offload: a loopback connection leaves through lo,
 * which offers no TLS offload; sockets without a peer, of other families,
 * and devices that do not exist get their errors.  (The devices that do
 * offer it are tested in the guest, tests/guest/nicsim_serve.t.)
 */
#include <errno.h>
#include <string.h>
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

	ret = nic_tls_features("lo", &tx, &rx);
	ok(ret == 0 && !tx && !rx, "lo's features: known, TLS offload off (%d)", ret);
	ret = nic_tls_features("ktls-nosuch0", &tx, &rx);
	ok(ret == -ENODEV && !tx && !rx, "a device that does not exist: ENODEV (%s)",
	   strerror(-ret));
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
