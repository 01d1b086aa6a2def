// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A ktls-agent worker thread: its netlink sockets, the module's READY
 * notifications and requests, its epoll loop with timeouts, and the
 * shared configuration generation.  Jobs are in job.c, UNIX-socket
 * requesters in requester.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/ktls_offload.h>

#include <ktls-offload/agent-socket.h>

#include "access.h"
#include "broker.h"
#include "log.h"
#include "schedpol.h"
#include "sockmsg.h"
#include "upcall.h"
#include "usock.h"
#include "worker.h"
#include "worker_int.h"

static const enum ev_kind tag_genl = EV_GENL, tag_wake = EV_WAKE, tag_listen = EV_LISTEN;

struct agent_generation *agent_generation_get(struct agent *a)
{
	struct agent_generation *g;

	pthread_mutex_lock(&a->lock);
	g = a->gen;
	atomic_fetch_add(&g->refs, 1);
	pthread_mutex_unlock(&a->lock);
	return g;
}

void agent_generation_put(struct agent_generation *g)
{
	if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
		return;
	tls_runtime_free(&g->rt);
	agent_config_free(&g->cfg);
	free(g);
}

/* Set by on_event() for the worker thread that read a READY. */
static __thread bool ready_read;

static void on_event(int cmd, struct nlattr **attrs, void *arg)
{
	if (cmd == KTLS_OFFLOAD_CMD_READY)
		ready_read = true;
}

/*
 * One socket in the module's "agents" group for all workers, in each one's
 * epoll with EPOLLEXCLUSIVE: a READY wakes one worker waiting in
 * epoll_wait(), which ACCEPTs the pending requests (sharing a burst:
 * wake_peer()), rather than every worker, all but one of which would find
 * the queue empty.  Its own
 * socket, apart from the workers' command sockets: READYs never crowd out
 * the replies to ACCEPT and DONE, nor they the READYs.
 */
int agent_events_open(struct agent *a)
{
	struct ktls_genl *g;
	int ret;

	if (!a->use_module)
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	ret = ktls_genl_open_events(g, KTLS_OFFLOAD_FAMILY_NAME, KTLS_OFFLOAD_FAMILY_VERSION,
				    KTLS_OFFLOAD_MCGRP_AGENTS, on_event, NULL,
				    ktls_result_policy);
	if (ret) {
		free(g);
		return ret;
	}
	pthread_mutex_init(&a->events_lock, NULL);
	a->events = g;
	return 0;
}

void agent_events_close(struct agent *a)
{
	if (!a->events)
		return;
	ktls_genl_close(a->events);
	free(a->events);
	a->events = NULL;
	pthread_mutex_destroy(&a->events_lock);
}

/* The events socket woke this worker: read what it holds (several workers
 * may have been woken for it; one reads at a time).  True if a READY came,
 * or may have been dropped (ENOBUFS). */
static bool read_events(struct worker *w)
{
	struct agent *a = w->agent;
	int ret;

	ready_read = false;
	pthread_mutex_lock(&a->events_lock);
	ret = ktls_genl_read_events(a->events);
	pthread_mutex_unlock(&a->events_lock);
	if (ret && ret != -EAGAIN && ret != -ENOBUFS)
		agent_log(LOG_WARNING, "worker %d: netlink: %s", w->index, strerror(-ret));
	return ready_read || ret == -ENOBUFS;
}

/*
 * More requests wait than the one this worker just took, and a READY woke
 * only this worker: on more than one CPU, wake another one (in turn) to
 * take a share, once per drain (it may in turn wake the next).  On one CPU
 * nothing would run sooner, and the other would wake to find the queue
 * emptied.
 */
static void wake_peer(struct worker *w)
{
	struct agent *a = w->agent;
	unsigned int n = atomic_load(&a->n_peers), i;
	uint64_t one = 1;
	struct worker *p;

	if (n < 2 || !a->share_bursts)	/* (n first: it publishes the rest) */
		return;
	i = atomic_fetch_add(&a->next_peer, 1) % n;
	p = a->peers[i] != w ? a->peers[i] : a->peers[(i + 1) % n];
	atomic_store(&p->poked, true);
	(void)!write(p->wakefd, &one, sizeof(one));	/* fails only when 2^64 - 2 wait */
}

