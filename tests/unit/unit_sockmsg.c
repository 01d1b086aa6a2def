// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host unit tests of the agent's UNIX-socket protocol and of libktls's
 * socket path, against a fake agent: SUBMIT carries its parameters and
 * exactly one descriptor, malformed messages are refused with the
 * documented errno, results come back with their cookie and fd, and an
 * agent that goes away fails every pending request.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <netlink/msg.h>

#include <linux/ktls_offload.h>
#include <ktls-offload/agent-socket.h>
#include <ktls-offload/ktls.h>

#include "sockmsg.h"
#include "tap.h"

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Sends raw bytes with @nfds copies of fd 0 attached. */
static void send_raw(int sock, const void *buf, size_t len, int nfds)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;
		int fds[4] = { 0, 0, 0, 0 };

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	if (sendmsg(sock, &mh, 0) < 0)
		perror("sendmsg");
}

/* A SUBMIT with the given extra attribute, as raw bytes. */
static size_t raw_submit(char *buf, int type, const void *val, uint16_t len, uint32_t role)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlattr *a = (struct nlattr *)(buf + NLMSG_HDRLEN);

	memset(buf, 0, 512);
	h->nlmsg_type = KTLS_OFFLOAD_CMD_SUBMIT;
	h->nlmsg_seq = 7;
	a->nla_type = KTLS_OFFLOAD_A_REQUEST_ROLE;
	a->nla_len = NLA_HDRLEN + 4;
	memcpy((char *)a + NLA_HDRLEN, &role, 4);
	a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	if (type) {
		a->nla_type = (uint16_t)type;
		a->nla_len = NLA_HDRLEN + len;
		memcpy((char *)a + NLA_HDRLEN, val, len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
	h->nlmsg_len = (uint32_t)((char *)a - buf);
	return h->nlmsg_len;
}

static int agent_parse(int sv[2], struct sockmsg_in *m, struct ktls_submit_args *a)
{
	int err;

	if (sockmsg_recv(sv[1], m, 1) != 1)
		return -1;
	err = sockmsg_parse_submit(m, a);
	if (err && a->fd >= 0)
		close(a->fd);
	return err;
}

static void protocol_tests(void)
{
	struct ktls_submit_args s = { .role = KTLS_OFFLOAD_ROLE_CLIENT, .profile = "web",
				      .peername = "example.org", .alpn = "h2,http/1.1",
				      .timeout_ms = 1234, .cookie = 0x1122334455667788ULL };
	struct ktls_result_msg r = { .status = 0, .tls_version = 0x0304, .cipher = 52,
				     .resumed = true, .cookie = 99 };
	static struct sockmsg_in m;
	struct ktls_submit_args a;
	struct ktls_result_msg got;
	char buf[8192];
	uint32_t u;
	int sv[2], tcp = socket(AF_INET, SOCK_STREAM, 0), err;
	size_t len;

	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	check(sockmsg_send_submit(sv[0], 42, &s, tcp) == 0, "SUBMIT with a descriptor is sent");
	err = agent_parse(sv, &m, &a);
	check(err == 0 && m.seq == 42 && m.cmd == KTLS_OFFLOAD_CMD_SUBMIT, "it parses, seq and command kept");
	check(a.role == KTLS_OFFLOAD_ROLE_CLIENT && !strcmp(a.profile, "web") &&
	      !strcmp(a.peername, "example.org") && !strcmp(a.alpn, "h2,http/1.1") &&
	      a.timeout_ms == 1234 && a.cookie == 0x1122334455667788ULL,
	      "every parameter arrives");
	check(a.fd >= 0 && a.fd != tcp, "the descriptor arrives as a new fd");
	close(a.fd);

	s.timeout_ms = 0;
	s.role = KTLS_OFFLOAD_ROLE_SERVER;
	s.peername = NULL;
	sockmsg_send_submit(sv[0], 1, &s, tcp);
	err = agent_parse(sv, &m, &a);
	check(err == 0 && a.timeout_ms == KTLS_AGENT_SOCKET_TIMEOUT_MS && !a.peername,
	      "no timeout: the default; no peer name is fine for the server role");
	close(a.fd);

	sockmsg_send_submit(sv[0], 2, &s, -1);
	check(agent_parse(sv, &m, &a) == EBADF, "SUBMIT without a descriptor: EBADF");
	len = raw_submit(buf, 0, NULL, 0, KTLS_OFFLOAD_ROLE_SERVER);
	send_raw(sv[0], buf, len, 2);
	check(agent_parse(sv, &m, &a) == EBADF && m.fd == -1, "two descriptors: EBADF, both closed");
	s.role = KTLS_OFFLOAD_ROLE_CLIENT;
	sockmsg_send_submit(sv[0], 3, &s, tcp);
	check(agent_parse(sv, &m, &a) == EINVAL, "client role without a peer name: EINVAL");
	len = raw_submit(buf, 0, NULL, 0, 3);
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == ERANGE, "role 3: ERANGE");
	u = 0;
	len = raw_submit(buf, KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS, &u, 4, 1);
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == ERANGE, "timeout 0: ERANGE");
	u = 300001;
	len = raw_submit(buf, KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS, &u, 4, 1);
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == ERANGE, "timeout over 300 s: ERANGE");
	len = raw_submit(buf, KTLS_OFFLOAD_A_REQUEST_SOCKFD, &u, 4, 1);
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == EINVAL, "SOCKFD is not accepted here: EINVAL");
	len = raw_submit(buf, 200, &u, 4, 1);
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == EINVAL, "an unknown attribute: EINVAL");
	len = raw_submit(buf, KTLS_OFFLOAD_A_REQUEST_PROFILE, "abc", 3, 1);
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == EINVAL, "a string without its NUL: EINVAL");
	len = raw_submit(buf, KTLS_OFFLOAD_A_REQUEST_PROFILE, "a\0b", 4, 1);
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == EINVAL, "a string with an inner NUL: EINVAL");
	memset(buf + 600, 'p', 100);
	buf[699] = '\0';
	len = raw_submit(buf, KTLS_OFFLOAD_A_REQUEST_PROFILE, buf + 600, 100, 1);
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == EINVAL, "a profile name of 100 bytes: EINVAL");
	len = raw_submit(buf, KTLS_OFFLOAD_A_REQUEST_ROLE, &u, 4, 1);
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == EINVAL, "a repeated attribute: EINVAL");
	len = raw_submit(buf, KTLS_OFFLOAD_A_REQUEST_COOKIE, &u, 4, 1);
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == EINVAL, "a cookie of the wrong size: EINVAL");
	len = raw_submit(buf, 0, NULL, 0, 1);
	((struct nlmsghdr *)buf)->nlmsg_len += 4;
	send_raw(sv[0], buf, len, 1);
	check(agent_parse(sv, &m, &a) == EBADMSG, "a length field that lies: EBADMSG");
	send_raw(sv[0], buf, 10, 1);
	check(agent_parse(sv, &m, &a) == EBADMSG && m.fd == -1, "a message shorter than a header: EBADMSG, fd closed");
	memset(buf, 0, sizeof(buf));
	send_raw(sv[0], buf, sizeof(buf), 1);
	check(agent_parse(sv, &m, &a) == EMSGSIZE, "a message over 4 KiB: EMSGSIZE");

	check(sockmsg_send_complete(sv[1], 9, &r, 1) == 0, "COMPLETE is sent");
	check(sockmsg_recv(sv[0], &m, 1) == 1 && sockmsg_parse_complete(&m, &got) == 0 &&
	      m.seq == 9 && got.tls_version == 0x0304 && got.cipher == 52 && got.resumed &&
	      got.cookie == 99, "and parses back with its seq, cookie and result");
	close(sv[1]);
	check(sockmsg_recv(sv[0], &m, 0) == 0, "the peer's close reads as end of stream");
	close(sv[0]);
	close(tcp);
}

