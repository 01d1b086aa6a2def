// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libktls (<ktls-offload/ktls.h>): requests to ktls-agent through the
 * module (generic netlink, broker.c) or the agent's UNIX socket (sockmsg.c).
 *
 * Completion: ktls_pollfd() is an epoll descriptor of the context's own,
 * holding the module's or the agent's socket and an eventfd that is
 * readable exactly while results wait in the context's queue, so that
 * results any call fetched (a submit, a cancel, a blocking handshake)
 * make it readable as well as messages not read yet.
 *
 * About 680 lines, over the tree's 600: both paths behind one context, with
 * its queue, its recovery from lost notifications and the blocking calls
 * built on the asynchronous ones.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/ktls_offload.h>
#include <ktls-offload/agent-socket.h>
#include <ktls-offload/ktls.h>

#include "broker.h"
#include "genl.h"
#include "ktls_keys.h"
#include "sockmsg.h"

#define API __attribute__((visibility("default")))

/* A submitted request whose result has not been collected. */
struct pending {
	uint32_t id;
	int fd;		/* -1: a free slot; -2: a deleted one */
	uint64_t cookie;
};

struct done {
	struct done *next;
	struct ktls_result res;
};

struct ktls_ctx {
	enum ktls_path path;
	struct ktls_genl genl;	/* KTLS_PATH_MODULE */
	int sock;		/* KTLS_PATH_SOCKET */
	int epfd;		/* ktls_pollfd(): the socket and @readyfd */
	int readyfd;		/* an eventfd, readable while @head is not empty */
	bool ready;		/* ... which it is now */
	bool auto_path;		/* opened with KTLS_PATH_AUTO */
	char *socket_path;	/* ... and the agent's socket it was given, or NULL */
	uint32_t next_seq;
	bool lost;		/* a COMPLETE was dropped (ENOBUFS): COLLECT */
	bool broken;		/* the agent's socket hung up */
	struct pending *tab;	/* open addressing on id */
	unsigned int cap, used, n;
	struct done *head, **tail;
	/* COMPLETEs read during a SUBMIT call for ids not (yet) in the table:
	 * an agent on another CPU can finish a request before the module's
	 * reply to its SUBMIT is queued, and the reply names the id */
	bool submitting;
	struct ktls_result_msg early[4];	/* the newest few */
	unsigned int n_early;
};

/* --- the table of pending requests ------------------------------------ */

static struct pending *tab_slot(struct ktls_ctx *c, uint32_t id, bool insert)
{
	unsigned int mask = c->cap - 1, i = (id * 2654435761u) & mask;
	struct pending *tomb = NULL;

	for (unsigned int k = 0; k < c->cap; k++, i = (i + 1) & mask) {
		struct pending *p = &c->tab[i];

		if (p->fd == -1)
			return insert && tomb ? tomb : (insert ? p : NULL);
		if (p->fd == -2) {
			if (!tomb)
				tomb = p;
			continue;
		}
		if (p->id == id)
			return p;
	}
	return insert ? tomb : NULL;
}

static int tab_add(struct ktls_ctx *c, uint32_t id, int fd, uint64_t cookie)
{
	struct pending *p;

	if ((c->used + 1) * 2 > c->cap) {
		struct pending *old = c->tab;
		unsigned int oldcap = c->cap;

		c->cap = c->n * 4 > 64 ? c->n * 4 : 64;
		while (c->cap & (c->cap - 1))
			c->cap &= c->cap - 1;
		c->cap *= 2;
		c->tab = malloc(c->cap * sizeof(*c->tab));
		if (!c->tab) {
			c->tab = old;
			c->cap = oldcap;
			return -ENOMEM;
		}
		for (unsigned int i = 0; i < c->cap; i++)
			c->tab[i].fd = -1;
		c->used = c->n;
		for (unsigned int i = 0; i < oldcap; i++)
			if (old[i].fd >= 0)
				*tab_slot(c, old[i].id, true) = old[i];
		free(old);
	}
	p = tab_slot(c, id, true);
	if (p->fd == -1)
		c->used++;
	p->id = id;
	p->fd = fd;
	p->cookie = cookie;
	c->n++;
	return 0;
}

/* Forgets @id into @out; false if it was not pending. */
static bool tab_take(struct ktls_ctx *c, uint32_t id, struct pending *out)
{
	struct pending *p = c->cap ? tab_slot(c, id, false) : NULL;

	if (!p || p->fd < 0)
		return false;
	*out = *p;
	p->fd = -2;
	c->n--;
	return true;
}

