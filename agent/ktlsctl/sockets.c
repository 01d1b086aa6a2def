// SPDX-License-Identifier: GPL-2.0 OR MIT
/* ktlsctl sockets: TCP sockets with kernel TLS, and where each direction runs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/tls.h>

#include "ktls_keys.h"
#include "ktlsctl.h"
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
		char local[64], peer[64];

		if (e[i].ulp[0])
			ulps++;
		if (strcmp(e[i].ulp, "tls"))
			continue;
		if (!shown++)
			printf("%-28s %-28s %-4s %-18s %-9s %-9s\n", "LOCAL", "PEER", "TLS",
			       "CIPHER", "TX", "RX");
		sockdiag_format(&e[i], 0, local, sizeof(local));
		sockdiag_format(&e[i], 1, peer, sizeof(peer));
		printf("%-28s %-28s %-4s %-18s %-9s %-9s\n", local, peer,
		       version_name(e[i].tls_version), cipher_name(e[i].tls_cipher),
		       sockdiag_conf_name(e[i].txconf), sockdiag_conf_name(e[i].rxconf));
	}
	free(e);
	if (!shown)
		printf("no kernel TLS sockets%s\n", geteuid() && !ulps ?
		       " visible (the kernel shows a socket's TLS state only to "
		       "CAP_NET_ADMIN)" : "");
	return 0;
}
