/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * libktls: hand an established TCP socket to ktls-agent, which runs the TLS
 * handshake (certificates, keys and all) and installs kernel TLS on it.
 * When the call reports success the socket carries TLS in the kernel: the
 * caller reads and writes plaintext, and sendfile() is encrypted by the
 * kernel or the NIC.  Link with `pkg-config --libs ktls`.
 *
 * Paths: the ktls_offload kernel module when it is loaded and an agent is
 * registered with it, else the agent's UNIX socket
 * (<ktls-offload/agent-socket.h>).  Both give the same results.
 *
 * ABI: libktls.so.1, its functions versioned KTLS_1.0 (dist/libktls.map);
 * nothing but the functions below is exported, by the static library
 * either.  The two structs a caller fills in start with their size
 * (KTLS_PARAMS_INIT, KTLS_RESULT_INIT), so that later releases can add
 * members at their end: the library reads and writes only the bytes the
 * caller's size covers, and takes members it does not know of as zero.
 * A program built against this header keeps working with later 1.x
 * releases; new functions come in new version nodes.
 *
 * Errors: functions return 0 or a negative errno; a handshake's own
 * outcome is ktls_result.status, 0 or a positive errno (ktls-agent(8) has
 * the table: EKEYREJECTED untrusted certificate, EKEYEXPIRED expired,
 * EPROTO protocol error, ECONNRESET peer gone, ETIMEDOUT, ...), with a
 * readable ktls_result.reason.
 *
 * Threads: a context is used by one thread at a time.  Open one per
 * thread; the agent spreads the contexts' handshakes over its workers.
 *
 * While a request is in flight the socket belongs to the agent: do not
 * read, write, poll or close it until its result is collected.  After a
 * failed handshake the socket is dead: it may hold half a handshake, it
 * may carry the tls ULP without keys (the agent puts it on as a handshake
 * begins), and when the module ended a request the agent was working on
 * (timeout, cancel, the agent gone) the kernel has shut it down.  Close it.
 */
#ifndef KTLS_OFFLOAD_KTLS_H
#define KTLS_OFFLOAD_KTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which side of the handshake the agent plays on the socket. */
#define KTLS_ROLE_SERVER 1	/* an accept()ed socket: the agent is the server */
#define KTLS_ROLE_CLIENT 2	/* a connect()ed socket: the agent is the client */

enum ktls_path {
	/* the module if it is loaded and an agent is registered with it,
	 * else the UNIX socket (also when the module has no agent but the
	 * socket cannot be reached: then requests fail with -ESRCH) */
	KTLS_PATH_AUTO,
	KTLS_PATH_MODULE,	/* only the module: -ENOENT if not loaded */
	KTLS_PATH_SOCKET,	/* only the agent's UNIX socket */
};

struct ktls_ctx;

/*
 * A request's parameters.  Initialise with KTLS_PARAMS_INIT(...), which
 * sets @size, and name the members: struct ktls_params p =
 * KTLS_PARAMS_INIT(.role = KTLS_ROLE_SERVER, .alpn = "h2,http/1.1");
 */
struct ktls_params {
	size_t size;		/* sizeof(struct ktls_params) as the caller knows it */
	int role;		/* KTLS_ROLE_*; required */
	const char *profile;	/* agent profile; NULL: "default" */
	const char *peername;	/* client role: server name to verify and
				 * send as SNI (DNS name or IP); required */
	const char *alpn;	/* comma-separated; NULL: the profile's */
	unsigned int timeout_ms; /* 0: the default (10 s); at most 300000 */
	uint64_t cookie;	/* returned in the result, untouched */
};

#define KTLS_PARAMS_INIT(...) { .size = sizeof(struct ktls_params), __VA_ARGS__ }

/*
 * A request's result.  The caller sets @size (KTLS_RESULT_INIT) before
 * passing it to ktls_handshake() or ktls_collect(), which fill in the
 * rest and leave @size as it was.  The strings are NUL-terminated, ""
 * when there is nothing to say.
 */
struct ktls_result {
	size_t size;		/* sizeof(struct ktls_result) as the caller knows it */
	uint32_t id;		/* as returned by ktls_submit() */
	int fd;			/* the socket that was submitted */
	int status;		/* 0, or a positive errno: the handshake failed */
	uint64_t cookie;
	/* on success: */
	uint16_t tls_version;	/* 0x0303 (TLS 1.2) or 0x0304 (TLS 1.3) */
	uint16_t cipher;	/* TLS_CIPHER_* of <linux/tls.h> */
	bool resumed;		/* session resumption */
	char alpn[256];		/* the negotiated protocol, or "" */
	char peer_identity[1024]; /* the peer certificate's subject DN, or ""
				 * (no certificate: a client without one) */
	/* on success, and on failure when the handshake got that far: */
	char sni[256];		/* server role: the server name the client
				 * asked for; client role: the one sent (the
				 * peername, unless it is an IP address) */
	/* on failure: */
	char reason[256];	/* why, in words: the certificate check's
				 * verdict, the peer's alert, GnuTLS's error,
				 * or the status's strerror() when the agent
				 * gave none (a timeout, a cancel, ...) */
};

