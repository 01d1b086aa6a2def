// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loopback.h"

int loopback_tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int l, ret = 0;

	*a = *b = -1;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -errno;
	if (bind(l, (void *)&sin, sizeof(sin)) || listen(l, 4) ||
	    getsockname(l, (void *)&sin, &len))
		goto err;
	*a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*a < 0 || connect(*a, (void *)&sin, sizeof(sin)))
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
