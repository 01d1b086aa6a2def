// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libktls's ktls_recv() and alerts (<ktls-offload/ktls.h>, record.h):
 * reading a kernel TLS socket as a TLS endpoint must.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/tls.h>
#include <ktls-offload/ktls.h>

#include "record.h"

#define API __attribute__((visibility("default")))

#define REC_ALERT	21
#define REC_HANDSHAKE	22
#define REC_DATA	23
#define HS_HELLO_REQUEST	0
#define HS_CLIENT_HELLO		1
#define HS_NEW_SESSION_TICKET	4
#define HS_KEY_UPDATE		24
/* a whole control record: at most 2^14 bytes of plaintext */
#define REC_MAX		16384

/* Sends a fatal alert for what the peer did wrong; fails with @err. */
static ssize_t refuse(int fd, int description, int err)
{
	ktls_send_alert(fd, KTLS_ALERT_FATAL, description);
	errno = err;
	return -1;
}

/*
 * A read that failed.  The kernel reports a record it could not decrypt
 * (or one shorter than its tag) as EBADMSG, one over 2^14 bytes of
 * plaintext as EMSGSIZE, a record header with another version as EINVAL;
 * it sends nothing itself and leaves the connection to us.
 */
static ssize_t read_failed(int fd)
{
	int err = errno;

	switch (err) {
	case EBADMSG:
		return refuse(fd, KTLS_ALERT_BAD_RECORD_MAC, err);
	case EMSGSIZE:
		return refuse(fd, KTLS_ALERT_RECORD_OVERFLOW, err);
	case EINVAL:
		return refuse(fd, KTLS_ALERT_PROTOCOL_VERSION, err);
	case EKEYEXPIRED:
		/* kernel TLS with rekey (6.14 on) reads nothing after the
		 * peer's KeyUpdate until new keys come; the read that met it
		 * has answered it (on_handshake()) */
		err = ENOTSUP;
		break;
	}
	errno = err;
	return -1;
}

ssize_t ktls_read_error(int fd, int err)
{
	errno = err;
	return read_failed(fd);
}

/* The record type of a recvmsg() result, or 0 when the kernel gave none. */
static unsigned char record_type(struct msghdr *mh)
{
	struct cmsghdr *c = CMSG_FIRSTHDR(mh);

	if (c && c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_GET_RECORD_TYPE)
		return *(unsigned char *)CMSG_DATA(c);
	return 0;
}

/* How a read goes on: the caller's role, and until when it may wait. */
struct rx {
	int role;		/* KTLS_ROLE_SERVER, _CLIENT, or -1: either */
	long long deadline_ms;	/* CLOCK_MONOTONIC; 0: never wait */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until @fd is readable or @rx's deadline passes: 0, or -1. */
static int wait_readable(int fd, const struct rx *rx)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = rx->deadline_ms - now_ms();
		int ret;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ret = poll(&pfd, 1, left > 10000 ? 10000 : (int)left);
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Reads (more of) a control record of @type into @rec from *@have on,
 * until the kernel flags the record's end (MSG_EOR).  @more: read the
 * next record too (a handshake message that goes on in the next record),
 * waiting for it only when @rx allows (a blocking read, for at most 10 s
 * in all): a caller that must not block, an event loop, never waits for a
 * peer that sends a message a byte at a time.  Returns 0, or -1 with
 * errno: EPROTO when what came is not of @type, or the rest of the
 * message is not there and may not be waited for (unexpected_message).
 */
static int read_control(int fd, unsigned char type, unsigned char *rec, size_t *have,
			bool more, const struct rx *rx)
{
	bool eor = false;

	while (!eor || more) {
		char cbuf[CMSG_SPACE(sizeof(unsigned char))];
		struct iovec iov = { rec + *have, REC_MAX + 64 - *have };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		ssize_t n;

		if (more && rx->deadline_ms && wait_readable(fd, rx))
			return -1;
		if (iov.iov_len == 0) {
			errno = EMSGSIZE;
			return -1;
		}
		n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0 && more && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* RFC 8446 5.1 lets a message span records; one
			 * whose rest is not here when we may not wait is
			 * refused rather than held for */
			refuse(fd, KTLS_ALERT_UNEXPECTED_MESSAGE, EPROTO);
			return -1;
		}
		if (n < 0)
			return (int)read_failed(fd);
		if (n == 0 && !record_type(&mh)) {
			errno = ECONNRESET;	/* end of stream inside a message */
			return -1;
		}
		if (record_type(&mh) != type || (more && n == 0)) {
			/* RFC 8446 5.1: nothing between the records of a
			 * message, and no empty handshake records */
			refuse(fd, KTLS_ALERT_UNEXPECTED_MESSAGE, EPROTO);
			return -1;
		}
		*have += (size_t)n;
		eor = mh.msg_flags & MSG_EOR;
		more = false;
	}
	return 0;
}

