// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ktls-serve: serves a directory over HTTPS with kernel TLS.  Each accepted
 * connection goes to ktls-agent through libktls (asynchronously: a slow
 * handshake holds nothing but its own connection); once kernel TLS is on
 * the socket, files go from the page cache to the socket with sendfile().
 * HTTP/1.1 GET and HEAD, keep-alive and pipelining, single byte ranges,
 * conditional requests.  One epoll loop per worker thread, each with its
 * own SO_REUSEPORT listener and libktls context.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/openat2.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ktls-offload/ktls.h>
#include <ktls-offload/version.h>

#include "http.h"
#include "../libktls/record.h"

#define IO_SIZE		(HTTP_MAX_HEADER + 1024)	/* request + response header */
#define MAX_EVENTS	128

enum symlinks { SYMLINKS_INSIDE, SYMLINKS_NONE };

static struct {
	const char *root;
	int root_fd;
	const char *address;
	const char *port;
	bool plain;
	unsigned int workers;
	const char *profile;
	const char *socket_path;
	enum ktls_path path;
	enum symlinks symlinks;
	unsigned int idle_ms;
	unsigned int handshake_ms;
	unsigned int grace_ms;
	unsigned int max_conns;		/* per worker */
	FILE *access_log;
	pthread_mutex_t log_lock;
	bool verbose;
	atomic_bool stopping;
} cfg = {
	.address = "::",
	.port = "8443",
	.idle_ms = 60000,
	.handshake_ms = 10000,
	.grace_ms = 10000,
	.max_conns = 20000,
	.log_lock = PTHREAD_MUTEX_INITIALIZER,
};

enum kind { K_LISTEN, K_KTLS, K_WAKE, K_CONN };
enum cstate { C_HANDSHAKE, C_READ, C_WRITE };

struct conn {
	enum kind kind;
	enum cstate state;
	int fd;
	struct conn *prev, *next;	/* LRU of connections with a socket in epoll */
	double deadline;
	bool tls;
	bool keep_alive;
	bool corked;		/* TCP_CORK on for a large body */
	uint16_t tls_version, cipher;
	char peer[48];
	char *io;			/* IO_SIZE bytes while a request is under way */
	size_t have;			/* request bytes in io */
	size_t hdr_len, hdr_off;	/* response header at io + HTTP_MAX_HEADER */
	size_t req_len;			/* bytes of the request being answered */
	int file;			/* body source, or -1 */
	off_t off, end;
	int status;
	uint64_t sent;
	unsigned int answered;		/* responses completed on this connection */
	struct http_request req;
};

struct worker {
	int index;
	pthread_t thread;
	int epfd, listen_fd, wakefd;
	enum kind k_listen, k_ktls, k_wake;
	struct ktls_ctx *ktls;
	struct conn lru;		/* list head */
	unsigned int n_conns;
	double accept_resume;		/* accept paused (EMFILE, limit) until then */
	bool accepting;
	time_t date_t;
	char date[32];
};

