// SPDX-License-Identifier: GPL-2.0 OR MIT
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
#include "sockmsg.h"
#include "usock.h"
#include "worker.h"

/* What an epoll event's data.ptr points at: each starts with its kind. */
enum ev_kind { EV_GENL, EV_WAKE, EV_LISTEN, EV_CONN, EV_JOB };

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
	struct tls_handshake *h;
	struct agent_generation *gen;
	double deadline;
	char peer[64];
};

struct worker {
	struct agent *agent;
	int index;
	pthread_t thread;
	struct ktls_genl genl;	/* commands; .sock NULL: no module */
	/* the "agents" group, on a socket of its own: READYs never crowd
	 * out the replies to ACCEPT and DONE (nor they the READYs) */
	struct ktls_genl mcast;
	int epfd;
	int wakefd;
	bool ready;		/* a READY arrived */
	struct job jobs;	/* list head of handshakes in flight */
	int n_jobs;
	struct conn conns;	/* list head of UNIX-socket requesters */
	struct job *dead;	/* finished jobs, freed after each batch */
	/* what requesters and peers can make it log */
	struct agent_ratelimit refusals, failures, accepts;
	double accept_paused;	/* out of descriptors: accept again then */
};

static const enum ev_kind tag_genl = EV_GENL, tag_wake = EV_WAKE, tag_listen = EV_LISTEN;

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
	struct sockaddr_storage ss = { .ss_family = AF_UNSPEC };
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

/* "; N more not logged" after a line that a rate limit let through. */
static const char *ratelimit_note(unsigned long missed, char *out, size_t len)
{
	if (!missed)
		return "";
	snprintf(out, len, " (and %lu more like it not logged)", missed);
	return out;
}

static void job_finish(struct worker *w, struct job *j, struct tls_result *res)
{
	struct ktls_result_msg r = { .id = j->id, .status = (uint32_t)res->err };
	unsigned long missed;
	char note[64];
	int ret;

	snprintf(r.sni, sizeof(r.sni), "%s", res->sni);
	if (res->err)
		snprintf(r.reason, sizeof(r.reason), "%s", res->reason);

	epoll_ctl(w->epfd, EPOLL_CTL_DEL, j->fd, NULL);
	if (!res->err) {
		r.tls_version = res->tls_version;
		r.cipher = res->cipher;
		r.resumed = res->resumed;
		snprintf(r.alpn, sizeof(r.alpn), "%s", res->alpn);
		snprintf(r.peer_identity, sizeof(r.peer_identity), "%s", res->peer_identity);
		char alpn[4 * sizeof(res->alpn)];

		agent_log(LOG_DEBUG, "request %u from %s: TLS 1.%d, cipher %u%s%s%s",
			  j->id, j->peer, res->tls_version == 0x0304 ? 3 : 2, res->cipher,
			  res->resumed ? ", resumed" : "", res->alpn[0] ? ", ALPN " : "",
			  agent_escape(res->alpn, alpn, sizeof(alpn)));
	} else if (!j->refused && agent_ratelimit(&w->failures, &missed)) {
		agent_log(LOG_NOTICE, "request %u: handshake with %s failed: %s (%s)%s",
			  j->id, j->peer, res->reason[0] ? res->reason : strerror(res->err),
			  strerror(res->err), ratelimit_note(missed, note, sizeof(note)));
	}
	/* The socket goes first: the module hands a listener's connection to
	 * its application only once the agent holds no descriptor of it. */
	tls_handshake_free(j->h);
	j->h = NULL;
	sockmsg_close_foreign(j->fd);
	if (!j->conn) {
		ret = ktls_broker_done(&w->genl, &r);
		if (ret)
			agent_log(ret == -ENOENT ? LOG_INFO : LOG_WARNING,
				  "request %u: the module refused DONE: %s", j->id,
				  strerror(-ret));
	} else if (!j->conn_gone) {
		r.cookie = j->cookie;
		ret = sockmsg_send_complete(j->conn->fd, j->id, &r, 1);
		if (ret) {
			/* A requester that does not read is disconnected (its
			 * other requests end when the hangup is seen). */
			agent_log(LOG_WARNING, "socket request %u of pid %d: cannot send its "
				  "result: %s", j->id, (int)j->conn->pid, strerror(-ret));
			shutdown(j->conn->fd, SHUT_RDWR);
		}
	}
	if (j->conn)
		j->conn->n_jobs--;
	agent_generation_put(j->gen);
	j->prev->next = j->next;
	j->next->prev = j->prev;
	w->n_jobs--;
	/* Freed after the current batch of events, which may still name it. */
	j->finished = true;
	j->next = w->dead;
	w->dead = j;
}

