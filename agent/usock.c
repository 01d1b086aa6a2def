// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "usock.h"

/* Replaces a socket file nobody listens on; leaves a live one alone. */
static int clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (ret == 0)
		return -EADDRINUSE;
	return unlink(path) ? -errno : 0;
}

int usock_listen(const char *path, const char *group, uid_t uid, gid_t gid,
		 char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)];
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	if (group && group[0]) {
		struct group *gr = getgrnam(group);

		if (!gr) {
			snprintf(err, errlen, "socket_group '%s' does not exist", group);
			return -ENOENT;
		}
		gid = gr->gr_gid;
	}
	strcpy(dir, path);
	if (mkdir(dirname(dir), 0755) == 0) {
		/* ours: the agent, once unprivileged, removes the socket there */
		if (chown(dir, uid, gid)) {
			ret = -errno;
			snprintf(err, errlen, "chown %s: %s", dir, strerror(errno));
			return ret;
		}
	} else if (errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "cannot create the directory of %s: %s", path,
			 strerror(errno));
		return ret;
	}
	ret = clear_stale(path, &sun);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, ret == -EADDRINUSE ?
			 "another agent is listening there" : ret == -EEXIST ?
			 "exists and is not a socket" : strerror(-ret));
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return ret;
	}
	old = umask(0117);	/* created 0660: never briefly wider */
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (ret || chown(path, uid, gid) || chmod(path, 0660) || listen(fd, 512)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

int usock_check_socket(int fd)
{
	int domain, proto, type, listening;
	socklen_t len = sizeof(int);
	struct tcp_info ti;
	char ulp[32] = "";

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len))
		return errno == ENOTSOCK ? ENOTSOCK : EBADF;
	len = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len);
	len = sizeof(int);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
	if ((domain != AF_INET && domain != AF_INET6) || type != SOCK_STREAM ||
	    proto != IPPROTO_TCP)
		return EPROTONOSUPPORT;
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening)
		return EINVAL;
	len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    ti.tcpi_state != TCP_ESTABLISHED)
		return ENOTCONN;
	len = sizeof(ulp);
	if (getsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, &len) == 0 && ulp[0])
		return EBUSY;
	return 0;
}
