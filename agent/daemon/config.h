/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ktls-agent's configuration file (ktls-agent.conf(5)): a [global] section
 * and one [profile NAME] section per profile, parsed with inih.
 */
#ifndef KTLS_AGENT_CONFIG_H
#define KTLS_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AGENT_MAX_KEYPAIRS 8
#define AGENT_DEFAULT_CONFIG "/etc/ktls-offload/ktls-agent.conf"

enum client_cert_mode {
	CLIENT_CERT_NONE,
	CLIENT_CERT_OPTIONAL,
	CLIENT_CERT_REQUIRED,
};

/* nic_offload: what a connection routed through a TLS-offload NIC gets */
enum nic_offload {
	NIC_OFFLOAD_OFF,	/* nothing is looked up */
	NIC_OFFLOAD_REPORT,	/* logged: on the device or why not */
	NIC_OFFLOAD_TLS12,	/* ... and TLS 1.2 AES-GCM negotiated there */
};

enum module_use {
	MODULE_AUTO,	/* the module when it is loaded, else only the socket */
	MODULE_YES,	/* refuse to start without the module */
	MODULE_NO,	/* UNIX socket only */
};

/* The roles a profile may be used in (bits). */
enum agent_role_bits {
	AGENT_ROLE_SERVER = 1,
	AGENT_ROLE_CLIENT = 2,
};

struct agent_port_range {
	uint16_t lo, hi;
};

/*
 * Who may use a profile.  Root may always; others only when their uid is
 * in @uids or their (effective) gid in @gids.  With @n_ports, the server
 * role only on sockets whose local port is in one of @ports.
 */
struct agent_acl {
	uid_t *uids;
	int n_uids;
	gid_t *gids;
	int n_gids;
	struct agent_port_range *ports;
	int n_ports;
	unsigned int roles;		/* AGENT_ROLE_*; default server only */
};

struct agent_keypair {
	char *cert;
	char *key;
	char *ocsp;			/* DER OCSP response to staple, or NULL */
};

struct agent_profile {
	char *name;
	struct agent_keypair pairs[AGENT_MAX_KEYPAIRS];
	int n_pairs;
	char *ca;			/* CA bundle, or NULL */
	bool ca_system;			/* ca = system: the system trust store */
	char *crl;			/* PEM CRLs, or NULL */
	enum client_cert_mode client_cert;
	char *priority;			/* GnuTLS priority string */
	char *alpn;			/* comma-separated, server preference */
	bool tickets;
	unsigned int ticket_rotation_s;	/* ticket lifetime; generated keys' rotation */
	char *ticket_key_file;		/* shared masters, or NULL: generated */
	unsigned int handshake_timeout_ms;
	enum nic_offload nic_offload;
	struct agent_acl acl;
};

struct agent_config {
	char *path;
	unsigned int workers;		/* 0: one per CPU */
	char *user;			/* run as this user after loading keys */
	char *socket_path;		/* "" disables the UNIX socket */
	char *socket_group;
	bool log_syslog;
	int log_level;			/* LOG_ERR .. LOG_DEBUG */
	enum module_use module;
	struct agent_profile *profiles;
	int n_profiles;
};

/*
 * Parses @path into @cfg.  On error returns -EINVAL (or -errno for I/O) and
 * writes "PATH:LINE: what is wrong" into @err.
 */
int agent_config_load(const char *path, struct agent_config *cfg,
		      char *err, size_t errlen);
void agent_config_free(struct agent_config *cfg);

#endif