/* --- results ------------------------------------------------------------- */

/* Makes @readyfd readable while results wait, and only then: called as
 * each API call returns, so that a result queued and collected within
 * one call costs no eventfd write and read. */
static void sync_ready(struct ktls_ctx *c)
{
	uint64_t v = 1;

	if (c->head && !c->ready)
		c->ready = write(c->readyfd, &v, sizeof(v)) == sizeof(v);
	else if (!c->head && c->ready)
		c->ready = read(c->readyfd, &v, sizeof(v)) != sizeof(v);
}

static void fill_result(struct ktls_result *res, const struct ktls_result_msg *r, int fd,
			uint64_t cookie)
{
	memset(res, 0, sizeof(*res));
	res->size = sizeof(*res);
	res->id = r->id;
	res->fd = fd;
	res->status = (int)r->status;
	res->cookie = cookie;
	res->tls_version = (uint16_t)r->tls_version;
	res->cipher = (uint16_t)r->cipher;
	res->resumed = r->resumed;
	memcpy(res->alpn, r->alpn, sizeof(res->alpn));
	memcpy(res->peer_identity, r->peer_identity, sizeof(res->peer_identity));
	memcpy(res->sni, r->sni, sizeof(res->sni));
	if (res->status && r->reason[0]) {
		memcpy(res->reason, r->reason, sizeof(res->reason));
	} else if (res->status) {
		/* the module's own endings (a timeout, a cancel, ...) and the
		 * agent's refusals come without words */
		const char *desc = strerrordesc_np(res->status);

		snprintf(res->reason, sizeof(res->reason), "%s", desc ? desc : "unknown error");
	}
}

/* Queues a result for ktls_collect(), if it belongs to a pending request. */
static void queue_result(struct ktls_ctx *c, const struct ktls_result_msg *r)
{
	struct pending p;
	struct done *d;

	if (!tab_take(c, r->id, &p)) {
		/* not ours, collected already, or the one being submitted */
		if (c->submitting) {
			/* besides the one being submitted, only a cancelled
			 * request's late result can be here: keep the newest */
			unsigned int max = sizeof(c->early) / sizeof(c->early[0]);

			if (c->n_early == max) {
				memmove(&c->early[0], &c->early[1], (max - 1) * sizeof(c->early[0]));
				c->n_early--;
			}
			c->early[c->n_early++] = *r;
		}
		return;
	}
	d = malloc(sizeof(*d));
	if (!d) {
		/* keep it pending: a later COLLECT (module) can still fetch it */
		tab_add(c, p.id, p.fd, p.cookie);
		c->lost = true;
		return;
	}
	/* the cookie as the caller gave it, whoever reports the result */
	fill_result(&d->res, r, p.fd, p.cookie);
	d->next = NULL;
	*c->tail = d;
	c->tail = &d->next;
}

/*
 * The sizes of the structs of the first release (KTLS_1.0), which every
 * caller's are at least: ktls_params ends with its cookie, ktls_result
 * with its reason.
 */
#define PARAMS_SIZE_1_0 (offsetof(struct ktls_params, cookie) + sizeof(uint64_t))
#define RESULT_SIZE_1_0 (offsetof(struct ktls_result, reason) + 256)

/* The caller's @res gets what its size has room for. */
static void copy_result(struct ktls_result *res, const struct ktls_result *from)
{
	size_t size = res->size;

	memcpy(res, from, size < sizeof(*from) ? size : sizeof(*from));
	res->size = size;
}

static bool unqueue(struct ktls_ctx *c, uint32_t id, struct ktls_result *res)
{
	for (struct done **pp = &c->head; *pp; pp = &(*pp)->next) {
		struct done *d = *pp;

		if (id && d->res.id != id)
			continue;
		*pp = d->next;
		if (c->tail == &d->next)
			c->tail = pp;
		if (res)
			copy_result(res, &d->res);
		free(d);
		return true;
	}
	return false;
}

static void on_event(int cmd, struct nlattr **attrs, void *arg)
{
	struct ktls_result_msg r;

	if (cmd == KTLS_OFFLOAD_CMD_COMPLETE && !ktls_result_parse(attrs, &r))
		queue_result(arg, &r);
}

