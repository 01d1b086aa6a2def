// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libktls-preload.so: HTTPS (any TLS) for a server started fresh that
 * speaks only plain TCP.  LD_PRELOAD it and name the ports:
 *
 *   LD_PRELOAD=libktls-preload.so KTLS_PRELOAD_PORTS=8443 python3 -m http.server 8443
 *
 * Environment:
 *   KTLS_PRELOAD_PORTS         comma-separated TCP ports to serve with TLS;
 *                              without it the library does nothing
 *   KTLS_PRELOAD_PROFILE       the agent profile (default: the agent's default)
 *   KTLS_PRELOAD_ALPN          ALPN protocols to offer (default: the profile's)
 *   KTLS_PRELOAD_MAX_INFLIGHT  handshakes at once per listener (default 128)
 *   KTLS_PRELOAD_TIMEOUT_MS    handshake timeout (default: the agent's)
 *   KTLS_PRELOAD_PATH          auto (default), module, or socket
 *   KTLS_PRELOAD_CLOSE_NOTIFY  0: close() and shutdown() send no
 *                              close_notify (default 1: see below)
 *   KTLS_AGENT_SOCKET          the agent's socket, as for libktls
 *
 * When listen() succeeds on such a port, the listener is attached to the
 * ktls_offload module (listener mode; needs CAP_NET_ADMIN), and accept()
 * is then the kernel's.  Without the module (or the privilege) the
 * library does the same in userspace: it keeps the real listener for
 * itself and puts an AF_UNIX listener under the server's descriptor.  A
 * thread of the library accepts the TCP connections, hands each to the
 * agent's UNIX socket for its handshake, and passes every established one
 * (SCM_RIGHTS) through a connection to that AF_UNIX listener; the
 * wrapped accept() and accept4() take the TCP socket out of it and return
 * it.  The server's poll, epoll or select loop thus sees the listener
 * readable exactly when a TLS connection is ready, and never blocks on a
 * handshake.  Processes that share the listener (forked workers) each
 * run that thread on first accept, and any of them may return any
 * connection; a worker running as another user than the one that made
 * the front (nginx's, under a root master) runs none, and accepts the
 * connections of that user's thread.  getsockname() on the listener
 * reports the real address.  A TCP listener on a named port that the
 * server inherited rather than created (systemd's socket activation,
 * inetd, a binary upgrade) is set up as at listen() by the first
 * accept() or accept4() on it, or that call fails.  What does not go
 * through libc's listen/accept (raw system calls, as Go's runtime makes
 * them; io_uring) is not seen, and not protected.
 *
 * Fail closed: a port named in KTLS_PRELOAD_PORTS is never served in
 * plaintext.  If neither way can be set up (or KTLS_PRELOAD_PATH=module
 * and the module refuses), listen() (or accept() on an inherited
 * listener) stops the socket listening and fails with the reason's errno
 * and a message; a KTLS_PRELOAD_PORTS that does not parse makes every TCP
 * listen() and accept() on a TCP listener fail.  The AF_UNIX listener has
 * a kernel-chosen (autobind) abstract name that no one can take first,
 * and accepts connections only from its own user and the one that made
 * the front.  close() of the server's
 * listener retires its front (and the thread's copy of the real
 * listener); fronts are recognised by inode, so a descriptor number
 * reused by any other way of closing is never mistaken for one.  After
 * fork() the child starts with no handshakes in flight and a free lock.
 *
 * The server reads and writes the connections it accepted as plain
 * sockets, so the library answers for it as a TLS endpoint must (issue
 * 17): a read(), recv() or recvfrom() on such a connection that kernel
 * TLS fails (a record other than data heads the stream: EIO; a damaged,
 * oversized or mislabelled record: EBADMSG, EMSGSIZE, EINVAL) goes to
 * libktls's ktls_recv() or its error path, which reads the record and
 * sends the alert RFC 8446 / RFC 5246 name: the server sees end of stream
 * for a close_notify, the data after a warning it may ignore, and the
 * error otherwise.  A read never waits for the rest of a control message
 * on a non-blocking socket (it is refused: unexpected_message), at most
 * 10 s on a blocking one, and five control records in a row end the
 * connection.  shutdown(SHUT_WR) and close() send close_notify first,
 * unless the close is abortive (SO_LINGER 0) or the connection is no
 * longer open both ways; close() only when the connection came after the
 * process last forked (a connection older than that may live on in
 * another process, whose stream close_notify would end: a server that
 * forks a child per connection closes its copy at once).  A descriptor
 * passed to another process (SCM_RIGHTS) or dup()ed and closed while its
 * copy serves on ends the stream early: such servers want
 * KTLS_PRELOAD_CLOSE_NOTIFY=0.
 * The connections are known by descriptor and inode, so a number reused
 * for another file is not mistaken for one; reads through readv() or
 * recvmsg() are not wrapped, and a failed read there ends the connection
 * without an alert.
 *
 * Messages go to stderr, prefixed "ktls-preload:".
 *
 * This file: the environment, fork(), and the wrapped listen(), accept(),
 * accept4() and getsockname(); front.c: fronts and their handshake
 * thread; conns.c: the TLS connections and the wrapped close() and reads.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/tls.h>

#include <ktls-offload/ktls.h>
#include "broker.h"
#include "genl.h"
#include "msg.h"
#include "../libktls/record.h"
#include "sockmsg.h"

#include "preload.h"

int (*preload_real_listen)(int, int);
int (*preload_real_accept)(int, struct sockaddr *, socklen_t *);
int (*preload_real_accept4)(int, struct sockaddr *, socklen_t *, int);
int (*preload_real_getsockname)(int, struct sockaddr *, socklen_t *);

pthread_mutex_t preload_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned short ports[MAX_PORTS];
static int nports;
static bool bad_ports;			/* KTLS_PRELOAD_PORTS did not parse */
struct ktls_params preload_params = KTLS_PARAMS_INIT(.role = KTLS_ROLE_SERVER);
static struct ktls_attach_args attach_args;
unsigned int preload_max_inflight = 128;
bool preload_close_notify = true;
unsigned int preload_forks;		/* fork()s so far (see struct tls_conn) */
static enum ktls_path path = KTLS_PATH_AUTO;
struct front preload_fronts[MAX_FRONTS];	/* under lock */
int preload_nfronts;
pid_t preload_helper_pid;		/* the process whose thread runs */
int preload_helper_wake = -1;		/* tells it of a new front */

/* The real close(), for the library's own descriptors: its close()
 * below takes the lock, which callers here may hold. */
/* The next libc function @name, looked up once into *@slot. */
void *preload_next_fn(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

int preload_sys_close(int fd)
{
	static void *next_close;

	return ((int (*)(int))preload_next_fn(&next_close, "close"))(fd);
}

void preload_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ktls_vmsg("ktls-preload", NULL, fmt, ap);
	va_end(ap);
}

/* fork(): the child must not inherit the lock held by the thread, nor
 * the parent's handshakes in flight (they complete in the parent). */
static void fork_prepare(void)
{
	pthread_mutex_lock(&preload_lock);
	__atomic_add_fetch(&preload_forks, 1, __ATOMIC_RELEASE);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&preload_lock);
}

static void fork_child(void)
{
	for (int i = 0; i < preload_nfronts; i++)
		preload_fronts[i].inflight = 0;
	pthread_mutex_unlock(&preload_lock);
}

ino_t preload_inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/*
 * Does TCP socket @fd run kernel TLS, keys set in both directions?  (The
 * tls ULP alone is not enough: the agent attaches it as a handshake
 * begins.)  A buffer of just the header asks the kernel for version and
 * cipher, never keys; EBUSY means a direction has none.
 */
bool preload_runs_ktls(int fd)
{
	struct tls_crypto_info ci;
	char ulp[16] = "";
	socklen_t ul = sizeof(ulp), cl;

	if (getsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, &ul) || strcmp(ulp, "tls"))
		return false;
	cl = sizeof(ci);
	if (getsockopt(fd, SOL_TLS, TLS_TX, &ci, &cl))
		return false;
	cl = sizeof(ci);
	return !getsockopt(fd, SOL_TLS, TLS_RX, &ci, &cl);
}

static void setup(void)
{
	const char *s = getenv("KTLS_PRELOAD_PORTS");

	preload_real_listen = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
	preload_real_accept = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
	preload_real_accept4 = (int (*)(int, struct sockaddr *, socklen_t *, int))
		dlsym(RTLD_NEXT, "accept4");
	preload_real_getsockname = (int (*)(int, struct sockaddr *, socklen_t *))
		dlsym(RTLD_NEXT, "getsockname");
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	while (s && *s) {
		char *end;
		unsigned long p = strtoul(s, &end, 10);

		if (end == s || p == 0 || p > 65535 || (*end && *end != ',') ||
		    nports == MAX_PORTS) {
			preload_say("KTLS_PRELOAD_PORTS: bad port list '%s' (at most %d ports, "
			    "comma-separated): every TCP listen() fails", getenv("KTLS_PRELOAD_PORTS"),
			    MAX_PORTS);
			bad_ports = true;
			nports = 0;
			break;
		}
		ports[nports++] = (unsigned short)p;
		s = *end ? end + 1 : end;
	}
	preload_params.profile = attach_args.profile = getenv("KTLS_PRELOAD_PROFILE");
	preload_params.alpn = attach_args.alpn = getenv("KTLS_PRELOAD_ALPN");
	if ((s = getenv("KTLS_PRELOAD_TIMEOUT_MS")))
		preload_params.timeout_ms = attach_args.timeout_ms = (unsigned int)strtoul(s, NULL, 10);
	if ((s = getenv("KTLS_PRELOAD_MAX_INFLIGHT")) && strtoul(s, NULL, 10) > 0)
		preload_max_inflight = attach_args.max_inflight = (unsigned int)strtoul(s, NULL, 10);
	if ((s = getenv("KTLS_PRELOAD_CLOSE_NOTIFY")) && !strcmp(s, "0"))
		preload_close_notify = false;
	if ((s = getenv("KTLS_PRELOAD_PATH"))) {
		if (!strcmp(s, "module"))
			path = KTLS_PATH_MODULE;
		else if (!strcmp(s, "socket"))
			path = KTLS_PATH_SOCKET;
		else if (strcmp(s, "auto"))
			preload_say("KTLS_PRELOAD_PATH: unknown '%s', using auto", s);
	}
}

/* The port of a TCP listening socket @fd if TLS is wanted on it, else 0. */
static unsigned int wanted_port(int fd, struct sockaddr_storage *ss, socklen_t *len)
{
	int type = 0, proto = 0;
	socklen_t ol = sizeof(int);
	unsigned int port;

	*len = sizeof(*ss);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) || type != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &ol) || proto != IPPROTO_TCP ||
	    preload_real_getsockname(fd, (struct sockaddr *)ss, len))
		return 0;
	if (ss->ss_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)ss)->sin_port);
	else if (ss->ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)ss)->sin6_port);
	else
		return 0;
	for (int i = 0; i < nports; i++)
		if (ports[i] == port)
			return port;
	return 0;
}

