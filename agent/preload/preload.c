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

#include <ktls-offload/ktls.h>

#include "broker.h"
#include "genl.h"
#include "../libktls/record.h"
#include "sockmsg.h"

#define EXPORT __attribute__((visibility("default")))
#define MAX_FRONTS 64
#define MAX_PORTS 64
#define RETRY_MS 100

/* A listener served in userspace: the server's descriptor now holds an
 * AF_UNIX listener at @addr; the real TCP listener is @real. */
struct front {
	int app_fd;
	ino_t app_ino;			/* the AF_UNIX listener under app_fd */
	int real;
	ino_t real_ino;
	struct sockaddr_storage name;	/* the real listener's address */
	socklen_t namelen;
	struct sockaddr_un addr;
	socklen_t addrlen;
	uid_t owner;			/* the user that made the front */
	unsigned int inflight;		/* of this process's thread */
	int dead;
};

/* An established connection waiting for room in a front's backlog. */
struct waiting {
	int front, fd;
	struct waiting *next;
};

static int (*real_listen)(int, int);
static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_getsockname)(int, struct sockaddr *, socklen_t *);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned short ports[MAX_PORTS];
static int nports;
static bool bad_ports;			/* KTLS_PRELOAD_PORTS did not parse */
static struct ktls_params params = KTLS_PARAMS_INIT(.role = KTLS_ROLE_SERVER);
static struct ktls_attach_args attach_args;
static unsigned int max_inflight = 128;
static bool close_notify = true;
static unsigned int forks;		/* fork()s so far (see struct tls_conn) */
static enum ktls_path path = KTLS_PATH_AUTO;
static struct front fronts[MAX_FRONTS];	/* under lock */
static int nfronts;
static pid_t helper_pid;		/* the process whose thread runs */
static int helper_wake = -1;		/* tells it of a new front */

/* The real close(), for the library's own descriptors: its close()
 * below takes the lock, which callers here may hold. */
/* The next libc function @name, looked up once into *@slot. */
static void *next_fn(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

static int sys_close(int fd)
{
	static void *next_close;

	return ((int (*)(int))next_fn(&next_close, "close"))(fd);
}

static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(2, "ktls-preload: ", 14);
	(void)!write(2, buf, (size_t)n);
}

/* fork(): the child must not inherit the lock held by the thread, nor
 * the parent's handshakes in flight (they complete in the parent). */
static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
	__atomic_add_fetch(&forks, 1, __ATOMIC_RELEASE);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

static void fork_child(void)
{
	for (int i = 0; i < nfronts; i++)
		fronts[i].inflight = 0;
	pthread_mutex_unlock(&lock);
}

static ino_t inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* Does TCP socket @fd run kernel TLS? */
static bool runs_ktls(int fd)
{
	char ulp[16] = "";
	socklen_t ul = sizeof(ulp);

	return !getsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, &ul) && !strcmp(ulp, "tls");
}

/*
 * The TLS connections accept() handed out, by descriptor, for the wrapped
 * reads, shutdown() and close().  Sized by the hard limit on descriptors
 * when the first one comes (calloc's pages are touched only as used); a
 * descriptor beyond it is served without the answers.  An entry is valid
 * while its inode is the descriptor's (a number reused for another file
 * is not mistaken for one).
 */
struct tls_conn {
	ino_t ino;		/* 0: none; published last (release) */
	unsigned int forks;	/* fork()s before its accept() began */
	pid_t pid;		/* the process that accepted it */
	bool notified;		/* our close_notify went out (shutdown) */
};
static struct tls_conn *tls_conns;
static unsigned int tls_nconns;
static pthread_mutex_t tls_conns_lock = PTHREAD_MUTEX_INITIALIZER;

