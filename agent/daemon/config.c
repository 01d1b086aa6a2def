// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <ini.h>

#include <ktls-offload/agent-socket.h>

#include "config.h"
#include "parse.h"

struct parse_ctx {
	struct agent_config *cfg;
	struct agent_profile *cur;	/* NULL in [global] */
	bool in_global;
	char section[80];	/* the section of the previous entry */
	unsigned int seen;	/* bit i: single_keys[i] given in this section */
	char msg[256];
};


static int __attribute__((format(printf, 2, 3)))
fail(struct parse_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->msg[0]) {
		va_start(ap, fmt);
		vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
		va_end(ap);
	}
	return 0;	/* inih then reports this line */
}

int agent_config_set_str(char **dst, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return 0;
	free(*dst);
	*dst = s;
	return 1;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return 0;
	return 1;
}

/* Index of @v among @names (indexed by the value each stands for; gaps are
 * NULL), or -1. */
static int parse_choice(const char *v, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(v, names[i]))
			return (int)i;
	return -1;
}

#define CHOICE(v, names) parse_choice(v, names, sizeof(names) / sizeof(names[0]))

static const char *const log_targets[] = { "stderr", "syslog" };

static const char *const log_levels[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static const char *const module_uses[] = {
	[MODULE_AUTO] = "auto", [MODULE_YES] = "yes", [MODULE_NO] = "no",
};

static const char *const nic_offload_modes[] = {
	[NIC_OFFLOAD_OFF] = "off", [NIC_OFFLOAD_REPORT] = "report",
	[NIC_OFFLOAD_TLS12] = "tls12",
};

static const char *const client_cert_modes[] = {
	[CLIENT_CERT_NONE] = "none", [CLIENT_CERT_OPTIONAL] = "optional",
	[CLIENT_CERT_REQUIRED] = "required",
};

/*
 * Keys that take one value: a second line is a configuration error, not
 * a silent override (lists such as allow_users add up; cert, key and
 * ocsp_response come in their own order).
 */
static const char *const single_keys[] = {
	"workers", "sched_batch", "user", "socket", "socket_group", "log", "log_level", "module",
	"ca", "crl", "client_cert", "priority", "alpn", "tickets", "ticket_key_file",
	"ticket_rotation", "handshake_timeout", "roles", "nic_offload", "handshake_upcall",
	"tlshd_config", "upcall", "upcall_max_inflight", "keyrings",
	"handshake_netns", "key_update_after", NULL,
};

/* A byte count with an optional K, M, G or T (powers of 1024): 0 or -1. */
static int parse_size(const char *v, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long n;
	const char *u;
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		u = strchr(units, *end);
		if (!u || end[1])
			return -1;
		for (long i = 0; i <= u - units; i++) {
			if (n > (1ULL << 62) / 1024)
				return -1;
			n *= 1024;
		}
	}
	*out = n;
	return 0;
}

/* 0 if @name may be given now, else the failure reported. */
static int once(struct parse_ctx *c, const char *name)
{
	for (unsigned int i = 0; single_keys[i]; i++) {
		if (strcmp(single_keys[i], name))
			continue;
		if (c->seen & (1u << i))
			return !fail(c, "'%s' given twice in [%s]", name, c->section);
		c->seen |= 1u << i;
		return 0;
	}
	return 0;
}

static int global_key(struct parse_ctx *c, const char *name, const char *v)
{
	struct agent_config *cfg = c->cfg;
	int i;

	if (!strcmp(name, "workers")) {
		if (ktls_parse_uint(v, 0, 256, &cfg->workers))
			return fail(c, "workers must be 0 (one per CPU) to 256, not '%s'", v);
	} else if (!strcmp(name, "sched_batch")) {
		if (!parse_bool(v, &cfg->sched_batch))
			return fail(c, "sched_batch must be yes or no, not '%s'", v);
	} else if (!strcmp(name, "user")) {
		return agent_config_set_str(&cfg->user, v);
	} else if (!strcmp(name, "socket")) {
		if (v[0] && v[0] != '/')
			return fail(c, "socket must be an absolute path or empty, not '%s'", v);
		return agent_config_set_str(&cfg->socket_path, v);
	} else if (!strcmp(name, "socket_group")) {
		return agent_config_set_str(&cfg->socket_group, v);
	} else if (!strcmp(name, "log")) {
		if ((i = CHOICE(v, log_targets)) < 0)
			return fail(c, "log must be stderr or syslog, not '%s'", v);
		cfg->log_syslog = i == 1;
	} else if (!strcmp(name, "log_level")) {
		if ((i = CHOICE(v, log_levels)) < 0)
			return fail(c, "log_level must be error, warning, notice, info or debug, not '%s'", v);
		cfg->log_level = i;
	} else if (!strcmp(name, "module")) {
		if ((i = CHOICE(v, module_uses)) < 0)
			return fail(c, "module must be auto, yes or no, not '%s'", v);
		cfg->module = (enum module_use)i;
	} else {
		char msg[256];
		int ret = upcall_global_key(cfg, name, v, msg, sizeof(msg));

		if (ret < 0)
			return fail(c, "%s", msg);
		if (!ret)
			return fail(c, "unknown key '%s' in [global]", name);
	}
	return 1;
}