/* A fake agent's socket, bound (not listening) at @path in a new @dir. */
static int fake_agent_socket(char *dir, char *path, size_t len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int l;

	if (!mkdtemp(dir))
		return -1;
	snprintf(path, len, "%s/agent.sock", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	bind(l, (struct sockaddr *)&sun, sizeof(sun));
	return l;
}

static int readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/* --- the ABI: sized structs, results' words, an fd that says "ready" ------- */

static void abi_tests(void)
{
	char dir[] = "/tmp/unit_sockmsg.XXXXXX", path[128];
	struct ktls_params p = KTLS_PARAMS_INIT(.role = KTLS_ROLE_SERVER);
	struct {	/* a caller of a later release: a longer struct */
		struct ktls_params p;
		uint64_t later;
	} big = { KTLS_PARAMS_INIT(.role = KTLS_ROLE_SERVER), 0 };
	struct {
		struct ktls_result r;
		unsigned char later[16];
	} bigres;
	struct ktls_result res = KTLS_RESULT_INIT, tiny = { .size = 8 };
	static struct sockmsg_in m;
	struct ktls_submit_args a;
	struct ktls_ctx *k;
	uint32_t id[3];
	int l, agent, fd = socket(AF_INET, SOCK_STREAM, 0);

	l = fake_agent_socket(dir, path, sizeof(path));
	if (l < 0)
		return;
	listen(l, 4);
	check(ktls_open(&k, KTLS_PATH_AUTO, path) == 0 && ktls_get_path(k) == KTLS_PATH_SOCKET,
	      "AUTO without the module: the socket");
	agent = accept(l, NULL, NULL);
	check(!readable(ktls_pollfd(k)), "the pollfd is not readable with nothing there");

	p.size = 0;
	check(ktls_submit(k, fd, &p, &id[0]) == -EINVAL, "ktls_params without its size: EINVAL");
	p.size = sizeof(p);
	big.p.size = sizeof(big);
	big.later = 1;
	check(ktls_submit(k, fd, &big.p, &id[0]) == -E2BIG,
	      "a longer ktls_params with an unknown member set: E2BIG");
	big.later = 0;
	check(ktls_submit(k, fd, &big.p, &id[0]) == 0, "... and with it zero: submitted");
	check(ktls_submit(k, fd, &p, &id[1]) == 0 && ktls_submit(k, fd, &p, &id[2]) == 0,
	      "two more");
	for (int i = 0; i < 3; i++) {
		struct ktls_result_msg r = { .status = i ? EKEYREJECTED : 0, .tls_version = 0x0304,
					     .cipher = 52 };

		sockmsg_recv(agent, &m, 0);
		sockmsg_parse_submit(&m, &a);
		close(a.fd);
		snprintf(r.sni, sizeof(r.sni), "www.example.test");
		if (i == 1)
			snprintf(r.reason, sizeof(r.reason), "The certificate is NOT trusted.");
		sockmsg_send_complete(agent, m.seq, &r, 0);
	}
	check(readable(ktls_pollfd(k)), "three COMPLETEs: the pollfd is readable");
	check(ktls_collect(k, &tiny) == -EINVAL, "ktls_result with a size too small: EINVAL");
	memset(&bigres, 0xa5, sizeof(bigres));
	bigres.r.size = sizeof(bigres);
	check(ktls_collect(k, &bigres.r) == 0 && bigres.r.id == id[0] && !bigres.r.status &&
	      bigres.r.size == sizeof(bigres) && !strcmp(bigres.r.sni, "www.example.test") &&
	      !bigres.r.reason[0] && bigres.later[0] == 0xa5 && bigres.later[15] == 0xa5,
	      "a longer ktls_result: filled as far as the library knows, the rest untouched");
	check(readable(ktls_pollfd(k)),
	      "the other two: the pollfd stays readable for them");
	check(ktls_collect(k, &res) == 0 && res.id == id[1] && res.status == EKEYREJECTED &&
	      !strcmp(res.sni, "www.example.test") &&
	      !strcmp(res.reason, "The certificate is NOT trusted."),
	      "a failure: its SNI and the agent's reason");
	check(ktls_collect(k, &res) == 0 && res.id == id[2] && res.status == EKEYREJECTED &&
	      !strcmp(res.reason, "Key was rejected by service"),
	      "a failure the agent gave no words for: the status's description");
	check(!readable(ktls_pollfd(k)) && ktls_collect(k, &res) == -EAGAIN,
	      "all collected: the pollfd is not readable, collect says EAGAIN");
	ktls_close(k);
	close(agent);
	close(l);
	close(fd);
	unlink(path);
	rmdir(dir);
}

/* --- libktls against a fake agent ------------------------------------------ */

static void libktls_tests(void)
{
	char dir[] = "/tmp/unit_sockmsg.XXXXXX", path[128];
	struct ktls_params p = KTLS_PARAMS_INIT(.role = KTLS_ROLE_SERVER, .cookie = 0xfeed);
	static struct sockmsg_in m;
	struct ktls_submit_args a;
	struct ktls_result res = KTLS_RESULT_INIT;
	struct ktls_ctx *k;
	uint32_t id1, id2;
	int l, agent, fd1 = socket(AF_INET, SOCK_STREAM, 0), fd2 = dup(fd1);

	check(ktls_open(&k, KTLS_PATH_SOCKET, "/nonexistent/agent.sock") == -ENOENT,
	      "ktls_open: no socket there is ENOENT");
	l = fake_agent_socket(dir, path, sizeof(path));
	if (l < 0)
		return;
	check(ktls_open(&k, KTLS_PATH_SOCKET, path) == -ECONNREFUSED,
	      "ktls_open: nobody listening is ECONNREFUSED");
	listen(l, 4);
	check(ktls_open(&k, KTLS_PATH_SOCKET, path) == 0 && ktls_get_path(k) == KTLS_PATH_SOCKET,
	      "ktls_open on the socket path");
	agent = accept(l, NULL, NULL);
	check(ktls_collect(k, &res) == -EAGAIN, "nothing to collect yet: EAGAIN");
	check(ktls_submit(k, fd1, &p, &id1) == 0, "ktls_submit");
	p.cookie = 0xbeef;
	check(ktls_submit(k, fd2, &p, &id2) == 0 && id2 != id1, "a second one, another id");
	check(ktls_pending(k) == 2, "two pending");
	check(sockmsg_recv(agent, &m, 0) == 1 && sockmsg_parse_submit(&m, &a) == 0 &&
	      m.seq == id1 && a.cookie == 0xfeed, "the agent gets the first SUBMIT");
	close(a.fd);
	{
		struct ktls_result_msg r = { .status = 0, .tls_version = 0x0303, .cipher = 51,
					     .cookie = a.cookie };

		snprintf(r.alpn, sizeof(r.alpn), "http/1.1");
		/* first a COMPLETE of no pending request: not a result */
		sockmsg_send_complete(agent, id1 + id2 + 100, &r, 0);
		sockmsg_send_complete(agent, m.seq, &r, 0);
	}
	check(ktls_collect(k, &res) == 0 && res.id == id1 && res.fd == fd1 && !res.status &&
	      res.cookie == 0xfeed && res.tls_version == 0x0303 && !strcmp(res.alpn, "http/1.1"),
	      "ktls_collect: the result, with its fd, cookie and ALPN, read past a message "
	      "that is none (EAGAIN would leave an edge-triggered caller waiting)");
	check(ktls_cancel(k, id1) == -ENOENT, "cancelling a finished request: ENOENT");
	check(ktls_cancel(k, id2) == 0, "cancelling a pending one sends CANCEL");
	sockmsg_recv(agent, &m, 0);		/* the second SUBMIT */
	if (m.fd >= 0)
		close(m.fd);
	check(sockmsg_recv(agent, &m, 0) == 1 && m.cmd == KTLS_OFFLOAD_CMD_CANCEL && m.seq == id2,
	      "the agent gets CANCEL for it");
	close(agent);				/* the agent dies */
	check(ktls_collect(k, &res) == 0 && res.id == id2 && res.fd == fd2 &&
	      res.status == ECONNABORTED && res.cookie == 0xbeef,
	      "the agent gone: the pending request fails with ECONNABORTED");
	check(ktls_collect(k, &res) == -EPIPE, "then ktls_collect says EPIPE");
	check(ktls_submit(k, fd1, &p, &id1) == -EPIPE, "and so does ktls_submit");
	ktls_close(k);
	check(fd_open(fd1) && fd_open(fd2), "libktls never closes the caller's sockets");
	close(l);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	struct ktls_ctx *k;

	protocol_tests();
	libktls_tests();
	abi_tests();
	check(ktls_open(&k, KTLS_PATH_MODULE, NULL) == -ENOENT,
	      "ktls_open: the module path without the module is ENOENT");
	check(!strcmp(ktls_cipher_name(51), "AES-128-GCM") && !strcmp(ktls_cipher_name(9), "unknown"),
	      "ktls_cipher_name");
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