#define KTLS_RESULT_INIT { .size = sizeof(struct ktls_result) }

/*
 * Opens a context.  @socket_path: the agent's socket, NULL for
 * $KTLS_AGENT_SOCKET or the default.  Errors: -ENOENT the module is not
 * loaded (KTLS_PATH_MODULE) or the socket does not exist; -ECONNREFUSED no
 * agent listens there; -EACCES not allowed to connect (the socket's group,
 * see ktls-agent.conf(5)); -ENOMEM, -EMFILE.
 *
 * KTLS_PATH_AUTO asks the module how many agents are registered; with
 * none it connects to the socket instead.  A context of KTLS_PATH_AUTO
 * that uses the module, has nothing pending and is refused a request
 * with -ESRCH (the agent went away from the module) tries the socket
 * for that request and keeps to it.
 */
int ktls_open(struct ktls_ctx **ctx, enum ktls_path path, const char *socket_path);

/* Closes the context; requests still in flight are cancelled. */
void ktls_close(struct ktls_ctx *ctx);

/* The path a context uses: KTLS_PATH_MODULE or KTLS_PATH_SOCKET. */
enum ktls_path ktls_get_path(const struct ktls_ctx *ctx);

/*
 * Blocking: hands @fd (an established TCP socket) to the agent and waits
 * (in poll(), never inside the kernel's netlink code) for the handshake's
 * result in @res.  Returns 0 when a result is in @res
 * (check res->status), or a negative errno if the request could not be
 * made (-EBADF, -ENOTSOCK, -ENOTCONN, -EINVAL (also: @p->size or
 * @res->size too small), -E2BIG (@p has members this library does not
 * know, not zero), -EBUSY, -ESRCH no agent, -EAGAIN too many pending,
 * -EPIPE the agent went away, -EINTR).  Results of asynchronous requests
 * that arrive meanwhile are kept for ktls_collect() (and make
 * ktls_pollfd() readable).
 */
int ktls_handshake(struct ktls_ctx *ctx, int fd, const struct ktls_params *p,
		   struct ktls_result *res);

/*
 * Asynchronous: submits @fd and returns at once with its @id.  Errors as
 * ktls_handshake(); with the UNIX socket, a refusal (say, -ENOTCONN) may
 * instead arrive later as the result's status.
 */
int ktls_submit(struct ktls_ctx *ctx, int fd, const struct ktls_params *p,
		uint32_t *id);

/*
 * Completion for an event loop: a descriptor that polls readable (POLLIN)
 * whenever results are waiting, whichever call fetched them (a submit, a cancel, a blocking
 * ktls_handshake()).  When it does, call ktls_collect() until -EAGAIN;
 * nothing else is needed after a submit.  It is level-triggered: with a
 * poll that is too (epoll without EPOLLET, poll()), one ktls_collect() per
 * report is enough, as it reports again while results wait, and saves the
 * last call's read of an empty socket.  It may be readable with no
 * result ready (a message that was not one); it stays the same
 * descriptor for the context's life, and belongs to the context: do not
 * read it or close it.
 */
int ktls_pollfd(const struct ktls_ctx *ctx);

/*
 * Takes one finished request's result without blocking.  @res->size must
 * be set (KTLS_RESULT_INIT).  Returns 0 with @res filled, -EAGAIN if none
 * is ready, -EINVAL for a @res->size too small, or another negative errno
 * (-EPIPE: the agent went away; every pending request then comes back
 * with status ECONNABORTED).  Call until -EAGAIN when ktls_pollfd()
 * polls readable.
 */
int ktls_collect(struct ktls_ctx *ctx, struct ktls_result *res);

/*
 * Ends a pending request: its result comes back with status ECANCELED
 * (unless it had already finished).  -ENOENT: no such pending request.
 */
int ktls_cancel(struct ktls_ctx *ctx, uint32_t id);

/* Number of submitted requests whose results have not been collected. */
unsigned int ktls_pending(const struct ktls_ctx *ctx);

/* TLS alerts (RFC 8446 6, RFC 5246 7.2): levels and the descriptions
 * libktls sends or reports. */