/* Listener mode in the module: 0, or a negative errno to fall back. */
static int attach_module(int fd)
{
	struct ktls_genl g;
	uint32_t id;
	int ret = ktls_genl_open(&g);

	if (ret < 0)
		return ret;
	ret = ktls_broker_attach(&g, fd, &attach_args, &id);
	ktls_genl_close(&g);
	return ret == -EBUSY ? 0 : ret;		/* attached already: fine */
}

/* Fails listen() on a port that was to have TLS: the socket stops
 * listening (shutdown of a listener closes it), nothing is served. */
static int refuse_listen(int fd, unsigned int port, int err, const char *why)
{
	preload_say("port %u: %s: %s; refusing to serve it without TLS", port, why, strerror(err));
	shutdown(fd, SHUT_RDWR);
	errno = err;
	return -1;
}

/* With a port list that does not parse, every TCP socket is refused. */
static int refuse_bad_ports(int fd, const char *call)
{
	struct sockaddr_storage ss;
	int type = 0;
	socklen_t ol = sizeof(type);

	if (!bad_ports)
		return 0;
	if (!getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ol) && type == SOCK_STREAM &&
	    !preload_real_getsockname(fd, (struct sockaddr *)&ss, &(socklen_t){ sizeof(ss) }) &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
		preload_say("%s() refused: KTLS_PRELOAD_PORTS does not parse", call);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Listeners this process found attached to the module or on a port not
 * named: accepted from as they are, without asking again.  Under
 * adopt_lock. */
static struct {
	int fd;
	ino_t ino;
} known[MAX_FRONTS];
static unsigned int nknown;
static pthread_mutex_t adopt_lock = PTHREAD_MUTEX_INITIALIZER;

static void remember(int fd)
{
	known[nknown % MAX_FRONTS].fd = fd;
	known[nknown % MAX_FRONTS].ino = preload_inode_of(fd);
	nknown++;
}

static bool is_known(int fd)
{
	for (unsigned int i = 0; i < MAX_FRONTS && i < nknown; i++)
		if (known[i].fd == fd)
			return known[i].ino && known[i].ino == preload_inode_of(fd);
	return false;
}

/* TLS on TCP listener @fd, on port @port named in KTLS_PRELOAD_PORTS: in
 * the module (1), or a front (0); else -1 with errno (the socket stopped
 * listening, nothing is served).  adopt_lock held. */
static int protect(int fd, unsigned int port, const struct sockaddr_storage *ss,
		   socklen_t len, int backlog)
{
	int ret;

	if (path != KTLS_PATH_SOCKET) {
		int err = attach_module(fd);

		if (!err)
			return 1;
		if (path == KTLS_PATH_MODULE)
			return refuse_listen(fd, port, -err,
					     "cannot attach it to the ktls_offload module");
		if (err != -ENOENT)
			preload_say("port %u: the module refused the listener (%s); handshakes go "
			    "through the agent's socket", port, strerror(-err));
	}
	pthread_mutex_lock(&preload_lock);
	if (preload_front_of(fd)) {
		pthread_mutex_unlock(&preload_lock);
		return 0;
	}
	ret = preload_make_front(fd, ss, len, backlog);
	if (ret) {
		pthread_mutex_unlock(&preload_lock);
		return refuse_listen(fd, port, -ret, "cannot serve it through the agent");
	}
	preload_ensure_helper();
	if (preload_helper_pid != getpid()) {
		/* no thread, nothing would be served: the real listener (now
		 * only ours, @fd is the AF_UNIX one) stops listening */
		struct front *f = &preload_fronts[preload_nfronts - 1];

		f->dead = 1;
		shutdown(f->real, SHUT_RDWR);
		preload_sys_close(f->real);
		f->real = -1;
		pthread_mutex_unlock(&preload_lock);
		preload_say("port %u: cannot start the handshake thread; refusing to serve it "
		    "without TLS", port);
		errno = EAGAIN;
		return -1;
	}
	if (preload_helper_wake >= 0) {
		uint64_t one = 1;

		(void)!write(preload_helper_wake, &one, sizeof(one));
	}
	pthread_mutex_unlock(&preload_lock);
	return 0;
}

EXPORT int listen(int fd, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned int port;
	int ret;

	pthread_once(&once, setup);
	if (refuse_bad_ports(fd, "listen"))
		return -1;
	ret = preload_real_listen(fd, backlog);
	if (ret || !nports || !(port = wanted_port(fd, &ss, &len)))
		return ret;
	pthread_mutex_lock(&adopt_lock);
	ret = protect(fd, port, &ss, len, backlog);
	if (ret > 0)
		remember(fd);
	pthread_mutex_unlock(&adopt_lock);
	return ret > 0 ? 0 : ret;
}

/* Takes an established connection out of front @fd, made by user
 * @owner (see the top). */
static int front_accept(int fd, uid_t owner, struct sockaddr *addr, socklen_t *addrlen,
			int flags)
{
	for (;;) {
		char byte;
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} c;
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr m = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = c.buf, .msg_controllen = sizeof(c.buf),
		};
		struct cmsghdr *cm;
		int u, conn = -1, fl;
		ssize_t n;

		struct ucred cred;
		socklen_t cl = sizeof(cred);

		u = preload_real_accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (u < 0)
			return -1;
		/* only from a process of our own user or of the one that
		 * made the front (the library's thread in this server, or in
		 * its master running as root while workers run as another
		 * user); anyone else in the namespace could reach the
		 * abstract address */
		if (getsockopt(u, SOL_SOCKET, SO_PEERCRED, &cred, &cl) ||
		    (cred.uid != geteuid() && cred.uid != owner)) {
			preload_sys_close(u);
			continue;
		}
		do
			n = recvmsg(u, &m, flags & SOCK_CLOEXEC ? MSG_CMSG_CLOEXEC : 0);
		while (n < 0 && errno == EINTR);
		cm = n == 1 ? CMSG_FIRSTHDR(&m) : NULL;
		if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&conn, CMSG_DATA(cm), sizeof(int));
		preload_sys_close(u);
		if (conn < 0)
			continue;	/* not one of ours */
		/* and only a TCP socket that runs kernel TLS */
		if (!preload_runs_ktls(conn)) {
			preload_sys_close(conn);
			continue;
		}
		fl = fcntl(conn, F_GETFL);
		fcntl(conn, F_SETFL, flags & SOCK_NONBLOCK ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
		if (addr && addrlen && getpeername(conn, addr, addrlen))
			*addrlen = 0;
		return conn;
	}
}

