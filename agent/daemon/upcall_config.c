// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The configuration of ktls-agent's answer to the kernel's handshake
 * upcall: the [global] keys handshake_upcall and tlshd_config, a profile's
 * upcall, upcall_ports and upcall_peers, and tlshd's own configuration file
 * (tlshd.conf(5) of ktls-utils) read into two profiles, tlshd-client and
 * tlshd-server, so that the agent can replace tlshd without a new file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <ini.h>
#include <keyutils.h>

#include "config.h"
#include "parse.h"

#define LIST_SEP ", \t"

int upcall_global_key(struct agent_config *cfg, const char *name, const char *v,
		      char *msg, size_t msglen)
{
	if (!strcmp(name, "handshake_upcall")) {
		if (!strcmp(v, "auto"))
			cfg->handshake_upcall = UPCALL_AUTO;
		else if (!strcmp(v, "yes"))
			cfg->handshake_upcall = UPCALL_YES;
		else if (!strcmp(v, "no"))
			cfg->handshake_upcall = UPCALL_NO;
		else {
			snprintf(msg, msglen, "handshake_upcall must be auto, yes or no, not '%s'", v);
			return -1;
		}
		return 1;
	}
	if (!strcmp(name, "upcall_max_inflight")) {
		if (ktls_parse_uint(v, 1, 65536, &cfg->upcall_max_inflight)) {
			snprintf(msg, msglen, "upcall_max_inflight must be 1 to 65536, not '%s'", v);
			return -1;
		}
		return 1;
	}
	if (!strcmp(name, "keyrings"))
		return agent_config_set_str(&cfg->keyrings, v);
	if (!strcmp(name, "handshake_netns")) {
		char *copy = strdup(v), *save = NULL, *tok;
		int n = 0;

		if (!copy)
			return 0;
		for (tok = strtok_r(copy, LIST_SEP, &save); tok;
		     tok = strtok_r(NULL, LIST_SEP, &save), n++) {
			/* self, a name in /run/netns (ip netns), or a path */
			if (strlen(tok) > 200 || (tok[0] != '/' && (strchr(tok, '/') ||
			    !strcmp(tok, ".") || !strcmp(tok, "..")))) {
				snprintf(msg, msglen, "handshake_netns: '%.40s' is not self, a name "
					 "from ip netns or an absolute path", tok);
				free(copy);
				return -1;
			}
		}
		free(copy);
		if (!n || n > UPCALL_MAX_NETNS) {
			snprintf(msg, msglen, "handshake_netns: 1 to %d namespaces, not %d",
				 UPCALL_MAX_NETNS, n);
			return -1;
		}
		return agent_config_set_str(&cfg->handshake_netns, v);
	}
	if (!strcmp(name, "tlshd_config")) {
		if (v[0] != '/') {
			snprintf(msg, msglen, "tlshd_config must be an absolute path, not '%s'", v);
			return -1;
		}
		return agent_config_set_str(&cfg->tlshd_config, v);
	}
	return 0;
}

/* upcall_peers: names or addresses, appended. */
static int parse_peers(struct agent_upcall *u, const char *v, char *msg, size_t msglen)
{
	char *copy = strdup(v), *save = NULL, *tok;
	int ret = 1;

	if (!copy)
		return 0;
	for (tok = strtok_r(copy, LIST_SEP, &save); tok; tok = strtok_r(NULL, LIST_SEP, &save)) {
		char **grown;

		if (strlen(tok) > 255) {
			snprintf(msg, msglen, "upcall_peers: '%.40s...' is longer than 255 bytes", tok);
			ret = -1;
			break;
		}
		grown = realloc(u->peers, (size_t)(u->n_peers + 1) * sizeof(*grown));
		if (!grown || !(grown[u->n_peers] = strdup(tok))) {
			if (grown)
				u->peers = grown;
			ret = 0;
			break;
		}
		u->peers = grown;
		u->n_peers++;
	}
	free(copy);
	return ret;
}

