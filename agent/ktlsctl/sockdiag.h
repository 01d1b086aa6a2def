/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * TCP sockets of this network namespace from sock_diag (NETLINK_SOCK_DIAG),
 * with their kernel TLS state (INET_DIAG_ULP_INFO, which the kernel gives
 * only to CAP_NET_ADMIN).
 */
#ifndef KTLS_SOCKDIAG_H
#define KTLS_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sockdiag_which {
	SOCKDIAG_LISTEN,	/* listening sockets */
	SOCKDIAG_CONNECTED,	/* all others */
};

struct sockdiag_entry {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t state;		/* TCP_ESTABLISHED, ... */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;	/* host order */
	unsigned long ino;
	uint32_t uid;
	uint32_t ifindex;	/* the device it is bound to, 0: none */
	uint32_t mark;		/* SO_MARK (the kernel says it to CAP_NET_ADMIN) */
	char ulp[16];		/* "" without a ULP (or not privileged) */
	/* tls ULP: 0 where the kernel did not say */
	uint16_t tls_version;	/* TLS_1_2_VERSION, TLS_1_3_VERSION */
	uint16_t tls_cipher;	/* TLS_CIPHER_* */
	uint16_t txconf, rxconf; /* TLS_CONF_BASE, _SW, _HW, _HW_RECORD */
	bool zc_ro_tx, rx_no_pad;
};

/*
 * Lists TCP sockets, IPv4 and IPv6, with local port @port (0: any) into a
 * malloc'd array at *@out (free it).  Returns the count, or -errno.
 */
int sockdiag_tcp(enum sockdiag_which which, unsigned int port,
		 struct sockdiag_entry **out);

/* "addr:port" of the local (@peer 0) or remote end, IPv6 in brackets. */
void sockdiag_format(const struct sockdiag_entry *e, int peer, char *buf, size_t len);

/* A message for an error of sockdiag_tcp(). */
const char *sockdiag_error(int err);

/* "sw", "hw", "hw-record", "none" for a TLS_CONF_* value. */
const char *sockdiag_conf_name(uint16_t conf);

#endif
