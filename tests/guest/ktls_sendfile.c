// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kTLS smoke test on a loopback TCP pair: installs fixed keys with the
 * agent's own key installer, sendfile()s a file through kernel TLS TX and
 * receives it either through kernel TLS RX ("kernel") or by decrypting
 * the records on the wire with GnuTLS ("wire"), which proves the bytes
 * crossed as real TLS records under those keys.  Checks SHA-256 and the
 * /proc/net/tls_stat counters.  Prints TAP.
 *
 * Usage: ktls_sendfile FILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "ktls_keys.h"
#include "loopback.h"

#define REC_HDR 5
#define TAG_LEN 16
#define MAX_REC (REC_HDR + 16384 + 256 + TAG_LEN)
#define START_SEQ 1000

struct tcase {
	const char *name;
	uint16_t version;
	const char *cipher;
	gnutls_cipher_algorithm_t galg;
};

static const struct tcase cases[] = {
	{ "tls13-aes128gcm", TLS_1_3_VERSION, "AES-128-GCM", GNUTLS_CIPHER_AES_128_GCM },
	{ "tls13-aes256gcm", TLS_1_3_VERSION, "AES-256-GCM", GNUTLS_CIPHER_AES_256_GCM },
	{ "tls13-chacha20poly1305", TLS_1_3_VERSION, "CHACHA20-POLY1305",
	  GNUTLS_CIPHER_CHACHA20_POLY1305 },
	{ "tls12-aes128gcm", TLS_1_2_VERSION, "AES-128-GCM", GNUTLS_CIPHER_AES_128_GCM },
};

struct tls_stat {
	long tx_sw, rx_sw, decrypt_err;
};

static int read_tls_stat(struct tls_stat *st)
{
	char name[64];
	long val;
	FILE *f = fopen("/proc/net/tls_stat", "r");

	if (!f)
		return -errno;
	memset(st, 0, sizeof(*st));
	while (fscanf(f, "%63s %ld", name, &val) == 2) {
		if (!strcmp(name, "TlsTxSw"))
			st->tx_sw = val;
		else if (!strcmp(name, "TlsRxSw"))
			st->rx_sw = val;
		else if (!strcmp(name, "TlsDecryptError"))
			st->decrypt_err = val;
	}
	fclose(f);
	return 0;
}

/* Deterministic test secrets, different per use so a mix-up cannot pass. */
static void test_secret(uint8_t *buf, size_t len, uint8_t tag)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(tag * 31 + i * 7 + 1);
}

struct sender {
	int sock, file;
	off_t size;
	int err;
};

static void *send_file(void *arg)
{
	struct sender *s = arg;
	off_t off = 0;

	while (off < s->size) {
		ssize_t n = sendfile(s->sock, s->file, &off, s->size - off);

		if (n <= 0) {
			s->err = n < 0 ? errno : EPIPE;
			break;
		}
	}
	shutdown(s->sock, SHUT_WR);
	return NULL;
}

struct wire {
	gnutls_aead_cipher_hd_t aead;
	const struct tcase *tc;
	uint8_t nonce_base[12];	/* TLS 1.3 / ChaCha: full IV; TLS 1.2 GCM: salt */
	uint64_t seq;
	uint8_t buf[2 * MAX_REC];
	size_t have;
	long records;
};