static void vlog(const char *fmt, va_list ap)
{
	fputs("ktls-serve: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- connections ----------------------------------------------------------- */

static void lru_touch(struct worker *w, struct conn *c)
{
	c->deadline = now() + cfg.idle_ms / 1000.0;
	if (c->next) {
		c->prev->next = c->next;
		c->next->prev = c->prev;
	}
	c->prev = w->lru.prev;
	c->next = &w->lru;
	w->lru.prev->next = c;
	w->lru.prev = c;
}

static void conn_free(struct worker *w, struct conn *c, bool notify)
{
	if (c->next) {
		c->prev->next = c->next;
		c->next->prev = c->prev;
	}
	if (c->state != C_HANDSHAKE) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		if (notify && c->tls)
			ktls_send_alert(c->fd, KTLS_ALERT_WARNING, KTLS_ALERT_CLOSE_NOTIFY);
	}
	if (c->file >= 0)
		close(c->file);
	close(c->fd);
	free(c->io);
	free(c);
	w->n_conns--;
}

static void watch(struct worker *w, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* --- responses ------------------------------------------------------------- */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static const char *date_now(struct worker *w)
{
	time_t t = time(NULL);

	if (t != w->date_t) {
		w->date_t = t;
		http_format_date(t, w->date, sizeof(w->date));
	}
	return w->date;
}

/* Appends to the response header being built. */
static void hdr(struct conn *c, const char *fmt, ...)
{
	char *base = c->io + HTTP_MAX_HEADER;
	size_t room = IO_SIZE - HTTP_MAX_HEADER;
	va_list ap;
	int n;

	if (c->hdr_len >= room)
		return;
	va_start(ap, fmt);
	n = vsnprintf(base + c->hdr_len, room - c->hdr_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->hdr_len = c->hdr_len + (size_t)n < room ? c->hdr_len + (size_t)n : room;
}

static void start_response(struct worker *w, struct conn *c, int status)
{
	c->status = status;
	c->hdr_len = c->hdr_off = 0;
	hdr(c, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: ktls-serve/%s\r\n", status,
	    reason(status), date_now(w), KTLS_OFFLOAD_VERSION);
}

static void end_headers(struct conn *c)
{
	hdr(c, "%s\r\n", c->keep_alive ? "" : "Connection: close\r\n");
}

/* An error page; statuses that leave the request stream unusable close. */
static void error_response(struct worker *w, struct conn *c, int status)
{
	char body[160];
	int n;

	if (status == 400 || status == 413 || status == 414 || status == 431 ||
	    status == 505 || status == 500)
		c->keep_alive = false;
	n = snprintf(body, sizeof(body), "<!DOCTYPE html><title>%d %s</title><h1>%d %s</h1>\n",
		     status, reason(status), status, reason(status));
	start_response(w, c, status);
	if (status == 405)
		hdr(c, "Allow: GET, HEAD\r\n");
	hdr(c, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n", n);
	end_headers(c);
	if (c->req.method != HTTP_HEAD)
		hdr(c, "%s", body);
}

static int open_beneath(int dirfd, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV |
			   (cfg.symlinks == SYMLINKS_NONE ? RESOLVE_NO_SYMLINKS : 0),
	};

	return (int)syscall(SYS_openat2, dirfd, path[0] ? path : ".", &how, sizeof(how));
}

static int errno_status(int err)
{
	switch (err) {
	case ENOENT: case ENOTDIR: case ENAMETOOLONG:
		return 404;
	case EACCES: case EPERM: case EXDEV: case ELOOP:
		return 403;	/* includes symlinks leading out of the root */
	default:
		return 500;
	}
}

static void file_response(struct worker *w, struct conn *c)
{
	struct http_request *r = &c->req;
	char path[HTTP_MAX_TARGET + 16], etag[64], lm[32];
	uint64_t first = 0, last = 0;
	struct stat st;
	bool dir;
	int fd, st_code, range = 0;

	if (r->method == HTTP_OTHER) {
		/* its body, unread, would be taken for the next request */
		if (r->has_body)
			c->keep_alive = false;
		error_response(w, c, 405);
		return;
	}
	if (r->has_body) {
		error_response(w, c, 413);	/* GET and HEAD take no body here */
		return;
	}
	st_code = http_decode_path(&r->target, path, sizeof(path) - 16, &dir);
	if (st_code) {
		error_response(w, c, st_code);
		return;
	}
	fd = open_beneath(cfg.root_fd, path);
	if (fd < 0 || fstat(fd, &st)) {
		error_response(w, c, errno_status(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		int idx;

		if (!dir) {		/* /dir -> /dir/, keeping the query */
			const char *t = r->target.p, *q = memchr(t, '?', r->target.len);
			size_t plen = q ? (size_t)(q - t) : r->target.len, skip = 0;

			/* one leading slash: "//host/x" would be a redirect
			 * to another site (a protocol-relative URL) */
			while (skip + 1 < plen && t[skip + 1] == '/')
				skip++;
			close(fd);
			start_response(w, c, 301);
			hdr(c, "Location: %.*s/%.*s\r\nContent-Length: 0\r\n", (int)(plen - skip),
			    t + skip, (int)(r->target.len - plen), t + plen);
			end_headers(c);
			return;
		}
		idx = open_beneath(fd, "index.html");
		close(fd);
		fd = idx;
		if (fd < 0 || fstat(fd, &st)) {
			/* no listings: a directory without index.html is not shown */
			error_response(w, c, fd < 0 && errno == ENOENT ? 403 : errno_status(errno));
			if (fd >= 0)
				close(fd);
			return;
		}
		strcat(path, path[0] ? "/index.html" : "index.html");
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		error_response(w, c, 403);
		return;
	}

	snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec, (unsigned long long)st.st_mtim.tv_nsec);
	http_format_date(st.st_mtim.tv_sec, lm, sizeof(lm));
	if (r->if_none_match.len ? http_etag_match(&r->if_none_match, etag) :
	    r->if_modified_since.len && http_parse_date(&r->if_modified_since) >= 0 &&
	    st.st_mtim.tv_sec <= http_parse_date(&r->if_modified_since)) {
		close(fd);
		start_response(w, c, 304);
		hdr(c, "ETag: %s\r\nLast-Modified: %s\r\n", etag, lm);
		end_headers(c);
		return;
	}
	if (r->range.len && (!r->if_range.len ||
			     (r->if_range.len == strlen(etag) &&
			      !memcmp(r->if_range.p, etag, r->if_range.len))))
		range = http_parse_range(&r->range, (uint64_t)st.st_size, &first, &last);
	if (range < 0) {
		close(fd);
		start_response(w, c, 416);
		hdr(c, "Content-Range: bytes */%llu\r\nContent-Length: 0\r\n",
		    (unsigned long long)st.st_size);
		end_headers(c);
		return;
	}
	if (range == 0) {
		first = 0;
		last = st.st_size ? (uint64_t)st.st_size - 1 : 0;
	}
	start_response(w, c, range ? 206 : 200);
	hdr(c, "Content-Type: %s\r\nContent-Length: %llu\r\nLast-Modified: %s\r\nETag: %s\r\n"
	    "Accept-Ranges: bytes\r\n", http_content_type(path),
	    st.st_size ? (unsigned long long)(last - first + 1) : 0ULL, lm, etag);
	if (range)
		hdr(c, "Content-Range: bytes %llu-%llu/%llu\r\n", (unsigned long long)first,
		    (unsigned long long)last, (unsigned long long)st.st_size);
	end_headers(c);
	if (r->method == HTTP_HEAD || !st.st_size) {
		close(fd);
		return;
	}
	c->file = fd;
	c->off = (off_t)first;
	c->end = (off_t)last + 1;
}

/* @p[0..@len) for a quoted access-log field, as nginx escapes it: '"',
 * '\\' and bytes outside printable ASCII as \xHH; "-" if empty. */
static const char *log_field(const char *p, size_t len, char *out, size_t outlen)
{
	size_t n = 0;

	if (!len)
		return "-";
	for (size_t i = 0; i < len && n + 5 < outlen; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
			n += (size_t)snprintf(out + n, outlen - n, "\\x%02X", ch);
		else
			out[n++] = (char)ch;
	}
	out[n] = '\0';
	return out;
}

static void access_log(struct conn *c)
{
	char when[64], method[64], target[4 * HTTP_MAX_TARGET + 8], referer[1024], agent[1024];
	struct tm tm;
	time_t t;

	if (!cfg.access_log)
		return;
	t = time(NULL);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	log_field(c->req.method_str.p, c->req.method_str.len, method, sizeof(method));
	log_field(c->req.target.p, c->req.target.len, target, sizeof(target));
	pthread_mutex_lock(&cfg.log_lock);
	if (c->req.method_str.len)
		fprintf(cfg.access_log, "%s - - [%s] \"%s %s HTTP/1.%d\" ", c->peer, when,
			method, target, c->req.minor);
	else	/* no request line (timed out, unparsable) */
		fprintf(cfg.access_log, "%s - - [%s] \"-\" ", c->peer, when);
	fprintf(cfg.access_log, "%d %llu \"%s\" \"%s\" %s%s\n", c->status,
		(unsigned long long)c->sent,
		log_field(c->req.referer.p, c->req.referer.len, referer, sizeof(referer)),
		log_field(c->req.user_agent.p, c->req.user_agent.len, agent, sizeof(agent)),
		c->tls ? (c->tls_version == 0x0304 ? "TLSv1.3 " : "TLSv1.2 ") : "plain",
		c->tls ? ktls_cipher_name(c->cipher) : "");
	fflush(cfg.access_log);
	pthread_mutex_unlock(&cfg.log_lock);
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

/* Sends what is left of the response.  Returns false if @c was freed. */
static bool conn_write(struct worker *w, struct conn *c)
{
	if (!c->hdr_off && c->file >= 0 && c->end - c->off >= CORK_MIN && !c->corked)
		set_cork(c, 1);
	while (c->hdr_off < c->hdr_len) {
		/* MSG_MORE: the header shares its TLS record with the body */
		ssize_t n = send(c->fd, c->io + HTTP_MAX_HEADER + c->hdr_off,
				 c->hdr_len - c->hdr_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT | (c->file >= 0 ? MSG_MORE : 0));

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			watch(w, c, EPOLLOUT);
			return true;
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
			watch(w, c, EPOLLOUT);
			lru_touch(w, c);
			return true;
		}
		if (n <= 0) {	/* the peer went away, or the file shrank */
			conn_free(w, c, false);
			return false;
		}
		c->sent += (uint64_t)n;
	}
	/* done with this response: uncorking sends its last bytes now */
	if (c->corked)
		set_cork(c, 0);
	access_log(c);
	c->answered++;
	if (c->file >= 0) {
		close(c->file);
		c->file = -1;
	}
	if (!c->keep_alive || atomic_load(&cfg.stopping)) {
		conn_free(w, c, true);
		return false;
	}
	memmove(c->io, c->io + c->req_len, c->have - c->req_len);
	c->have -= c->req_len;
	c->req_len = 0;
	c->state = C_READ;
	lru_touch(w, c);
	if (c->have) {		/* a pipelined request is waiting */
		conn_read(w, c);
		return false;	/* may have been freed: the caller must not touch it */
	}
	free(c->io);		/* idle connections hold no buffer */
	c->io = NULL;
	watch(w, c, EPOLLIN);
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
		error_response(w, c, -parsed);
	} else {
		c->req_len = (size_t)parsed;
		c->keep_alive = c->req.keep_alive;
		file_response(w, c);
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
				logmsg("%s sent a TLS 1.3 KeyUpdate, which this kernel's TLS "
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
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int one = 1;

	/* MSG_MORE does the coalescing; the end of a response goes at once */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = C_READ;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
		conn_free(w, c, false);
		return;
	}
	lru_touch(w, c);
	conn_read(w, c);
}

static struct ktls_ctx *get_ktls(struct worker *w);

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

static void do_accept(struct worker *w)
{
	for (int i = 0; i < 64; i++) {
		struct conn *c;
		int fd;

		if (w->n_conns >= cfg.max_conns) {
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
				logmsg("accept: %s; pausing accepts for 100 ms", strerror(errno));
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
		c->tls = !cfg.plain;
		w->n_conns++;
		if (cfg.access_log || cfg.verbose)
			peer_string(fd, c->peer, sizeof(c->peer));
		if (cfg.plain) {
			conn_ready(w, c);
		} else {
			struct ktls_params p = KTLS_PARAMS_INIT(
				.role = KTLS_ROLE_SERVER, .profile = cfg.profile,
				.alpn = "http/1.1", .timeout_ms = cfg.handshake_ms,
				.cookie = (uintptr_t)c,
			);
			struct ktls_ctx *k = get_ktls(w);
			uint32_t id;
			int ret = k ? ktls_submit(k, fd, &p, &id) : -ENOTCONN;

			c->state = C_HANDSHAKE;
			if (ret) {
				logmsg("cannot hand a connection to the agent: %s", strerror(-ret));
				conn_free(w, c, false);
				/* ENOENT: the module's family is gone (rmmod; every
				 * pending request has ended with ESHUTDOWN).  Reopen
				 * on the next connection, finding it (or the agent's
				 * socket) anew. */
				if (ret == -ENOENT && k && !ktls_pending(k)) {
					epoll_ctl(w->epfd, EPOLL_CTL_DEL, ktls_pollfd(k), NULL);
					ktls_close(k);
					w->ktls = NULL;
				}
			}
		}
	}
}

static void collect_handshakes(struct worker *w)
{
	struct ktls_result r = KTLS_RESULT_INIT;
	int ret;

	while ((ret = ktls_collect(w->ktls, &r)) == 0) {
		struct conn *c = (struct conn *)(uintptr_t)r.cookie;

		if (r.status) {
			if (cfg.verbose)
				logmsg("handshake with %s failed: %s", c->peer, strerror(r.status));
			conn_free(w, c, false);
			continue;
		}
		c->tls_version = r.tls_version;
		c->cipher = r.cipher;
		conn_ready(w, c);
	}
	if (ret != -EAGAIN) {
		/* The agent's socket closed (agent restarted?): every pending
		 * handshake has come back ECONNABORTED above.  Reconnect on the
		 * next connection. */
		logmsg("worker %d: lost the agent (%s); reconnecting", w->index, strerror(-ret));
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, ktls_pollfd(w->ktls), NULL);
		ktls_close(w->ktls);
		w->ktls = NULL;
	}
}

/* A libktls context, reopened if the agent went away. */
static struct ktls_ctx *get_ktls(struct worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->k_ktls };

	if (w->ktls)
		return w->ktls;
	if (ktls_open(&w->ktls, cfg.path, cfg.socket_path))
		return NULL;
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, ktls_pollfd(w->ktls), &ev);
	logmsg("worker %d: connected to the agent again", w->index);
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
		       "Connection: close\r\nContent-Length: 0\r\n\r\n", date_now(w));
	c->sent = send(c->fd, msg, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) == len ?
		  (uint64_t)len : 0;
	access_log(c);
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

static int listen_socket(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE |
				  AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	int fd, one = 1, ret;

	ret = getaddrinfo(cfg.address, cfg.port, &hints, &ai);
	if (ret)
		die("address %s port %s: %s", cfg.address, cfg.port, gai_strerror(ret));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 4096))
		die("listen on [%s]:%s: %s", cfg.address, cfg.port, strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[MAX_EVENTS];
	double stop_by = 0;

	for (;;) {
		double t = now(), first;
		int n, timeout = -1;

		if (atomic_load(&cfg.stopping)) {
			if (!stop_by) {
				/* graceful: no new connections; idle keep-alive ones
				 * go now, busy or new ones after their response or
				 * the grace time */
				stop_by = t + cfg.grace_ms / 1000.0;
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
		if (!w->accepting && !atomic_load(&cfg.stopping) && t >= w->accept_resume) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE,
						  .data.ptr = &w->k_listen };

			if (!epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->listen_fd, &ev))
				w->accepting = true;
		}
		first = w->lru.next != &w->lru ? w->lru.next->deadline : 0;
		if (first)
			timeout = first <= t ? 0 : (int)((first - t) * 1000) + 1;
		if (!w->accepting && !atomic_load(&cfg.stopping) &&
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
				do_accept(w);
				/* submitting may have fetched results (ktls.h) */
				if (w->ktls)
					collect_handshakes(w);
				break;
			case K_KTLS:
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
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ktls-serve [options] ROOT\n"
"Serve the directory ROOT over HTTPS: TLS handshakes by ktls-agent, file\n"
"bodies by sendfile() through kernel TLS.  SIGTERM or SIGINT: graceful stop.\n"
"\n"
"  -a, --address ADDR        listen address (default ::, IPv4 and IPv6)\n"
"  -p, --port PORT           listen port (default 8443)\n"
"  -w, --workers N           worker threads (default: one per CPU)\n"
"      --plain               serve plain HTTP, no TLS (for comparisons)\n"
"      --profile NAME        the agent's profile (default: its \"default\")\n"
"      --path auto|module|socket\n"
"                            how to reach the agent (default auto: the module\n"
"                            when loaded, else the agent's UNIX socket)\n"
"      --socket PATH         the agent's UNIX socket (default\n"
"                            $KTLS_AGENT_SOCKET or /run/ktls-offload/agent.sock)\n"
"      --access-log FILE     one line per response; - for stdout (default none)\n"
"      --symlinks inside|none\n"
"                            follow symlinks that stay inside ROOT (default),\n"
"                            or none at all\n"
"      --idle-timeout SEC    close idle or stalled connections, and bound each\n"
"                            request from its first byte (408; default 60)\n"
"      --handshake-timeout SEC  (default 10)\n"
"      --grace SEC           on SIGTERM, how long responses in flight may take\n"
"                            to finish (default 10)\n"
"      --max-connections N   per worker; beyond it new connections wait in the\n"
"                            kernel's backlog (default 20000)\n"
"  -v, --verbose             log failed handshakes\n"
"  -h, --help                this text\n"
"  -V, --version             print the version\n"
"\n"
"See ktls-serve(1).\n");
}

static unsigned int number(const char *opt, const char *v, unsigned int min, unsigned int max)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (!*v || *end || n < min || n > max)
		die("%s must be a number from %u to %u, not '%s'", opt, min, max, v);
	return (unsigned int)n;
}

