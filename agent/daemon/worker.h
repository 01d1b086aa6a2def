/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ktls-agent's workers: each thread has its own netlink socket (the module
 * requires DONE from the socket that accepted), its share of the
 * connections to the UNIX socket, and an epoll loop driving many
 * non-blocking handshakes at once.
 */
#ifndef KTLS_AGENT_WORKER_H
#define KTLS_AGENT_WORKER_H

#include <pthread.h>
#include <stdatomic.h>

#include "config.h"
#include "tls.h"

/* A configuration and its loaded profiles; replaced whole on SIGHUP. */
struct agent_generation {
	atomic_int refs;
	struct agent_config cfg;
	struct tls_runtime rt;
};

struct agent {
	pthread_mutex_t lock;			/* protects gen */
	struct agent_generation *gen;
	atomic_bool stopping;
	bool use_module;			/* serve the module's requests */
	bool use_upcall;			/* serve the kernel's handshake family */
	int listen_fd;				/* the UNIX socket, or -1 */
	/* the handshake family's sockets, opened while root (upcall.c):
	 * n_upcall_ns namespaces for each worker, worker by worker */
	struct upcall_ns *upcall_socks;
	int n_upcall_ns;
	unsigned int n_upcall_workers;
};

struct agent_generation *agent_generation_get(struct agent *a);
void agent_generation_put(struct agent_generation *g);

struct worker;
struct upcall_ns;

/* Starts a worker thread serving the module's requests and connections
 * to the UNIX socket. */
int worker_start(struct agent *a, int index, struct worker **out);
/* Asks it to finish: in-flight handshakes fail with ESHUTDOWN. */
void worker_stop(struct worker *w);
void worker_join(struct worker *w);

#endif
