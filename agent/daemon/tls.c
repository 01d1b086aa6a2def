// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ktls-agent's TLS handshake: one non-blocking GnuTLS handshake on a
 * socket, reading no further than the handshake's records, refusing
 * record size limits kernel TLS cannot keep, and ending with the session's
 * keys ready for kernel TLS (session_keys.c).  The profiles it runs with
 * are loaded in tls_profile.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "session_keys.h"
#include "ktls_keys.h"
#include "tls.h"

struct tls_handshake {
	gnutls_session_t s;
	const struct tls_profile *p;
	int fd;
	enum tls_role role;
	gnutls_datum_t alpn[16];
	char alpn_buf[256];
	char peername[256];		/* GnuTLS keeps a pointer to it */
	gnutls_typed_vdata_st vdata[2];	/* what the peer's certificate must match */
	unsigned int n_vdata;
	/* record-bounded reads (tls_pull) */
	unsigned char hdr[5];		/* the current record's header */
	unsigned int hdr_have;		/* bytes of it read from the socket */
	unsigned int hdr_given;		/* bytes of it passed to GnuTLS */
	size_t body_left;		/* bytes of its body still unread */
	bool records_seen;		/* a whole record header was read */
	bool v2_refused;		/* the peer's hello was SSLv2-framed */
	bool sends_tickets;		/* a server whose profile issues tickets (not
					 * an upcall's): client_hello_hook() picks the
					 * master, handshake_step() sends TLS 1.3's */
	unsigned int tickets_due;	/* TLS 1.3 tickets still to send */
	bool coalesce;			/* sends go with MSG_MORE ... */
	bool held;			/* ... and some wait for tls_flush() */
	unsigned int small_records;	/* record limit the client asked for, if < 2^14 */
	const char *small_ext;		/* ... in this extension */
	uint8_t ticket_name[TICKET_NAME_SIZE];	/* of the client's ticket ... */
	bool has_ticket;			/* ... if it brought one */
	uint8_t secret[2][48];		/* client's, server's application traffic secret */
	uint8_t secret_len[2];
	bool ulp_attached;		/* the tls ULP went on as it began */
	void *psk_ctx;
};

/*
 * Kernel TLS on 6.1 and 6.12 sends records of up to 2^14 bytes and has no
 * option to send smaller ones (TLS_TX_MAX_PAYLOAD_LEN came later).  So a
 * limit the client asks for (max_fragment_length, RFC 6066: 512 to 4096;
 * record_size_limit, RFC 8449) could not be kept after the handoff: its
 * ClientHello is refused with a handshake_failure alert rather than
 * answered with records it must reject mid-stream.  A record_size_limit
 * of 2^14 or more (browsers send 2^14 + 1) is no limit here and is fine.
 */
#define KTLS_RECORD_MAX 16384
#define EXT_MAX_FRAGMENT_LENGTH 1
#define EXT_RECORD_SIZE_LIMIT 28
#define EXT_SESSION_TICKET 35		/* TLS 1.2: the ticket itself */
#define EXT_PRE_SHARED_KEY 41		/* TLS 1.3: identities, the first a ticket */

