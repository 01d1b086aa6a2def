// SPDX-License-Identifier: GPL-2.0 OR MIT
/* ktlsctl attach and detach: a running server's listener into the module's
 * listener mode, and back. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/ktls_offload.h>

#include "broker.h"
#include "genl.h"
#include "ktlsctl.h"
#include "parse.h"
#include "sockdiag.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int ktlsctl_open_module(struct ktls_genl *g)
{
	int ret = ktls_genl_open(g);

	if (ret == -ENOENT)
		fprintf(stderr, "%s: the ktls_offload module is not loaded\n", ktlsctl_prog);
	else if (ret < 0)
		fprintf(stderr, "%s: cannot open generic netlink: %s\n", ktlsctl_prog,
			strerror(-ret));
	return ret;
}

/* A copy of descriptor @fd of process @pid in ours, or -errno. */
static int steal_fd(pid_t pid, int fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int ret;

	if (pidfd < 0)
		return -errno;
	ret = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (ret < 0)
		ret = -errno;
	close(pidfd);
	return ret;
}

struct target {
	pid_t pid;
	int fd;
	unsigned long ino;
	char where[INET6_ADDRSTRLEN + 8];
};

/* One process descriptor per listening socket on @port, found through
 * sock_diag and /proc/PID/fd.  Returns the count, or -errno. */