#define KTLS_ALERT_WARNING		1
#define KTLS_ALERT_FATAL		2
#define KTLS_ALERT_CLOSE_NOTIFY		0
#define KTLS_ALERT_UNEXPECTED_MESSAGE	10
#define KTLS_ALERT_BAD_RECORD_MAC	20
#define KTLS_ALERT_RECORD_OVERFLOW	22
#define KTLS_ALERT_ILLEGAL_PARAMETER	47
#define KTLS_ALERT_DECODE_ERROR		50
#define KTLS_ALERT_PROTOCOL_VERSION	70
#define KTLS_ALERT_INTERNAL_ERROR	80
#define KTLS_ALERT_USER_CANCELED	90
#define KTLS_ALERT_NO_RENEGOTIATION	100

/*
 * recv() for a socket with kernel TLS, which hands non-data records and
 * record errors to the reader, answered here as a TLS endpoint must (RFC
 * 8446, RFC 5246).  Returns the number of data bytes read (@flags as
 * recv()), 0 at end of stream, or -1 with errno set.  A -1 other than
 * recv()'s own errors (EAGAIN, EINTR, ...) means the connection is over:
 * close it, and send nothing more.
 *
 *   the peer sent                       answer                  returns
 *   close_notify                        (none: the caller's)    0
 *   a fatal alert (any alert in TLS 1.3
 *     but close_notify, user_canceled)  none                    ECONNRESET
 *   a TLS 1.2 warning alert, or
 *     user_canceled                     none, read on           data
 *   an alert record not of 2 bytes      fatal decode_error      EPROTO
 *     (empty: unexpected_message); an
 *     alert level not 1 or 2 (TLS 1.2)  fatal illegal_parameter EPROTO
 *   ChangeCipherSpec, an unknown record
 *     type, an empty handshake record   fatal unexpected_message EPROTO
 *   NewSessionTicket (TLS 1.3)          none, skipped           data
 *   KeyUpdate of a length other than 1  fatal decode_error      EPROTO
 *   KeyUpdate cut at its record's end,
 *     or with more after it in the
 *     record (RFC 8446 5.1)             fatal unexpected_message EPROTO
 *   KeyUpdate with a value not 0 or 1   fatal illegal_parameter EPROTO
 *   a valid KeyUpdate                   fatal internal_error    ENOTSUP
 *     (kernels before 6.14 cannot rekey kernel TLS; later ones stop
 *     reading after it, and a read after that one fails with ENOTSUP,
 *     answering nothing more).  On 6.14 and later, a socket handed back
 *     through the module (KTLS_PATH_MODULE) never shows ktls_recv() a
 *     KeyUpdate: the module follows and answers it, and checks malformed
 *     ones itself (the alerts above; reads then fail with EBADMSG).
 *   a TLS 1.2 ClientHello or
 *     HelloRequest (renegotiation)      warning no_renegotiation, read on
 *   any other handshake message         fatal unexpected_message EPROTO
 *   a record that fails to decrypt      fatal bad_record_mac    EBADMSG
 *   a record over 2^14 bytes of
 *     plaintext                         fatal record_overflow   EMSGSIZE
 *   a record of another version         fatal protocol_version  EINVAL
 *
 *   a handshake message split across
 *     records, the rest not yet here,
 *     on a non-blocking read            fatal unexpected_message EPROTO
 *     (a blocking read waits for it, 10 s at most: ETIMEDOUT)
 *   a sixth control record in a row
 *     within one call (nothing else)    fatal unexpected_message EPROTO
 *
 * ktls_recv() does not know its side of the connection; a server reading
 * with it takes a client's NewSessionTicket or HelloRequest as above.
 * After a control record a blocking read goes on waiting for data, as
 * recv() does.  The caller answers close_notify with its own
 * (ktls_send_alert()) once it has written what it still had to write,
 * then closes.
 */
#include <sys/types.h>
ssize_t ktls_recv(int fd, void *buf, size_t len, int flags);

/*
 * Sends an alert of @level (KTLS_ALERT_WARNING or KTLS_ALERT_FATAL) and
 * @description (KTLS_ALERT_*, or any other RFC value) on a socket with
 * kernel TLS, as an alert record through the kernel (TLS_SET_RECORD_TYPE),
 * after any data still queued.  For servers that read the socket
 * themselves: a read that failed with EBADMSG calls for bad_record_mac,
 * EMSGSIZE for record_overflow (see ktls_recv() for the rest).  A fatal
 * alert first clears the error that the kernel left on the socket after a
 * failed read (SO_ERROR), which would otherwise fail the send.  Does not
 * block.  Returns 0, or -1 with errno.
 */
int ktls_send_alert(int fd, int level, int description);

/* ktls_send_alert(fd, KTLS_ALERT_WARNING, KTLS_ALERT_CLOSE_NOTIFY): the last
 * thing written before close() or shutdown(). */
int ktls_send_close_notify(int fd);

/* "AES-128-GCM" and so on for a TLS_CIPHER_* value; "unknown" otherwise. */
const char *ktls_cipher_name(uint16_t cipher);

#ifdef __cplusplus
}
#endif

#endif