/* @fd from accept(), begun when @forks_before fork()s had happened */
static void tls_conn_add(int fd, unsigned int forks_before)
{
	struct tls_conn *t = __atomic_load_n(&tls_conns, __ATOMIC_ACQUIRE);

	if (fd < 0 || !runs_ktls(fd))
		return;
	if (!t) {
		pthread_mutex_lock(&tls_conns_lock);
		t = tls_conns;
		if (!t) {
			struct rlimit rl;
			rlim_t n = getrlimit(RLIMIT_NOFILE, &rl) ? 65536 : rl.rlim_max;

			if (n > 1 << 20 || n == RLIM_INFINITY)
				n = 1 << 20;
			t = calloc(n, sizeof(*t));
			if (t) {
				tls_nconns = (unsigned int)n;
				__atomic_store_n(&tls_conns, t, __ATOMIC_RELEASE);
			}
		}
		pthread_mutex_unlock(&tls_conns_lock);
		if (!t)
			return;
	}
	if ((unsigned int)fd >= tls_nconns)
		return;
	__atomic_store_n(&t[fd].ino, 0, __ATOMIC_RELEASE);
	t[fd].forks = forks_before;
	t[fd].pid = getpid();
	t[fd].notified = false;
	__atomic_store_n(&t[fd].ino, inode_of(fd), __ATOMIC_RELEASE);
}

/* The entry of TLS connection @fd, or NULL if it is not one of ours. */
static struct tls_conn *tls_conn(int fd)
{
	struct tls_conn *t = __atomic_load_n(&tls_conns, __ATOMIC_ACQUIRE);
	ino_t ino;

	if (!t || fd < 0 || (unsigned int)fd >= tls_nconns)
		return NULL;
	ino = __atomic_load_n(&t[fd].ino, __ATOMIC_ACQUIRE);
	if (!ino)
		return NULL;
	if (ino != inode_of(fd)) {
		/* the number now names another file */
		__atomic_compare_exchange_n(&t[fd].ino, &ino, 0, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
		return NULL;
	}
	return &t[fd];
}

static void tls_conn_forget(struct tls_conn *c)
{
	__atomic_store_n(&c->ino, 0, __ATOMIC_RELEASE);
}

/*
 * May close() or shutdown() of connection @c (@fd) end it with our
 * close_notify?  Not when: KTLS_PRELOAD_CLOSE_NOTIFY=0; it went out
 * already; the connection may live on in another process (accepted
 * before the last fork(), or by another process that shares our memory,
 * vfork's child); the close is abortive (SO_LINGER 0: a reset, as nginx's
 * reset_timedout_connection); the connection is no longer open both ways
 * (no TCP ESTABLISHED or CLOSE_WAIT).
 */
static bool tls_conn_may_notify(struct tls_conn *c, int fd)
{
	struct linger lg;
	struct tcp_info ti;
	socklen_t ll = sizeof(lg), tl = sizeof(ti);

	if (!close_notify || c->notified || c->pid != getpid() ||
	    c->forks != __atomic_load_n(&forks, __ATOMIC_ACQUIRE))
		return false;
	if (!getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &ll) && lg.l_onoff && !lg.l_linger)
		return false;
	return !getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) &&
	       (ti.tcpi_state == TCP_ESTABLISHED || ti.tcpi_state == TCP_CLOSE_WAIT);
}