static void job_step(struct worker *w, struct job *j)
{
	struct epoll_event ev = { .data.ptr = j };
	struct tls_result res = { 0 };
	bool want_write = false;

	if (tls_handshake_step(j->h, &want_write, &res)) {
		ev.events = want_write ? EPOLLOUT : EPOLLIN;
		epoll_ctl(w->epfd, EPOLL_CTL_MOD, j->fd, &ev);
		return;
	}
	job_finish(w, j, &res);
}

/* Answers a request that never became a job. */
static void refuse(struct worker *w, struct conn *c, uint32_t id, uint64_t cookie, int err)
{
	struct ktls_result_msg r = { .id = id, .status = (uint32_t)err, .cookie = cookie };

	if (!c)
		ktls_broker_done(&w->genl, &r);
	else if (sockmsg_send_complete(c->fd, id, &r, 1))
		shutdown(c->fd, SHUT_RDWR);
}

/* The requester's command name, escaped, for the log ("?" if gone). */
static void requester_comm(pid_t pid, char *out, size_t len)
{
	char path[64], comm[32] = "?";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = pid > 0 ? fopen(path, "re") : NULL;
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			snprintf(comm, sizeof(comm), "?");
		comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	agent_escape(comm, out, len);
}

/* Starts the handshake of request @a, from the module (@c NULL) or from
 * UNIX-socket connection @c.  Takes @a->fd. */