/* Every pending request ends with @status (the agent's socket is gone). */
static void abort_all(struct ktls_ctx *c, int status)
{
	for (unsigned int i = 0; i < c->cap; i++) {
		if (c->tab[i].fd >= 0) {
			struct ktls_result_msg r = { .id = c->tab[i].id,
						     .status = (uint32_t)status };

			queue_result(c, &r);
		}
	}
}

/* Reads what the agent's socket holds, one message unless @block (which
 * waits for the first, then takes the rest); -EAGAIN when nothing. */
static int sock_read(struct ktls_ctx *c, bool block)
{
	struct sockmsg_in *m = malloc(sizeof(*m));
	struct ktls_result_msg r;
	int n, got = 0;

	if (!m)
		return -ENOMEM;
	for (;;) {
		n = sockmsg_recv(c->sock, m, !block || got);
		if (n <= 0)
			break;
		got = 1;
		if (m->fd >= 0)
			close(m->fd);	/* the agent never sends descriptors */
		if (sockmsg_parse_complete(m, &r) == 0) {
			r.id = m->seq;
			queue_result(c, &r);
		}
		if (!block)
			break;	/* the pollfd reports what is left */
	}
	free(m);
	if (n == 0 || (n < 0 && n != -EAGAIN && n != -EINTR)) {
		c->broken = true;
		abort_all(c, ECONNABORTED);
		return -EPIPE;
	}
	return got ? 0 : n;
}

/*
 * After a dropped COMPLETE, the module keeps the result for COLLECT, which
 * never waits: -EAGAIN means the request is live and its COMPLETE will
 * come.  A COMPLETE queued before the COLLECT reply is read during the call
 * (and takes the id out of the table), so -ENOENT for an id still pending
 * means the kernel lost it (the module was unloaded).
 */
static void module_recover(struct ktls_ctx *c)
{
	do {
		c->lost = false;
		for (unsigned int i = 0; i < c->cap; i++) {
			struct ktls_result_msg r;
			uint32_t id = c->tab[i].id;
			struct pending *pend;
			int ret;

			if (c->tab[i].fd < 0)
				continue;
			ret = ktls_broker_collect(&c->genl, id, &r);
			/* (events read during the call may have moved the table) */
			pend = tab_slot(c, id, false);
			if (ret == -ENOENT && pend && pend->fd >= 0) {
				memset(&r, 0, sizeof(r));
				r.id = id;
				r.status = ESHUTDOWN;
				ret = 0;
			}
			if (ret == 0)
				queue_result(c, &r);
		}
		/* more dropped while these calls ran: look again */
		if (c->genl.dropped) {
			c->genl.dropped = 0;
			c->lost = true;
		}
	} while (c->lost);
}

static int module_read(struct ktls_ctx *c)
{
	int ret = ktls_genl_read_events(&c->genl);

	if (ret == -ENOBUFS) {
		c->lost = true;
		ret = 0;
	}
	if (c->lost)
		module_recover(c);
	return ret;
}

/* --- the API ------------------------------------------------------------- */

static int sock_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (!path)
		path = getenv("KTLS_AGENT_SOCKET");
	if (!path || !path[0])
		path = KTLS_AGENT_SOCKET_PATH;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Number of agents registered with the module; -errno if it cannot say. */
static int module_agents(struct ktls_genl *g)
{
	struct ktls_stats_msg *st = malloc(sizeof(*st));
	int ret;

	if (!st)
		return -ENOMEM;
	ret = ktls_broker_stats(g, st);
	if (!ret)
		ret = (int)st->agents;
	free(st);
	return ret;
}

static int watch(struct ktls_ctx *c, int op, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(c->epfd, op, fd, &ev) ? -errno : 0;
}

/* Moves a context of the module to the agent's socket @sock. */
static int switch_to_socket(struct ktls_ctx *c, int sock)
{
	int ret = watch(c, EPOLL_CTL_ADD, sock);

	if (ret) {
		close(sock);
		return ret;
	}
	ktls_genl_close(&c->genl);
	c->sock = sock;
	c->path = KTLS_PATH_SOCKET;
	c->lost = false;
	return 0;
}

static void ctx_free(struct ktls_ctx *c)
{
	if (c->path == KTLS_PATH_MODULE)
		ktls_genl_close(&c->genl);
	else if (c->sock >= 0)
		close(c->sock);
	while (unqueue(c, 0, NULL))
		;
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->readyfd >= 0)
		close(c->readyfd);
	free(c->socket_path);
	free(c->tab);
	free(c);
}

