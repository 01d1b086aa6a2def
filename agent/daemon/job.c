// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One handshake in a ktls-agent worker: a request from the module or a
 * requester becomes a job (checked against the access rules), is stepped
 * on socket events, and ends with its reply (DONE, or the answer on the
 * UNIX socket) and a log line.
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
#include "addr.h"
#include "broker.h"
#include "ktls_keys.h"
#include "log.h"
#include "sockmsg.h"
#include "upcall.h"
#include "usock.h"
#include "worker.h"
#include "worker_int.h"

static void peer_name(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNSPEC };
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl))
		ss.ss_family = AF_UNSPEC;
	ktls_format_sockaddr((struct sockaddr *)&ss, out, len);
}

/* "; N more not logged" after a line that a rate limit let through. */
const char *worker_ratelimit_note(unsigned long missed, char *out, size_t len)
{
	if (!missed)
		return "";
	snprintf(out, len, " (and %lu more like it not logged)", missed);
	return out;
}

/*
 * nic_offload: at the start, the device the connection's route leaves through
 * (looked up as the kernel will when kTLS is installed) and, for tls12, the
 * narrowed priority where that device offers TLS offload.
 */
static void nic_start(struct job *j, const struct tls_profile *p)
{
	if (p->conf->nic_offload == NIC_OFFLOAD_OFF)
		return;
	j->nic_err = nic_route_of(j->fd, &j->nic);
	if (!j->nic_err && (j->nic.tls_tx || j->nic.tls_rx) &&
	    p->conf->nic_offload == NIC_OFFLOAD_TLS12)
		j->narrowed = tls_handshake_narrow_for_offload(j->h);
}

/* ... and at the end, where kernel TLS went, and why. */
static void nic_report(struct job *j, const struct tls_result *res)
{
	const struct tls_profile *p = tls_handshake_profile(j->h);
	const char *cipher = ktls_cipher_by_type(res->cipher) ?
			     ktls_cipher_by_type(res->cipher)->name : "?";
	bool gcm = res->cipher == TLS_CIPHER_AES_GCM_128 ||
		   res->cipher == TLS_CIPHER_AES_GCM_256;
	const char *dirs = j->nic.tls_tx && j->nic.tls_rx ? "TX and RX" :
			   j->nic.tls_tx ? "TX" : "RX";

	if (!p || p->conf->nic_offload == NIC_OFFLOAD_OFF)
		return;
	if (j->nic_err == -EXDEV) {
		agent_log(LOG_INFO, "request %u from %s: nic_offload: the socket is of another "
			  "network namespace, whose routes the agent does not look up", j->id,
			  j->peer);
	} else if (j->nic_err) {
		agent_log(LOG_INFO, "request %u from %s: nic_offload: no route found (%s); "
			  "kernel TLS decides by itself", j->id, j->peer, strerror(-j->nic_err));
	} else if (!j->nic.tls_tx && !j->nic.tls_rx) {
		agent_log(LOG_DEBUG, "request %u from %s: via %s, which offers no TLS offload: "
			  "software kTLS", j->id, j->peer, j->nic.ifname);
	} else if (res->tls_version == 0x0303 && gcm) {
		agent_log(LOG_INFO, "request %u from %s: TLS 1.2 %s via %s, which offers TLS "
			  "offload (%s): kernel TLS goes to the device unless it refuses%s",
			  j->id, j->peer, cipher, j->nic.ifname, dirs,
			  j->narrowed ? " (nic_offload = tls12 negotiated it)" : "");
	} else {
		agent_log(LOG_INFO, "request %u from %s: TLS 1.%d %s via %s, which offers TLS "
			  "offload: stays in software kTLS (this kernel offloads TLS 1.2 with "
			  "AES-GCM only%s)", j->id, j->peer, res->tls_version == 0x0304 ? 3 : 2,
			  cipher, j->nic.ifname,
			  p->conf->nic_offload == NIC_OFFLOAD_TLS12 ?
			  "; the profile allows no TLS 1.2 AES-GCM" :
			  "; nic_offload = tls12 would negotiate it");
	}
}

