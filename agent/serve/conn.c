// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ktls-serve's connections: a worker thread's epoll loop, accepting
 * connections and handing them to the agent through libktls, then each
 * connection's state machine (handshake, read a request, write the
 * response, keep-alive), idle timeouts and the graceful stop.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ktls-offload/ktls.h>

#include <linux/tls.h>

#include "schedpol.h"
#include "serve.h"
#include "../libktls/record.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- connections ----------------------------------------------------------- */

/* Takes @c off the list it is on (the LRU or the handshakes in flight), if any. */
static void conn_unlink(struct conn *c)
{
	if (c->next) {
		c->prev->next = c->next;
		c->next->prev = c->prev;
	}
}

/* Moves @c to the tail of the list @head. */
static void conn_link(struct conn *head, struct conn *c)
{
	conn_unlink(c);
	c->prev = head->prev;
	c->next = head;
	head->prev->next = c;
	head->prev = c;
}

static void lru_touch(struct worker *w, struct conn *c)
{
	c->deadline = now() + serve_cfg.idle_ms / 1000.0;
	conn_link(&w->lru, c);
}

static void conn_free(struct worker *w, struct conn *c, bool notify)
{
	conn_unlink(c);
	if (c->state != C_HANDSHAKE) {
		/* (explicitly: the agent may still hold the socket open) */
		if (c->events)
			epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		if (notify && c->tls)
			ktls_send_alert(c->fd, KTLS_ALERT_WARNING, KTLS_ALERT_CLOSE_NOTIFY);
		/* The FIN goes with what the cork held, and goes before
		 * close(): a close() with request bytes unread would reset
		 * the connection and drop a response still in the socket. */
		if (c->cork_fin)
			shutdown(c->fd, SHUT_WR);
	}
	if (c->file >= 0)
		close(c->file);
	close(c->fd);
	free(c->io);
	free(c);
	w->n_conns--;
}

/*
 * What epoll watches on @c's socket.  A connection enters epoll only when
 * it first has to wait (events 0 until then): one whose request is in by
 * the time the handshake's result arrives is served and closed without an
 * epoll_ctl().  False if it had to enter and could not.
 */
static bool watch(struct worker *w, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	/* level-triggered: only a change needs a call */
	if (events == c->events)
		return true;
	if (epoll_ctl(w->epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev))
		return c->events != 0;	/* a failed MOD leaves it watched as it was */
	c->events = events;
	return true;
}

/* --- the state machine ------------------------------------------------------ */

static void conn_read(struct worker *w, struct conn *c);

/*
 * Bodies this large go out corked: with TCP_NODELAY alone, every TLS
 * record the kernel pushes would leave as a segment of its own (16 KiB
 * rather than full 64 KiB GSO segments).  Smaller ones need no cork: the
 * header goes with MSG_MORE and the body in one sendfile().
 */
#define CORK_MIN (256 * 1024)

static void set_cork(struct conn *c, int on)
{
	setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
	c->corked = on;
}

/*
 * A small response after which the connection closes goes out corked too,
 * and stays corked: its close_notify joins it and conn_free()'s shutdown()
 * puts the FIN on the same segment.  One segment rather than three for
 * the peer to take and acknowledge (response, alert, FIN).  Only a small
 * one, which the socket takes whole in one call: a larger one is
 * uncorked when sent, so that nothing the socket still holds waits on the
 * FIN.
 */
static bool last_small(const struct conn *c)
{
	return (!c->keep_alive || atomic_load(&serve_cfg.stopping)) &&
	       (c->file < 0 || c->end - c->off <= SMALL_BODY);
}

/*
 * A body of up to SMALL_BODY bytes is read into the worker's buffer and
 * goes out with the header in one sendmsg(): one system call and one TLS
 * record rather than a send() and a sendfile(), whose splice path costs
 * more than copying a few KiB.  Whatever the socket does not take now is
 * left to the usual path (the rest of the header by send(), the rest of
 * the body by sendfile() from where the copy stopped).
 */
