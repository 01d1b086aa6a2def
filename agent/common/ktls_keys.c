// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "ktls_keys.h"

#define CIPHER(nm, TYPE, field) {					\
	.name = nm,							\
	.kernel_type = TLS_CIPHER_##TYPE,				\
	.key_len = TLS_CIPHER_##TYPE##_KEY_SIZE,			\
	.salt_len = TLS_CIPHER_##TYPE##_SALT_SIZE,			\
	.iv_len = TLS_CIPHER_##TYPE##_IV_SIZE,				\
	.info_len = sizeof(((union ktls_crypto_info *)0)->field),	\
}

static const struct ktls_cipher ciphers[] = {
	CIPHER("AES-128-GCM", AES_GCM_128, aes_gcm_128),
	CIPHER("AES-256-GCM", AES_GCM_256, aes_gcm_256),
	CIPHER("AES-128-CCM", AES_CCM_128, aes_ccm_128),
	CIPHER("CHACHA20-POLY1305", CHACHA20_POLY1305, chacha20_poly1305),
};

const struct ktls_cipher *ktls_cipher_by_type(uint16_t kernel_type)
{
	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (ciphers[i].kernel_type == kernel_type)
			return &ciphers[i];
	return NULL;
}

const struct ktls_cipher *ktls_cipher_at(unsigned int i)
{
	return i < sizeof(ciphers) / sizeof(ciphers[0]) ? &ciphers[i] : NULL;
}

const struct ktls_cipher *ktls_cipher_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (!strcasecmp(ciphers[i].name, name))
			return &ciphers[i];
	return NULL;
}

/*
 * Every crypto_info struct is laid out as info, iv, key, salt, rec_seq
 * with no padding (all byte arrays after a 4-byte header), so one routine
 * serves all of them given the lengths from the table.
 */
int ktls_crypto_info_fill(union ktls_crypto_info *ci, uint16_t version,
			  const struct ktls_cipher *c,
			  const uint8_t *key, size_t key_len,
			  const uint8_t *iv, size_t iv_len, uint64_t seq)
{
	uint8_t *p_iv, *p_key, *p_salt, *p_seq;
	size_t nonce_len = (size_t)c->salt_len + c->iv_len;

	if (version != TLS_1_2_VERSION && version != TLS_1_3_VERSION)
		return -EOPNOTSUPP;
	if (key_len != c->key_len)
		return -EINVAL;

	memset(ci, 0, sizeof(*ci));
	ci->info.version = version;
	ci->info.cipher_type = c->kernel_type;
	p_iv = (uint8_t *)ci + sizeof(struct tls_crypto_info);
	p_key = p_iv + c->iv_len;
	p_salt = p_key + c->key_len;
	p_seq = p_salt + c->salt_len;

	memcpy(p_key, key, key_len);
	for (int i = 0; i < 8; i++)
		p_seq[i] = (uint8_t)(seq >> (56 - 8 * i));

	if (version == TLS_1_2_VERSION && c->salt_len) {
		/* Implicit salt from the key block; explicit nonce = sequence. */
		if (iv_len != c->salt_len)
			goto err_inval;
		memcpy(p_salt, iv, c->salt_len);
		memcpy(p_iv, p_seq, c->iv_len);
	} else {
		/* A full per-record nonce base: salt first, then iv. */
		if (iv_len != nonce_len)
			goto err_inval;
		memcpy(p_salt, iv, c->salt_len);
		memcpy(p_iv, iv + c->salt_len, c->iv_len);
	}
	return c->info_len;

err_inval:
	ktls_crypto_info_wipe(ci);
	return -EINVAL;
}

void ktls_crypto_info_wipe(union ktls_crypto_info *ci)
{
	if (ci)
		explicit_bzero(ci, sizeof(*ci));
}

int ktls_attach_ulp(int fd)
{
	static const char ulp[] = "tls";

	if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, sizeof(ulp)) < 0)
		return -errno;
	return 0;
}

int ktls_install(int fd, int dir, const union ktls_crypto_info *ci, size_t len)
{
	if (dir != TLS_TX && dir != TLS_RX)
		return -EINVAL;
	if (setsockopt(fd, SOL_TLS, dir, ci, len) < 0)
		return -errno;
	return 0;
}