/* The items of a list "a, b c": separated by commas and/or blanks. */
#define LIST_SEP ", \t"

_Static_assert(sizeof(uid_t) == sizeof(unsigned int) && sizeof(gid_t) == sizeof(unsigned int),
	       "uid_t and gid_t are stored as unsigned int");

/* A user or group: its name, or a number. */
static int lookup_id(const char *tok, bool group, unsigned int *out)
{
	unsigned int n;

	if (!ktls_parse_uint(tok, 0, UINT_MAX - 1, &n)) {
		*out = n;
		return 1;
	}
	if (group) {
		struct group *gr = getgrnam(tok);

		if (gr)
			*out = gr->gr_gid;
		return gr != NULL;
	} else {
		struct passwd *pw = getpwnam(tok);

		if (pw)
			*out = pw->pw_uid;
		return pw != NULL;
	}
}

/* allow_users, allow_groups: appended to what earlier lines said. */
static int parse_ids(struct parse_ctx *c, const char *key, const char *v, bool group,
		     unsigned int **ids, int *n)
{
	char *copy = strdup(v), *save = NULL, *tok;
	int ret = 1;

	if (!copy)
		return 0;
	for (tok = strtok_r(copy, LIST_SEP, &save); tok; tok = strtok_r(NULL, LIST_SEP, &save)) {
		unsigned int id, *grown;

		if (!lookup_id(tok, group, &id)) {
			ret = fail(c, "%s: no %s '%s'", key, group ? "group" : "user", tok);
			break;
		}
		grown = realloc(*ids, (size_t)(*n + 1) * sizeof(**ids));
		if (!grown) {
			ret = 0;
			break;
		}
		*ids = grown;
		(*ids)[(*n)++] = id;
	}
	free(copy);
	return ret;
}

/* allow_local_ports, upcall_ports: "443, 8443, 9000-9009" */
int agent_parse_port_list(const char *key, const char *v, struct agent_port_range **ports,
			  int *n, char *msg, size_t msglen)
{
	char *copy = strdup(v), *save = NULL, *tok;
	int ret = 1;

	if (!copy)
		return 0;
	for (tok = strtok_r(copy, LIST_SEP, &save); tok; tok = strtok_r(NULL, LIST_SEP, &save)) {
		struct agent_port_range r, *grown;
		char *dash = strchr(tok, '-');
		unsigned int lo, hi;

		if (dash)
			*dash = '\0';
		if (ktls_parse_uint(tok, 1, 65535, &lo) ||
		    ktls_parse_uint(dash ? dash + 1 : tok, 1, 65535, &hi) || hi < lo) {
			if (dash)
				*dash = '-';
			snprintf(msg, msglen, "%s: '%s' is not a port (1-65535) or a range "
				 "LOW-HIGH", key, tok);
			ret = -1;
			break;
		}
		r.lo = (uint16_t)lo;
		r.hi = (uint16_t)hi;
		grown = realloc(*ports, (size_t)(*n + 1) * sizeof(*grown));
		if (!grown) {
			ret = 0;
			break;
		}
		*ports = grown;
		(*ports)[(*n)++] = r;
	}
	free(copy);
	return ret;
}

/* roles: "server", "client" or both */
static int parse_roles(struct parse_ctx *c, const char *v, unsigned int *roles)
{
	char *copy = strdup(v), *save = NULL, *tok;
	unsigned int r = 0;
	int ret = 1;

	if (!copy)
		return 0;
	for (tok = strtok_r(copy, LIST_SEP, &save); tok; tok = strtok_r(NULL, LIST_SEP, &save)) {
		if (!strcmp(tok, "server")) {
			r |= AGENT_ROLE_SERVER;
		} else if (!strcmp(tok, "client")) {
			r |= AGENT_ROLE_CLIENT;
		} else {
			ret = fail(c, "roles: '%s' is neither server nor client", tok);
			break;
		}
	}
	free(copy);
	if (ret && !r)
		ret = fail(c, "roles must name server, client or both");
	if (ret && r)
		*roles = r;
	return ret;
}