static void __attribute__((format(printf, 3, 4)))
fail(struct tls_result *res, int err, const char *fmt, ...)
{
	va_list ap;

	res->err = err;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

/*
 * Socket I/O for GnuTLS.  The socket's file description is shared with the
 * requester, so its O_NONBLOCK flag is not ours to change: every call is
 * non-blocking by MSG_DONTWAIT instead.
 *
 * Reads never cross the end of a TLS record: GnuTLS sees the handshake's
 * records and nothing after them.  Whatever the peer sends behind its last
 * handshake record (a client's request in the same flight as its
 * Finished) stays in the socket for kernel TLS to decrypt.  (GnuTLS 3.7
 * itself asks for exact record sizes; this makes it a property of the
 * agent rather than of GnuTLS's buffering.)  A partial
 * record header is consumed into h->hdr rather than peeked at, so a peer
 * trickling bytes cannot keep the socket readable and spin the worker.
 */

/*
 * GnuTLS queues a flight's records and flushes them in one call here: one
 * sendmsg(), so that they leave in as few segments as the MSS allows and
 * the peer wakes once.  With only a push function GnuTLS would send each
 * record on its own.  GnuTLS 3.7 still flushes a TLS 1.3 server's flight
 * twice (ServerHello before the change of keys, then EncryptedExtensions
 * to Finished): on a TCP socket every send goes with MSG_MORE, and the
 * kernel holds a partial segment until tls_flush(), called when GnuTLS
 * turns to reading and when a step of the handshake returns.
 */
static ssize_t tls_vec_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct tls_handshake *h = ptr;
	struct iovec v[32];
	struct msghdr m = { .msg_iov = v };
	ssize_t n;
	int i;

	if (iovcnt > (int)(sizeof(v) / sizeof(v[0])))
		iovcnt = sizeof(v) / sizeof(v[0]);	/* a short write: GnuTLS sends the rest */
	for (i = 0; i < iovcnt; i++) {
		v[i].iov_base = iov[i].iov_base;
		v[i].iov_len = iov[i].iov_len;
	}
	m.msg_iovlen = (size_t)iovcnt;
	n = sendmsg(h->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL | (h->coalesce ? MSG_MORE : 0));
	h->held |= n > 0 && h->coalesce;
	return n;
}

/* A single buffer goes the same way (MSG_MORE, held). */
static ssize_t tls_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	giovec_t v = { .iov_base = (void *)buf, .iov_len = len };

	return tls_vec_push(ptr, &v, 1);
}

/* Sends what MSG_MORE held back: taking the cork off a socket that has
 * none pushes its queue out. */
static void tls_flush(struct tls_handshake *h)
{
	int off = 0;

	if (!h->held)
		return;
	h->held = false;
	setsockopt(h->fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
}

static ssize_t tls_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct tls_handshake *h = ptr;
	ssize_t n;

	if (!len)
		return 0;
	tls_flush(h);
	if (h->hdr_given == sizeof(h->hdr) && !h->body_left)
		h->hdr_have = h->hdr_given = 0;		/* record done: next one */
	while (h->hdr_have < sizeof(h->hdr)) {
		n = recv(h->fd, h->hdr + h->hdr_have, sizeof(h->hdr) - h->hdr_have,
			 MSG_DONTWAIT);
		if (n <= 0)
			return n;
		h->hdr_have += (unsigned int)n;
		/*
		 * A first byte with its top bit set frames an SSLv2-compatible
		 * ClientHello, which servers may refuse (RFC 5246 E.2) and
		 * this one does.  Left to GnuTLS, it would wait for the whole
		 * length that such a header claims (up to 16 KiB), so a peer
		 * sending garbage would hold the connection until the
		 * handshake timeout instead of being refused at once.
		 */
		if (h->role == TLS_ROLE_SERVER && !h->records_seen && (h->hdr[0] & 0x80)) {
			h->v2_refused = true;
			errno = EPROTONOSUPPORT;
			return -1;
		}
		if (h->hdr_have == sizeof(h->hdr)) {
			h->records_seen = true;
			h->body_left = (size_t)h->hdr[3] << 8 | h->hdr[4];
		}
	}
	if (h->hdr_given < sizeof(h->hdr)) {
		size_t k = sizeof(h->hdr) - h->hdr_given;

		if (k > len)
			k = len;
		memcpy(buf, h->hdr + h->hdr_given, k);
		h->hdr_given += (unsigned int)k;
		return (ssize_t)k;
	}
	n = recv(h->fd, buf, len < h->body_left ? len : h->body_left, MSG_DONTWAIT);
	if (n > 0)
		h->body_left -= (size_t)n;
	return n;
}

static int tls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct tls_handshake *h = ptr;
	struct pollfd pfd = { .fd = h->fd, .events = POLLIN };

	tls_flush(h);
	if (h->hdr_have == sizeof(h->hdr) && h->hdr_given < sizeof(h->hdr))
		return 1;
	return poll(&pfd, 1, (int)ms);
}

/* What the ClientHello's extensions mean here: record size limits, and
 * the name of the session ticket it brings. */