void worker_job_finish(struct worker *w, struct job *j, struct tls_result *res)
{
	struct ktls_result_msg r = { .id = j->id, .status = (uint32_t)res->err };
	unsigned long missed;
	char note[64];
	int ret;

	snprintf(r.sni, sizeof(r.sni), "%s", res->sni);
	if (res->err)
		snprintf(r.reason, sizeof(r.reason), "%s", res->reason);

	epoll_ctl(w->epfd, EPOLL_CTL_DEL, j->fd, NULL);
	if (j->up) {
		upcall_job_finish(w, j, res);
		goto unlink;
	}
	if (!res->err) {
		r.tls_version = res->tls_version;
		r.cipher = res->cipher;
		r.resumed = res->resumed;
		snprintf(r.alpn, sizeof(r.alpn), "%s", res->alpn);
		snprintf(r.peer_identity, sizeof(r.peer_identity), "%s", res->peer_identity);
		char alpn[4 * sizeof(res->alpn)];

		agent_log(LOG_DEBUG, "worker %d: request %u from %s: TLS 1.%d, cipher %u%s%s%s",
			  w->index, j->id, j->peer, res->tls_version == 0x0304 ? 3 : 2, res->cipher,
			  res->resumed ? ", resumed" : "", res->alpn[0] ? ", ALPN " : "",
			  agent_escape(res->alpn, alpn, sizeof(alpn)));
		if (j->h)
			nic_report(j, res);
	} else if (!j->refused && agent_ratelimit(&w->failures, &missed)) {
		agent_log(LOG_NOTICE, "request %u: handshake with %s failed: %s (%s)%s",
			  j->id, j->peer, res->reason[0] ? res->reason : strerror(res->err),
			  strerror(res->err), worker_ratelimit_note(missed, note, sizeof(note)));
	}
	/* The socket goes first: the module hands a listener's connection to
	 * its application only once the agent holds no descriptor of it. */
	tls_handshake_free(j->h);
	j->h = NULL;
	sockmsg_close_foreign(j->fd);
	if (!j->conn) {
		/* the module path only: the secrets never go to a requester */
		if (!res->err && res->secret_len) {
			memcpy(r.tx_secret, res->tx_secret, res->secret_len);
			memcpy(r.rx_secret, res->rx_secret, res->secret_len);
			r.secret_len = res->secret_len;
			r.key_update_after = res->key_update_after;
		}
		ret = ktls_broker_done(&w->genl, &r);
		explicit_bzero(r.tx_secret, sizeof(r.tx_secret));
		explicit_bzero(r.rx_secret, sizeof(r.rx_secret));
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
unlink:
	explicit_bzero(res->tx_secret, sizeof(res->tx_secret));
	explicit_bzero(res->rx_secret, sizeof(res->rx_secret));
	if (j->conn)
		j->conn->n_jobs--;
	agent_generation_put(j->gen);
	j->prev->next = j->next;
	j->next->prev = j->prev;
	w->n_jobs--;
	w->job_ended = true;	/* a descriptor is free again */
	/* Freed after the current batch of events, which may still name it. */
	j->finished = true;
	j->next = w->dead;
	w->dead = j;
}

void worker_job_step(struct worker *w, struct job *j)
{
	struct epoll_event ev = { .data.ptr = j };
	struct tls_result res = { 0 };
	bool want_write = false;

	if (tls_handshake_step(j->h, &want_write, &res)) {
		ev.events = want_write ? EPOLLOUT : EPOLLIN;
		/* level-triggered: only a change of direction needs a call */
		if (ev.events != j->events && !epoll_ctl(w->epfd, EPOLL_CTL_MOD, j->fd, &ev))
			j->events = ev.events;
		return;
	}
	worker_job_finish(w, j, &res);
}

/* Answers a request that never became a job. */
void worker_refuse(struct worker *w, struct conn *c, uint32_t id, uint64_t cookie, int err)
{
	struct ktls_result_msg r = { .id = id, .status = (uint32_t)err, .cookie = cookie };

	if (!c)
		ktls_broker_done(&w->genl, &r);
	else if (sockmsg_send_complete(c->fd, id, &r, 1))
		shutdown(c->fd, SHUT_RDWR);
}

/* Takes a started job (j->h set, or @res saying why not) into the epoll
 * loop and its first step, or finishes it with @res. */
void worker_job_run(struct worker *w, struct job *j, struct tls_result *res)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = j };

	if (!j->h || epoll_ctl(w->epfd, EPOLL_CTL_ADD, j->fd, &ev) < 0) {
		if (!res->err) {
			res->err = errno;
			snprintf(res->reason, sizeof(res->reason), "epoll: %s", strerror(errno));
		}
		worker_job_finish(w, j, res);
		return;
	}
	j->events = EPOLLIN;
	worker_job_step(w, j);
}

/* A job on the worker's list, holding a configuration generation; NULL
 * when out of memory. */
struct job *worker_job_new(struct worker *w, struct conn *c, uint32_t id, int fd)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->kind = EV_JOB;
	j->id = id;
	j->fd = fd;
	j->conn = c;
	j->gen = agent_generation_get(w->agent);
	peer_name(fd, j->peer, sizeof(j->peer));
	j->next = w->jobs.next;
	j->prev = &w->jobs;
	w->jobs.next->prev = j;
	w->jobs.next = j;
	w->n_jobs++;
	if (c)
		c->n_jobs++;
	return j;
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
void worker_job_start(struct worker *w, struct conn *c, const struct ktls_accepted *a,
		      uint64_t cookie, ino_t ino)
{
	struct job *j = worker_job_new(w, c, a->id, a->fd);
	const struct tls_profile *p;
	struct tls_result res = { 0 };
	struct agent_requester req = { .pid = (pid_t)a->pid, .uid = a->uid, .gid = a->gid };
	unsigned int role = a->role == KTLS_OFFLOAD_ROLE_CLIENT ? AGENT_ROLE_CLIENT :
			    AGENT_ROLE_SERVER;
	char name[4 * sizeof(a->profile)], why[256], comm[128];
	unsigned int ms;

	if (!j) {
		worker_refuse(w, c, a->id, cookie, ENOMEM);
		sockmsg_close_foreign(a->fd);
		return;
	}
	j->cookie = cookie;
	j->ino = ino;

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
				  worker_ratelimit_note(missed, note, sizeof(note)));
		}
		snprintf(res.reason, sizeof(res.reason), "%s", why);
		j->refused = true;
		worker_job_finish(w, j, &res);
		return;
	}
	ms = a->timeout_ms < p->conf->handshake_timeout_ms ? a->timeout_ms :
		p->conf->handshake_timeout_ms;
	j->deadline = worker_now() + ms / 1000.0;
	j->h = tls_handshake_new(p, a->fd,
				 role == AGENT_ROLE_CLIENT ? TLS_ROLE_CLIENT : TLS_ROLE_SERVER,
				 a->peername, a->alpn, &res);
	if (j->h)
		nic_start(j, p);
	worker_job_run(w, j, &res);
}

