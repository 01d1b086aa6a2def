// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/ktls_offload.h>

#include "broker.h"
#include "log.h"
#include "worker.h"

struct job {
	struct job *next, *prev;
	uint32_t id;
	int fd;
	struct tls_handshake *h;
	struct agent_generation *gen;
	double deadline;
	char peer[64];
};

struct worker {
	struct agent *agent;
	int index;
	pthread_t thread;
	struct ktls_genl genl;
	int epfd;
	int wakefd;
	bool ready;		/* a READY arrived */
	struct job jobs;	/* list head of handshakes in flight */
	int n_jobs;
};

/* epoll tags for the two fds that are not handshakes */
static char tag_genl, tag_wake;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

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

static void peer_name(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
			port = ntohs(sin->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
			port = ntohs(sin6->sin6_port);
		}
	}
	snprintf(out, len, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

static void job_finish(struct worker *w, struct job *j, struct tls_result *res)
{
	struct ktls_result_msg r = { .id = j->id, .status = (uint32_t)res->err };
	int ret;

	epoll_ctl(w->epfd, EPOLL_CTL_DEL, j->fd, NULL);
	if (!res->err) {
		r.tls_version = res->tls_version;
		r.cipher = res->cipher;
		r.resumed = res->resumed;
		snprintf(r.alpn, sizeof(r.alpn), "%s", res->alpn);
		snprintf(r.peer_identity, sizeof(r.peer_identity), "%s", res->peer_identity);
		agent_log(LOG_DEBUG, "request %u from %s: TLS 1.%d, cipher %u%s%s%s",
			  j->id, j->peer, res->tls_version == 0x0304 ? 3 : 2, res->cipher,
			  res->resumed ? ", resumed" : "", res->alpn[0] ? ", ALPN " : "",
			  res->alpn);
	} else {
		agent_log(LOG_NOTICE, "request %u: handshake with %s failed: %s (%s)",
			  j->id, j->peer, res->reason[0] ? res->reason : strerror(res->err),
			  strerror(res->err));
	}
	ret = ktls_broker_done(&w->genl, &r);
	if (ret)
		agent_log(ret == -ENOENT ? LOG_INFO : LOG_WARNING,
			  "request %u: the module refused DONE: %s", j->id, strerror(-ret));
	tls_handshake_free(j->h);
	close(j->fd);
	agent_generation_put(j->gen);
	j->prev->next = j->next;
	j->next->prev = j->prev;
	w->n_jobs--;
	free(j);
}

static void job_step(struct worker *w, struct job *j)
{
	struct epoll_event ev = { .data.ptr = j };
	struct tls_result res;
	bool want_write = false;

	if (tls_handshake_step(j->h, &want_write, &res)) {
		ev.events = want_write ? EPOLLOUT : EPOLLIN;
		epoll_ctl(w->epfd, EPOLL_CTL_MOD, j->fd, &ev);
		return;
	}
	job_finish(w, j, &res);
}

static void job_start(struct worker *w, struct ktls_accepted *a)
{
	struct job *j = calloc(1, sizeof(*j));
	struct epoll_event ev = { .events = EPOLLIN };
	const struct tls_profile *p;
	struct tls_result res = { 0 };
	unsigned int ms;

	if (!j) {
		struct ktls_result_msg r = { .id = a->id, .status = ENOMEM };

		ktls_broker_done(&w->genl, &r);
		close(a->fd);
		return;
	}
	j->id = a->id;
	j->fd = a->fd;
	j->gen = agent_generation_get(w->agent);
	peer_name(a->fd, j->peer, sizeof(j->peer));
	j->next = w->jobs.next;
	j->prev = &w->jobs;
	w->jobs.next->prev = j;
	w->jobs.next = j;
	w->n_jobs++;

	p = tls_runtime_profile(&j->gen->rt, a->profile);
	if (!p) {
		res.err = ENOENT;
		snprintf(res.reason, sizeof(res.reason), "no profile '%s'",
			 a->profile[0] ? a->profile : "default");
		job_finish(w, j, &res);
		return;
	}
	ms = a->timeout_ms < p->conf->handshake_timeout_ms ? a->timeout_ms :
		p->conf->handshake_timeout_ms;
	j->deadline = now() + ms / 1000.0;
	j->h = tls_handshake_new(p, a->fd,
				 a->role == KTLS_OFFLOAD_ROLE_CLIENT ? TLS_ROLE_CLIENT :
				 TLS_ROLE_SERVER, a->peername, a->alpn, &res);
	ev.data.ptr = j;
	if (!j->h || epoll_ctl(w->epfd, EPOLL_CTL_ADD, a->fd, &ev) < 0) {
		if (!res.err) {
			res.err = errno;
			snprintf(res.reason, sizeof(res.reason), "epoll: %s", strerror(errno));
		}
		job_finish(w, j, &res);
		return;
	}
	job_step(w, j);
}

static void on_event(int cmd, struct nlattr **attrs, void *arg)
{
	struct worker *w = arg;

	if (cmd == KTLS_OFFLOAD_CMD_READY)
		w->ready = true;
}

/* Takes every pending request; READYs read meanwhile mean: look again. */
static void drain(struct worker *w)
{
	struct ktls_accepted a;
	int ret = 0;

	do {
		w->ready = false;
		while (!atomic_load(&w->agent->stopping) &&
		       (ret = ktls_broker_accept(&w->genl, &a)) == 0)
			job_start(w, &a);
		if (ret != -EAGAIN && ret != 0)
			agent_log(LOG_WARNING, "worker %d: ACCEPT failed: %s", w->index,
				  strerror(-ret));
	} while (w->ready && !atomic_load(&w->agent->stopping));
}

static void expire(struct worker *w, double t, int err, const char *why)
{
	struct job *j, *next;

	for (j = w->jobs.next; j != &w->jobs; j = next) {
		next = j->next;
		if (j->deadline <= t) {
			struct tls_result res = { .err = err };

			snprintf(res.reason, sizeof(res.reason), "%s", why);
			job_finish(w, j, &res);
		}
	}
}

static int next_timeout_ms(struct worker *w)
{
	double first = 0, t = now();
	struct job *j;

	for (j = w->jobs.next; j != &w->jobs; j = j->next)
		if (!first || j->deadline < first)
			first = j->deadline;
	if (!first)
		return -1;
	return first <= t ? 0 : (int)((first - t) * 1000) + 1;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];

	drain(w);	/* registers this socket as an agent of the namespace */
	while (!atomic_load(&w->agent->stopping)) {
		int n = epoll_wait(w->epfd, evs, 64, next_timeout_ms(w));

		if (n < 0 && errno != EINTR) {
			agent_log(LOG_ERR, "worker %d: epoll_wait: %s", w->index, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &tag_wake)
				break;
			if (evs[i].data.ptr == &tag_genl) {
				int ret = ktls_genl_read_events(&w->genl);

				if (ret && ret != -EAGAIN)
					agent_log(LOG_WARNING, "worker %d: netlink: %s",
						  w->index, strerror(-ret));
				if (w->ready)
					drain(w);
				continue;
			}
			job_step(w, evs[i].data.ptr);
		}
		expire(w, now(), ETIMEDOUT, "handshake timed out");
	}
	/* Shutting down: tell the requesters rather than leave them waiting. */
	expire(w, 1e300, ESHUTDOWN, "agent shutting down");
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
	w->jobs.next = w->jobs.prev = &w->jobs;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ret = ktls_genl_open(&w->genl);
	if (ret)
		goto err;
	ret = ktls_genl_join(&w->genl, KTLS_OFFLOAD_MCGRP_AGENTS);
	if (ret)
		goto err_genl;
	w->genl.event_fn = on_event;
	w->genl.event_arg = w;
	nl_socket_set_nonblocking(w->genl.sock);
	ev.data.ptr = &tag_genl;
	if (w->epfd < 0 || w->wakefd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, ktls_genl_fd(&w->genl), &ev))
		goto err_genl_errno;
	ev.data.ptr = &tag_wake;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev))
		goto err_genl_errno;
	ret = -pthread_create(&w->thread, NULL, worker_main, w);
	if (ret)
		goto err_genl;
	*out = w;
	return 0;

err_genl_errno:
	ret = -errno;
err_genl:
	ktls_genl_close(&w->genl);
err:
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
	ktls_genl_close(&w->genl);
	close(w->epfd);
	close(w->wakefd);
	free(w);
}