static int hello_ext(void *ctx, unsigned int tls_id, const unsigned char *data,
		     unsigned int size)
{
	struct tls_handshake *h = ctx;

	if (tls_id == EXT_SESSION_TICKET && size >= TICKET_NAME_SIZE) {
		memcpy(h->ticket_name, data, TICKET_NAME_SIZE);
		h->has_ticket = true;
	} else if (tls_id == EXT_PRE_SHARED_KEY && size >= 4 + TICKET_NAME_SIZE &&
		   (unsigned int)(data[2] << 8 | data[3]) >= TICKET_NAME_SIZE) {
		/* identities<7..2^16-1>: the first identity<1..2^16-1> */
		memcpy(h->ticket_name, data + 4, TICKET_NAME_SIZE);
		h->has_ticket = true;
	}

	if (tls_id == EXT_MAX_FRAGMENT_LENGTH && size == 1 && data[0] >= 1 && data[0] <= 4) {
		h->small_records = 256u << data[0];	/* 1: 2^9 ... 4: 2^12 */
		h->small_ext = "max_fragment_length";
	} else if (tls_id == EXT_RECORD_SIZE_LIMIT && size == 2 &&
		   (unsigned int)(data[0] << 8 | data[1]) < KTLS_RECORD_MAX) {
		h->small_records = (unsigned int)(data[0] << 8 | data[1]);
		h->small_ext = "record_size_limit";
	}
	return 0;
}

static int client_hello_hook(gnutls_session_t s, unsigned int htype, unsigned int when,
			     unsigned int incoming, const gnutls_datum_t *msg)
{
	struct tls_handshake *h = gnutls_session_get_ptr(s);

	if (!incoming || !h)
		return 0;
	/* a hello GnuTLS cannot parse is refused by GnuTLS itself */
	gnutls_ext_raw_parse(h, hello_ext, msg, GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO);
	if (h->small_records)
		return GNUTLS_E_UNIMPLEMENTED_FEATURE;
	if (h->sends_tickets) {
		/* the key of the master that encrypted the client's ticket,
		 * if it is one of the profile's, else of the current one, in
		 * the profile's context (tickets.h; GnuTLS copies
		 * it; a second hello after HelloRetryRequest keeps the first) */
		uint8_t master[TICKET_MASTER_SIZE];
		gnutls_datum_t d = { master, sizeof(master) };

		tickets_select(h->p->tickets, h->p->ticket_ctx,
			       h->has_ticket ? h->ticket_name : NULL, time(NULL),
			       h->p->conf->ticket_rotation_s, master);
		gnutls_session_ticket_enable_server(s, &d);
		explicit_bzero(master, sizeof(master));
	}
	return 0;
}

static int is_ip_address(const char *name)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

struct tls_handshake *tls_handshake_new(const struct tls_profile *p, int fd,
					enum tls_role role, const char *peername,
					const char *alpn, struct tls_result *res)
{
	return tls_handshake_new2(p, fd, role, peername, alpn, NULL, res);
}

void *tls_handshake_psk_ctx(gnutls_session_t s)
{
	struct tls_handshake *h = gnutls_session_get_ptr(s);

	return h ? h->psk_ctx : NULL;
}

/*
 * GnuTLS reports each secret as it derives it; the application traffic
 * secrets go to the module with DONE (doc/keyupdate.md), nothing else is
 * kept.  The transport pointer is the handshake's in every kind of
 * session (the session pointer is not, for PSK).
 */
static int keylog(gnutls_session_t s, const char *label, const gnutls_datum_t *secret)
{
	struct tls_handshake *h = gnutls_transport_get_ptr(s);
	int i = -1;

	if (!strcmp(label, "CLIENT_TRAFFIC_SECRET_0"))
		i = 0;
	else if (!strcmp(label, "SERVER_TRAFFIC_SECRET_0"))
		i = 1;
	if (i >= 0 && secret->size <= sizeof(h->secret[i])) {
		memcpy(h->secret[i], secret->data, secret->size);
		h->secret_len[i] = (uint8_t)secret->size;
	}
	return 0;
}

