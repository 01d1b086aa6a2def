// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host unit tests of the agent's handshake code (agent/tls.c) over a
 * loopback TCP pair, against a GnuTLS client in a child process: the
 * server's records leave in one write per flush of GnuTLS (its vectored
 * push), not one segment per record, for TLS 1.3 and TLS 1.2; a client
 * offering only TLS 1.0 and 1.1 is refused with a reason.  Priority
 * strings: the administrator's exclusions hold (versions, ciphers), only
 * removals are added, the default has no static RSA, and a string that
 * leaves nothing kernel TLS can carry is refused with the reason.  Kernel
 * TLS itself is not needed: on a kernel without it the handshake completes
 * and only the key installation fails.
 */
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "config.h"
#include "ktls_keys.h"
#include "loopback.h"
#include "tls.h"
#include "tap.h"

static int write_datum(const char *path, const gnutls_datum_t *d)
{
	FILE *f = fopen(path, "w");
	int ok = f && fwrite(d->data, 1, d->size, f) == d->size;

	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}

/* A self-signed ECDSA P-256 certificate for localhost, as PEM files. */
static int make_cert(const char *cert, const char *key)
{
	gnutls_x509_privkey_t k = NULL;
	gnutls_x509_crt_t c = NULL;
	gnutls_datum_t d = { 0 };
	unsigned char serial[] = { 1 };
	time_t now = time(NULL);
	int ret = -1;

	if (gnutls_x509_privkey_init(&k) < 0 || gnutls_x509_crt_init(&c) < 0 ||
	    gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crt_set_version(c, 3) < 0 ||
	    gnutls_x509_crt_set_serial(c, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(c, now - 60) < 0 ||
	    gnutls_x509_crt_set_expiration_time(c, now + 3600) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9) < 0 ||
	    gnutls_x509_crt_set_key(c, k) < 0 ||
	    gnutls_x509_crt_sign2(c, c, k, GNUTLS_DIG_SHA256, 0) < 0)
		goto out;
	if (gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d) < 0 || write_datum(cert, &d))
		goto out;
	gnutls_free(d.data);
	d.data = NULL;
	if (gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &d) < 0 || write_datum(key, &d))
		goto out;
	ret = 0;
out:
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(c);
	gnutls_x509_privkey_deinit(k);
	return ret;
}

/* The client, in a child: a blocking handshake, then wait for EOF; or,
 * for a priority "raw:HEX", those bytes instead of a ClientHello.  A
 * priority may start with "maxsize=N/" (gnutls_record_set_max_size: its
 * max_fragment_length or record_size_limit) or "recvsize=N/"
 * (gnutls_record_set_max_recv_size: record_size_limit). */
static pid_t client(int fd, int other, const char *priority)
{
	pid_t pid = fork();
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	char buf[256];
	int ret;

	if (pid)
		return pid;
	close(other);	/* the server's end: EOF comes when the server closes it */
	alarm(30);
	if (!strncmp(priority, "raw:", 4)) {
		unsigned char raw[512];
		size_t len = 0;
		unsigned int byte;

		for (const char *x = priority + 4; len < sizeof(raw) && sscanf(x, "%2x", &byte) == 1;
		     x += 2)
			raw[len++] = (unsigned char)byte;
		if (write(fd, raw, len) != (ssize_t)len)
			_exit(2);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_init(&s, GNUTLS_CLIENT) < 0)
		_exit(3);
	if (!strncmp(priority, "maxsize=", 8) || !strncmp(priority, "recvsize=", 9)) {
		size_t size = strtoul(strchr(priority, '=') + 1, NULL, 10);

		if ((priority[0] == 'm' ? gnutls_record_set_max_size(s, size) :
		     gnutls_record_set_max_recv_size(s, size)) < 0)
			_exit(4);
		priority = strchr(priority, '/') + 1;
	}
	if (gnutls_priority_set_direct(s, priority, NULL) < 0)
		_exit(3);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(s, GNUTLS_NAME_DNS, "localhost", 9);
	gnutls_transport_set_int(s, fd);
	do {
		ret = gnutls_handshake(s);
	} while (ret < 0 && !gnutls_error_is_fatal(ret));
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(ret == 0 ? 0 : 1);
}