/* Is @fd a front?  Then *@owner is the user that made it. */
static int is_front(int fd, uid_t *owner)
{
	struct front *f;

	if (!preload_nfronts)
		return 0;
	pthread_mutex_lock(&preload_lock);
	f = preload_front_of(fd);
	if (f) {
		*owner = f->owner;
		/* a forked worker runs its own thread; one of another user
		 * (nginx's, root's master having called listen()) leaves the
		 * handshakes to the master's, whose user the agent allowed */
		if (f->owner == geteuid())
			preload_ensure_helper();
	}
	pthread_mutex_unlock(&preload_lock);
	return f != NULL;
}

/*
 * What accept() on @fd takes from: 1, a front (made by *@owner); 0, the
 * socket itself; -1 with errno, nothing.  A TCP listener on a named port
 * that listen() here did not see (inherited: systemd's socket
 * activation, inetd, a binary upgrade) is set up as listen() would, or
 * refused: never accepted from in plaintext.
 */
static int accept_from(int fd, uid_t *owner)
{
	struct sockaddr_storage ss;
	socklen_t len, ol = sizeof(int);
	unsigned int port;
	int listening = 0, ret;

	if (is_front(fd, owner))
		return 1;
	if (!nports && !bad_ports)
		return 0;
	pthread_mutex_lock(&adopt_lock);
	if (is_front(fd, owner))
		ret = 1;	/* another thread set it up meanwhile */
	else if (is_known(fd) ||
		 getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &ol) || !listening)
		ret = 0;	/* not listening: the real accept() says so */
	else if (refuse_bad_ports(fd, "accept"))
		ret = -1;
	else if (!(port = wanted_port(fd, &ss, &len))) {
		remember(fd);	/* a port not named */
		ret = 0;
	} else if ((ret = protect(fd, port, &ss, len, SOMAXCONN)) > 0) {
		remember(fd);	/* attached to the module: the kernel's accept() */
		ret = 0;
	} else if (!ret && !is_front(fd, owner)) {
		errno = EIO;	/* cannot happen: protect() made a front */
		ret = -1;
	} else if (!ret) {
		ret = 1;
	}
	pthread_mutex_unlock(&adopt_lock);
	return ret;
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	uid_t owner;
	int from;

	unsigned int forks_before = __atomic_load_n(&preload_forks, __ATOMIC_ACQUIRE);
	int conn;

	pthread_once(&once, setup);
	from = accept_from(fd, &owner);
	if (from > 0)
		conn = front_accept(fd, owner, addr, addrlen, flags);
	else
		conn = from ? -1 : preload_real_accept4(fd, addr, addrlen, flags);
	if (conn >= 0 && nports)
		preload_tls_conn_add(conn, forks_before);
	return conn;
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	uid_t owner;
	int from;

	unsigned int forks_before = __atomic_load_n(&preload_forks, __ATOMIC_ACQUIRE);
	int conn;

	pthread_once(&once, setup);
	from = accept_from(fd, &owner);
	if (from > 0)
		conn = front_accept(fd, owner, addr, addrlen, 0);
	else
		conn = from ? -1 : preload_real_accept(fd, addr, addrlen);
	if (conn >= 0 && nports)
		preload_tls_conn_add(conn, forks_before);
	return conn;
}

EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct front *f;

	pthread_once(&once, setup);
	if (preload_nfronts) {
		pthread_mutex_lock(&preload_lock);
		f = preload_front_of(fd);
		if (f) {
			socklen_t n = *addrlen < f->namelen ? *addrlen : f->namelen;

			memcpy(addr, &f->name, n);
			*addrlen = f->namelen;
			pthread_mutex_unlock(&preload_lock);
			return 0;
		}
		pthread_mutex_unlock(&preload_lock);
	}
	return preload_real_getsockname(fd, addr, addrlen);
}
