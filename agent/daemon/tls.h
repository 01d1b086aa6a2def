/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * GnuTLS for ktls-agent: per-profile credentials and priorities (restricted
 * to what the running kernel's TLS can carry), and one non-blocking
 * handshake on a socket, ending in kernel TLS.
 */
#ifndef KTLS_AGENT_TLS_H
#define KTLS_AGENT_TLS_H

#include <stdbool.h>
#include <stdint.h>
#include <gnutls/gnutls.h>

#include "config.h"
#include "tickets.h"

struct tls_profile {
	const struct agent_profile *conf;
	gnutls_certificate_credentials_t creds;
	gnutls_priority_t prio;
	gnutls_priority_t prio_offload;	/* nic_offload = tls12: TLS 1.2 AES-GCM */
	gnutls_priority_t prio_upcall;	/* upcall: TLS 1.3 only, PSK allowed */
	/* upcall = client with a keypair: the CAs alone, for anonymous clients */
	gnutls_certificate_credentials_t creds_anon;
	struct tickets *tickets;	/* its ticket masters, or NULL */
	uint8_t ticket_ctx[TICKET_CONTEXT_SIZE];	/* binds their keys to the profile */
	gnutls_datum_t *alpn;		/* the profile's ALPN list ... */
	unsigned int n_alpn;
	char *alpn_buf;			/* ... pointing into this */
};

/* Every profile of a configuration, ready for handshakes. */
struct tls_runtime {
	struct tls_profile *profiles;
	int n_profiles;
	unsigned int cipher_mask;	/* agent_probe_kernel_ciphers() */
};

/*
 * Loads certificates, keys and CAs of every profile.  Refuses private keys
 * readable by group or others.  On error writes a message naming the file
 * into @err and returns a negative errno.
 */
int tls_runtime_load(struct tls_runtime *rt, const struct agent_config *cfg,
		     unsigned int cipher_mask, char *err, size_t errlen);
void tls_runtime_free(struct tls_runtime *rt);
const struct tls_profile *tls_runtime_profile(const struct tls_runtime *rt,
					      const char *name);

/*
 * The GnuTLS priority string of a profile: the administrator's @admin (or,
 * if NULL, the system's policy "@SYSTEM" where configured, else the
 * library's default, minus static-RSA key exchange, with server
 * precedence), with only removals appended: TLS versions other than 1.2
 * and 1.3, and ciphers this kernel's TLS cannot carry (@cipher_mask).  Into
 * @out, with the flags for gnutls_priority_init2() in @flags.  Returns 0,
 * or a negative errno with the reason in @err: not valid, too long, or
 * nothing left that the kernel can carry (-EPROTONOSUPPORT).
 */
int tls_priority_resolve(const char *admin, unsigned int cipher_mask, char *out, size_t len,
			 unsigned int *flags, char *err, size_t errlen);

/* Splits "a,b,c" into datums pointing into @buf (a copy of @list). */
unsigned int tls_split_alpn(const char *list, char *buf, size_t buflen,
			    gnutls_datum_t *out, unsigned int max);

enum tls_role { TLS_ROLE_SERVER = 1, TLS_ROLE_CLIENT = 2 };

struct tls_result {
	int err;			/* 0 or a positive errno */
	char reason[256];		/* why it failed, for the log */
	uint32_t tls_version, cipher;
	bool resumed;
	char alpn[256];
	char peer_identity[1024];
	char sni[256];			/* the server name, if known so far */
	/* TLS 1.3: the application traffic secrets, for the module's KeyUpdates */
	uint8_t tx_secret[48], rx_secret[48];
	uint8_t secret_len;		/* 0: none */
	uint64_t key_update_after;	/* the profile's */
};

struct tls_handshake;

/*
 * Starts a handshake on @fd; never changes the socket's file flags, which
 * it shares with the requester.  @peername: the client
 * role's server name; @alpn: the requester's comma-separated list, or NULL
 * for the profile's.  Returns NULL with @res filled on failure.
 */
struct tls_handshake *tls_handshake_new(const struct tls_profile *p, int fd,
					enum tls_role role, const char *peername,
					const char *alpn, struct tls_result *res);

/* What a handshake for one of the kernel's own consumers (upcall.c) runs
 * with beside its profile. */
struct tls_handshake_opts {
	bool upcall;		/* TLS 1.3 only (prio_upcall), no session tickets */
	gnutls_certificate_credentials_t creds;	/* instead of the profile's */
	gnutls_psk_client_credentials_t psk_client;	/* PSK instead of x509 */
	gnutls_psk_server_credentials_t psk_server;
	void *psk_ctx;		/* gnutls_session_get_ptr() in a PSK callback */
};

struct tls_handshake *tls_handshake_new2(const struct tls_profile *p, int fd,
					 enum tls_role role, const char *peername,
					 const char *alpn, const struct tls_handshake_opts *o,
					 struct tls_result *res);

/* The PSK callback's context (tls_handshake_opts.psk_ctx) of a session. */
void *tls_handshake_psk_ctx(gnutls_session_t s);

/*
 * Advances the handshake.  Returns 1 when it needs more I/O (*want_write
 * says which direction), or 0 when it has ended: @res says how, and on
 * success kernel TLS is installed on the socket.
 */
int tls_handshake_step(struct tls_handshake *h, bool *want_write,
		       struct tls_result *res);
void tls_handshake_free(struct tls_handshake *h);

/* The profile @h runs with. */
const struct tls_profile *tls_handshake_profile(const struct tls_handshake *h);

/* Before the first step: negotiate with the profile's offload priority (TLS
 * 1.2 AES-GCM, nic_offload = tls12).  False if the profile has none. */
bool tls_handshake_narrow_for_offload(struct tls_handshake *h);

#endif
