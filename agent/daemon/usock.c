// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <fcntl.h>
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
static int clear_stale(int dirfd, const char *base, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, ret;

	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW))
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
	return unlinkat(dirfd, base, 0) ? -errno : 0;
}

/*
 * The socket's directory, opened.  Root creates the socket and sets its
 * owner there, so nobody else may write to it: otherwise another user
 * (the agent's own, say) could swap the socket for a link between
 * bind() and the chown, and have root chown a file of its choice.
 */
static int open_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "cannot create the directory %s: %s", dir, strerror(errno));
		return ret;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022))) {
		snprintf(err, errlen, "the directory %s of the agent's socket must belong to root "
			 "and be writable by root only (it is uid %u, mode %04o)", dir,
			 (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

int usock_listen(const char *path, const char *group, uid_t uid, gid_t gid,
		 char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)], base[sizeof(sun.sun_path)];
	mode_t old;
	int dirfd, fd, ret;

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
	dirfd = open_dir(dirname(dir), err, errlen);
	if (dirfd < 0)
		return dirfd;
	snprintf(base, sizeof(base), "%s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	ret = clear_stale(dirfd, base, &sun);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, ret == -EADDRINUSE ?
			 "another agent is listening there" : ret == -EEXIST ?
			 "exists and is not a socket" : strerror(-ret));
		close(dirfd);
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		close(dirfd);
		return ret;
	}
	old = umask(0117);	/* created 0660: never wider, no chmod by name */
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	/* in a directory only root writes to, the name is still the socket */
	if (ret || fchownat(dirfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) || listen(fd, 512)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		close(dirfd);
		return ret;
	}
	close(dirfd);
	return fd;
}

static _Atomic uint64_t self_ns;	/* the agent's namespace's cookie, once known */

/* The network namespace of socket @fd, as the kernel's cookie; 0 if unknown. */
static uint64_t netns_cookie(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
		return 0;
	return cookie;
}

int usock_check_socket(int fd, int self)
{
	int domain, proto, type, listening;
	socklen_t len = sizeof(int);
	struct tcp_info ti;
	char ulp[32] = "";
	uint64_t ns;

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
	/* (SO_NETNS_COOKIE is in every kernel the agent runs on: 5.14+;
	 * the agent's own socket stays in the agent's namespace, so its
	 * cookie is asked once) */
	ns = netns_cookie(fd);
	if (!atomic_load(&self_ns))
		atomic_store(&self_ns, netns_cookie(self));
	if (!ns || ns != atomic_load(&self_ns))
		return EXDEV;
	return 0;
}
