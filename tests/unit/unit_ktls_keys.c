// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host unit tests of the kTLS key installer: every cipher's crypto_info is
 * laid out where the kernel's UAPI structs say, nonce parts land in salt
 * and iv as each TLS version needs, and bad input is refused and wiped.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ktls_keys.h"
#include "tap.h"

static void seq_bytes(uint8_t out[8], uint64_t seq)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(seq >> (56 - 8 * i));
}

static int all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Table of expectations, written against the UAPI structs, not the table. */
#define LAYOUT(T, TYPE, nm) { nm, TLS_CIPHER_##TYPE, sizeof(T),			\
	offsetof(T, iv), sizeof(((T *)0)->iv), offsetof(T, key),		\
	sizeof(((T *)0)->key), offsetof(T, salt), offsetof(T, rec_seq) }

static const struct layout {
	const char *name;
	uint16_t type;
	size_t size, iv_off, iv_len, key_off, key_len, salt_off, seq_off;
} layouts[] = {
	LAYOUT(struct tls12_crypto_info_aes_gcm_128, AES_GCM_128, "AES-128-GCM"),
	LAYOUT(struct tls12_crypto_info_aes_gcm_256, AES_GCM_256, "AES-256-GCM"),
	LAYOUT(struct tls12_crypto_info_aes_ccm_128, AES_CCM_128, "AES-128-CCM"),
	LAYOUT(struct tls12_crypto_info_chacha20_poly1305, CHACHA20_POLY1305,
	       "CHACHA20-POLY1305"),
};

static void test_layout(const struct layout *l, uint16_t version)
{
	const struct ktls_cipher *c = ktls_cipher_by_type(l->type);
	union ktls_crypto_info ci;
	uint8_t key[32], iv[12], seq[8], *p = (uint8_t *)&ci;
	uint64_t s = 0x0102030405060708ULL;
	size_t salt_len = l->seq_off - l->salt_off;
	int tls12_split = version == TLS_1_2_VERSION && salt_len;
	size_t iv_len = tls12_split ? salt_len : 12;
	char what[160];
	int len;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < sizeof(iv); i++)
		iv[i] = (uint8_t)(0x10 + i);
	seq_bytes(seq, s);

	snprintf(what, sizeof(what), "%s TLS 1.%d: found by type and name",
		 l->name, version == TLS_1_3_VERSION ? 3 : 2);
	check(c && c == ktls_cipher_by_name(l->name), what);
	if (!c)
		return;

	len = ktls_crypto_info_fill(&ci, version, c, key, l->key_len, iv, iv_len, s);
	snprintf(what, sizeof(what), "%s TLS 1.%d: length %zu, header, key, sequence",
		 l->name, version == TLS_1_3_VERSION ? 3 : 2, l->size);
	check(len == (int)l->size && ci.info.version == version &&
	      ci.info.cipher_type == l->type &&
	      !memcmp(p + l->key_off, key, l->key_len) &&
	      !memcmp(p + l->seq_off, seq, 8), what);

	snprintf(what, sizeof(what), "%s TLS 1.%d: nonce split into salt and iv",
		 l->name, version == TLS_1_3_VERSION ? 3 : 2);
	if (tls12_split)
		/* implicit salt, explicit nonce = record sequence */
		check(!memcmp(p + l->salt_off, iv, salt_len) &&
		      !memcmp(p + l->iv_off, seq, l->iv_len), what);
	else
		check(!memcmp(p + l->salt_off, iv, salt_len) &&
		      !memcmp(p + l->iv_off, iv + salt_len, l->iv_len), what);

	ktls_crypto_info_wipe(&ci);
	snprintf(what, sizeof(what), "%s TLS 1.%d: wipe leaves no byte",
		 l->name, version == TLS_1_3_VERSION ? 3 : 2);
	check(all_zero(&ci, sizeof(ci)), what);
}

static void test_bad_input(void)
{
	const struct ktls_cipher *c = ktls_cipher_by_name("aes-128-gcm");
	union ktls_crypto_info ci;
	uint8_t key[32] = { 1 }, iv[12] = { 2 };

	check(c != NULL, "cipher names match case-insensitively");
	check(!ktls_cipher_by_name("AES-128-CBC") && !ktls_cipher_by_type(0) &&
	      !ktls_cipher_by_type(TLS_CIPHER_SM4_GCM),
	      "ciphers kernel TLS cannot carry are not in the table");
	check(ktls_crypto_info_fill(&ci, 0x0302, c, key, 16, iv, 12, 0) == -EOPNOTSUPP,
	      "TLS 1.1 is refused with -EOPNOTSUPP");
	check(ktls_crypto_info_fill(&ci, TLS_1_3_VERSION, c, key, 32, iv, 12, 0) == -EINVAL,
	      "a key of the wrong length is refused");
	memset(&ci, 0x55, sizeof(ci));
	check(ktls_crypto_info_fill(&ci, TLS_1_3_VERSION, c, key, 16, iv, 4, 0) == -EINVAL &&
	      all_zero(&ci, sizeof(ci)),
	      "a TLS 1.3 IV of 4 bytes is refused and the key copy wiped");
	check(ktls_crypto_info_fill(&ci, TLS_1_2_VERSION, c, key, 16, iv, 12, 0) == -EINVAL,
	      "a TLS 1.2 AES-GCM IV must be the 4-byte salt");
	check(ktls_install(-1, 3, &ci, 40) == -EINVAL, "only TLS_TX and TLS_RX are installed");
	check(ktls_install(-1, TLS_TX, &ci, 40) == -EBADF, "setsockopt errors come back as -errno");
}

int main(void)
{
	size_t nl = sizeof(layouts) / sizeof(layouts[0]);

	printf("1..%zu\n", nl * 2 * 4 + 8);
	for (size_t i = 0; i < nl; i++) {
		test_layout(&layouts[i], TLS_1_3_VERSION);
		test_layout(&layouts[i], TLS_1_2_VERSION);
	}
	test_bad_input();
	return tap_failed != 0;
}