static void send_small(struct worker *w, struct conn *c)
{
	size_t len = (size_t)(c->end - c->off);
	struct iovec iov[2] = {
		{ .iov_base = c->io + HTTP_MAX_HEADER, .iov_len = c->hdr_len },
		{ .iov_base = w->body, .iov_len = len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (pread(c->file, w->body, len, c->off) != (ssize_t)len)
		return;		/* changed under us: sendfile() will tell */
	n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n <= 0)
		return;		/* EAGAIN, or an error the usual path meets again */
	c->sent += (uint64_t)n;
	if ((size_t)n < c->hdr_len) {
		c->hdr_off = (size_t)n;
		return;
	}
	c->hdr_off = c->hdr_len;
	c->off += (off_t)((size_t)n - c->hdr_len);
}

/* Sends what is left of the response.  Returns false if @c was freed. */
static bool conn_write(struct worker *w, struct conn *c)
{
	if (!c->hdr_off && c->file >= 0 && c->end - c->off >= CORK_MIN && !c->corked)
		set_cork(c, 1);
	else if (!c->hdr_off && !c->corked && last_small(c)) {
		set_cork(c, 1);
		c->cork_fin = c->corked;
	}
	if (!c->hdr_off && c->file >= 0 && c->end - c->off <= SMALL_BODY)
		send_small(w, c);
	while (c->hdr_off < c->hdr_len) {
		/* MSG_MORE: the header shares its TLS record with the body */
		ssize_t n = send(c->fd, c->io + HTTP_MAX_HEADER + c->hdr_off,
				 c->hdr_len - c->hdr_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT | (c->file >= 0 ? MSG_MORE : 0));

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (watch(w, c, EPOLLOUT))
				return true;
			n = 0;	/* cannot wait for it: give up */
		}
		if (n <= 0) {
			conn_free(w, c, false);
			return false;
		}
		c->hdr_off += (size_t)n;
		c->sent += (uint64_t)n;
	}
	while (c->file >= 0 && c->off < c->end) {
		size_t chunk = (size_t)(c->end - c->off);
		ssize_t n;

		if (chunk > (1 << 30))
			chunk = 1 << 30;
		n = sendfile(c->fd, c->file, &c->off, chunk);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (watch(w, c, EPOLLOUT)) {
				lru_touch(w, c);
				return true;
			}
			n = 0;	/* cannot wait for it: give up */
		}
		if (n <= 0) {	/* the peer went away, or the file shrank */
			conn_free(w, c, false);
			return false;
		}
		c->sent += (uint64_t)n;
	}
	/* done with this response: uncorking sends its last bytes now
	 * (a last small one's wait for the FIN) */
	if (c->corked && !c->cork_fin)
		set_cork(c, 0);
	serve_access_log(c);
	c->answered++;
	if (c->file >= 0) {
		close(c->file);
		c->file = -1;
	}
	if (!c->keep_alive || atomic_load(&serve_cfg.stopping)) {
		conn_free(w, c, true);
		return false;
	}
	memmove(c->io, c->io + c->req_len, c->have - c->req_len);
	c->have -= c->req_len;
	c->req_len = 0;
	c->state = C_READ;
	lru_touch(w, c);
	/* reading again: a socket left watched for EPOLLOUT would wake this
	 * loop for as long as it stays writable (always, once idle) */
	if (!watch(w, c, EPOLLIN)) {
		conn_free(w, c, false);
		return false;
	}
	if (c->have) {		/* a pipelined request is waiting */
		conn_read(w, c);
		return false;	/* may have been freed: the caller must not touch it */
	}
	free(c->io);		/* idle connections hold no buffer */
	c->io = NULL;
	return true;
}

static void conn_answer(struct worker *w, struct conn *c, int parsed)
{
	c->file = -1;
	c->sent = 0;
	if (parsed < 0) {
		memset(&c->req, 0, sizeof(c->req));
		c->keep_alive = false;
		c->req_len = c->have;
		serve_error_response(w, c, -parsed);
	} else {
		c->req_len = (size_t)parsed;
		c->keep_alive = c->req.keep_alive;
		serve_file_response(w, c);
	}
	c->state = C_WRITE;
	conn_write(w, c);
}