static int profile_key(struct parse_ctx *c, const char *name, const char *v)
{
	struct agent_profile *p = c->cur;

	if (!strcmp(name, "cert")) {
		if (p->n_pairs == AGENT_MAX_KEYPAIRS)
			return fail(c, "more than 8 certificates in profile '%s'", p->name);
		if (p->n_pairs && !p->pairs[p->n_pairs - 1].key)
			return fail(c, "cert '%s' follows a cert without its key", v);
		return agent_config_set_str(&p->pairs[p->n_pairs++].cert, v);
	} else if (!strcmp(name, "key")) {
		if (!p->n_pairs || p->pairs[p->n_pairs - 1].key)
			return fail(c, "key '%s' without a cert line before it", v);
		return agent_config_set_str(&p->pairs[p->n_pairs - 1].key, v);
	} else if (!strcmp(name, "ocsp_response")) {
		if (!p->n_pairs || !p->pairs[p->n_pairs - 1].key)
			return fail(c, "ocsp_response '%s' must follow the cert and key lines "
				    "of its certificate", v);
		if (p->pairs[p->n_pairs - 1].ocsp)
			return fail(c, "a second ocsp_response for cert '%s'",
				    p->pairs[p->n_pairs - 1].cert);
		return agent_config_set_str(&p->pairs[p->n_pairs - 1].ocsp, v);
	} else if (!strcmp(name, "ca")) {
		p->ca_system = !strcmp(v, "system");
		if (p->ca_system) {
			free(p->ca);
			p->ca = NULL;
			return 1;
		}
		return agent_config_set_str(&p->ca, v);
	} else if (!strcmp(name, "crl")) {
		return agent_config_set_str(&p->crl, v);
	} else if (!strcmp(name, "client_cert")) {
		int i = CHOICE(v, client_cert_modes);

		if (i < 0)
			return fail(c, "client_cert must be none, optional or required, not '%s'", v);
		p->client_cert = (enum client_cert_mode)i;
	} else if (!strcmp(name, "priority")) {
		return agent_config_set_str(&p->priority, v);
	} else if (!strcmp(name, "alpn")) {
		if (strlen(v) > 255)
			return fail(c, "alpn list longer than 255 bytes");
		return agent_config_set_str(&p->alpn, v);
	} else if (!strcmp(name, "tickets")) {
		if (!parse_bool(v, &p->tickets))
			return fail(c, "tickets must be yes or no, not '%s'", v);
	} else if (!strcmp(name, "key_update_after")) {
		if (parse_size(v, &p->key_update_after) ||
		    (p->key_update_after && p->key_update_after < (1u << 20)))
			return fail(c, "key_update_after must be 0 or a size of at least 1M "
				    "(K, M, G, T for KiB, MiB, GiB, TiB), not '%s'", v);
	} else if (!strcmp(name, "ticket_key_file")) {
		return agent_config_set_str(&p->ticket_key_file, v);
	} else if (!strcmp(name, "ticket_rotation")) {
		if (ktls_parse_uint(v, 60, 7 * 86400, &p->ticket_rotation_s))
			return fail(c, "ticket_rotation must be 60 to 604800 seconds, not '%s'", v);
	} else if (!strcmp(name, "handshake_timeout")) {
		if (ktls_parse_uint(v, 1, 300000, &p->handshake_timeout_ms))
			return fail(c, "handshake_timeout must be 1 to 300000 ms, not '%s'", v);
	} else if (!strcmp(name, "nic_offload")) {
		int i = CHOICE(v, nic_offload_modes);

		if (i < 0)
			return fail(c, "nic_offload must be off, report or tls12, not '%s'", v);
		p->nic_offload = (enum nic_offload)i;
	} else if (!strcmp(name, "allow_users")) {
		return parse_ids(c, name, v, false, (unsigned int **)&p->acl.uids, &p->acl.n_uids);
	} else if (!strcmp(name, "allow_groups")) {
		return parse_ids(c, name, v, true, (unsigned int **)&p->acl.gids, &p->acl.n_gids);
	} else if (!strcmp(name, "allow_local_ports")) {
		char msg[256];
		int ret = agent_parse_port_list(name, v, &p->acl.ports, &p->acl.n_ports, msg,
						sizeof(msg));

		return ret < 0 ? fail(c, "%s", msg) : ret;
	} else if (!strcmp(name, "roles")) {
		return parse_roles(c, v, &p->acl.roles);
	} else {
		char msg[256];
		int ret = upcall_profile_key(p, name, v, msg, sizeof(msg));

		if (ret < 0)
			return fail(c, "%s", msg);
		if (!ret)
			return fail(c, "unknown key '%s' in [profile %s]", name, p->name);
	}
	return 1;
}