/*
 * Takes every pending request: ACCEPT until EAGAIN, or until a reply says
 * it took the last one (QUEUE_EMPTY).  The module sends the next READY
 * only once an ACCEPT has found the queue empty or emptied it, so a drain
 * must not stop earlier.  An ACCEPT whose reply was dropped (-ENOBUFS) put
 * its request back: look again.
 */
static void drain(struct worker *w)
{
	struct ktls_accepted a;
	bool shared = false;
	int ret = 0;

	do {
		w->ready = false;
		while (!atomic_load(&w->agent->stopping) &&
		       (ret = ktls_broker_accept(&w->genl, &a)) == 0) {
			bool last = a.queue_empty;

			if (!last && !shared) {
				wake_peer(w);
				shared = true;
			}
			worker_job_start(w, NULL, &a, 0, 0);
			if (last) {
				ret = -EAGAIN;
				break;
			}
		}
		/* Out of descriptors, or of memory for the command or its
		 * reply (either side): the module put the request back, but
		 * no READY comes for it: look again when a job ends or in
		 * 250 ms. */
		bool no_fd = ret == -EMFILE || ret == -ENFILE;
		bool retry = no_fd || ret == -ENOMEM || ret == -EMSGSIZE;

		if (ret == -ENOBUFS) {
			w->ready = true;
		} else if (retry) {
			if (!w->accept_retry)
				agent_log(LOG_WARNING, "worker %d: ACCEPT failed: %s; trying "
					  "again %s", w->index, strerror(-ret),
					  no_fd ? "as descriptors free up" : "in 250 ms");
			w->accept_retry = worker_now() + 0.25;
		} else if (ret != -EAGAIN && ret != 0) {
			agent_log(LOG_WARNING, "worker %d: ACCEPT failed: %s", w->index,
				  strerror(-ret));
		}
		if (!retry)
			w->accept_retry = 0;
	} while (w->ready && !atomic_load(&w->agent->stopping));
	w->genl.dropped = 0;
}

static void expire(struct worker *w, double t, int err, const char *why)
{
	struct job *j, *next;

	for (j = w->jobs.next; j != &w->jobs; j = next) {
		next = j->next;
		if (j->deadline <= t) {
			struct tls_result res = { .err = err };

			snprintf(res.reason, sizeof(res.reason), "%s", why);
			worker_job_finish(w, j, &res);
		}
	}
}

static int next_timeout_ms(struct worker *w)
{
	double first = w->accept_paused, t = worker_now();
	struct job *j;

	if (w->accept_retry && (!first || w->accept_retry < first))
		first = w->accept_retry;
	for (j = w->jobs.next; j != &w->jobs; j = j->next)
		if (!first || j->deadline < first)
			first = j->deadline;
	if (!first)
		return -1;
	return first <= t ? 0 : (int)((first - t) * 1000) + 1;
}