int upcall_profile_key(struct agent_profile *p, const char *name, const char *v,
		       char *msg, size_t msglen)
{
	struct agent_upcall *u = &p->upcall;

	if (!strcmp(name, "upcall")) {
		char *copy = strdup(v), *save = NULL, *tok;
		unsigned int r = 0;

		if (!copy)
			return 0;
		for (tok = strtok_r(copy, LIST_SEP, &save); tok;
		     tok = strtok_r(NULL, LIST_SEP, &save)) {
			if (!strcmp(tok, "server"))
				r |= AGENT_ROLE_SERVER;
			else if (!strcmp(tok, "client"))
				r |= AGENT_ROLE_CLIENT;
			else if (strcmp(tok, "none")) {
				snprintf(msg, msglen, "upcall: '%s' is not server, client or none",
					 tok);
				free(copy);
				return -1;
			}
		}
		free(copy);
		u->roles = r;
		return 1;
	}
	if (!strcmp(name, "upcall_ports"))
		return agent_parse_port_list(name, v, &u->ports, &u->n_ports, msg, msglen);
	if (!strcmp(name, "upcall_peers"))
		return parse_peers(u, v, msg, msglen);
	return 0;
}

void upcall_profile_free(struct agent_upcall *u)
{
	for (int i = 0; i < u->n_peers; i++)
		free(u->peers[i]);
	free(u->peers);
	free(u->ports);
	memset(u, 0, sizeof(*u));
}

/* ---- keyrings ---- */

/* The serial of the keyring named @name in /proc/keys, or 0. */
static long keyring_by_name(const char *name)
{
	char line[512], type[64], desc[256];
	unsigned long serial;
	long found = 0;
	FILE *f = fopen("/proc/keys", "re");

	if (!f)
		return 0;
	/* "SERIAL FLAGS USAGE EXPIRY PERM UID GID TYPE DESCRIPTION: SUMMARY" */
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx %*s %*s %*s %*s %*s %*s %63s %255[^:]", &serial, type,
			   desc) == 3 && !strcmp(type, "keyring") && !strcmp(desc, name))
			found = (long)serial;
	}
	fclose(f);
	return found;
}

int upcall_link_keyrings(const char *list, char *msg, size_t msglen)
{
	char *copy = strdup(list ? list : ""), *save = NULL, *tok;
	size_t n = 0;
	int ret = 0;

	msg[0] = '\0';
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, LIST_SEP, &save); tok; tok = strtok_r(NULL, LIST_SEP, &save)) {
		unsigned int num;
		long serial = ktls_parse_uint(tok, 1, 0x7fffffff, &num) ? keyring_by_name(tok) :
			      (long)num;

		if (serial <= 0) {
			snprintf(msg, msglen, "keyrings: no keyring '%s' (for .nvme: load nvme-tcp "
				 "or nvmet-tcp before the agent)", tok);
			ret = -ENOKEY;
			break;
		}
		if (keyctl_link((key_serial_t)serial, KEY_SPEC_PROCESS_KEYRING) < 0) {
			ret = -errno;
			snprintf(msg, msglen, "keyrings: cannot link '%s' (%ld): %s", tok, serial,
				 strerror(errno));
			break;
		}
		if (n < msglen)
			n += (size_t)snprintf(msg + n, msglen - n, "%s%s (%ld)",
					      n ? ", " : "keyrings linked: ", tok, serial);
	}
	free(copy);
	return ret;
}

/* ---- tlshd.conf ---- */

struct tlshd_side {
	char *truststore, *crl, *cert, *key;
};

struct tlshd_ctx {
	struct tlshd_side client, server;
	char *keyrings;
	int debug;
	char msg[256];
};

static int on_tlshd_entry(void *user, const char *section, const char *name,
			  const char *value)
{
	struct tlshd_ctx *c = user;
	struct tlshd_side *side = NULL;
	char **dst = NULL;

	if (!strcmp(section, "authenticate.client"))
		side = &c->client;
	else if (!strcmp(section, "authenticate.server"))
		side = &c->server;
	if (side) {
		if (!strcmp(name, "x509.truststore"))
			dst = &side->truststore;
		else if (!strcmp(name, "x509.crl"))
			dst = &side->crl;
		else if (!strcmp(name, "x509.certificate"))
			dst = &side->cert;
		else if (!strcmp(name, "x509.private_key"))
			dst = &side->key;
		/* (x509.pq.* and anything newer: tlshd's own; ignored) */
		return dst ? agent_config_set_str(dst, value) : 1;
	}
	/* tlshd 0.9 [main] debug; newer [debug] loglevel: more than 0 is debug */
	if ((!strcmp(section, "debug") && !strcmp(name, "loglevel")) ||
	    (!strcmp(section, "main") && !strcmp(name, "debug")))
		c->debug = atoi(value) > 0;
	/* keyrings=a;b: linked at start, as keyrings = in [global] */
	if (!strcmp(section, "authenticate") && !strcmp(name, "keyrings"))
		return agent_config_set_str(&c->keyrings, value);
	return 1;
}