static void job_start(struct worker *w, struct conn *c, const struct ktls_accepted *a,
		      uint64_t cookie, ino_t ino)
{
	struct job *j = calloc(1, sizeof(*j));
	struct epoll_event ev = { .events = EPOLLIN };
	const struct tls_profile *p;
	struct tls_result res = { 0 };
	struct agent_requester req = { .pid = (pid_t)a->pid, .uid = a->uid, .gid = a->gid };
	unsigned int role = a->role == KTLS_OFFLOAD_ROLE_CLIENT ? AGENT_ROLE_CLIENT :
			    AGENT_ROLE_SERVER;
	char name[4 * sizeof(a->profile)], why[256], comm[128];
	unsigned int ms;

	if (!j) {
		refuse(w, c, a->id, cookie, ENOMEM);
		sockmsg_close_foreign(a->fd);
		return;
	}
	j->kind = EV_JOB;
	j->id = a->id;
	j->fd = a->fd;
	j->conn = c;
	j->cookie = cookie;
	j->ino = ino;
	j->gen = agent_generation_get(w->agent);
	peer_name(a->fd, j->peer, sizeof(j->peer));
	j->next = w->jobs.next;
	j->prev = &w->jobs;
	w->jobs.next->prev = j;
	w->jobs.next = j;
	w->n_jobs++;
	if (c)
		c->n_jobs++;

	p = tls_runtime_profile(&j->gen->rt, a->profile);
	/* Who may use these keys, before a byte of the handshake.  Only root
	 * learns that a profile does not exist (ENOENT): to others a missing
	 * profile and a forbidden one look the same. */
	if (!p) {
		res.err = req.uid ? EACCES : ENOENT;
		snprintf(why, sizeof(why), "no profile '%s'",
			 agent_escape(a->profile[0] ? a->profile : "default", name, sizeof(name)));
	} else {
		res.err = agent_access_check(p->conf, &req, role, a->fd, why, sizeof(why));
	}
	if (res.err) {
		unsigned long missed;
		char note[64];

		if (agent_ratelimit(&w->refusals, &missed)) {
			requester_comm(req.pid, comm, sizeof(comm));
			agent_log(LOG_NOTICE, "request %u from pid %d (%s) uid %u gid %u%s "
				  "refused, %s role, peer %s: %s%s", a->id, (int)req.pid, comm,
				  (unsigned int)req.uid, (unsigned int)req.gid,
				  c ? " via the agent socket" : "",
				  role == AGENT_ROLE_CLIENT ? "client" : "server", j->peer, why,
				  ratelimit_note(missed, note, sizeof(note)));
		}
		snprintf(res.reason, sizeof(res.reason), "%s", why);
		j->refused = true;
		job_finish(w, j, &res);
		return;
	}
	ms = a->timeout_ms < p->conf->handshake_timeout_ms ? a->timeout_ms :
		p->conf->handshake_timeout_ms;
	j->deadline = now() + ms / 1000.0;
	j->h = tls_handshake_new(p, a->fd,
				 role == AGENT_ROLE_CLIENT ? TLS_ROLE_CLIENT : TLS_ROLE_SERVER,
				 a->peername, a->alpn, &res);
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

static struct job *conn_job(struct worker *w, struct conn *c, uint32_t seq)
{
	for (struct job *j = w->jobs.next; j != &w->jobs; j = j->next)
		if (j->conn == c && j->id == seq)
			return j;
	return NULL;
}

/* A SUBMIT over the UNIX socket: the module's checks, then a job. */
static void conn_submit(struct worker *w, struct conn *c, struct sockmsg_in *m)
{
	struct ktls_submit_args s;
	struct ktls_accepted a = { .id = m->seq };
	struct stat st = { 0 };
	int err;

	err = sockmsg_parse_submit(m, &s);
	if (!err && conn_job(w, c, m->seq))
		err = EEXIST;
	if (!err)
		err = usock_check_socket(s.fd, w->agent->listen_fd);
	if (!err && c->n_jobs >= KTLS_AGENT_SOCKET_MAX_PENDING)
		err = EAGAIN;
	if (!err && !fstat(s.fd, &st)) {
		for (struct job *j = w->jobs.next; j != &w->jobs; j = j->next)
			if (j->ino == st.st_ino)
				err = EBUSY;
	}
	if (err) {
		agent_log(LOG_INFO, "socket request %u of pid %d refused: %s", m->seq,
			  (int)c->pid, strerror(err));
		refuse(w, c, m->seq, s.cookie, err);
		if (s.fd >= 0)
			sockmsg_close_foreign(s.fd);
		return;
	}
	a.fd = s.fd;
	a.role = s.role;
	a.timeout_ms = s.timeout_ms;
	a.pid = (uint32_t)c->pid;
	a.uid = c->uid;
	a.gid = c->gid;
	snprintf(a.profile, sizeof(a.profile), "%s", s.profile ? s.profile : "");
	snprintf(a.peername, sizeof(a.peername), "%s", s.peername ? s.peername : "");
	snprintf(a.alpn, sizeof(a.alpn), "%s", s.alpn ? s.alpn : "");
	job_start(w, c, &a, s.cookie, st.st_ino);
}

static void conn_close(struct worker *w, struct conn *c)
{
	struct job *j, *next;

	for (j = w->jobs.next; j != &w->jobs; j = next) {
		next = j->next;
		if (j->conn == c) {
			struct tls_result res = { .err = ECANCELED };

			snprintf(res.reason, sizeof(res.reason), "requester hung up");
			j->conn_gone = true;
			job_finish(w, j, &res);
		}
	}
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	free(c);
}

static void conn_read(struct worker *w, struct conn *c)
{
	struct sockmsg_in *m = malloc(sizeof(*m));
	int n = 0;

	/* A bounded batch per wakeup, so that one requester cannot starve
	 * the handshakes of this worker. */
	for (int i = 0; m && i < 64; i++) {
		n = sockmsg_recv(c->fd, m, 1);
		if (n <= 0)
			break;
		if (m->cmd == KTLS_OFFLOAD_CMD_SUBMIT) {
			conn_submit(w, c, m);
		} else if (m->cmd == KTLS_OFFLOAD_CMD_CANCEL && !m->err) {
			struct job *j = conn_job(w, c, m->seq);
			struct tls_result res = { .err = ECANCELED };

			snprintf(res.reason, sizeof(res.reason), "cancelled by the requester");
			if (j)
				job_finish(w, j, &res);
		} else {
			/* not a command requesters send: a broken peer */
			agent_log(LOG_WARNING, "pid %d sent a bad message (command %d): "
				  "disconnecting it", (int)c->pid, m->cmd);
			if (m->fd >= 0)
				sockmsg_close_foreign(m->fd);
			n = 0;
			break;
		}
	}
	free(m);
	if (n == 0 || (n < 0 && n != -EAGAIN))
		conn_close(w, c);
}

static void conn_accept(struct worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int sndbuf = 1 << 20;
	struct conn *c;
	int fd;

	fd = accept4(w->agent->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		unsigned long missed;
		char note[64];

		if (e == EAGAIN || e == ECONNABORTED || e == EINTR)
			return;
		if (agent_ratelimit(&w->accepts, &missed))
			agent_log(LOG_WARNING, "worker %d: accept on the UNIX socket: %s%s",
				  w->index, strerror(e), ratelimit_note(missed, note, sizeof(note)));
		/*
		 * Out of descriptors (or memory): the connection stays queued
		 * and the listener readable, so stop watching it for a while
		 * rather than spin; handshakes that end meanwhile free some.
		 */
		if (!w->accept_paused &&
		    !epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->agent->listen_fd, NULL))
			w->accept_paused = now() + 0.25;
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		free(c);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	c->kind = EV_CONN;
	c->fd = fd;
	c->pid = cred.pid;
	c->uid = cred.uid;
	c->gid = cred.gid;
	ev.data.ptr = c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		free(c);
		close(fd);
		return;
	}
	c->next = w->conns.next;
	c->prev = &w->conns;
	w->conns.next->prev = c;
	w->conns.next = c;
	agent_log(LOG_DEBUG, "worker %d: requester pid %d uid %u connected", w->index,
		  (int)cred.pid, (unsigned int)cred.uid);
}

