// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.h"

int loopback_tcp_pair_family(int family, int *a, int *b)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr *sa = family == AF_INET6 ? (void *)&s6 : (void *)&s4;
	socklen_t len = family == AF_INET6 ? sizeof(s6) : sizeof(s4);
	int l, ret = 0;

	*a = *b = -1;
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -errno;
	if (bind(l, sa, len) || listen(l, 4) || getsockname(l, sa, &len))
		goto err;
	*a = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*a < 0 || connect(*a, sa, len))
		goto err;
	*b = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (*b < 0)
		goto err;
	close(l);
	return 0;
err:
	ret = -errno;
	if (*a >= 0)
		close(*a);
	*a = -1;
	close(l);
	return ret;
}

int loopback_tcp_pair(int *a, int *b)
{
	return loopback_tcp_pair_family(AF_INET, a, b);
}
