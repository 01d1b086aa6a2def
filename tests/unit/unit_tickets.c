// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host unit tests of the session ticket masters (agent/tickets.c) and of
 * resumption through the agent's handshake code (agent/tls.c) over
 * loopback, against GnuTLS clients in a thread: a ticket_key_file's first
 * key encrypts and the others are accepted; a second runtime reading the
 * same file (as a second agent would) resumes the first one's ticket;
 * replacing the file with a new key first keeps the old tickets valid,
 * without the old key they are not; an unchanged file keeps them across
 * a reload; generated masters rotate with the previous one accepted for
 * one interval; and the name GnuTLS writes into its tickets is the one
 * tickets_select() looks for.  The key GnuTLS gets is derived from the
 * master and a context of the profile's name and authentication settings:
 * the same settings give the same key, another profile, CA, CRL,
 * client_cert or priority another one; so another profile sharing the
 * file, or a reload that changed client_cert, does not resume a ticket.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "config.h"
#include "ktls_keys.h"
#include "loopback.h"
#include "tickets.h"
#include "tls.h"
#include "tap.h"

static char dir[] = "/tmp/unit_tickets.XXXXXX";

static void write_file(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		printf("Bail out! cannot write %s\n", path);
	chmod(path, mode);
}

/* --- a GnuTLS client in a thread, resuming from *sd if it holds data --- */
struct client {
	int fd;
	const char *priority;
	gnutls_datum_t sd;	/* in: session to resume; out: the new one */
	int resumed, ret;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	char buf[64];

	gnutls_certificate_allocate_credentials(&cred);
	gnutls_init(&s, GNUTLS_CLIENT);
	gnutls_priority_set_direct(s, c->priority, NULL);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
	if (c->sd.data)
		gnutls_session_set_data(s, c->sd.data, c->sd.size);
	gnutls_transport_set_int(s, c->fd);
	gnutls_handshake_set_timeout(s, 10000);
	do
		c->ret = gnutls_handshake(s);
	while (c->ret < 0 && !gnutls_error_is_fatal(c->ret));
	c->resumed = c->ret == 0 && gnutls_session_is_resumed(s);
	gnutls_free(c->sd.data);
	c->sd.data = NULL;
	c->sd.size = 0;
	/* TLS 1.2: the ticket came in the handshake, and a close without
	 * close_notify (the server's kernel TLS failing on a host without
	 * it) would void the session; TLS 1.3 tickets come after it */
	if (c->ret == 0 && gnutls_protocol_get_version(s) == GNUTLS_TLS1_2)
		gnutls_session_get_data2(s, &c->sd);
	if (c->ret == 0)
		while (gnutls_record_recv(s, buf, sizeof(buf)) > 0)
			;
	if (c->ret == 0 && !c->sd.data)
		gnutls_session_get_data2(s, &c->sd);
	gnutls_deinit(s);
	gnutls_certificate_free_credentials(cred);
	close(c->fd);
	return NULL;
}

/* One connection to the agent's server side with profile @p; returns
 * whether the client resumed, -1 if the handshake failed. */
static int connect_once(const struct tls_profile *p, struct client *c)
{
	struct tls_result res;
	struct tls_handshake *h;
	bool want_write = false;
	pthread_t t;
	int a, b, ret = 1;

	if (loopback_tcp_pair(&a, &b))
		return -1;
	c->fd = a;
	pthread_create(&t, NULL, client_main, c);
	h = tls_handshake_new(p, b, TLS_ROLE_SERVER, NULL, NULL, &res);
	while (h && ret == 1) {
		struct pollfd pfd = { .fd = b, .events = want_write ? POLLOUT : POLLIN };

		if (poll(&pfd, 1, 10000) <= 0)
			break;
		ret = tls_handshake_step(h, &want_write, &res);
	}
	tls_handshake_free(h);
	close(b);
	pthread_join(t, NULL);
	return c->ret == 0 ? c->resumed : -1;
}

