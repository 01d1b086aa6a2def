// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ktls-agent's TLS profiles: each profile's GnuTLS credentials (refusing
 * private keys others can read), its ALPN list and its priority string,
 * restricted to what the running kernel's TLS can carry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ktls_keys.h"
#include "tls.h"

/* Does the running kernel's TLS carry GnuTLS cipher @id? */
static bool kernel_carries(gnutls_cipher_algorithm_t id, unsigned int cipher_mask)
{
	const char *name = gnutls_cipher_get_name(id);
	const struct ktls_cipher *c;

	for (unsigned int i = 0; name && (c = ktls_cipher_at(i)); i++)
		if ((cipher_mask & (1u << i)) && !strcmp(c->name, name))
			return true;
	return false;
}

/* Appends @prefix and @item to @out, of which *@n bytes are used. */
static void append(char *out, size_t len, size_t *n, const char *prefix, const char *item)
{
	if (*n < len)
		*n += (size_t)snprintf(out + *n, len - *n, "%s%s", prefix, item);
}

/* A post-quantum hybrid group (X25519-MLKEM768, ...), by its name. */
static bool hybrid_group(const char *name)
{
	return name && (strstr(name, "MLKEM") || strstr(name, "KYBER"));
}

/* For the default priority only: X25519 moved ahead of every classical
 * group, the others kept in their order (hybrid post-quantum groups that a
 * system policy ranks first stay first).  With %SERVER_PRECEDENCE GnuTLS
 * picks the server's first group the client supports, and asks the client
 * for another key share (HelloRetryRequest, one more round trip) when the
 * client sent none for it; curl, OpenSSL, Chromium and Firefox all send
 * an X25519 share, GnuTLS's own order starts with SECP256R1. */
static void prefer_x25519(gnutls_priority_t p, char *out, size_t len, size_t *n)
{
	const unsigned int *list;
	int count = gnutls_priority_group_list(p, &list);
	const char *name;
	bool classical_first = false;
	int i;

	for (i = 0; i < count && list[i] != GNUTLS_GROUP_X25519; i++)
		if (!hybrid_group(gnutls_group_get_name((gnutls_group_t)list[i])))
			classical_first = true;
	if (!classical_first || i == count)
		return;		/* first already, or not allowed at all */
	/* the hybrids ahead of X25519, X25519, then the rest in order */
	append(out, len, n, ":-GROUP-ALL", "");
	for (int j = 0; j < i; j++) {
		name = gnutls_group_get_name((gnutls_group_t)list[j]);
		if (hybrid_group(name))
			append(out, len, n, ":+GROUP-", name);
	}
	append(out, len, n, ":+GROUP-", "X25519");
	for (int j = 0; j < count; j++) {
		name = gnutls_group_get_name((gnutls_group_t)list[j]);
		if (name && j != i && !(j < i && hybrid_group(name)))
			append(out, len, n, ":+GROUP-", name);
	}
}

/* Long (~110 lines): one pass over GnuTLS's resolved versions and ciphers that
 * builds the kept, removed and error lists together; split, they would share
 * all its buffers. */
