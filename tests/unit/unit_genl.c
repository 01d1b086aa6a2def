// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host unit tests of agent/common/genl.c against a hostile container: the
 * agent opens its sockets for the kernel's handshake family inside each
 * network namespace of handshake_netns, and root in a user namespace that
 * owns such a namespace has CAP_NET_ADMIN over it, which lets it send
 * unicast netlink messages to any port there.  A forged reply to ACCEPT
 * would hand the agent a descriptor number of the attacker's choosing to
 * close.  genl.c's sockets are connected to the kernel (port 0), so the
 * forgery is refused; a socket that is not (the control) takes it.  The
 * host has no handshake family: the kernel's own nlctrl family stands in.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>

#include "genl.h"
#include "tap.h"

/* The container: uid 65534, then root of its own user and network
 * namespaces.  Sends a forged message to each port it is given, answers
 * the errno of each. */
static void container(int in, int out)
{
	uint32_t port;
	int s, err;

	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ||
	    unshare(CLONE_NEWUSER | CLONE_NEWNET))
		err = errno;
	else
		err = 0;
	if (write(out, &err, sizeof(err)) != sizeof(err) || err)
		_exit(1);
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	while (read(in, &port, sizeof(port)) == sizeof(port)) {
		struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = port };
		struct {
			struct nlmsghdr h;
			struct genlmsghdr g;
		} m = { { sizeof(m), GENL_ID_CTRL, 0, 1, 0 }, { 1, 0, 0 } };

		err = sendto(s, &m, sizeof(m), MSG_DONTWAIT, (struct sockaddr *)&to,
			     sizeof(to)) < 0 ? errno : 0;
		if (write(out, &err, sizeof(err)) != sizeof(err))
			_exit(1);
	}
	_exit(0);
}

/* A forged message sent to @port from the container: its errno. */
static int forge(int to, int from, uint32_t port)
{
	int err = -1;

	if (write(to, &port, sizeof(port)) != sizeof(port) ||
	    read(from, &err, sizeof(err)) != sizeof(err))
		return -1;
	return err;
}

int main(void)
{
	int p2c[2], c2p[2], home, nsfd, err = -1, raw = -1, ret;
	struct ktls_genl g = { 0 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(sa);
	char path[64], buf[256];
	pid_t pid;

	if (pipe2(p2c, O_CLOEXEC) || pipe2(c2p, O_CLOEXEC))
		return 1;
	pid = fork();
	if (pid == 0) {
		close(p2c[1]);
		close(c2p[0]);
		container(p2c[0], c2p[1]);
	}
	close(p2c[0]);
	close(c2p[1]);
	if (read(c2p[0], &err, sizeof(err)) != sizeof(err))
		err = -1;
	ok(err == 0, "a process of uid 65534 makes its own user and network namespaces (%s)",
	   err > 0 ? strerror(err) : err ? "died" : "ok");
	if (err) {
		printf("1..%d\n", tap_n);
		return 1;
	}

	/* as upcall_open_namespaces() does: enter, open, come back */
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	ret = setns(nsfd, CLONE_NEWNET);
	ok(ret == 0, "the agent's side enters the container's network namespace");
	ret = ktls_genl_open_family(&g, "nlctrl", 2);
	ok(ret == 0, "genl.c opens a socket there, the family resolved by the kernel (%s)",
	   strerror(-ret));
	raw = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_GENERIC);
	if (raw >= 0)
		bind(raw, (struct sockaddr *)&sa, sizeof(sa));
	ok(setns(home, CLONE_NEWNET) == 0, "...and comes back");

	/* the control: an unconnected socket takes the forgery */
	if (getsockname(raw, (struct sockaddr *)&sa, &len) == 0) {
		err = forge(p2c[1], c2p[0], sa.nl_pid);
		ok(err == 0, "control: the container's root reaches an unconnected socket (%s)",
		   err ? strerror(err) : "sent");
		ok(recv(raw, buf, sizeof(buf), 0) > 0, "...which receives the forged message");
	} else {
		ok(0, "control: a plain netlink socket in the namespace");
	}

	/* genl.c's socket: refused */
	if (g.sock) {
		int fd = ktls_genl_fd(&g);

		err = forge(p2c[1], c2p[0], nl_socket_get_local_port(g.sock));
		ok(err == ECONNREFUSED, "a forged reply to genl.c's socket is refused: ECONNREFUSED (%s)",
		   err > 0 ? strerror(err) : "sent");
		ok(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN,
		   "...and nothing arrived on it");
		ret = ktls_genl_join(&g, "notify");
		ok(ret == 0, "the socket still joins a multicast group (%s)", strerror(-ret));
		ktls_genl_close(&g);
	}
	close(p2c[1]);
	waitpid(pid, NULL, 0);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