/*
 * Runs the server side to its end, waiting at most @wait_ms for each step;
 * returns the client's exit status, or -2 if a wait ran out.
 */
static int handshake(const struct tls_profile *p, const char *client_priority,
		     struct tls_result *res, unsigned int *data_segs_out, int wait_ms)
{
	struct tls_handshake *h;
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	bool want_write = false, timed_out = false;
	int a, b, status = -1, ret;
	pid_t pid;

	*data_segs_out = 0;
	memset(res, 0, sizeof(*res));
	if (loopback_tcp_pair(&a, &b))
		return -1;
	pid = client(a, b, client_priority);
	close(a);
	h = tls_handshake_new(p, b, TLS_ROLE_SERVER, NULL, NULL, res);
	if (h) {
		do {
			struct pollfd pfd = { .fd = b, .events = want_write ? POLLOUT : POLLIN };

			if (poll(&pfd, 1, wait_ms) <= 0) {
				timed_out = true;
				break;
			}
			ret = tls_handshake_step(h, &want_write, res);
		} while (ret == 1);
		tls_handshake_free(h);
	}
	memset(&ti, 0, sizeof(ti));
	if (!getsockopt(b, IPPROTO_TCP, TCP_INFO, &ti, &tl))
		*data_segs_out = ti.tcpi_data_segs_out;
	close(b);
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !timed_out)
		return WEXITSTATUS(status);
	return timed_out ? -2 : -1;
}

/* The handshake itself succeeded: kernel TLS took the keys, or there is
 * no kernel TLS here and only installing them failed. */
static int handshake_ok(const struct tls_result *res)
{
	return res->err == 0 || !strncmp(res->reason, "kernel TLS:", 11);
}

static int has(const unsigned int *list, int len, unsigned int v)
{
	for (int i = 0; i < len; i++)
		if (list[i] == v)
			return 1;
	return 0;
}

/* Resolves @admin and reports on the result; 0 or the resolve error. */
static int resolve(const char *admin, unsigned int mask, gnutls_priority_t *p, char *err,
		   size_t errlen)
{
	char out[4096];
	unsigned int flags;
	int ret;

	*p = NULL;
	err[0] = '\0';
	ret = tls_priority_resolve(admin, mask, out, sizeof(out), &flags, err, errlen);
	if (ret)
		return ret;
	if (gnutls_priority_init2(p, out, NULL, flags) < 0)
		return -EINVAL;
	printf("# %s -> %s%s\n", admin ? admin : "(default)",
	       flags ? "(library default):" : "", out);
	return 0;
}

