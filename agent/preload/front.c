// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A listener served in userspace (a "front", see preload.c's top): the
 * AF_UNIX listener put under the server's descriptor, and the thread that
 * accepts from the real listener, hands each connection to the agent's
 * socket for its handshake and passes the established ones on.
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

/* An established connection waiting for room in a front's backlog. */
struct waiting {
	int front, fd;
	struct waiting *next;
};

/* The live front under descriptor @fd (still the same socket).  Lock held. */
struct front *preload_front_of(int fd)
{
	for (int i = 0; i < preload_nfronts; i++)
		if (preload_fronts[i].app_fd == fd && !preload_fronts[i].dead)
			return preload_inode_of(fd) == preload_fronts[i].app_ino ? &preload_fronts[i] : NULL;
	return NULL;
}

/* Puts an AF_UNIX listener under @fd and keeps the real one.  Lock held. */
int preload_make_front(int fd, const struct sockaddr_storage *name, socklen_t namelen,
		      int backlog)
{
	struct front *f;
	int u, real, fl, fdfl;

	if (preload_nfronts == MAX_FRONTS)
		return -ENOSPC;
	f = &preload_fronts[preload_nfronts];
	memset(f, 0, sizeof(*f));
	f->addr.sun_family = AF_UNIX;
	u = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u < 0)
		return -errno;
	/* Autobind: the kernel picks an unused abstract name, so no other
	 * user can have bound it first (nothing on disk, gone with it). */
	f->addrlen = sizeof(f->addr);
	if (bind(u, (struct sockaddr *)&f->addr, sizeof(sa_family_t)) ||
	    preload_real_getsockname(u, (struct sockaddr *)&f->addr, &f->addrlen) ||
	    preload_real_listen(u, backlog > 4096 ? backlog : 4096)) {
		int err = -errno;

		preload_sys_close(u);
		return err;
	}
	real = fcntl(fd, F_DUPFD_CLOEXEC, 256);
	fl = fcntl(fd, F_GETFL);
	fdfl = fcntl(fd, F_GETFD);
	if (real < 0 || fl < 0 || fdfl < 0 || dup2(u, fd) < 0) {
		int err = -errno;

		if (real >= 0)
			preload_sys_close(real);
		preload_sys_close(u);
		return err;
	}
	preload_sys_close(u);
	fcntl(fd, F_SETFD, fdfl);
	fcntl(fd, F_SETFL, fl & O_NONBLOCK);
	fcntl(real, F_SETFL, O_NONBLOCK);
	f->app_fd = fd;
	f->app_ino = preload_inode_of(fd);
	f->real = real;
	f->real_ino = preload_inode_of(real);
	f->owner = geteuid();
	f->name = *name;
	f->namelen = namelen;
	preload_nfronts++;
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
	if (connect(u, (struct sockaddr *)&preload_fronts[i].addr, preload_fronts[i].addrlen)) {
		ret = errno == EAGAIN ? -EAGAIN : -errno;
		preload_sys_close(u);
		if (ret != -EAGAIN)
			preload_sys_close(fd);
		return ret;
	}
	ret = sockmsg_send_fd(u, "k", 1, fd, 0);
	preload_sys_close(u);
	preload_sys_close(fd);
	return ret;
}

/* A context on the agent's socket, retried every second until it opens. */
static struct ktls_ctx *open_agent(void)
{
	struct ktls_ctx *ctx;
	int ret, said = 0;

	while ((ret = ktls_open(&ctx, KTLS_PATH_SOCKET, NULL)) < 0) {
		if (!said++)
			preload_say("cannot reach the agent's socket: %s; TLS connections wait "
			    "until it answers", strerror(-ret));
		sleep(1);
	}
	if (said)
		preload_say("reached the agent's socket");
	return ctx;
}

/* Long (~115 lines): one epoll loop whose parts (accept and submit, collect,
 * deliver the waiting) share its context, its epoll set and its queue. */
static void *helper(void *arg)
{
	struct ktls_ctx *ctx = NULL;
	struct waiting *waiting = NULL;
	int ep = epoll_create1(EPOLL_CLOEXEC), added = 0, ret;
	struct epoll_event ev = { .events = EPOLLIN };

	(void)arg;
	ev.data.u32 = MAX_FRONTS + 1;
	epoll_ctl(ep, EPOLL_CTL_ADD, preload_helper_wake, &ev);
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

		pthread_mutex_lock(&preload_lock);
		for (; added < preload_nfronts; added++) {
			ev.data.u32 = (uint32_t)added;
			if (!preload_fronts[added].dead)
				epoll_ctl(ep, EPOLL_CTL_ADD, preload_fronts[added].real, &ev);
		}
		pthread_mutex_unlock(&preload_lock);
		n = epoll_wait(ep, evs, 16, waiting ? RETRY_MS : -1);
		for (int e = 0; e < n; e++) {
			uint32_t i = evs[e].data.u32;

			if (i == MAX_FRONTS + 1) {
				uint64_t v;

				(void)!read(preload_helper_wake, &v, sizeof(v));
				continue;
			}
			if (i == MAX_FRONTS || preload_fronts[i].dead)
				continue;	/* results: collected below */
			while (preload_fronts[i].inflight < preload_max_inflight) {
				struct ktls_params p = preload_params;
				uint32_t id;
				int c = -1;

				/* under the lock: close() may retire the front */
				pthread_mutex_lock(&preload_lock);
				if (!preload_fronts[i].dead)
					c = preload_real_accept4(preload_fronts[i].real, NULL, NULL,
							 SOCK_NONBLOCK | SOCK_CLOEXEC);
				pthread_mutex_unlock(&preload_lock);

				if (c < 0)
					break;
				p.cookie = (uint64_t)i << 32 | (uint32_t)c;
				if (ktls_submit(ctx, c, &p, &id) < 0) {
					preload_sys_close(c);
					continue;
				}
				preload_fronts[i].inflight++;
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
				preload_say("lost the agent's socket: %s", strerror(-ret));
				while (ktls_pending(ctx) && !ktls_collect(ctx, &r))
					preload_sys_close(r.fd);
				epoll_ctl(ep, EPOLL_CTL_DEL, ktls_pollfd(ctx), NULL);
				ktls_close(ctx);
				ctx = NULL;
				for (int i = 0; i < MAX_FRONTS; i++)
					preload_fronts[i].inflight = 0;
				break;
			}
			fi = (int)(r.cookie >> 32);
			preload_fronts[fi].inflight--;
			if (r.status) {
				preload_sys_close(r.fd);
				continue;
			}
			if (deliver(fi, r.fd) == -EAGAIN) {
				struct waiting *w = malloc(sizeof(*w));

				if (!w) {
					preload_sys_close(r.fd);
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
void preload_ensure_helper(void)
{
	pthread_t t;
	pthread_attr_t a;

	if (preload_helper_pid == getpid())
		return;
	if (preload_helper_wake >= 0 && preload_helper_pid)
		preload_sys_close(preload_helper_wake);	/* the parent's */
	preload_helper_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (preload_helper_wake >= 0 && !pthread_create(&t, &a, helper, NULL))
		preload_helper_pid = getpid();
	else
		preload_say("cannot start the handshake thread");
	pthread_attr_destroy(&a);
}