API int ktls_open(struct ktls_ctx **out, enum ktls_path path, const char *socket_path)
{
	struct ktls_ctx *c = calloc(1, sizeof(*c));
	int ret = -ENOENT;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->sock = -1;
	c->path = KTLS_PATH_SOCKET;	/* until the module is open */
	c->tail = &c->head;
	c->next_seq = 1;
	c->auto_path = path == KTLS_PATH_AUTO;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->readyfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->epfd < 0 || c->readyfd < 0 || watch(c, EPOLL_CTL_ADD, c->readyfd) ||
	    (socket_path && c->auto_path && !(c->socket_path = strdup(socket_path)))) {
		ret = c->epfd < 0 || c->readyfd < 0 ? -errno : -ENOMEM;
		goto err;
	}
	if (path == KTLS_PATH_AUTO || path == KTLS_PATH_MODULE) {
		ret = ktls_genl_open(&c->genl);
		if (!ret) {
			c->path = KTLS_PATH_MODULE;
			c->genl.event_fn = on_event;
			c->genl.event_arg = c;
			c->genl.event_policy = ktls_result_policy;
			nl_socket_set_nonblocking(c->genl.sock);
			ktls_genl_set_rcvbuf(&c->genl, 4 << 20);
			ret = watch(c, EPOLL_CTL_ADD, ktls_genl_fd(&c->genl));
			if (ret)
				goto err;
		}
	}
	/* AUTO: a module without agents leaves it to the socket, if there */
	if (!ret && c->auto_path && module_agents(&c->genl) == 0) {
		int sock = sock_connect(socket_path);

		if (sock >= 0) {
			ret = switch_to_socket(c, sock);
			if (ret)
				goto err;
		}
	}
	if (ret && path != KTLS_PATH_MODULE && (ret == -ENOENT || path == KTLS_PATH_SOCKET)) {
		ret = sock_connect(socket_path);
		if (ret >= 0) {
			c->sock = ret;
			c->path = KTLS_PATH_SOCKET;
			ret = watch(c, EPOLL_CTL_ADD, c->sock);
		}
	}
	if (ret)
		goto err;
	*out = c;
	return 0;
err:
	ctx_free(c);
	return ret;
}

API void ktls_close(struct ktls_ctx *c)
{
	/* Closing the netlink or UNIX socket cancels what is still pending. */
	if (c)
		ctx_free(c);
}

API enum ktls_path ktls_get_path(const struct ktls_ctx *c)
{
	return c->path;
}

API int ktls_pollfd(const struct ktls_ctx *c)
{
	return c->epfd;
}

API unsigned int ktls_pending(const struct ktls_ctx *c)
{
	unsigned int n = c->n;

	for (struct done *d = c->head; d; d = d->next)
		n++;
	return n;
}

/*
 * The caller's @p as this release knows it: members past its size are
 * zero, and members this release does not know must be (else -E2BIG).
 */
static int get_params(const struct ktls_params *p, struct ktls_params *out)
{
	size_t size = p->size;

	if (size < PARAMS_SIZE_1_0)
		return -EINVAL;
	for (size_t i = sizeof(*out); i < size; i++)
		if (((const unsigned char *)p)[i])
			return -E2BIG;
	memset(out, 0, sizeof(*out));
	memcpy(out, p, size < sizeof(*out) ? size : sizeof(*out));
	return 0;
}