static void priority_tests(unsigned int mask)
{
	gnutls_priority_t p;
	const unsigned int *list;
	char err[512];
	int k, ret;

	ret = resolve(NULL, mask, &p, err, sizeof(err));
	check(ret == 0, "the default priority resolves");
	if (!ret) {
		k = gnutls_priority_kx_list(p, &list);
		check(k > 0 && !has(list, k, GNUTLS_KX_RSA), "the default has no static-RSA key exchange");
		k = gnutls_priority_protocol_list(p, &list);
		check(k == 2 && has(list, k, GNUTLS_TLS1_3) && has(list, k, GNUTLS_TLS1_2),
		      "the default allows TLS 1.3 and 1.2 only");
		k = gnutls_priority_cipher_list(p, &list);
		check(k > 0 && !has(list, k, GNUTLS_CIPHER_AES_128_CBC) &&
		      !has(list, k, GNUTLS_CIPHER_AES_128_CCM_8),
		      "the default allows ciphers kernel TLS carries only");
		k = gnutls_priority_group_list(p, &list);
		check(k > 1 && list[0] == GNUTLS_GROUP_X25519 && has(list, k, GNUTLS_GROUP_SECP256R1),
		      "the default prefers X25519 (no HelloRetryRequest for an X25519 share), "
		      "other groups kept");
		gnutls_priority_deinit(p);
	}
	ret = resolve("NORMAL:-GROUP-ALL:+GROUP-SECP384R1:+GROUP-X25519", mask, &p, err, sizeof(err));
	if (!ret) {
		k = gnutls_priority_group_list(p, &list);
		check(k == 2 && list[0] == GNUTLS_GROUP_SECP384R1,
		      "an administrator's group order is kept as written");
		gnutls_priority_deinit(p);
	} else {
		check(0, "an administrator's group list resolves");
	}
	ret = resolve("NORMAL:-VERS-TLS1.2", mask, &p, err, sizeof(err));
	if (!ret) {
		k = gnutls_priority_protocol_list(p, &list);
		check(k == 1 && list[0] == GNUTLS_TLS1_3, "NORMAL:-VERS-TLS1.2 stays TLS 1.3 only");
		gnutls_priority_deinit(p);
	} else {
		check(0, "NORMAL:-VERS-TLS1.2 resolves");
	}
	ret = resolve("SECURE256", mask, &p, err, sizeof(err));
	if (!ret) {
		k = gnutls_priority_cipher_list(p, &list);
		check(k > 0 && !has(list, k, GNUTLS_CIPHER_AES_128_GCM) &&
		      !has(list, k, GNUTLS_CIPHER_AES_128_CCM),
		      "SECURE256 keeps AES-128 out");
		gnutls_priority_deinit(p);
	} else {
		check(0, "SECURE256 resolves");
	}
	ret = resolve("NORMAL:-CHACHA20-POLY1305", mask, &p, err, sizeof(err));
	if (!ret) {
		k = gnutls_priority_cipher_list(p, &list);
		check(!has(list, k, GNUTLS_CIPHER_CHACHA20_POLY1305) &&
		      has(list, k, GNUTLS_CIPHER_AES_256_GCM),
		      "a cipher the administrator removed stays removed");
		gnutls_priority_deinit(p);
	} else {
		check(0, "NORMAL:-CHACHA20-POLY1305 resolves");
	}
	ret = resolve("NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0", mask, &p, err, sizeof(err));
	check(ret == -EPROTONOSUPPORT && strstr(err, "leaves no TLS version") &&
	      strstr(err, "TLS1.1"), "TLS 1.0/1.1 only: refused, naming why");
	printf("# %s\n", err);
	ret = resolve("NORMAL:-CIPHER-ALL:+AES-256-CBC:+AES-128-CBC", mask, &p, err, sizeof(err));
	check(ret == -EPROTONOSUPPORT && strstr(err, "leaves no cipher") &&
	      strstr(err, "AES-256-CBC"), "CBC ciphers only: refused, naming why");
	printf("# %s\n", err);
	ret = resolve("NORMAL:-CIPHER-ALL:+AES-128-GCM", mask & ~1u, &p, err, sizeof(err));
	check(ret == -EPROTONOSUPPORT, "a cipher this kernel lacks only: refused");
	ret = resolve("NORMAL:+NO-SUCH-THING", mask, &p, err, sizeof(err));
	check(ret == -EINVAL && strstr(err, "not valid near"), "a bad string: refused, naming where");
	printf("# %s\n", err);
}