static void setup(void)
{
	const char *s = getenv("KTLS_PRELOAD_PORTS");

	real_listen = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
	real_accept = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
	real_accept4 = (int (*)(int, struct sockaddr *, socklen_t *, int))
		dlsym(RTLD_NEXT, "accept4");
	real_getsockname = (int (*)(int, struct sockaddr *, socklen_t *))
		dlsym(RTLD_NEXT, "getsockname");
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	while (s && *s) {
		char *end;
		unsigned long p = strtoul(s, &end, 10);

		if (end == s || p == 0 || p > 65535 || (*end && *end != ',') ||
		    nports == MAX_PORTS) {
			say("KTLS_PRELOAD_PORTS: bad port list '%s' (at most %d ports, "
			    "comma-separated): every TCP listen() fails", getenv("KTLS_PRELOAD_PORTS"),
			    MAX_PORTS);
			bad_ports = true;
			nports = 0;
			break;
		}
		ports[nports++] = (unsigned short)p;
		s = *end ? end + 1 : end;
	}
	params.profile = attach_args.profile = getenv("KTLS_PRELOAD_PROFILE");
	params.alpn = attach_args.alpn = getenv("KTLS_PRELOAD_ALPN");
	if ((s = getenv("KTLS_PRELOAD_TIMEOUT_MS")))
		params.timeout_ms = attach_args.timeout_ms = (unsigned int)strtoul(s, NULL, 10);
	if ((s = getenv("KTLS_PRELOAD_MAX_INFLIGHT")) && strtoul(s, NULL, 10) > 0)
		max_inflight = attach_args.max_inflight = (unsigned int)strtoul(s, NULL, 10);
	if ((s = getenv("KTLS_PRELOAD_CLOSE_NOTIFY")) && !strcmp(s, "0"))
		close_notify = false;
	if ((s = getenv("KTLS_PRELOAD_PATH"))) {
		if (!strcmp(s, "module"))
			path = KTLS_PATH_MODULE;
		else if (!strcmp(s, "socket"))
			path = KTLS_PATH_SOCKET;
		else if (strcmp(s, "auto"))
			say("KTLS_PRELOAD_PATH: unknown '%s', using auto", s);
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
	    real_getsockname(fd, (struct sockaddr *)ss, len))
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

/* The live front under descriptor @fd (still the same socket).  Lock held. */
static struct front *front_of(int fd)
{
	for (int i = 0; i < nfronts; i++)
		if (fronts[i].app_fd == fd && !fronts[i].dead)
			return inode_of(fd) == fronts[i].app_ino ? &fronts[i] : NULL;
	return NULL;
}

/* Puts an AF_UNIX listener under @fd and keeps the real one.  Lock held. */
static int make_front(int fd, const struct sockaddr_storage *name, socklen_t namelen,
		      int backlog)
{
	struct front *f;
	int u, real, fl, fdfl;

	if (nfronts == MAX_FRONTS)
		return -ENOSPC;
	f = &fronts[nfronts];
	memset(f, 0, sizeof(*f));
	f->addr.sun_family = AF_UNIX;
	u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u < 0)
		return -errno;
	/* Autobind: the kernel picks an unused abstract name, so no other
	 * user can have bound it first (nothing on disk, gone with it). */
	f->addrlen = sizeof(f->addr);
	if (bind(u, (struct sockaddr *)&f->addr, sizeof(sa_family_t)) ||
	    real_getsockname(u, (struct sockaddr *)&f->addr, &f->addrlen) ||
	    real_listen(u, backlog > 4096 ? backlog : 4096)) {
		int err = -errno;

		sys_close(u);
		return err;
	}
	real = fcntl(fd, F_DUPFD_CLOEXEC, 256);
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	if (real < 0 || fl < 0 || fdfl < 0 || dup2(u, fd) < 0) {
		int err = -errno;

		if (real >= 0)
			sys_close(real);
		sys_close(u);
		return err;
	}
	sys_close(u);
	fcntl(fd, F_SETFD, fdfl);
	fcntl(fd, F_SETFL, fl & O_NONBLOCK);
	fcntl(real, F_SETFL, O_NONBLOCK);
	f->app_fd = fd;
	f->app_ino = inode_of(fd);
	f->real = real;
	f->real_ino = inode_of(real);
	f->owner = geteuid();
	f->name = *name;
	f->namelen = namelen;
	nfronts++;
	return 0;
}

/* Passes established connection @fd to front @i: 0, -EAGAIN (backlog
 * full, try later) or another error (the front is gone).  Closes @fd
 * unless -EAGAIN. */
static int deliver(int i, int fd)
{
	int u, ret;

	u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u < 0)
		return -EAGAIN;
	if (connect(u, (struct sockaddr *)&fronts[i].addr, fronts[i].addrlen)) {
		ret = errno == EAGAIN ? -EAGAIN : -errno;
		sys_close(u);
		if (ret != -EAGAIN)
			sys_close(fd);
		return ret;
	}
	ret = sockmsg_send_fd(u, "k", 1, fd, 0);
	sys_close(u);
	sys_close(fd);
	return ret;
}

/* A context on the agent's socket, retried every second until it opens. */
static struct ktls_ctx *open_agent(void)
{
	struct ktls_ctx *ctx;
	int ret, said = 0;

	while ((ret = ktls_open(&ctx, KTLS_PATH_SOCKET, NULL)) < 0) {
		if (!said++)
			say("cannot reach the agent's socket: %s; TLS connections wait "
			    "until it answers", strerror(-ret));
		sleep(1);
	}
	if (said)
		say("reached the agent's socket");
	return ctx;
}