/* The TLS version of the socket's kernel TLS: 0x0303 or 0x0304. */
static unsigned int rx_version(int fd)
{
	struct tls_crypto_info ci = { 0 };
	socklen_t len = sizeof(ci);

	if (getsockopt(fd, SOL_TLS, TLS_RX, &ci, &len) && getsockopt(fd, SOL_TLS, TLS_TX, &ci, &len))
		return TLS_1_3_VERSION;
	return ci.version;
}

/* An alert record: 0 at close_notify, 1 to read on, -1 with errno. */
static int on_alert(int fd, const unsigned char *rec, size_t have)
{
	bool tls13;

	if (have == 0)		/* RFC 8446 5.1: no empty alert records */
		return (int)refuse(fd, KTLS_ALERT_UNEXPECTED_MESSAGE, EPROTO);
	if (have != 2)		/* one alert per record, not fragmented */
		return (int)refuse(fd, KTLS_ALERT_DECODE_ERROR, EPROTO);
	if (rec[1] == KTLS_ALERT_CLOSE_NOTIFY)
		return 0;
	if (rec[1] == KTLS_ALERT_USER_CANCELED)
		return 1;	/* close_notify follows */
	/* (asked only now: the usual close_notify needs no system call) */
	tls13 = rx_version(fd) == TLS_1_3_VERSION;
	if (!tls13 && rec[0] == KTLS_ALERT_WARNING)
		return 1;	/* RFC 5246 7.2: the connection may go on */
	if (!tls13 && rec[0] != KTLS_ALERT_FATAL)
		return (int)refuse(fd, KTLS_ALERT_ILLEGAL_PARAMETER, EPROTO);
	/* TLS 1.3 6.2: every other alert is an error alert, whatever its level */
	errno = ECONNRESET;
	return -1;
}

/*
 * A handshake record: 1 to read on (after answering it), -1 with errno.
 * A message cut at the record's end goes on in the next record, which is
 * read here (RFC 8446 5.1: nothing else may come in between).  A server
 * takes only KeyUpdate (TLS 1.3) or a ClientHello (TLS 1.2, refused with
 * no_renegotiation); a client only KeyUpdate and NewSessionTicket, or a
 * HelloRequest; anything else is unexpected_message.
 */
static int on_handshake(int fd, unsigned char *rec, size_t have, const struct rx *rx)
{
	bool tls13 = rx_version(fd) == TLS_1_3_VERSION;
	size_t off = 0;

	if (have == 0)		/* RFC 8446 5.1, RFC 5246 6.2.1 */
		return (int)refuse(fd, KTLS_ALERT_UNEXPECTED_MESSAGE, EPROTO);
	while (off < have) {
		unsigned char type;
		size_t mlen;

		/*
		 * RFC 8446 5.1: a message before a key change ends at its
		 * record's end.  A KeyUpdate cut short or followed by more is
		 * refused before any read of the rest, which kernels with TLS
		 * rekey (6.14 on) would not give: they stop reading after a
		 * record that starts one.
		 */
		if (rec[off] == HS_KEY_UPDATE && have - off < 4)
			return (int)refuse(fd, KTLS_ALERT_UNEXPECTED_MESSAGE, EPROTO);
		if (have - off < 4) {
			if (read_control(fd, REC_HANDSHAKE, rec, &have, true, rx))
				return -1;
			continue;
		}
		type = rec[off];
		mlen = (size_t)rec[off + 1] << 16 | (size_t)rec[off + 2] << 8 | rec[off + 3];
		if (tls13 && type == HS_KEY_UPDATE && mlen != 1)
			return (int)refuse(fd, KTLS_ALERT_DECODE_ERROR, EPROTO);
		if (tls13 && type == HS_KEY_UPDATE && have - off != 4 + mlen)
			return (int)refuse(fd, KTLS_ALERT_UNEXPECTED_MESSAGE, EPROTO);
		if (!tls13 && type == HS_HELLO_REQUEST && mlen != 0)
			return (int)refuse(fd, KTLS_ALERT_DECODE_ERROR, EPROTO);
		if (tls13 ? type != HS_KEY_UPDATE &&
			    (type != HS_NEW_SESSION_TICKET || rx->role == KTLS_ROLE_SERVER) :
			    (type != HS_HELLO_REQUEST || rx->role == KTLS_ROLE_SERVER) &&
			    (type != HS_CLIENT_HELLO || rx->role == KTLS_ROLE_CLIENT))
			return (int)refuse(fd, KTLS_ALERT_UNEXPECTED_MESSAGE, EPROTO);
		if (4 + mlen > REC_MAX + 64 - off)
			return (int)refuse(fd, KTLS_ALERT_UNEXPECTED_MESSAGE, EPROTO);
		while (have - off < 4 + mlen)
			if (read_control(fd, REC_HANDSHAKE, rec, &have, true, rx))
				return -1;
		if (type == HS_KEY_UPDATE) {
			if (rec[off + 4] > 1)	/* update_not_requested, update_requested */
				return (int)refuse(fd, KTLS_ALERT_ILLEGAL_PARAMETER, EPROTO);
			/* Valid, but kernel TLS before 6.14 cannot take new
			 * keys (a second TLS_RX fails with EBUSY), and the
			 * keys are not here: end the connection, saying so. */
			return (int)refuse(fd, KTLS_ALERT_INTERNAL_ERROR, ENOTSUP);
		}
		if (type != HS_NEW_SESSION_TICKET)	/* RFC 5746 4.5: refuse to renegotiate */
			ktls_send_alert(fd, KTLS_ALERT_WARNING, KTLS_ALERT_NO_RENEGOTIATION);
		off += 4 + mlen;
	}
	return 1;
}