static void side_free(struct tlshd_side *s)
{
	free(s->truststore);
	free(s->crl);
	free(s->cert);
	free(s->key);
}

/* A profile "tlshd-client" or "tlshd-server" from one side of tlshd.conf. */
static int tlshd_profile(struct agent_config *cfg, struct tlshd_side *s, bool server,
			 const char *path, char *err, size_t errlen)
{
	const char *name = server ? "tlshd-server" : "tlshd-client";
	struct agent_profile *p;

	if (server && !s->cert)
		return 0;	/* tlshd could serve no x509 server handshake either */
	if (!!s->cert != !!s->key) {
		snprintf(err, errlen, "%s: [authenticate.%s] needs both x509.certificate and "
			 "x509.private_key", path, server ? "server" : "client");
		return -EINVAL;
	}
	for (int i = 0; i < cfg->n_profiles; i++)
		if (!strcmp(cfg->profiles[i].name, name)) {
			snprintf(err, errlen, "profile %s is made from tlshd_config %s: "
				 "name yours otherwise", name, path);
			return -EINVAL;
		}
	p = realloc(cfg->profiles, (size_t)(cfg->n_profiles + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	cfg->profiles = p;
	p = &cfg->profiles[cfg->n_profiles++];
	agent_profile_defaults(p);
	p->tickets = false;
	p->acl.roles = server ? AGENT_ROLE_SERVER : AGENT_ROLE_CLIENT;
	p->upcall.roles = p->acl.roles;
	p->name = strdup(name);
	if (!p->name)
		return -ENOMEM;
	if (s->cert) {
		p->pairs[0].cert = s->cert;
		p->pairs[0].key = s->key;
		p->n_pairs = 1;
		s->cert = s->key = NULL;
	}
	/* tlshd trusts the system's CAs without a truststore.  A server
	 * then asks for no client certificate: the agent never accepts one
	 * that any public CA issued (client_cert with ca = system). */
	if (s->truststore) {
		p->ca = s->truststore;
		s->truststore = NULL;
		if (server)
			p->client_cert = CLIENT_CERT_OPTIONAL;
	} else if (!server) {
		p->ca_system = true;
	}
	/* tlshd checks its CRL against the system's CAs too */
	if (p->ca || p->ca_system) {
		p->crl = s->crl;
		s->crl = NULL;
	}
	return 0;
}

int upcall_read_tlshd_conf(struct agent_config *cfg, const char *path, char *err,
			   size_t errlen)
{
	struct tlshd_ctx c = { .debug = 0 };
	int line, ret;

	line = ini_parse(path, on_tlshd_entry, &c);
	if (line < 0) {
		snprintf(err, errlen, "tlshd_config %s: %s", path,
			 line == -1 ? strerror(errno ? errno : ENOENT) : "out of memory");
		ret = -EINVAL;
		goto out;
	}
	if (line > 0) {
		snprintf(err, errlen, "%s:%d: syntax error (tlshd.conf: [section] and "
			 "key=value lines)", path, line);
		ret = -EINVAL;
		goto out;
	}
	ret = tlshd_profile(cfg, &c.client, false, path, err, errlen);
	if (!ret)
		ret = tlshd_profile(cfg, &c.server, true, path, err, errlen);
	if (!ret && c.debug && cfg->log_level < LOG_DEBUG)
		cfg->log_level = LOG_DEBUG;
	if (!ret && c.keyrings && !cfg->keyrings) {
		for (char *p = c.keyrings; *p; p++)
			if (*p == ';')
				*p = ',';
		cfg->keyrings = c.keyrings;
		c.keyrings = NULL;
	}
	free(c.keyrings);
out:
	side_free(&c.client);
	side_free(&c.server);
	return ret;
}
