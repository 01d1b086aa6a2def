// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "addr.h"

void ktls_format_addr(int family, const void *addr, unsigned int port, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family, addr, host, sizeof(host));
	snprintf(out, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

void ktls_format_sockaddr(const struct sockaddr *sa, char *out, size_t len)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		ktls_format_addr(AF_INET, &sin->sin_addr, ntohs(sin->sin_port), out, len);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		ktls_format_addr(AF_INET6, &sin6->sin6_addr, ntohs(sin6->sin6_port), out, len);
	} else {
		snprintf(out, len, "?:0");
	}
}