struct tls_handshake *tls_handshake_new2(const struct tls_profile *p, int fd,
					 enum tls_role role, const char *peername,
					 const char *alpn, const struct tls_handshake_opts *o,
					 struct tls_result *res)
{
	static const struct tls_handshake_opts none = { .upcall = false };
	struct tls_handshake *h = calloc(1, sizeof(*h));
	bool psk = false;
	unsigned int flags = GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL;
	const gnutls_datum_t *protos = p->alpn;
	unsigned int n_protos = p->n_alpn;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!h) {
		fail(res, ENOMEM, "out of memory");
		return NULL;
	}
	if (!o)
		o = &none;
	psk = o->psk_client || o->psk_server;
	h->p = p;
	h->fd = fd;
	h->role = role;
	{
		int cork = 1;
		socklen_t clen = sizeof(cork);

		/* a TCP socket that its requester has not corked */
		h->coalesce = !getsockopt(fd, IPPROTO_TCP, TCP_CORK, &cork, &clen) && !cork;
	}
	h->psk_ctx = o->psk_ctx;
	if (o->upcall && !p->prio_upcall) {
		fail(res, EINVAL, "profile %s has no upcall priority", p->conf->name);
		goto err;
	}
	/* (a PSK client authenticates the server by the key alone) */
	if (role == TLS_ROLE_CLIENT && !psk && (!peername || !peername[0])) {
		fail(res, EINVAL, "client role without a peer name");
		goto err;
	}
	if (role == TLS_ROLE_SERVER && !psk && !o->creds && !p->conf->n_pairs) {
		fail(res, ENOKEY, "profile %s has no certificate for the server role",
		     p->conf->name);
		goto err;
	}
	/* A client never asks for tickets: a TLS 1.3 server then has no reason
	 * to send NewSessionTicket after the socket went to the kernel. */
	h->sends_tickets = p->conf->tickets && role == TLS_ROLE_SERVER && !o->upcall;
	flags |= h->sends_tickets ? GNUTLS_NO_AUTO_SEND_TICKET : GNUTLS_NO_TICKETS;
	ret = gnutls_init(&h->s, (role == TLS_ROLE_SERVER ? GNUTLS_SERVER : GNUTLS_CLIENT) |
			  flags);
	if (ret < 0) {
		fail(res, ENOMEM, "gnutls_init failed");
		goto err;
	}
	gnutls_transport_set_ptr(h->s, h);
	gnutls_transport_set_push_function(h->s, tls_push);
	gnutls_transport_set_vec_push_function(h->s, tls_vec_push);
	gnutls_transport_set_pull_function(h->s, tls_pull);
	gnutls_transport_set_pull_timeout_function(h->s, tls_pull_timeout);
	gnutls_priority_set(h->s, o->upcall ? p->prio_upcall : p->prio);
	if (o->psk_client)
		gnutls_credentials_set(h->s, GNUTLS_CRD_PSK, o->psk_client);
	else if (o->psk_server)
		gnutls_credentials_set(h->s, GNUTLS_CRD_PSK, o->psk_server);
	else
		gnutls_credentials_set(h->s, GNUTLS_CRD_CERTIFICATE, o->creds ? o->creds : p->creds);
	gnutls_handshake_set_timeout(h->s, 0);
	gnutls_session_set_ptr(h->s, h);
	/* (also keeps the secrets out of an SSLKEYLOGFILE in our environment) */
	gnutls_session_set_keylog_function(h->s, keylog);

	if (role == TLS_ROLE_SERVER) {
		gnutls_handshake_set_hook_function(h->s, GNUTLS_HANDSHAKE_CLIENT_HELLO,
						   GNUTLS_HOOK_PRE, client_hello_hook);
	}
	if (role == TLS_ROLE_SERVER) {
		static const gnutls_certificate_request_t req[] = {
			[CLIENT_CERT_NONE] = GNUTLS_CERT_IGNORE,
			[CLIENT_CERT_OPTIONAL] = GNUTLS_CERT_REQUEST,
			[CLIENT_CERT_REQUIRED] = GNUTLS_CERT_REQUIRE,
		};

		gnutls_certificate_server_set_request(h->s, req[p->conf->client_cert]);
		/* a client certificate must be one for TLS clients (EKU) */
		h->vdata[0].type = GNUTLS_DT_KEY_PURPOSE_OID;
		h->vdata[0].data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT;
		h->n_vdata = 1;
		if (p->conf->client_cert == CLIENT_CERT_REQUIRED)
			gnutls_session_set_verify_cert2(h->s, h->vdata, h->n_vdata, 0);
		/* tickets: enabled in client_hello_hook, with the master the
		 * client's ticket needs */
		if (p->conf->tickets)
			gnutls_db_set_cache_expiration(h->s, (int)p->conf->ticket_rotation_s);
	} else if (!psk) {
		snprintf(h->peername, sizeof(h->peername), "%s", peername);
		if (!is_ip_address(h->peername))
			gnutls_server_name_set(h->s, GNUTLS_NAME_DNS, h->peername,
					       strlen(h->peername));
		/* Chain, validity period, name (DNS or IP) and purpose (a
		 * certificate for TLS servers) against the CAs; GnuTLS keeps
		 * the pointers, so they are the session's own. */
		h->vdata[0].type = GNUTLS_DT_DNS_HOSTNAME;
		h->vdata[0].data = (unsigned char *)h->peername;
		h->vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
		h->vdata[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
		h->n_vdata = 2;
		gnutls_session_set_verify_cert2(h->s, h->vdata, h->n_vdata, 0);
	}

	if (alpn && alpn[0]) {
		n_protos = tls_split_alpn(alpn, h->alpn_buf, sizeof(h->alpn_buf), h->alpn, 16);
		protos = h->alpn;
	}
	if (n_protos)
		gnutls_alpn_set_protocols(h->s, protos, n_protos,
					  role == TLS_ROLE_SERVER ? GNUTLS_ALPN_SERVER_PRECEDENCE : 0);
	/*
	 * The tls ULP goes on now, while the peer cannot have closed yet:
	 * the kernel refuses it once the peer's FIN is in, and a client
	 * that reads our last flight (a TLS 1.3 ticket) and closes at once
	 * would otherwise win that race against agent_handoff().  Until the
	 * keys are set the socket is plain TCP.  Best effort: if it fails,
	 * agent_handoff() tries again and reports what fails.
	 */
	h->ulp_attached = ktls_attach_ulp(fd) == 0;
	return h;
err:
	tls_handshake_free(h);
	return NULL;
}