static void on_event(int cmd, struct nlattr **attrs, void *arg)
{
	struct worker *w = arg;

	if (cmd == KTLS_OFFLOAD_CMD_READY)
		w->ready = true;
}

/*
 * Takes every pending request: ACCEPT until EAGAIN.  The module sends the
 * next READY only once an ACCEPT has found the queue empty, so a drain must
 * not stop early.  An ACCEPT whose reply was dropped (-ENOBUFS) put its
 * request back: look again.
 */
static void drain(struct worker *w)
{
	struct ktls_accepted a;
	int ret = 0;

	do {
		w->ready = false;
		while (!atomic_load(&w->agent->stopping) &&
		       (ret = ktls_broker_accept(&w->genl, &a)) == 0)
			job_start(w, NULL, &a, 0, 0);
		if (ret == -ENOBUFS)
			w->ready = true;
		else if (ret != -EAGAIN && ret != 0)
			agent_log(LOG_WARNING, "worker %d: ACCEPT failed: %s", w->index,
				  strerror(-ret));
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
			job_finish(w, j, &res);
		}
	}
}

static int next_timeout_ms(struct worker *w)
{
	double first = w->accept_paused, t = now();
	struct job *j;

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

	if (w->genl.sock)
		drain(w);	/* registers this socket as an agent of the namespace */
	while (!atomic_load(&w->agent->stopping)) {
		int n = epoll_wait(w->epfd, evs, 64, next_timeout_ms(w));

		if (n < 0 && errno != EINTR) {
			agent_log(LOG_ERR, "worker %d: epoll_wait: %s", w->index, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			enum ev_kind *kind = evs[i].data.ptr;
			int ret;

			switch (*kind) {
			case EV_WAKE:
				break;
			case EV_GENL:
				ret = ktls_genl_read_events(&w->mcast);
				if (ret == -ENOBUFS)
					w->ready = true;	/* READYs were dropped: look */
				else if (ret && ret != -EAGAIN)
					agent_log(LOG_WARNING, "worker %d: netlink: %s",
						  w->index, strerror(-ret));
				if (w->ready)
					drain(w);
				break;
			case EV_LISTEN:
				conn_accept(w);
				break;
			case EV_CONN:
				conn_read(w, (struct conn *)kind);
				break;
			case EV_JOB:
				if (!((struct job *)kind)->finished)
					job_step(w, (struct job *)kind);
				break;
			}
		}
		expire(w, now(), ETIMEDOUT, "handshake timed out");
		if (w->accept_paused && now() >= w->accept_paused) {
			struct epoll_event ev = {
				.events = EPOLLIN | EPOLLEXCLUSIVE,
				.data.ptr = (void *)&tag_listen,
			};

			if (!epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->agent->listen_fd, &ev))
				w->accept_paused = 0;
			else
				w->accept_paused = now() + 0.25;
		}
		/* Replies dropped on the command socket (an ACCEPT's reply
		 * among them puts its request back), or a READY seen outside
		 * drain(): no event will tell, so look for requests now. */
		if (w->genl.sock && (w->ready || w->genl.dropped)) {
			w->genl.dropped = 0;
			drain(w);
		}
		free_dead(w);
	}
	/* Shutting down: tell the requesters rather than leave them waiting. */
	expire(w, 1e300, ESHUTDOWN, "agent shutting down");
	while (w->conns.next != &w->conns)
		conn_close(w, w->conns.next);
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
		if (!ret)
			ret = ktls_genl_open(&w->mcast);
		if (!ret)
			ret = ktls_genl_join(&w->mcast, KTLS_OFFLOAD_MCGRP_AGENTS);
		if (ret)
			goto err;
		w->mcast.event_fn = on_event;
		w->mcast.event_arg = w;
		w->mcast.event_policy = ktls_result_policy;
		nl_socket_set_nonblocking(w->mcast.sock);
		nl_socket_set_nonblocking(w->genl.sock);
		ktls_genl_set_rcvbuf(&w->genl, 1 << 20);
		ev.data.ptr = (void *)&tag_genl;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, ktls_genl_fd(&w->mcast), &ev))
			goto err_errno;
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
	if (w->mcast.sock)
		ktls_genl_close(&w->mcast);
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
	if (w->genl.sock)
		ktls_genl_close(&w->genl);
	if (w->mcast.sock)
		ktls_genl_close(&w->mcast);
	close(w->epfd);
	close(w->wakefd);
	free(w);
}