static void free_dead(struct worker *w)
{
	while (w->dead) {
		struct job *j = w->dead;

		w->dead = j->next;
		free(j);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];
	struct agent_generation *g = agent_generation_get(w->agent);
	int sb = g->cfg.sched_batch ? ktls_sched_batch() : 0;

	agent_generation_put(g);
	if (sb < 0)
		agent_log(LOG_WARNING, "worker %d: sched_batch: %s", w->index, strerror(-sb));
	if (w->genl.sock)
		drain(w);	/* registers this socket as an agent of the namespace */
	if (w->n_hs)
		upcall_worker_event(w, NULL);	/* requests queued before the agent */
	while (!atomic_load(&w->agent->stopping)) {
		int n = epoll_wait(w->epfd, evs, 64, next_timeout_ms(w));

		if (n < 0 && errno != EINTR) {
			agent_log(LOG_ERR, "worker %d: epoll_wait: %s", w->index, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			enum ev_kind *kind = evs[i].data.ptr;

			switch (*kind) {
			case EV_WAKE: {
				uint64_t v;

				if (read(w->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					agent_log(LOG_WARNING, "worker %d: wake: %s", w->index,
						  strerror(errno));
				if (atomic_exchange(&w->poked, false))
					w->ready = true;	/* a peer saw requests wait */
				break;
			}
			case EV_GENL:
				if (read_events(w))
					w->ready = true;
				if (w->ready)
					drain(w);
				break;
			case EV_UPCALL:
				upcall_worker_event(w, (struct upcall_ns *)kind);
				break;
			case EV_LISTEN:
				worker_conn_accept(w);
				break;
			case EV_CONN:
				worker_conn_read(w, (struct conn *)kind);
				break;
			case EV_JOB:
				if (!((struct job *)kind)->finished)
					worker_job_step(w, (struct job *)kind);
				break;
			}
		}
		expire(w, worker_now(), ETIMEDOUT, "handshake timed out");
		if (w->accept_paused && worker_now() >= w->accept_paused) {
			struct epoll_event ev = {
				.events = EPOLLIN | EPOLLEXCLUSIVE,
				.data.ptr = (void *)&tag_listen,
			};

			if (!epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->agent->listen_fd, &ev))
				w->accept_paused = 0;
			else
				w->accept_paused = worker_now() + 0.25;
		}
		/* Replies dropped on the command socket (an ACCEPT's reply
		 * among them puts its request back), or a READY seen outside
		 * drain(), or an ACCEPT that found no free descriptor: no
		 * event will tell, so look for requests now (the last once a
		 * job has ended or its retry time has come). */
		if (w->accept_retry && (w->job_ended || worker_now() >= w->accept_retry))
			w->ready = true;
		w->job_ended = false;
		if (w->genl.sock && (w->ready || w->genl.dropped)) {
			w->genl.dropped = 0;
			drain(w);
		}
		for (int i = 0; i < w->n_hs; i++) {
			if (w->hs[i].cmd.dropped) {
				w->hs[i].cmd.dropped = 0;
				w->hs[i].ready = true;
			}
			if (w->hs[i].ready) {
				upcall_worker_event(w, NULL);
				break;
			}
		}
		free_dead(w);
	}
	/* Shutting down: tell the requesters rather than leave them waiting. */
	expire(w, 1e300, ESHUTDOWN, "agent shutting down");
	while (w->conns.next != &w->conns)
		worker_conn_close(w, w->conns.next);
	free_dead(w);
	return NULL;
}

int worker_start(struct agent *a, int index, struct worker **out)
{
	struct worker *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	if (!w)
		return -ENOMEM;
	w->agent = a;
	w->index = index;
	/* 20 lines at once, then one every 2 s, per worker and kind */
	w->refusals.burst = w->failures.burst = w->accepts.burst = 20;
	w->refusals.interval = w->failures.interval = w->accepts.interval = 2;
	w->jobs.next = w->jobs.prev = &w->jobs;
	w->conns.next = w->conns.prev = &w->conns;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->epfd < 0 || w->wakefd < 0)
		goto err_errno;
	ev.data.ptr = (void *)&tag_wake;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev))
		goto err_errno;
	if (a->use_module) {
		ret = ktls_genl_open(&w->genl);
		if (ret)
			goto err;
		nl_socket_set_nonblocking(w->genl.sock);
		ktls_genl_set_rcvbuf(&w->genl, 1 << 20);
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = (void *)&tag_genl;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, ktls_genl_fd(a->events), &ev))
			goto err_errno;
	}
	if (a->use_upcall) {
		ret = upcall_worker_open(w);
		if (ret)
			goto err;
	}
	if (a->listen_fd >= 0) {
		/* Every worker waits on the listener; one is woken per connection. */
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.ptr = (void *)&tag_listen;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, a->listen_fd, &ev))
			goto err_errno;
	}
	ret = -pthread_create(&w->thread, NULL, worker_main, w);
	if (ret)
		goto err;
	*out = w;
	return 0;

err_errno:
	ret = -errno;
err:
	if (w->genl.sock)
		ktls_genl_close(&w->genl);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
	free(w);
	return ret;
}

void worker_stop(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->wakefd, &one, sizeof(one)) != sizeof(one))
		agent_log(LOG_WARNING, "worker %d: cannot wake it", w->index);
}

void worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

void worker_free(struct worker *w)
{
	if (w->genl.sock)
		ktls_genl_close(&w->genl);
	close(w->epfd);
	close(w->wakefd);
	free(w);
}