static int make_cert(const char *cert, const char *key)
{
	gnutls_x509_privkey_t k;
	gnutls_x509_crt_t c;
	gnutls_datum_t d;
	unsigned char serial[] = { 1 };
	time_t now = time(NULL);
	FILE *f;
	int ok;

	gnutls_x509_privkey_init(&k);
	gnutls_x509_crt_init(&c);
	ok = gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) >= 0 &&
	     gnutls_x509_crt_set_version(c, 3) >= 0 &&
	     gnutls_x509_crt_set_serial(c, serial, 1) >= 0 &&
	     gnutls_x509_crt_set_activation_time(c, now - 60) >= 0 &&
	     gnutls_x509_crt_set_expiration_time(c, now + 3600) >= 0 &&
	     gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9) >= 0 &&
	     gnutls_x509_crt_set_key(c, k) >= 0 &&
	     gnutls_x509_crt_sign2(c, c, k, GNUTLS_DIG_SHA256, 0) >= 0;
	if (ok && gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d) >= 0) {
		f = fopen(cert, "w");
		ok = f && fwrite(d.data, 1, d.size, f) == d.size && !fclose(f);
		gnutls_free(d.data);
	}
	if (ok && gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &d) >= 0) {
		f = fopen(key, "w");
		ok = f && fwrite(d.data, 1, d.size, f) == d.size && !fclose(f);
		gnutls_free(d.data);
	}
	gnutls_x509_crt_deinit(c);
	gnutls_x509_privkey_deinit(k);
	return ok ? 0 : -1;
}

static uint8_t ctx[TICKET_CONTEXT_SIZE];

/* The key GnuTLS gets for master @k in the context of the masters' tests. */
static const uint8_t *derived(const uint8_t *k)
{
	static uint8_t out[4][TICKET_MASTER_SIZE];
	static unsigned int i;

	i = (i + 1) % 4;
	tickets_derive(k, ctx, out[i]);
	return out[i];
}

static void masters_tests(void)
{
	uint8_t keys[3][TICKET_MASTER_SIZE], name[TICKET_NAME_SIZE], m[TICKET_MASTER_SIZE];
	char path[96], err[512];
	struct tickets *t, *t2;
	time_t now = time(NULL);
	uint64_t step = (uint64_t)now / (3600 * 3);

	gnutls_rnd(GNUTLS_RND_KEY, ctx, sizeof(ctx));
	gnutls_rnd(GNUTLS_RND_KEY, keys, sizeof(keys));
	snprintf(path, sizeof(path), "%s/two.key", dir);
	write_file(path, keys[0], 2 * TICKET_MASTER_SIZE, 0600);
	t = tickets_get("a", path, 3600, err, sizeof(err));
	check(t && tickets_count(t) == 2, "a ticket_key_file of two keys gives two masters");
	if (!t)
		return;
	check(tickets_select(t, ctx, NULL, now, 3600, m) == 0 &&
	      !memcmp(m, derived(keys[0]), 64) && memcmp(m, keys[0], 64),
	      "without a ticket, the file's first key encrypts (derived, never itself)");
	tickets_name(derived(keys[1]), step, name);
	check(tickets_select(t, ctx, name, now, 3600, m) == 1 && !memcmp(m, derived(keys[1]), 64),
	      "a ticket under the second key gets the second key");
	tickets_name(derived(keys[1]), step - 1, name);
	check(tickets_select(t, ctx, name, now, 3600, m) == 1, "also from the time step before");
	tickets_name(derived(keys[1]), step - 2, name);
	check(tickets_select(t, ctx, name, now, 3600, m) == 0, "but not from two steps before");
	tickets_name(derived(keys[2]), step, name);
	check(tickets_select(t, ctx, name, now, 3600, m) == 0,
	      "an unknown ticket gets the current key");
	tickets_name(keys[1], step, name);
	check(tickets_select(t, ctx, name, now, 3600, m) == 0,
	      "a ticket under the second master itself (not derived) is unknown");
	t2 = tickets_get("a", path, 3600, err, sizeof(err));
	check(t2 == t, "a reload with the same file keeps the same masters");
	tickets_put(t2);
	write_file(path, keys[2], TICKET_MASTER_SIZE, 0600);
	t2 = tickets_get("a", path, 3600, err, sizeof(err));
	check(t2 == t && tickets_count(t) == 1 &&
	      tickets_select(t, ctx, NULL, now, 3600, m) == 0 && !memcmp(m, derived(keys[2]), 64),
	      "a replaced file takes effect at the reload");
	tickets_put(t2);
	tickets_put(t);

	write_file(path, keys[0], 65, 0600);
	check(!tickets_get("b", path, 3600, err, sizeof(err)) && strstr(err, "65 bytes"),
	      "a file that is not a whole number of 64-byte keys is refused");
	write_file(path, keys[0], 64, 0644);
	check(!tickets_get("b", path, 3600, err, sizeof(err)) && strstr(err, "mode 0644"),
	      "a file others can read is refused");

	t = tickets_get("gen", NULL, 100, err, sizeof(err));
	if (!t)
		return;
	tickets_select(t, ctx, NULL, now + 50, 100, keys[0]);
	check(tickets_count(t) == 1, "a generated master is kept for its interval");
	tickets_select(t, ctx, NULL, now + 101, 100, keys[1]);
	check(tickets_count(t) == 2 && memcmp(keys[0], keys[1], 64),
	      "then a new one encrypts, the previous one kept");
	tickets_name(keys[0], (uint64_t)(now + 101) / 300, name);
	check(tickets_select(t, ctx, name, now + 101, 100, m) == 1 && !memcmp(m, keys[0], 64),
	      "and a ticket under the previous one still finds it");
	tickets_select(t, ctx, NULL, now + 202, 100, keys[2]);
	tickets_name(keys[0], (uint64_t)(now + 202) / 300, name);
	check(tickets_select(t, ctx, name, now + 202, 100, m) == 0,
	      "one interval later the one before is gone");
	tickets_select(t, ctx, NULL, now + 600, 100, m);
	check(tickets_count(t) == 1, "after two idle intervals only a fresh master is left");
	tickets_put(t);
}

