/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Which network device a connected TCP socket's packets leave through, and
 * whether that device offers kernel TLS offload (the ethtool features
 * tls-hw-tx-offload and tls-hw-rx-offload), asked the way the kernel
 * decides it: the route to the peer from the socket's local address, in the
 * caller's network namespace (a socket of another one gets -EXDEV).
 */
#ifndef KTLS_NIC_H
#define KTLS_NIC_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

struct nic_route {
	char ifname[IF_NAMESIZE];	/* the device the route leaves through */
	int ifindex;
	bool tls_tx;			/* tls-hw-tx-offload on */
	bool tls_rx;			/* tls-hw-rx-offload on */
};

/* What, beside the addresses, picks a TCP connection's route, as the kernel
 * looks it up: all optional (0: not set). */
struct nic_flow {
	int oif;		/* bound device (SO_BINDTODEVICE, IPv6 scope) */
	uint32_t mark;		/* SO_MARK */
	uint32_t uid;		/* the socket's owner (fib rules by uid) */
	bool has_uid;
	uint16_t sport, dport;	/* host order (multipath hashing) */
};

/* Fills @out for connected TCP socket @fd.  0, or -errno (-ENETUNREACH: no
 * route; -ENOTCONN: @fd has no peer; -EXDEV: @fd is of another network
 * namespace). */
int nic_route_of(int fd, struct nic_route *out);

/* The same for a connection between @local and @peer, addresses of @family
 * (4 bytes for AF_INET, 16 for AF_INET6; IPv4-mapped IPv6 as AF_INET). */
int nic_route_addrs(int family, const void *local, const void *peer,
		    const struct nic_flow *flow, struct nic_route *out);

/* The TLS offload features of device @ifname, in @tx and @rx.  0 or -errno
 * (-EOPNOTSUPP: the device reports no such features at all). */
int nic_tls_features(const char *ifname, bool *tx, bool *rx);

#endif