static void conn_read(struct worker *w, struct conn *c)
{
	for (;;) {
		ssize_t n;
		int parsed;

		if (!c->io && !(c->io = malloc(IO_SIZE))) {
			conn_free(w, c, false);
			return;
		}
		if (c->have) {
			parsed = http_parse_request(c->io, c->have, &c->req);
			if (parsed != 0) {
				conn_answer(w, c, parsed);
				return;
			}
			if (c->have >= HTTP_MAX_HEADER) {
				conn_answer(w, c, -431);
				return;
			}
		}
		n = c->tls ? ktls_recv_role(c->fd, c->io + c->have, HTTP_MAX_HEADER - c->have,
					    MSG_DONTWAIT, KTLS_ROLE_SERVER) :
			recv(c->fd, c->io + c->have, HTTP_MAX_HEADER - c->have, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!watch(w, c, EPOLLIN)) {
				conn_free(w, c, false);
				return;
			}
			if (!c->have) {
				free(c->io);
				c->io = NULL;
			}
			return;
		}
		if (n <= 0) {
			/* End of stream or close_notify (answered with ours),
			 * or the peer's fatal alert, or a record error or
			 * protocol violation that ktls_recv() has answered
			 * with its fatal alert: the connection is over. */
			if (n < 0 && errno == ENOTSUP)
				serve_log("%s sent a TLS 1.3 KeyUpdate, which this kernel's TLS "
				       "cannot follow: connection closed with an "
				       "internal_error alert", c->peer);
			conn_free(w, c, n == 0);
			return;
		}
		/* The timeout bounds the whole request, from its first byte:
		 * later bytes do not reset it (a byte every second must not
		 * hold a connection forever). */
		if (!c->have)
			lru_touch(w, c);
		c->have += (size_t)n;
	}
}

/* The connection's socket now carries TLS (or is plain): serve HTTP. */
static void conn_ready(struct worker *w, struct conn *c)
{
	int one = 1;

	/* MSG_MORE does the coalescing; the end of a response goes at once
	 * (set on the listener, whose connections inherit it) */
	if (!w->nodelay_inherited)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = C_READ;
	c->events = 0;		/* not in epoll until it must wait */
	lru_touch(w, c);
	conn_read(w, c);
}

static struct ktls_ctx *get_ktls(struct worker *w);
static void drop_ktls(struct worker *w, int err);

/*
 * Closes the worker's libktls context; the next connection opens anew.
 * Closing it cancels the handshakes still in flight, whose results will
 * never come: their connections close here, or they would stay open (and
 * count against --max-connections) for as long as ktls-serve runs.
 */
static void close_ktls(struct worker *w)
{
	unsigned int n = 0;

	if (!w->ktls)
		return;
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, ktls_pollfd(w->ktls), NULL);
	ktls_close(w->ktls);
	w->ktls = NULL;
	while (w->hs.next != &w->hs) {
		conn_free(w, w->hs.next, false);
		n++;
	}
	if (n && !atomic_load(&serve_cfg.stopping))
		serve_log("worker %d: closed %u connection%s whose handshake was in flight",
			  w->index, n, n == 1 ? "" : "s");
}

static void peer_string(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) ||
	    getnameinfo((struct sockaddr *)&ss, sl, out, (socklen_t)len, NULL, 0,
			NI_NUMERICHOST))
		snprintf(out, len, "-");
	else if (!strncmp(out, "::ffff:", 7) && strchr(out, '.'))
		memmove(out, out + 7, strlen(out + 7) + 1);	/* IPv4-mapped */
}

/*
 * One connection per report of the listener: epoll reports it again
 * (level-triggered) while the backlog holds more, whereas a loop would end
 * every burst with an accept4() that finds nothing, one wasted call per
 * connection when they come one at a time.
 */
