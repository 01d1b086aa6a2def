/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Inside a ktls-agent worker: what worker.c (the thread and its epoll
 * loop), job.c (one handshake, from request to reply) and requester.c
 * (connections to the UNIX socket and their requests) share.
 */
#ifndef KTLS_AGENT_WORKER_INT_H
#define KTLS_AGENT_WORKER_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "broker.h"
#include "genl.h"
#include "log.h"
#include "nic.h"
#include "sockmsg.h"
#include "worker.h"

/* What an epoll event's data.ptr points at: each starts with its kind. */
enum ev_kind { EV_GENL, EV_WAKE, EV_LISTEN, EV_CONN, EV_JOB, EV_UPCALL };

/*
 * A worker's sockets for the handshake family in one network namespace:
 * commands, and the "tlshd" group's READYs.  Made by main.c (while root)
 * through upcall_open_namespaces(), owned by the agent.
 */
struct upcall_ns {
	enum ev_kind kind;	/* EV_UPCALL */
	struct ktls_genl cmd, mcast;
	bool ready;		/* a READY came, or may have: ACCEPT */
	const char *name;	/* NULL: the agent's own namespace */
};

/* A requester's connection to the UNIX socket; its jobs run here. */
struct conn {
	enum ev_kind kind;
	struct conn *next, *prev;
	int fd;
	int n_jobs;
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

struct job {
	enum ev_kind kind;
	struct job *next, *prev;
	uint32_t id;		/* the module's request id, or the conn's seq */
	struct conn *conn;	/* NULL: from the module */
	bool conn_gone;		/* the requester hung up: no reply */
	bool finished;		/* on the worker's dead list */
	bool refused;		/* not authorised: logged as such already */
	uint64_t cookie;
	ino_t ino;		/* of the socket, to refuse a second request */
	int fd;
	uint32_t events;	/* what epoll watches on @fd for it now */
	struct tls_handshake *h;
	struct agent_generation *gen;
	double deadline;
	char peer[64];
	/* nic_offload: the route's device, looked up at the start */
	struct nic_route nic;
	int nic_err;		/* its lookup failed: -errno */
	bool narrowed;		/* TLS 1.2 AES-GCM asked for the device */
	struct upcall_job *up;	/* from the kernel's handshake family (upcall.c) */
};

struct worker {
	struct agent *agent;
	int index;
	pthread_t thread;
	struct ktls_genl genl;	/* commands; .sock NULL: no module */
	/* the kernel's handshake family (upcall.c), one entry per network
	 * namespace served (the agent's own by default); n_hs 0: not served */
	struct upcall_ns *hs;
	int n_hs;
	int hs_next;		/* the namespace ACCEPTed from first next round */
	int n_upcalls;		/* upcall jobs in flight, all namespaces */
	int epfd;
	int wakefd;		/* worker_stop(), or a peer's wake_peer() */
	atomic_bool poked;	/* ... the latter: requests wait */
	bool ready;		/* a READY arrived */
	struct job jobs;	/* list head of handshakes in flight */
	int n_jobs;
	struct conn conns;	/* list head of UNIX-socket requesters */
	struct job *dead;	/* finished jobs, freed after each batch */
	/* what requesters and peers can make it log */
	struct agent_ratelimit refusals, failures, accepts;
	double accept_paused;	/* out of descriptors: accept again then */
	double accept_retry;	/* an ACCEPT found no free descriptor or
				 * memory: its request waits in the module;
				 * ACCEPT again then, or when a job ends */
	bool job_ended;		/* since the last turn of the loop */
};

static inline double worker_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* job.c */
struct job *worker_job_new(struct worker *w, struct conn *c, uint32_t id, int fd);
void worker_job_run(struct worker *w, struct job *j, struct tls_result *res);
const char *worker_ratelimit_note(unsigned long missed, char *out, size_t len);
void worker_job_finish(struct worker *w, struct job *j, struct tls_result *res);
void worker_job_step(struct worker *w, struct job *j);
void worker_refuse(struct worker *w, struct conn *c, uint32_t id, uint64_t cookie, int err);
void worker_job_start(struct worker *w, struct conn *c, const struct ktls_accepted *a,
		      uint64_t cookie, ino_t ino);

/* requester.c */
void worker_conn_close(struct worker *w, struct conn *c);
void worker_conn_read(struct worker *w, struct conn *c);
void worker_conn_accept(struct worker *w);

#endif