static int submit(struct ktls_ctx *c, int fd, const struct ktls_params *params, uint32_t *id)
{
	struct ktls_params pp, *p = &pp;
	struct ktls_submit_args a;
	int ret = get_params(params, &pp);

	if (ret)
		return ret;
	a = (struct ktls_submit_args){
		.fd = fd, .role = (uint32_t)p->role, .profile = p->profile,
		.peername = p->peername, .alpn = p->alpn, .timeout_ms = p->timeout_ms,
		.cookie = p->cookie,
	};
	if (fd < 0)
		return -EBADF;
	if (p->role != KTLS_ROLE_SERVER && p->role != KTLS_ROLE_CLIENT)
		return -EINVAL;
	if (c->path == KTLS_PATH_MODULE) {
		c->n_early = 0;
		c->submitting = true;
		ret = ktls_broker_submit(&c->genl, &a, id);
		c->submitting = false;
		if (ret == -ESRCH && c->auto_path && !c->n && !c->genl.dropped) {
			/* AUTO: the module's agent went; the socket's may be there */
			int sock = sock_connect(c->socket_path);

			if (sock >= 0 && !switch_to_socket(c, sock))
				return submit(c, fd, params, id);
		}
		/* COMPLETEs dropped while the call waited for its reply: the
		 * overflow was reported there, so the pollfd will not show it;
		 * fetch them now (see ktls_submit() in ktls.h) */
		if (c->genl.dropped) {
			c->genl.dropped = 0;
			c->lost = true;
		}
	} else {
		if (c->broken)
			return -EPIPE;
		*id = c->next_seq++;
		if (!c->next_seq)
			c->next_seq = 1;
		ret = sockmsg_send_submit(c->sock, *id, &a, fd);
	}
	if (ret)
		return ret;
	if (tab_add(c, *id, fd, p->cookie)) {
		ktls_cancel(c, *id);
		return -ENOMEM;
	}
	/* its result, if it came before the reply, is in the table's hands now */
	for (unsigned int i = 0; i < c->n_early; i++)
		if (c->early[i].id == *id)
			queue_result(c, &c->early[i]);
	if (c->lost)
		module_recover(c);
	return 0;
}

API int ktls_submit(struct ktls_ctx *c, int fd, const struct ktls_params *p, uint32_t *id)
{
	int ret = submit(c, fd, p, id);

	sync_ready(c);
	return ret;
}

/* Waits until the module's socket has something to read; 0 or -errno. */
static int module_poll(struct ktls_ctx *c)
{
	struct pollfd pfd = { .fd = ktls_genl_fd(&c->genl), .events = POLLIN };

	if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

API int ktls_handshake(struct ktls_ctx *c, int fd, const struct ktls_params *p,
		       struct ktls_result *res)
{
	uint32_t id;
	int ret;

	if (res->size < RESULT_SIZE_1_0)
		return -EINVAL;
	/* The result comes as a notification (module) or a message (agent's
	 * socket) like any other; results of other requests read meanwhile
	 * are kept for ktls_collect().  The kernel's timeout bounds the wait. */
	ret = submit(c, fd, p, &id);
	while (!ret) {
		if (unqueue(c, id, res))
			break;
		if (c->path == KTLS_PATH_MODULE) {
			ret = module_read(c);
			if (ret == -EAGAIN)
				ret = module_poll(c);
		} else {
			ret = sock_read(c, true);
		}
	}
	if (ret == -EPIPE && unqueue(c, id, res))
		ret = 0;	/* its ECONNABORTED */
	sync_ready(c);
	return ret;
}

API int ktls_collect(struct ktls_ctx *c, struct ktls_result *res)
{
	int ret;

	if (res->size < RESULT_SIZE_1_0)
		return -EINVAL;
	if (unqueue(c, 0, res)) {
		ret = 0;
	} else {
		/* A message at a time, until one is a result: -EAGAIN must
		 * mean the socket is empty (a caller may poll edge-triggered). */
		do
			ret = c->path == KTLS_PATH_MODULE ? module_read(c) :
				c->broken ? -EPIPE : sock_read(c, false);
		while (!ret && !c->head);
		if (unqueue(c, 0, res))
			ret = 0;
		else if (!ret)
			ret = -EAGAIN;
	}
	sync_ready(c);
	return ret;
}

API int ktls_cancel(struct ktls_ctx *c, uint32_t id)
{
	struct pending *p = c->cap ? tab_slot(c, id, false) : NULL;

	if (!p || p->fd < 0)
		return -ENOENT;
	if (c->path == KTLS_PATH_MODULE) {
		int ret = ktls_broker_cancel(&c->genl, id);

		/* COMPLETEs dropped while the call waited for its reply */
		if (c->genl.dropped) {
			c->genl.dropped = 0;
			module_recover(c);
		}
		sync_ready(c);	/* COMPLETEs read during the call */
		return ret;
	}
	return c->broken ? -EPIPE : sockmsg_send_cancel(c->sock, id);
}

API const char *ktls_cipher_name(uint16_t cipher)
{
	const struct ktls_cipher *k = ktls_cipher_by_type(cipher);

	return k ? k->name : "unknown";
}