/* The context of the profile @p, or zeros after a failure (reported). */
static void context_of(const struct agent_profile *p, uint8_t out[TICKET_CONTEXT_SIZE])
{
	char err[512];

	memset(out, 0, TICKET_CONTEXT_SIZE);
	if (tickets_context(p, out, err, sizeof(err)))
		printf("# tickets_context: %s\n", err);
}

/* The context binds the keys to the profile and to who may resume. */
static void context_tests(void)
{
	static const char *const pem[] = { "CA one\n", "CA two\n", "CRL one\n", "CRL two\n" };
	struct agent_profile p = { .name = "a" }, q;
	uint8_t c0[TICKET_CONTEXT_SIZE], c1[TICKET_CONTEXT_SIZE], master[TICKET_MASTER_SIZE];
	uint8_t k0[TICKET_MASTER_SIZE], k1[TICKET_MASTER_SIZE];
	char ca[96], crl[96], err[512];

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(crl, sizeof(crl), "%s/crl.pem", dir);
	write_file(ca, (const uint8_t *)pem[0], strlen(pem[0]), 0644);
	write_file(crl, (const uint8_t *)pem[2], strlen(pem[2]), 0644);
	p.ca = ca;
	p.crl = crl;
	p.client_cert = CLIENT_CERT_REQUIRED;
	gnutls_rnd(GNUTLS_RND_KEY, master, sizeof(master));

	context_of(&p, c0);
	q = p;
	context_of(&q, c1);
	tickets_derive(master, c0, k0);
	tickets_derive(master, c1, k1);
	check(!memcmp(c0, c1, sizeof(c0)) && !memcmp(k0, k1, sizeof(k0)),
	      "the same profile and files: the same key (tickets survive such a reload)");
	q.name = "b";
	context_of(&q, c1);
	tickets_derive(master, c1, k1);
	check(memcmp(c0, c1, sizeof(c0)) && memcmp(k0, k1, sizeof(k0)),
	      "another profile, same master and settings: another key");
	q = p;
	write_file(crl, (const uint8_t *)pem[3], strlen(pem[3]), 0644);
	context_of(&q, c1);
	tickets_derive(master, c1, k1);
	check(memcmp(c0, c1, sizeof(c0)) && memcmp(k0, k1, sizeof(k0)),
	      "the CRL file's contents changed (a revocation): another key");
	write_file(crl, (const uint8_t *)pem[2], strlen(pem[2]), 0644);
	context_of(&q, c1);
	check(!memcmp(c0, c1, sizeof(c0)), "the CRL as before: the key as before");
	write_file(ca, (const uint8_t *)pem[1], strlen(pem[1]), 0644);
	context_of(&q, c1);
	check(memcmp(c0, c1, sizeof(c0)), "the CA file's contents changed: another key");
	write_file(ca, (const uint8_t *)pem[0], strlen(pem[0]), 0644);
	q.crl = NULL;
	context_of(&q, c1);
	check(memcmp(c0, c1, sizeof(c0)), "the CRL line removed: another key");
	q = p;
	q.client_cert = CLIENT_CERT_OPTIONAL;
	context_of(&q, c1);
	check(memcmp(c0, c1, sizeof(c0)), "client_cert changed: another key");
	q = p;
	q.ca = NULL;
	q.ca_system = true;
	context_of(&q, c1);
	check(memcmp(c0, c1, sizeof(c0)), "ca = system instead of the file: another key");
	q = p;
	q.priority = "NORMAL";
	context_of(&q, c1);
	check(memcmp(c0, c1, sizeof(c0)), "a priority string: another key");
	q = p;
	snprintf(crl, sizeof(crl), "%s/missing.pem", dir);
	q.crl = crl;
	check(tickets_context(&q, c1, err, sizeof(err)) == -ENOENT && strstr(err, crl),
	      "a CRL file that cannot be read is an error naming it");
	unlink(crl);
	snprintf(crl, sizeof(crl), "%s/crl.pem", dir);
	unlink(crl);
	unlink(ca);
}