static struct agent_profile *find_profile(struct agent_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_profiles; i++)
		if (!strcmp(cfg->profiles[i].name, name))
			return &cfg->profiles[i];
	return NULL;
}

static int new_section(struct parse_ctx *c, const char *section)
{
	struct agent_config *cfg = c->cfg;
	struct agent_profile *p;
	const char *name;

	c->in_global = !strcmp(section, "global");
	c->cur = NULL;
	if (c->in_global)
		return 1;
	if (strncmp(section, "profile ", 8) || !section[8])
		return fail(c, "unknown section [%s]: expected [global] or [profile NAME]",
			    section);
	name = section + 8;
	if (strlen(name) > 63 || strpbrk(name, " \t,"))
		return fail(c, "bad profile name '%s': at most 63 bytes, no spaces or commas",
			    name);
	if (find_profile(cfg, name))
		return fail(c, "profile '%s' is defined twice", name);
	p = realloc(cfg->profiles, (cfg->n_profiles + 1) * sizeof(*p));
	if (!p)
		return 0;
	cfg->profiles = p;
	p = &cfg->profiles[cfg->n_profiles++];
	agent_profile_defaults(p);
	if (!agent_config_set_str(&p->name, name))
		return 0;
	c->cur = p;
	return 1;
}

void agent_profile_defaults(struct agent_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->tickets = true;
	p->ticket_rotation_s = 3600;
	p->handshake_timeout_ms = 10000;
	p->acl.roles = AGENT_ROLE_SERVER;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;

	if (c->msg[0])
		return 1;	/* report only the first problem */
	if (!section[0])
		return fail(c, "'%s' outside any section", name);
	/* Debian's inih does not announce sections: notice them change. */
	if (strncmp(section, c->section, sizeof(c->section))) {
		snprintf(c->section, sizeof(c->section), "%s", section);
		c->seen = 0;
		if (!new_section(c, section))
			return 0;
	}
	if (once(c, name))
		return 0;
	if (c->in_global)
		return global_key(c, name, value);
	if (!c->cur)
		return 1;	/* inside a section already reported as wrong */
	return profile_key(c, name, value);
}

static void set_defaults(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_path = strdup(KTLS_AGENT_SOCKET_PATH);
	cfg->log_level = LOG_INFO;
	cfg->sched_batch = true;
	cfg->module = MODULE_AUTO;
	cfg->upcall_max_inflight = 64;
}

/*
 * inih splits a line longer than its limit and parses the rest as a line
 * of its own.  Debian's inih takes the limit at run time (a buffer of that
 * size on the stack): priority strings are long, so raise it, and refuse
 * any line longer still rather than have it split.
 */
#define AGENT_MAX_LINE 16384

/*
 * What inih cannot tell: a line too long for it (-E2BIG), and a section
 * header given twice (-EEXIST, @name set): inih would merge the two, and
 * the second could quietly undo the first.  Leaves @f rewound.
 */
static int prescan(FILE *f, int *lineno, char *name, size_t namelen)
{
	char *line = NULL, *seen = NULL;
	size_t cap = 0, seen_len = 0;
	ssize_t n;
	int ret = 0;

	*lineno = 0;
	while (!ret && (n = getline(&line, &cap, f)) >= 0) {
		char *h = line + strspn(line, " \t"), *end;

		++*lineno;
		if (n + 3 > AGENT_MAX_LINE) {	/* '\r', '\n' and '\0' */
			ret = -E2BIG;
			break;
		}
		if (*h != '[' || !(end = strchr(h, ']')))
			continue;
		*end = '\0';
		/* the names so far, each followed by a newline (no name has one) */
		for (char *p = seen; p && p < seen + seen_len; p += strlen(p) + 1) {
			if (!strcmp(p, h + 1)) {
				snprintf(name, namelen, "%s", h + 1);
				ret = -EEXIST;
			}
		}
		if (!ret) {
			char *grown = realloc(seen, seen_len + strlen(h + 1) + 1);

			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			seen = grown;
			memcpy(seen + seen_len, h + 1, strlen(h + 1) + 1);
			seen_len += strlen(h + 1) + 1;
		}
	}
	free(seen);
	free(line);
	rewind(f);
	return ret;
}

/* Does @acl let the agent's own user (user =, not root) be a requester? */
static bool acl_names_agent(const struct agent_config *cfg, const struct agent_acl *acl)
{
	unsigned int uid;

	if (!cfg->user || !lookup_id(cfg->user, false, &uid) || !uid)
		return false;
	for (int i = 0; i < acl->n_uids; i++)
		if (acl->uids[i] == uid)
			return true;
	return false;
}