static void peer_identity(gnutls_session_t s, char *out, size_t len)
{
	const gnutls_datum_t *certs;
	unsigned int n = 0;
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = { 0 };

	out[0] = '\0';
	certs = gnutls_certificate_get_peers(s, &n);
	if (!certs || !n || gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
		snprintf(out, len, "%.*s", (int)dn.size, dn.data);
		gnutls_free(dn.data);
	}
	gnutls_x509_crt_deinit(crt);
}

/* The SNI the client sent (server role) or we sent (client role), or "". */
static void server_name(struct tls_handshake *h, char *out, size_t len)
{
	unsigned int type;

	out[0] = '\0';
	if (h->role == TLS_ROLE_CLIENT) {
		if (!is_ip_address(h->peername))
			snprintf(out, len, "%s", h->peername);
	} else if (gnutls_server_name_get(h->s, out, &len, &type, 0) < 0 ||
		   type != GNUTLS_NAME_DNS) {
		out[0] = '\0';
	}
}

/* Server role, optional client certificates: a certificate sent must verify. */
static int verify_optional_client_cert(struct tls_handshake *h, unsigned int *status)
{
	unsigned int n = 0;

	*status = 0;
	if (h->role != TLS_ROLE_SERVER || h->p->conf->client_cert != CLIENT_CERT_OPTIONAL ||
	    !gnutls_certificate_get_peers(h->s, &n) || !n)
		return 0;
	if (gnutls_certificate_verify_peers(h->s, h->vdata, h->n_vdata, status) < 0 || *status)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return 0;
}

/*
 * The peer's bytes behind its Finished that the agent already read (the
 * start of a record: tls_pull never reads further unless GnuTLS asks)
 * cannot reach kernel TLS.  GnuTLS still has the session, so it reads that
 * record and answers it as any TLS endpoint would: a damaged one with
 * bad_record_mac, an oversized one with record_overflow, and so on; a
 * valid one is data the kernel would never see: internal_error.
 */
