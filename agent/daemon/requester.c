// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A ktls-agent worker's requesters: connections to the agent's UNIX
 * socket, accepted, read for their requests (each a job) and closed.
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
#include "sockmsg.h"
#include "usock.h"
#include "worker.h"
#include "worker_int.h"

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
		worker_refuse(w, c, m->seq, s.cookie, err);
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
	worker_job_start(w, c, &a, s.cookie, st.st_ino);
}

void worker_conn_close(struct worker *w, struct conn *c)
{
	struct job *j, *next;

	for (j = w->jobs.next; j != &w->jobs; j = next) {
		next = j->next;
		if (j->conn == c) {
			struct tls_result res = { .err = ECANCELED };

			snprintf(res.reason, sizeof(res.reason), "requester hung up");
			j->conn_gone = true;
			worker_job_finish(w, j, &res);
		}
	}
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->prev->next = c->next;
	c->next->prev = c->prev;
	free(c);
}

void worker_conn_read(struct worker *w, struct conn *c)
{
	struct sockmsg_in *m = malloc(sizeof(*m));
	int n = 0;

	/* One message per report of the socket (level-triggered: it is
	 * reported again while more wait), so that one requester cannot
	 * starve the handshakes of this worker, and no read per wakeup ends
	 * in EAGAIN when requests come one at a time. */
	if (m && (n = sockmsg_recv(c->fd, m, 1)) > 0) {
		if (m->cmd == KTLS_OFFLOAD_CMD_SUBMIT) {
			conn_submit(w, c, m);
		} else if (m->cmd == KTLS_OFFLOAD_CMD_CANCEL && !m->err && m->fd < 0) {
			struct job *j = conn_job(w, c, m->seq);
			struct tls_result res = { .err = ECANCELED };

			snprintf(res.reason, sizeof(res.reason), "cancelled by the requester");
			if (j)
				worker_job_finish(w, j, &res);
		} else {
			/* not a command requesters send (or a CANCEL that
			 * carries a descriptor): a broken peer */
			agent_log(LOG_WARNING, "pid %d sent a bad message (command %d): "
				  "disconnecting it", (int)c->pid, m->cmd);
			if (m->fd >= 0)
				sockmsg_close_foreign(m->fd);
			n = 0;
		}
	}
	free(m);
	if (n == 0 || (n < 0 && n != -EAGAIN))
		worker_conn_close(w, c);
}

void worker_conn_accept(struct worker *w)
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
				  w->index, strerror(e), worker_ratelimit_note(missed, note, sizeof(note)));
		/*
		 * Out of descriptors (or memory): the connection stays queued
		 * and the listener readable, so stop watching it for a while
		 * rather than spin; handshakes that end meanwhile free some.
		 */
		if (!w->accept_paused &&
		    !epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->agent->listen_fd, NULL))
			w->accept_paused = worker_now() + 0.25;
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

