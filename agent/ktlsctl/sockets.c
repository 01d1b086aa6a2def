// SPDX-License-Identifier: GPL-2.0 OR MIT
/* ktlsctl sockets: TCP sockets with kernel TLS, where each direction runs
 * (software or the device), and on which device. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/tls.h>

#include <sys/socket.h>

#include "ktls_keys.h"
#include "ktlsctl.h"
#include "nic.h"
#include "sockdiag.h"

static const char *version_name(uint16_t v)
{
	return v == TLS_1_3_VERSION ? "1.3" : v == TLS_1_2_VERSION ? "1.2" : "?";
}

static const char *cipher_name(uint16_t c)
{
	const struct ktls_cipher *kc = ktls_cipher_by_type(c);

	return kc ? kc->name : "?";
}

/* The device a socket on the device runs on: the route it leaves through
 * ("-" in software; "?" where no route is found). */
static const char *device_name(const struct sockdiag_entry *e, char *buf, size_t len)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *src = e->src, *dst = e->dst;
	int family = e->family;
	struct nic_flow flow = { 0 };
	struct nic_route r;

	if (e->txconf != TLS_CONF_HW && e->txconf != TLS_CONF_HW_RECORD &&
	    e->rxconf != TLS_CONF_HW && e->rxconf != TLS_CONF_HW_RECORD)
		return "-";
	if (family == AF_INET6 && !memcmp(src, mapped, 12) && !memcmp(dst, mapped, 12)) {
		family = AF_INET;
		src += 12;
		dst += 12;
	}
	flow.oif = (int)e->ifindex;
	flow.mark = e->mark;
	flow.uid = e->uid;
	flow.has_uid = true;
	flow.sport = e->sport;
	flow.dport = e->dport;
	if (nic_route_addrs(family, src, dst, &flow, &r))
		return "?";
	snprintf(buf, len, "%s", r.ifname);
	return buf;
}

int ktlsctl_sockets(int argc, char **argv)
{
	struct sockdiag_entry *e;
	int n, shown = 0, ulps = 0;

	if (argc > 1) {
		fprintf(stderr, "%s: '%s' takes no arguments\n", ktlsctl_prog, argv[0]);
		return 2;
	}
	n = sockdiag_tcp(SOCKDIAG_CONNECTED, 0, &e);
	if (n < 0) {
		fprintf(stderr, "%s: cannot list sockets: %s\n", ktlsctl_prog,
			sockdiag_error(n));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char local[64], peer[64], dev[IF_NAMESIZE], tx[24];

		if (e[i].ulp[0])
			ulps++;
		if (strcmp(e[i].ulp, "tls"))
			continue;
		if (!shown++)
			printf("%-28s %-28s %-4s %-18s %-9s %-9s %s\n", "LOCAL", "PEER", "TLS",
			       "CIPHER", "TX", "RX", "DEVICE");
		sockdiag_format(&e[i], 0, local, sizeof(local));
		sockdiag_format(&e[i], 1, peer, sizeof(peer));
		/* ",zc": TLS_TX_ZEROCOPY_RO set (it acts only on the device) */
		snprintf(tx, sizeof(tx), "%s%s", sockdiag_conf_name(e[i].txconf),
			 e[i].zc_ro_tx ? ",zc" : "");
		printf("%-28s %-28s %-4s %-18s %-9s %-9s %s\n", local, peer,
		       version_name(e[i].tls_version), cipher_name(e[i].tls_cipher), tx,
		       sockdiag_conf_name(e[i].rxconf), device_name(&e[i], dev, sizeof(dev)));
	}
	free(e);
	if (!shown)
		printf("no kernel TLS sockets%s\n", geteuid() && !ulps ?
		       " visible (the kernel shows a socket's TLS state only to "
		       "CAP_NET_ADMIN)" : "");
	return 0;
}