int tls_priority_resolve(const char *admin, unsigned int cipher_mask, char *out, size_t len,
			 unsigned int *flags, char *err, size_t errlen)
{
	static const char def_system[] = "@SYSTEM:-RSA:%SERVER_PRECEDENCE";
	static const char def_library[] = "-RSA:%SERVER_PRECEDENCE";
	gnutls_priority_t p = NULL;
	const char *where = NULL;
	const unsigned int *list;
	char removed[512] = "", kept[512] = "", old_versions[256] = "";
	size_t n, nr = 0, nk = 0, nv = 0;
	int count, versions, ciphers, ciphers_kept = 0, ret;

	*flags = 0;
	if (admin && admin[0]) {
		n = (size_t)snprintf(out, len, "%s", admin);
		while (n && n < len && out[n - 1] == ':')
			out[--n] = '\0';	/* "X:" + ":-Y" would be an empty item */
	} else if (gnutls_priority_init2(&p, def_system, NULL, 0) == 0) {
		/* the system's policy, where one is configured */
		n = (size_t)snprintf(out, len, "%s", def_system);
	} else {
		/* else the library's default, which is that policy's stand-in */
		n = (size_t)snprintf(out, len, "%s", def_library);
		*flags = GNUTLS_PRIORITY_INIT_DEF_APPEND;
	}
	if (p)
		gnutls_priority_deinit(p);
	p = NULL;
	if (n >= len) {
		snprintf(err, errlen, "priority string longer than %zu bytes", len - 1);
		return -ENAMETOOLONG;
	}
	ret = gnutls_priority_init2(&p, out, &where, *flags);
	if (ret == GNUTLS_E_NO_PRIORITIES_WERE_SET) {
		snprintf(err, errlen, "priority '%s' leaves no TLS version or no cipher at all",
			 out);
		return -EPROTONOSUPPORT;
	}
	if (ret < 0) {
		snprintf(err, errlen, "priority '%s' is not valid near '%s'", out,
			 where ? where : "");
		return -EINVAL;
	}
	if (!admin || !admin[0]) {
		prefer_x25519(p, out, len, &n);
		gnutls_priority_deinit(p);
		if (n >= len || gnutls_priority_init2(&p, out, NULL, *flags) < 0) {
			snprintf(err, errlen, "default priority '%s' does not resolve", out);
			return -EINVAL;
		}
	}

	/* Only ever remove: versions other than TLS 1.2 and 1.3, ciphers the
	 * kernel cannot carry.  What the administrator removed stays removed;
	 * the order of what is left is theirs.  Every older version goes,
	 * listed or not: GnuTLS leaves TLS 1.3 out of "NORMAL:-VERS-TLS1.2"
	 * while TLS 1.1 is still in (no gaps), and means TLS 1.3 only once
	 * the older ones are gone too. */
	for (const gnutls_protocol_t *v = gnutls_protocol_list(); *v; v++)
		if (*v != GNUTLS_TLS1_2 && *v != GNUTLS_TLS1_3 && gnutls_protocol_get_name(*v))
			append(out, len, &n, ":-VERS-", gnutls_protocol_get_name(*v));
	count = gnutls_priority_cipher_list(p, &list);
	for (int i = 0; i < count; i++) {
		const char *name = gnutls_cipher_get_name((gnutls_cipher_algorithm_t)list[i]);

		if (!name)
			continue;
		if (kernel_carries((gnutls_cipher_algorithm_t)list[i], cipher_mask)) {
			ciphers_kept++;
		} else {
			append(out, len, &n, ":-", name);
			append(removed, sizeof(removed), &nr, " ", name);
		}
	}
	count = gnutls_priority_protocol_list(p, &list);
	for (int i = 0; i < count; i++)
		if (gnutls_protocol_get_name((gnutls_protocol_t)list[i]))
			append(old_versions, sizeof(old_versions), &nv, " ",
			       gnutls_protocol_get_name((gnutls_protocol_t)list[i]));
	gnutls_priority_deinit(p);
	p = NULL;
	if (n >= len) {
		snprintf(err, errlen, "priority string longer than %zu bytes", len - 1);
		return -ENAMETOOLONG;
	}

	/* What is left must be something the kernel can carry (GnuTLS
	 * refuses a string that leaves no version or no cipher at all). */
	if (gnutls_priority_init2(&p, out, NULL, *flags) < 0) {
		ciphers = ciphers_kept;
		versions = !ciphers_kept;
	} else {
		versions = gnutls_priority_protocol_list(p, &list);
		ciphers = gnutls_priority_cipher_list(p, &list);
		gnutls_priority_deinit(p);
	}
	for (unsigned int i = 0; ktls_cipher_at(i); i++)
		if (cipher_mask & (1u << i))
			append(kept, sizeof(kept), &nk, " ", ktls_cipher_at(i)->name);
	if (versions <= 0) {
		snprintf(err, errlen, "priority '%s' leaves no TLS version that kernel TLS "
			 "carries (TLS1.2, TLS1.3); it allows only:%s",
			 admin && admin[0] ? admin : "(default)",
			 old_versions[0] ? old_versions : " none");
		return -EPROTONOSUPPORT;
	}
	if (ciphers <= 0) {
		snprintf(err, errlen, "priority '%s' leaves no cipher that this kernel's TLS "
			 "carries (%s); it allows only:%s",
			 admin && admin[0] ? admin : "(default)", kept[0] ? kept + 1 : "none",
			 removed[0] ? removed : " none");
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/* nic_offload = tls12: the profile's priority narrowed to what kernel TLS
 * device offload takes on 6.1 to 6.12, TLS 1.2 with AES-GCM. */
static int offload_priority(struct tls_profile *tp, const struct agent_profile *p,
			    const char *prio, unsigned int flags, char *err, size_t errlen)
{
	static const char narrow[] = ":-VERS-TLS1.3:-CHACHA20-POLY1305:-AES-128-CCM:-AES-256-CCM";
	const unsigned int *list;
	char buf[4096 + sizeof(narrow)];
	int ret = -EPROTONOSUPPORT;

	if (p->nic_offload != NIC_OFFLOAD_TLS12)
		return 0;
	snprintf(buf, sizeof(buf), "%s%s", prio, narrow);
	if (gnutls_priority_init2(&tp->prio_offload, buf, NULL, flags) < 0)
		tp->prio_offload = NULL;
	else if (gnutls_priority_protocol_list(tp->prio_offload, &list) > 0 &&
		 gnutls_priority_cipher_list(tp->prio_offload, &list) > 0)
		ret = 0;
	if (ret)
		snprintf(err, errlen, "profile %s: nic_offload = tls12, but its priority "
			 "allows no TLS 1.2 with AES-GCM (what these kernels offload)", p->name);
	return ret;
}

/* upcall: the profile's priority without TLS 1.2 (the kernel's consumers
 * speak TLS 1.3 only) and with the PSK key exchanges (NVMe/TCP), which
 * only count where a handshake has PSK credentials. */
static int upcall_priority(struct tls_profile *tp, const struct agent_profile *p,
			   const char *prio, unsigned int flags, char *err, size_t errlen)
{
	static const char narrow[] = ":-VERS-TLS1.2:+ECDHE-PSK:+DHE-PSK:+PSK";
	const unsigned int *list;
	char buf[4096 + sizeof(narrow)];
	int ret = -EPROTONOSUPPORT;

	if (!p->upcall.roles)
		return 0;
	snprintf(buf, sizeof(buf), "%s%s", prio, narrow);
	if (gnutls_priority_init2(&tp->prio_upcall, buf, NULL, flags) < 0)
		tp->prio_upcall = NULL;
	else if (gnutls_priority_protocol_list(tp->prio_upcall, &list) > 0 &&
		 gnutls_priority_cipher_list(tp->prio_upcall, &list) > 0)
		ret = 0;
	if (ret)
		snprintf(err, errlen, "profile %s: upcall, but its priority allows no TLS 1.3, "
			 "which the kernel's consumers require", p->name);
	return ret;
}

/* upcall = client with a keypair: a second set of credentials with the
 * profile's CAs and no certificate, for the consumers' anonymous mode. */
static int anon_creds(struct tls_profile *tp, const struct agent_profile *p, char *err,
		      size_t errlen)
{
	int ret;

	if (!(p->upcall.roles & AGENT_ROLE_CLIENT) || !p->n_pairs)
		return 0;
	if (gnutls_certificate_allocate_credentials(&tp->creds_anon) < 0)
		return -ENOMEM;
	ret = p->ca ? gnutls_certificate_set_x509_trust_file(tp->creds_anon, p->ca,
							      GNUTLS_X509_FMT_PEM) :
		      gnutls_certificate_set_x509_system_trust(tp->creds_anon);
	if (ret > 0 && p->crl)
		ret = gnutls_certificate_set_x509_crl_file(tp->creds_anon, p->crl,
							   GNUTLS_X509_FMT_PEM);
	if (ret <= 0) {
		snprintf(err, errlen, "profile %s: CA for anonymous upcalls: %s", p->name,
			 ret < 0 ? gnutls_strerror(ret) : "nothing loaded");
		return -EINVAL;
	}
	return 0;
}

unsigned int tls_split_alpn(const char *list, char *buf, size_t buflen,
			    gnutls_datum_t *out, unsigned int max)
{
	unsigned int n = 0;
	char *save, *tok;

	snprintf(buf, buflen, "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok && n < max;
	     tok = strtok_r(NULL, ",", &save)) {
		out[n].data = (unsigned char *)tok;
		out[n].size = (unsigned int)strlen(tok);
		n++;
	}
	return n;
}

static int key_file_private(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st)) {
		snprintf(err, errlen, "private key %s: %s", path, strerror(errno));
		return -errno;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "private key %s is readable or writable by group or "
			 "others (mode %04o); refusing to use it: chmod 600 %s",
			 path, (unsigned int)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

static int profile_load(struct tls_profile *tp, const struct agent_profile *p,
			unsigned int cipher_mask, char *err, size_t errlen)
{
	char prio[4096];
	unsigned int prio_flags;
	int ret;

	tp->conf = p;
	if (gnutls_certificate_allocate_credentials(&tp->creds) < 0)
		return -ENOMEM;
	/* key files return their index (for OCSP responses); CRLs must be
	 * signed by a trusted CA, or loading fails */
	gnutls_certificate_set_flags(tp->creds, GNUTLS_CERTIFICATE_API_V2 |
				     GNUTLS_CERTIFICATE_VERIFY_CRLS);
	for (int i = 0; i < p->n_pairs; i++) {
		ret = key_file_private(p->pairs[i].key, err, errlen);
		if (ret)
			return ret;
		ret = gnutls_certificate_set_x509_key_file2(tp->creds, p->pairs[i].cert,
							    p->pairs[i].key,
							    GNUTLS_X509_FMT_PEM, NULL, 0);
		if (ret < 0) {
			snprintf(err, errlen, "profile %s: certificate %s with key %s: %s",
				 p->name, p->pairs[i].cert, p->pairs[i].key,
				 gnutls_strerror(ret));
			return -EINVAL;
		}
		if (!p->pairs[i].ocsp)
			continue;
		ret = gnutls_certificate_set_ocsp_status_request_file(tp->creds,
								      p->pairs[i].ocsp,
								      (unsigned int)ret);
		if (ret < 0) {
			snprintf(err, errlen, "profile %s: OCSP response %s for %s: %s",
				 p->name, p->pairs[i].ocsp, p->pairs[i].cert,
				 gnutls_strerror(ret));
			return -EINVAL;
		}
	}
	/* No CA lines, no trust: nothing is verified against the system
	 * store unless the profile says ca = system (config.c refuses the
	 * uses that need a CA without one). */
	ret = 1;
	if (p->ca)
		ret = gnutls_certificate_set_x509_trust_file(tp->creds, p->ca,
							     GNUTLS_X509_FMT_PEM);
	else if (p->ca_system)
		ret = gnutls_certificate_set_x509_system_trust(tp->creds);
	if (ret <= 0) {
		snprintf(err, errlen, "profile %s: CA %s: %s", p->name,
			 p->ca ? p->ca : "(system trust store)",
			 ret < 0 ? gnutls_strerror(ret) : "no certificates in it");
		return -EINVAL;
	}
	if (p->crl) {
		ret = gnutls_certificate_set_x509_crl_file(tp->creds, p->crl,
							   GNUTLS_X509_FMT_PEM);
		if (ret <= 0) {
			snprintf(err, errlen, "profile %s: CRL %s: %s", p->name, p->crl,
				 ret < 0 ? gnutls_strerror(ret) : "no CRL in it");
			return -EINVAL;
		}
	}

	ret = tls_priority_resolve(p->priority, cipher_mask, prio, sizeof(prio), &prio_flags,
				   err, errlen);
	if (!ret && gnutls_priority_init2(&tp->prio, prio, NULL, prio_flags) < 0)
		ret = -EINVAL;	/* what was parsed once, minus items, parses */
	if (ret) {
		char why[400];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "profile %s: %s", p->name, why);
		return ret;
	}
	ret = offload_priority(tp, p, prio, prio_flags, err, errlen);
	if (!ret)
		ret = upcall_priority(tp, p, prio, prio_flags, err, errlen);
	if (!ret)
		ret = anon_creds(tp, p, err, errlen);
	if (ret)
		return ret;
	if (p->tickets) {
		tp->tickets = tickets_get(p->name, p->ticket_key_file, p->ticket_rotation_s,
					  err, errlen);
		if (!tp->tickets)
			return -EINVAL;
		ret = tickets_context(p, tp->ticket_ctx, err, errlen);
		if (ret)
			return ret;
	}
	if (p->alpn) {
		size_t len = strlen(p->alpn) + 1;

		tp->alpn_buf = malloc(len);
		tp->alpn = calloc(16, sizeof(*tp->alpn));
		if (!tp->alpn_buf || !tp->alpn)
			return -ENOMEM;
		tp->n_alpn = tls_split_alpn(p->alpn, tp->alpn_buf, len, tp->alpn, 16);
	}
	return 0;
}

static void profile_free(struct tls_profile *tp)
{
	if (tp->creds)
		gnutls_certificate_free_credentials(tp->creds);
	if (tp->prio)
		gnutls_priority_deinit(tp->prio);
	if (tp->prio_offload)
		gnutls_priority_deinit(tp->prio_offload);
	if (tp->prio_upcall)
		gnutls_priority_deinit(tp->prio_upcall);
	if (tp->creds_anon)
		gnutls_certificate_free_credentials(tp->creds_anon);
	tickets_put(tp->tickets);
	free(tp->alpn);
	free(tp->alpn_buf);
	memset(tp, 0, sizeof(*tp));
}

int tls_runtime_load(struct tls_runtime *rt, const struct agent_config *cfg,
		     unsigned int cipher_mask, char *err, size_t errlen)
{
	int ret;

	memset(rt, 0, sizeof(*rt));
	rt->cipher_mask = cipher_mask;
	rt->profiles = calloc(cfg->n_profiles, sizeof(*rt->profiles));
	if (!rt->profiles)
		return -ENOMEM;
	for (int i = 0; i < cfg->n_profiles; i++) {
		rt->n_profiles = i + 1;
		ret = profile_load(&rt->profiles[i], &cfg->profiles[i], cipher_mask,
				   err, errlen);
		if (ret) {
			tls_runtime_free(rt);
			return ret;
		}
	}
	return 0;
}

void tls_runtime_free(struct tls_runtime *rt)
{
	for (int i = 0; i < rt->n_profiles; i++)
		profile_free(&rt->profiles[i]);
	free(rt->profiles);
	memset(rt, 0, sizeof(*rt));
}

const struct tls_profile *tls_runtime_profile(const struct tls_runtime *rt,
					      const char *name)
{
	if (!name || !name[0])
		name = "default";
	for (int i = 0; i < rt->n_profiles; i++)
		if (!strcmp(rt->profiles[i].conf->name, name))
			return &rt->profiles[i];
	return NULL;
}