static void do_accept(struct worker *w)
{
	struct conn *c;
	int fd;

	if (w->n_conns >= serve_cfg.max_conns) {
		/* over the limit: leave them in the kernel's backlog */
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->listen_fd, NULL);
		w->accepting = false;
		w->accept_resume = now() + 0.1;
		return;
	}
	fd = accept4(w->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* out of descriptors: pause accepting, serve the rest */
			serve_log("accept: %s; pausing accepts for 100 ms", strerror(errno));
			epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->listen_fd, NULL);
			w->accepting = false;
			w->accept_resume = now() + 0.1;
		}
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->kind = K_CONN;
	c->fd = fd;
	c->file = -1;
	c->tls = !serve_cfg.plain;
	w->n_conns++;
	if (serve_cfg.access_log || serve_cfg.verbose)
		peer_string(fd, c->peer, sizeof(c->peer));
	if (serve_cfg.plain) {
		conn_ready(w, c);
	} else {
		struct ktls_params p = KTLS_PARAMS_INIT(
			.role = KTLS_ROLE_SERVER, .profile = serve_cfg.profile,
			.alpn = "http/1.1", .timeout_ms = serve_cfg.handshake_ms,
			.cookie = (uintptr_t)c,
		);
		struct ktls_ctx *k = get_ktls(w);
		uint32_t id;
		int ret = k ? ktls_submit(k, fd, &p, &id) : -ENOTCONN;

		if (ret == -EPIPE) {
			/* The agent's socket hung up, and its pollfd may not
			 * have been reported yet: end the old context now and
			 * hand this connection to a new one. */
			drop_ktls(w, ret);
			k = get_ktls(w);
			ret = k ? ktls_submit(k, fd, &p, &id) : -ENOTCONN;
		}
		c->state = C_HANDSHAKE;
		if (!ret) {
			conn_link(&w->hs, c);	/* the agent has it now */
		} else {
			serve_log("cannot hand a connection to the agent: %s", strerror(-ret));
			conn_free(w, c, false);
			/* ENOENT: the module's family is gone (rmmod; every
			 * pending request has ended with ESHUTDOWN).  Reopen
			 * on the next connection, finding it (or the agent's
			 * socket) anew. */
			if (ret == -ENOENT && k && !ktls_pending(k))
				close_ktls(w);
		}
	}
}

/*
 * --zerocopy-sendfile: TLS_TX_ZEROCOPY_RO.  Where TX runs on the device the
 * NIC then encrypts straight from the page cache, with no copy; a file
 * changed while it is sent can make a retransmitted record differ from the
 * first transmission, which the peer rejects.  Software kTLS encrypts into
 * pages of its own and ignores the option.
 */
static void zerocopy_on(struct conn *c)
{
	static atomic_bool told;
	int one = 1;

	if (!setsockopt(c->fd, SOL_TLS, TLS_TX_ZEROCOPY_RO, &one, sizeof(one)))
		return;
	if (!atomic_exchange(&told, true))
		serve_log("--zerocopy-sendfile: TLS_TX_ZEROCOPY_RO refused: %s (this kernel "
			  "sends with a copy)", strerror(errno));
}

/* A handshake's result: its connection is served, or closed. */
static void handshake_done(struct worker *w, const struct ktls_result *r)
{
	struct conn *c = (struct conn *)(uintptr_t)r->cookie;

	if (r->status) {
		if (serve_cfg.verbose)
			serve_log("handshake with %s failed: %s", c->peer, strerror(r->status));
		conn_free(w, c, false);
		return;
	}
	c->tls_version = r->tls_version;
	c->cipher = r->cipher;
	if (serve_cfg.zerocopy_sendfile)
		zerocopy_on(c);
	conn_ready(w, c);
}

/*
 * Ends the context of an agent that went away: the results still in it
 * are taken (every pending handshake has come back ECONNABORTED), then it
 * closes, and the next connection opens a new one.
 */
static void drop_ktls(struct worker *w, int err)
{
	struct ktls_result r = KTLS_RESULT_INIT;

	serve_log("worker %d: lost the agent (%s); reconnecting", w->index, strerror(-err));
	while (ktls_collect(w->ktls, &r) == 0)
		handshake_done(w, &r);
	close_ktls(w);
}

/*
 * One result per report of the libktls pollfd: it stays readable while
 * results wait (level-triggered), and collecting until -EAGAIN would end
 * with a read that finds nothing, a wasted call per handshake when they
 * finish one at a time.
 */
static void collect_handshakes(struct worker *w)
{
	struct ktls_result r = KTLS_RESULT_INIT;
	int ret = ktls_collect(w->ktls, &r);

	if (ret == -EAGAIN)
		return;
	if (ret)
		drop_ktls(w, ret);	/* (the agent restarted?) */
	else
		handshake_done(w, &r);
}