static int find_port(unsigned int port, struct target *t, int max)
{
	struct sockdiag_entry *socks;
	int n, found = 0;
	DIR *proc;
	struct dirent *pe;

	n = sockdiag_tcp(SOCKDIAG_LISTEN, port, &socks);
	if (n < 0)
		return n;
	for (int i = 0; i < n && found < max; i++) {
		t[found].ino = socks[i].ino;
		t[found].pid = 0;
		sockdiag_format(&socks[i], 0, t[found].where, sizeof(t[found].where));
		found++;
	}
	free(socks);
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	while ((pe = readdir(proc))) {
		char path[PATH_MAX], link[64];
		DIR *fds;
		struct dirent *fe;
		pid_t pid = (pid_t)atoi(pe->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			unsigned long ino;
			ssize_t len;
			char fdpath[PATH_MAX + 300];

			if (fe->d_name[0] == '.')
				continue;
			snprintf(fdpath, sizeof(fdpath), "%s/%s", path, fe->d_name);
			len = readlink(fdpath, link, sizeof(link) - 1);
			if (len <= 0)
				continue;
			link[len] = '\0';
			if (sscanf(link, "socket:[%lu]", &ino) != 1)
				continue;
			for (int i = 0; i < found; i++)
				if (t[i].ino == ino && !t[i].pid) {
					t[i].pid = pid;
					t[i].fd = atoi(fe->d_name);
				}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

struct listen_opts {
	unsigned int port;
	pid_t pid;
	int fd;
	unsigned int id;
	const char *profile;
	const char *alpn;
	unsigned int max_inflight;
	unsigned int timeout_ms;
};

static const char attach_usage[] =
	"Usage: %s attach (--port PORT | --pid PID --fd FD) [--profile NAME]\n"
	"                 [--alpn LIST] [--max-inflight N] [--timeout MS]\n"
	"       %s detach (--port PORT | --pid PID --fd FD | --id ID)\n";

static int parse_uint(const char *s, const char *what, unsigned int max, unsigned int *out)
{
	if (ktls_parse_uint(s, 0, max, out)) {
		fprintf(stderr, "%s: bad %s '%s' (0..%u)\n", ktlsctl_prog, what, s, max);
		return -1;
	}
	return 0;
}

static int parse_listen_opts(int argc, char **argv, bool attach, struct listen_opts *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "pid", required_argument, NULL, 'P' },
		{ "fd", required_argument, NULL, 'f' },
		{ "id", required_argument, NULL, 'i' },
		{ "profile", required_argument, NULL, 'r' },
		{ "alpn", required_argument, NULL, 'a' },
		{ "max-inflight", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int v;
	int c;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_uint(optarg, "port", 65535, &o->port) || !o->port)
				return -1;
			break;
		case 'P':
			if (parse_uint(optarg, "pid", INT_MAX, &v) || !v)
				return -1;
			o->pid = (pid_t)v;
			break;
		case 'f':
			if (parse_uint(optarg, "fd", INT_MAX, &v))
				return -1;
			o->fd = (int)v;
			break;
		case 'i':
			if (attach || parse_uint(optarg, "id", UINT32_MAX, &o->id) || !o->id)
				return -1;
			break;
		case 'r':
		case 'a':
			if (!attach)
				return -1;
			*(c == 'r' ? &o->profile : &o->alpn) = optarg;
			break;
		case 'm':
			if (!attach || parse_uint(optarg, "max-inflight", 65535, &o->max_inflight) ||
			    !o->max_inflight)
				return -1;
			break;
		case 't':
			if (!attach || parse_uint(optarg, "timeout", 300000, &o->timeout_ms) ||
			    !o->timeout_ms)
				return -1;
			break;
		case 'h':
			printf(attach_usage, ktlsctl_prog, ktlsctl_prog);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc)
		return -1;
	if (!!o->port + !!o->pid + !!o->id != 1 || (!!o->pid != (o->fd >= 0)))
		return -1;
	return 0;
}

/* ATTACH or DETACH one listener, given as our descriptor @fd (or by id). */
static int listen_cmd(struct ktls_genl *g, bool attach, const struct listen_opts *o,
		      int fd, uint32_t *id)
{
	struct ktls_attach_args a = {
		.profile = o->profile,
		.alpn = o->alpn,
		.max_inflight = o->max_inflight,
		.timeout_ms = o->timeout_ms,
	};

	return attach ? ktls_broker_attach(g, fd, &a, id) : ktls_broker_detach(g, fd, o->id);
}

static const char *listen_error(bool attach, int err)
{
	switch (err) {
	case -EPERM:
		return "not permitted (needs CAP_NET_ADMIN)";
	case -EINVAL:
		return attach ? "not a listening socket" : strerror(-err);
	case -EPROTONOSUPPORT:
		return "not a TCP socket over IPv4 or IPv6";
	case -EBUSY:
		return "attached already";
	case -ENOENT:
		return "not attached";
	default:
		return strerror(-err);
	}
}

static int listen_main(int argc, char **argv, bool attach)
{
	struct target t[64];
	struct listen_opts o;
	struct ktls_genl g;
	int n, failed = 0;

	if (parse_listen_opts(argc, argv, attach, &o)) {
		fprintf(stderr, attach_usage, ktlsctl_prog, ktlsctl_prog);
		return 2;
	}
	if (o.port) {
		n = find_port(o.port, t, 64);
		if (n < 0) {
			fprintf(stderr, "%s: cannot list sockets: %s\n", ktlsctl_prog,
				sockdiag_error(n));
			return 1;
		}
		if (!n) {
			fprintf(stderr, "%s: nothing listens on TCP port %u\n", ktlsctl_prog,
				o.port);
			return 1;
		}
	} else if (o.pid) {
		n = 1;
		t[0].pid = o.pid;
		t[0].fd = o.fd;
		snprintf(t[0].where, sizeof(t[0].where), "pid %d fd %d", (int)o.pid, o.fd);
	} else {
		n = 0;
	}
	if (ktlsctl_open_module(&g) < 0)
		return 1;

	if (!n) {
		int ret = listen_cmd(&g, false, &o, -1, NULL);

		ktls_genl_close(&g);
		if (ret < 0) {
			fprintf(stderr, "%s: listener %u: %s\n", ktlsctl_prog, o.id,
				listen_error(false, ret));
			return 1;
		}
		printf("detached listener %u\n", o.id);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		uint32_t id = 0;
		int fd, ret;

		if (!t[i].pid) {
			fprintf(stderr, "%s: %s: no process holds this listener (or it "
				"is not visible here)\n", ktlsctl_prog, t[i].where);
			failed++;
			continue;
		}
		fd = steal_fd(t[i].pid, t[i].fd);
		if (fd < 0) {
			fprintf(stderr, "%s: %s: cannot take descriptor %d of pid %d: %s\n",
				ktlsctl_prog, t[i].where, t[i].fd, (int)t[i].pid,
				strerror(-fd));
			failed++;
			continue;
		}
		ret = listen_cmd(&g, attach, &o, fd, &id);
		close(fd);
		if (ret < 0) {
			fprintf(stderr, "%s: %s (pid %d fd %d): %s\n", ktlsctl_prog,
				t[i].where, (int)t[i].pid, t[i].fd, listen_error(attach, ret));
			failed++;
			continue;
		}
		if (attach)
			printf("attached listener %u: %s (pid %d fd %d)\n", id, t[i].where,
			       (int)t[i].pid, t[i].fd);
		else
			printf("detached %s (pid %d fd %d)\n", t[i].where, (int)t[i].pid,
			       t[i].fd);
	}
	ktls_genl_close(&g);
	return failed ? 1 : 0;
}

int ktlsctl_attach(int argc, char **argv)
{
	return listen_main(argc, argv, true);
}

int ktlsctl_detach(int argc, char **argv)
{
	return listen_main(argc, argv, false);
}