/* Consecutive control records one read answers before it gives up on a
 * peer that sends nothing else (as TLS libraries bound warning alerts). */
#define MAX_CONTROL_RECORDS 5

ssize_t ktls_recv_role(int fd, void *buf, size_t len, int flags, int role)
{
	unsigned char rec[REC_MAX + 64];
	struct rx rx = { .role = role };
	int controls = 0;

	if (!(flags & MSG_DONTWAIT) && !(fcntl(fd, F_GETFL) & O_NONBLOCK))
		rx.deadline_ms = now_ms() + 10000;
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(unsigned char))];
		struct iovec iov = { buf, len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		unsigned char type;
		size_t have = 0;
		ssize_t n = recvmsg(fd, &mh, flags);
		int ret;

		if (n < 0)
			return read_failed(fd);
		type = record_type(&mh);
		if (!type || type == REC_DATA)
			return n;	/* data, or end of stream (no record) */
		/*
		 * A control record, of which @buf may hold only the start.
		 * Control records never go to the caller: take it whole into
		 * @rec.  A peek leaves a close_notify for the next read.
		 */
		if (flags & MSG_PEEK) {
			iov.iov_base = rec;
			iov.iov_len = sizeof(rec);
			mh.msg_controllen = sizeof(cbuf);
			n = recvmsg(fd, &mh, flags | MSG_DONTWAIT);
			if (n < 0)
				return read_failed(fd);
			if (record_type(&mh) == REC_ALERT && n == 2 &&
			    rec[1] == KTLS_ALERT_CLOSE_NOTIFY)
				return 0;
			if (read_control(fd, type, rec, &have, false, &rx))
				return -1;
		} else {
			memcpy(rec, buf, (size_t)n);
			have = (size_t)n;
			if (!(mh.msg_flags & MSG_EOR) &&
			    read_control(fd, type, rec, &have, false, &rx))
				return -1;
		}
		if (type == REC_ALERT)
			ret = on_alert(fd, rec, have);
		else if (type == REC_HANDSHAKE)
			ret = on_handshake(fd, rec, have, &rx);
		else	/* ChangeCipherSpec after the handshake, or unknown */
			ret = (int)refuse(fd, KTLS_ALERT_UNEXPECTED_MESSAGE, EPROTO);
		if (ret <= 0)
			return ret;
		if (++controls > MAX_CONTROL_RECORDS)
			return refuse(fd, KTLS_ALERT_UNEXPECTED_MESSAGE, EPROTO);
	}
}

API ssize_t ktls_recv(int fd, void *buf, size_t len, int flags)
{
	return ktls_recv_role(fd, buf, len, flags, -1);
}

API int ktls_send_alert(int fd, int level, int description)
{
	char cbuf[CMSG_SPACE(sizeof(unsigned char))] = { 0 };
	unsigned char alert[2] = { (unsigned char)level, (unsigned char)description };
	struct iovec iov = { alert, sizeof(alert) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	if (level == KTLS_ALERT_FATAL) {
		/* a failed read left its error on the socket, where it would
		 * fail this send (the kernel checks it before sending) */
		int err;
		socklen_t elen = sizeof(err);

		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	}
	c->cmsg_level = SOL_TLS;
	c->cmsg_type = TLS_SET_RECORD_TYPE;
	c->cmsg_len = CMSG_LEN(sizeof(unsigned char));
	*CMSG_DATA(c) = REC_ALERT;
	return sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == 2 ? 0 : -1;
}

API int ktls_send_close_notify(int fd)
{
	return ktls_send_alert(fd, KTLS_ALERT_WARNING, KTLS_ALERT_CLOSE_NOTIFY);
}