int agent_config_load(const char *path, struct agent_config *cfg,
		      char *err, size_t errlen)
{
	struct parse_ctx c = { .cfg = cfg };
	char dup[80];
	int line, ret;
	FILE *f;

	set_defaults(cfg);
	cfg->path = strdup(path);
	f = fopen(path, "r");
	if (!f) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	ret = prescan(f, &line, dup, sizeof(dup));
	if (ret) {
		fclose(f);
		if (ret == -EEXIST)
			snprintf(err, errlen, "%s:%d: section [%s] given twice", path, line, dup);
		else if (ret == -E2BIG)
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, line,
				 AGENT_MAX_LINE - 3);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return -EINVAL;
	}
	ini_stop_on_first_error = true;
	ini_max_line = AGENT_MAX_LINE;
	/* an indented line is a line of its own, never the previous value's
	 * continuation (which would swallow, say, an allow_local_ports line) */
	ini_allow_multiline = false;
	line = ini_parse_file(f, (ini_handler)on_entry, &c);
	fclose(f);
	if (line != 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
			 c.msg[0] ? c.msg : line < 0 ? "cannot read the file" :
			 "syntax error (expected [section], key = value or a comment)");
		return -EINVAL;
	}
	for (int i = 0; i < cfg->n_profiles; i++) {
		struct agent_profile *p = &cfg->profiles[i];

		const char *why = NULL;

		if (p->n_pairs && !p->pairs[p->n_pairs - 1].key) {
			snprintf(err, errlen, "%s: profile '%s': cert '%s' has no key line",
				 path, p->name, p->pairs[p->n_pairs - 1].cert);
			return -EINVAL;
		}
		/* Nothing is trusted by omission: peers are verified against
		 * the CAs the profile names. */
		if (p->client_cert != CLIENT_CERT_NONE && !p->ca)
			why = p->ca_system ?
			      "client_cert with ca = system would accept a certificate that "
			      "any public CA issued for any site: name the CAs of your "
			      "clients (ca = FILE)" :
			      "client_cert needs ca = FILE, the CAs that issue client certificates";
		else if (((p->acl.roles | p->upcall.roles) & AGENT_ROLE_CLIENT) && !p->ca &&
			 !p->ca_system)
			why = "the client role needs ca = FILE (or ca = system) to verify servers";
		else if ((p->upcall.roles & AGENT_ROLE_SERVER) && !p->n_pairs)
			why = "upcall = server needs cert and key (the kernel's consumers "
			      "seldom pass a certificate of their own)";
		else if (p->crl && !p->ca && !p->ca_system)
			why = "crl needs ca: a CRL is checked against the CA that signed it";
		else if (acl_names_agent(cfg, &p->acl))
			why = "allow_users names the agent's own user, which can read the "
			      "key files and needs no agent: give the server another user";
		if (why) {
			snprintf(err, errlen, "%s: profile '%s': %s", path, p->name, why);
			return -EINVAL;
		}
	}
	if (cfg->tlshd_config) {
		char why[400];

		ret = upcall_read_tlshd_conf(cfg, cfg->tlshd_config, why, sizeof(why));
		if (ret) {
			/* (every refusal names this file first) */
			snprintf(err, errlen, "%s: %s", path, why);
			return ret;
		}
	}
	if (!cfg->n_profiles) {
		snprintf(err, errlen, "%s: no [profile NAME] section", path);
		return -EINVAL;
	}
	return 0;
}

void agent_config_free(struct agent_config *cfg)
{
	if (!cfg)
		return;
	for (int i = 0; i < cfg->n_profiles; i++) {
		struct agent_profile *p = &cfg->profiles[i];

		for (int j = 0; j < p->n_pairs; j++) {
			free(p->pairs[j].cert);
			free(p->pairs[j].key);
			free(p->pairs[j].ocsp);
		}
		free(p->name);
		free(p->ca);
		free(p->crl);
		free(p->ticket_key_file);
		free(p->priority);
		free(p->alpn);
		free(p->acl.uids);
		free(p->acl.gids);
		free(p->acl.ports);
		upcall_profile_free(&p->upcall);
	}
	free(cfg->profiles);
	free(cfg->tlshd_config);
	free(cfg->keyrings);
	free(cfg->handshake_netns);
	free(cfg->path);
	free(cfg->user);
	free(cfg->socket_path);
	free(cfg->socket_group);
	memset(cfg, 0, sizeof(*cfg));
}