int main(int argc, char **argv)
{
	enum { OPT_PLAIN = 256, OPT_PROFILE, OPT_PATH, OPT_SOCKET, OPT_LOG, OPT_SYMLINKS, OPT_IDLE,
	       OPT_HANDSHAKE, OPT_GRACE, OPT_MAXCONN };
	static const struct option opts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' },
		{ "plain", no_argument, NULL, OPT_PLAIN },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "access-log", required_argument, NULL, OPT_LOG },
		{ "symlinks", required_argument, NULL, OPT_SYMLINKS },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "max-connections", required_argument, NULL, OPT_MAXCONN },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct worker *workers;
	sigset_t sigs;
	int opt, sig;

	while ((opt = getopt_long(argc, argv, "a:p:w:vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': cfg.address = optarg; break;
		case 'p': number("--port", optarg, 1, 65535); cfg.port = optarg; break;
		case 'w': cfg.workers = number("--workers", optarg, 1, 1024); break;
		case OPT_PLAIN: cfg.plain = true; break;
		case OPT_PROFILE: cfg.profile = optarg; break;
		case OPT_PATH:
			if (!strcmp(optarg, "auto"))
				cfg.path = KTLS_PATH_AUTO;
			else if (!strcmp(optarg, "module"))
				cfg.path = KTLS_PATH_MODULE;
			else if (!strcmp(optarg, "socket"))
				cfg.path = KTLS_PATH_SOCKET;
			else
				die("--path must be auto, module or socket, not '%s'", optarg);
			break;
		case OPT_SOCKET: cfg.socket_path = optarg; break;
		case OPT_LOG:
			cfg.access_log = strcmp(optarg, "-") ? fopen(optarg, "ae") : stdout;
			if (!cfg.access_log)
				die("access log %s: %s", optarg, strerror(errno));
			break;
		case OPT_SYMLINKS:
			if (!strcmp(optarg, "inside"))
				cfg.symlinks = SYMLINKS_INSIDE;
			else if (!strcmp(optarg, "none"))
				cfg.symlinks = SYMLINKS_NONE;
			else
				die("--symlinks must be inside or none, not '%s'", optarg);
			break;
		case OPT_IDLE: cfg.idle_ms = 1000 * number("--idle-timeout", optarg, 1, 86400); break;
		case OPT_HANDSHAKE:
			cfg.handshake_ms = 1000 * number("--handshake-timeout", optarg, 1, 300);
			break;
		case OPT_GRACE: cfg.grace_ms = 1000 * number("--grace", optarg, 0, 86400); break;
		case OPT_MAXCONN:
			cfg.max_conns = number("--max-connections", optarg, 1, 10000000);
			break;
		case 'v': cfg.verbose = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("ktls-serve %s\n", KTLS_OFFLOAD_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	cfg.root = argv[optind];
	cfg.root_fd = open(cfg.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfg.root_fd < 0)
		die("root %s: %s", cfg.root, strerror(errno));
	if (!cfg.workers)
		cfg.workers = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);	/* sendfile() to a closed peer */

	workers = calloc(cfg.workers, sizeof(*workers));
	if (!workers)
		die("out of memory");
	for (unsigned int i = 0; i < cfg.workers; i++) {
		struct worker *w = &workers[i];
		struct epoll_event ev = { .events = EPOLLIN };

		w->index = (int)i;
		w->k_listen = K_LISTEN;
		w->k_ktls = K_KTLS;
		w->k_wake = K_WAKE;
		w->lru.next = w->lru.prev = &w->lru;
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		w->listen_fd = listen_socket();
		if (w->epfd < 0 || w->wakefd < 0)
			die("epoll: %s", strerror(errno));
		ev.data.ptr = &w->k_wake;
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev);
		if (!cfg.plain) {
			int ret = ktls_open(&w->ktls, cfg.path, cfg.socket_path);

			if (ret)
				die("cannot reach ktls-agent: %s%s", strerror(-ret),
				    ret == -ENOENT || ret == -ECONNREFUSED ?
				    " (is ktls-agent running, or the ktls_offload module loaded?)" : "");
			ev.data.ptr = &w->k_ktls;
			epoll_ctl(w->epfd, EPOLL_CTL_ADD, ktls_pollfd(w->ktls), &ev);
		}
	}
	for (unsigned int i = 0; i < cfg.workers; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]))
			die("cannot start a worker thread");
	fprintf(stderr, "ktls-serve %s: serving %s on [%s]:%s, %s, %u workers\n",
		KTLS_OFFLOAD_VERSION, cfg.root, cfg.address, cfg.port,
		cfg.plain ? "plain HTTP" : ktls_get_path(workers[0].ktls) == KTLS_PATH_MODULE ?
		"HTTPS via the ktls_offload module" : "HTTPS via the agent's UNIX socket",
		cfg.workers);

	while (sigwait(&sigs, &sig))
		;
	fprintf(stderr, "ktls-serve: signal %d, finishing responses in flight\n", sig);
	atomic_store(&cfg.stopping, true);
	for (unsigned int i = 0; i < cfg.workers; i++) {
		uint64_t one = 1;

		if (write(workers[i].wakefd, &one, sizeof(one)) < 0)
			logmsg("cannot wake worker %u", i);
	}
	for (unsigned int i = 0; i < cfg.workers; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].ktls)
			ktls_close(workers[i].ktls);	/* cancels handshakes in flight */
		close(workers[i].listen_fd);
		close(workers[i].epfd);
		close(workers[i].wakefd);
	}
	free(workers);
	fprintf(stderr, "ktls-serve: stopped\n");
	return 0;
}
