/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ktls-agent as the kernel's handshake agent: the "handshake" generic
 * netlink family (net/handshake, Linux 6.5 and later) through which NFS
 * (xprtsec=tls, mtls) and NVMe/TCP ask userspace for TLS handshakes on
 * kernel sockets, the same service as tlshd of ktls-utils.
 */
#ifndef KTLS_AGENT_UPCALL_H
#define KTLS_AGENT_UPCALL_H

#include <stdbool.h>
#include <stdint.h>
#include <gnutls/gnutls.h>

#include "config.h"

struct agent;
struct worker;
struct job;
struct upcall_ns;
struct tls_result;

#define UPCALL_MAX_PEERIDS 5

/* One request, as ACCEPT gave it, and what its handshake needs. */
struct upcall_job {
	uint32_t msg_type;		/* HANDSHAKE_MSG_TYPE_CLIENTHELLO: client */
	uint32_t auth;			/* HANDSHAKE_AUTH_* */
	uint32_t timeout_ms;		/* 0: the profile's */
	int32_t peerids[UPCALL_MAX_PEERIDS];	/* PSK: key serials to offer */
	int n_peerids;
	int32_t cert, privkey;		/* x509: key serials, 0 if none */
	char peername[256];
	const char *consumer;		/* for the log: "nfs", "nvme", "kernel" */
	struct upcall_ns *ns;		/* where it came from: DONE goes there */
	int32_t remote_auth;		/* DONE's: the PSK used, or the peer's key */
	gnutls_psk_client_credentials_t psk_client;
	gnutls_psk_server_credentials_t psk_server;
	gnutls_certificate_credentials_t creds;	/* from the key serials */
};

/*
 * Whether this kernel has the family (-ENOENT if not), opened once by
 * main.c before the workers start, to say so in the log.
 */
int upcall_probe(void);

/*
 * Opens each worker's sockets for the family in each network namespace of
 * @list (handshake_netns: "self", names from ip netns, paths to a
 * namespace file; NULL: "self"), entering each one while the agent is still
 * root; -errno with @err set if a namespace cannot be served.  Closed by
 * upcall_close_namespaces() once the workers are gone.
 */
int upcall_open_namespaces(struct agent *a, const char *list, unsigned int n_workers,
			   char *err, size_t errlen);
void upcall_close_namespaces(struct agent *a);
/* A worker takes its sockets into its epoll set. */
int upcall_worker_open(struct worker *w);
/*
 * READY arrived in @ns (or may have; NULL: read none): ACCEPT, one request
 * per namespace in turn, until the queues are empty or the worker is full.
 */
void upcall_worker_event(struct worker *w, struct upcall_ns *ns);

/* Ends a job from the family: DONE with its status, then the socket goes. */
void upcall_job_finish(struct worker *w, struct job *j, struct tls_result *res);

#endif