/* A libktls context, reopened if the agent went away. */
static struct ktls_ctx *get_ktls(struct worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->k_ktls };

	if (w->ktls)
		return w->ktls;
	if (ktls_open(&w->ktls, serve_cfg.path, serve_cfg.socket_path))
		return NULL;
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, ktls_pollfd(w->ktls), &ev);
	serve_log("worker %d: connected to the agent again", w->index);
	return w->ktls;
}

/* A request that did not arrive whole in time: 408, best effort, and
 * the connection closes. */
static void request_timeout(struct worker *w, struct conn *c)
{
	char msg[160];
	int len;

	memset(&c->req, 0, sizeof(c->req));
	c->status = 408;
	len = snprintf(msg, sizeof(msg), "HTTP/1.1 408 Request Timeout\r\nDate: %s\r\n"
		       "Connection: close\r\nContent-Length: 0\r\n\r\n", serve_date_now(w));
	c->sent = send(c->fd, msg, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) == len ?
		  (uint64_t)len : 0;
	serve_access_log(c);
}

static void expire(struct worker *w, double t)
{
	while (w->lru.next != &w->lru && w->lru.next->deadline <= t) {
		struct conn *c = w->lru.next;

		if (c->state == C_READ && c->have)
			request_timeout(w, c);
		conn_free(w, c, true);
	}
}

void *serve_worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[MAX_EVENTS];
	double stop_by = 0;
	int sb = serve_cfg.no_sched_batch ? 0 : ktls_sched_batch();

	if (sb < 0)
		serve_log("worker %d: SCHED_BATCH: %s", w->index, strerror(-sb));
	for (;;) {
		double t = now(), first;
		int n, timeout = -1;

		if (atomic_load(&serve_cfg.stopping)) {
			if (!stop_by) {
				/* graceful: no new connections; idle keep-alive ones
				 * go now, busy or new ones after their response or
				 * the grace time */
				stop_by = t + serve_cfg.grace_ms / 1000.0;
				if (w->accepting)
					epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->listen_fd, NULL);
				w->accepting = false;
				for (struct conn *c = w->lru.next, *nx; c != &w->lru; c = nx) {
					nx = c->next;
					if (c->state == C_READ && !c->have && c->answered)
						conn_free(w, c, true);
				}
			}
			if (!w->n_conns || t >= stop_by)
				break;
		}
		if (!w->accepting && !atomic_load(&serve_cfg.stopping) && t >= w->accept_resume) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE,
						  .data.ptr = &w->k_listen };

			if (!epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->listen_fd, &ev))
				w->accepting = true;
		}
		first = w->lru.next != &w->lru ? w->lru.next->deadline : 0;
		if (first)
			timeout = first <= t ? 0 : (int)((first - t) * 1000) + 1;
		if (!w->accepting && !atomic_load(&serve_cfg.stopping) &&
		    (timeout < 0 || timeout > 100))
			timeout = 100;
		if (stop_by && (timeout < 0 || timeout > 100))
			timeout = 100;
		n = epoll_wait(w->epfd, evs, MAX_EVENTS, timeout);
		for (int i = 0; i < n; i++) {
			enum kind *k = evs[i].data.ptr;
			struct conn *c = (struct conn *)k;

			switch (*k) {
			case K_LISTEN:
				/* (results a submit fetched make the pollfd
				 * readable: ktls.h) */
				do_accept(w);
				break;
			case K_KTLS:
				/* (a submit earlier in this batch may have
				 * dropped the context: the agent went away) */
				if (w->ktls)
					collect_handshakes(w);
				break;
			case K_WAKE: {
				uint64_t v;

				if (read(w->wakefd, &v, sizeof(v)) < 0)
					break;
				break;
			}
			case K_CONN:
				/* Only a connection's own event frees it within a
				 * batch (timeouts are handled after it). */
				if (c->state == C_READ)
					conn_read(w, c);
				else if (c->state == C_WRITE)
					conn_write(w, c);
				break;
			}
		}
		expire(w, now());
	}
	while (w->lru.next != &w->lru)
		conn_free(w, w->lru.next, true);
	close_ktls(w);		/* and the handshakes in flight */
	return NULL;
}