static void past_finished(struct tls_handshake *h, struct tls_result *res)
{
	unsigned char buf[256];
	ssize_t n = 0;

	if (!gnutls_record_check_pending(h->s))
		n = gnutls_record_recv(h->s, buf, sizeof(buf));
	explicit_bzero(buf, sizeof(buf));
	if (n < 0 && gnutls_error_is_fatal((int)n)) {
		res->err = agent_gnutls_errno((int)n, 0);
		snprintf(res->reason, sizeof(res->reason), "behind the peer's Finished: %s",
			 gnutls_strerror((int)n));
		if (n != GNUTLS_E_FATAL_ALERT_RECEIVED && n != GNUTLS_E_PREMATURE_TERMINATION &&
		    n != GNUTLS_E_PULL_ERROR && n != GNUTLS_E_PUSH_ERROR)
			gnutls_alert_send_appropriate(h->s, (int)n);
		return;
	}
	res->err = EPROTO;
	snprintf(res->reason, sizeof(res->reason), "kernel TLS: %s (GnuTLS holds data the "
		 "kernel would not see)", strerror(EPROTO));
	gnutls_alert_send(h->s, GNUTLS_AL_FATAL, GNUTLS_A_INTERNAL_ERROR);
}

static int handshake_step(struct tls_handshake *h, bool *want_write,
			  struct tls_result *res)
{
	gnutls_datum_t proto;
	unsigned int status = 0;
	int ret = 0;

	if (!h->tickets_due) {
		do {
			ret = gnutls_handshake(h->s);
		} while (ret < 0 && !gnutls_error_is_fatal(ret) && ret != GNUTLS_E_AGAIN);
		/*
		 * A TLS 1.3 server's tickets: two after a full handshake (a
		 * client may open a second connection before this one ends),
		 * one after a resumption, to replace the ticket it used (as
		 * OpenSSL does; GnuTLS by itself sends two every time, and
		 * each costs both sides work).
		 */
		if (ret == 0 && h->sends_tickets &&
		    gnutls_protocol_get_version(h->s) == GNUTLS_TLS1_3)
			h->tickets_due = gnutls_session_is_resumed(h->s) ? 1 : 2;
	}
	if (h->tickets_due) {
		do {
			ret = gnutls_session_ticket_send(h->s, h->tickets_due, 0);
		} while (ret == GNUTLS_E_INTERRUPTED);
		if (ret != GNUTLS_E_AGAIN)
			h->tickets_due = 0;
	}

	if (ret == GNUTLS_E_AGAIN) {
		*want_write = gnutls_record_get_direction(h->s) == 1;
		return 1;
	}
	/* the result is complete on every path: err 0 means success */
	memset(res, 0, sizeof(*res));
	server_name(h, res->sni, sizeof(res->sni));
	if (h->v2_refused) {
		/* no alert: such a peer would not read a TLS one */
		res->err = EPROTONOSUPPORT;
		snprintf(res->reason, sizeof(res->reason),
			 "SSLv2-compatible ClientHello refused (TLS-framed hellos only)");
		return 0;
	}
	if (h->small_records) {
		res->err = EMSGSIZE;
		snprintf(res->reason, sizeof(res->reason), "the client asks for records of at "
			 "most %u bytes (%s), which kernel TLS cannot keep to: refused",
			 h->small_records, h->small_ext);
		gnutls_alert_send(h->s, GNUTLS_AL_FATAL, GNUTLS_A_HANDSHAKE_FAILURE);
		return 0;
	}
	if (ret == 0)
		ret = verify_optional_client_cert(h, &status);
	if (ret < 0) {
		if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR && !status)
			status = gnutls_session_get_verify_cert_status(h->s);
		res->err = agent_gnutls_errno(ret, status);
		/* tell the peer why, as RFC 8446 6.2 asks (protocol_version,
		 * handshake_failure, bad_certificate, ...); best effort on the
		 * non-blocking socket, and nothing after its own alert or EOF */
		if (ret != GNUTLS_E_FATAL_ALERT_RECEIVED && ret != GNUTLS_E_PREMATURE_TERMINATION &&
		    ret != GNUTLS_E_PULL_ERROR && ret != GNUTLS_E_PUSH_ERROR)
			gnutls_alert_send_appropriate(h->s, ret);
		if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			gnutls_datum_t why = { 0 };