int main(void)
{
	char cert[96], key[96], file[96], file2[96], err[512];
	struct agent_profile prof = { .name = "a", .n_pairs = 1, .tickets = true,
				      .ticket_rotation_s = 3600 };
	struct agent_profile prof2, prof3;
	struct agent_config cfg = { .profiles = &prof, .n_profiles = 1 };
	struct agent_config cfg2 = { .profiles = &prof2, .n_profiles = 1 };
	struct agent_config cfg3 = { .profiles = &prof3, .n_profiles = 1 };
	struct tls_runtime rt = { 0 }, rt2 = { 0 }, rt3 = { 0 };
	uint8_t keys[2][TICKET_MASTER_SIZE];
	unsigned int mask = 0;
	struct client c = { .priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3" };
	struct client c12 = { .priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2" };

	alarm(120);
	umask(077);
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	masters_tests();
	context_tests();

	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(file, sizeof(file), "%s/ticket.key", dir);
	snprintf(file2, sizeof(file2), "%s/ticket2.key", dir);
	gnutls_rnd(GNUTLS_RND_KEY, keys, sizeof(keys));
	write_file(file, keys[0], TICKET_MASTER_SIZE, 0600);
	if (link(file, file2)) {
		printf("Bail out! link: %s\n", strerror(errno));
		return 1;
	}
	prof.pairs[0].cert = cert;
	prof.pairs[0].key = key;
	prof.ticket_key_file = file;
	prof2 = prof;
	/* the same file under another name: another registry entry, as in
	 * another process */
	prof2.ticket_key_file = file2;
	prof3 = prof;
	prof3.name = "b";
	for (unsigned int i = 0; ktls_cipher_at(i); i++)
		mask |= 1u << i;
	if (make_cert(cert, key) || tls_runtime_load(&rt, &cfg, mask, err, sizeof(err)) ||
	    tls_runtime_load(&rt2, &cfg2, mask, err, sizeof(err)) ||
	    tls_runtime_load(&rt3, &cfg3, mask, err, sizeof(err))) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	check(connect_once(&rt.profiles[0], &c) == 0 && c.sd.size, "TLS 1.3: a full handshake and a ticket");
	check(connect_once(&rt.profiles[0], &c) == 1, "TLS 1.3: the ticket resumes");
	check(connect_once(&rt2.profiles[0], &c) == 1,
	      "a second agent with the same ticket_key_file resumes it");
	{
		int r1 = connect_once(&rt.profiles[0], &c12), r2 = connect_once(&rt2.profiles[0], &c12);

		printf("# TLS 1.2: %d %d (%d, %u bytes)\n", r1, r2, c12.ret, c12.sd.size);
		check(r1 == 0 && r2 == 1, "TLS 1.2: the same");
	}
	{
		struct client c3 = { .priority = c.priority }, c312 = { .priority = c12.priority };

		check(connect_once(&rt.profiles[0], &c3) == 0 &&
		      connect_once(&rt3.profiles[0], &c3) == 0,
		      "TLS 1.3: another profile sharing the ticket_key_file does not resume it");
		check(connect_once(&rt.profiles[0], &c312) == 0 &&
		      connect_once(&rt3.profiles[0], &c312) == 0,
		      "TLS 1.2: the same");
		check(connect_once(&rt3.profiles[0], &c3) == 1,
		      "(that profile's own ticket resumes on it)");
		tls_runtime_free(&rt3);
		prof3 = prof;
		prof3.client_cert = CLIENT_CERT_OPTIONAL;
		if (tls_runtime_load(&rt3, &cfg3, mask, err, sizeof(err)))
			printf("# %s\n", err);
		check(connect_once(&rt.profiles[0], &c3) == 0 &&
		      connect_once(&rt3.profiles[0], &c3) == 0,
		      "a reload that changed client_cert does not resume older tickets");
		check(connect_once(&rt.profiles[0], &c312) == 0 &&
		      connect_once(&rt3.profiles[0], &c312) == 0,
		      "TLS 1.2: the same");
		tls_runtime_free(&rt3);
		gnutls_free(c3.sd.data);
		gnutls_free(c312.sd.data);
	}

	/* rotation by file: the new key first, the old one still accepted */
	memcpy(keys[1], keys[0], TICKET_MASTER_SIZE);
	gnutls_rnd(GNUTLS_RND_KEY, keys[0], TICKET_MASTER_SIZE);
	write_file(file, keys[0], 2 * TICKET_MASTER_SIZE, 0600);
	tls_runtime_free(&rt);
	if (tls_runtime_load(&rt, &cfg, mask, err, sizeof(err))) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	check(connect_once(&rt.profiles[0], &c) == 1,
	      "after the file got a new first key and a reload, the old ticket resumes");
	write_file(file, keys[0], TICKET_MASTER_SIZE, 0600);
	tls_runtime_free(&rt);
	tls_runtime_load(&rt, &cfg, mask, err, sizeof(err));
	/* GnuTLS takes one master per session: a session resumed under the
	 * old key got its new ticket under that key too */
	check(connect_once(&rt.profiles[0], &c) == 0,
	      "once the old key is gone, its tickets get a full handshake");
	check(connect_once(&rt.profiles[0], &c) == 1, "whose ticket (under the new key) resumes");
	tls_runtime_free(&rt);
	tls_runtime_load(&rt, &cfg, mask, err, sizeof(err));
	check(connect_once(&rt.profiles[0], &c) == 1, "a reload with the file unchanged keeps tickets");
	check(connect_once(&rt2.profiles[0], &c12) == 1, "(the TLS 1.2 ticket, before the old key goes)");
	write_file(file, keys[0], TICKET_MASTER_SIZE, 0600);
	tls_runtime_free(&rt2);
	tls_runtime_load(&rt2, &cfg2, mask, err, sizeof(err));
	check(connect_once(&rt2.profiles[0], &c12) == 0,
	      "a ticket under a key no longer in the file gets a full handshake");

	tls_runtime_free(&rt);
	tls_runtime_free(&rt2);
	gnutls_free(c.sd.data);
	gnutls_free(c12.sd.data);
	unlink(cert);
	unlink(key);
	unlink(file);
	unlink(file2);
	snprintf(file, sizeof(file), "%s/two.key", dir);
	unlink(file);
	rmdir(dir);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
