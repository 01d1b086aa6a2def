// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The TLS connections accept() handed out, and the wrapped close(),
 * read(), recv(), recvfrom() and shutdown() that answer for them as a TLS
 * endpoint must (close_notify, alerts: see preload.c's top).  close()
 * also retires a front.
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

#include "preload.h"

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
void preload_tls_conn_add(int fd, unsigned int forks_before)
{
	struct tls_conn *t = __atomic_load_n(&tls_conns, __ATOMIC_ACQUIRE);

	if (fd < 0 || !preload_runs_ktls(fd))
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
	__atomic_store_n(&t[fd].ino, preload_inode_of(fd), __ATOMIC_RELEASE);
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
	if (ino != preload_inode_of(fd)) {
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

	if (!preload_close_notify || c->notified || c->pid != getpid() ||
	    c->forks != __atomic_load_n(&preload_forks, __ATOMIC_ACQUIRE))
		return false;
	if (!getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &ll) && lg.l_onoff && !lg.l_linger)
		return false;
	return !getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) &&
	       (ti.tcpi_state == TCP_ESTABLISHED || ti.tcpi_state == TCP_CLOSE_WAIT);
}


/* close() of a front retires it: see the top. */
EXPORT int close(int fd)
{
	struct tls_conn *c;
	struct front *f;

	if (__atomic_load_n(&preload_nfronts, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&preload_lock);
		f = preload_front_of(fd);
		if (f) {
			/* this process's copy of the real listener goes with it
			 * (the thread accepts from it only under the lock);
			 * handshakes in flight end undelivered */
			f->dead = 1;
			if (f->real >= 0 && preload_inode_of(f->real) == f->real_ino)
				preload_sys_close(f->real);
			f->real = -1;
		}
		pthread_mutex_unlock(&preload_lock);
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
	return preload_sys_close(fd);
}

/* The next (libc's) read(), recv(), recvfrom() and shutdown(): looked up
 * when the library is loaded, before anything in the process can call
 * them, and again on first use if something did. */
static void *next_read, *next_recv, *next_recvfrom, *next_shutdown;

__attribute__((constructor)) static void resolve_next(void)
{
	preload_next_fn(&next_read, "read");
	preload_next_fn(&next_recv, "recv");
	preload_next_fn(&next_recvfrom, "recvfrom");
	preload_next_fn(&next_shutdown, "shutdown");
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
	ssize_t n = ((ssize_t (*)(int, void *, size_t))preload_next_fn(&next_read, "read"))(fd, buf, len);
	ssize_t t;

	if (n >= 0 || (t = tls_read_failed(fd, buf, len, 0)) == -2)
		return n;
	return t;
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = ((ssize_t (*)(int, void *, size_t, int))preload_next_fn(&next_recv, "recv"))
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
		     preload_next_fn(&next_recvfrom, "recvfrom"))(fd, buf, len, flags, addr, addrlen);
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
	return ((int (*)(int, int))preload_next_fn(&next_shutdown, "shutdown"))(fd, how);
}

