/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ktls-agent's workers: each thread has its own netlink socket (the module
 * requires DONE from the socket that accepted), its share of the
 * connections to the UNIX socket, and an epoll loop driving many
 * non-blocking handshakes at once.  The module's READYs arrive on one
 * socket the workers share, which wakes one of them per READY.
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

struct ktls_genl;

struct agent {
	pthread_mutex_t lock;			/* protects gen */
	struct agent_generation *gen;
	atomic_bool stopping;
	bool use_module;			/* serve the module's requests */
	/* the module's "agents" group, on one socket in every worker's
	 * epoll (EPOLLEXCLUSIVE); read under events_lock */
	struct ktls_genl *events;
	pthread_mutex_t events_lock;
	/* A READY wakes one worker.  When it finds more than one request
	 * waiting and the agent may run on more than one CPU
	 * (share_bursts), it wakes another to share them: the workers,
	 * n_peers of them once all run (0 before and while stopping). */
	bool share_bursts;
	struct worker **peers;
	atomic_uint n_peers;
	atomic_uint next_peer;
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

/* Opens the socket for the module's READYs when the module path is used
 * (before the first worker_start), and closes it (after the last
 * worker_join). */
int agent_events_open(struct agent *a);
void agent_events_close(struct agent *a);

/* Starts a worker thread serving the module's requests and connections
 * to the UNIX socket. */
int worker_start(struct agent *a, int index, struct worker **out);
/* Asks it to finish: in-flight handshakes fail with ESHUTDOWN. */
void worker_stop(struct worker *w);
/* Waits until it has; then, once every worker has (a worker may wake
 * another until it ends), worker_free(). */
void worker_join(struct worker *w);
void worker_free(struct worker *w);

#endif