static void *helper(void *arg)
{
	struct ktls_ctx *ctx = NULL;
	struct waiting *waiting = NULL;
	int ep = epoll_create1(EPOLL_CLOEXEC), added = 0, ret;
	struct epoll_event ev = { .events = EPOLLIN };

	(void)arg;
	ev.data.u32 = MAX_FRONTS + 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, helper_wake, &ev);
	for (;;) {
		struct epoll_event evs[16];
		int n;

		if (!ctx) {
			/* connections wait in the real listener's backlog
			 * until an agent answers */
			ctx = open_agent();
			ev.data.u32 = MAX_FRONTS;
			epoll_ctl(ep, EPOLL_CTL_ADD, ktls_pollfd(ctx), &ev);
		}

		pthread_mutex_lock(&lock);
		for (; added < nfronts; added++) {
			ev.data.u32 = (uint32_t)added;
			if (!fronts[added].dead)
				epoll_ctl(ep, EPOLL_CTL_ADD, fronts[added].real, &ev);
		}
		pthread_mutex_unlock(&lock);
		n = epoll_wait(ep, evs, 16, waiting ? RETRY_MS : -1);
		for (int e = 0; e < n; e++) {
			uint32_t i = evs[e].data.u32;

			if (i == MAX_FRONTS + 1) {
				uint64_t v;

				(void)!read(helper_wake, &v, sizeof(v));
				continue;
			}
			if (i == MAX_FRONTS || fronts[i].dead)
				continue;	/* results: collected below */
			while (fronts[i].inflight < max_inflight) {
				struct ktls_params p = params;
				uint32_t id;
				int c = -1;

				/* under the lock: close() may retire the front */
				pthread_mutex_lock(&lock);
				if (!fronts[i].dead)
					c = real_accept4(fronts[i].real, NULL, NULL,
							 SOCK_NONBLOCK | SOCK_CLOEXEC);
				pthread_mutex_unlock(&lock);

				if (c < 0)
					break;
				p.cookie = (uint64_t)i << 32 | (uint32_t)c;
				if (ktls_submit(ctx, c, &p, &id) < 0) {
					sys_close(c);
					continue;
				}
				fronts[i].inflight++;
			}
		}
		/* Results, also those fetched while submitting (the socket
		 * then does not poll readable for them). */
		for (;;) {
			struct ktls_result r = KTLS_RESULT_INIT;
			int fi;

			ret = ktls_collect(ctx, &r);
			if (ret == -EAGAIN)
				break;
			if (ret < 0) {
				/* the agent went away; its requests came back
				 * aborted (and were closed): start afresh */
				say("lost the agent's socket: %s", strerror(-ret));
				while (ktls_pending(ctx) && !ktls_collect(ctx, &r))
					sys_close(r.fd);
				epoll_ctl(ep, EPOLL_CTL_DEL, ktls_pollfd(ctx), NULL);
				ktls_close(ctx);
				ctx = NULL;
				for (int i = 0; i < MAX_FRONTS; i++)
					fronts[i].inflight = 0;
				break;
			}
			fi = (int)(r.cookie >> 32);
			fronts[fi].inflight--;
			if (r.status) {
				sys_close(r.fd);
				continue;
			}
			if (deliver(fi, r.fd) == -EAGAIN) {
				struct waiting *w = malloc(sizeof(*w));

				if (!w) {
					sys_close(r.fd);
					continue;
				}
				*w = (struct waiting){ fi, r.fd, waiting };
				waiting = w;
			}
		}
		/* established connections a full backlog turned away */
		for (struct waiting **w = &waiting; *w;) {
			struct waiting *x = *w;

			if (deliver(x->front, x->fd) == -EAGAIN) {
				w = &x->next;
				continue;
			}
			*w = x->next;
			free(x);
		}
	}
	return NULL;
}

/* Runs the thread in this process if it does not yet.  Lock held. */
static void ensure_helper(void)
{
	pthread_t t;
	pthread_attr_t a;

	if (helper_pid == getpid())
		return;
	if (helper_wake >= 0 && helper_pid)
		sys_close(helper_wake);	/* the parent's */
	helper_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (helper_wake >= 0 && !pthread_create(&t, &a, helper, NULL))
		helper_pid = getpid();
	else
		say("cannot start the handshake thread");
	pthread_attr_destroy(&a);
}

/* Fails listen() on a port that was to have TLS: the socket stops
 * listening (shutdown of a listener closes it), nothing is served. */
static int refuse_listen(int fd, unsigned int port, int err, const char *why)
{
	say("port %u: %s: %s; refusing to serve it without TLS", port, why, strerror(err));
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
	    !real_getsockname(fd, (struct sockaddr *)&ss, &(socklen_t){ sizeof(ss) }) &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
		say("%s() refused: KTLS_PRELOAD_PORTS does not parse", call);
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
	known[nknown % MAX_FRONTS].ino = inode_of(fd);
	nknown++;
}