			gnutls_certificate_verification_status_print(status,
				GNUTLS_CRT_X509, &why, 0);
			snprintf(res->reason, sizeof(res->reason), "%s",
				 why.data ? (char *)why.data : gnutls_strerror(ret));
			gnutls_free(why.data);
		} else if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED) {
			snprintf(res->reason, sizeof(res->reason), "peer sent alert: %s",
				 gnutls_alert_get_name(gnutls_alert_get(h->s)));
		} else {
			snprintf(res->reason, sizeof(res->reason), "%s", gnutls_strerror(ret));
		}
		return 0;
	}

	/* bytes of a record read past the handshake would be lost to the kernel */
	if (h->hdr_have != h->hdr_given || h->body_left || gnutls_record_check_pending(h->s)) {
		past_finished(h, res);
		return 0;
	} else if (gnutls_record_get_max_size(h->s) < KTLS_RECORD_MAX) {
		/* a limit negotiated anyway (the client role, a TLS 1.3
		 * record_size_limit of exactly 2^14): the kernel would break it */
		res->err = EMSGSIZE;
		snprintf(res->reason, sizeof(res->reason), "the peer limits records to %zu "
			 "bytes, which kernel TLS cannot keep to: refused",
			 gnutls_record_get_max_size(h->s));
		gnutls_alert_send(h->s, GNUTLS_AL_FATAL, GNUTLS_A_HANDSHAKE_FAILURE);
		return 0;
	} else
		ret = agent_handoff(h->s, h->fd, h->ulp_attached, &res->tls_version,
				    &res->cipher);
	if (ret) {
		res->err = -ret;
		snprintf(res->reason, sizeof(res->reason), "kernel TLS: %s%s", strerror(-ret),
			 ret == -EPROTO ? " (GnuTLS holds data the kernel would not see)" : "");
		return 0;
	}
	if (res->tls_version == 0x0304 && h->secret_len[0] &&
	    h->secret_len[0] == h->secret_len[1]) {
		int tx = h->role == TLS_ROLE_SERVER;

		memcpy(res->tx_secret, h->secret[tx], h->secret_len[0]);
		memcpy(res->rx_secret, h->secret[!tx], h->secret_len[0]);
		res->secret_len = h->secret_len[0];
		res->key_update_after = h->p->conf->key_update_after;
	}
	res->resumed = gnutls_session_is_resumed(h->s);
	if (gnutls_alpn_get_selected_protocol(h->s, &proto) == 0)
		snprintf(res->alpn, sizeof(res->alpn), "%.*s", (int)proto.size, proto.data);
	peer_identity(h->s, res->peer_identity, sizeof(res->peer_identity));
	return 0;
}

int tls_handshake_step(struct tls_handshake *h, bool *want_write,
		       struct tls_result *res)
{
	int ret = handshake_step(h, want_write, res);

	/*
	 * Whatever the step left held goes now, a TLS 1.3 server's tickets
	 * too: a client may close, or ask for its session, as soon as its
	 * handshake is done (GnuTLS waits 50 ms for a ticket), and the
	 * server may send nothing to push them for a long while.
	 */
	tls_flush(h);
	return ret;
}

void tls_handshake_free(struct tls_handshake *h)
{
	if (!h)
		return;
	explicit_bzero(h->secret, sizeof(h->secret));
	/* Deinit sends nothing: the socket belongs to kernel TLS now. */
	if (h->s)
		gnutls_deinit(h->s);
	free(h);
}

bool tls_handshake_narrow_for_offload(struct tls_handshake *h)
{
	return h->p->prio_offload && gnutls_priority_set(h->s, h->p->prio_offload) == 0;
}

const struct tls_profile *tls_handshake_profile(const struct tls_handshake *h)
{
	return h->p;
}