int main(void)
{
	char dir[] = "/tmp/unit_tls.XXXXXX", cert[64], key[64], err[256];
	struct agent_profile prof = { .name = "default", .n_pairs = 1 };
	struct agent_config cfg = { .profiles = &prof, .n_profiles = 1 };
	struct tls_runtime rt = { 0 };
	unsigned int mask = 0, segs;
	struct tls_result res;
	time_t t0;
	int st;

	err[0] = '\0';
	alarm(120);	/* a hang is a failure, not a stuck make check */
	umask(077);	/* the agent refuses keys others can read */
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	prof.pairs[0].cert = cert;
	prof.pairs[0].key = key;
	for (unsigned int i = 0; ktls_cipher_at(i); i++)
		mask |= 1u << i;
	if (make_cert(cert, key) || tls_runtime_load(&rt, &cfg, mask, err, sizeof(err))) {
		printf("Bail out! no server credentials: %s\n", err[0] ? err : "cannot make them");
		return 1;
	}

	st = handshake(&rt.profiles[0], "NORMAL:-VERS-ALL:+VERS-TLS1.3", &res, &segs, 10000);
	check(st == 0 && handshake_ok(&res), "TLS 1.3: the handshake completes on both sides");
	printf("# TLS 1.3: %u data segments from the server (%s)\n", segs, res.reason);
	/* GnuTLS 3.7 flushes after ServerHello (and its ChangeCipherSpec),
	 * then EncryptedExtensions to Finished: two writes, not six */
	check(segs >= 1 && segs <= 2,
	      "TLS 1.3: the server's flight leaves in at most two segments, not one per record");

	st = handshake(&rt.profiles[0], "NORMAL:-VERS-ALL:+VERS-TLS1.2", &res, &segs, 10000);
	check(st == 0 && handshake_ok(&res), "TLS 1.2: the handshake completes on both sides");
	printf("# TLS 1.2: %u data segments from the server (%s)\n", segs, res.reason);
	check(segs == 2, "TLS 1.2: two flights, one segment each");

	st = handshake(&rt.profiles[0], "NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1", &res, &segs, 10000);
	check(st != 0, "a client offering only TLS 1.0 and 1.1 fails its handshake");
	check(res.err != 0 && res.reason[0] && strncmp(res.reason, "kernel TLS:", 11),
	      "and the server refuses it, with a reason");
	printf("# refused: %s\n", res.reason);

	/* an SSLv2 header claiming 8191 bytes, then only 32: refused at
	 * once, not held until the timeout waiting for the rest */
	t0 = time(NULL);
	st = handshake(&rt.profiles[0], "raw:9fff0103030006000000100000350000"
		       "2f0102030405060708090a0b0c0d0e0f", &res, &segs, 10000);
	check(res.err == EPROTONOSUPPORT && time(NULL) - t0 < 5,
	      "an SSLv2-framed hello claiming more bytes than it sends is refused at once");
	printf("# refused: %s\n", res.reason);
	/* a TLS-framed handshake record that never completes is not refused:
	 * it waits (the worker's handshake timeout ends it) */
	st = handshake(&rt.profiles[0], "raw:1603010200010001fc0303", &res, &segs, 1000);
	check(st == -2, "a TLS record header with its body still to come is waited for");

	/* records smaller than kernel TLS sends: refused at the ClientHello */
	st = handshake(&rt.profiles[0], "maxsize=512/NORMAL:-VERS-ALL:+VERS-TLS1.3", &res, &segs, 10000);
	check(st != 0 && res.err == EMSGSIZE, "TLS 1.3: a client asking for 512-byte records is refused");
	printf("# %s\n", res.reason);
	st = handshake(&rt.profiles[0], "maxsize=512/NORMAL:-VERS-ALL:+VERS-TLS1.2", &res, &segs, 10000);
	check(st != 0 && res.err == EMSGSIZE, "TLS 1.2: the same");
	st = handshake(&rt.profiles[0], "recvsize=4096/NORMAL", &res, &segs, 10000);
	check(st != 0 && res.err == EMSGSIZE && strstr(res.reason, "record_size_limit"),
	      "record_size_limit 4096: refused, naming the extension");
	printf("# %s\n", res.reason);
	st = handshake(&rt.profiles[0], "recvsize=16384/NORMAL:-VERS-ALL:+VERS-TLS1.2", &res, &segs,
		       10000);
	check(st == 0 && handshake_ok(&res), "TLS 1.2, record_size_limit 2^14: served");
	st = handshake(&rt.profiles[0], "recvsize=16384/NORMAL:-VERS-ALL:+VERS-TLS1.3", &res, &segs,
		       10000);
	check(st == 0 && handshake_ok(&res), "TLS 1.3, record_size_limit for 2^14: served");

	priority_tests(mask);
	/* the review's case: TLS 1.2 and AES-128 removed by the administrator */
	tls_runtime_free(&rt);
	prof.priority = "NORMAL:-VERS-TLS1.2:-AES-128-GCM:-AES-128-CCM";
	if (tls_runtime_load(&rt, &cfg, mask, err, sizeof(err))) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	st = handshake(&rt.profiles[0], "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM",
		       &res, &segs, 10000);
	check(st != 0 && res.err, "priority without TLS 1.2: a TLS 1.2 client is refused");
	st = handshake(&rt.profiles[0], "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM",
		       &res, &segs, 10000);
	check(st != 0 && res.err, "priority without AES-128-GCM: a TLS 1.3 AES-128-GCM client is refused");
	st = handshake(&rt.profiles[0], "NORMAL", &res, &segs, 10000);
	check(st == 0 && handshake_ok(&res), "and a client offering the rest is served");

	tls_runtime_free(&rt);
	unlink(cert);
	unlink(key);
	rmdir(dir);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