/* Decrypts every complete record in w->buf into the hash; -1 on failure. */
static int wire_consume(struct wire *w, gnutls_hash_hd_t hash)
{
	static uint8_t plain[MAX_REC];
	size_t off = 0;

	while (w->have - off >= REC_HDR) {
		uint8_t *rec = w->buf + off;
		size_t len = ((size_t)rec[3] << 8) | rec[4];
		uint8_t nonce[12], aad[13];
		size_t aad_len, plen = sizeof(plain), ctext_off;

		if (rec[0] != 23 || rec[1] != 3 || rec[2] != 3 || len > MAX_REC - REC_HDR) {
			printf("# bad record header %02x %02x%02x len %zu\n",
			       rec[0], rec[1], rec[2], len);
			return -1;
		}
		if (w->have - off < REC_HDR + len)
			break;

		if (w->tc->version == TLS_1_3_VERSION || w->tc->galg == GNUTLS_CIPHER_CHACHA20_POLY1305) {
			memcpy(nonce, w->nonce_base, 12);
			for (int i = 0; i < 8; i++)
				nonce[4 + i] ^= (uint8_t)(w->seq >> (56 - 8 * i));
			ctext_off = 0;
		} else {
			memcpy(nonce, w->nonce_base, 4);
			memcpy(nonce + 4, rec + REC_HDR, 8);
			ctext_off = 8;
		}
		if (w->tc->version == TLS_1_3_VERSION) {
			memcpy(aad, rec, REC_HDR);
			aad_len = REC_HDR;
		} else {
			size_t clen = len - ctext_off - TAG_LEN;

			for (int i = 0; i < 8; i++)
				aad[i] = (uint8_t)(w->seq >> (56 - 8 * i));
			aad[8] = 23;
			aad[9] = 3;
			aad[10] = 3;
			aad[11] = (uint8_t)(clen >> 8);
			aad[12] = (uint8_t)clen;
			aad_len = 13;
		}
		if (gnutls_aead_cipher_decrypt(w->aead, nonce, 12, aad, aad_len, TAG_LEN,
					       rec + REC_HDR + ctext_off, len - ctext_off,
					       plain, &plen) < 0) {
			printf("# record %ld (seq %llu) failed authentication\n",
			       w->records, (unsigned long long)w->seq);
			return -1;
		}
		if (w->tc->version == TLS_1_3_VERSION) {
			while (plen && plain[plen - 1] == 0)
				plen--;
			if (!plen || plain[plen - 1] != 23) {
				printf("# record %ld: inner type is not application data\n",
				       w->records);
				return -1;
			}
			plen--;
		}
		gnutls_hash(hash, plain, plen);
		w->seq++;
		w->records++;
		off += REC_HDR + len;
	}
	memmove(w->buf, w->buf + off, w->have - off);
	w->have -= off;
	return 0;
}

static int file_sha256(const char *path, uint8_t out[32])
{
	static uint8_t buf[1 << 16];
	gnutls_hash_hd_t h;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		gnutls_hash(h, buf, n);
	gnutls_hash_deinit(h, out);
	close(fd);
	return n < 0 ? -1 : 0;
}

