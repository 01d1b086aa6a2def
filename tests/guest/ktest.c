// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ktls_keys.h"
#include "ktest.h"

double kt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *kt_errname(int e)
{
	static __thread char buf[24];
	const char *name;

	if (e < 0)
		e = -e;
	if (!e)
		return "0";
	name = strerrorname_np(e);
	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

int kt_listener(int family, int backlog)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), zero = 0, e;

	if (fd < 0)
		return -1;
	s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if ((family == AF_INET6 ? bind(fd, (void *)&s6, sizeof(s6)) :
				  bind(fd, (void *)&s4, sizeof(s4))) ||
	    listen(fd, backlog)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int kt_port(int fd)
{
	struct sockaddr_in6 ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (void *)&ss, &len))
		return -1;
	return ntohs(ss.sin6_port);	/* at the same offset in sockaddr_in */
}

void kt_timeouts(int fd, double rcv, double snd)
{
	struct timeval tv;

	if (rcv > 0) {
		tv.tv_sec = (time_t)rcv;
		tv.tv_usec = (suseconds_t)((rcv - tv.tv_sec) * 1e6);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	if (snd > 0) {
		tv.tv_sec = (time_t)snd;
		tv.tv_usec = (suseconds_t)((snd - tv.tv_sec) * 1e6);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
}

void kt_ulp(int fd, char *ulp, size_t len)
{
	socklen_t l = len;

	memset(ulp, 0, len);
	if (getsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, &l))
		snprintf(ulp, len, "(%s)", kt_errname(errno));
}

int kt_zero_ktls(int fd)
{
	const struct ktls_cipher *c = ktls_cipher_by_name("AES-128-GCM");
	uint8_t key[16] = { 0 }, iv[12] = { 0 };
	union ktls_crypto_info ci;
	int len, ret;

	len = ktls_crypto_info_fill(&ci, TLS_1_3_VERSION, c, key, 16, iv, 12, 0);
	ret = len < 0 ? len : ktls_attach_ulp(fd);
	if (!ret)
		ret = ktls_install(fd, TLS_TX, &ci, len);
	if (!ret)
		ret = ktls_install(fd, TLS_RX, &ci, len);
	ktls_crypto_info_wipe(&ci);
	return ret;
}

int kt_read_full(int fd, void *buf, size_t len, double secs)
{
	double end = kt_now() + secs;
	size_t have = 0;

	while (have < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)((end - kt_now()) * 1000);
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -ETIMEDOUT;
		n = recv(fd, (char *)buf + have, len - have, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		have += n;
	}
	return 0;
}

int kt_lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		ret = -errno;
	close(s);
	return ret;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -errno;
	close(fd);
	return ret;
}

int kt_enter_userns_nobody(void)
{
	int ret;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return -errno;
	/* setuid() made the process undumpable, which would leave its
	 * uid_map and gid_map owned by root */
	prctl(PR_SET_DUMPABLE, 1);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return -errno;
	ret = write_file("/proc/self/uid_map", "0 65534 1");
	if (!ret)
		ret = write_file("/proc/self/setgroups", "deny");
	if (!ret)
		ret = write_file("/proc/self/gid_map", "0 65534 1");
	return ret ? ret : kt_lo_up();
}

int kt_userns_possible(void)
{
	char buf[16] = "1";
	FILE *f = fopen("/proc/sys/kernel/unprivileged_userns_clone", "re");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '1';
		fclose(f);
	}
	return buf[0] != '0';
}

int kt_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own */
}