static bool is_known(int fd)
{
	for (unsigned int i = 0; i < MAX_FRONTS && i < nknown; i++)
		if (known[i].fd == fd)
			return known[i].ino && known[i].ino == inode_of(fd);
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
			say("port %u: the module refused the listener (%s); handshakes go "
			    "through the agent's socket", port, strerror(-err));
	}
	pthread_mutex_lock(&lock);
	if (front_of(fd)) {
		pthread_mutex_unlock(&lock);
		return 0;
	}
	ret = make_front(fd, ss, len, backlog);
	if (ret) {
		pthread_mutex_unlock(&lock);
		return refuse_listen(fd, port, -ret, "cannot serve it through the agent");
	}
	ensure_helper();
	if (helper_pid != getpid()) {
		/* no thread, nothing would be served: the real listener (now
		 * only ours, @fd is the AF_UNIX one) stops listening */
		struct front *f = &fronts[nfronts - 1];

		f->dead = 1;
		shutdown(f->real, SHUT_RDWR);
		sys_close(f->real);
		f->real = -1;
		pthread_mutex_unlock(&lock);
		say("port %u: cannot start the handshake thread; refusing to serve it "
		    "without TLS", port);
		errno = EAGAIN;
		return -1;
	}
	if (helper_wake >= 0) {
		uint64_t one = 1;

		(void)!write(helper_wake, &one, sizeof(one));
	}
	pthread_mutex_unlock(&lock);
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
	ret = real_listen(fd, backlog);
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

		u = real_accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (u < 0)
			return -1;
		/* only from a process of our own user or of the one that
		 * made the front (the library's thread in this server, or in
		 * its master running as root while workers run as another
		 * user); anyone else in the namespace could reach the
		 * abstract address */
		if (getsockopt(u, SOL_SOCKET, SO_PEERCRED, &cred, &cl) ||
		    (cred.uid != geteuid() && cred.uid != owner)) {
			sys_close(u);
			continue;
		}
		do
			n = recvmsg(u, &m, flags & SOCK_CLOEXEC ? MSG_CMSG_CLOEXEC : 0);
		while (n < 0 && errno == EINTR);
		cm = n == 1 ? CMSG_FIRSTHDR(&m) : NULL;
		if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&conn, CMSG_DATA(cm), sizeof(int));
		sys_close(u);
		if (conn < 0)
			continue;	/* not one of ours */
		/* and only a TCP socket that runs kernel TLS */
		if (!runs_ktls(conn)) {
			sys_close(conn);
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

	if (!nfronts)
		return 0;
	pthread_mutex_lock(&lock);
	f = front_of(fd);
	if (f) {
		*owner = f->owner;
		/* a forked worker runs its own thread; one of another user
		 * (nginx's, root's master having called listen()) leaves the
		 * handshakes to the master's, whose user the agent allowed */
		if (f->owner == geteuid())
			ensure_helper();
	}
	pthread_mutex_unlock(&lock);
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

	unsigned int forks_before = __atomic_load_n(&forks, __ATOMIC_ACQUIRE);
	int conn;

	pthread_once(&once, setup);
	from = accept_from(fd, &owner);
	if (from > 0)
		conn = front_accept(fd, owner, addr, addrlen, flags);
	else
		conn = from ? -1 : real_accept4(fd, addr, addrlen, flags);
	if (conn >= 0 && nports)
		tls_conn_add(conn, forks_before);
	return conn;
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	uid_t owner;
	int from;

	unsigned int forks_before = __atomic_load_n(&forks, __ATOMIC_ACQUIRE);
	int conn;

	pthread_once(&once, setup);
	from = accept_from(fd, &owner);
	if (from > 0)
		conn = front_accept(fd, owner, addr, addrlen, 0);
	else
		conn = from ? -1 : real_accept(fd, addr, addrlen);
	if (conn >= 0 && nports)
		tls_conn_add(conn, forks_before);
	return conn;
}

EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct front *f;

	pthread_once(&once, setup);
	if (nfronts) {
		pthread_mutex_lock(&lock);
		f = front_of(fd);
		if (f) {
			socklen_t n = *addrlen < f->namelen ? *addrlen : f->namelen;

			memcpy(addr, &f->name, n);
			*addrlen = f->namelen;
			pthread_mutex_unlock(&lock);
			return 0;
		}
		pthread_mutex_unlock(&lock);
	}
	return real_getsockname(fd, addr, addrlen);
}