static int run_case(int num, const struct tcase *tc, int wire_mode,
		    const char *path, const uint8_t want[32])
{
	const struct ktls_cipher *c = ktls_cipher_by_name(tc->cipher);
	union ktls_crypto_info ci;
	uint8_t key[32], iv[12], got[32];
	size_t iv_len = (tc->version == TLS_1_2_VERSION && c->salt_len) ? c->salt_len : 12;
	struct tls_stat before, after;
	struct sender snd = { .sock = -1, .file = -1 };
	struct wire *w = NULL;
	gnutls_hash_hd_t hash;
	pthread_t thr;
	struct stat sb;
	long long received = 0;
	int rx = -1, len, ret, fail = 1;
	const char *mode = wire_mode ? "wire" : "kernel";
	static uint8_t buf[1 << 16];

	test_secret(key, c->key_len, (uint8_t)num);
	test_secret(iv, iv_len, (uint8_t)(num + 100));

	if (read_tls_stat(&before) < 0) {
		printf("# /proc/net/tls_stat: %s (is the tls module loaded?)\n", strerror(errno));
		goto out;
	}
	snd.file = open(path, O_RDONLY);
	if (snd.file < 0 || fstat(snd.file, &sb) < 0) {
		printf("# %s: %s\n", path, strerror(errno));
		goto out;
	}
	snd.size = sb.st_size;
	ret = loopback_tcp_pair(&snd.sock, &rx);
	if (ret < 0) {
		printf("# loopback pair: %s\n", strerror(-ret));
		goto out;
	}

	len = ktls_crypto_info_fill(&ci, tc->version, c, key, c->key_len, iv, iv_len, START_SEQ);
	ret = len < 0 ? len : ktls_attach_ulp(snd.sock);
	if (!ret)
		ret = ktls_install(snd.sock, TLS_TX, &ci, len);
	if (!ret && !wire_mode) {
		ret = ktls_attach_ulp(rx);
		if (!ret)
			ret = ktls_install(rx, TLS_RX, &ci, len);
	}
	ktls_crypto_info_wipe(&ci);
	if (ret < 0) {
		printf("# installing %s keys: %s\n", tc->cipher, strerror(-ret));
		goto out;
	}

	if (wire_mode) {
		gnutls_datum_t k = { key, c->key_len };

		w = calloc(1, sizeof(*w));
		if (!w || gnutls_aead_cipher_init(&w->aead, tc->galg, &k) < 0)
			goto out;
		w->tc = tc;
		w->seq = START_SEQ;
		memcpy(w->nonce_base, iv, iv_len);
	}

	gnutls_hash_init(&hash, GNUTLS_DIG_SHA256);
	pthread_create(&thr, NULL, send_file, &snd);
	for (;;) {
		ssize_t n;

		if (wire_mode) {
			n = recv(rx, w->buf + w->have, sizeof(w->buf) - w->have, 0);
			if (n > 0) {
				w->have += n;
				received += n;
				if (wire_consume(w, hash) < 0)
					break;
			}
		} else {
			n = recv(rx, buf, sizeof(buf), 0);
			if (n > 0) {
				gnutls_hash(hash, buf, n);
				received += n;
			}
		}
		if (n == 0)
			break;
		if (n < 0) {
			printf("# recv: %s\n", strerror(errno));
			break;
		}
	}
	/* Unblocks the sender if the receiver gave up early. */
	shutdown(rx, SHUT_RDWR);
	pthread_join(thr, NULL);
	gnutls_hash_deinit(hash, got);

	if (snd.err)
		printf("# sendfile: %s\n", strerror(snd.err));
	if (read_tls_stat(&after) < 0)
		goto out;
	if (wire_mode)
		printf("# %s wire: %lld bytes in %ld records\n", tc->name, received,
		       w->records);
	printf("# %s %s: %lld bytes received; TlsTxSw +%ld, TlsRxSw +%ld, "
	       "TlsDecryptError +%ld\n", tc->name, mode, received, after.tx_sw - before.tx_sw, after.rx_sw - before.rx_sw,
	       after.decrypt_err - before.decrypt_err);

	if (snd.err || memcmp(got, want, 32))
		printf("# SHA-256 of the received bytes differs from the file's\n");
	else if (wire_mode && w->have)
		printf("# %zu bytes of a partial record left over\n", w->have);
	else if (wire_mode && w->records < snd.size / 16384)
		printf("# too few records (%ld) for %lld bytes\n", w->records, (long long)snd.size);
	else if (after.tx_sw - before.tx_sw != 1 ||
		 after.rx_sw - before.rx_sw != (wire_mode ? 0 : 1) ||
		 after.decrypt_err != before.decrypt_err)
		printf("# tls_stat counters did not move as expected\n");
	else
		fail = 0;
out:
	printf("%sok %d - %s %s RX: sendfile of %lld bytes, SHA-256 and tls_stat\n",
	       fail ? "not " : "", num, tc->name, mode, (long long)snd.size);
	if (w) {
		if (w->aead)
			gnutls_aead_cipher_deinit(w->aead);
		free(w);
	}
	explicit_bzero(key, sizeof(key));
	if (snd.sock >= 0)
		close(snd.sock);
	if (rx >= 0)
		close(rx);
	if (snd.file >= 0)
		close(snd.file);
	return fail;
}

int main(int argc, char **argv)
{
	size_t n = sizeof(cases) / sizeof(cases[0]);
	uint8_t want[32];
	int failed = 0, num = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", 2 * n);
	if (file_sha256(argv[1], want) < 0) {
		printf("Bail out! cannot hash %s\n", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		failed += run_case(++num, &cases[i], 0, argv[1], want);
		failed += run_case(++num, &cases[i], 1, argv[1], want);
	}
	return failed ? 1 : 0;
}
