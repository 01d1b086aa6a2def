// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * LD_PRELOAD fault injection for the tests: once the file named by
 * $KTLS_FAULT_NETLINK exists, the next recvmsg() on a netlink socket fails
 * with EIO, and the file is removed (one failure per creation of the file,
 * whichever thread reads first).  Lets a test reach what a program does
 * when a read of the module's netlink socket fails for good.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	static ssize_t (*next)(int, struct msghdr *, int);
	const char *path = getenv("KTLS_FAULT_NETLINK");
	int domain = 0;
	socklen_t len = sizeof(domain);

	if (!next)
		next = (ssize_t (*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
	if (path && !getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) &&
	    domain == AF_NETLINK && unlink(path) == 0) {
		errno = EIO;
		return -1;
	}
	return next(fd, msg, flags);
}