/* close() of a front retires it: see the top. */
EXPORT int close(int fd)
{
	struct tls_conn *c;
	struct front *f;

	if (__atomic_load_n(&nfronts, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&lock);
		f = front_of(fd);
		if (f) {
			/* this process's copy of the real listener goes with it
			 * (the thread accepts from it only under the lock);
			 * handshakes in flight end undelivered */
			f->dead = 1;
			if (f->real >= 0 && inode_of(f->real) == f->real_ino)
				sys_close(f->real);
			f->real = -1;
		}
		pthread_mutex_unlock(&lock);
	}
	c = tls_conn(fd);
	if (c) {
		bool notify = tls_conn_may_notify(c, fd);

		/* (a vfork child's close() leaves the parent's entry alone) */
		if (c->pid == getpid())
			tls_conn_forget(c);
		if (notify)
			ktls_send_close_notify(fd);
	}
	return sys_close(fd);
}

/* The next (libc's) read(), recv(), recvfrom() and shutdown(): looked up
 * when the library is loaded, before anything in the process can call
 * them, and again on first use if something did. */
static void *next_read, *next_recv, *next_recvfrom, *next_shutdown;

__attribute__((constructor)) static void resolve_next(void)
{
	next_fn(&next_read, "read");
	next_fn(&next_recv, "recv");
	next_fn(&next_recvfrom, "recvfrom");
	next_fn(&next_shutdown, "shutdown");
}

/*
 * A read of @fd failed with errno: if @fd is one of our TLS connections
 * and kernel TLS refused a record, answer as libktls's ktls_recv() does
 * (into @buf, with recv() @flags) and return what it returns; else -2.
 */
static ssize_t tls_read_failed(int fd, void *buf, size_t len, int flags)
{
	int err = errno;
	struct tls_conn *c;
	ssize_t n;

	if ((err != EIO && err != EBADMSG && err != EMSGSIZE && err != EINVAL) ||
	    !(c = tls_conn(fd))) {
		errno = err;
		return -2;
	}
	if (err == EIO)		/* a control record: read it and answer */
		n = ktls_recv_role(fd, buf, len, flags, KTLS_ROLE_SERVER);
	else			/* the record is gone: its alert */
		n = ktls_read_error(fd, err);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		/* a fatal alert went out or came in: no close_notify after it */
		err = errno;
		c->notified = true;
		errno = err;
	}
	return n;
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	ssize_t n = ((ssize_t (*)(int, void *, size_t))next_fn(&next_read, "read"))(fd, buf, len);
	ssize_t t;

	if (n >= 0 || (t = tls_read_failed(fd, buf, len, 0)) == -2)
		return n;
	return t;
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = ((ssize_t (*)(int, void *, size_t, int))next_fn(&next_recv, "recv"))
		(fd, buf, len, flags);
	ssize_t t;

	if (n >= 0 || (t = tls_read_failed(fd, buf, len, flags)) == -2)
		return n;
	return t;
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			socklen_t *addrlen)
{
	ssize_t n = ((ssize_t (*)(int, void *, size_t, int, struct sockaddr *, socklen_t *))
		     next_fn(&next_recvfrom, "recvfrom"))(fd, buf, len, flags, addr, addrlen);
	ssize_t t;

	if (n >= 0 || (t = tls_read_failed(fd, buf, len, flags)) == -2)
		return n;
	if (t >= 0 && addr && addrlen && getpeername(fd, addr, addrlen))
		*addrlen = 0;
	return t;
}

/*
 * shutdown(SHUT_WR), the end of the server's side, sends close_notify
 * first (once); the connection stays known, so that the peer's own
 * close_notify still reads as end of stream.  SHUT_RDWR (often a thread
 * cancelling another's blocked send, which holds kernel TLS's send lock)
 * sends nothing.
 */
EXPORT int shutdown(int fd, int how)
{
	struct tls_conn *c;

	if (how == SHUT_WR && (c = tls_conn(fd)) && tls_conn_may_notify(c, fd)) {
		c->notified = true;
		ktls_send_close_notify(fd);
	}
	return ((int (*)(int, int))next_fn(&next_shutdown, "shutdown"))(fd, how);
}
