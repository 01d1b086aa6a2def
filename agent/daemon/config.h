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

/*
 * How a profile answers the kernel's own TLS consumers (NFS, NVMe/TCP)
 * through the "handshake" netlink family (upcall.c): in which roles, and
 * for which connections.  A request picks the first profile, in file
 * order, whose roles, ports and peers match.
 */
struct agent_upcall {
	unsigned int roles;		/* AGENT_ROLE_*; 0: not for upcalls */
	struct agent_port_range *ports;	/* server: local port; client: remote */
	int n_ports;			/* 0: any port */
	char **peers;			/* client: the kernel's peer name; server: */
	int n_peers;			/* the peer's address.  0: any peer */
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
	uint64_t key_update_after;	/* bytes sent under one key; 0: the cipher's limit */
	unsigned int ticket_rotation_s;	/* ticket lifetime; generated keys' rotation */
	char *ticket_key_file;		/* shared masters, or NULL: generated */
	unsigned int handshake_timeout_ms;
	enum nic_offload nic_offload;
	struct agent_acl acl;
	struct agent_upcall upcall;
};

/* handshake_netns: at most this many network namespaces */
#define UPCALL_MAX_NETNS 64

enum handshake_upcall {
	UPCALL_AUTO,	/* where the kernel has the family and a profile has upcall */
	UPCALL_YES,	/* refuse to start without the family */
	UPCALL_NO,
};

struct agent_config {
	char *path;
	unsigned int workers;		/* 0: one per CPU */
	bool sched_batch;		/* workers under SCHED_BATCH */
	char *user;			/* run as this user after loading keys */
	char *socket_path;		/* "" disables the UNIX socket */
	char *socket_group;
	bool log_syslog;
	int log_level;			/* LOG_ERR .. LOG_DEBUG */
	enum module_use module;
	enum handshake_upcall handshake_upcall;
	char *tlshd_config;		/* tlshd.conf read into profiles, or NULL */
	unsigned int upcall_max_inflight;	/* per worker; more wait in the kernel */
	char *keyrings;			/* linked into the process keyring at start */
	char *handshake_netns;		/* namespaces served, NULL: "self" */
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

/*
 * upcall_config.c: the keys of the handshake upcall ([global]
 * handshake_upcall and tlshd_config; a profile's upcall, upcall_ports and
 * upcall_peers), and tlshd's configuration file read into profiles.  The
 * key functions return 1 when they took the key, 0 when it is not theirs,
 * -1 with @msg set when its value is wrong.
 */
int upcall_global_key(struct agent_config *cfg, const char *name, const char *v,
		      char *msg, size_t msglen);
int upcall_profile_key(struct agent_profile *p, const char *name, const char *v,
		       char *msg, size_t msglen);
/* Appends profiles tlshd-client and tlshd-server made from tlshd.conf. */
int upcall_read_tlshd_conf(struct agent_config *cfg, const char *path, char *err,
			   size_t errlen);
void upcall_profile_free(struct agent_upcall *u);
/* Replaces *@dst with a copy of @value: 1, or 0 when out of memory. */
int agent_config_set_str(char **dst, const char *value);
/*
 * keyrings = .nvme, 1234: links each keyring (by name, as /proc/keys shows
 * it, or serial) into the agent's process keyring while it is still root,
 * so that it possesses them, and the keys in them, after it drops to its
 * user.  Writes what it did or why not into @msg; -errno on the first
 * keyring that cannot be linked.
 */
int upcall_link_keyrings(const char *list, char *msg, size_t msglen);
/* Sets a new profile's defaults (shared with config.c). */
void agent_profile_defaults(struct agent_profile *p);
/* Ports "443, 8443, 9000-9009" appended to @ports (config.c). */
int agent_parse_port_list(const char *key, const char *v, struct agent_port_range **ports,
			  int *n, char *msg, size_t msglen);

#endif
